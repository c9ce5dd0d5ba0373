package plan

import (
	"math"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// WithAltitude returns a copy of rt flown at altM: every waypoint's
// altitude, and the take-off and landing times in its ETAs and Duration
// changed with the climb and descent rates (defaults when zero). Battery
// use scales with the duration.
func (rt Route) WithAltitude(altM, climbMPS, descentMPS float64) Route {
	if climbMPS <= 0 {
		climbMPS = defaultClimb
	}
	if descentMPS <= 0 {
		descentMPS = defaultDescent
	}
	out := rt
	out.Waypoints = append([]Waypoint(nil), rt.Waypoints...)
	if len(rt.Waypoints) == 0 {
		return out
	}
	old := rt.Waypoints[0].AltM
	up := secs((altM - old) / climbMPS)
	if rt.Airborne {
		up = 0
	}
	down := secs((altM - old) / descentMPS)
	for i := range out.Waypoints {
		out.Waypoints[i].AltM = altM
		out.Waypoints[i].ETA += up
	}
	if rt.Duration > 0 {
		out.BatteryPct = rt.BatteryPct * float64(rt.Duration+up+down) / float64(rt.Duration)
	}
	out.Duration = rt.Duration + up + down
	return out
}

// AltitudeLayers returns the altitudes from minM to maxM in steps of stepM
// (nearest to the routes' altitude first, that one excluded) at which
// every route stays in agency's allowed space at time at: the layers a
// Registry may resolve a conflict with (Resolve.Layers).
func AltitudeLayers(set *geofence.Set, agency string, routes []Route, minM, maxM, stepM float64, at time.Time) []float64 {
	if len(routes) == 0 || len(routes[0].Waypoints) == 0 || stepM <= 0 || maxM < minM {
		return nil
	}
	cur := routes[0].Waypoints[0].AltM
	var cands []float64
	for a := minM; a <= maxM+1e-9 && len(cands) < 1000; a += stepM {
		if math.Abs(a-cur) > 1e-6 {
			cands = append(cands, a)
		}
	}
	// Nearest first.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && math.Abs(cands[j]-cur) < math.Abs(cands[j-1]-cur); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	var out []float64
	for _, a := range cands {
		ok := true
		for _, rt := range routes {
			pos := []geofence.Position{geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0)}
			for _, w := range rt.Waypoints {
				pos = append(pos, geofence.Pos(w.Lat, w.Lon, a))
			}
			pos = append(pos, geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0))
			if v, err := set.CheckRoute(agency, pos, at); err != nil || v != nil {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}
