package web

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// Planner turns an operator's drawn shape into each drone's route: the
// hook for the patrol planner (geofence/plan), which will replace the
// built-in PatternPlanner. Preview must not change anything.
type Planner interface {
	// Patterns lists the pattern names Preview accepts.
	Patterns() []string
	// Preview plans req for drones (one route each, same order). Returns
	// Invalid for a bad request, Exhausted for one too big.
	Preview(ctx context.Context, req PlanRequest, drones []fleet.DroneState) ([]PlanRoute, error)
}

// PlanRequest is what the operator drew and chose.
type PlanRequest struct {
	// Shape is "polygon" or "line"; Points its vertices (not closed).
	Shape  string
	Points []geofence.LatLon
	// Pattern is one of the planner's Patterns.
	Pattern string
	// SpacingM is the distance between sweep lines (lawnmower), metres.
	SpacingM float64
	// AltM is the patrol altitude above home; SpeedMS the ground speed.
	AltM, SpeedMS float64
	// Laps is how many times the route is flown (1 if 0).
	Laps int
}

// PlanRoute is one drone's planned route.
type PlanRoute struct {
	Drone string
	// Waypoints is the route flown, home excluded.
	Waypoints []fleet.Position
	// Items is the mission: home, takeoff, speed, waypoints, laps, RTL.
	Items []fleet.MissionItem
	// DistanceM includes the transit from home and back.
	DistanceM float64
	// Duration is at SpeedMS; BatteryPct its share of the endurance.
	Duration   time.Duration
	BatteryPct float64
}

// Patterns of the PatternPlanner.
const (
	PatternPerimeter = "perimeter"
	PatternLawnmower = "lawnmower"
	PatternLine      = "line"
)

// Defaults and limits of the PatternPlanner.
const (
	DefaultPatrolAltM    = 40.0
	DefaultPatrolSpeedMS = 10.0
	DefaultSpacingM      = 100.0
	// DefaultEndurance is the flight time on a full battery assumed for the
	// battery estimate.
	DefaultEndurance = 25 * time.Minute
	maxWaypoints     = 400
)

// PatternPlanner is the built-in planner: perimeter (the polygon's
// outline), lawnmower (parallel east–west sweeps across the polygon,
// split among the drones) and line (out along the drawn line and back).
// It knows nothing of deconfliction: the geofence is checked afterwards
// (App.CheckRoute) and by the fleet on upload.
type PatternPlanner struct {
	// Endurance is the flight time on a full battery (optional, default
	// DefaultEndurance).
	Endurance time.Duration
}

// Patterns implements Planner.
func (PatternPlanner) Patterns() []string {
	return []string{PatternPerimeter, PatternLawnmower, PatternLine}
}

// Preview implements Planner.
func (pl PatternPlanner) Preview(ctx context.Context, req PlanRequest, drones []fleet.DroneState) ([]PlanRoute, error) {
	if req.AltM == 0 {
		req.AltM = DefaultPatrolAltM
	}
	if req.SpeedMS == 0 {
		req.SpeedMS = DefaultPatrolSpeedMS
	}
	if req.SpacingM == 0 {
		req.SpacingM = DefaultSpacingM
	}
	if req.Laps == 0 {
		req.Laps = 1
	}
	switch {
	case !finite(req.AltM) || req.AltM < 5 || req.AltM > 120:
		return nil, fleet.Errorf(fleet.Invalid, "alt_m %v: want 5..120 m above home", req.AltM)
	case !finite(req.SpeedMS) || req.SpeedMS < 1 || req.SpeedMS > 30:
		return nil, fleet.Errorf(fleet.Invalid, "speed_ms %v: want 1..30 m/s", req.SpeedMS)
	case !finite(req.SpacingM) || req.SpacingM < 10 || req.SpacingM > 5000:
		return nil, fleet.Errorf(fleet.Invalid, "spacing_m %v: want 10..5000 m", req.SpacingM)
	case req.Laps < 1 || req.Laps > 20:
		return nil, fleet.Errorf(fleet.Invalid, "laps %d: want 1..20", req.Laps)
	}
	var paths [][]geofence.LatLon
	switch req.Pattern {
	case PatternPerimeter, PatternLawnmower:
		if req.Shape != "polygon" || len(req.Points) < 3 {
			return nil, fleet.Errorf(fleet.Invalid, "pattern %s: want a polygon of at least 3 points", req.Pattern)
		}
		if req.Pattern == PatternPerimeter {
			ring := append(append([]geofence.LatLon(nil), req.Points...), req.Points[0])
			for range drones {
				paths = append(paths, ring)
			}
			break
		}
		minLat, maxLat := math.Inf(1), math.Inf(-1)
		for _, p := range req.Points {
			minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		}
		if n := (maxLat - minLat) * earthRadiusM * math.Pi / 180 / req.SpacingM; n > maxWaypoints/2 {
			return nil, fleet.Errorf(fleet.Exhausted, "about %.0f sweep lines: at most %d; raise spacing_m or draw a smaller area", n, maxWaypoints/2)
		}
		lines := sweep(req.Points, req.SpacingM)
		if len(lines) == 0 {
			return nil, fleet.Errorf(fleet.Invalid, "the polygon is narrower than the spacing: draw a larger one or lower spacing_m")
		}
		if 2*len(lines) > maxWaypoints {
			return nil, fleet.Errorf(fleet.Exhausted, "%d sweep lines: at most %d; raise spacing_m", len(lines), maxWaypoints/2)
		}
		per := (len(lines) + len(drones) - 1) / len(drones)
		for i := range drones {
			lo, hi := min(i*per, len(lines)), min((i+1)*per, len(lines))
			var path []geofence.LatLon
			for k, l := range lines[lo:hi] {
				if k%2 == 1 {
					l[0], l[1] = l[1], l[0]
				}
				path = append(path, l[0], l[1])
			}
			paths = append(paths, path)
		}
	case PatternLine:
		if req.Shape != "line" || len(req.Points) < 2 {
			return nil, fleet.Errorf(fleet.Invalid, "pattern line: want a line of at least 2 points")
		}
		back := append([]geofence.LatLon(nil), req.Points...)
		for i := len(req.Points) - 2; i >= 0; i-- {
			back = append(back, req.Points[i])
		}
		for range drones {
			paths = append(paths, back)
		}
	default:
		return nil, fleet.Errorf(fleet.Invalid, "unknown pattern %q: want perimeter, lawnmower or line", req.Pattern)
	}
	endurance := pl.Endurance
	if endurance <= 0 {
		endurance = DefaultEndurance
	}
	out := make([]PlanRoute, len(drones))
	for i, d := range drones {
		out[i] = routeFor(d, paths[i], req, endurance)
	}
	return out, nil
}

// routeFor builds drone d's mission along path.
func routeFor(d fleet.DroneState, path []geofence.LatLon, req PlanRequest, endurance time.Duration) PlanRoute {
	h := geofence.LatLon{Lat: d.Position.Lat, Lon: d.Position.Lon}
	alt := 0.0
	if d.HasHome {
		h, alt = geofence.LatLon{Lat: d.Home.Lat, Lon: d.Home.Lon}, d.Home.AltMSL
	}
	r := PlanRoute{Drone: d.ID}
	r.Items = []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: h.Lat, Lon: h.Lon, Alt: alt, Autocontinue: true},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Lat: h.Lat, Lon: h.Lon, Alt: req.AltM, Autocontinue: true},
		{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Param1: 1, Param2: req.SpeedMS, Param3: -1, Autocontinue: true},
	}
	first := len(r.Items)
	for _, p := range path {
		r.Waypoints = append(r.Waypoints, fleet.Position{Lat: p.Lat, Lon: p.Lon, RelAlt: req.AltM})
		r.Items = append(r.Items, fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint,
			Lat: p.Lat, Lon: p.Lon, Alt: req.AltM, Autocontinue: true})
	}
	if req.Laps > 1 {
		r.Items = append(r.Items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoJump,
			Param1: float64(first), Param2: float64(req.Laps - 1), Autocontinue: true})
	}
	r.Items = append(r.Items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true})
	for i := range r.Items {
		r.Items[i].Seq = i
	}
	lap := 0.0
	for i := 1; i < len(path); i++ {
		lap += distanceM(path[i-1], path[i])
	}
	r.DistanceM = distanceM(h, path[0]) + lap*float64(req.Laps) + distanceM(path[len(path)-1], h) + 2*req.AltM
	r.Duration = time.Duration(r.DistanceM / req.SpeedMS * float64(time.Second))
	r.BatteryPct = 100 * r.Duration.Seconds() / endurance.Seconds()
	return r
}

const earthRadiusM = 6371008.8

// distanceM is the great-circle distance between a and b.
func distanceM(a, b geofence.LatLon) float64 {
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// sweep returns the east–west lines, spacing apart, that cross polygon
// poly: the widest crossing of each (inner gaps of a concave polygon are
// flown over), south to north.
func sweep(poly []geofence.LatLon, spacing float64) [][2]geofence.LatLon {
	mPerDegLat := earthRadiusM * math.Pi / 180
	minLat, maxLat := math.Inf(1), math.Inf(-1)
	for _, p := range poly {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
	}
	step := spacing / mPerDegLat
	var out [][2]geofence.LatLon
	for lat := minLat + step/2; lat < maxLat && len(out) <= maxWaypoints; lat += step {
		var xs []float64
		for i := range poly {
			a, b := poly[i], poly[(i+1)%len(poly)]
			if (a.Lat <= lat) == (b.Lat <= lat) {
				continue
			}
			t := (lat - a.Lat) / (b.Lat - a.Lat)
			xs = append(xs, a.Lon+t*(b.Lon-a.Lon))
		}
		if len(xs) < 2 {
			continue
		}
		sort.Float64s(xs)
		out = append(out, [2]geofence.LatLon{{Lat: lat, Lon: xs[0]}, {Lat: lat, Lon: xs[len(xs)-1]}})
	}
	return out
}

// latLon converts a [lat, lon] pair.
func latLon(p [2]float64) geofence.LatLon { return geofence.LatLon{Lat: p[0], Lon: p[1]} }
