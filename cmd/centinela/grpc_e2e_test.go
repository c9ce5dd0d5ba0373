package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// These tests run a real gRPC client over loopback against the real
// server (server.Start) with simulated drones.

// grpcEnv is a running server with its API and a token of each role.
type grpcEnv struct {
	srv  *server.Server
	addr string
	// Tokens: admin, supervisor, an operator of the drones' agency (own)
	// and one of another agency (other).
	admin, sup, own, other string
}

const testAgency = agencyJoint // every simulated drone's agency (serve's default)

// mustGRPC starts serve with n simulated drones and the gRPC API on a free
// loopback port, and makes a token of each role.
func mustGRPC(t *testing.T, n int, mut func(*server.Config)) *grpcEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Sim = n
	cfg.SimSpeedup = testSpeedup
	cfg.SimBootDelay = 0
	cfg.LinkTimeout = 1500 * time.Millisecond
	cfg.StreamHz = 10
	cfg.GRPC.Addr = "127.0.0.1:0"
	if mut != nil {
		mut(&cfg)
	}
	srv := mustServer(t, cfg)
	e := &grpcEnv{srv: srv, addr: srv.GRPC.Address().String()}
	root := app.Principal{Role: app.RoleAdmin, Label: "test-root"}
	mk := func(role app.Role, agency, label string) string {
		secret, _, err := srv.App.CreateToken(context.Background(), root, role, agency, label)
		if err != nil {
			t.Fatalf("create %s token: %v", role, err)
		}
		return secret
	}
	e.admin = mk(app.RoleAdmin, "", "admin")
	e.sup = mk(app.RoleSupervisor, "", "supervisor")
	e.own = mk(app.RoleOperator, testAgency, "operator-own")
	e.other = mk(app.RoleOperator, agencyMX, "operator-other")
	fix := cfg.SimBootDelay == 0
	eventually(t, 15*time.Second, "every drone discovered (with a position unless booting)", func() bool {
		ds := srv.Fleet.Drones()
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if fix && (!d.HasPosition || !d.HasHome) {
				return false
			}
		}
		return true
	})
	return e
}

func (e *grpcEnv) client(t *testing.T, token string) *proto.Client {
	t.Helper()
	cl, err := proto.Dial(proto.DialOptions{Addr: e.addr, Token: token, Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err is a status of the gRPC code named (and, when
// fleetCode is not "", carries that fleet code in its details) with a
// message.
func wantCode(t *testing.T, err error, grpcCode string, fleetCode fleet.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", grpcCode)
	}
	if got := proto.Code(err); got != grpcCode {
		t.Fatalf("status %s (%v), want %s", got, err, grpcCode)
	}
	var fe *fleet.Error
	if !errors.As(proto.ErrorFromStatus(err), &fe) || fe.Message == "" {
		t.Fatalf("no message in %v", err)
	}
	if fleetCode != "" && fe.Code != fleetCode {
		t.Fatalf("fleet code %s, want %s (%v)", fe.Code, fleetCode, err)
	}
}

// must(call()).get(t) fails the test when call returns an error.
func must[T any](v T, err error) mustResult[T] { return mustResult[T]{v, err} }

type mustResult[T any] struct {
	v   T
	err error
}

func (r mustResult[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%v", proto.ErrorFromStatus(r.err))
	}
	return r.v
}

// drone returns the state of id as the server sees it.
func (e *grpcEnv) drone(t *testing.T, id string) fleet.DroneState {
	d, err := e.srv.Fleet.Drone(id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// armAndTakeoff arms drone id through the API and climbs to alt.
func armAndTakeoff(t *testing.T, cl *proto.Client, id string, alt float64) {
	t.Helper()
	st := must(cl.Control.Arm(tctx(t, 30*time.Second), &pb.ArmRequest{DroneId: id, Wait: durationpb.New(20 * time.Second)})).get(t)
	for {
		m, err := st.Recv()
		if err != nil {
			t.Fatalf("arm %s: %v", id, proto.ErrorFromStatus(err))
		}
		if m.GetArmed() {
			break
		}
	}
	must(cl.Control.Takeoff(tctx(t, 20*time.Second), &pb.TakeoffRequest{DroneId: id, AltitudeM: alt})).get(t)
}

func TestGRPCEveryRPC(t *testing.T) {
	db := filepath.Join(t.TempDir(), "centinela.db")
	e := mustGRPC(t, 3, func(c *server.Config) { c.Store.DB = db })
	op := e.client(t, e.own)
	admin := e.client(t, e.admin)
	sup := e.client(t, e.sup)
	ctx := tctx(t, 2*time.Minute)

	t.Run("Fleet", func(t *testing.T) {
		ls := must(sup.Fleet.ListDrones(ctx, &pb.ListDronesRequest{})).get(t)
		if len(ls.GetDrones()) != 3 {
			t.Fatalf("%d drones", len(ls.GetDrones()))
		}
		d := ls.GetDrones()[0]
		if d.GetId() != "sysid-1" || d.GetAgency() != testAgency || d.GetPosition() == nil || d.GetLinkState() != pb.LinkState_LINK_STATE_UP || d.GetCanCommand() {
			t.Fatalf("drone %v", d)
		}
		if n := len(must(sup.Fleet.ListDrones(ctx, &pb.ListDronesRequest{Agency: agencyMX})).get(t).GetDrones()); n != 0 {
			t.Fatalf("%d drones of %s", n, agencyMX)
		}
		g := must(op.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: "sysid-2"})).get(t).GetDrone()
		if g.GetId() != "sysid-2" || !g.GetCanCommand() || g.GetHome() == nil || g.GetMode() == "" {
			t.Fatalf("GetDrone %v", g)
		}
		if g.GetLastSeen().AsTime().Location() != time.UTC {
			t.Fatal("timestamp not UTC")
		}
		wctx, cancel := context.WithCancel(ctx)
		ws := must(sup.Fleet.WatchFleet(wctx, &pb.WatchFleetRequest{MaxRateHz: 5})).get(t)
		seen := map[string]bool{}
		for len(seen) < 3 {
			m, err := ws.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if d := m.GetDrone(); d != nil {
				seen[d.GetId()] = true
			}
		}
		cancel()
		for {
			if _, err := ws.Recv(); err != nil {
				if proto.Code(err) != "Canceled" {
					t.Fatalf("watch ended with %v", err)
				}
				break
			}
		}
		// The server records events in its store.
		var evs []*pb.Event
		eventually(t, 20*time.Second, "stored discovery events", func() bool {
			evs = must(sup.Fleet.ListEvents(ctx, &pb.ListEventsRequest{Kinds: []string{app.KindDroneDiscovered}})).get(t).GetEvents()
			return len(evs) == 3
		})
		if evs[0].GetAt().AsTime().Location() != time.UTC || evs[0].GetParams()["sys_id"] == "" {
			t.Fatalf("event %v", evs[0])
		}
	})

	t.Run("Control", func(t *testing.T) {
		id := "sysid-1"
		armAndTakeoff(t, op, id, 20)
		eventually(t, 30*time.Second, "climbed", func() bool { return e.drone(t, id).Position.RelAlt > 15 })
		home := e.drone(t, id).Home
		alt := 25.0
		must(op.Control.GoTo(ctx, &pb.GoToRequest{DroneId: id, LatDeg: home.Lat + 0.0005, LonDeg: home.Lon, RelAltM: &alt})).get(t)
		must(op.Control.GoTo(ctx, &pb.GoToRequest{DroneId: id, LatDeg: home.Lat + 0.0003, LonDeg: home.Lon})).get(t) // keeps its altitude
		must(op.Control.Hold(ctx, &pb.HoldRequest{DroneId: id})).get(t)
		must(op.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: id, Mode: "LOITER"})).get(t)
		eventually(t, 10*time.Second, "LOITER", func() bool { return e.drone(t, id).Mode == "LOITER" })
		must(op.Control.EnableFence(ctx, &pb.EnableFenceRequest{DroneId: id, Enable: true})).get(t)
		up := must(op.Control.UploadGeofence(ctx, &pb.UploadGeofenceRequest{DroneId: id})).get(t)
		if up.GetItems() == 0 {
			t.Fatalf("no fence items: %v", up)
		}
		must(op.Control.ReturnToLaunch(ctx, &pb.ReturnToLaunchRequest{DroneId: id})).get(t)
		must(op.Control.Land(ctx, &pb.LandRequest{DroneId: id})).get(t)
		eventually(t, 60*time.Second, "landed", func() bool { return e.drone(t, id).Position.RelAlt < 1 })
		// Disarm in the air is what force is for; on the ground a plain one works.
		must(op.Control.Disarm(ctx, &pb.DisarmRequest{DroneId: id, Force: true})).get(t)
		eventually(t, 10*time.Second, "disarmed", func() bool { return !e.drone(t, id).Armed })
	})

	t.Run("Mission", func(t *testing.T) {
		id := "sysid-2"
		home := e.drone(t, id).Home
		items := []*pb.MissionItem{
			{Command: 16, Frame: 0, LatDeg: home.Lat, LonDeg: home.Lon, AltM: home.AltMSL}, // home
			{Command: 22, Frame: 3, AltM: 20, Autocontinue: true},
			{Command: 16, Frame: 3, LatDeg: home.Lat + 0.001, LonDeg: home.Lon, AltM: 20, Autocontinue: true},
			{Command: 16, Frame: 3, LatDeg: home.Lat + 0.001, LonDeg: home.Lon + 0.001, AltM: 20, Autocontinue: true},
			{Command: 20, Frame: 3, Autocontinue: true},
		}
		st := must(op.Mission.Upload(ctx, &pb.UploadMissionRequest{DroneId: id, Items: items, Progress: true})).get(t)
		var missionID string
		for missionID == "" {
			m, err := st.Recv()
			if err != nil {
				t.Fatalf("upload: %v", proto.ErrorFromStatus(err))
			}
			missionID = m.GetMissionId()
		}
		dl := must(op.Mission.Download(ctx, &pb.DownloadMissionRequest{DroneId: id})).get(t)
		if len(dl.GetItems()) != len(items) || dl.GetItems()[2].GetCommand() != 16 {
			t.Fatalf("downloaded %v", dl.GetItems())
		}
		pctx, pcancel := context.WithCancel(ctx)
		defer pcancel()
		ps := must(sup.Mission.WatchProgress(pctx, &pb.WatchMissionProgressRequest{DroneId: id})).get(t)
		first := must(ps.Recv()).get(t).GetStatus()
		if first.GetMissionId() != missionID {
			t.Fatalf("progress of %q, want %q", first.GetMissionId(), missionID)
		}
		must(op.Mission.Start(tctx(t, time.Minute), &pb.StartMissionRequest{DroneId: id})).get(t)
		for {
			s := must(ps.Recv()).get(t).GetStatus()
			if s.GetState() == pb.MissionState_MISSION_STATE_RUNNING && s.GetCurrentSeq() >= 2 {
				break
			}
		}
		must(op.Mission.Pause(ctx, &pb.PauseMissionRequest{DroneId: id})).get(t)
		eventually(t, 10*time.Second, "paused", func() bool { return e.drone(t, id).Mission.State == fleet.MissionStatePaused })
		must(op.Mission.Resume(ctx, &pb.ResumeMissionRequest{DroneId: id})).get(t)
		eventually(t, 10*time.Second, "running again", func() bool { return e.drone(t, id).Mission.State == fleet.MissionStateRunning })
		must(op.Mission.Abort(ctx, &pb.AbortMissionRequest{DroneId: id})).get(t)
		eventually(t, 10*time.Second, "RTL", func() bool { return e.drone(t, id).Mode == "RTL" })
		must(op.Mission.Clear(ctx, &pb.ClearMissionRequest{DroneId: id})).get(t)
	})

	t.Run("Param", func(t *testing.T) {
		id := "sysid-3"
		ls := must(sup.Param.List(tctx(t, time.Minute), &pb.ListParamsRequest{DroneId: id, Progress: true})).get(t)
		var progress int
		var list []*pb.ParamValue
		for list == nil {
			m := must(ls.Recv()).get(t)
			if m.GetProgress() != nil {
				progress++
			}
			if m.GetParams() != nil {
				list = m.GetParams().GetParams()
			}
		}
		if len(list) < 10 || progress == 0 {
			t.Fatalf("%d params, %d progress messages", len(list), progress)
		}
		g := must(sup.Param.Get(ctx, &pb.GetParamRequest{DroneId: id, Name: "FS_GCS_ENABLE"})).get(t).GetParam()
		if g.GetName() != "FS_GCS_ENABLE" {
			t.Fatalf("got %v", g)
		}
		s := must(op.Param.Set(ctx, &pb.SetParamRequest{DroneId: id, Name: "FS_GCS_ENABLE", Value: 2})).get(t).GetParam()
		if s.GetValue() != 2 {
			t.Fatalf("echo %v", s)
		}
	})

	t.Run("Geofence", func(t *testing.T) {
		zs := must(sup.Geofence.ListZones(ctx, &pb.ListZonesRequest{})).get(t).GetZones()
		if len(zs) < 10 {
			t.Fatalf("%d zones", len(zs))
		}
		if z := must(sup.Geofence.GetZone(ctx, &pb.GetZoneRequest{ZoneId: "apt-mmtj"})).get(t).GetZone(); z.GetCircle() == nil || z.GetKind() != "exclusion" {
			t.Fatalf("apt-mmtj %v", z)
		}
		zone := &pb.Zone{Id: "test-nfz", Name: "test", Kind: "exclusion", Jurisdiction: "US",
			Shape: &pb.Zone_Circle{Circle: &pb.ZoneCircle{Center: &pb.LatLon{LatDeg: 31.5, LonDeg: -110.5}, RadiusM: 300}}}
		must(admin.Geofence.CreateZone(ctx, &pb.CreateZoneRequest{Zone: zone})).get(t)
		_, err := admin.Geofence.CreateZone(ctx, &pb.CreateZoneRequest{Zone: zone})
		wantCode(t, err, "FailedPrecondition", fleet.Conflict)
		zone.Name = "renamed"
		if z := must(admin.Geofence.UpdateZone(ctx, &pb.UpdateZoneRequest{Zone: zone})).get(t).GetZone(); z.GetName() != "renamed" {
			t.Fatalf("updated %v", z)
		}
		cp := must(sup.Geofence.CheckPoint(ctx, &pb.CheckPointRequest{Agency: agencyUS, Position: &pb.Position{LatDeg: 31.5, LonDeg: -110.5, RelAltM: 30}})).get(t)
		if cp.GetAllowed() || cp.GetViolation().GetZoneId() != "test-nfz" {
			t.Fatalf("check point %v", cp)
		}
		must(admin.Geofence.DeleteZone(ctx, &pb.DeleteZoneRequest{ZoneId: "test-nfz"})).get(t)
		_, err = sup.Geofence.GetZone(ctx, &pb.GetZoneRequest{ZoneId: "test-nfz"})
		wantCode(t, err, "NotFound", fleet.NotFound)

		gj := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"imp-1","kind":"exclusion","jurisdiction":"MX","radius_m":200},"geometry":{"type":"Point","coordinates":[-116.9,32.4]}}]}`
		imp := must(admin.Geofence.ImportGeoJSON(ctx, &pb.ImportGeoJSONRequest{Geojson: []byte(gj)})).get(t)
		if len(imp.GetZoneIds()) != 1 || imp.GetZoneIds()[0] != "imp-1" {
			t.Fatalf("imported %v", imp.GetZoneIds())
		}
		ex := must(sup.Geofence.ExportGeoJSON(ctx, &pb.ExportGeoJSONRequest{})).get(t)
		if !strings.Contains(string(ex.GetGeojson()), `"imp-1"`) {
			t.Fatal("export lacks the imported zone")
		}
		// A route from San Diego's US corridor into the Tijuana airport's circle.
		route := []*pb.Position{{LatDeg: 32.56, LonDeg: -117.0, RelAltM: 50}, {LatDeg: 32.541, LonDeg: -116.97, RelAltM: 50}}
		cr := must(sup.Geofence.CheckRoute(ctx, &pb.CheckRouteRequest{Agency: agencyUS, Route: route})).get(t)
		if cr.GetAllowed() || cr.GetViolation() == nil || cr.GetViolation().GetLeg() != 0 || cr.GetViolation().GetAt() == nil {
			t.Fatalf("check route %v", cr)
		}
		must(admin.Geofence.PutAgency(ctx, &pb.PutAgencyRequest{Agency: &pb.Agency{Id: "cbp-test", Name: "test", Jurisdictions: []string{"US"}}})).get(t)
		as := must(sup.Geofence.ListAgencies(ctx, &pb.ListAgenciesRequest{})).get(t).GetAgencies()
		found := false
		for _, a := range as {
			found = found || a.GetId() == "cbp-test"
		}
		if !found {
			t.Fatalf("agencies %v", as)
		}
	})

	t.Run("Telemetry", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st := must(sup.Telemetry.StreamTelemetry(sctx, &pb.StreamTelemetryRequest{DroneIds: []string{"sysid-3"},
			Fields: []pb.TelemetryField{pb.TelemetryField_TELEMETRY_FIELD_POSITION, pb.TelemetryField_TELEMETRY_FIELD_BATTERY}, MaxRateHz: 5})).get(t)
		s := must(st.Recv()).get(t)
		if s.GetDroneId() != "sysid-3" || s.GetPosition() == nil || s.GetBattery() == nil || s.GetAttitude() != nil {
			t.Fatalf("sample %v", s)
		}
		var tr *pb.GetTrackResponse
		eventually(t, 20*time.Second, "a stored track", func() bool {
			tr = must(sup.Telemetry.GetTrack(ctx, &pb.GetTrackRequest{DroneId: "sysid-1"})).get(t)
			return len(tr.GetPoints()) > 0
		})
		if p := tr.GetPoints()[0]; p.GetPosition() == nil || p.GetAt().AsTime().Location() != time.UTC {
			t.Fatalf("track point %v", p)
		}
		csv := must(sup.Telemetry.GetTrack(ctx, &pb.GetTrackRequest{DroneId: "sysid-1", Format: pb.TrackFormat_TRACK_FORMAT_CSV})).get(t)
		if !strings.HasPrefix(string(csv.GetData()), "time,drone_id,lat,lon") || strings.Count(string(csv.GetData()), "\n") < 2 {
			t.Fatalf("CSV track %q", csv.GetData())
		}
		gj := must(sup.Telemetry.GetTrack(ctx, &pb.GetTrackRequest{DroneId: "sysid-1", Format: pb.TrackFormat_TRACK_FORMAT_GEOJSON})).get(t)
		if gj.GetContentType() != "application/geo+json" || !strings.Contains(string(gj.GetData()), `"times"`) {
			t.Fatalf("GeoJSON track %s", gj.GetData())
		}
	})

	t.Run("Admin", func(t *testing.T) {
		tok := must(admin.Admin.CreateToken(ctx, &pb.CreateTokenRequest{Role: pb.Role_ROLE_SUPERVISOR, Label: "made-by-api"})).get(t)
		if tok.GetSecret() == "" {
			t.Fatal("no secret")
		}
		fresh := e.client(t, tok.GetSecret())
		must(fresh.Fleet.ListDrones(ctx, &pb.ListDronesRequest{})).get(t)
		ts := must(admin.Admin.ListTokens(ctx, &pb.ListTokensRequest{})).get(t).GetTokens()
		for _, x := range ts {
			if strings.Contains(x.String(), tok.GetSecret()) {
				t.Fatal("ListTokens shows a secret")
			}
		}
		must(admin.Admin.RevokeToken(ctx, &pb.RevokeTokenRequest{TokenId: tok.GetToken().GetId()})).get(t)
		_, err := fresh.Fleet.ListDrones(ctx, &pb.ListDronesRequest{})
		wantCode(t, err, "Unauthenticated", fleet.Unauthenticated)

		g := must(admin.Admin.CreateGrant(ctx, &pb.CreateGrantRequest{FromAgency: testAgency, ToAgency: agencyMX,
			DroneIds: []string{"sysid-3"}, End: &pb.CreateGrantRequest_Duration{Duration: durationpb.New(time.Hour)}})).get(t).GetGrant()
		if !g.GetActive() || g.GetUntil().AsTime().Location() != time.UTC {
			t.Fatalf("grant %v", g)
		}
		// The granted operator may now command sysid-3.
		other := e.client(t, e.other)
		if d := must(other.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: "sysid-3"})).get(t).GetDrone(); !d.GetCanCommand() {
			t.Fatal("grant not applied")
		}
		if gs := must(other.Admin.ListGrants(ctx, &pb.ListGrantsRequest{})).get(t).GetGrants(); len(gs) != 1 {
			t.Fatalf("grants %v", gs)
		}
		must(admin.Admin.RevokeGrant(ctx, &pb.RevokeGrantRequest{GrantId: g.GetId()})).get(t)
		if d := must(other.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: "sysid-3"})).get(t).GetDrone(); d.GetCanCommand() {
			t.Fatal("revoked grant still applies")
		}
		name := "Halcón 3"
		up := must(admin.Admin.UpdateDrone(ctx, &pb.UpdateDroneRequest{DroneId: "sysid-3", Name: &name})).get(t).GetDrone()
		if up.GetName() != name {
			t.Fatalf("update %v", up)
		}
		eventually(t, 5*time.Second, "renamed", func() bool { return e.drone(t, "sysid-3").Name == name })
		au := must(admin.Admin.QueryAudit(ctx, &pb.QueryAuditRequest{DroneId: "sysid-1"})).get(t).GetEntries()
		var arm bool
		for _, a := range au {
			arm = arm || (a.GetAction() == "Control.Arm" && a.GetLabel() == "operator-own" && a.GetCode() == "")
		}
		if !arm {
			t.Fatalf("audit lacks the arm: %v", au)
		}
	})

	t.Run("Emergency", func(t *testing.T) {
		r := must(admin.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD,
			Scope: &pb.EmergencyRequest_Agency{Agency: testAgency}})).get(t)
		if len(r.GetResults()) != 3 {
			t.Fatalf("results %v", r.GetResults())
		}
		// A drawn polygon around sysid-3's position reaches it alone.
		p := e.drone(t, "sysid-3").Position
		d := 0.002
		poly := &pb.Polygon{Points: []*pb.LatLon{{LatDeg: p.Lat - d, LonDeg: p.Lon - d}, {LatDeg: p.Lat - d, LonDeg: p.Lon + d},
			{LatDeg: p.Lat + d, LonDeg: p.Lon + d}, {LatDeg: p.Lat + d, LonDeg: p.Lon - d}}}
		r = must(admin.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD,
			Scope: &pb.EmergencyRequest_Polygon{Polygon: poly}})).get(t)
		if len(r.GetResults()) != 1 || r.GetResults()[0].GetDroneId() != "sysid-3" {
			t.Fatalf("polygon results %v", r.GetResults())
		}
		_, err := admin.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD})
		wantCode(t, err, "InvalidArgument", fleet.Invalid)
	})
}

// Each error code, from a real cause, with a message, changing nothing.
func TestGRPCErrorCodes(t *testing.T) {
	e := mustGRPC(t, 2, func(c *server.Config) { c.SimBootDelay = 10 * time.Minute }) // no GPS fix for a long while
	op := e.client(t, e.own)
	sup := e.client(t, e.sup)
	admin := e.client(t, e.admin)
	ctx := tctx(t, time.Minute)
	before := e.drone(t, "sysid-1")

	t.Run("InvalidArgument NaN", func(t *testing.T) {
		alt := 20.0
		_, err := op.Control.GoTo(ctx, &pb.GoToRequest{DroneId: "sysid-1", LatDeg: math.NaN(), LonDeg: -117, RelAltM: &alt})
		wantCode(t, err, "InvalidArgument", fleet.Invalid)
		_, err = op.Control.GoTo(ctx, &pb.GoToRequest{DroneId: "sysid-1", LatDeg: 91, LonDeg: -117, RelAltM: &alt})
		wantCode(t, err, "InvalidArgument", fleet.Invalid)
		_, err = op.Control.Takeoff(ctx, &pb.TakeoffRequest{DroneId: "sysid-1", AltitudeM: math.Inf(1)})
		wantCode(t, err, "InvalidArgument", fleet.Invalid)
	})
	t.Run("InvalidArgument GeoJSON", func(t *testing.T) {
		n := len(must(sup.Geofence.ListZones(ctx, &pb.ListZonesRequest{})).get(t).GetZones())
		for _, doc := range []string{`{"type":"FeatureCollection","features":[`, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"bad","kind":"exclusion","jurisdiction":"US"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}`} {
			_, err := admin.Geofence.ImportGeoJSON(ctx, &pb.ImportGeoJSONRequest{Geojson: []byte(doc)})
			wantCode(t, err, "InvalidArgument", fleet.Invalid)
		}
		if m := len(must(sup.Geofence.ListZones(ctx, &pb.ListZonesRequest{})).get(t).GetZones()); m != n {
			t.Fatalf("zones %d → %d after bad imports", n, m)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := sup.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: "no-such-drone"})
		wantCode(t, err, "NotFound", fleet.NotFound)
		_, err = op.Control.Land(ctx, &pb.LandRequest{DroneId: "no-such-drone"})
		wantCode(t, err, "NotFound", fleet.NotFound)
	})
	t.Run("FailedPrecondition conflict", func(t *testing.T) {
		_, err := op.Mission.Pause(ctx, &pb.PauseMissionRequest{DroneId: "sysid-1"})
		wantCode(t, err, "FailedPrecondition", fleet.Conflict)
	})
	t.Run("FailedPrecondition denied", func(t *testing.T) {
		// Pre-arm checks fail (no position yet): the vehicle refuses, its
		// text in the message.
		st := must(op.Control.Arm(ctx, &pb.ArmRequest{DroneId: "sysid-1"})).get(t)
		_, err := st.Recv()
		wantCode(t, err, "FailedPrecondition", fleet.Denied)
		// GetDrone then shows the readiness and the vehicle's last refusal.
		d := must(sup.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: "sysid-1"})).get(t).GetDrone()
		if d.GetPrearmOk() || !strings.HasPrefix(d.GetLastRefusal(), "Arm:") || !strings.Contains(err.Error(), d.GetLastRefusal()) {
			t.Errorf("GetDrone readiness: known=%t ok=%t last_refusal=%q", d.GetPrearmKnown(), d.GetPrearmOk(), d.GetLastRefusal())
		}
	})
	t.Run("Unauthenticated", func(t *testing.T) {
		for _, tok := range []string{"", "cnt_0123456789abcdef_nope", "garbage"} {
			_, err := e.client(t, tok).Fleet.ListDrones(ctx, &pb.ListDronesRequest{})
			wantCode(t, err, "Unauthenticated", fleet.Unauthenticated)
		}
	})
	t.Run("PermissionDenied", func(t *testing.T) {
		_, err := sup.Control.Land(ctx, &pb.LandRequest{DroneId: "sysid-1"})
		wantCode(t, err, "PermissionDenied", fleet.Forbidden)
	})
	t.Run("ResourceExhausted", func(t *testing.T) {
		big := make([]byte, proto.DefaultMaxRecvBytes+1024)
		_, err := admin.Geofence.ImportGeoJSON(ctx, &pb.ImportGeoJSONRequest{Geojson: big})
		wantCode(t, err, "ResourceExhausted", "")
		ids := make([]string, app.MaxWatchDrones+1)
		for i := range ids {
			ids[i] = fmt.Sprintf("d%d", i)
		}
		ws := must(sup.Fleet.WatchFleet(ctx, &pb.WatchFleetRequest{DroneIds: ids})).get(t)
		_, err = ws.Recv()
		wantCode(t, err, "ResourceExhausted", fleet.Exhausted)
	})
	t.Run("DeadlineExceeded", func(t *testing.T) {
		// A stream that never ends on its own ends at its deadline.
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		ws := must(sup.Fleet.WatchFleet(dctx, &pb.WatchFleetRequest{})).get(t)
		var err error
		for err == nil {
			_, err = ws.Recv()
		}
		wantCode(t, err, "DeadlineExceeded", "")
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("deadline honoured late: %s", d)
		}
		// Waiting for pre-arm checks that will not pass: the call ends by
		// its deadline, either as DeadlineExceeded or with the vehicle's
		// last refusal if the server answers first.
		dctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		start = time.Now()
		st, err := op.Control.Arm(dctx, &pb.ArmRequest{DroneId: "sysid-2", Wait: durationpb.New(time.Minute)})
		for err == nil {
			_, err = st.Recv()
		}
		if c := proto.Code(err); c != "DeadlineExceeded" && c != "FailedPrecondition" {
			t.Fatalf("arm past its deadline: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("deadline honoured late: %s", d)
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		e.srv.Swarm.Drone(2).CutLink(time.Minute)
		eventually(t, 10*time.Second, "link lost", func() bool { return e.drone(t, "sysid-2").LinkState == fleet.LinkStateLost })
		_, err := op.Control.Land(ctx, &pb.LandRequest{DroneId: "sysid-2"})
		wantCode(t, err, "Unavailable", fleet.NoDrone)
	})
	t.Run("Unimplemented", func(t *testing.T) {
		_, err := sup.Telemetry.GetTrack(ctx, &pb.GetTrackRequest{DroneId: "sysid-1"})
		wantCode(t, err, "Unimplemented", fleet.Unsupported)
	})
	after := e.drone(t, "sysid-1")
	if after.Armed || after.Mode != before.Mode {
		t.Fatalf("bad requests changed the drone: %s armed=%v → %s armed=%v", before.Mode, before.Armed, after.Mode, after.Armed)
	}
}

// The permission matrix through gRPC for representative RPCs: the
// application layer's codes pass through unchanged.
func TestGRPCPermissions(t *testing.T) {
	e := mustGRPC(t, 1, nil)
	ctx := tctx(t, time.Minute)
	cases := []struct {
		name  string
		token string
		call  func(cl *proto.Client) error
		want  string
	}{
		{"supervisor reads", e.sup, func(cl *proto.Client) error { _, err := cl.Fleet.ListDrones(ctx, &pb.ListDronesRequest{}); return err }, "OK"},
		{"supervisor commands", e.sup, func(cl *proto.Client) error {
			_, err := cl.Control.Hold(ctx, &pb.HoldRequest{DroneId: "sysid-1"})
			return err
		}, "PermissionDenied"},
		{"operator own agency", e.own, func(cl *proto.Client) error {
			_, err := cl.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: "sysid-1", Mode: "GUIDED"})
			return err
		}, "OK"},
		{"operator other agency", e.other, func(cl *proto.Client) error {
			_, err := cl.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: "sysid-1", Mode: "GUIDED"})
			return err
		}, "PermissionDenied"},
		{"operator makes zones", e.own, func(cl *proto.Client) error {
			_, err := cl.Geofence.DeleteZone(ctx, &pb.DeleteZoneRequest{ZoneId: "apt-mmtj"})
			return err
		}, "PermissionDenied"},
		{"operator makes tokens", e.own, func(cl *proto.Client) error {
			_, err := cl.Admin.CreateToken(ctx, &pb.CreateTokenRequest{Role: pb.Role_ROLE_ADMIN, Label: "x"})
			return err
		}, "PermissionDenied"},
		{"admin flies", e.admin, func(cl *proto.Client) error {
			_, err := cl.Control.Hold(ctx, &pb.HoldRequest{DroneId: "sysid-1"})
			return err
		}, "PermissionDenied"},
		{"admin lists tokens", e.admin, func(cl *proto.Client) error { _, err := cl.Admin.ListTokens(ctx, &pb.ListTokensRequest{}); return err }, "OK"},
		{"supervisor emergency", e.sup, func(cl *proto.Client) error {
			_, err := cl.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD, Scope: &pb.EmergencyRequest_All{All: true}})
			return err
		}, "PermissionDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(e.client(t, tc.token))
			if got := proto.Code(err); got != tc.want {
				t.Fatalf("%s (%v), want %s", got, err, tc.want)
			}
		})
	}
	t.Run("grant expired", func(t *testing.T) {
		admin := e.client(t, e.admin)
		g := must(admin.Admin.CreateGrant(ctx, &pb.CreateGrantRequest{FromAgency: testAgency, ToAgency: agencyMX,
			End: &pb.CreateGrantRequest_Duration{Duration: durationpb.New(1500 * time.Millisecond)}})).get(t).GetGrant()
		other := e.client(t, e.other)
		must(other.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: "sysid-1", Mode: "GUIDED"})).get(t)
		time.Sleep(time.Until(g.GetUntil().AsTime().Add(100 * time.Millisecond)))
		_, err := other.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: "sysid-1", Mode: "GUIDED"})
		wantCode(t, err, "PermissionDenied", fleet.Forbidden)
	})
}

// Emergency over 100 drones of two agencies, as an operator (only its own
// reached, the rest skipped) and as an admin, each answered in under 2 s.
func TestGRPCEmergency100(t *testing.T) {
	if testing.Short() {
		t.Skip("100 simulated drones: skipped with -short")
	}
	e := mustGRPC(t, 100, func(c *server.Config) {
		c.DroneAgencies.BySysID = map[uint8]string{}
		for i := 1; i <= 50; i++ {
			c.DroneAgencies.BySysID[uint8(i)] = agencyMX
		}
		c.StreamHz = 2
	})
	ctx := tctx(t, time.Minute)
	other := e.client(t, e.other) // the operator of agencyMX
	start := time.Now()
	r := must(other.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD, Scope: &pb.EmergencyRequest_All{All: true}})).get(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("operator emergency took %s", d)
	}
	counts := map[pb.EmergencyOutcome]int{}
	for _, x := range r.GetResults() {
		counts[x.GetOutcome()]++
		if x.GetOutcome() == pb.EmergencyOutcome_EMERGENCY_OUTCOME_SKIPPED && (x.GetAgency() == agencyMX || x.GetMessage() == "") {
			t.Errorf("skipped %v", x)
		}
	}
	if len(r.GetResults()) != 100 || counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_SKIPPED] != 50 {
		t.Fatalf("operator: %d results, %v", len(r.GetResults()), counts)
	}
	if counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_OK]+counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_FAILED] != 50 {
		t.Fatalf("operator: %v", counts)
	}
	admin := e.client(t, e.admin)
	start = time.Now()
	r = must(admin.Emergency.Act(ctx, &pb.EmergencyRequest{Action: pb.EmergencyAction_EMERGENCY_ACTION_HOLD, Scope: &pb.EmergencyRequest_All{All: true}})).get(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("admin emergency took %s", d)
	}
	for _, x := range r.GetResults() {
		if x.GetOutcome() == pb.EmergencyOutcome_EMERGENCY_OUTCOME_SKIPPED {
			t.Errorf("admin skipped %v", x)
		}
	}
	if len(r.GetResults()) != 100 {
		t.Fatalf("admin: %d results", len(r.GetResults()))
	}
}

// A long WatchFleet of flying drones ends cleanly on cancel with no
// goroutine left; a slow client is coalesced while a fast one keeps up.
func TestGRPCWatchFlying(t *testing.T) {
	e := mustGRPC(t, 3, func(c *server.Config) { c.StreamHz = 20 })
	op := e.client(t, e.own)
	for _, id := range []string{"sysid-1", "sysid-2", "sysid-3"} {
		armAndTakeoff(t, op, id, 15)
	}
	dur := 30 * time.Second
	if testing.Short() {
		dur = 5 * time.Second
	}
	base := runtime.NumGoroutine()
	fast := e.client(t, e.sup)
	// The slow client reads nothing until the end: its 64 KiB window fills
	// and the server's stream for it waits, coalescing each drone's state.
	slow, err := proto.Dial(proto.DialOptions{Addr: e.addr, Token: e.sup, Plaintext: true, WindowBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := &pb.WatchFleetRequest{MaxRateHz: 50}
	fastStream := must(fast.Fleet.WatchFleet(ctx, req)).get(t)
	slowStream := must(slow.Fleet.WatchFleet(ctx, req)).get(t)
	var fastN, fastEvents int
	var fastErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := fastStream.Recv()
			if err != nil {
				fastErr = err
				return
			}
			if m.GetDrone() != nil {
				fastN++
			} else {
				fastEvents++
			}
		}
	}()
	time.Sleep(dur)
	cancel()
	wg.Wait()
	slowN := 0
	var slowErr error
	for {
		m, err := slowStream.Recv()
		if err != nil {
			slowErr = err
			break
		}
		if m.GetDrone() != nil {
			slowN++
		}
	}
	for _, err := range []error{fastErr, slowErr} {
		if proto.Code(err) != "Canceled" {
			t.Errorf("stream ended with %v, want Canceled", err)
		}
	}
	t.Logf("%s: fast %d states %d events; slow %d states", dur, fastN, fastEvents, slowN)
	if min := int(dur.Seconds()) * 3 * 8; fastN < min {
		t.Errorf("fast client got %d states in %s, want at least %d", fastN, dur, min)
	}
	if slowN*2 > fastN {
		t.Errorf("slow client not coalesced: %d states vs the fast one's %d", slowN, fastN)
	}
	fast.Close()
	slow.Close()
	eventually(t, 10*time.Second, "stream goroutines gone", func() bool { return runtime.NumGoroutine() <= base })
	if d := e.drone(t, "sysid-1"); d.LinkState != fleet.LinkStateUp || time.Since(d.LastSeen) > time.Second {
		t.Error("ingest stalled")
	}
}

// "centinela token create" before the server first starts: the token
// works once serve opens the same file.
func TestTokenCreateBeforeServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state", "centinela.db")
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"token", "create", "--db", db, "--role", "admin", "--name", "first-admin"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	secret := strings.TrimSpace(out.String())
	if !strings.HasPrefix(secret, "cnt_") || strings.Contains(errb.String(), secret) {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
	for _, args := range [][]string{{"token", "create", "--db", db}, {"token", "create", "--db", db, "--role", "pilot"}, {"token"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"token", "create", "--db", db, "--role", "operator"}, io.Discard, &errb); code != 1 {
		t.Errorf("operator without agency: exit %d", code)
	}
	e := mustGRPC(t, 1, func(c *server.Config) { c.Store.DB = db })
	ts := must(e.client(t, secret).Admin.ListTokens(tctx(t, 10*time.Second), &pb.ListTokensRequest{})).get(t).GetTokens()
	found := false
	for _, x := range ts {
		found = found || (x.GetLabel() == "first-admin" && x.GetRole() == pb.Role_ROLE_ADMIN)
	}
	if !found {
		t.Fatalf("tokens %v", ts)
	}
}

var _ = geofence.US
var _ = os.Getenv

// A drone busy with a mission transfer answers another one with
// UNAVAILABLE (busy), and the first one completes.
func TestGRPCBusy(t *testing.T) {
	e := mustGRPC(t, 1, nil)
	op := e.client(t, e.own)
	ctx := tctx(t, time.Minute)
	home := e.drone(t, "sysid-1").Home
	items := []*pb.MissionItem{{Command: 16, LatDeg: home.Lat, LonDeg: home.Lon, AltM: home.AltMSL}}
	for i := 0; i < 690; i++ { // the simulator holds 700 items
		items = append(items, &pb.MissionItem{Command: 16, Frame: 3, LatDeg: home.Lat + float64(i%10)*1e-4, LonDeg: home.Lon, AltM: 20, Autocontinue: true})
	}
	st := must(op.Mission.Upload(ctx, &pb.UploadMissionRequest{DroneId: "sysid-1", Items: items, Progress: true})).get(t)
	m := must(st.Recv()).get(t)
	if m.GetProgress() == nil {
		t.Fatalf("first message %v, want progress", m)
	}
	_, err := op.Mission.Download(ctx, &pb.DownloadMissionRequest{DroneId: "sysid-1"})
	wantCode(t, err, "Unavailable", fleet.Busy)
	for m.GetMissionId() == "" {
		m = must(st.Recv()).get(t)
	}
}
