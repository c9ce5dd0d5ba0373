package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
	"github.com/centinela-gcs/centinela/sim"
)

// These tests restart the server on one --db while a simulated drone,
// in its own Swarm (it outlives the server), keeps flying a patrol. The
// server reaches it through a relay that counts what it sends, so a
// re-upload would show as MISSION_COUNT.

// MAVLink message ids of the mission upload (server to drone).
const (
	idMissionCount   = 44
	idMissionItemInt = 73
)

// restartRig is a drone flying on its own and the relay in front of it.
type restartRig struct {
	db    string
	drone *sim.Drone
	relay *udpProxy
}

// restartSpeedup keeps a perimeter patrol (about 3 minutes of simulated
// flight) long enough in wall-clock time for a restart in the middle.
const restartSpeedup = 10

func mustRestartRig(t *testing.T) *restartRig {
	t.Helper()
	h, err := parseHome(patrolHome)
	if err != nil {
		t.Fatal(err)
	}
	swarm := mustSwarm(t, sim.Config{Listen: "udp:127.0.0.1:0", Home: &h, BootDelay: -1, Seed: 17, Speedup: restartSpeedup})
	d := swarm.Drones()[0]
	return &restartRig{db: filepath.Join(t.TempDir(), "centinela.db"), drone: d, relay: mustProxy(t, d.Addr())}
}

// start starts a server on the rig's database (or none, db false), its
// gRPC API on a free port and its MAVLink link to the drone through the
// relay, and waits for the drone with a position and home.
func (r *restartRig) start(t *testing.T, db bool) *server.Server {
	t.Helper()
	cfg := testServeConfig("udpout:" + r.relay.Addr())
	cfg.GRPC.Addr = "127.0.0.1:0"
	cfg.Store.DB = ""
	if db {
		cfg.Store.DB = r.db
	}
	srv := mustServer(t, cfg)
	eventually(t, 15*time.Second, "drone discovered with a position and home", func() bool {
		ds := srv.Fleet.Drones()
		return len(ds) == 1 && ds[0].HasPosition && ds[0].HasHome && ds[0].LinkState == fleet.LinkStateUp
	})
	return srv
}

// grpcOf returns srv's API as a grpcEnv (for its client helper).
func grpcOf(srv *server.Server) *grpcEnv {
	return &grpcEnv{srv: srv, addr: srv.GRPC.Address().String()}
}

// setupState is what the first run configures through the API.
type setupState struct {
	admin, opUS, opMX string // bearer tokens
	grantID           string
	patrol            *pb.PatrolInfo
}

const restartDrone = "sysid-1"

// configure names the drone and moves it to the US agency, imports a
// zone, issues tokens, grants the MX agency control, and dispatches a
// patrol, all through the gRPC API; it returns once the patrol's mission
// flies its second leg.
func configure(t *testing.T, srv *server.Server) setupState {
	t.Helper()
	root := app.Principal{Role: app.RoleAdmin, Label: "test-root"}
	boot, _, err := srv.App.CreateToken(context.Background(), root, app.RoleAdmin, "", "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	e := grpcOf(srv)
	ctx := tctx(t, 30*time.Second)
	var st setupState
	mk := func(role pb.Role, agency, label string) string {
		return must(e.client(t, boot).Admin.CreateToken(ctx, &pb.CreateTokenRequest{Role: role, Agency: agency, Label: label})).get(t).GetSecret()
	}
	st.admin = mk(pb.Role_ROLE_ADMIN, "", "admin")
	st.opUS = mk(pb.Role_ROLE_OPERATOR, agencyUS, "operator-us")
	st.opMX = mk(pb.Role_ROLE_OPERATOR, agencyMX, "operator-mx")
	admin := e.client(t, st.admin)
	name, agency := "Halcón 1", agencyUS
	must(admin.Admin.UpdateDrone(ctx, &pb.UpdateDroneRequest{DroneId: restartDrone, Name: &name, Agency: &agency})).get(t)
	eventually(t, 5*time.Second, "name and agency applied", func() bool {
		d := droneState(t, srv.Fleet, restartDrone)
		return d.Name == name && d.Agency == agencyUS
	})
	gj := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"restart-nfz","kind":"exclusion","jurisdiction":"US","radius_m":150},"geometry":{"type":"Point","coordinates":[-116.95,32.56]}}]}`
	must(admin.Geofence.ImportGeoJSON(ctx, &pb.ImportGeoJSONRequest{Geojson: []byte(gj)})).get(t)
	st.grantID = must(admin.Admin.CreateGrant(ctx, &pb.CreateGrantRequest{FromAgency: agencyUS, ToAgency: agencyMX,
		DroneIds: []string{restartDrone}, End: &pb.CreateGrantRequest_Duration{Duration: durationpb.New(time.Hour)}})).get(t).GetGrant().GetId()

	d := must(e.client(t, st.opUS).Patrol().Dispatch(tctx(t, 60*time.Second), &pb.DispatchPatrolRequest{Spec: perimeterSpec(restartDrone)})).get(t)
	if len(d.GetPatrols()) != 1 || d.GetPatrols()[0].GetState() != pb.PatrolState_PATROL_STATE_FLYING || d.GetPatrols()[0].GetMissionId() == "" {
		t.Fatalf("dispatched %v", d.GetPatrols())
	}
	st.patrol = d.GetPatrols()[0]
	eventually(t, 30*time.Second, "the patrol's mission past its first waypoints", func() bool {
		ms := droneState(t, srv.Fleet, restartDrone).Mission
		return ms.MissionID == st.patrol.GetMissionId() && ms.State == fleet.MissionStateRunning && ms.Done >= 2
	})
	return st
}

// stopWhileFlying closes srv (as SIGTERM does) and waits until the drone,
// unheard, has flown on to another item.
func (r *restartRig) stopWhileFlying(t *testing.T, srv *server.Server) int {
	t.Helper()
	seq := r.drone.State().MissionSeq
	srv.Close()
	eventually(t, 20*time.Second, "the drone flying on without a server", func() bool {
		s := r.drone.State()
		return s.MissionSeq > seq && s.Mode == sim.ModeAuto && s.Armed
	})
	return r.drone.State().MissionSeq
}

// Restart: what was configured through the API is all there after a
// graceful stop and a start on the same --db, and the patrol's mission,
// flown on by the drone meanwhile, is re-synced under the same mission id
// with its progress continuing, without a re-upload.
func TestRestartKeepsSetupAndResyncsPatrol(t *testing.T) {
	t.Parallel()
	r := mustRestartRig(t)
	srv := r.start(t, true)
	st := configure(t, srv)
	mid, pid := st.patrol.GetMissionId(), st.patrol.GetId()
	uploads, items := r.relay.Count(fromClient, idMissionCount), r.relay.Count(fromClient, idMissionItemInt)
	if uploads == 0 || items == 0 {
		t.Fatalf("the dispatch sent %d MISSION_COUNT, %d MISSION_ITEM_INT: is the relay in the path?", uploads, items)
	}
	downloads := r.relay.Count(fromClient, idMissionRequestList)
	seqDown := r.stopWhileFlying(t, srv)

	restarted := time.Now()
	srv = r.start(t, true)
	ev := record(t, srv.Fleet)
	e := grpcOf(srv)
	ctx := tctx(t, 30*time.Second)
	admin, opUS, opMX := e.client(t, st.admin), e.client(t, st.opUS), e.client(t, st.opMX)

	// Setup: the old bearers work, name and agency, zone, grant.
	if n := len(must(admin.Admin.ListTokens(ctx, &pb.ListTokensRequest{})).get(t).GetTokens()); n != 4 {
		t.Errorf("%d tokens after restart, want 4", n)
	}
	eventually(t, 5*time.Second, "stored name and agency", func() bool {
		d := droneState(t, srv.Fleet, restartDrone)
		return d.Name == "Halcón 1" && d.Agency == agencyUS
	})
	if z := must(opUS.Geofence.GetZone(ctx, &pb.GetZoneRequest{ZoneId: "restart-nfz"})).get(t).GetZone(); z.GetId() != "restart-nfz" {
		t.Errorf("imported zone after restart: %v", z)
	}
	grants := must(admin.Admin.ListGrants(ctx, &pb.ListGrantsRequest{})).get(t).GetGrants()
	if len(grants) != 1 || grants[0].GetId() != st.grantID || !grants[0].GetActive() {
		t.Errorf("grants after restart: %v", grants)
	}
	if d := must(opMX.Fleet.GetDrone(ctx, &pb.GetDroneRequest{DroneId: restartDrone})).get(t).GetDrone(); !d.GetCanCommand() {
		t.Error("the MX operator's grant does not apply after restart")
	}

	// The patrol and its reserved volume.
	got := must(opUS.Patrol().GetPatrol(ctx, &pb.GetPatrolRequest{PatrolId: pid})).get(t).GetPatrol()
	if got.GetState() != pb.PatrolState_PATROL_STATE_FLYING || got.GetMissionId() != mid || got.GetDispatchedBy() != "operator-us" {
		t.Fatalf("patrol after restart: %v", got)
	}
	pv := must(opUS.Patrol().PlanPatrol(ctx, &pb.PlanPatrolRequest{Spec: perimeterSpec(restartDrone)})).get(t)
	if len(pv.GetConflicts()) != 1 || pv.GetConflicts()[0].GetPatrolId() != pid {
		t.Fatalf("a preview over the patrol's area meets %v, want %s", pv.GetConflicts(), pid)
	}

	// The mission: re-synced (downloaded), the same id, running from where
	// the drone is, and progressing.
	eventually(t, 15*time.Second, "the stored mission re-synced and running", func() bool {
		ms := droneState(t, srv.Fleet, restartDrone).Mission
		return ms.MissionID != "" && ms.State == fleet.MissionStateRunning
	})
	ms := droneState(t, srv.Fleet, restartDrone).Mission
	if ms.MissionID != mid || ms.CurrentSeq < seqDown {
		t.Fatalf("mission after restart %+v (the drone was at item %d), want %s", ms, seqDown, mid)
	}
	reached, _ := await(t, ev, 30*time.Second, 0, func(e fleet.MissionItemReachedEvent) bool {
		return e.DroneID == restartDrone && e.Seq > seqDown
	})
	if reached.MissionID != mid {
		t.Errorf("progress reported for %s, want %s", reached.MissionID, mid)
	}
	// Nothing uploaded and no difference since the restart, in the history.
	// (A plan recorded as adopted would be a "mission_resynced" record.)
	for _, h := range must(admin.Fleet.ListEvents(ctx, &pb.ListEventsRequest{DroneId: restartDrone, From: timestamppb.New(restarted)})).get(t).GetEvents() {
		switch h.GetKind() {
		case app.KindMissionUploaded, app.KindMissionMismatch, store.KindMissionResynced:
			t.Errorf("after the restart: %s %v", h.GetKind(), h.GetParams())
		}
	}
	if n := r.relay.Count(fromClient, idMissionRequestList); n <= downloads {
		t.Error("the plan was not downloaded after the restart")
	}
	if n, m := r.relay.Count(fromClient, idMissionCount), r.relay.Count(fromClient, idMissionItemInt); n != uploads || m != items {
		t.Errorf("the drone got %d MISSION_COUNT and %d MISSION_ITEM_INT after the restart: a re-upload", n-uploads, m-items)
	}
	must(opUS.Patrol().Cancel(tctx(t, 20*time.Second), &pb.CancelPatrolRequest{PatrolId: pid})).get(t)
}

// A plan changed behind the server's back while it was down (another
// ground station, here a second server without the database, uploads
// one): after the restart the difference is reported naming the stored
// mission and the new one, the vehicle's plan is tracked under the new
// id, and the patrol ends as interrupted, saying why.
func TestRestartReportsChangedPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight over three servers: skipped with -short")
	}
	t.Parallel()
	r := mustRestartRig(t)
	srv := r.start(t, true)
	st := configure(t, srv)
	mid, pid := st.patrol.GetMissionId(), st.patrol.GetId()
	r.stopWhileFlying(t, srv)

	other := r.start(t, false)
	eventually(t, 15*time.Second, "the other station adopted the flying plan", func() bool {
		return droneState(t, other.Fleet, restartDrone).Mission.Items > 0
	})
	plan, err := other.Fleet.MissionPlan(restartDrone)
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for i := len(plan) - 1; i > 1 && !moved; i-- {
		if plan[i].Command == fleet.CmdNavWaypoint {
			plan[i].Lat += 0.0003 // about 33 m north
			moved = true
		}
	}
	if !moved {
		t.Fatalf("no waypoint to move in %d items", len(plan))
	}
	changed, err := other.Fleet.UploadMission(opCtx(t, 20*time.Second), restartDrone, fleet.MissionTypeMission, plan, fleet.UploadOptions{SkipGuard: true})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()

	srv = r.start(t, true)
	opUS := grpcOf(srv).client(t, st.opUS)
	ctx := tctx(t, 30*time.Second)
	// The difference, in the event history (recorded from the start).
	var mm *pb.Event
	eventually(t, 15*time.Second, "the difference reported", func() bool {
		evs := must(opUS.Fleet.ListEvents(ctx, &pb.ListEventsRequest{DroneId: restartDrone, Kinds: []string{app.KindMissionMismatch}})).get(t).GetEvents()
		for _, e := range evs {
			if e.GetParams()["mission_id"] == mid {
				mm = e
			}
		}
		return mm != nil
	})
	newID := mm.GetParams()["new_mission_id"]
	if newID == "" || newID == mid || newID == changed || mm.GetParams()["diff"] == "" {
		t.Fatalf("mismatch %v, want the stored %s, a new id and the difference", mm.GetParams(), mid)
	}
	eventually(t, 10*time.Second, "the vehicle's plan tracked under the new id", func() bool {
		return droneState(t, srv.Fleet, restartDrone).Mission.MissionID == newID
	})
	eventually(t, 10*time.Second, "the patrol interrupted", func() bool {
		p := must(opUS.Patrol().GetPatrol(ctx, &pb.GetPatrolRequest{PatrolId: pid})).get(t).GetPatrol()
		return p.GetState() == pb.PatrolState_PATROL_STATE_INTERRUPTED && p.GetReason() != ""
	})
}

// A patrol re-syncs as the vehicle reports its mission after a restart: one
// the server paused before going down is paused at the drone's item (not
// ready) and resumes there; one the drone completed while the server was
// down is finished, its patrol ended and its airspace free (not flying
// forever).
func TestRestartResyncsPausedAndCompletedPatrol(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight over three server runs: skipped with -short")
	}
	t.Parallel()
	r := mustRestartRig(t)
	srv := r.start(t, true)
	st := configure(t, srv)
	mid, pid := st.patrol.GetMissionId(), st.patrol.GetId()

	// Paused, then down.
	if err := srv.Fleet.PauseMission(opCtx(t, 10*time.Second), restartDrone); err != nil {
		t.Fatalf("pause: %v", err)
	}
	pausedAt := droneState(t, srv.Fleet, restartDrone).Mission.PausedSeq
	eventually(t, 10*time.Second, "the drone holding in BRAKE", func() bool { return r.drone.State().Mode == sim.ModeBrake })
	srv.Close()

	srv = r.start(t, true)
	eventually(t, 15*time.Second, "the paused mission re-synced as paused", func() bool {
		ms := droneState(t, srv.Fleet, restartDrone).Mission
		return ms.MissionID == mid && ms.State == fleet.MissionStatePaused
	})
	if ms := droneState(t, srv.Fleet, restartDrone).Mission; ms.PausedSeq != pausedAt {
		t.Errorf("re-synced paused at item %d, the server paused it at %d", ms.PausedSeq, pausedAt)
	}
	opUS := grpcOf(srv).client(t, st.opUS)
	if p := must(opUS.Patrol().GetPatrol(tctx(t, 10*time.Second), &pb.GetPatrolRequest{PatrolId: pid})).get(t).GetPatrol(); p.GetState() != pb.PatrolState_PATROL_STATE_FLYING {
		t.Errorf("the paused patrol after the restart: %s, want flying (its drone holds in the air)", p.GetState())
	}
	if err := srv.Fleet.ResumeMission(opCtx(t, 10*time.Second), restartDrone); err != nil {
		t.Fatalf("resume after the restart: %v", err)
	}
	eventually(t, 10*time.Second, "flying the mission again from the paused item", func() bool {
		s := r.drone.State()
		return s.Mode == sim.ModeAuto && s.MissionSeq >= pausedAt
	})

	// Down while flying; the drone completes the patrol and lands unheard.
	srv.Close()
	eventually(t, 90*time.Second, "the drone completing its patrol and landing without a server", func() bool {
		s := r.drone.State()
		return !s.Armed && s.MissionSeq == 0 // complete: the simulator's current item goes back to 0
	})
	srv = r.start(t, true)
	eventually(t, 15*time.Second, "the completed mission re-synced as finished", func() bool {
		ms := droneState(t, srv.Fleet, restartDrone).Mission
		return ms.MissionID == mid && ms.State == fleet.MissionStateFinished && ms.Percent == 100
	})
	opUS = grpcOf(srv).client(t, st.opUS)
	eventually(t, 10*time.Second, "the patrol finished", func() bool {
		p := must(opUS.Patrol().GetPatrol(tctx(t, 10*time.Second), &pb.GetPatrolRequest{PatrolId: pid})).get(t).GetPatrol()
		return p.GetState() == pb.PatrolState_PATROL_STATE_FINISHED
	})
	pv := must(opUS.Patrol().PlanPatrol(tctx(t, 10*time.Second), &pb.PlanPatrolRequest{Spec: perimeterSpec(restartDrone)})).get(t)
	if len(pv.GetConflicts()) != 0 {
		t.Errorf("the finished patrol's airspace is still reserved: %v", pv.GetConflicts())
	}
}
