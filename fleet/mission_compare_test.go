package fleet_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// arduCopterStored is what ArduCopter 4.7 returns for an uploaded plan:
// seq 0 rewritten as home, a waypoint's params 2-4 dropped and its hold
// time in whole seconds, positions as degrees × 1e7, altitudes in whole
// centimetres, DO items in frame GLOBAL.
func arduCopterStored(items []fleet.MissionItem) []fleet.MissionItem {
	out := make([]fleet.MissionItem, len(items))
	for i, it := range items {
		it.Lat = math.Round(it.Lat*1e7) / 1e7
		it.Lon = math.Round(it.Lon*1e7) / 1e7
		it.Alt = math.Trunc(it.Alt*100) / 100
		it.Autocontinue = true
		switch it.Command {
		case fleet.CmdNavWaypoint, fleet.CmdNavTakeoff:
			it.Param1, it.Param2, it.Param3, it.Param4 = math.Trunc(it.Param1), 0, 0, 0
		}
		if !it.Command.IsNav() {
			it.Frame = fleet.FrameGlobal
		}
		if it.Frame == fleet.FrameGlobalRelativeAlt {
			it.Frame = 3
		}
		out[i] = it
	}
	out[0] = fleet.MissionItem{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: homeLat, Lon: homeLon, Alt: homeAMSL + 0.1}
	return out
}

// A link regain during a mission re-reads the plan from ArduCopter, which
// kept only what Copter stores: the running mission is the same one (issue
// 22: it was marked replaced, m1 → m2, on every regain).
func TestMissionResyncArduCopterStoredPlan(t *testing.T) {
	f, clock := mustFleet(t)
	v := ft.NewVehicle("tcp:127.0.0.1:5760", 1)
	var mu sync.Mutex
	var stored []fleet.MissionItem
	v.UploadMissionFn = func(_ context.Context, _ fleet.MissionType, items []fleet.MissionItem, _ func(int, int)) error {
		mu.Lock()
		defer mu.Unlock()
		stored = arduCopterStored(items)
		return nil
	}
	v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
		mu.Lock()
		defer mu.Unlock()
		return stored, nil
	}
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	ft.Feed(f, v, fleet.Home{Lat: homeLat, Lon: homeLon, AltMSL: homeAMSL}, ft.Position(time.Second, homeLat, homeLon, 0))
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	plan := recordedMission()
	for i := range plan {
		if plan[i].Command == fleet.CmdNavWaypoint && i > 0 {
			plan[i].Param1, plan[i].Param2, plan[i].Param4 = 2.5, 2, math.NaN() // hold, acceptance radius, yaw
			plan[i].Alt = 30.004
			plan[i].Lat += 3e-9
		}
	}
	id, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 10, State: 3})
	waitFor[fleet.MissionStarted](ev, nil)
	clock.Advance(4 * time.Second)
	waitFor[fleet.LinkLost](ev, nil)
	downloads := v.Calls("DownloadMission")
	clock.Advance(5 * time.Second)
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	waitFor[fleet.LinkRegained](ev, nil)
	poll(t, "mission download", func() bool { return v.Calls("DownloadMission") > downloads })
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	res, seen := waitFor[fleet.MissionResumed](ev, nil)
	if res.MissionID != id {
		t.Errorf("resumed mission %s, uploaded %s", res.MissionID, id)
	}
	for _, e := range append(seen, ev.drain()...) {
		switch e := e.(type) {
		case fleet.MissionInterrupted:
			if e.Reason == fleet.InterruptReplaced {
				t.Errorf("interrupted as replaced: %+v", e)
			}
		case fleet.MissionMismatch:
			t.Errorf("mismatch reported for the same plan: %+v", e)
		}
	}
	// DownloadMission by hand: the same, nothing reported.
	if _, err := f.DownloadMission(context.Background(), "sysid-1", fleet.MissionTypeMission); err != nil {
		t.Fatal(err)
	}
	if ms := state(t, f, "sysid-1").Mission; ms.MissionID != id || ms.State != fleet.MissionStateRunning {
		t.Errorf("after DownloadMission %+v", ms)
	}
	// A real difference (another ground station changed item 5's hold) is
	// reported and the vehicle's plan becomes the tracked one.
	mu.Lock()
	stored[5].Param1 = 9
	mu.Unlock()
	if _, err := f.DownloadMission(context.Background(), "sysid-1", fleet.MissionTypeMission); err != nil {
		t.Fatal(err)
	}
	mm, _ := waitFor[fleet.MissionMismatch](ev, nil)
	if mm.MissionID != id || mm.NewMissionID == "" || mm.NewMissionID == id || mm.Seq != 5 || mm.Detail != (fleet.MissionDiff{Code: fleet.DiffParam, Item: 5, Param: 1, Want: mm.Detail.Want, Got: "9"}) || mm.Detail.Want == "9" {
		t.Errorf("mismatch %+v", mm)
	}
	if ms := state(t, f, "sysid-1").Mission; ms.MissionID != mm.NewMissionID {
		t.Errorf("tracked %s after mismatch, want %s", ms.MissionID, mm.NewMissionID)
	}
}

// A mission started in the air away from home measures its first leg from
// where the drone is (issue 22: AUTO started 200 m from home counted a
// 140 m first leg as 60 m).
func TestMissionRouteStartsWhereTheDroneIs(t *testing.T) {
	f, _, v, ev := missionDrone(t)
	fromHome := state(t, f, "sysid-1").Mission.Distance
	lat, lon := offset(-200, 0) // 200 m south of home, at 30 m
	f.Handle(v, ft.Position(2*time.Second, lat, lon, 30))
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 10, State: 3})
	waitFor[fleet.MissionStarted](ev, nil)
	ms := state(t, f, "sysid-1").Mission
	// Takeoff: 30 m climb from home becomes 0 (already at 30 m); the leg to
	// WP 60 N becomes 260 m instead of 60.
	if want := fromHome - 30 + 200; math.Abs(ms.Distance-want) > 2 {
		t.Errorf("route %.1f m from the drone, want %.1f (from home %.1f)", ms.Distance, want, fromHome)
	}
	if ms.Flown > 1 || ms.Remaining < ms.Distance-1 {
		t.Errorf("at the start: flown %.1f remaining %.1f of %.1f", ms.Flown, ms.Remaining, ms.Distance)
	}
}
