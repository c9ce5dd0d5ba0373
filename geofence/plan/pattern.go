package plan

import (
	"fmt"
	"math"
	"sort"
)

// link makes a flyable path of pts in sp: vertices that are not free are
// dropped, and legs that are not free are replaced by the shortest detour.
func (p *planner) link(sp *space, pts []vec, what string) ([]vec, error) {
	var kept []vec
	for _, v := range pts {
		if sp.free(v) {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	// Points cut off from the rest (pockets of allowed space the drone
	// cannot reach without leaving it) are skipped.
	out := []vec{kept[0]}
	skipped := 0
	var last vec
	for i := 1; i < len(kept); i++ {
		a, b := out[len(out)-1], kept[i]
		if a.dist(b) < 0.01 {
			continue
		}
		path, ok := sp.connect(a, b)
		if !ok {
			skipped++
			last = b
			continue
		}
		out = append(out, path[1:]...)
	}
	out = straighten(sp, out)
	if skipped*2 > len(kept) {
		ll := sp.pr.toLL(last)
		return nil, errorf(CodeNoRoute, "%s: no path inside agency %q's allowed space reaches %.5f,%.5f (%d of %d points cut off)", what, p.req.Agency, ll.Lat, ll.Lon, skipped, len(kept))
	}
	return out, nil
}

// perimeter is the area's outer ring inset by the margin, starting at the
// vertex nearest start, in the requested direction, closed.
func (p *planner) perimeter(start vec) ([]vec, error) {
	sp := p.ap
	ring := insetRing(sp.area.rings[0], p.req.MarginM*1.01+0.5)
	if len(ring) < 3 {
		return nil, errorf(CodeNoRoute, "the area is too narrow for a %.0f m margin", p.req.MarginM)
	}
	ring = oriented(ring, !p.req.Clockwise)
	best := 0
	for i, v := range ring {
		if v.dist(start) < ring[best].dist(start) {
			best = i
		}
	}
	pts := append(append([]vec(nil), ring[best:]...), ring[:best]...)
	pts = append(pts, pts[0])
	// Densified, so that where the area leaves the allowed space the lap
	// follows the allowed part's edge.
	path, err := p.link(sp, densify(pts, 50), "perimeter")
	if err != nil {
		return nil, err
	}
	if len(path) > 0 && path[len(path)-1] != path[0] {
		closing, ok := sp.connect(path[len(path)-1], path[0])
		if !ok {
			return nil, errorf(CodeNoRoute, "perimeter: the lap cannot be closed inside the allowed space")
		}
		path = append(path, closing[1:]...)
	}
	if len(path) < 3 {
		return nil, nil
	}
	return path, nil
}

// sweepAngle returns the sweep direction (radians from east,
// counter-clockwise) that needs the fewest lines: the one across which
// the area is narrowest.
func (p *planner) sweepAngle() float64 {
	if p.req.SweepDeg != nil {
		// clockwise from north → counter-clockwise from east
		return (90 - *p.req.SweepDeg) * math.Pi / 180
	}
	ring := p.ap.area.rings[0]
	best, bestW := 0.0, math.Inf(1)
	try := func(a float64) {
		n := vec{-math.Sin(a), math.Cos(a)}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range ring {
			d := v.dot(n)
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
		if w := hi - lo; w < bestW-1e-6 {
			best, bestW = a, w
		}
	}
	for i := range ring {
		d := ring[(i+1)%len(ring)].sub(ring[i])
		if d.norm() > 0 {
			try(math.Atan2(d.y, d.x))
		}
	}
	return best
}

// sweepSeg is one free stretch of a sweep line.
type sweepSeg struct {
	line int
	a, b vec
	done bool
}

// coverage is the lawnmower pattern over the area with its holes.
func (p *planner) coverage(start vec) ([]vec, error) {
	sp := p.ap
	ang := p.sweepAngle()
	dir := vec{math.Cos(ang), math.Sin(ang)}
	nrm := vec{-dir.y, dir.x}
	ring := sp.area.rings[0]
	lo, hi := math.Inf(1), math.Inf(-1)
	alo, ahi := math.Inf(1), math.Inf(-1)
	for _, v := range ring {
		d, e := v.dot(nrm), v.dot(dir)
		lo, hi = math.Min(lo, d), math.Max(hi, d)
		alo, ahi = math.Min(alo, e), math.Max(ahi, e)
	}
	spacing := p.req.SwathM * (1 - p.req.Overlap)
	width := hi - lo - 2*p.req.MarginM
	if width <= 0 {
		return nil, errorf(CodeNoRoute, "the area is too narrow for a %.0f m margin", p.req.MarginM)
	}
	nLines := int(math.Ceil(width/spacing - 1e-9))
	if nLines < 1 {
		nLines = 1
	}
	if nLines > 100_000 {
		return nil, errorf(CodeInvalid, "the area needs %d sweep lines: use a wider swath", nLines)
	}
	// Lines centred in the width, spaced evenly.
	step := width / float64(nLines)
	var segs []sweepSeg
	byLine := make([][]int, nLines)
	for k := 0; k < nLines; k++ {
		off := lo + p.req.MarginM + step*(float64(k)+0.5)
		a := dir.scale(alo - 1).add(nrm.scale(off))
		b := dir.scale(ahi + 1).add(nrm.scale(off))
		for _, iv := range sp.lineIntervals(a, b) {
			u, v := lerp(a, b, iv[0]), lerp(a, b, iv[1])
			if u.dist(v) < 0.5 {
				continue
			}
			byLine[k] = append(byLine[k], len(segs))
			segs = append(segs, sweepSeg{line: k, a: u, b: v})
		}
	}
	if len(segs) == 0 {
		return nil, nil
	}
	passes := [][]int{nil}
	if p.req.ReturnNearStart && nLines > 2 {
		passes = [][]int{{0}, {1}}
	}
	// Start at the end of the line nearest to start: lines from that side.
	first := 0
	for i := range segs {
		if math.Min(segs[i].a.dist(start), segs[i].b.dist(start)) < math.Min(segs[first].a.dist(start), segs[first].b.dist(start)) {
			first = i
		}
	}
	// Sweep towards the far side of the area.
	forward := 1
	if segs[first].line > nLines/2 {
		forward = -1
	}
	var path []vec
	cur := start
	stride := 1
	if len(passes) == 2 {
		stride = 2
	}
	for pi := range passes {
		parity := -1
		if stride == 2 {
			// The first pass takes the lines of the first segment's parity,
			// the second the others, sweeping back.
			parity = (segs[first].line + pi) % 2
		}
		want := func(i int) bool { return !segs[i].done && (parity < 0 || segs[i].line%2 == parity) }
		dirSign := forward
		if pi == 1 {
			dirSign = -forward
		}
		next := -1
		if pi == 0 {
			next = first
		}
		for {
			if next < 0 {
				// The nearest remaining segment.
				bd := math.Inf(1)
				for i := range segs {
					if !want(i) {
						continue
					}
					if d := math.Min(segs[i].a.dist(cur), segs[i].b.dist(cur)); d < bd {
						bd, next = d, i
					}
				}
				if next < 0 {
					break
				}
			}
			s := &segs[next]
			s.done = true
			a, b := s.a, s.b
			if b.dist(cur) < a.dist(cur) {
				a, b = b, a
			}
			if len(path) == 0 {
				path = append(path, a)
			} else {
				link, ok := sp.connect(cur, a)
				if !ok {
					ll := sp.pr.toLL(a)
					return nil, errorf(CodeNoRoute, "coverage: no path inside the area and allowed space reaches %.5f,%.5f", ll.Lat, ll.Lon)
				}
				path = append(path, link[1:]...)
			}
			path = append(path, b)
			cur = b
			// Next: the nearest free-linked segment on the next line.
			next = -1
			bd := math.Inf(1)
			for _, nl := range []int{s.line + dirSign*stride, s.line - dirSign*stride} {
				if nl < 0 || nl >= nLines {
					continue
				}
				for _, i := range byLine[nl] {
					if !want(i) {
						continue
					}
					e := segs[i].a
					if segs[i].b.dist(cur) < e.dist(cur) {
						e = segs[i].b
					}
					if d := e.dist(cur); d < bd && d <= 3*spacing*float64(stride)+2*p.req.MarginM && sp.segFree(cur, e) {
						bd, next = d, i
					}
				}
				if next >= 0 {
					break
				}
			}
		}
	}
	return dedupe(path), nil
}

func dedupe(p []vec) []vec {
	var out []vec
	for _, v := range p {
		if len(out) > 0 && out[len(out)-1].dist(v) < 0.01 {
			continue
		}
		out = append(out, v)
	}
	return out
}

// corridor is the line (clipped to the area, if any) offset to the
// drone's side, linked around obstacles.
func (p *planner) corridor(start vec) ([]vec, error) {
	sp := p.sp
	line := make([]vec, 0, len(p.req.Line))
	for _, q := range p.req.Line {
		line = append(line, sp.pr.fwd(q))
	}
	line = simplify(line, math.Min(p.req.OffsetM/3, 50))
	left := offsetPolyline(line, p.req.OffsetM)
	right := offsetPolyline(line, -p.req.OffsetM)
	score := func(path []vec) float64 {
		pts := densify(path, 100)
		n := 0
		for _, v := range pts {
			if sp.inIncl(v) {
				n++
			}
		}
		return float64(n) / float64(len(pts))
	}
	sl, sr := score(left), score(right)
	side := p.req.Side
	if side == SideAuto {
		switch {
		case sl >= 0.9 && sr >= 0.9:
			// Both sides usable (a JOINT agency): the side of the country
			// the drone starts in.
			side = SideLeft
			if j := sp.jurisdictionAt(start); j != "" {
				in := func(path []vec) int {
					n := 0
					for _, v := range densify(path, 100) {
						if sp.jurisdictionAt(v) == j {
							n++
						}
					}
					return n
				}
				if in(right) > in(left) {
					side = SideRight
				}
			} else if sideOf(line, start) < 0 {
				side = SideRight
			}
		case sl > sr+0.05:
			side = SideLeft
		case sr > sl+0.05:
			side = SideRight
		default:
			side = SideLeft
			if sideOf(line, start) < 0 {
				side = SideRight
			}
		}
	}
	path, s := left, sl
	if side == SideRight {
		path, s = right, sr
	}
	p.res.Side = side
	if s < 0.5 {
		return nil, errorf(CodeNoRoute, "corridor: only %.0f %% of the line's %s side at %.0f m is in agency %q's jurisdictions", 100*s, side, p.req.OffsetM, p.req.Agency)
	}
	// Orient the stretch to start at the end nearest the drone.
	if path[len(path)-1].dist(start) < path[0].dist(start) {
		path = reversed(path)
	}
	return p.link(sp, densify(path, 200), "corridor")
}

// densify inserts points so that no leg is longer than step metres.
func densify(p []vec, step float64) []vec {
	if len(p) == 0 {
		return nil
	}
	out := []vec{p[0]}
	for i := 1; i < len(p); i++ {
		n := int(math.Ceil(p[i-1].dist(p[i]) / step))
		for k := 1; k <= n; k++ {
			out = append(out, lerp(p[i-1], p[i], float64(k)/float64(n)))
		}
	}
	return out
}

// sideOf is positive when q is left of the polyline's nearest segment.
func sideOf(line []vec, q vec) float64 {
	best, s := math.Inf(1), 0.0
	for i := 1; i < len(line); i++ {
		if d := segDist(line[i-1], line[i], q); d < best {
			best, s = d, orient(line[i-1], line[i], q)
		}
	}
	return s
}

// clipToArea returns the longest stretch of line inside ring.
func clipToArea(line []vec, ring []vec) []vec {
	var best, cur []vec
	flush := func() {
		if pathLen(cur) > pathLen(best) {
			best = cur
		}
		cur = nil
	}
	for i := 1; i < len(line); i++ {
		a, b := line[i-1], line[i]
		ts := []float64{0, 1}
		for k := range ring {
			if t, ok := lineCross(a, b, ring[k], ring[(k+1)%len(ring)]); ok {
				ts = append(ts, t)
			}
		}
		sort.Float64s(ts)
		for k := 1; k < len(ts); k++ {
			u, v := lerp(a, b, ts[k-1]), lerp(a, b, ts[k])
			if u.dist(v) < 1e-6 {
				continue
			}
			if ringContains(ring, lerp(u, v, 0.5)) {
				if len(cur) == 0 || cur[len(cur)-1].dist(u) > 1e-6 {
					flush()
					cur = []vec{u}
				}
				cur = append(cur, v)
			} else {
				flush()
			}
		}
	}
	flush()
	return best
}

// waypoints validates the operator's legs against the zones (exactly, and
// with the margin), repairing them with detours when asked.
func (p *planner) waypoints(start vec) ([]vec, error) {
	sp := p.sp
	pts := make([]vec, len(p.req.Waypoints))
	for i, w := range p.req.Waypoints {
		pts[i] = sp.pr.fwd([2]float64{w.Lon, w.Lat})
	}
	var out []vec
	var bad []string
	for i, v := range pts {
		alt := p.req.Waypoints[i].RelAlt
		if alt == 0 {
			alt = p.req.AltM
		}
		pos := p.geoPos(v, alt)
		if ok, viol, err := p.set.Allowed(p.req.Agency, pos, p.req.Start); err != nil || !ok {
			msg := "not a valid position"
			zone := ""
			if viol != nil {
				msg, zone = describe(viol), viol.ZoneID
			}
			ll := sp.pr.toLL(v)
			p.res.Issues = append(p.res.Issues, Issue{Leg: i, ZoneID: zone, At: ll, Message: fmt.Sprintf("waypoint %d: %s", i, msg)})
			bad = append(bad, fmt.Sprintf("waypoint %d at %.5f,%.5f: %s", i, ll.Lat, ll.Lon, msg))
			continue
		}
		if i == 0 {
			out = append(out, v)
			continue
		}
		a := pts[i-1]
		aAlt := p.req.Waypoints[i-1].RelAlt
		if aAlt == 0 {
			aAlt = p.req.AltM
		}
		viol, _ := p.set.CheckSegment(p.req.Agency, p.geoPos(a, aAlt), pos, p.req.Start)
		marginOK := sp.segFree(a, v)
		if viol == nil && marginOK {
			out = append(out, v)
			continue
		}
		is := Issue{Leg: i - 1}
		if viol != nil {
			is.ZoneID, is.At = viol.ZoneID, LatLon{Lat: viol.At.Lat, Lon: viol.At.Lon}
			is.Message = fmt.Sprintf("leg %d (waypoint %d → %d) at %.5f,%.5f: %s", i-1, i-1, i, viol.At.Lat, viol.At.Lon, describe(viol))
		} else {
			at := closestBlocked(sp, a, v)
			is.ZoneID, is.At = sp.blocker(at), sp.pr.toLL(at)
			is.Message = fmt.Sprintf("leg %d (waypoint %d → %d) at %.5f,%.5f: within the %.0f m safety margin of zone %q", i-1, i-1, i, is.At.Lat, is.At.Lon, p.req.MarginM, is.ZoneID)
		}
		if p.req.Repair && len(out) > 0 && sp.free(out[len(out)-1]) && sp.free(v) {
			if path, ok := sp.shortest(out[len(out)-1], v); ok {
				is.Repaired = true
				out = append(out, path[1:]...)
				p.res.Issues = append(p.res.Issues, is)
				continue
			}
		}
		p.res.Issues = append(p.res.Issues, is)
		bad = append(bad, is.Message)
		out = append(out, v)
	}
	if len(bad) > 0 {
		msg := bad[0]
		if len(bad) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(bad)-1)
		}
		if !p.req.Repair {
			msg += "; ask for a repair to detour around it"
		}
		return nil, errorf(CodeNoRoute, "operator route: %s", msg)
	}
	return out, nil
}

// closestBlocked returns the first point of ab that is not free.
func closestBlocked(sp *space, a, b vec) vec {
	n := int(math.Ceil(a.dist(b)/5)) + 1
	for k := 0; k <= n; k++ {
		v := lerp(a, b, float64(k)/float64(n))
		if !sp.free(v) {
			return v
		}
	}
	return b
}

// straighten drops the points of a path that lie within half a metre of
// the straight leg joining their neighbours, when that leg is free.
func straighten(sp *space, p []vec) []vec {
	if len(p) < 3 {
		return p
	}
	out := []vec{p[0]}
	for i := 1; i < len(p)-1; i++ {
		a, b, c := out[len(out)-1], p[i], p[i+1]
		if segDist(a, c, b) < 0.5 && sp.segFree(a, c) {
			continue
		}
		out = append(out, b)
	}
	return append(out, p[len(p)-1])
}
