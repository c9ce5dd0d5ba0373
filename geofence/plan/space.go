package plan

import (
	"math"
	"sort"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// space is the free space of one plan in a local projection: where the
// drone may be with the safety margin, at the plan's altitude. A point is
// free when it is inside the operator's area (if any), inside an inclusion
// zone the agency may use at that altitude, outside every exclusion zone,
// and at least margin metres from every wall (the area's rings, the
// exclusion zones' rings, and the edges of the usable inclusion zones that
// bound their union). Exclusion circles are kept exact (radius + margin).
//
// A space is used by one goroutine.
type space struct {
	pr     proj
	margin float64

	area  *polyP
	incl  []polyP
	excl  []polyP
	circ  []circP
	walls []wall
	nodes []vec
	// nb holds, for each node, the neighbours of the obstacle corner it
	// stands off: an edge is useful only when tangent there.
	nb [][2]vec
	// cache holds the paths found, by endpoints.
	cache  map[[2]vec][]vec
	bounds box

	// grid index of walls and circles
	g     grid
	mark  []uint32
	cmark []uint32
	stamp uint32
}

type polyP struct {
	rings [][]vec
	bb    box
	id    string
	jur   geofence.Jurisdiction
}

func (p *polyP) contains(q vec) bool {
	if !p.bb.contains(q) || !ringContains(p.rings[0], q) {
		return false
	}
	for _, h := range p.rings[1:] {
		if ringContains(h, q) {
			return false
		}
	}
	return true
}

type circP struct {
	c  vec
	r  float64 // radius plus margin
	id string
}

type wall struct {
	a, b vec
	id   string
}

type grid struct {
	org    vec
	cell   float64
	nx, ny int
	walls  [][]int32
	circs  [][]int32
}

func (g *grid) idx(ix, iy int) int { return iy*g.nx + ix }

func (g *grid) cellOf(p vec) (int, int) {
	return int(math.Floor((p.x - g.org.x) / g.cell)), int(math.Floor((p.y - g.org.y) / g.cell))
}

func (g *grid) in(ix, iy int) bool { return ix >= 0 && iy >= 0 && ix < g.nx && iy < g.ny }

// spaceConfig says what a space is built from.
type spaceConfig struct {
	set      *geofence.Set
	agency   geofence.Agency
	alt      float64
	homeAMSL float64
	at       time.Time
	window   time.Duration
	margin   float64
	area     orb.Polygon // optional
	region   orb.Bound   // lon/lat region of interest
}

// inBand reports whether the plan's altitude is within zone z's band;
// known is false when the zone is AMSL and the home altitude is unknown.
func inBand(z *geofence.Zone, alt, homeAMSL float64) (in, known bool) {
	a := alt
	if z.Ref() == geofence.AltAMSL {
		if math.IsNaN(homeAMSL) {
			return false, false
		}
		a += homeAMSL
	}
	return a >= z.FloorM && a <= z.Ceiling(), true
}

func zoneBound(z *geofence.Zone) orb.Bound {
	if z.IsCircle() {
		dlat := z.RadiusM / degToM
		dlon := z.RadiusM / (degToM * math.Max(1e-6, math.Cos(z.Center[1]*math.Pi/180)))
		return orb.Bound{Min: orb.Point{z.Center[0] - dlon, z.Center[1] - dlat}, Max: orb.Point{z.Center[0] + dlon, z.Center[1] + dlat}}
	}
	return z.Polygon.Bound()
}

// circlePoly returns the polygon of n vertices at radius r around c.
func circlePoly(c vec, r float64, n int) []vec {
	out := make([]vec, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / float64(n)
		out[i] = vec{c.x + r*math.Cos(a), c.y + r*math.Sin(a)}
	}
	return out
}

func newSpace(cfg spaceConfig) *space {
	m := math.Max(cfg.margin, 1)
	s := &space{pr: newProj(cfg.region.Center()), margin: m}
	region := cfg.region
	var usable []*geofence.Zone
	zones := cfg.set.Zones()
	for i := range zones {
		z := &zones[i]
		if !zoneBound(z).Intersects(region) {
			continue
		}
		in, known := inBand(z, cfg.alt, cfg.homeAMSL)
		switch z.Kind {
		case geofence.Inclusion:
			if !cfg.agency.Authorised(z.Jurisdiction) || !z.ActiveAt(cfg.at) || !in {
				continue
			}
			usable = append(usable, z)
		case geofence.Exclusion:
			active := (z.ValidUntil.IsZero() || z.ValidUntil.After(cfg.at)) &&
				(z.ValidFrom.IsZero() || z.ValidFrom.Before(cfg.at.Add(cfg.window)) || z.ValidFrom.Equal(cfg.at))
			if !active || (known && !in) {
				continue
			}
			if z.IsCircle() {
				s.circ = append(s.circ, circP{c: s.pr.fwd(z.Center), r: z.RadiusM + m, id: z.ID})
				continue
			}
			// Holes of exclusion zones are flown around too (fail closed).
			r := s.pr.ring(z.Polygon[0])
			p := polyP{rings: [][]vec{r}, bb: ringBox(r), id: z.ID}
			s.excl = append(s.excl, p)
			for i := range r {
				s.walls = append(s.walls, wall{r[i], r[(i+1)%len(r)], z.ID})
			}
		}
	}
	for _, z := range usable {
		var p polyP
		p.id, p.jur = z.ID, z.Jurisdiction
		if z.IsCircle() {
			c := s.pr.fwd(z.Center)
			r := circlePoly(c, z.RadiusM*math.Cos(math.Pi/72)*0.999, 72)
			p.rings = [][]vec{r}
		} else {
			for _, ring := range z.Polygon {
				p.rings = append(p.rings, s.pr.ring(ring))
			}
		}
		p.bb = ringBox(p.rings[0])
		s.incl = append(s.incl, p)
	}
	// Walls of the inclusion union: the pieces of usable zones' edges that do
	// not lie inside another usable zone.
	for i := range s.incl {
		p := &s.incl[i]
		for _, r := range p.rings {
			out := oriented(r, true) // interior on the left: outward is right
			for k := range out {
				a, b := out[k], out[(k+1)%len(out)]
				L := a.dist(b)
				n := int(math.Ceil(L / 100))
				if n < 1 {
					n = 1
				}
				nrm := b.sub(a).unit().right()
				for j := 0; j < n; j++ {
					u, v := lerp(a, b, float64(j)/float64(n)), lerp(a, b, float64(j+1)/float64(n))
					probe := lerp(u, v, 0.5).add(nrm.scale(1))
					interior := false
					for o := range s.incl {
						if o != i && s.incl[o].contains(probe) {
							interior = true
							break
						}
					}
					if !interior {
						s.walls = append(s.walls, wall{u, v, p.id})
					}
				}
			}
		}
	}
	if len(cfg.area) > 0 {
		a := polyP{id: "area"}
		for _, ring := range cfg.area {
			r := s.pr.ring(ring)
			a.rings = append(a.rings, r)
			for i := range r {
				s.walls = append(s.walls, wall{r[i], r[(i+1)%len(r)], "area"})
			}
		}
		a.bb = ringBox(a.rings[0])
		s.area = &a
	}
	s.buildGrid()
	s.buildNodes()
	return s
}

func (s *space) buildGrid() {
	b := emptyBox()
	for _, w := range s.walls {
		b = b.extend(w.a).extend(w.b)
	}
	for _, c := range s.circ {
		b = b.extend(c.c.sub(vec{c.r, c.r})).extend(c.c.add(vec{c.r, c.r}))
	}
	if b.empty() {
		b = box{vec{-1, -1}, vec{1, 1}}
	}
	b = b.pad(2 * s.margin)
	s.bounds = b
	W, H := b.max.x-b.min.x, b.max.y-b.min.y
	n := float64(len(s.walls) + len(s.circ) + 1)
	cell := math.Max(math.Sqrt(W*H/(2*n)), 2*s.margin)
	cell = math.Max(cell, math.Sqrt(W*H/(1<<18)))
	g := grid{org: b.min, cell: cell, nx: int(W/cell) + 1, ny: int(H/cell) + 1}
	g.walls = make([][]int32, g.nx*g.ny)
	g.circs = make([][]int32, g.nx*g.ny)
	add := func(bb box, f func(i int)) {
		x0, y0 := g.cellOf(bb.min)
		x1, y1 := g.cellOf(bb.max)
		for iy := max(y0, 0); iy <= min(y1, g.ny-1); iy++ {
			for ix := max(x0, 0); ix <= min(x1, g.nx-1); ix++ {
				f(g.idx(ix, iy))
			}
		}
	}
	for i, w := range s.walls {
		add(emptyBox().extend(w.a).extend(w.b).pad(s.margin), func(c int) { g.walls[c] = append(g.walls[c], int32(i)) })
	}
	for i, c := range s.circ {
		bb := box{c.c.sub(vec{c.r, c.r}), c.c.add(vec{c.r, c.r})}
		add(bb, func(k int) { g.circs[k] = append(g.circs[k], int32(i)) })
	}
	s.g = g
	s.mark = make([]uint32, len(s.walls))
	s.cmark = make([]uint32, len(s.circ))
}

// visit calls f for every grid cell segment ab passes through, stopping
// when f returns false.
func (s *space) visit(a, b vec, f func(cell int) bool) {
	g := &s.g
	ix, iy := g.cellOf(a)
	jx, jy := g.cellOf(b)
	d := b.sub(a)
	stepX, stepY := 1, 1
	if d.x < 0 {
		stepX = -1
	}
	if d.y < 0 {
		stepY = -1
	}
	next := func(o, p, dp float64, i, step int) float64 {
		if dp == 0 {
			return math.Inf(1)
		}
		edge := o + float64(i)*g.cell
		if step > 0 {
			edge += g.cell
		}
		return (edge - p) / dp
	}
	tMaxX, tMaxY := next(g.org.x, a.x, d.x, ix, stepX), next(g.org.y, a.y, d.y, iy, stepY)
	tDX, tDY := math.Inf(1), math.Inf(1)
	if d.x != 0 {
		tDX = g.cell / math.Abs(d.x)
	}
	if d.y != 0 {
		tDY = g.cell / math.Abs(d.y)
	}
	for n := 0; n < 4*(g.nx+g.ny)+8; n++ {
		if g.in(ix, iy) && !f(g.idx(ix, iy)) {
			return
		}
		if ix == jx && iy == jy {
			return
		}
		if tMaxX < tMaxY {
			if tMaxX > 1 {
				return
			}
			ix += stepX
			tMaxX += tDX
		} else {
			if tMaxY > 1 {
				return
			}
			iy += stepY
			tMaxY += tDY
		}
	}
}

// inRegion reports whether p is inside the area and the usable inclusion
// zones, and outside every exclusion (circles with the margin).
func (s *space) inRegion(p vec) bool {
	if s.area != nil && !s.area.contains(p) {
		return false
	}
	in := false
	for i := range s.incl {
		if s.incl[i].contains(p) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for i := range s.excl {
		if s.excl[i].contains(p) {
			return false
		}
	}
	ix, iy := s.g.cellOf(p)
	if s.g.in(ix, iy) {
		for _, ci := range s.g.circs[s.g.idx(ix, iy)] {
			c := s.circ[ci]
			if p.dist(c.c) < c.r {
				return false
			}
		}
	}
	return true
}

// inIncl reports whether p is in a usable inclusion zone (exclusions and
// margins aside): the agency's own jurisdictions.
func (s *space) inIncl(p vec) bool {
	for i := range s.incl {
		if s.incl[i].contains(p) {
			return true
		}
	}
	return false
}

// jurisdictionAt returns the jurisdiction of a usable national (US or MX)
// inclusion zone containing p, "" when none.
func (s *space) jurisdictionAt(p vec) geofence.Jurisdiction {
	for i := range s.incl {
		if s.incl[i].jur != geofence.Joint && s.incl[i].contains(p) {
			return s.incl[i].jur
		}
	}
	return ""
}

// clear reports whether p is at least margin from every wall.
func (s *space) clear(p vec) bool {
	ix, iy := s.g.cellOf(p)
	if !s.g.in(ix, iy) {
		return true
	}
	for _, wi := range s.g.walls[s.g.idx(ix, iy)] {
		w := s.walls[wi]
		if segDist(w.a, w.b, p) < s.margin {
			return false
		}
	}
	return true
}

func (s *space) free(p vec) bool { return s.clear(p) && s.inRegion(p) }

// blocker returns the id of what blocks p, "" when p is free.
func (s *space) blocker(p vec) string {
	ix, iy := s.g.cellOf(p)
	if s.g.in(ix, iy) {
		for _, wi := range s.g.walls[s.g.idx(ix, iy)] {
			w := s.walls[wi]
			if segDist(w.a, w.b, p) < s.margin {
				return w.id
			}
		}
		for _, ci := range s.g.circs[s.g.idx(ix, iy)] {
			if c := s.circ[ci]; p.dist(c.c) < c.r {
				return c.id
			}
		}
	}
	for i := range s.excl {
		if s.excl[i].contains(p) {
			return s.excl[i].id
		}
	}
	if s.area != nil && !s.area.contains(p) {
		return "area"
	}
	if !s.inRegion(p) {
		return "outside"
	}
	return ""
}

// segFree reports whether the straight leg ab stays in free space.
func (s *space) segFree(a, b vec) bool { return s.free(a) && s.segClear(a, b) }

// segClear reports whether leg ab, from a free point a, stays clear of
// every wall and exclusion circle (and so in free space).
func (s *space) segClear(a, b vec) bool {
	s.stamp++
	st := s.stamp
	m2 := s.margin * s.margin
	sb := emptyBox().extend(a).extend(b).pad(s.margin)
	ok := true
	s.visit(a, b, func(cell int) bool {
		for _, wi := range s.g.walls[cell] {
			if s.mark[wi] == st {
				continue
			}
			s.mark[wi] = st
			w := &s.walls[wi]
			if math.Max(w.a.x, w.b.x) < sb.min.x || math.Min(w.a.x, w.b.x) > sb.max.x ||
				math.Max(w.a.y, w.b.y) < sb.min.y || math.Min(w.a.y, w.b.y) > sb.max.y {
				continue
			}
			if segSegDist2(a, b, w.a, w.b) < m2 {
				ok = false
				return false
			}
		}
		for _, ci := range s.g.circs[cell] {
			if s.cmark[ci] == st {
				continue
			}
			s.cmark[ci] = st
			c := &s.circ[ci]
			if segDist2(a, b, c.c) < c.r*c.r {
				ok = false
				return false
			}
		}
		return true
	})
	return ok
}

// lineIntervals returns the free parts of segment ab as parameter ranges
// [t0, t1] within [0, 1], in order.
func (s *space) lineIntervals(a, b vec) [][2]float64 {
	s.stamp++
	st := s.stamp
	var blocked [][2]float64
	add := func(l, h float64, ok bool) {
		if ok && h > 0 && l < 1 {
			blocked = append(blocked, [2]float64{math.Max(l, 0), math.Min(h, 1)})
		}
	}
	s.visit(a, b, func(cell int) bool {
		for _, wi := range s.g.walls[cell] {
			if s.mark[wi] == st {
				continue
			}
			s.mark[wi] = st
			w := s.walls[wi]
			add(capsuleInterval(a, b, w.a, w.b, s.margin))
		}
		for _, ci := range s.g.circs[cell] {
			if s.cmark[ci] == st {
				continue
			}
			s.cmark[ci] = st
			c := s.circ[ci]
			add(circleInterval(a, b, c.c, c.r))
		}
		return true
	})
	sort.Slice(blocked, func(i, j int) bool { return blocked[i][0] < blocked[j][0] })
	L := a.dist(b)
	eps := 0.01 / math.Max(L, 1e-9) // keep 1 cm off the walls
	var out [][2]float64
	cur := 0.0
	gap := func(lo, hi float64) {
		lo, hi = lo+eps, hi-eps
		if hi-lo <= eps || !s.inRegion(lerp(a, b, (lo+hi)/2)) {
			return
		}
		out = append(out, [2]float64{lo, hi})
	}
	for _, iv := range blocked {
		if iv[0] > cur {
			gap(cur, iv[0])
		}
		cur = math.Max(cur, iv[1])
	}
	if cur < 1 {
		gap(cur, 1)
	}
	return out
}

// buildNodes puts visibility-graph nodes just outside the convex corners of
// every obstacle (and inside the concave corners of the free region).
func (s *space) buildNodes() {
	k := s.margin*1.02 + 0.5
	corner := func(ring []vec) { // blocked side on the left
		n := len(ring)
		for i := range ring {
			p, v, q := ring[(i+n-1)%n], ring[i], ring[(i+1)%n]
			d1, d2 := v.sub(p).unit(), q.sub(v).unit()
			if d1.cross(d2) <= 1e-9 {
				continue // reflex for the obstacle: paths never bend here
			}
			r1, r2 := d1.right(), d2.right()
			den := 1 + r1.dot(r2)
			if den > 0.5 {
				s.nodes = append(s.nodes, v.add(r1.add(r2).scale(k/den)))
				s.nb = append(s.nb, [2]vec{p, q})
			} else {
				s.nodes = append(s.nodes, v.add(r1.add(d1).scale(k)), v.add(r2.sub(d2).scale(k)))
				s.nb = append(s.nb, [2]vec{p, q}, [2]vec{p, q})
			}
		}
	}
	if s.area != nil {
		corner(oriented(s.area.rings[0], false))
		for _, h := range s.area.rings[1:] {
			corner(oriented(h, true))
		}
	}
	for _, p := range s.incl {
		corner(oriented(p.rings[0], false))
		for _, h := range p.rings[1:] {
			corner(oriented(h, true))
		}
	}
	for _, p := range s.excl {
		corner(oriented(p.rings[0], true))
	}
	const cn = 24
	for _, c := range s.circ {
		ring := circlePoly(c.c, (c.r*1.01+0.5)/math.Cos(math.Pi/cn), cn)
		s.nodes = append(s.nodes, ring...)
		for i := range ring {
			s.nb = append(s.nb, [2]vec{ring[(i+cn-1)%cn], ring[(i+1)%cn]})
		}
	}
	kept, keptNb := s.nodes[:0], s.nb[:0]
	for i, v := range s.nodes {
		if s.free(v) {
			kept = append(kept, v)
			keptNb = append(keptNb, s.nb[i])
		}
	}
	s.nodes, s.nb = kept, keptNb
}
