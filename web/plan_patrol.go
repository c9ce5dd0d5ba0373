package web

import (
	"context"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/paulmach/orb"
)

// PatrolPlanner is the Planner of the patrol planner (geofence/plan,
// through fleet/patrol): routes inside the agency's allowed space with a
// margin, safe transits to and from the pattern around no-fly zones,
// coverage shared among the drones with balanced flight times, and the
// battery checked against each drone's endurance. Perimeter is the area's
// edge inset by the margin, lawnmower the planner's coverage with lines
// SpacingM apart, line the operator's drawn line out and back.
type PatrolPlanner struct {
	// Zones is where drones may fly (required).
	Zones *geofence.Store
	// Endurance is a full battery's flight time (optional, the planner's
	// default of 25 min).
	Endurance time.Duration
}

var _ Planner = PatrolPlanner{}

// Patterns implements Planner.
func (PatrolPlanner) Patterns() []string {
	return []string{PatternPerimeter, PatternLawnmower, PatternLine}
}

// Preview implements Planner. The drones must be of one agency.
func (p PatrolPlanner) Preview(ctx context.Context, req PlanRequest, drones []fleet.DroneState) ([]PlanRoute, error) {
	if p.Zones == nil {
		return nil, fleet.Errorf(fleet.Internal, "patrol planner without zones")
	}
	if len(drones) == 0 {
		return nil, fleet.Errorf(fleet.Invalid, "no drones")
	}
	r := plan.Request{Agency: drones[0].Agency, AltM: req.AltM, SpeedMPS: req.SpeedMS, Laps: req.Laps, Endurance: p.Endurance}
	for _, d := range drones {
		if d.Agency != r.Agency {
			return nil, fleet.Errorf(fleet.Invalid, "drones %s and %s are of different agencies (%s, %s): plan one agency at a time",
				drones[0].ID, d.ID, r.Agency, d.Agency)
		}
		// A drone in the air is planned from where it is: fleet.StartMission
		// starts an airborne route at its first waypoint with the speed
		// change before it applied.
		r.Drones = append(r.Drones, patrol.DroneOf(d, 0))
	}
	ring := func() (orb.Polygon, error) {
		if req.Shape != "polygon" || len(req.Points) < 3 {
			return nil, fleet.Errorf(fleet.Invalid, "pattern %s: want a polygon of at least 3 points", req.Pattern)
		}
		rg := make(orb.Ring, 0, len(req.Points)+1)
		for _, pt := range req.Points {
			rg = append(rg, orb.Point{pt.Lon, pt.Lat})
		}
		return orb.Polygon{append(rg, rg[0])}, nil
	}
	var err error
	switch req.Pattern {
	case PatternPerimeter:
		r.Kind = plan.Perimeter
		r.Area, err = ring()
	case PatternLawnmower:
		r.Kind = plan.Coverage
		r.Area, err = ring()
		if req.SpacingM > 0 {
			r.SwathM, r.Overlap = req.SpacingM/0.9, 0.1
		}
	case PatternLine:
		if req.Shape != "line" || len(req.Points) < 2 {
			return nil, fleet.Errorf(fleet.Invalid, "pattern line: want a line of at least 2 points")
		}
		if len(drones) > 1 {
			return nil, fleet.Errorf(fleet.Invalid, "pattern line: one drone at a time")
		}
		r.Kind = plan.Waypoints
		laps := max(req.Laps, 1)
		for lap := 0; lap < laps; lap++ {
			for _, pt := range req.Points {
				r.Waypoints = append(r.Waypoints, geofence.Position{Lat: pt.Lat, Lon: pt.Lon, RelAlt: req.AltM})
			}
			for i := len(req.Points) - 2; i >= 0; i-- {
				r.Waypoints = append(r.Waypoints, geofence.Position{Lat: req.Points[i].Lat, Lon: req.Points[i].Lon, RelAlt: req.AltM})
			}
		}
		r.Laps = 0
	default:
		return nil, fleet.Errorf(fleet.Invalid, "unknown pattern %q: want perimeter, lawnmower or line", req.Pattern)
	}
	if err != nil {
		return nil, err
	}
	res, err := patrol.Plan(p.Zones, r)
	if err != nil {
		return nil, err
	}
	out := make([]PlanRoute, 0, len(drones))
	for _, d := range drones {
		pr := PlanRoute{Drone: d.ID}
		for _, rt := range res.Routes {
			if rt.DroneID != d.ID || rt.Sortie > 1 {
				continue
			}
			opt := patrol.Options{Jump: true}
			if d.HasHome {
				opt.HomeAMSL = d.Home.AltMSL
			}
			pr.Items = patrol.Mission(rt, opt)
			for _, w := range rt.Waypoints {
				pr.Waypoints = append(pr.Waypoints, fleet.Position{Lat: w.Lat, Lon: w.Lon, RelAlt: w.AltM})
			}
			pr.DistanceM, pr.Duration, pr.BatteryPct = rt.DistanceM, rt.Duration, rt.BatteryPct
		}
		if pr.Items == nil {
			return nil, fleet.Errorf(fleet.Conflict, "the planner gave drone %s no route", d.ID)
		}
		out = append(out, pr)
	}
	return out, nil
}
