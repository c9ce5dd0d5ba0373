package proto

import (
	"context"
	"math"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// patrolServer implements the Patrol service.
type patrolServer struct {
	pb.UnimplementedPatrolServer
	s *Server
}

func (ps *patrolServer) PlanPatrol(ctx context.Context, req *pb.PlanPatrolRequest) (*pb.PlanPatrolResponse, error) {
	r, err := patrolRequestFromPB(req.GetSpec(), true)
	if err != nil {
		return nil, err
	}
	pv, err := ps.s.App.PlanPatrol(ctx, principal(ctx), r)
	if err != nil {
		return nil, err
	}
	res := pv.Result
	out := &pb.PlanPatrolResponse{DistanceM: res.DistanceM, Duration: dur(res.Duration), Side: string(res.Side),
		Checks: checksToPB(res.Checks)}
	for _, rt := range res.Routes {
		out.Routes = append(out.Routes, routeToPB(rt))
		home := 0.0
		for _, d := range r.Plan.Drones {
			if d.ID == rt.DroneID && d.HasHomeAMSL {
				home = d.HomeAMSL
			}
		}
		out.Missions = append(out.Missions, &pb.PlannedMission{Items: missionItemsToPB(patrol.Mission(rt, patrol.Options{HomeAMSL: home, Jump: true}))})
	}
	for _, is := range res.Issues {
		out.Issues = append(out.Issues, &pb.PlanIssue{Leg: uint32(max(is.Leg, 0)), ZoneId: is.ZoneID,
			At: &pb.LatLon{LatDeg: is.At.Lat, LonDeg: is.At.Lon}, Message: is.Message, Repaired: is.Repaired})
	}
	for _, v := range pv.Volumes {
		out.Volumes = append(out.Volumes, volumeToPB(v))
	}
	for _, c := range pv.Conflicts {
		pc := conflictToPB(&c.Conflict)
		pc.Route = uint32(c.Route)
		out.Conflicts = append(out.Conflicts, pc)
	}
	return out, nil
}

func (ps *patrolServer) Dispatch(ctx context.Context, req *pb.DispatchPatrolRequest) (*pb.DispatchPatrolResponse, error) {
	r, err := patrolRequestFromPB(req.GetSpec(), false)
	if err != nil {
		return nil, err
	}
	r.ResolveAltitude = req.GetResolveAltitude()
	r.LayerMinM, r.LayerMaxM, r.LayerStepM = req.GetLayerMinM(), req.GetLayerMaxM(), req.GetLayerStepM()
	if req.GetMaxDelay() != nil {
		r.MaxDelay = req.GetMaxDelay().AsDuration()
	}
	pts, err := ps.s.App.DispatchPatrol(ctx, principal(ctx), r)
	out := &pb.DispatchPatrolResponse{}
	for _, p := range pts {
		out.Patrols = append(out.Patrols, patrolToPB(p))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (ps *patrolServer) ListPatrols(ctx context.Context, req *pb.ListPatrolsRequest) (*pb.ListPatrolsResponse, error) {
	pts, err := ps.s.App.ListPatrols(ctx, principal(ctx), req.GetActiveOnly())
	if err != nil {
		return nil, err
	}
	out := &pb.ListPatrolsResponse{Patrols: make([]*pb.PatrolInfo, 0, len(pts))}
	for _, p := range pts {
		out.Patrols = append(out.Patrols, patrolToPB(p))
	}
	return out, nil
}

func (ps *patrolServer) GetPatrol(ctx context.Context, req *pb.GetPatrolRequest) (*pb.GetPatrolResponse, error) {
	p, err := ps.s.App.GetPatrol(ctx, principal(ctx), req.GetPatrolId())
	if err != nil {
		return nil, err
	}
	return &pb.GetPatrolResponse{Patrol: patrolToPB(p)}, nil
}

func (ps *patrolServer) Cancel(ctx context.Context, req *pb.CancelPatrolRequest) (*pb.CancelPatrolResponse, error) {
	return &pb.CancelPatrolResponse{}, ps.s.App.CancelPatrol(ctx, principal(ctx), req.GetPatrolId())
}

func (ps *patrolServer) ImportPlan(ctx context.Context, req *pb.ImportPlanRequest) (*pb.ImportPlanResponse, error) {
	o := app.ImportOptions{DroneID: req.GetDroneId(), ZonePrefix: req.GetZonePrefix(), FenceZones: req.GetFenceZones(),
		Jurisdiction: geofence.Jurisdiction(req.GetJurisdiction())}
	imp, err := ps.s.App.ImportPlan(ctx, principal(ctx), req.GetPlan(), o)
	if err != nil {
		return nil, err
	}
	out := &pb.ImportPlanResponse{Items: missionItemsToPB(imp.Items)}
	for _, z := range imp.Zones {
		out.Zones = append(out.Zones, zoneToPB(z))
	}
	for _, r := range imp.Rally {
		out.RallyPoints = append(out.RallyPoints, &pb.Position{LatDeg: r[0], LonDeg: r[1], RelAltM: r[2]})
	}
	return out, nil
}

func (ps *patrolServer) ExportPlan(ctx context.Context, req *pb.ExportPlanRequest) (*pb.ExportPlanResponse, error) {
	data, err := ps.s.App.ExportPlan(ctx, principal(ctx), req.GetDroneId(), req.GetPatrolId())
	if err != nil {
		return nil, err
	}
	return &pb.ExportPlanResponse{Plan: data}, nil
}

// patrolKinds maps the API's kinds to the planner's.
var patrolKinds = map[pb.PatrolKind]plan.Kind{
	pb.PatrolKind_PATROL_KIND_PERIMETER: plan.Perimeter,
	pb.PatrolKind_PATROL_KIND_COVERAGE:  plan.Coverage,
	pb.PatrolKind_PATROL_KIND_CORRIDOR:  plan.Corridor,
	pb.PatrolKind_PATROL_KIND_TRANSIT:   plan.Transit,
	pb.PatrolKind_PATROL_KIND_WAYPOINTS: plan.Waypoints,
}

func patrolKindToPB(k plan.Kind) pb.PatrolKind {
	for p, v := range patrolKinds {
		if v == k {
			return p
		}
	}
	return pb.PatrolKind_PATROL_KIND_UNSPECIFIED
}

// patrolRequestFromPB converts a spec; ahead allows drones planned ahead.
// The application layer and the planner check the values.
func patrolRequestFromPB(s *pb.PatrolSpec, ahead bool) (app.PatrolRequest, error) {
	if s == nil {
		return app.PatrolRequest{}, fleet.Errorf(fleet.Invalid, "spec: required")
	}
	kind, ok := patrolKinds[s.GetKind()]
	if !ok {
		return app.PatrolRequest{}, fleet.Errorf(fleet.Invalid, "spec.kind: %v is not a patrol kind", s.GetKind())
	}
	r := app.PatrolRequest{DroneIDs: s.GetDroneIds(), Plan: plan.Request{Kind: kind, Agency: s.GetAgency(),
		AltM: s.GetAltM(), SpeedMPS: s.GetSpeedMS(), TransitSpeedMPS: s.GetTransitSpeedMS(), SwathM: s.GetSwathM(),
		Overlap: s.GetOverlap(), ReturnNearStart: s.GetReturnNearStart(), MarginM: s.GetMarginM(), OffsetM: s.GetOffsetM(),
		Side: plan.Side(s.GetSide()), Laps: int(min(s.GetLaps(), 10_000)), Clockwise: s.GetClockwise(), Repair: s.GetRepair(),
		ReservePct: s.GetReservePct(), Sorties: s.GetSorties(), MaxLegM: s.GetMaxLegM()}}
	if s.SweepDeg != nil {
		v := s.GetSweepDeg()
		r.Plan.SweepDeg = &v
	}
	if s.GetEndurance() != nil {
		r.Plan.Endurance = s.GetEndurance().AsDuration()
	}
	if s.GetStart() != nil {
		r.Plan.Start = fromTS(s.GetStart())
	}
	if len(s.GetDrones()) > 0 {
		if !ahead {
			return r, fleet.Errorf(fleet.Invalid, "spec.drones: a dispatch flies live drones; give drone_ids")
		}
		if len(s.GetDroneIds()) > 0 {
			return r, fleet.Errorf(fleet.Invalid, "spec.drones: give drones or drone_ids, not both")
		}
		if len(s.GetDrones()) > plan.MaxDrones {
			return r, fleet.Errorf(fleet.Invalid, "spec.drones: at most %d drones", plan.MaxDrones)
		}
		for i, d := range s.GetDrones() {
			if d.GetHome() == nil {
				return r, fleet.Errorf(fleet.Invalid, "spec.drones[%d].home: required", i)
			}
			pd := plan.Drone{ID: d.GetId(), Home: plan.LatLon{Lat: d.GetHome().GetLatDeg(), Lon: d.GetHome().GetLonDeg()},
				BatteryPct: d.GetBatteryPct()}
			if d.HomeAmslM != nil {
				pd.HomeAMSL, pd.HasHomeAMSL = d.GetHomeAmslM(), true
			}
			if d.GetEndurance() != nil {
				pd.Endurance = d.GetEndurance().AsDuration()
			}
			r.Plan.Drones = append(r.Plan.Drones, pd)
		}
	}
	if a := s.GetArea(); a != nil {
		for _, ring := range a.GetRings() {
			var rr orb.Ring
			for _, p := range ring.GetPoints() {
				rr = append(rr, orb.Point{p.GetLonDeg(), p.GetLatDeg()})
			}
			if len(rr) > 0 && rr[0] != rr[len(rr)-1] {
				rr = append(rr, rr[0])
			}
			r.Plan.Area = append(r.Plan.Area, rr)
		}
	}
	for _, p := range s.GetLine() {
		r.Plan.Line = append(r.Plan.Line, orb.Point{p.GetLonDeg(), p.GetLatDeg()})
	}
	for _, p := range s.GetWaypoints() {
		r.Plan.Waypoints = append(r.Plan.Waypoints, geofence.Position{Lat: p.GetLatDeg(), Lon: p.GetLonDeg(), RelAlt: p.GetRelAltM(), AltMSL: math.NaN()})
	}
	if t := s.GetTo(); t != nil {
		r.Plan.To = plan.LatLon{Lat: t.GetLatDeg(), Lon: t.GetLonDeg()}
	}
	return r, nil
}

func checksToPB(cs []plan.Check) []*pb.PlanCheck {
	out := make([]*pb.PlanCheck, len(cs))
	for i, c := range cs {
		out[i] = &pb.PlanCheck{Name: c.Name, Passed: c.Passed, Detail: c.Detail, Params: c.Params}
	}
	return out
}

func routeToPB(rt plan.Route) *pb.Route {
	out := &pb.Route{DroneId: rt.DroneID, Sortie: uint32(max(rt.Sortie, 0)), Home: &pb.LatLon{LatDeg: rt.Home.Lat, LonDeg: rt.Home.Lon},
		Airborne: rt.Airborne, DistanceM: rt.DistanceM, Duration: dur(rt.Duration), BatteryPct: rt.BatteryPct, Checks: checksToPB(rt.Checks),
		Waypoints: make([]*pb.Waypoint, len(rt.Waypoints))}
	for i, w := range rt.Waypoints {
		out.Waypoints[i] = &pb.Waypoint{Point: &pb.LatLon{LatDeg: w.Lat, LonDeg: w.Lon}, AltM: w.AltM, SpeedMS: w.SpeedMPS,
			Eta: dur(w.ETA), Phase: string(w.Phase)}
	}
	return out
}

func volumeToPB(v plan.Volume) *pb.Volume {
	out := &pb.Volume{PatrolId: v.PatrolID, DroneId: v.DroneID, BufferM: v.BufferM, FloorM: v.Floor(), CeilingM: v.Ceiling(),
		Start: ts(v.Start), End: ts(v.End), Path: make([]*pb.LatLon, len(v.Path))}
	for i, p := range v.Path {
		out.Path[i] = &pb.LatLon{LatDeg: p.Lat, LonDeg: p.Lon}
	}
	return out
}

func conflictToPB(c *plan.Conflict) *pb.VolumeConflict {
	if c == nil {
		return nil
	}
	return &pb.VolumeConflict{PatrolId: c.PatrolID, DroneId: c.DroneID, At: &pb.LatLon{LatDeg: c.At.Lat, LonDeg: c.At.Lon},
		DistanceM: c.DistanceM, From: ts(c.From), Until: ts(c.Until), FloorM: c.FloorM, CeilingM: c.CeilingM}
}

var patrolStates = map[app.PatrolState]pb.PatrolState{
	app.PatrolScheduled:   pb.PatrolState_PATROL_STATE_SCHEDULED,
	app.PatrolFlying:      pb.PatrolState_PATROL_STATE_FLYING,
	app.PatrolFinished:    pb.PatrolState_PATROL_STATE_FINISHED,
	app.PatrolInterrupted: pb.PatrolState_PATROL_STATE_INTERRUPTED,
	app.PatrolCancelled:   pb.PatrolState_PATROL_STATE_CANCELLED,
	app.PatrolFailed:      pb.PatrolState_PATROL_STATE_FAILED,
}

func patrolToPB(p app.Patrol) *pb.PatrolInfo {
	return &pb.PatrolInfo{Id: p.ID, DroneId: p.DroneID, Agency: p.Agency, Kind: patrolKindToPB(p.Kind), MissionId: p.MissionID,
		State: patrolStates[p.State], Route: routeToPB(p.Route), Volume: volumeToPB(p.Volume), Resolved: p.Resolved,
		Resolves: conflictToPB(p.Resolves), Delay: dur(p.Delay), DispatchedBy: p.DispatchedBy, Created: ts(p.Created),
		Ended: ts(p.Ended), Reason: p.Reason, Outside: p.Outside}
}
