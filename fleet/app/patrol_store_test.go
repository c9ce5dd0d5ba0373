package app_test

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// restartService closes e's Service and starts a new one on the same
// Store and fleet, as a server restart does.
func restartService(t *testing.T, e *env) {
	t.Helper()
	e.s.Close()
	e.s = &app.Service{Fleet: e.f, Zones: e.s.Zones, Store: e.st, Now: e.c.Now}
	if err := e.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.s.Close)
}

// Patrols are saved on every change and reloaded by a new Service: the
// flying one holds its volume again (a preview meets it), the scheduled
// one still starts at its time, ended ones stay readable.
func TestPatrolsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	flying, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	r := perimeterReq("us-2")
	r.MaxDelay = 2 * time.Hour
	later, err := e.s.DispatchPatrol(c, op, r)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.st.Patrols()
	if err != nil || len(stored) != 2 {
		t.Fatalf("stored %d patrols (%v), want 2", len(stored), err)
	}
	for _, s := range stored {
		if s.ID == flying[0].ID && (s.State != app.PatrolFlying || s.MissionID != flying[0].MissionID || s.Principal.Label != op.Label) {
			t.Errorf("stored flying patrol %+v", s)
		}
		if s.ID == later[0].ID && s.State != app.PatrolScheduled {
			t.Errorf("stored scheduled patrol state %s", s.State)
		}
	}

	restartService(t, e)
	ls, err := e.s.ListPatrols(c, op, true)
	if err != nil || len(ls) != 2 {
		t.Fatalf("after restart: %d active patrols (%v)", len(ls), err)
	}
	got, err := e.s.GetPatrol(c, op, flying[0].ID)
	if err != nil || got.State != app.PatrolFlying || got.MissionID != flying[0].MissionID || !got.Volume.End.Equal(flying[0].Volume.End) {
		t.Fatalf("reloaded %+v (%v)", got, err)
	}
	// The reserved volume is back: a preview over the same area meets it.
	pv, err := e.s.PlanPatrol(c, op, perimeterReq("us-2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Conflicts) != 1 || pv.Conflicts[0].PatrolID != flying[0].ID {
		t.Fatalf("preview after restart meets %+v, want %s", pv.Conflicts, flying[0].ID)
	}
	// The scheduled one starts at its time.
	v := e.vehicles["us-2"]
	e.c.Advance(later[0].Volume.Start.Add(time.Second).Sub(e.c.Now()))
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, _ := e.s.GetPatrol(c, op, later[0].ID)
		if p.State == app.PatrolFlying && hasCommand(v, fleet.CommandMissionStart) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled patrol not started after restart: %s", p.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	poll := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	poll("flying state stored", func() bool {
		recs, _ := e.st.Patrols()
		for _, s := range recs {
			if s.ID == later[0].ID {
				return s.State == app.PatrolFlying
			}
		}
		return false
	})

	// The vehicle turns out to hold another plan (a re-sync after the
	// restart): the patrol ends, saying so, and stays readable after
	// another restart.
	e.f.Publish(fleet.MissionMismatch{DroneID: "us-1", At: e.c.Now(), MissionID: flying[0].MissionID, NewMissionID: "us-1-mother", Seq: 2, Detail: fleet.MissionDiff{Code: fleet.DiffCommand, Item: 2, Want: "16", Got: "21"}})
	poll("patrol interrupted", func() bool {
		p, _ := e.s.GetPatrol(c, op, flying[0].ID)
		return p.State == app.PatrolInterrupted
	})
	restartService(t, e)
	p, err := e.s.GetPatrol(c, op, flying[0].ID)
	if err != nil || p.State != app.PatrolInterrupted || p.Reason == "" || p.Ended.IsZero() {
		t.Fatalf("ended patrol after restart %+v (%v)", p, err)
	}
	if ls, _ := e.s.ListPatrols(c, op, true); len(ls) != 1 || ls[0].ID != later[0].ID {
		t.Fatalf("active after the second restart %+v", ls)
	}
}

// A patrol whose mission ended while the Service was not listening (the
// server down, the fleet re-syncing the vehicle's completed mission after
// the restart) ends as the fleet tracks its mission: finished, its volume
// released, stored so; a paused one keeps flying.
func TestPatrolEndsAsItsResyncedMission(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	done, err := e.s.DispatchPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	held, err := e.s.DispatchPatrol(c, op, app.PatrolRequest{DroneIDs: []string{"us-2"}, ResolveAltitude: true,
		Plan: perimeterReq("us-2").Plan})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"us-1", "us-2"} {
		items, _ := e.f.MissionPlan(id)
		ft.Feed(e.f, e.vehicles[id], ft.Copter(ft.Auto, true, ft.StatusActive), fleet.MissionCurrent{Seq: 2, Total: len(items), State: 3})
	}
	poll := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	poll("both missions running", func() bool {
		a, _ := e.f.Drone("us-1")
		b, _ := e.f.Drone("us-2")
		return a.Mission.State == fleet.MissionStateRunning && b.Mission.State == fleet.MissionStateRunning
	})

	// Down: us-1 completes its mission, us-2 is paused; nobody listens.
	e.s.Close()
	items, _ := e.f.MissionPlan("us-1")
	n := len(items)
	ft.Feed(e.f, e.vehicles["us-1"], ft.Copter(ft.Auto, false, ft.StatusStandby), fleet.MissionItemReached{Seq: n - 1},
		fleet.MissionCurrent{Seq: 0, Total: n, State: 5}, fleet.MissionCurrent{Seq: 0, Total: n, State: 5})
	poll("us-1's mission finished", func() bool {
		st, _ := e.f.Drone("us-1")
		return st.Mission.State == fleet.MissionStateFinished
	})
	if err := e.f.PauseMission(c, "us-2"); err != nil {
		t.Fatal(err)
	}

	restartService(t, e)
	poll("the finished patrol ended", func() bool {
		p, _ := e.s.GetPatrol(c, op, done[0].ID)
		return p.State == app.PatrolFinished
	})
	poll("its end stored", func() bool {
		recs, _ := e.st.Patrols()
		for _, r := range recs {
			if r.ID == done[0].ID {
				return r.State == app.PatrolFinished && !r.Ended.IsZero()
			}
		}
		return false
	})
	// Its airspace is free again; the paused patrol still holds its own.
	pv, err := e.s.PlanPatrol(c, op, perimeterReq("us-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range pv.Conflicts {
		if cf.PatrolID == done[0].ID {
			t.Errorf("the finished patrol still holds its volume: %+v", cf)
		}
	}
	time.Sleep(600 * time.Millisecond) // two ticks of the Service
	if p, _ := e.s.GetPatrol(c, op, held[0].ID); p.State != app.PatrolFlying {
		t.Errorf("the paused patrol: %s, want flying (its drone holds, the mission resumable)", p.State)
	}
}
