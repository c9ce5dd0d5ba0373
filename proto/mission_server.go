package proto

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// missionServer implements the Mission service.
type missionServer struct {
	pb.UnimplementedMissionServer
	s *Server
}

type progress struct{ done, total int }

func (m *missionServer) Upload(req *pb.UploadMissionRequest, stream pb.Mission_UploadServer) error {
	ctx := stream.Context()
	t, err := planType(req.GetType())
	if err != nil {
		return err
	}
	o := app.UploadOptions{Type: t, Override: req.GetOverride()}
	var pm *pump[progress]
	if req.GetProgress() {
		pm = startPump(ctx, func(p progress) error {
			return stream.Send(&pb.UploadMissionResponse{Item: &pb.UploadMissionResponse_Progress{
				Progress: &pb.UploadProgress{Sent: uint32(p.done), Total: uint32(p.total)}}})
		})
		o.Progress = func(done, total int) { pm.Set(progress{done, total}) }
	}
	id, err := m.s.App.UploadMission(ctx, principal(ctx), req.GetDroneId(), missionItemsFromPB(req.GetItems()), o)
	if pm != nil {
		pm.Stop()
	}
	if err != nil {
		return err
	}
	return stream.Send(&pb.UploadMissionResponse{Item: &pb.UploadMissionResponse_MissionId{MissionId: id}})
}

func (m *missionServer) Download(ctx context.Context, req *pb.DownloadMissionRequest) (*pb.DownloadMissionResponse, error) {
	t, err := planType(req.GetType())
	if err != nil {
		return nil, err
	}
	items, err := m.s.App.DownloadMission(ctx, principal(ctx), req.GetDroneId(), t)
	if err != nil {
		return nil, err
	}
	return &pb.DownloadMissionResponse{Items: missionItemsToPB(items)}, nil
}

func (m *missionServer) Clear(ctx context.Context, req *pb.ClearMissionRequest) (*pb.ClearMissionResponse, error) {
	t, err := planType(req.GetType())
	if err != nil {
		return nil, err
	}
	return &pb.ClearMissionResponse{}, m.s.App.ClearMission(ctx, principal(ctx), req.GetDroneId(), t)
}

func (m *missionServer) Start(ctx context.Context, req *pb.StartMissionRequest) (*pb.StartMissionResponse, error) {
	return &pb.StartMissionResponse{}, m.s.App.StartMission(ctx, principal(ctx), req.GetDroneId(), req.GetOverride())
}

func (m *missionServer) Pause(ctx context.Context, req *pb.PauseMissionRequest) (*pb.PauseMissionResponse, error) {
	return &pb.PauseMissionResponse{}, m.s.App.PauseMission(ctx, principal(ctx), req.GetDroneId())
}

func (m *missionServer) Resume(ctx context.Context, req *pb.ResumeMissionRequest) (*pb.ResumeMissionResponse, error) {
	return &pb.ResumeMissionResponse{}, m.s.App.ResumeMission(ctx, principal(ctx), req.GetDroneId())
}

func (m *missionServer) Abort(ctx context.Context, req *pb.AbortMissionRequest) (*pb.AbortMissionResponse, error) {
	return &pb.AbortMissionResponse{}, m.s.App.AbortMission(ctx, principal(ctx), req.GetDroneId())
}

// WatchProgress sends the drone's mission status, then each change, read
// from a state watch of that one drone.
func (m *missionServer) WatchProgress(req *pb.WatchMissionProgressRequest, stream pb.Mission_WatchProgressServer) error {
	ctx := stream.Context()
	p := principal(ctx)
	if req.GetDroneId() == "" {
		return fleet.Errorf(fleet.Invalid, "drone_id: required")
	}
	if _, err := m.s.App.GetDrone(ctx, p, req.GetDroneId()); err != nil {
		return err
	}
	w, err := m.s.App.Watch(ctx, p, app.WatchOptions{Drones: []string{req.GetDroneId()}, NoEvents: true, Snapshot: true, MaxRateHz: 10})
	if err != nil {
		return err
	}
	defer w.Close()
	out := newWriter(m.s, stream.Send)
	defer out.Close()
	var last *pb.MissionStatus
	for {
		it, err := w.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if it.State == nil {
			continue
		}
		st := missionStatusToPB(it.State.Mission)
		if last != nil && proto.Equal(st, last) {
			continue
		}
		last = st
		if err := out.Send(ctx, &pb.WatchMissionProgressResponse{Status: st}); err != nil {
			return err
		}
	}
}
