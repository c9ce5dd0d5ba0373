package fleet_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// hoverOnFirstWaypoint is an armed ArduCopter flying in GUIDED at 30 m on
// the first waypoint of a plan uploaded in the air: 0 home, 1 WP 60 N,
// 2 WP 60 N 60 E, 3 RTL.
func hoverOnFirstWaypoint(t *testing.T) (*fleet.Fleet, *ft.Clock, *ft.Vehicle, *events) {
	t.Helper()
	f, clock := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	lat, lon := offset(60, 0)
	ft.Feed(f, v, fleet.Home{Lat: homeLat, Lon: homeLon, AltMSL: homeAMSL}, ft.Position(time.Second, lat, lon, 30))
	poll(t, "flying", func() bool { return state(t, f, "sysid-1").Flying() })
	plan := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: homeLat, Lon: homeLon, Alt: homeAMSL},
		wp(60, 0),
		wp(60, 60),
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavReturnToLaunch},
	}
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	return f, clock, v, ev
}

// A drone hovering on its first waypoint reports it reached as AUTO begins
// (ArduCopter's verify_nav_wp finds the destination reached on the first
// loop in AUTO): the report comes before StartMission has its MISSION_START
// acknowledged, even before the AUTO acknowledgement reaches the command's
// waiter. The fleet counts it once (MissionStarted, then the item reached),
// also when the vehicle reports it twice, and the start's own end does not
// restart the progress it counted.
func TestMissionReachedWhileStarting(t *testing.T) {
	cases := []struct {
		name                string
		beforeAck, betweens bool
	}{
		{"before the AUTO ack", true, false},
		{"between the AUTO and MISSION_START acks", false, true},
		{"before the AUTO ack and again after it", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _, v, ev := hoverOnFirstWaypoint(t)
			v.CommandFn = func(_ context.Context, cmd fleet.Command) error {
				switch {
				case cmd.Kind == fleet.CommandSetMode && cmd.Mode == ft.Auto && c.beforeAck,
					cmd.Kind == fleet.CommandMissionStart && c.betweens:
					f.Handle(v, fleet.MissionItemReached{Seq: 1})
				}
				return nil
			}
			if err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{}); err != nil {
				t.Fatalf("StartMission: %v", err)
			}
			r, before := waitFor[fleet.MissionItemReachedEvent](ev, nil)
			if r.Seq != 1 || r.Reported != 1 {
				t.Errorf("reached %+v, want item 1", r)
			}
			started := 0
			for _, e := range before {
				if _, ok := e.(fleet.MissionStarted); ok {
					started++
				}
			}
			if started != 1 {
				t.Errorf("%d MissionStarted before the item reached, want 1 (events %v)", started, before)
			}
			if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.Done != 1 || ms.CurrentSeq != 1 {
				t.Errorf("after StartMission: %+v, want running with item 1 done", ms)
			}

			// Then as ArduCopter goes on: the heartbeat in AUTO, the next
			// item current, a repeated report of item 1, item 2 reached.
			f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
			f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 3, State: 3})
			f.Handle(v, fleet.MissionItemReached{Seq: 1})
			f.Handle(v, fleet.MissionItemReached{Seq: 2})
			r2, between := waitFor[fleet.MissionItemReachedEvent](ev, nil)
			if r2.Seq != 2 {
				t.Errorf("next item reached %+v, want 2 (item 1 counted twice?)", r2)
			}
			for _, e := range append(between, ev.drain()...) {
				switch e := e.(type) {
				case fleet.MissionStarted, fleet.MissionInterrupted, fleet.MissionItemReachedEvent:
					t.Errorf("unexpected %T %+v", e, e)
				}
			}
			if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.Done != 2 || ms.CurrentSeq != 2 {
				t.Errorf("after item 2: %+v, want running with 2 items done", ms)
			}
		})
	}
}

// A MISSION_CURRENT in ACTIVE while the start waits for its acks starts
// the mission before the heartbeat shows AUTO, and a heartbeat from before
// AUTO took (here GUIDED, set before arming, arriving late) is not taken
// for a mode change by someone else that interrupts it.
func TestMissionCurrentWhileStarting(t *testing.T) {
	f, clock, v, ev := missionDrone(t)
	f.Handle(v, ft.Copter(ft.Stabilize, false, ft.StatusStandby))
	v.CommandFn = func(_ context.Context, cmd fleet.Command) error {
		switch {
		case cmd.Kind == fleet.CommandSetMode && cmd.Mode == ft.Auto:
			f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 10, State: 3})
		case cmd.Kind == fleet.CommandMissionStart:
			f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusStandby))
		}
		return nil
	}
	if err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{}); err != nil {
		t.Fatalf("StartMission: %v", err)
	}
	_, before := waitFor[fleet.ModeChanged](ev, func(e fleet.ModeChanged) bool { return e.To == "GUIDED" })
	if !slices.ContainsFunc(before, func(e fleet.Event) bool { _, ok := e.(fleet.MissionStarted); return ok }) {
		t.Errorf("no MissionStarted before the late GUIDED heartbeat: %v", before)
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	clock.Advance(2500 * time.Millisecond) // past the window a failsafe text has
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	for _, e := range ev.drain() {
		switch e := e.(type) {
		case fleet.MissionStarted, fleet.MissionInterrupted:
			t.Errorf("unexpected %T %+v", e, e)
		}
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.CurrentSeq != 1 {
		t.Errorf("after the start: %+v, want running at item 1", ms)
	}
	// Once AUTO was seen, leaving it is an interruption again.
	f.Handle(v, ft.Copter(ft.Loiter, true, ft.StatusActive))
	clock.Advance(2500 * time.Millisecond)
	if mi, _ := waitFor[fleet.MissionInterrupted](ev, nil); mi.Reason != fleet.InterruptModeChange {
		t.Errorf("interrupted %+v, want mode_change", mi)
	}
}

// The starting phase opens with the command that may start the mission:
// a report that comes before it, while the start arms the drone (here the
// last run's item reached, late), is not this run's.
func TestMissionReportBeforeAutoNotCounted(t *testing.T) {
	f, _, v, ev := missionDrone(t)
	f.Handle(v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	v.CommandFn = func(_ context.Context, cmd fleet.Command) error {
		if cmd.Kind == fleet.CommandArm {
			f.Handle(v, fleet.MissionItemReached{Seq: 1})
		}
		return nil
	}
	if err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{}); err != nil {
		t.Fatalf("StartMission: %v", err)
	}
	_, before := waitFor[fleet.MissionStarted](ev, nil)
	for _, e := range append(before, ev.drain()...) {
		if r, ok := e.(fleet.MissionItemReachedEvent); ok {
			t.Errorf("a report from before AUTO counted: %+v", r)
		}
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.Done != 0 || ms.CurrentSeq != 1 {
		t.Errorf("after the start: %+v, want running at item 1, none done", ms)
	}
}

// PX4 has no AUTO to send first: the phase opens with MISSION_START, and a
// drone holding on the first item (seq 0: PX4 has no home item) that
// reports it reached before the ack has it counted.
func TestMissionReachedWhileStartingPX4(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.PX4(4, 3, true, ft.StatusActive)) // AUTO.LOITER (hold)
	lat, lon := offset(60, 0)
	ft.Feed(f, v, fleet.Home{Lat: homeLat, Lon: homeLon, AltMSL: homeAMSL}, ft.Position(time.Second, lat, lon, 30))
	poll(t, "flying", func() bool { return state(t, f, "sysid-1").Flying() })
	plan := []fleet.MissionItem{wp(60, 0), wp(60, 60), {Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavReturnToLaunch}}
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v.CommandFn = func(_ context.Context, cmd fleet.Command) error {
		if cmd.Kind == fleet.CommandMissionStart {
			f.Handle(v, fleet.MissionItemReached{Seq: 0})
		}
		return nil
	}
	if err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{}); err != nil {
		t.Fatalf("StartMission: %v", err)
	}
	if r, _ := waitFor[fleet.MissionItemReachedEvent](ev, nil); r.Seq != 0 {
		t.Errorf("reached %+v, want item 0", r)
	}
	f.Handle(v, ft.PX4(4, 4, true, ft.StatusActive)) // AUTO.MISSION
	f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 3, State: 3})
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.Done != 1 || ms.CurrentSeq != 1 {
		t.Errorf("after the start: %+v, want running at item 1 with item 0 done", ms)
	}
}

// A failsafe that answers AUTO at once (RTL) while the start waits for its
// acks, before the fleet saw a heartbeat in AUTO, interrupts the run the
// vehicle's reports began: only the mode the drone was in and GUIDED are
// taken for heartbeats from before AUTO.
func TestMissionFailsafeWhileStarting(t *testing.T) {
	f, clock, v, ev := hoverOnFirstWaypoint(t)
	v.CommandFn = func(_ context.Context, cmd fleet.Command) error {
		switch {
		case cmd.Kind == fleet.CommandSetMode && cmd.Mode == ft.Auto:
			f.Handle(v, fleet.MissionItemReached{Seq: 1})
		case cmd.Kind == fleet.CommandMissionStart:
			f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusActive)) // sent before AUTO
			f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
		}
		return nil
	}
	if err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{}); err != nil {
		t.Fatalf("StartMission: %v", err)
	}
	clock.Advance(2500 * time.Millisecond) // no failsafe text came
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
	mi, seen := waitFor[fleet.MissionInterrupted](ev, nil)
	if mi.Mode != "RTL" {
		t.Errorf("interrupted %+v, want by the RTL", mi)
	}
	if !slices.ContainsFunc(seen, func(e fleet.Event) bool { r, ok := e.(fleet.MissionItemReachedEvent); return ok && r.Seq == 1 }) {
		t.Errorf("item 1 not reached before the interruption: %v", seen)
	}
	for _, e := range ev.drain() {
		if s, ok := e.(fleet.MissionStarted); ok {
			t.Errorf("the start's end began another run: %+v", s)
		}
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateInterrupted {
		t.Errorf("after the RTL: %+v, want interrupted", ms)
	}
}
