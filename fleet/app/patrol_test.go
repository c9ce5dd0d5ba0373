package app_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// usSquare is a square of about 750 m in the US half of the Tijuana–San
// Diego corridor, around the test drones' home.
func usSquare() orb.Polygon {
	const d = 0.0035
	c := orb.Point{-117.03, 32.565}
	return orb.Polygon{{{c[0] - d, c[1] - d}, {c[0] + d, c[1] - d}, {c[0] + d, c[1] + d}, {c[0] - d, c[1] + d}, {c[0] - d, c[1] - d}}}
}

func perimeterReq(drones ...string) app.PatrolRequest {
	return app.PatrolRequest{DroneIDs: drones, Plan: plan.Request{Kind: plan.Perimeter, Area: usSquare(), AltM: 50, SpeedMPS: 8, Endurance: time.Hour}}
}

// events collects the fleet's events of type T.
func watchEvents(t *testing.T, e *env) *fleet.Subscription {
	sub := e.f.Subscribe(fleet.SubscribeOptions{QueueSize: 4096})
	t.Cleanup(sub.Close)
	return sub
}

// nextEvent waits for the first event of type T matching ok.
func nextEvent[T fleet.Event](t *testing.T, sub *fleet.Subscription, ok func(T) bool) T {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-sub.C:
			if x, is := ev.(T); is && (ok == nil || ok(x)) {
				return x
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T within 5 s", zero)
			return zero
		}
	}
}

func wantCode(t *testing.T, err error, code fleet.Code) {
	t.Helper()
	if fleet.ErrorCode(err) != code {
		t.Fatalf("error %v (code %q), want %s", err, fleet.ErrorCode(err), code)
	}
}

func TestPatrolPermissions(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	for _, tc := range []struct {
		name, who string
		drones    []string
		code      fleet.Code
	}{
		{"supervisor previews", "sup", nil, fleet.Forbidden},
		{"supervisor dispatches", "sup", []string{"us-1"}, fleet.Forbidden},
		{"admin dispatches", "admin", []string{"us-1"}, fleet.Forbidden},
		{"mx operator flies a us drone", "op-mx", []string{"us-1"}, fleet.Forbidden},
		{"nobody", "", []string{"us-1"}, fleet.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.who[tc.who]
			var err error
			if tc.drones == nil {
				_, err = e.s.PlanPatrol(c, p, perimeterReq("us-1"))
			} else {
				_, err = e.s.DispatchPatrol(c, p, perimeterReq(tc.drones...))
			}
			wantCode(t, err, tc.code)
		})
	}
	if n := e.vehicles["us-1"].Calls("UploadMission"); n != 0 {
		t.Errorf("refused dispatches uploaded %d missions", n)
	}
	// A refused dispatch is audited.
	audit, _ := e.st.Audit(app.AuditQuery{})
	refused := 0
	for _, a := range audit {
		if a.Action == "Patrol.Dispatch" && a.Code == fleet.Forbidden {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused dispatches audited, want 3", refused)
	}
	// An admin previews; an operator previews; neither reserves.
	for _, who := range []string{"admin", "op-us"} {
		pv, err := e.s.PlanPatrol(c, e.who[who], perimeterReq("us-1"))
		if err != nil {
			t.Fatalf("%s preview: %v", who, err)
		}
		if len(pv.Result.Routes) != 1 || pv.Result.DistanceM < 2000 || len(pv.Conflicts) != 0 || len(pv.Volumes) != 1 {
			t.Fatalf("%s preview: %d routes, %.0f m, conflicts %v", who, len(pv.Result.Routes), pv.Result.DistanceM, pv.Conflicts)
		}
	}
	if ps, _ := e.s.ListPatrols(c, e.who["sup"], false); len(ps) != 0 {
		t.Errorf("previews made patrols: %+v", ps)
	}
	// Bad input names the field and changes nothing.
	r := perimeterReq("us-1", "us-1")
	_, err := e.s.DispatchPatrol(c, e.who["op-us"], r)
	wantCode(t, err, fleet.Invalid)
	if !strings.Contains(fleet.ErrorMessage(err), "drone_ids[1]") {
		t.Errorf("message %q does not name drone_ids[1]", fleet.ErrorMessage(err))
	}
	r = perimeterReq("us-1")
	r.MaxDelay = -time.Second
	_, err = e.s.DispatchPatrol(c, e.who["op-us"], r)
	wantCode(t, err, fleet.Invalid)
}

func TestPatrolDispatchConflictAndResolution(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	sub := watchEvents(t, e)
	first, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].State != app.PatrolFlying || first[0].MissionID == "" || !strings.HasPrefix(first[0].ID, "ptl-") {
		t.Fatalf("dispatched %+v", first)
	}
	ch := nextEvent(t, sub, func(ev fleet.PatrolChanged) bool { return ev.Change == fleet.PatrolDispatched })
	if ch.PatrolID != first[0].ID || ch.DroneID != "us-1" || ch.End.IsZero() {
		t.Errorf("dispatched event %+v", ch)
	}
	v := e.vehicles["us-1"]
	if v.Calls("UploadMission") != 1 || !hasCommand(v, fleet.CommandMissionStart) {
		t.Fatalf("us-1: %d uploads, commands %v", v.Calls("UploadMission"), v.CommandKinds())
	}
	// The same perimeter for us-2 meets it: refused, naming the patrol,
	// where and when.
	_, err = e.s.DispatchPatrol(c, op, perimeterReq("us-2"))
	wantCode(t, err, fleet.Conflict)
	msg := fleet.ErrorMessage(err)
	for _, want := range []string{first[0].ID, `drone "us-1"`, "near 32.", epoch.Format("2006-01-02T15")} {
		if !strings.Contains(msg, want) {
			t.Errorf("conflict %q does not say %q", msg, want)
		}
	}
	if e.vehicles["us-2"].Calls("UploadMission") != 0 {
		t.Error("the refused patrol was uploaded")
	}
	// The preview shows the same conflict and reserves nothing.
	pv, err := e.s.PlanPatrol(c, op, perimeterReq("us-2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Conflicts) != 1 || pv.Conflicts[0].PatrolID != first[0].ID || pv.Conflicts[0].From.IsZero() {
		t.Fatalf("preview conflicts %+v", pv.Conflicts)
	}
	// A drone on patrol gets no second one.
	_, err = e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	wantCode(t, err, fleet.Conflict)

	// Resolved by another altitude layer.
	r := perimeterReq("us-2")
	r.ResolveAltitude = true
	second, err := e.s.DispatchPatrol(c, op, r)
	if err != nil {
		t.Fatal(err)
	}
	if second[0].Resolved != "altitude" || second[0].Resolves == nil || second[0].Resolves.PatrolID != first[0].ID {
		t.Fatalf("resolution %q %+v", second[0].Resolved, second[0].Resolves)
	}
	alt := second[0].Route.Waypoints[0].AltM
	if alt == 50 || alt < 20 || alt > 120 {
		t.Fatalf("resolved altitude %g", alt)
	}
	plan2, err := e.f.MissionPlan("us-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range plan2 {
		if it.Command == fleet.CmdNavWaypoint && it.Frame == fleet.FrameGlobalRelativeAlt && it.Alt != alt {
			t.Fatalf("us-2's mission has a waypoint at %g m, want %g", it.Alt, alt)
		}
	}
	// Cancelling frees the airspace: the drone returns home, the volume is
	// released, and a new patrol at 50 m in its place is accepted.
	if err := e.s.CancelPatrol(c, op, first[0].ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.GetPatrol(c, op, first[0].ID)
	if got.State != app.PatrolCancelled || got.Ended.IsZero() {
		t.Fatalf("after cancel: %+v", got.State)
	}
	nextEvent(t, sub, func(ev fleet.PatrolChanged) bool {
		return ev.Change == fleet.PatrolCancelled && ev.PatrolID == first[0].ID
	})
	wantCode(t, e.s.CancelPatrol(c, op, first[0].ID), fleet.Conflict)
	wantCode(t, e.s.CancelPatrol(c, op, "ptl-nope"), fleet.NotFound)
	third, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatalf("after cancel: %v", err)
	}
	if third[0].Resolved != "" {
		t.Errorf("resolved %q after the release", third[0].Resolved)
	}
	if ps, _ := e.s.ListPatrols(c, e.who["sup"], true); len(ps) != 2 {
		t.Errorf("%d active patrols, want 2", len(ps))
	}
}

func TestPatrolResolvedByLaterStart(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	first, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	r := perimeterReq("us-2")
	r.MaxDelay = 2 * time.Hour
	late, err := e.s.DispatchPatrol(c, op, r)
	if err != nil {
		t.Fatal(err)
	}
	p := late[0]
	if p.Resolved != "delay" || p.Delay <= 0 || p.State != app.PatrolScheduled {
		t.Fatalf("resolution %q delay %s state %s", p.Resolved, p.Delay, p.State)
	}
	if !p.Volume.Start.After(first[0].Volume.End) && !p.Volume.Start.Equal(first[0].Volume.End) {
		t.Errorf("starts %s, before the first ends %s", p.Volume.Start, first[0].Volume.End)
	}
	v := e.vehicles["us-2"]
	if v.Calls("UploadMission") != 1 || hasCommand(v, fleet.CommandMissionStart) {
		t.Fatalf("us-2 before its start: %d uploads, commands %v", v.Calls("UploadMission"), v.CommandKinds())
	}
	// At its start it flies.
	e.c.Advance(p.Volume.Start.Add(time.Second).Sub(e.c.Now()))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := e.s.GetPatrol(c, op, p.ID)
		if got.State == app.PatrolFlying && hasCommand(v, fleet.CommandMissionStart) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not started: %s, commands %v", got.State, v.CommandKinds())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPatrolReleasedWhenFinished(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	sub := watchEvents(t, e)
	ps, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	items, _ := e.f.MissionPlan("us-1")
	n := len(items)
	v := e.vehicles["us-1"]
	ft.Feed(e.f, v, ft.Copter(ft.Auto, true, ft.StatusActive), fleet.MissionCurrent{Seq: 1, Total: n, State: 3})
	ft.Feed(e.f, v, ft.Copter(ft.Auto, false, ft.StatusStandby), fleet.MissionItemReached{Seq: n - 1},
		fleet.MissionCurrent{Seq: 0, Total: n, State: 5}, fleet.MissionCurrent{Seq: 0, Total: n, State: 5})
	ev := nextEvent(t, sub, func(ev fleet.PatrolChanged) bool { return ev.Change == fleet.PatrolFinished })
	if ev.PatrolID != ps[0].ID || ev.MissionID != ps[0].MissionID {
		t.Errorf("finished %+v", ev)
	}
	got, _ := e.s.GetPatrol(c, op, ps[0].ID)
	if got.State != app.PatrolFinished {
		t.Fatalf("state %s", got.State)
	}
	// Its airspace is free again.
	if _, err := e.s.DispatchPatrol(c, op, perimeterReq("us-2")); err != nil {
		t.Fatalf("after the finish: %v", err)
	}
	// The records of the new events have kinds.
	rec, ok := app.EventRecordOf(ev, "")
	if !ok || rec.Kind != app.KindPatrolChanged || rec.Params["change"] != "finished" || rec.Params["patrol_id"] != ps[0].ID {
		t.Errorf("record %+v", rec)
	}
}

func TestPatrolExtendedWhenLate(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	sub := watchEvents(t, e)
	ps, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	end := ps[0].Volume.End
	// Still airborne a little before the volume ends: extended.
	e.c.Advance(end.Add(-30 * time.Second).Sub(e.c.Now()))
	ev := nextEvent(t, sub, func(ev fleet.PatrolChanged) bool { return ev.Change == fleet.PatrolExtended })
	if !ev.End.After(end) || ev.PatrolID != ps[0].ID {
		t.Fatalf("extended %+v, was to end %s", ev, end)
	}
	got, _ := e.s.GetPatrol(c, op, ps[0].ID)
	if !got.Volume.End.Equal(ev.End) {
		t.Errorf("patrol's volume ends %s, event says %s", got.Volume.End, ev.End)
	}
	// Past the old end the volume still holds the airspace.
	e.c.Advance(end.Add(10 * time.Second).Sub(e.c.Now()))
	pv, err := e.s.PlanPatrol(c, op, perimeterReq("us-2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Conflicts) != 1 {
		t.Errorf("after the old end: conflicts %+v, want the extended patrol", pv.Conflicts)
	}
}

func TestPatrolConformanceEvent(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	sub := watchEvents(t, e)
	ps, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	v := e.vehicles["us-1"]
	// 2 km north of the square: outside its volume.
	ft.Feed(e.f, v, ft.Position(2*time.Second, 32.59, -117.03, 50))
	out := nextEvent(t, sub, func(ev fleet.PatrolConformance) bool { return !ev.Inside })
	if out.PatrolID != ps[0].ID || out.Reason != "horizontal" || out.ByM < 1000 {
		t.Fatalf("outside %+v", out)
	}
	got, _ := e.s.GetPatrol(c, op, ps[0].ID)
	if !got.Outside {
		t.Error("patrol not marked outside")
	}
	// Back on its path (a corner of the perimeter) at the patrol altitude.
	w := ps[0].Route.Waypoints[len(ps[0].Route.Waypoints)/2]
	ft.Feed(e.f, v, ft.Position(3*time.Second, w.Lat, w.Lon, w.AltM))
	back := nextEvent(t, sub, func(ev fleet.PatrolConformance) bool { return ev.Inside })
	if back.PatrolID != ps[0].ID {
		t.Fatalf("back %+v", back)
	}
	// Too high on its path: vertical.
	ft.Feed(e.f, v, ft.Position(4*time.Second, w.Lat, w.Lon, w.AltM+40))
	up := nextEvent(t, sub, func(ev fleet.PatrolConformance) bool { return !ev.Inside })
	if up.Reason != "vertical" {
		t.Fatalf("too high: %+v", up)
	}
	rec, ok := app.EventRecordOf(up, agUS)
	if !ok || rec.Kind != app.KindPatrolConformance || rec.Severity != app.SevWarning || rec.Params["reason"] != "vertical" {
		t.Errorf("record %+v", rec)
	}
}

// Two operators of two agencies (one granted us-2) dispatch overlapping
// patrols at the same moment: exactly one wins, the other gets the
// conflict naming the winner; with a resolution allowed, both fly apart.
func TestPatrolDispatchRace(t *testing.T) {
	for _, resolve := range []bool{false, true} {
		name := "refused"
		if resolve {
			name = "resolved"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := ctx(t)
			if _, err := e.s.CreateGrant(c, e.who["admin"], app.GrantRequest{From: agUS, To: agMX, Drones: []string{"us-2"}, Until: epoch.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 5; round++ {
				var wg sync.WaitGroup
				res := make([][]app.Patrol, 2)
				errs := make([]error, 2)
				start := make(chan struct{})
				for i, who := range []struct{ op, drone string }{{"op-us", "us-1"}, {"op-mx", "us-2"}} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := perimeterReq(who.drone)
						r.ResolveAltitude = resolve
						<-start
						res[i], errs[i] = e.s.DispatchPatrol(c, e.who[who.op], r)
					}()
				}
				close(start)
				wg.Wait()
				won := 0
				for i := range errs {
					if errs[i] == nil {
						won++
					}
				}
				if resolve {
					if won != 2 {
						t.Fatalf("round %d: %v", round, errs)
					}
					a, b := res[0][0], res[1][0]
					if (a.Resolved == "") == (b.Resolved == "") || a.Volume.AltM == b.Volume.AltM {
						t.Fatalf("round %d: resolutions %q %q at %g and %g", round, a.Resolved, b.Resolved, a.Volume.AltM, b.Volume.AltM)
					}
				} else {
					if won != 1 {
						t.Fatalf("round %d: %d winners (%v)", round, won, errs)
					}
					loser := 0
					if errs[0] == nil {
						loser = 1
					}
					var fe *fleet.Error
					if !errors.As(errs[loser], &fe) || fe.Code != fleet.Conflict || !strings.Contains(fe.Message, res[1-loser][0].ID) {
						t.Fatalf("round %d: loser got %v, want a conflict naming %s", round, errs[loser], res[1-loser][0].ID)
					}
				}
				for i := range res {
					for _, p := range res[i] {
						if err := e.s.CancelPatrol(c, e.who[[]string{"op-us", "op-mx"}[i]], p.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		})
	}
}

func TestImportExportPlan(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	ps, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := e.s.ExportPlan(c, e.who["sup"], "", ps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := e.s.ImportPlan(c, op, data, app.ImportOptions{DroneID: "us-1"})
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := e.f.MissionPlan("us-1")
	if len(imp.Items) != len(sent) {
		t.Fatalf("round trip: %d items, %d sent", len(imp.Items), len(sent))
	}
	for i := range sent {
		a, b := imp.Items[i], sent[i]
		if a.Command != b.Command || a.Frame != b.Frame || abs(a.Lat-b.Lat) > 1e-9 || abs(a.Lon-b.Lon) > 1e-9 || abs(a.Alt-b.Alt) > 1e-6 {
			t.Fatalf("item %d: imported %+v, sent %+v", i, a, b)
		}
	}
	// The drone's tracked plan exports too, and the same items.
	byDrone, err := e.s.ExportPlan(c, op, "us-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if qp, err := qgcplan.Decode(byDrone); err != nil || len(qp.Mission.Items) == 0 {
		t.Fatalf("drone export: %v", err)
	}
	// The mission does not fit an MX drone's allowed space.
	_, err = e.s.ImportPlan(c, e.who["op-mx"], data, app.ImportOptions{DroneID: "mx-1"})
	wantCode(t, err, fleet.Conflict)
	// A real QGC file with a fence: its zones; putting them needs an admin.
	qgc, err := os.ReadFile("../qgcplan/testdata/" + firstPlanWithFence(t))
	if err != nil {
		t.Fatal(err)
	}
	imp, err = e.s.ImportPlan(c, op, qgc, app.ImportOptions{ZonePrefix: "imp"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Zones) == 0 || len(imp.Items) == 0 {
		t.Fatalf("imported %d items, %d zones", len(imp.Items), len(imp.Zones))
	}
	_, err = e.s.ImportPlan(c, op, qgc, app.ImportOptions{ZonePrefix: "imp", FenceZones: true})
	wantCode(t, err, fleet.Forbidden)
	if _, err := e.s.ImportPlan(c, e.who["admin"], qgc, app.ImportOptions{ZonePrefix: "imp", FenceZones: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetZone(c, op, imp.Zones[0].ID); err != nil {
		t.Errorf("fence zone not put: %v", err)
	}
	_, err = e.s.ImportPlan(c, op, []byte(`{"fileType":"Plan"`), app.ImportOptions{})
	wantCode(t, err, fleet.Invalid)
	_, err = e.s.ImportPlan(c, e.who["sup"], qgc, app.ImportOptions{})
	wantCode(t, err, fleet.Forbidden)
	_, err = e.s.ExportPlan(c, op, "", "")
	wantCode(t, err, fleet.Invalid)
}

// firstPlanWithFence names a QGC testdata file whose fence has a polygon
// or circle.
func firstPlanWithFence(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir("../qgcplan/testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ents {
		if !strings.HasSuffix(en.Name(), ".plan") {
			continue
		}
		data, err := os.ReadFile("../qgcplan/testdata/" + en.Name())
		if err != nil {
			t.Fatal(err)
		}
		p, err := qgcplan.Decode(data)
		if err != nil {
			continue
		}
		if _, err := p.MissionItems(); err != nil {
			continue
		}
		if len(p.GeoFence.Polygons)+len(p.GeoFence.Circles) > 0 {
			return en.Name()
		}
	}
	t.Fatal("no QGC testdata file with a fence")
	return ""
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func hasCommand(v *ft.Vehicle, k fleet.CommandKind) bool {
	for _, c := range v.CommandKinds() {
		if c == k {
			return true
		}
	}
	return false
}

// Two dispatches of one drone at the same moment, even with resolutions
// allowed: one flies, the other is refused (busy, or the drone's patrol).
func TestPatrolSameDroneTwice(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := perimeterReq("us-1")
			r.ResolveAltitude, r.MaxDelay = true, time.Hour
			<-start
			_, errs[i] = e.s.DispatchPatrol(c, e.who["op-us"], r)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch fleet.ErrorCode(err) {
		case "":
			ok++
		case fleet.Busy, fleet.Conflict:
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d dispatches flew us-1: %v", ok, errs)
	}
	if ps, _ := e.s.ListPatrols(c, e.who["sup"], true); len(ps) != 1 {
		t.Errorf("%d active patrols", len(ps))
	}
}

// A coverage shared by two drones of one base: one dispatch, two patrols,
// the second drone on another altitude layer where their paths meet.
func TestPatrolDispatchSharedCoverage(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	r := app.PatrolRequest{DroneIDs: []string{"us-1", "us-2"}, Plan: plan.Request{Kind: plan.Coverage, Area: usSquare(), AltM: 50, SpeedMPS: 8, SwathM: 60, Endurance: time.Hour}}
	ps, err := e.s.DispatchPatrol(c, e.who["op-us"], r)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].DroneID == ps[1].DroneID || ps[0].ID == ps[1].ID {
		t.Fatalf("patrols %+v", ps)
	}
	if ps[0].Volume.AltM == ps[1].Volume.AltM {
		t.Errorf("both at %g m: the shared base's paths meet", ps[0].Volume.AltM)
	}
	for _, p := range ps {
		if e.vehicles[p.DroneID].Calls("UploadMission") != 1 {
			t.Errorf("%s: mission not uploaded", p.DroneID)
		}
	}
}

// A failsafe interrupting the mission ends the patrol and frees its
// airspace.
func TestPatrolReleasedWhenInterrupted(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	sub := watchEvents(t, e)
	ps, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	items, _ := e.f.MissionPlan("us-1")
	v := e.vehicles["us-1"]
	ft.Feed(e.f, v, ft.Copter(ft.Auto, true, ft.StatusActive), fleet.MissionCurrent{Seq: 2, Total: len(items), State: 3})
	ft.Feed(e.f, v, ft.Copter(ft.RTL, true, ft.StatusCritical), fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
	ev := nextEvent(t, sub, func(ev fleet.PatrolChanged) bool { return ev.Change == fleet.PatrolInterrupted })
	if ev.PatrolID != ps[0].ID || ev.Message != string(fleet.InterruptFailsafe) {
		t.Errorf("interrupted %+v", ev)
	}
	got, _ := e.s.GetPatrol(c, op, ps[0].ID)
	if got.State != app.PatrolInterrupted || got.Reason != string(fleet.InterruptFailsafe) {
		t.Fatalf("state %s reason %q", got.State, got.Reason)
	}
	if pv, err := e.s.PlanPatrol(c, op, perimeterReq("us-2")); err != nil || len(pv.Conflicts) != 0 {
		t.Fatalf("after the interruption: %v, conflicts %+v", err, pv)
	}
}
