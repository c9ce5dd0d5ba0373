package proto

import (
	"context"
	"math"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// controlServer implements the Control service.
type controlServer struct {
	pb.UnimplementedControlServer
	s *Server
}

func (c *controlServer) Arm(req *pb.ArmRequest, stream pb.Control_ArmServer) error {
	ctx := stream.Context()
	wait := req.GetWait().AsDuration()
	if req.GetWait() != nil && (wait < 0 || req.GetWait().CheckValid() != nil) {
		return fleet.Errorf(fleet.Invalid, "wait: want a non-negative duration")
	}
	pending := startPump(ctx, func(reason string) error {
		return stream.Send(&pb.ArmResponse{PendingReason: reason})
	})
	err := c.s.App.Arm(ctx, principal(ctx), req.GetDroneId(), app.ArmOptions{Wait: wait, Progress: pending.Set})
	pending.Stop()
	if err != nil {
		return err
	}
	return stream.Send(&pb.ArmResponse{Armed: true})
}

func (c *controlServer) Disarm(ctx context.Context, req *pb.DisarmRequest) (*pb.DisarmResponse, error) {
	return &pb.DisarmResponse{}, c.s.App.Disarm(ctx, principal(ctx), req.GetDroneId(), req.GetForce())
}

func (c *controlServer) Takeoff(ctx context.Context, req *pb.TakeoffRequest) (*pb.TakeoffResponse, error) {
	return &pb.TakeoffResponse{}, c.s.App.Takeoff(ctx, principal(ctx), req.GetDroneId(), req.GetAltitudeM())
}

func (c *controlServer) Land(ctx context.Context, req *pb.LandRequest) (*pb.LandResponse, error) {
	return &pb.LandResponse{}, c.s.App.Land(ctx, principal(ctx), req.GetDroneId())
}

func (c *controlServer) ReturnToLaunch(ctx context.Context, req *pb.ReturnToLaunchRequest) (*pb.ReturnToLaunchResponse, error) {
	return &pb.ReturnToLaunchResponse{}, c.s.App.ReturnToLaunch(ctx, principal(ctx), req.GetDroneId())
}

func (c *controlServer) Hold(ctx context.Context, req *pb.HoldRequest) (*pb.HoldResponse, error) {
	return &pb.HoldResponse{}, c.s.App.Hold(ctx, principal(ctx), req.GetDroneId())
}

func (c *controlServer) GoTo(ctx context.Context, req *pb.GoToRequest) (*pb.GoToResponse, error) {
	p := principal(ctx)
	target := fleet.Position{Lat: req.GetLatDeg(), Lon: req.GetLonDeg(), RelAlt: req.GetRelAltM()}
	if req.RelAltM == nil {
		// Keep the drone's altitude. Reading it is a read any caller may do;
		// the command below checks the caller's rights.
		d, err := c.s.App.GetDrone(ctx, p, req.GetDroneId())
		if err != nil {
			return nil, err
		}
		if !d.State.HasPosition {
			return nil, fleet.Errorf(fleet.Conflict, "rel_alt_m: the drone has no position yet; give an altitude")
		}
		target.RelAlt = d.State.Position.RelAlt
	}
	if math.IsNaN(target.RelAlt) {
		return nil, fleet.Errorf(fleet.Invalid, "rel_alt_m: not a number")
	}
	return &pb.GoToResponse{}, c.s.App.GoTo(ctx, p, req.GetDroneId(), target, req.GetOverride())
}

func (c *controlServer) SetMode(ctx context.Context, req *pb.SetModeRequest) (*pb.SetModeResponse, error) {
	return &pb.SetModeResponse{}, c.s.App.SetMode(ctx, principal(ctx), req.GetDroneId(), req.GetMode())
}

func (c *controlServer) EnableFence(ctx context.Context, req *pb.EnableFenceRequest) (*pb.EnableFenceResponse, error) {
	return &pb.EnableFenceResponse{}, c.s.App.EnableFence(ctx, principal(ctx), req.GetDroneId(), req.GetEnable())
}

func (c *controlServer) UploadGeofence(ctx context.Context, req *pb.UploadGeofenceRequest) (*pb.UploadGeofenceResponse, error) {
	rep, err := c.s.App.UploadGeofence(ctx, principal(ctx), req.GetDroneId())
	if err != nil {
		return nil, err
	}
	out := &pb.UploadGeofenceResponse{Items: uint32(max(rep.Items, 0)), AltMaxM: opt(rep.AltMaxM), Enabled: rep.Enabled}
	for _, n := range rep.Notes {
		out.Notes = append(out.Notes, &pb.FenceNote{ZoneId: n.ZoneID, Message: n.Message})
	}
	return out, nil
}
