package proto

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// fuzzEnv is a Server's handlers over a real application layer, a
// MemStore and a real fleet of one fake vehicle: us-1 (us-agency), flying
// in GUIDED near San Diego. The fleet's clock stands still (the link never
// times out). What reaches the vehicle is recorded.
type fuzzEnv struct {
	srv *Server
	v   *ft.Vehicle
	who []app.Principal // admin, operator of us-agency, supervisor

	mu   sync.Mutex
	sent []string // problems with what the vehicle received
}

var fuzzEpoch = time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	fclock := ft.NewClock(fuzzEpoch)
	f := &fleet.Fleet{Now: fclock.Now, TickInterval: 5 * time.Millisecond, Names: map[uint8]string{1: "us-1"},
		Agencies: map[uint8]string{1: "us-agency"}, DefaultAgency: "joint-task-force"}
	if err := f.Initialize(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	set, err := geofence.Default(
		geofence.Agency{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		geofence.Agency{ID: "mx-agency", Jurisdictions: []geofence.Jurisdiction{geofence.MX}},
		geofence.Agency{ID: "joint-task-force", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}})
	if err != nil {
		tb.Fatal(err)
	}
	st := app.NewMemStore()
	var bearers []string
	for _, tok := range []struct {
		role   app.Role
		agency string
	}{{app.RoleAdmin, ""}, {app.RoleOperator, "us-agency"}, {app.RoleSupervisor, ""}} {
		b, _, err := app.NewToken(st, fuzzEpoch, tok.role, tok.agency, string(tok.role), "fuzz")
		if err != nil {
			tb.Fatal(err)
		}
		bearers = append(bearers, b)
	}
	a := &app.Service{Fleet: f, Zones: geofence.NewStore(set), Store: st}
	if err := a.Initialize(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	e := &fuzzEnv{srv: &Server{App: a}}
	for _, b := range bearers {
		p, err := a.Authenticate(context.Background(), "Bearer "+b)
		if err != nil {
			tb.Fatal(err)
		}
		e.who = append(e.who, p)
	}
	e.v = ft.NewVehicle("fuzz:link", 1)
	e.v.SetPositionTargetFn = func(_ context.Context, p fleet.Position) error {
		if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) || math.IsNaN(p.RelAlt) || math.IsInf(p.RelAlt, 0) {
			e.problem("position target %+v", p)
		}
		return nil
	}
	e.v.UploadMissionFn = func(_ context.Context, _ fleet.MissionType, items []fleet.MissionItem, _ func(int, int)) error {
		for _, it := range items {
			if err := fleet.CheckMissionItem(it); err != nil {
				e.problem("uploaded %v", err)
			}
		}
		return nil
	}
	e.v.SetParamFn = func(_ context.Context, name string, value float64) (fleet.Param, error) {
		if math.IsNaN(value) || math.IsInf(value, 0) || name == "" || len(name) > 16 {
			e.problem("param %q = %v", name, value)
		}
		return fleet.Param{Name: name, Value: value, Type: 9}, nil
	}
	e.v.CommandFn = func(_ context.Context, c fleet.Command) error {
		p := c.Position
		if c.Kind == fleet.CommandTakeoff || c.Kind == fleet.CommandReposition {
			if !(p.RelAlt > -1000 && p.RelAlt < 20_000) || (c.Kind == fleet.CommandReposition && !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180)) {
				e.problem("command %v at %+v", c.Kind, p)
			}
		}
		if math.IsNaN(c.Speed) || math.IsInf(c.Speed, 0) || c.Interval < 0 {
			e.problem("command %+v", c)
		}
		return nil
	}
	home := fleet.Home{Lat: 32.5600, Lon: -117.0300, AltMSL: 20}
	ft.Feed(f, e.v, ft.Copter(ft.Guided, true, ft.StatusActive), home, ft.Position(time.Second, home.Lat, home.Lon, 50))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s, err := f.Drone("us-1"); err == nil && s.HasPosition && s.HasHome {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("drone us-1 not ready")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return e
}

func (e *fuzzEnv) problem(format string, args ...any) {
	e.mu.Lock()
	e.sent = append(e.sent, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func (e *fuzzEnv) problems() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.sent
	e.sent = nil
	return out
}

// state is what a refused request must not change: the stored
// configuration and what the vehicle was asked to do.
func (e *fuzzEnv) state(ctx context.Context) string {
	a, adm := e.srv.App, e.who[0]
	var b strings.Builder
	zones, _ := a.ListZones(ctx, adm)
	for _, z := range zones {
		fmt.Fprintf(&b, "zone %s %s %v %v %v %v %v|", z.ID, z.Name, z.Kind, z.FloorM, z.CeilingM, len(z.Polygon), z.RadiusM)
	}
	toks, _ := a.ListTokens(ctx, adm)
	for _, t := range toks {
		fmt.Fprintf(&b, "token %s %s %v|", t.ID, t.Role, t.Revoked)
	}
	grants, _ := a.ListGrants(ctx, adm, true)
	for _, g := range grants {
		fmt.Fprintf(&b, "grant %s %v|", g.ID, g.Revoked)
	}
	ags, _ := a.ListAgencies(ctx, adm)
	for _, ag := range ags {
		fmt.Fprintf(&b, "agency %s %s %v|", ag.ID, ag.Name, ag.Jurisdictions)
	}
	cfgs, _ := a.DroneConfigs(ctx, adm)
	for _, c := range cfgs {
		fmt.Fprintf(&b, "config %+v|", c)
	}
	keys, _ := a.ListSigningKeys(ctx, adm)
	for _, k := range keys {
		fmt.Fprintf(&b, "key %d %s|", k.SysID, k.Fingerprint)
	}
	pts, _ := a.ListPatrols(ctx, adm, false)
	for _, p := range pts {
		fmt.Fprintf(&b, "patrol %s|", p.ID) // its state moves on by itself
	}
	user := 0
	for _, k := range e.v.CommandKinds() {
		if k != fleet.CommandRequestMessage && k != fleet.CommandSetMessageInterval {
			user++
		}
	}
	fmt.Fprintf(&b, "vehicle %d %d %d %d %d %d", user, e.v.Calls("SetPositionTarget"), e.v.Calls("UploadMission"),
		e.v.Calls("ClearMission"), e.v.Calls("SetParam"), e.v.Calls("SetCurrentItem"))
	return b.String()
}

// stateDiff lists the parts of two states that differ.
func stateDiff(a, b string) []string {
	as, bs := strings.Split(a, "|"), strings.Split(b, "|")
	var out []string
	for _, x := range as {
		if !slices.Contains(bs, x) {
			out = append(out, "-"+x)
		}
	}
	for _, x := range bs {
		if !slices.Contains(as, x) {
			out = append(out, "+"+x)
		}
	}
	return out
}

// fakeStream is a server stream that keeps what is sent.
type fakeStream[T any] struct {
	grpc.ServerStream
	ctx  context.Context
	sent []*T
}

func (s *fakeStream[T]) Context() context.Context { return s.ctx }
func (s *fakeStream[T]) Send(m *T) error {
	if len(s.sent) > 10_000 {
		return status.Error(codes.ResourceExhausted, "too many messages")
	}
	s.sent = append(s.sent, m)
	return nil
}

// fuzzCall is one API method: the request it decodes and how to call it.
type fuzzCall struct {
	name string
	req  func() proto.Message
	call func(e *fuzzEnv, ctx context.Context, req proto.Message) error
}

func unary[Req, Resp any](fn func(ctx context.Context, req *Req) (Resp, error)) func(*fuzzEnv, context.Context, proto.Message) error {
	return func(_ *fuzzEnv, ctx context.Context, m proto.Message) error {
		_, err := fn(ctx, any(m).(*Req))
		return err
	}
}

// fuzzCalls lists the methods FuzzRequests calls. Append new ones at the
// end: the committed corpus (testdata/fuzz/FuzzRequests) names a method by
// its index.
func fuzzCalls(e *fuzzEnv) []fuzzCall {
	s := e.srv
	ctl, mis, par := &controlServer{s: s}, &missionServer{s: s}, &paramServer{s: s}
	geo, adm, pat := &geofenceServer{s: s}, &adminServer{s: s}, &patrolServer{s: s}
	flt, emg, tel := &fleetServer{s: s}, &emergencyServer{s: s}, &telemetryServer{s: s}
	return []fuzzCall{
		{"Control.GoTo", func() proto.Message { return &pb.GoToRequest{} }, unary(ctl.GoTo)},
		{"Control.Takeoff", func() proto.Message { return &pb.TakeoffRequest{} }, unary(ctl.Takeoff)},
		{"Control.SetMode", func() proto.Message { return &pb.SetModeRequest{} }, unary(ctl.SetMode)},
		{"Control.Disarm", func() proto.Message { return &pb.DisarmRequest{} }, unary(ctl.Disarm)},
		{"Control.EnableFence", func() proto.Message { return &pb.EnableFenceRequest{} }, unary(ctl.EnableFence)},
		{"Control.Arm", func() proto.Message { return &pb.ArmRequest{} }, func(_ *fuzzEnv, ctx context.Context, m proto.Message) error {
			return ctl.Arm(m.(*pb.ArmRequest), &fakeStream[pb.ArmResponse]{ctx: ctx})
		}},
		{"Mission.Upload", func() proto.Message { return &pb.UploadMissionRequest{} }, func(_ *fuzzEnv, ctx context.Context, m proto.Message) error {
			return mis.Upload(m.(*pb.UploadMissionRequest), &fakeStream[pb.UploadMissionResponse]{ctx: ctx})
		}},
		{"Mission.Clear", func() proto.Message { return &pb.ClearMissionRequest{} }, unary(mis.Clear)},
		{"Mission.Start", func() proto.Message { return &pb.StartMissionRequest{} }, unary(mis.Start)},
		{"Param.Set", func() proto.Message { return &pb.SetParamRequest{} }, unary(par.Set)},
		{"Param.Get", func() proto.Message { return &pb.GetParamRequest{} }, unary(par.Get)},
		{"Geofence.CreateZone", func() proto.Message { return &pb.CreateZoneRequest{} }, unary(geo.CreateZone)},
		{"Geofence.UpdateZone", func() proto.Message { return &pb.UpdateZoneRequest{} }, unary(geo.UpdateZone)},
		{"Geofence.DeleteZone", func() proto.Message { return &pb.DeleteZoneRequest{} }, unary(geo.DeleteZone)},
		{"Geofence.ImportGeoJSON", func() proto.Message { return &pb.ImportGeoJSONRequest{} }, unary(geo.ImportGeoJSON)},
		{"Geofence.CheckPoint", func() proto.Message { return &pb.CheckPointRequest{} }, unary(geo.CheckPoint)},
		{"Geofence.CheckRoute", func() proto.Message { return &pb.CheckRouteRequest{} }, unary(geo.CheckRoute)},
		{"Geofence.PutAgency", func() proto.Message { return &pb.PutAgencyRequest{} }, unary(geo.PutAgency)},
		{"Admin.CreateToken", func() proto.Message { return &pb.CreateTokenRequest{} }, unary(adm.CreateToken)},
		{"Admin.RevokeToken", func() proto.Message { return &pb.RevokeTokenRequest{} }, unary(adm.RevokeToken)},
		{"Admin.CreateGrant", func() proto.Message { return &pb.CreateGrantRequest{} }, unary(adm.CreateGrant)},
		{"Admin.QueryAudit", func() proto.Message { return &pb.QueryAuditRequest{} }, unary(adm.QueryAudit)},
		{"Admin.UpdateDrone", func() proto.Message { return &pb.UpdateDroneRequest{} }, unary(adm.UpdateDrone)},
		{"Admin.CreateSigningKey", func() proto.Message { return &pb.CreateSigningKeyRequest{} }, unary(adm.CreateSigningKey)},
		{"Patrol.PlanPatrol", func() proto.Message { return &pb.PlanPatrolRequest{} }, unary(pat.PlanPatrol)},
		{"Patrol.Dispatch", func() proto.Message { return &pb.DispatchPatrolRequest{} }, unary(pat.Dispatch)},
		{"Patrol.ImportPlan", func() proto.Message { return &pb.ImportPlanRequest{} }, unary(pat.ImportPlan)},
		{"Patrol.Cancel", func() proto.Message { return &pb.CancelPatrolRequest{} }, unary(pat.Cancel)},
		{"Fleet.ListEvents", func() proto.Message { return &pb.ListEventsRequest{} }, unary(flt.ListEvents)},
		{"Fleet.AckAlert", func() proto.Message { return &pb.AckAlertRequest{} }, unary(flt.AckAlert)},
		{"Emergency.Act", func() proto.Message { return &pb.EmergencyRequest{} }, unary(emg.Act)},
		{"Telemetry.GetTrack", func() proto.Message { return &pb.GetTrackRequest{} }, unary(tel.GetTrack)},
	}
}

// fuzzSeeds are valid requests (and a few wrong ones) for the seed corpus,
// by method name.
func fuzzSeeds() map[string][]proto.Message {
	f64 := func(v float64) *float64 { return &v }
	ring := &pb.Ring{Points: []*pb.LatLon{{LatDeg: 32.55, LonDeg: -117.05}, {LatDeg: 32.56, LonDeg: -117.05}, {LatDeg: 32.56, LonDeg: -117.04}}}
	item := func(seq uint32, cmd uint32, lat, lon, alt float64) *pb.MissionItem {
		return &pb.MissionItem{Seq: seq, Frame: 3, Command: cmd, Autocontinue: true, LatDeg: lat, LonDeg: lon, AltM: alt}
	}
	return map[string][]proto.Message{
		"Control.GoTo": {&pb.GoToRequest{DroneId: "us-1", LatDeg: 32.561, LonDeg: -117.031, RelAltM: f64(40)},
			&pb.GoToRequest{DroneId: "us-1", LatDeg: 32.561, LonDeg: -117.031},
			&pb.GoToRequest{DroneId: "us-1", LatDeg: math.NaN(), LonDeg: 200, RelAltM: f64(math.Inf(1))}},
		"Control.Takeoff":     {&pb.TakeoffRequest{DroneId: "us-1", AltitudeM: 30}, &pb.TakeoffRequest{DroneId: "us-1", AltitudeM: math.NaN()}},
		"Control.SetMode":     {&pb.SetModeRequest{DroneId: "us-1", Mode: "LOITER"}, &pb.SetModeRequest{DroneId: "us-1", Mode: "\x00"}},
		"Control.Disarm":      {&pb.DisarmRequest{DroneId: "us-1"}},
		"Control.EnableFence": {&pb.EnableFenceRequest{DroneId: "us-1", Enable: true}},
		"Control.Arm":         {&pb.ArmRequest{DroneId: "us-1"}, &pb.ArmRequest{DroneId: "us-1", Wait: durationpb.New(-time.Second)}},
		"Mission.Upload": {&pb.UploadMissionRequest{DroneId: "us-1", Type: pb.PlanType_PLAN_TYPE_MISSION, Items: []*pb.MissionItem{
			{Seq: 0, Frame: 0, Command: 16, LatDeg: 32.56, LonDeg: -117.03}, item(1, 22, 0, 0, 30), item(2, 16, 32.561, -117.031, 40), item(3, 20, 0, 0, 0)}},
			&pb.UploadMissionRequest{DroneId: "us-1", Type: pb.PlanType_PLAN_TYPE_MISSION, Items: []*pb.MissionItem{
				item(0, 16, 32.56, -117.03, 0), item(1, 16, math.NaN(), 1e9, math.Inf(-1)), item(7, 99999, 0, 0, 0)}},
			&pb.UploadMissionRequest{DroneId: "us-1", Type: pb.PlanType_PLAN_TYPE_FENCE, Items: []*pb.MissionItem{
				{Command: 5001, Frame: 0, Param1: 3, LatDeg: 32.55, LonDeg: -117.05}}}},
		"Mission.Clear": {&pb.ClearMissionRequest{DroneId: "us-1", Type: pb.PlanType_PLAN_TYPE_RALLY}},
		"Mission.Start": {&pb.StartMissionRequest{DroneId: "us-1"}},
		"Param.Set":     {&pb.SetParamRequest{DroneId: "us-1", Name: "WPNAV_SPEED", Value: 500}, &pb.SetParamRequest{DroneId: "us-1", Name: "X", Value: math.Inf(1)}},
		"Param.Get":     {&pb.GetParamRequest{DroneId: "us-1", Name: "WPNAV_SPEED"}},
		"Geofence.CreateZone": {&pb.CreateZoneRequest{Zone: &pb.Zone{Id: "fz-1", Name: "test", Kind: "exclusion", Jurisdiction: "US",
			CeilingM: 120, Shape: &pb.Zone_Polygon{Polygon: &pb.ZonePolygon{Rings: []*pb.Ring{ring}}}}},
			&pb.CreateZoneRequest{Zone: &pb.Zone{Id: "fz-2", Kind: "exclusion", Jurisdiction: "US", FloorM: 50, CeilingM: 10,
				Shape: &pb.Zone_Circle{Circle: &pb.ZoneCircle{Center: &pb.LatLon{LatDeg: 32.55, LonDeg: -117.05}, RadiusM: math.NaN()}}}}},
		"Geofence.UpdateZone": {&pb.UpdateZoneRequest{Zone: &pb.Zone{Id: "fz-1", Name: "moved", Kind: "exclusion", Jurisdiction: "US",
			CeilingM: 120, Shape: &pb.Zone_Circle{Circle: &pb.ZoneCircle{Center: &pb.LatLon{LatDeg: 32.55, LonDeg: -117.05}, RadiusM: 200}}}}},
		"Geofence.DeleteZone": {&pb.DeleteZoneRequest{ZoneId: "fz-1"}},
		"Geofence.ImportGeoJSON": {&pb.ImportGeoJSONRequest{Geojson: []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"gj-1","kind":"exclusion","jurisdiction":"US"},"geometry":{"type":"Point","coordinates":[-117.05,32.55]}}]}`)},
			&pb.ImportGeoJSONRequest{Geojson: []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"gj-1","kind":"exclusion","jurisdiction":"US","radius_m":300,"ceiling_m":120},"geometry":{"type":"Point","coordinates":[-117.05,32.55]}}]}`)}},
		"Geofence.CheckPoint": {&pb.CheckPointRequest{Agency: "us-agency", Position: &pb.Position{LatDeg: 32.56, LonDeg: -117.03, RelAltM: 50}}},
		"Geofence.CheckRoute": {&pb.CheckRouteRequest{Agency: "us-agency", Route: []*pb.Position{{LatDeg: 32.56, LonDeg: -117.03, RelAltM: 50},
			{LatDeg: 32.50, LonDeg: -117.03, RelAltM: 50}}}},
		"Geofence.PutAgency":     {&pb.PutAgencyRequest{Agency: &pb.Agency{Id: "cbp-sd", Name: "CBP San Diego", Jurisdictions: []string{"US"}}}},
		"Admin.CreateToken":      {&pb.CreateTokenRequest{Role: pb.Role_ROLE_OPERATOR, Agency: "us-agency", Label: "op"}},
		"Admin.RevokeToken":      {&pb.RevokeTokenRequest{TokenId: "nope"}},
		"Admin.CreateGrant":      {&pb.CreateGrantRequest{FromAgency: "us-agency", ToAgency: "mx-agency", DroneIds: []string{"us-1"}, End: &pb.CreateGrantRequest_Duration{Duration: durationpb.New(time.Hour)}}},
		"Admin.QueryAudit":       {&pb.QueryAuditRequest{DroneId: "us-1", Limit: 10}},
		"Admin.UpdateDrone":      {&pb.UpdateDroneRequest{DroneId: "us-1", Name: proto.String("Águila 1"), Profile: &pb.Profile{CruiseSpeedMS: 12, Endurance: durationpb.New(30 * time.Minute), ReservePct: 20}}},
		"Admin.CreateSigningKey": {&pb.CreateSigningKeyRequest{SysId: 1}},
		"Patrol.PlanPatrol": {&pb.PlanPatrolRequest{Spec: &pb.PatrolSpec{Kind: pb.PatrolKind_PATROL_KIND_PERIMETER, Agency: "us-agency",
			Drones: []*pb.PlanDrone{{Id: "d", Home: &pb.LatLon{LatDeg: 32.548, LonDeg: -117.0293}}},
			Area:   &pb.ZonePolygon{Rings: []*pb.Ring{{Points: []*pb.LatLon{{LatDeg: 32.544, LonDeg: -117.066}, {LatDeg: 32.556, LonDeg: -117.066}, {LatDeg: 32.556, LonDeg: -117.054}, {LatDeg: 32.544, LonDeg: -117.054}}}}},
			Laps:   2, Endurance: durationpb.New(2 * time.Hour)}}},
		"Patrol.Dispatch": {&pb.DispatchPatrolRequest{Spec: &pb.PatrolSpec{Kind: pb.PatrolKind_PATROL_KIND_TRANSIT, Agency: "us-agency",
			DroneIds: []string{"us-1"}, To: &pb.LatLon{LatDeg: 32.57, LonDeg: -117.03}, Endurance: durationpb.New(time.Hour)}},
			&pb.DispatchPatrolRequest{Spec: &pb.PatrolSpec{Kind: pb.PatrolKind_PATROL_KIND_TRANSIT, Agency: "us-agency",
				DroneIds: []string{"us-1"}, To: &pb.LatLon{LatDeg: 32.57, LonDeg: -117.03}}, MaxDelay: durationpb.New(-time.Hour)}},
		"Patrol.ImportPlan":  {&pb.ImportPlanRequest{DroneId: "us-1", Plan: []byte(`{"fileType":"Plan","version":1,"mission":{"version":2,"items":[{"type":"SimpleItem","command":22,"frame":3,"params":[0,0,0,0,0,0,30]}]}}`)}},
		"Patrol.Cancel":      {&pb.CancelPatrolRequest{PatrolId: "p-1"}},
		"Fleet.ListEvents":   {&pb.ListEventsRequest{DroneId: "us-1", Kinds: []string{"link_lost"}, Limit: 5}},
		"Fleet.AckAlert":     {&pb.AckAlertRequest{AlertId: "us-1.link_lost.1"}},
		"Emergency.Act":      {&pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD, Scope: &pb.EmergencyRequest_Polygon{Polygon: &pb.Polygon{Points: ring.Points}}}},
		"Telemetry.GetTrack": {&pb.GetTrackRequest{DroneId: "us-1", Format: pb.TrackFormat_TRACK_FORMAT_CSV, MaxPoints: 10}},
	}
}

// FuzzRequests: no request of any principal to any of the API's validating
// methods (decoded from fuzzed bytes, as gRPC would) makes a handler panic
// or answer INTERNAL/UNKNOWN; every error maps to a status with a message;
// a request refused as invalid changes nothing (configuration, tokens,
// grants, zones, patrols, what the vehicle was told); and whatever reaches
// the vehicle is finite and on the globe.
func FuzzRequests(f *testing.F) {
	e := newFuzzEnv(f)
	calls := fuzzCalls(e)
	seeds := fuzzSeeds()
	for i, c := range calls {
		for _, m := range seeds[c.name] {
			b, err := proto.Marshal(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), uint8(0), b)
			f.Add(uint8(i), uint8(1), b)
		}
	}
	f.Fuzz(func(t *testing.T, method, who uint8, data []byte) {
		c := calls[int(method)%len(calls)]
		req := c.req()
		if proto.Unmarshal(data, req) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		before := e.state(ctx)
		e.problems()
		pctx := context.WithValue(ctx, principalKey{}, e.who[int(who)%len(e.who)])
		err := c.call(e, pctx, req)
		for _, p := range e.problems() {
			t.Errorf("%s %v: the vehicle got %s", c.name, req, p)
		}
		if err == nil {
			return
		}
		st, internal := statusError(err)
		s, _ := status.FromError(st)
		if internal || s.Code() == codes.Internal || s.Code() == codes.Unknown || s.Code() == codes.OK || s.Message() == "" {
			t.Fatalf("%s %v: %v (%T %v)", c.name, req, st, err, err)
		}
		if s.Code() == codes.InvalidArgument {
			if after := e.state(ctx); after != before {
				t.Fatalf("%s %v refused (%v) but changed the state: %v", c.name, req, err, stateDiff(before, after))
			}
		}
	})
}
