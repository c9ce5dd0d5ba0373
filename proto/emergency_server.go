package proto

import (
	"context"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// emergencyServer implements the Emergency service.
type emergencyServer struct {
	pb.UnimplementedEmergencyServer
	s *Server
}

var emergencyActions = map[pb.EmergencyAction]app.EmergencyAction{
	pb.EmergencyAction_EMERGENCY_ACTION_RTL:  app.EmergencyRTL,
	pb.EmergencyAction_EMERGENCY_ACTION_LAND: app.EmergencyLand,
	pb.EmergencyAction_EMERGENCY_ACTION_HOLD: app.EmergencyHold,
}

func (e *emergencyServer) Act(ctx context.Context, req *pb.EmergencyRequest) (*pb.EmergencyResponse, error) {
	start := time.Now()
	action, ok := emergencyActions[req.GetAction()]
	if !ok {
		return nil, fleet.Errorf(fleet.Invalid, "action: want rtl, land or hold")
	}
	var scope app.Scope
	switch sc := req.GetScope().(type) {
	case *pb.EmergencyRequest_All:
		scope.All = sc.All
	case *pb.EmergencyRequest_Agency:
		scope.Agency = sc.Agency
	case *pb.EmergencyRequest_ZoneId:
		scope.ZoneID = sc.ZoneId
	case *pb.EmergencyRequest_Polygon:
		if n := len(sc.Polygon.GetPoints()); n > app.MaxPolygonPoints {
			return nil, fleet.Errorf(fleet.Exhausted, "polygon: %d points, at most %d", n, app.MaxPolygonPoints)
		}
		for _, p := range sc.Polygon.GetPoints() {
			scope.Polygon = append(scope.Polygon, geofence.LatLon{Lat: p.GetLatDeg(), Lon: p.GetLonDeg()})
		}
		if scope.Polygon == nil {
			scope.Polygon = []geofence.LatLon{}
		}
	}
	res, err := e.s.App.Emergency(ctx, principal(ctx), app.EmergencyRequest{Action: action, Scope: scope})
	if err != nil {
		return nil, err
	}
	out := &pb.EmergencyResponse{Results: make([]*pb.EmergencyDroneResult, len(res))}
	for i, r := range res {
		o := &pb.EmergencyDroneResult{DroneId: r.DroneID, Agency: r.Agency, Code: string(r.Code), Message: r.Message, Reason: r.Reason}
		switch {
		case r.Skipped:
			o.Outcome = pb.EmergencyOutcome_EMERGENCY_OUTCOME_SKIPPED
			if o.Message == "" {
				o.Message = r.Reason
			}
		case r.Code != "":
			o.Outcome = pb.EmergencyOutcome_EMERGENCY_OUTCOME_FAILED
		default:
			o.Outcome = pb.EmergencyOutcome_EMERGENCY_OUTCOME_OK
		}
		out.Results[i] = o
	}
	out.Elapsed = dur(time.Since(start))
	return out, nil
}
