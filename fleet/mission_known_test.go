package fleet_test

import (
	"context"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// knownFleet is a fleet whose KnownMission says the server stored plan
// under id for sysid-1, and a vehicle holding onVehicle.
func knownFleet(t *testing.T, id string, plan, onVehicle []fleet.MissionItem) (*fleet.Fleet, *ft.Vehicle, *events, *atomic.Int32) {
	t.Helper()
	var asked atomic.Int32
	f, _ := mustFleet(t, func(f *fleet.Fleet) {
		f.KnownMission = func(drone string) (string, []fleet.MissionItem, bool) {
			asked.Add(1)
			if drone != "sysid-1" {
				return "", nil, false
			}
			return id, plan, true
		}
	})
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
		return onVehicle, nil
	}
	return f, v, ev, &asked
}

// After a restart, a drone flying the stored plan (as ArduCopter stores
// it) keeps the stored mission id and its progress; nothing is uploaded.
func TestKnownMissionKeepsStoredID(t *testing.T) {
	plan := recordedMission()
	f, v, ev, asked := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(plan))
	discover(t, f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	poll(t, "plan re-synced", func() bool { return state(t, f, "sysid-1").Mission.MissionID == "sysid-1-mstored" })
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	st, seen := waitFor[fleet.MissionStarted](ev, nil)
	if st.MissionID != "sysid-1-mstored" {
		t.Errorf("started %s, want the stored id", st.MissionID)
	}
	for _, e := range seen {
		if m, ok := e.(fleet.MissionMismatch); ok {
			t.Errorf("mismatch reported for the same plan: %+v", m)
		}
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateRunning || ms.CurrentSeq != 3 || ms.Done != 2 {
		t.Errorf("re-synced mission %+v", ms)
	}
	if n := v.Calls("UploadMission"); n != 0 {
		t.Errorf("%d uploads, want none", n)
	}
	if asked.Load() != 1 {
		t.Errorf("KnownMission asked %d times, want 1", asked.Load())
	}
}

// A vehicle whose plan was changed behind the server's back: the
// difference is reported naming the stored id, and the vehicle's plan is
// tracked under a new id.
func TestKnownMissionDifferenceReported(t *testing.T) {
	plan := recordedMission()
	other := append([]fleet.MissionItem(nil), plan...)
	other[2] = wp(90, 0)
	f, v, ev, _ := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(other))
	discover(t, f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 10, State: 3})
	mm, _ := waitFor[fleet.MissionMismatch](ev, nil)
	if mm.MissionID != "sysid-1-mstored" || mm.NewMissionID == "" || mm.NewMissionID == mm.MissionID || mm.Seq != 2 || mm.Detail.Code != fleet.DiffPosition || mm.Detail.Item != 2 {
		t.Errorf("mismatch %+v", mm)
	}
	poll(t, "tracked under the new id", func() bool { return state(t, f, "sysid-1").Mission.MissionID == mm.NewMissionID })
	if n := v.Calls("UploadMission"); n != 0 {
		t.Errorf("%d uploads, want none", n)
	}
}

// A plan held but not flown is re-synced too when the server stored one
// (a patrol waiting for its start); without a stored plan it is left alone.
func TestKnownMissionHeldPlan(t *testing.T) {
	plan := recordedMission()
	f, v, _, _ := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(plan))
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	f.Handle(v, fleet.MissionCurrent{Seq: 0, Total: 10, State: 2})
	poll(t, "held plan re-synced", func() bool { return state(t, f, "sysid-1").Mission.MissionID == "sysid-1-mstored" })
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateReady {
		t.Errorf("held plan %+v, want ready", ms)
	}

	f2, v2, _, asked := knownFleet(t, "", nil, plan)
	discover(t, f2, v2, ft.Copter(ft.Guided, false, ft.StatusStandby))
	f2.Handle(v2, fleet.MissionCurrent{Seq: 0, Total: 10, State: 2})
	poll(t, "KnownMission asked", func() bool { return asked.Load() == 1 })
	if n := v2.Calls("DownloadMission"); n != 0 {
		t.Errorf("%d downloads of a held plan the server never stored", n)
	}
}

// After a restart, a stored plan the vehicle completed meanwhile
// (MISSION_STATE_COMPLETE) is finished, not ready: MissionFinished says
// so, and a patrol flying it can end.
func TestKnownMissionCompletedWhileDown(t *testing.T) {
	plan := recordedMission()
	f, v, ev, _ := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(plan))
	discover(t, f, v, ft.Copter(ft.Auto, false, ft.StatusStandby))
	f.Handle(v, fleet.MissionCurrent{Seq: 10, Total: 10, State: 5})
	poll(t, "plan re-synced", func() bool { return state(t, f, "sysid-1").Mission.MissionID == "sysid-1-mstored" })
	f.Handle(v, fleet.MissionCurrent{Seq: 10, Total: 10, State: 5})
	fin, _ := waitFor[fleet.MissionFinished](ev, nil)
	if fin.MissionID != "sysid-1-mstored" {
		t.Errorf("finished %s, want the stored id", fin.MissionID)
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateFinished || ms.Percent != 100 {
		t.Errorf("re-synced completed mission %+v, want finished at 100 %%", ms)
	}
}

// After a restart, a stored plan the vehicle holds stopped part-way
// (MISSION_STATE_PAUSED, e.g. in BRAKE after a pause) is paused at the
// vehicle's item, so ResumeMission continues it there; stopped part-way
// on a drone that landed since, it is interrupted; and a plan uploaded by
// the fleet itself is never taken as completed by a MISSION_CURRENT left
// from an earlier one.
func TestKnownMissionPausedWhileDown(t *testing.T) {
	plan := recordedMission()
	f, v, _, _ := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(plan))
	var current atomic.Int32
	current.Store(-1)
	v.SetCurrentItemFn = func(_ context.Context, seq int) error {
		current.Store(int32(seq))
		return nil
	}
	discover(t, f, v, ft.Copter(ft.Brake, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 5, Total: 10, State: 4})
	poll(t, "plan re-synced", func() bool { return state(t, f, "sysid-1").Mission.MissionID == "sysid-1-mstored" })
	f.Handle(v, fleet.MissionCurrent{Seq: 5, Total: 10, State: 4})
	poll(t, "paused", func() bool { return state(t, f, "sysid-1").Mission.State == fleet.MissionStatePaused })
	if ms := state(t, f, "sysid-1").Mission; ms.PausedSeq != 5 || ms.CurrentSeq != 5 || ms.Done != 3 {
		t.Errorf("re-synced paused mission %+v, want paused at 5 with 3 steps done", ms)
	}
	if err := f.ResumeMission(context.Background(), "sysid-1"); err != nil {
		t.Fatalf("resume the re-synced paused mission: %v", err)
	}
	if got := current.Load(); got != 5 {
		t.Errorf("resume made item %d current, want 5", got)
	}

	// Stopped part-way and landed (disarmed): interrupted, not paused.
	f3, v3, ev3, _ := knownFleet(t, "sysid-1-mstored", plan, arduCopterStored(plan))
	discover(t, f3, v3, ft.Copter(ft.RTL, false, ft.StatusStandby))
	f3.Handle(v3, fleet.MissionCurrent{Seq: 5, Total: 10, State: 4})
	poll(t, "plan re-synced", func() bool { return state(t, f3, "sysid-1").Mission.MissionID == "sysid-1-mstored" })
	f3.Handle(v3, fleet.MissionCurrent{Seq: 5, Total: 10, State: 4})
	if mi, _ := waitFor[fleet.MissionInterrupted](ev3, nil); mi.MissionID != "sysid-1-mstored" || mi.Reason != fleet.InterruptModeChange {
		t.Errorf("landed with the plan stopped part-way: %+v, want the stored mission interrupted (mode_change)", mi)
	}

	// Uploaded by the fleet: a stale COMPLETE does not finish it.
	f2, _ := mustFleet(t)
	v2 := ft.NewVehicle("l", 1)
	discover(t, f2, v2, ft.Copter(ft.Guided, false, ft.StatusStandby))
	f2.Handle(v2, fleet.MissionCurrent{Seq: 0, Total: 10, State: 5})
	if _, err := f2.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	f2.Handle(v2, fleet.MissionCurrent{Seq: 0, Total: 10, State: 5})
	f2.Handle(v2, fleet.MissionCurrent{Seq: 0, Total: 10, State: 5})
	poll(t, "MISSION_CURRENT handled", func() bool { return state(t, f2, "sysid-1").Mission.Items == len(plan) })
	if ms := state(t, f2, "sysid-1").Mission; ms.State != fleet.MissionStateReady {
		t.Errorf("an uploaded plan after a stale COMPLETE: %s, want ready", ms.State)
	}
}

// Mission ids are not a process-local counter: two fleets (a restart, or
// two stations) never hand out the same id for the same drone.
func TestMissionIDsStable(t *testing.T) {
	re := regexp.MustCompile(`^sysid-1-m[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for range 2 {
		f, _ := mustFleet(t)
		v := ft.NewVehicle("l", 1)
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
		for range 3 {
			id, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !re.MatchString(id) || seen[id] {
				t.Fatalf("mission id %q: malformed or reused (%v)", id, seen)
			}
			seen[id] = true
		}
	}
}
