package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
	"github.com/centinela-gcs/centinela/sim"
)

// patrolHome is the simulated drones' common home (San Ysidro), so that two
// drones' patrols over one area meet.
const patrolHome = "32.5480,-117.0293,40"

// mustHome parses a home as --sim-home does.
func mustHome(t *testing.T, s string) *sim.Home {
	t.Helper()
	h, err := parseHome(s)
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

// patrolArea is a square of about 450 m north of the home, on the US side.
func patrolArea() *pb.ZonePolygon {
	const d = 0.002
	lat, lon := 32.5530, -117.0293
	r := &pb.Ring{}
	for _, p := range [][2]float64{{lat - d, lon - d}, {lat - d, lon + d}, {lat + d, lon + d}, {lat + d, lon - d}} {
		r.Points = append(r.Points, &pb.LatLon{LatDeg: p[0], LonDeg: p[1]})
	}
	return &pb.ZonePolygon{Rings: []*pb.Ring{r}}
}

func perimeterSpec(drones ...string) *pb.PatrolSpec {
	return &pb.PatrolSpec{Kind: pb.PatrolKind_PATROL_KIND_PERIMETER, DroneIds: drones, Area: patrolArea(), AltM: 40, SpeedMS: 10}
}

// The Patrol service over loopback: roles, a preview that reserves
// nothing, a dispatch, the conflict of a second one naming the first,
// .plan export and import, and the patrol flown to the end by a simulated
// drone without a breach or a conformance alarm, its airspace then free.
func TestGRPCPatrol(t *testing.T) {
	e := mustGRPC(t, 2, func(c *server.Config) { c.SimHome = mustHome(t, patrolHome) })
	own, sup, other := e.client(t, e.own), e.client(t, e.sup), e.client(t, e.other)
	ev := record(t, e.srv.Fleet)
	from := ev.mark()

	_, err := sup.Patrol().PlanPatrol(tctx(t, 10*time.Second), &pb.PlanPatrolRequest{Spec: perimeterSpec("sysid-1")})
	wantCode(t, err, "PermissionDenied", fleet.Forbidden)
	_, err = own.Patrol().PlanPatrol(tctx(t, 10*time.Second), &pb.PlanPatrolRequest{Spec: &pb.PatrolSpec{DroneIds: []string{"sysid-1"}}})
	wantCode(t, err, "InvalidArgument", fleet.Invalid)

	pv := must(own.Patrol().PlanPatrol(tctx(t, 10*time.Second), &pb.PlanPatrolRequest{Spec: perimeterSpec("sysid-1")})).get(t)
	if len(pv.GetRoutes()) != 1 || len(pv.GetMissions()) != 1 || pv.GetDistanceM() < 1500 || len(pv.GetConflicts()) != 0 {
		t.Fatalf("preview: %d routes, %.0f m, conflicts %v", len(pv.GetRoutes()), pv.GetDistanceM(), pv.GetConflicts())
	}
	for _, ch := range pv.GetChecks() {
		if !ch.GetPassed() {
			t.Errorf("check %s failed: %s", ch.GetName(), ch.GetDetail())
		}
	}

	_, err = other.Patrol().Dispatch(tctx(t, 10*time.Second), &pb.DispatchPatrolRequest{Spec: perimeterSpec("sysid-1")})
	wantCode(t, err, "PermissionDenied", fleet.Forbidden)
	d := must(own.Patrol().Dispatch(tctx(t, 60*time.Second), &pb.DispatchPatrolRequest{Spec: perimeterSpec("sysid-1")})).get(t)
	if len(d.GetPatrols()) != 1 || d.GetPatrols()[0].GetState() != pb.PatrolState_PATROL_STATE_FLYING {
		t.Fatalf("dispatched %v", d.GetPatrols())
	}
	pt := d.GetPatrols()[0]
	_, err = own.Patrol().Dispatch(tctx(t, 10*time.Second), &pb.DispatchPatrolRequest{Spec: perimeterSpec("sysid-2")})
	wantCode(t, err, "FailedPrecondition", fleet.Conflict)
	if !strings.Contains(proto.ErrorFromStatus(err).Error(), pt.GetId()) {
		t.Errorf("conflict %v does not name %s", err, pt.GetId())
	}
	pv = must(own.Patrol().PlanPatrol(tctx(t, 10*time.Second), &pb.PlanPatrolRequest{Spec: perimeterSpec("sysid-2")})).get(t)
	if len(pv.GetConflicts()) != 1 || pv.GetConflicts()[0].GetPatrolId() != pt.GetId() || pv.GetConflicts()[0].GetFrom() == nil {
		t.Fatalf("preview conflicts %v", pv.GetConflicts())
	}
	ls := must(sup.Patrol().ListPatrols(tctx(t, 10*time.Second), &pb.ListPatrolsRequest{ActiveOnly: true})).get(t)
	if len(ls.GetPatrols()) != 1 || ls.GetPatrols()[0].GetId() != pt.GetId() {
		t.Fatalf("list %v", ls.GetPatrols())
	}
	ex := must(sup.Patrol().ExportPlan(tctx(t, 10*time.Second), &pb.ExportPlanRequest{PatrolId: pt.GetId()})).get(t)
	qp, err := qgcplan.Decode(ex.GetPlan())
	if err != nil {
		t.Fatal(err)
	}
	im := must(own.Patrol().ImportPlan(tctx(t, 10*time.Second), &pb.ImportPlanRequest{Plan: ex.GetPlan(), DroneId: "sysid-1"})).get(t)
	if want, _ := qp.MissionItems(); len(im.GetItems()) != len(want) || len(want) < 5 {
		t.Fatalf("imported %d items, the plan has %d", len(im.GetItems()), len(want))
	}

	if testing.Short() {
		must(own.Patrol().Cancel(tctx(t, 20*time.Second), &pb.CancelPatrolRequest{PatrolId: pt.GetId()})).get(t)
		return
	}
	// Flown to the end: finished, no breach, never outside its volume.
	flight := pt.GetRoute().GetDuration().AsDuration()/testSpeedup + 40*time.Second
	deadline := time.Now().Add(flight)
	for {
		g := must(sup.Patrol().GetPatrol(tctx(t, 10*time.Second), &pb.GetPatrolRequest{PatrolId: pt.GetId()})).get(t)
		if s := g.GetPatrol().GetState(); s != pb.PatrolState_PATROL_STATE_FLYING {
			if s != pb.PatrolState_PATROL_STATE_FINISHED {
				t.Fatalf("patrol ended %s: %s", s, g.GetPatrol().GetReason())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("patrol not finished after %s", flight)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, z := range all[fleet.ZoneStateChanged](ev, from) {
		if z.To == fleet.ZoneBreached {
			t.Errorf("breach: %+v", z)
		}
	}
	for _, c := range all[fleet.PatrolConformance](ev, from) {
		t.Errorf("conformance event during the patrol: %+v", c)
	}
	if _, _, ok := find(ev, from, func(c fleet.PatrolChanged) bool {
		return c.PatrolID == pt.GetId() && c.Change == fleet.PatrolFinished
	}); !ok {
		t.Error("no finished PatrolChanged")
	}
	// The airspace is free: sysid-2 flies the same perimeter, and is
	// cancelled.
	d2 := must(own.Patrol().Dispatch(tctx(t, 60*time.Second), &pb.DispatchPatrolRequest{Spec: perimeterSpec("sysid-2")})).get(t)
	id2 := d2.GetPatrols()[0].GetId()
	must(own.Patrol().Cancel(tctx(t, 20*time.Second), &pb.CancelPatrolRequest{PatrolId: id2})).get(t)
	g := must(sup.Patrol().GetPatrol(tctx(t, 10*time.Second), &pb.GetPatrolRequest{PatrolId: id2})).get(t)
	if g.GetPatrol().GetState() != pb.PatrolState_PATROL_STATE_CANCELLED {
		t.Errorf("after cancel: %s", g.GetPatrol().GetState())
	}
}

// ctl patrol plan, dispatch, ls, cancel and mission upload of a real QGC
// .plan, through the built binary.
func TestCtlPatrol(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	e := mustGRPC(t, 2, func(c *server.Config) { c.SimHome = mustHome(t, patrolHome) })
	area := squareFile(t, 32.5530, -117.0293, 0.002)
	ctl := func(args ...string) (string, string, int) {
		return runBinary(t, append(append([]string{"ctl"}, args...), "--server", e.addr, "--token", e.own, "--lang", "en")...)
	}
	out, errs, code := ctl("patrol", "plan", "sysid-1", "--kind", "perimeter", "--area", area, "--alt", "40")
	if code != 0 || !strings.Contains(out, "sysid-1 sortie 1") || !strings.Contains(out, "no conflict") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = ctl("patrol", "dispatch", "sysid-1", "--kind", "perimeter", "--area", area, "--alt", "40")
	id := regexp.MustCompile(`ptl-[0-9a-f]{16}`).FindString(out)
	if code != 0 || id == "" || !strings.Contains(out, "dispatched") {
		t.Fatalf("dispatch: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = ctl("patrol", "dispatch", "sysid-2", "--kind", "perimeter", "--area", area, "--alt", "40")
	if code == 0 || !strings.Contains(errs, id) {
		t.Fatalf("overlapping dispatch: exit %d, want a conflict naming %s\n%s%s", code, id, out, errs)
	}
	out, errs, code = ctl("patrol", "dispatch", "sysid-2", "--kind", "perimeter", "--area", area, "--alt", "40", "--resolve-alt")
	if code != 0 || !strings.Contains(out, "resolved by altitude") {
		t.Fatalf("resolved dispatch: exit %d\n%s%s", code, out, errs)
	}
	id2 := regexp.MustCompile(`ptl-[0-9a-f]{16}`).FindString(out)
	out, errs, code = ctl("patrol", "ls", "--active")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, id2) || !strings.Contains(out, "flying") {
		t.Fatalf("ls: exit %d\n%s%s", code, out, errs)
	}
	for _, p := range []string{id, id2} {
		out, errs, code = ctl("patrol", "cancel", p)
		if code != 0 || !strings.Contains(out, "cancelled") {
			t.Fatalf("cancel %s: exit %d\n%s%s", p, code, out, errs)
		}
	}
	out, _, _ = ctl("patrol", "ls", "--active", "--json")
	if strings.Contains(out, id) {
		t.Errorf("cancelled patrol still active:\n%s", out)
	}

	// A real QGroundControl file (ArduPilot SITL's, elsewhere in the
	// world: the zone guard would refuse it here, hence --override).
	src := "../../fleet/qgcplan/testdata/qgroundcontrol_ArduPilotSITL-ArduCopter.plan"
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := qgcplan.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	items, err := qp.MissionItems()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sitl.plan")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "sysid-2 landed after the cancel", func() bool {
		d := e.drone(t, "sysid-2")
		return !d.Armed
	})
	out, errs, code = ctl("mission", "upload", "sysid-2", file, "--override")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("(%d items)", len(items))) {
		t.Fatalf("mission upload .plan: exit %d\n%s%s", code, out, errs)
	}
	got, err := e.srv.Fleet.MissionPlan("sysid-2")
	if err != nil || len(got) != len(items) {
		t.Fatalf("tracked plan: %d items (%v), want %d", len(got), err, len(items))
	}
	for i := range items {
		if got[i].Command != items[i].Command || got[i].Lat != items[i].Lat || got[i].Lon != items[i].Lon {
			t.Fatalf("item %d: %+v, want %+v", i, got[i], items[i])
		}
	}
}
