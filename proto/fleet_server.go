package proto

import (
	"context"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// fleetServer implements the Fleet service.
type fleetServer struct {
	pb.UnimplementedFleetServer
	s *Server
}

func (f *fleetServer) ListDrones(ctx context.Context, req *pb.ListDronesRequest) (*pb.ListDronesResponse, error) {
	drones, err := f.s.App.ListDrones(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListDronesResponse{Drones: make([]*pb.Drone, 0, len(drones))}
	for _, d := range drones {
		if req.GetAgency() != "" && d.State.Agency != req.GetAgency() {
			continue
		}
		out.Drones = append(out.Drones, droneToPB(d))
	}
	return out, nil
}

func (f *fleetServer) GetDrone(ctx context.Context, req *pb.GetDroneRequest) (*pb.GetDroneResponse, error) {
	d, err := f.s.App.GetDrone(ctx, principal(ctx), req.GetDroneId())
	if err != nil {
		return nil, err
	}
	return &pb.GetDroneResponse{Drone: droneToPB(d)}, nil
}

// WatchFleet pulls from the application layer's coalescing watcher and
// writes to the client on the stream's own goroutine: a slow client delays
// only its own watcher, which keeps each drone's latest state.
func (f *fleetServer) WatchFleet(req *pb.WatchFleetRequest, stream pb.Fleet_WatchFleetServer) error {
	ctx := stream.Context()
	p := principal(ctx)
	w, err := f.s.App.Watch(ctx, p, app.WatchOptions{
		Drones: req.GetDroneIds(), Agency: req.GetAgency(), Kinds: req.GetKinds(),
		MaxRateHz: req.GetMaxRateHz(), Snapshot: !req.GetSkipSnapshot(), NoState: req.GetEventsOnly(),
	})
	if err != nil {
		return err
	}
	defer w.Close()
	out := newWriter(f.s, stream.Send)
	defer out.Close()
	var coalesced uint64
	for {
		it, err := w.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		resp := &pb.WatchFleetResponse{}
		switch {
		case it.State != nil:
			resp.Item = &pb.WatchFleetResponse_Drone{Drone: droneToPB(app.Drone{State: *it.State, CanCommand: f.s.App.CanCommand(p, *it.State)})}
		case it.Event != nil:
			resp.Item = &pb.WatchFleetResponse_Event{Event: eventToPB(*it.Event)}
		case it.Missed > 0:
			resp.Item = &pb.WatchFleetResponse_Event{Event: missedEvent(it.Missed)}
		default:
			continue
		}
		if c := w.Coalesced(); c > coalesced {
			resp.Coalesced, coalesced = c-coalesced, c
		}
		if err := out.Send(ctx, resp); err != nil {
			if fleet.ErrorCode(err) == fleet.Exhausted {
				f.s.Logger.Warn("slow consumer", "client", p.Label, "cmd", "Fleet.WatchFleet")
			}
			return err
		}
	}
}

func (f *fleetServer) ListEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	evs, err := f.s.App.ListEvents(ctx, principal(ctx), app.EventQuery{
		From: fromTS(req.GetFrom()), To: fromTS(req.GetTo()), DroneID: req.GetDroneId(), Agency: req.GetAgency(),
		Kinds: req.GetKinds(), Limit: int(req.GetLimit()),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListEventsResponse{Events: make([]*pb.Event, len(evs))}
	for i, e := range evs {
		out.Events[i] = eventToPB(e)
	}
	return out, nil
}

func alertToPB(a app.Alert) *pb.Alert {
	out := &pb.Alert{Id: a.ID, Event: eventToPB(a.EventRecord), Acked: a.Acked, AckedBy: a.AckedBy}
	if a.Acked {
		out.AckedAt = ts(a.AckedAt)
	}
	return out
}

func (f *fleetServer) ListAlerts(ctx context.Context, req *pb.ListAlertsRequest) (*pb.ListAlertsResponse, error) {
	alerts, err := f.s.App.Alerts(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListAlertsResponse{Alerts: make([]*pb.Alert, 0, len(alerts))}
	for _, a := range alerts {
		if req.GetUnackedOnly() && a.Acked {
			continue
		}
		out.Alerts = append(out.Alerts, alertToPB(a))
	}
	return out, nil
}

func (f *fleetServer) AckAlert(ctx context.Context, req *pb.AckAlertRequest) (*pb.AckAlertResponse, error) {
	a, err := f.s.App.AckAlert(ctx, principal(ctx), req.GetAlertId())
	if err != nil {
		return nil, err
	}
	return &pb.AckAlertResponse{Alert: alertToPB(a)}, nil
}
