package plan

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// leg is a stretch of a route in the plane with its phase and speed.
type leg struct {
	to    vec
	phase Phase
	speed float64
}

// escape returns a free point near v for a start or home that lies within
// the margin of a wall, reachable by a leg geofence allows.
func (p *planner) escape(v vec, alt float64) (vec, bool) {
	if p.sp.free(v) {
		return v, true
	}
	for r := p.req.MarginM * 0.5; r <= p.req.MarginM*4; r += p.req.MarginM * 0.5 {
		for k := 0; k < 16; k++ {
			a := 2 * math.Pi * float64(k) / 16
			q := v.add(vec{r * math.Cos(a), r * math.Sin(a)})
			if !p.sp.free(q) {
				continue
			}
			if viol, err := p.set.CheckSegment(p.req.Agency, p.geoPos(v, alt), p.geoPos(q, alt), p.req.Start); err == nil && viol == nil {
				return q, true
			}
		}
	}
	return v, false
}

// transitPath returns the shortest safe path from a to b in the allowed
// space, escaping from a start or home inside the margin.
func (p *planner) transitPath(a, b vec, what string) ([]vec, error) {
	a2, ok := p.escape(a, p.req.AltM)
	if !ok {
		return nil, p.explain(p.sp, a, what+" start")
	}
	b2, ok := p.escape(b, p.req.AltM)
	if !ok {
		return nil, p.explain(p.sp, b, what+" end")
	}
	path, ok := p.sp.shortest(a2, b2)
	if !ok {
		la, lb := p.sp.pr.toLL(a), p.sp.pr.toLL(b)
		return nil, errorf(CodeNoRoute, "%s: no path from %.5f,%.5f to %.5f,%.5f stays in agency %q's allowed space with a %.0f m margin",
			what, la.Lat, la.Lon, lb.Lat, lb.Lon, p.req.Agency, p.req.MarginM)
	}
	if a2 != a {
		path = append([]vec{a}, path...)
	}
	if b2 != b {
		path = append(path, b)
	}
	return dedupe(path), nil
}

// split cuts legs longer than MaxLegM.
func (p *planner) split(path []vec) []vec {
	if p.req.MaxLegM <= 0 || len(path) == 0 {
		return path
	}
	return densify(path, p.req.MaxLegM)
}

// unroll repeats a lap that ends where it starts, laps times.
func unroll(lap []vec, laps int, looped bool) ([]vec, int) {
	out := append([]vec(nil), lap...)
	per := len(lap) - 1
	for k := 1; k < laps; k++ {
		if looped {
			out = append(out, lap[1:]...)
		} else {
			out = append(out, reversed(lap)[1:]...)
		}
	}
	return out, per
}

// routes builds drone d's route(s) around one lap of its pattern.
func (p *planner) routes(d Drone, lap []vec, looped bool) ([]Route, error) {
	r := &p.req
	start := p.startOf(d)
	home := p.sp.pr.ll(d.Home)
	lap = dedupe(p.split(lap))
	all, per := unroll(lap, r.Laps, looped)
	out, err := p.transitPath(start, lap[0], "transit to the patrol")
	if err != nil {
		return nil, err
	}
	back, err := p.transitPath(all[len(all)-1], home, "return home")
	if err != nil {
		return nil, err
	}
	out, back = p.split(out), p.split(back)
	var legs []leg
	for _, v := range out[1:] {
		legs = append(legs, leg{v, PhaseTransit, r.TransitSpeedMPS})
	}
	patStart := len(legs)
	for i, v := range all {
		if i == 0 && len(legs) > 0 {
			continue // the transit arrives at the pattern's start
		}
		legs = append(legs, leg{v, PhasePatrol, r.SpeedMPS})
	}
	for _, v := range back[1:] {
		legs = append(legs, leg{v, PhaseReturn, r.TransitSpeedMPS})
	}
	var loop *Loop
	if r.Laps > 1 && looped && per > 0 {
		idx0 := 0 // waypoint index of lap[0]
		if patStart > 0 {
			idx0 = patStart - 1
		}
		loop = &Loop{First: idx0 + 1, Last: idx0 + per, Laps: r.Laps}
	}
	rt := p.route(d, start, legs, loop)
	if err := p.checkRoute(d, &rt); err != nil {
		return nil, err
	}
	avail := d.Endurance.Seconds() * (d.BatteryPct - r.ReservePct) / 100
	if rt.Duration.Seconds() <= avail {
		rt.Checks = append(rt.Checks, p.enduranceCheck(d, rt, d.BatteryPct))
		return []Route{rt}, nil
	}
	if !r.Sorties {
		return nil, &Error{Code: CodeEndurance, Message: fmt.Sprintf(
			"drone %q: the route needs %s (%.1f km at %.0f m/s, take-off and landing included) = %.0f %% of a full battery, but %.0f %% is usable (%.0f %% charge − %.0f %% reserve) on a %s endurance: ask for sorties or shorten the patrol",
			d.ID, rt.Duration.Round(time.Second), rt.DistanceM/1000, r.SpeedMPS, rt.BatteryPct, math.Max(0, d.BatteryPct-r.ReservePct), d.BatteryPct, r.ReservePct, d.Endurance)}
	}
	return p.sorties(d, start, home, all)
}

// route computes a route's waypoints, ETAs, distance, time and battery.
func (p *planner) route(d Drone, start vec, legs []leg, loop *Loop) Route {
	r := &p.req
	rt := Route{DroneID: d.ID, Sortie: 1, Home: d.Home, Airborne: d.Position != nil, Loop: loop}
	t := 0.0
	if !rt.Airborne {
		t = r.AltM / r.ClimbMPS
	} else {
		ll := p.sp.pr.toLL(start)
		rt.Waypoints = append(rt.Waypoints, Waypoint{LatLon: ll, AltM: r.AltM, SpeedMPS: r.TransitSpeedMPS, Phase: PhaseTransit})
		if loop != nil {
			loop.First++
			loop.Last++
		}
	}
	prev := start
	for _, l := range legs {
		dist := prev.dist(l.to)
		rt.DistanceM += dist
		t += dist / l.speed
		rt.Waypoints = append(rt.Waypoints, Waypoint{LatLon: p.sp.pr.toLL(l.to), AltM: r.AltM, SpeedMPS: l.speed, ETA: secs(t), Phase: l.phase})
		prev = l.to
	}
	t += r.AltM / r.DescentMPS
	rt.Duration = secs(t)
	rt.BatteryPct = 100 * t / d.Endurance.Seconds()
	return rt
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// flown returns the route as positions: from home on the ground (or the
// airborne start), the waypoints, down at home.
func (p *planner) flown(rt *Route) []geofence.Position {
	var pos []geofence.Position
	if !rt.Airborne {
		pos = append(pos, geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0), geofence.Pos(rt.Home.Lat, rt.Home.Lon, p.req.AltM))
	}
	for _, w := range rt.Waypoints {
		pos = append(pos, geofence.Pos(w.Lat, w.Lon, w.AltM))
	}
	pos = append(pos, geofence.Pos(rt.Home.Lat, rt.Home.Lon, p.req.AltM), geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0))
	return pos
}

// checkRoute checks a route against the zones and the limits, adding the
// checks passed; it returns an error for the first that fails.
func (p *planner) checkRoute(d Drone, rt *Route) error {
	r := &p.req
	pos := p.flown(rt)
	for i := range pos {
		if !math.IsNaN(d.HomeAMSL) {
			pos[i].AltMSL = d.HomeAMSL + pos[i].RelAlt
		}
	}
	viol, err := p.set.CheckRoute(r.Agency, pos, r.Start)
	if err != nil {
		return errorf(CodeInvalid, "check route: %v", err)
	}
	if viol != nil {
		return errorf(CodeNoRoute, "drone %q: the planned route leaves agency %q's allowed space at %.5f,%.5f alt %.0f m: %s",
			d.ID, r.Agency, viol.At.Lat, viol.At.Lon, viol.At.RelAlt, describe(viol))
	}
	rt.Checks = append(rt.Checks, Check{Name: "allowed space", Passed: true,
		Detail: fmt.Sprintf("every leg of %d in agency %q's allowed space at %.0f m, inside the zones' altitude bands", len(pos)-1, r.Agency, r.AltM),
		Params: map[string]string{"legs": strconv.Itoa(len(pos) - 1), "agency": r.Agency, "alt_m": f0(r.AltM)}})
	// The margin, except where the route leaves and rejoins home.
	worst := math.Inf(1)
	wp := rt.Waypoints
	for i := 1; i < len(wp); i++ {
		a, b := p.sp.pr.ll(wp[i-1].LatLon), p.sp.pr.ll(wp[i].LatLon)
		if p.sp.segFree(a, b) {
			continue
		}
		if i == 1 || i == len(wp)-1 {
			continue // escaping from or back to a home near an edge
		}
		worst = math.Min(worst, float64(i))
	}
	if !math.IsInf(worst, 1) {
		return errorf(CodeNoRoute, "drone %q: leg %d of the planned route comes within the %.0f m margin", d.ID, int(worst)-1, r.MarginM)
	}
	rt.Checks = append(rt.Checks, Check{Name: "margin", Passed: true, Detail: fmt.Sprintf("at least %.0f m from the edges of the allowed space and every exclusion zone", r.MarginM),
		Params: map[string]string{"margin_m": f0(r.MarginM)}})
	maxLeg, maxTurn, at := 0.0, 0.0, -1
	for i := 1; i < len(wp); i++ {
		a, b := p.sp.pr.ll(wp[i-1].LatLon), p.sp.pr.ll(wp[i].LatLon)
		maxLeg = math.Max(maxLeg, a.dist(b))
		if i+1 < len(wp) {
			c := p.sp.pr.ll(wp[i+1].LatLon)
			u, v := b.sub(a), c.sub(b)
			if u.norm() > 0.01 && v.norm() > 0.01 {
				turn := math.Abs(math.Atan2(u.cross(v), u.dot(v))) * 180 / math.Pi
				if turn > maxTurn {
					maxTurn, at = turn, i
				}
			}
		}
	}
	if r.MaxLegM > 0 {
		rt.Checks = append(rt.Checks, Check{Name: "leg length", Passed: maxLeg <= r.MaxLegM*1.0001,
			Detail: fmt.Sprintf("longest leg %.0f m (limit %.0f m)", maxLeg, r.MaxLegM),
			Params: map[string]string{"longest_m": f0(maxLeg), "limit_m": f0(r.MaxLegM)}})
	}
	if r.MaxTurnDeg > 0 {
		if maxTurn > r.MaxTurnDeg {
			ll := wp[at].LatLon
			return errorf(CodeNoRoute, "drone %q: the route turns %.0f° at waypoint %d (%.5f,%.5f), over the %.0f° limit", d.ID, maxTurn, at, ll.Lat, ll.Lon, r.MaxTurnDeg)
		}
		rt.Checks = append(rt.Checks, Check{Name: "turn angle", Passed: true, Detail: fmt.Sprintf("sharpest turn %.0f° (limit %.0f°)", maxTurn, r.MaxTurnDeg),
			Params: map[string]string{"sharpest_deg": f0(maxTurn), "limit_deg": f0(r.MaxTurnDeg)}})
	}
	return nil
}

func (p *planner) enduranceCheck(d Drone, rt Route, charge float64) Check {
	return Check{Name: "endurance", Passed: true, Detail: fmt.Sprintf("%s of flight = %.0f %% of a %s battery; %.0f %% usable (%.0f %% charge − %.0f %% reserve)",
		rt.Duration.Round(time.Second), rt.BatteryPct, d.Endurance, charge-p.req.ReservePct, charge, p.req.ReservePct),
		Params: map[string]string{"flight": rt.Duration.Round(time.Second).String(), "battery_pct": f0(rt.BatteryPct), "endurance": d.Endurance.String(),
			"usable_pct": f0(charge - p.req.ReservePct), "charge_pct": f0(charge), "reserve_pct": f0(p.req.ReservePct)}}
}

// f0 and f1 format a number with no and one decimal, as the checks'
// details show them.
func f0(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// sorties splits the unrolled pattern into sorties that each fit a battery,
// returning home between them.
func (p *planner) sorties(d Drone, start, home vec, pattern []vec) ([]Route, error) {
	r := &p.req
	pattern = densify(pattern, math.Max(50, r.SwathM))
	var routes []Route
	charge := d.BatteryPct
	from := start
	i := 0
	for i < len(pattern)-1 {
		avail := d.Endurance.Seconds() * (charge - r.ReservePct) / 100
		// Grow the chunk while a straight-line estimate fits, then check
		// for real and shrink until it does.
		est := func(j int) float64 {
			return r.AltM/r.ClimbMPS + r.AltM/r.DescentMPS + (from.dist(pattern[i])+pattern[j].dist(home))/r.TransitSpeedMPS +
				pathLen(pattern[i:j+1])/r.SpeedMPS
		}
		j := i + 1
		for j+1 < len(pattern) && est(j+1) <= avail {
			j++
		}
		var rt Route
		for ; j > i; j-- {
			out, err := p.transitPath(from, pattern[i], "transit to the patrol")
			if err != nil {
				return nil, err
			}
			back, err := p.transitPath(pattern[j], home, "return home")
			if err != nil {
				return nil, err
			}
			var legs []leg
			for _, v := range p.split(out)[1:] {
				legs = append(legs, leg{v, PhaseTransit, r.TransitSpeedMPS})
			}
			for _, v := range p.split(pattern[i : j+1])[1:] {
				legs = append(legs, leg{v, PhasePatrol, r.SpeedMPS})
			}
			for _, v := range p.split(back)[1:] {
				legs = append(legs, leg{v, PhaseReturn, r.TransitSpeedMPS})
			}
			dd := d
			if len(routes) > 0 {
				dd.Position = nil
			}
			rt = p.route(dd, from, legs, nil)
			if rt.Duration.Seconds() <= avail {
				break
			}
		}
		if j == i {
			return nil, &Error{Code: CodeEndurance, Message: fmt.Sprintf("drone %q: even the shortest sortie (to %s and back) exceeds the %.0f %% of battery usable on a %s endurance",
				d.ID, fmtLL(p.sp.pr.toLL(pattern[i])), charge-r.ReservePct, d.Endurance)}
		}
		rt.Sortie = len(routes) + 1
		dd := d
		if len(routes) > 0 {
			dd.Position = nil
		}
		if err := p.checkRoute(dd, &rt); err != nil {
			return nil, err
		}
		rt.Checks = append(rt.Checks, p.enduranceCheck(d, rt, charge))
		routes = append(routes, rt)
		charge = 100
		from = home
		i = j
		if len(routes) > 1000 {
			return nil, errorf(CodeEndurance, "drone %q: the patrol needs more than 1000 sorties", d.ID)
		}
	}
	return routes, nil
}

func fmtLL(l LatLon) string { return fmt.Sprintf("%.5f,%.5f", l.Lat, l.Lon) }
