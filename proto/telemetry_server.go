package proto

import (
	"bytes"
	"context"
	"math"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// telemetryServer implements the Telemetry service.
type telemetryServer struct {
	pb.UnimplementedTelemetryServer
	s *Server
}

// DefaultTelemetryHz is StreamTelemetry's rate per drone when the client
// names none.
const DefaultTelemetryHz = 1.0

func (t *telemetryServer) StreamTelemetry(req *pb.StreamTelemetryRequest, stream pb.Telemetry_StreamTelemetryServer) error {
	ctx := stream.Context()
	rate := req.GetMaxRateHz()
	if rate == 0 {
		rate = DefaultTelemetryHz
	}
	if math.IsNaN(rate) {
		return fleet.Errorf(fleet.Invalid, "max_rate_hz: not a number")
	}
	fields := map[pb.TelemetryField]bool{}
	for i, f := range req.GetFields() {
		if _, ok := pb.TelemetryField_name[int32(f)]; !ok || f == pb.TelemetryField_TELEMETRY_FIELD_UNSPECIFIED {
			return fleet.Errorf(fleet.Invalid, "fields[%d]: unknown field %d", i, f)
		}
		fields[f] = true
	}
	all := len(fields) == 0
	w, err := t.s.App.Watch(ctx, principal(ctx), app.WatchOptions{Drones: req.GetDroneIds(), NoEvents: true, Snapshot: true, MaxRateHz: rate})
	if err != nil {
		return err
	}
	defer w.Close()
	out := newWriter(t.s, stream.Send)
	defer out.Close()
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
		if err := out.Send(ctx, sampleOf(*it.State, func(f pb.TelemetryField) bool { return all || fields[f] })); err != nil {
			return err
		}
	}
}

func sampleOf(s fleet.DroneState, want func(pb.TelemetryField) bool) *pb.TelemetrySample {
	out := &pb.TelemetrySample{DroneId: s.ID, At: ts(s.LastSeen)}
	if want(pb.TelemetryField_TELEMETRY_FIELD_POSITION) && s.HasPosition {
		out.Position = &pb.Position{LatDeg: s.Position.Lat, LonDeg: s.Position.Lon, RelAltM: s.Position.RelAlt, AltMslM: opt(s.AltMSL)}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_VELOCITY) {
		out.Velocity = &pb.TelemetryVelocity{NMS: s.VelN, EMS: s.VelE, DMS: s.VelD, GroundSpeedMS: s.GroundSpeed, ClimbMS: s.Climb, HeadingDeg: opt(s.Heading)}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_ATTITUDE) {
		out.Attitude = &pb.TelemetryAttitude{RollRad: s.Roll, PitchRad: s.Pitch, YawRad: s.Yaw}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_BATTERY) {
		out.Battery = &pb.TelemetryBattery{VoltageV: opt(s.Battery.VoltageV), CurrentA: opt(s.Battery.CurrentA), RemainingPct: optInt(s.Battery.RemainingPct, -1)}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_GPS) {
		out.Gps = &pb.TelemetryGps{FixType: uint32(s.GPS.FixType), Satellites: optInt(s.GPS.Satellites, -1), Hdop: opt(s.GPS.HDOP)}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_LINK) {
		out.Link = &pb.TelemetryLink{Up: s.LinkState == fleet.LinkStateUp, RateHz: s.Quality.RateHz, LossPct: s.Quality.LossPct}
	}
	if want(pb.TelemetryField_TELEMETRY_FIELD_STATUS) {
		out.Status = &pb.TelemetryStatus{Mode: s.Mode, Armed: s.Armed, SystemStatus: fleet.SystemStatusName(s.SystemStatus)}
	}
	return out
}

func (t *telemetryServer) GetTrack(ctx context.Context, req *pb.GetTrackRequest) (*pb.GetTrackResponse, error) {
	to := fromTS(req.GetTo())
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if _, ok := pb.TrackFormat_name[int32(req.GetFormat())]; !ok {
		return nil, fleet.Errorf(fleet.Invalid, "format: unknown format %d", req.GetFormat())
	}
	pts, err := t.s.App.GetTrack(ctx, principal(ctx), req.GetDroneId(), fromTS(req.GetFrom()), to, int(req.GetMaxPoints()))
	if err != nil {
		return nil, err
	}
	switch req.GetFormat() {
	case pb.TrackFormat_TRACK_FORMAT_CSV:
		var b bytes.Buffer
		if err := app.WriteTrackCSV(&b, req.GetDroneId(), pts); err != nil {
			return nil, err
		}
		return &pb.GetTrackResponse{Data: b.Bytes(), ContentType: "text/csv"}, nil
	case pb.TrackFormat_TRACK_FORMAT_GEOJSON:
		data, err := app.TrackGeoJSON(req.GetDroneId(), pts)
		if err != nil {
			return nil, err
		}
		return &pb.GetTrackResponse{Data: data, ContentType: "application/geo+json"}, nil
	}
	out := &pb.GetTrackResponse{Points: make([]*pb.TrackPoint, len(pts))}
	for i, p := range pts {
		out.Points[i] = trackPointToPB(p)
	}
	return out, nil
}
