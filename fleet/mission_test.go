package fleet_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// Home of the ArduCopter SITL recordings.
const homeLat, homeLon, homeAMSL = 32.5422, -117.0293, 20.0

// offset returns the point n metres north and e metres east of home.
func offset(n, e float64) (lat, lon float64) {
	return homeLat + n/111195, homeLon + e/(111195*math.Cos(homeLat*math.Pi/180))
}

func wp(n, e float64) fleet.MissionItem {
	lat, lon := offset(n, e)
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true, Lat: lat, Lon: lon, Alt: 30}
}

// recordedMission is the mission of c-mission-auto-rtl.tlog (see its README
// section): 0 home, 1 takeoff 30 m, 2 WP 60 N, 3 WP 60 N 60 E, 4 speed 5,
// 5 WP 60 E, 6 DO_JUMP 2 ×1, 7 WP 60 S, 8 speed 10, 9 WP 60 W, 10 RTL.
func recordedMission() []fleet.MissionItem {
	return []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: homeLat, Lon: homeLon, Alt: homeAMSL},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Alt: 30},
		wp(60, 0),
		wp(60, 60),
		{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Param1: 1, Param2: 5, Param3: -1},
		wp(0, 60),
		{Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Param1: 2, Param2: 1},
		wp(-60, 0),
		{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Param1: 1, Param2: 10, Param3: -1},
		wp(0, -60),
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavReturnToLaunch},
	}
}

// missionDrone is an armed ArduCopter on the ground at home in GUIDED with
// the recorded mission uploaded.
func missionDrone(t *testing.T) (*fleet.Fleet, *ft.Clock, *ft.Vehicle, *events) {
	t.Helper()
	f, clock := mustFleet(t)
	v := ft.NewVehicle("udp:s/127.0.0.1:5760", 1)
	var stored []fleet.MissionItem
	var mu sync.Mutex
	v.UploadMissionFn = func(_ context.Context, _ fleet.MissionType, items []fleet.MissionItem, _ func(int, int)) error {
		mu.Lock()
		defer mu.Unlock()
		stored = items
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
	id, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{})
	if err != nil {
		t.Fatalf("UploadMission: %v", err)
	}
	up, _ := waitFor[fleet.MissionUploaded](ev, nil)
	if up.MissionID != id || up.Items != 11 {
		t.Fatalf("MissionUploaded %+v", up)
	}
	return f, clock, v, ev
}

func TestMissionProgressRecordedTimeline(t *testing.T) {
	f, _, v, ev := missionDrone(t)
	st := state(t, f, "sysid-1")
	if st.Mission.State != fleet.MissionStateReady || st.Mission.Steps != 10 {
		t.Fatalf("after upload: %+v", st.Mission)
	}
	// Route: takeoff 30 up; 60; 60; 60; jump leg 84.85; 60; 60; 84.85; 84.85; RTL 60 + 30 down.
	want := 30 + 60 + 60 + 60 + 60*math.Sqrt2 + 60 + 60 + 60*math.Sqrt2 + 60*math.Sqrt2 + 90
	if math.Abs(st.Mission.Distance-want) > 2 {
		t.Errorf("route distance %.1f m, want %.1f", st.Mission.Distance, want)
	}

	boot := 40 * time.Second
	pos := func(n, e, alt float64) fleet.Update {
		boot += 100 * time.Millisecond
		lat, lon := offset(n, e)
		p := ft.Position(boot, lat, lon, alt)
		p.VN = 9
		return p
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusStandby))
	f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 10, State: 3})
	waitFor[fleet.MissionStarted](ev, nil)

	type step struct {
		reached, current int
		n, e, alt        float64
	}
	// MISSION_ITEM_REACHED then MISSION_CURRENT, as recorded: the DO items
	// 4 and 8 are reported for waypoints 3 and 7.
	timeline := []step{
		{1, 2, 0, 0, 30}, {2, 3, 60, 0, 30}, {4, 5, 60, 60, 30}, {5, 2, 0, 60, 30},
		{2, 3, 60, 0, 30}, {4, 5, 60, 60, 30}, {5, 7, 0, 60, 30}, {8, 9, -60, 0, 30}, {9, 10, 0, -60, 30},
	}
	var reached []int
	var reported []int
	last := -1.0
	for i, s := range timeline {
		// Halfway along the leg, then at the item.
		f.Handle(v, pos(s.n/2, s.e/2, s.alt))
		f.Handle(v, pos(s.n, s.e, s.alt))
		f.Handle(v, fleet.MissionItemReached{Seq: s.reached})
		r, _ := waitFor[fleet.MissionItemReachedEvent](ev, nil)
		reached = append(reached, r.Seq)
		reported = append(reported, r.Reported)
		f.Handle(v, fleet.MissionCurrent{Seq: s.current, Total: 10, State: 3})
		ms := state(t, f, "sysid-1").Mission
		if ms.Percent < last {
			t.Errorf("step %d: percent went back from %.1f to %.1f", i, last, ms.Percent)
		}
		last = ms.Percent
		if ms.Done != i+1 || ms.CurrentSeq != s.current {
			t.Errorf("step %d: done %d current %d, want %d and %d", i, ms.Done, ms.CurrentSeq, i+1, s.current)
		}
	}
	if !slices.Equal(reached, []int{1, 2, 3, 5, 2, 3, 5, 7, 9}) || !slices.Equal(reported, []int{1, 2, 4, 5, 2, 4, 5, 8, 9}) {
		t.Errorf("reached %v (reported %v)", reached, reported)
	}
	ms := state(t, f, "sysid-1").Mission
	if ms.Percent < 80 || ms.Percent > 90 || ms.ETA <= 0 {
		t.Errorf("before RTL: %.1f %%, ETA %v", ms.Percent, ms.ETA)
	}

	// RTL item: fly home, land, disarm, then REACHED 10 and COMPLETE (seq 0).
	f.Handle(v, pos(0, 0, 10))
	f.Handle(v, pos(0, 0, 0))
	f.Handle(v, ft.Copter(ft.Auto, false, ft.StatusStandby))
	f.Handle(v, fleet.MissionItemReached{Seq: 10})
	f.Handle(v, fleet.MissionCurrent{Seq: 0, Total: 10, State: 5})
	f.Handle(v, fleet.MissionCurrent{Seq: 0, Total: 10, State: 5})
	fin, seen := waitFor[fleet.MissionFinished](ev, nil)
	if fin.DroneID != "sysid-1" {
		t.Errorf("finished %+v", fin)
	}
	for _, e := range append(seen, ev.drain()...) {
		switch e.(type) {
		case fleet.MissionFinished, fleet.MissionInterrupted:
			t.Errorf("extra %T", e)
		}
	}
	ms = state(t, f, "sysid-1").Mission
	if ms.State != fleet.MissionStateFinished || ms.Percent != 100 || ms.Done != ms.Steps || ms.Remaining != 0 {
		t.Errorf("finished status %+v", ms)
	}
}

func TestMissionEndlessLoop(t *testing.T) {
	f, _, v, _ := missionDrone(t)
	items := recordedMission()[:7]
	items[6].Param2 = -1 // jump to 2 forever
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, items, fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	ms := state(t, f, "sysid-1").Mission
	if !ms.Looping || ms.Steps != 4 {
		t.Fatalf("loop plan %+v", ms)
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	for _, seq := range []int{1, 2, 3, 5, 2, 3, 5, 2} {
		f.Handle(v, fleet.MissionCurrent{Seq: seq, Total: 6, State: 3})
	}
	poll(t, "two laps", func() bool { return state(t, f, "sysid-1").Mission.Laps == 2 })
	ms = state(t, f, "sysid-1").Mission
	if ms.State != fleet.MissionStateRunning || ms.CurrentSeq != 2 || ms.Percent >= 50 {
		t.Errorf("after two laps %+v", ms)
	}
}

func TestMissionInterrupted(t *testing.T) {
	cases := []struct {
		name   string
		run    func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle)
		reason fleet.InterruptReason
	}{
		{"mode change by someone else", func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle) {
			f.Handle(v, ft.Copter(ft.Loiter, true, ft.StatusActive))
			clock.Advance(2500 * time.Millisecond)
		}, fleet.InterruptModeChange},
		{"GCS failsafe with critical status", func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle) {
			f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusCritical))
			f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
		}, fleet.InterruptFailsafe},
		{"battery failsafe text after the mode", func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle) {
			f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
			clock.Advance(500 * time.Millisecond)
			f.Handle(v, fleet.StatusText{Severity: 4, Text: "Battery 1 is low 10.50V used 4000 mAh"})
		}, fleet.InterruptFailsafe},
		{"fence breach", func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle) {
			f.Handle(v, fleet.FenceStatus{Breached: true, Count: 1, BreachType: 3})
			f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
			f.Handle(v, fleet.StatusText{Severity: 5, Text: "Polygon fence breached"})
		}, fleet.InterruptFailsafe},
		{"link lost", func(f *fleet.Fleet, clock *ft.Clock, v *ft.Vehicle) {
			clock.Advance(4 * time.Second)
		}, fleet.InterruptLinkLost},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, clock, v, ev := missionDrone(t)
			f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
			f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 10, State: 3})
			waitFor[fleet.MissionStarted](ev, nil)
			c.run(f, clock, v)
			mi, _ := waitFor[fleet.MissionInterrupted](ev, nil)
			if mi.Reason != c.reason || mi.Seq != 2 {
				t.Errorf("interrupted %+v, want reason %q at 2", mi, c.reason)
			}
			if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateInterrupted || ms.Reason != c.reason {
				t.Errorf("status %+v", ms)
			}
		})
	}
}

func TestMissionResyncOnRegain(t *testing.T) {
	f, clock, v, ev := missionDrone(t)
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 10, State: 3})
	f.Handle(v, fleet.MissionItemReached{Seq: 2})
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	before := state(t, f, "sysid-1").Mission
	clock.Advance(4 * time.Second)
	waitFor[fleet.MissionInterrupted](ev, nil)
	downloads := v.Calls("DownloadMission")

	// The drone flew on to item 5 while unheard. The fleet re-reads the
	// plan, then follows MISSION_CURRENT instead of assuming.
	clock.Advance(10 * time.Second)
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	waitFor[fleet.LinkRegained](ev, nil)
	poll(t, "mission download", func() bool { return v.Calls("DownloadMission") > downloads })
	f.Handle(v, fleet.MissionCurrent{Seq: 5, Total: 10, State: 3})
	res, _ := waitFor[fleet.MissionResumed](ev, nil)
	if res.Seq != 5 || res.MissionID != before.MissionID {
		t.Errorf("resumed %+v (mission was %s)", res, before.MissionID)
	}
	ms := state(t, f, "sysid-1").Mission
	if ms.State != fleet.MissionStateRunning || ms.Done != 3 || ms.Percent < before.Percent {
		t.Errorf("after re-sync %+v (before %.1f %%)", ms, before.Percent)
	}
}

func TestMissionResyncAdoptsChangedPlan(t *testing.T) {
	f, clock, v, ev := missionDrone(t)
	old := state(t, f, "sysid-1").Mission.MissionID
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 10, State: 3})
	clock.Advance(4 * time.Second)
	waitFor[fleet.LinkLost](ev, nil)
	// Another ground station uploaded a different plan meanwhile.
	other := []fleet.MissionItem{recordedMission()[0], recordedMission()[1], wp(100, 0), {Command: fleet.CmdNavLand, Frame: fleet.FrameGlobalRelativeAlt}}
	v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
		return other, nil
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	poll(t, "adopted plan", func() bool { return state(t, f, "sysid-1").Mission.Items == 4 })
	f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 3, State: 3})
	st, _ := waitFor[fleet.MissionStarted](ev, nil)
	if st.MissionID == old {
		t.Errorf("changed plan kept the mission id %s", old)
	}
	if ms := state(t, f, "sysid-1").Mission; ms.Steps != 3 || ms.CurrentSeq != 2 || ms.State != fleet.MissionStateRunning {
		t.Errorf("adopted %+v", ms)
	}
}

func TestMissionAdoptedWhenUnknown(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
		return recordedMission(), nil
	}
	discover(t, f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
	// The server restarted while the drone flies a mission.
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	poll(t, "plan read", func() bool { return state(t, f, "sysid-1").Mission.Items == 11 })
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
	poll(t, "tracking", func() bool { return state(t, f, "sysid-1").Mission.State == fleet.MissionStateRunning })
	if ms := state(t, f, "sysid-1").Mission; ms.CurrentSeq != 3 || ms.Done != 2 {
		t.Errorf("adopted mission %+v", ms)
	}
}

func TestMissionControl(t *testing.T) {
	f, _, v, ev := missionDrone(t)
	ctx := context.Background()
	// Start from the ground, disarmed in STABILIZE: GUIDED, arm (refused
	// twice), AUTO, MISSION_START.
	f.Handle(v, ft.Copter(ft.Stabilize, false, ft.StatusStandby))
	n0 := len(v.Commands())
	arms := 0
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind == fleet.CommandArm {
			if arms++; arms <= 2 {
				return fleet.Errorf(fleet.Denied, "Arm: Need Position Estimate")
			}
		}
		return nil
	}
	f.ArmRetryInterval = 5 * time.Millisecond
	if err := f.StartMission(ctx, "sysid-1", fleet.StartOptions{ArmWait: 5 * time.Second}); err != nil {
		t.Fatalf("StartMission: %v", err)
	}
	cmds := v.Commands()[n0:]
	var desc []string
	for _, c := range cmds {
		s := c.Kind.String()
		if c.Kind == fleet.CommandSetMode {
			s += ":" + fleet.ModeName(3, 2, c.Mode)
		}
		desc = append(desc, s)
	}
	want := []string{"set_mode:GUIDED", "arm", "arm", "arm", "set_mode:AUTO", "mission_start"}
	if !slices.Equal(desc, want) {
		t.Errorf("start commands %v, want %v", desc, want)
	}
	waitFor[fleet.MissionStarted](ev, nil)
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})

	// Pause: BRAKE, remembering item 3; the mode change is the fleet's own.
	if err := f.PauseMission(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	p, _ := waitFor[fleet.MissionPaused](ev, nil)
	if p.Seq != 3 {
		t.Errorf("paused at %d, want 3", p.Seq)
	}
	if c := v.Commands()[len(v.Commands())-1]; c.Kind != fleet.CommandSetMode || c.Mode != ft.Brake {
		t.Errorf("pause sent %+v", c)
	}
	f.Handle(v, ft.Copter(ft.Brake, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 4})
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStatePaused || ms.PausedSeq != 3 {
		t.Errorf("paused status %+v", ms)
	}
	if err := f.PauseMission(ctx, "sysid-1"); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("second pause = %v, want Conflict", err)
	}

	// Resume: current item 3, then AUTO.
	var current atomic.Int64
	current.Store(-1)
	v.SetCurrentItemFn = func(_ context.Context, seq int) error { current.Store(int64(seq)); return nil }
	if err := f.ResumeMission(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	if r, _ := waitFor[fleet.MissionResumed](ev, nil); r.Seq != 3 || current.Load() != 3 {
		t.Errorf("resumed %+v, set current %d", r, current.Load())
	}
	if c := v.Commands()[len(v.Commands())-1]; c.Kind != fleet.CommandSetMode || c.Mode != ft.Auto {
		t.Errorf("resume sent %+v", c)
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))

	// Abort: RTL, interrupted as aborted, and the RTL is not someone else's.
	if err := f.AbortMission(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	mi, _ := waitFor[fleet.MissionInterrupted](ev, nil)
	if mi.Reason != fleet.InterruptAborted {
		t.Errorf("abort: %+v", mi)
	}
	if k := v.CommandKinds()[len(v.Commands())-1]; k != fleet.CommandReturnToLaunch {
		t.Errorf("abort sent %v", k)
	}
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
	mc, _ := waitFor[fleet.ModeChanged](ev, nil)
	if !mc.Commanded {
		t.Errorf("abort's RTL taken as foreign: %+v", mc)
	}
}

func TestMissionStartWithoutPlan(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	err := f.StartMission(context.Background(), "sysid-1", fleet.StartOptions{})
	if fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("StartMission without a plan = %v, want Conflict", err)
	}
	if slices.Contains(v.CommandKinds(), fleet.CommandArm) {
		t.Error("armed without a plan")
	}
}

func TestUploadValidation(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	bad := func(mut func([]fleet.MissionItem) []fleet.MissionItem) []fleet.MissionItem {
		return mut(recordedMission())
	}
	cases := []struct {
		name  string
		items []fleet.MissionItem
		msg   string
	}{
		{"empty", nil, "empty mission plan (use ClearMission to remove one)"},
		{"latitude", bad(func(m []fleet.MissionItem) []fleet.MissionItem { m[3].Lat = 95; return m }), "item 3: position 95, "},
		{"NaN altitude", bad(func(m []fleet.MissionItem) []fleet.MissionItem { m[2].Alt = math.NaN(); return m }), "item 2: altitude NaN out of range"},
		{"jump target", bad(func(m []fleet.MissionItem) []fleet.MissionItem { m[6].Param1 = 40; return m }), "item 6: DO_JUMP to missing item 40"},
		{"frame", bad(func(m []fleet.MissionItem) []fleet.MissionItem { m[5].Frame = 99; return m }), "item 5: unknown frame 99"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, c.items, fleet.UploadOptions{})
			if fleet.ErrorCode(err) != fleet.Invalid || len(fleet.ErrorMessage(err)) < len(c.msg) || fleet.ErrorMessage(err)[:len(c.msg)] != c.msg {
				t.Errorf("UploadMission = %v, want Invalid %q", err, c.msg)
			}
		})
	}
	if v.Calls("UploadMission") != 0 {
		t.Error("an invalid plan reached the vehicle")
	}
	// Items are renumbered; the guard sees them.
	g := &guard{refuse: fleet.Errorf(fleet.Conflict, "route leaves allowed space at item 3 (zone airport-tij)")}
	f.Guard = g
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{}); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("guarded upload = %v", err)
	}
	f.Guard = nil
	var got []fleet.MissionItem
	v.UploadMissionFn = func(_ context.Context, _ fleet.MissionType, items []fleet.MissionItem, _ func(int, int)) error {
		got = items
		return nil
	}
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, it := range got {
		if it.Seq != i || it.Current != (i == 0) {
			t.Errorf("item %d: seq %d current %v", i, it.Seq, it.Current)
		}
	}
}

func TestUploadMissionsConcurrently(t *testing.T) {
	f, clock := mustFleet(t)
	const n = 20
	var started atomic.Int32
	allStarted := make(chan struct{})
	for i := range n {
		v := ft.NewVehicle(fmt.Sprintf("udp:s/%d", i), uint8(i+1))
		switch i {
		case 7: // dead link: never answers
			v.UploadMissionFn = func(ctx context.Context, _ fleet.MissionType, _ []fleet.MissionItem, _ func(int, int)) error {
				<-ctx.Done()
				return ctx.Err()
			}
		case 11: // refuses
			v.UploadMissionFn = func(context.Context, fleet.MissionType, []fleet.MissionItem, func(int, int)) error {
				return &fleet.Error{Code: fleet.Denied, Message: "mission refused", Reason: "MAV_MISSION_NO_SPACE"}
			}
		default: // each waits until all healthy uploads run at once
			v.UploadMissionFn = func(ctx context.Context, _ fleet.MissionType, _ []fleet.MissionItem, _ func(int, int)) error {
				if started.Add(1) == n-3 { // all but 8, 12 and the lost 20
					close(allStarted)
				}
				select {
				case <-allStarted:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	}
	// Drone 20 loses its link.
	clock.Advance(2 * time.Second)
	for i := range n - 1 {
		f.Handle(ft.NewVehicle(fmt.Sprintf("udp:s/%d", i), uint8(i+1)), ft.Copter(ft.Guided, false, ft.StatusStandby))
	}
	clock.Advance(2 * time.Second)
	poll(t, "sysid-20 lost", func() bool { return state(t, f, "sysid-20").LinkState == fleet.LinkStateLost })
	plans := map[string][]fleet.MissionItem{"nobody": recordedMission()}
	for i := range n {
		plans[fmt.Sprintf("sysid-%d", i+1)] = recordedMission()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	res := f.UploadMissions(ctx, fleet.MissionTypeMission, plans)
	if time.Since(start) > 3*time.Second {
		t.Errorf("uploads took %v", time.Since(start))
	}
	for id, err := range res {
		want := fleet.Code("")
		switch id {
		case "nobody":
			want = fleet.NotFound
		case "sysid-8":
			want = fleet.Timeout
		case "sysid-12":
			want = fleet.Denied
		case "sysid-20":
			want = fleet.NoDrone
		}
		if fleet.ErrorCode(err) != want {
			t.Errorf("%s: %v, want code %q", id, err, want)
		}
	}
	if len(res) != n+1 {
		t.Errorf("%d results, want %d", len(res), n+1)
	}
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateReady || ms.Items != 11 {
		t.Errorf("sysid-1 mission %+v", ms)
	}
	if ms := state(t, f, "sysid-8").Mission; ms.State != fleet.MissionStateNone {
		t.Errorf("failed upload tracked: %+v", ms)
	}
}

func TestMissionBusy(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	release := make(chan struct{})
	inUpload := make(chan struct{})
	v.UploadMissionFn = func(ctx context.Context, _ fleet.MissionType, _ []fleet.MissionItem, _ func(int, int)) error {
		close(inUpload)
		<-release
		return nil
	}
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	errc := make(chan error, 1)
	go func() {
		_, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeFence, recordedMission(), fleet.UploadOptions{})
		errc <- err
	}()
	<-inUpload
	if _, err := f.DownloadMission(context.Background(), "sysid-1", fleet.MissionTypeMission); fleet.ErrorCode(err) != fleet.Busy {
		t.Errorf("download during upload = %v, want Busy", err)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// A fence upload does not become the tracked mission.
	if ms := state(t, f, "sysid-1").Mission; ms.State != fleet.MissionStateNone {
		t.Errorf("fence tracked as mission: %+v", ms)
	}
}

// A pause that follows MISSION_ITEM_REACHED before MISSION_CURRENT moved on
// (ArduCopter updates it 0.05–0.2 s later) holds the next item, and resume
// flies it, not the one already reached (found end to end at speed-up).
func TestMissionPauseRightAfterItemReached(t *testing.T) {
	f, _, v, ev := missionDrone(t)
	ctx := context.Background()
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 2, Total: 10, State: 3})
	waitFor[fleet.MissionStarted](ev, nil)
	f.Handle(v, fleet.MissionItemReached{Seq: 2})
	waitFor[fleet.MissionItemReachedEvent](ev, nil)

	if err := f.PauseMission(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := waitFor[fleet.MissionPaused](ev, nil); p.Seq != 3 {
		t.Errorf("paused at %d, want 3 (2 was reached)", p.Seq)
	}
	f.Handle(v, ft.Copter(ft.Brake, true, ft.StatusActive))
	f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 4})

	var current atomic.Int64
	current.Store(-1)
	v.SetCurrentItemFn = func(_ context.Context, seq int) error { current.Store(int64(seq)); return nil }
	if err := f.ResumeMission(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	if r, _ := waitFor[fleet.MissionResumed](ev, nil); r.Seq != 3 || current.Load() != 3 {
		t.Errorf("resumed %+v, set current %d; want 3", r, current.Load())
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(v, fleet.MissionItemReached{Seq: 4}) // WP 3, reported as the DO item after it
	if r, _ := waitFor[fleet.MissionItemReachedEvent](ev, nil); r.Seq != 3 {
		t.Errorf("reached %+v after resuming, want item 3", r)
	}
}

// A drone already flying starts a route planned in the air (home, then
// DO_CHANGE_SPEED, then waypoints) at item 1, the DO item, and not at the
// first waypoint: ArduPilot runs the speed change and reports the waypoint
// after it as current (see StartMission); making the waypoint current
// would skip the speed change. The route is measured from where the drone
// is, and the first step is that waypoint.
func TestMissionStartInTheAir(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	var current atomic.Int64
	current.Store(-1)
	v.SetCurrentItemFn = func(_ context.Context, seq int) error { current.Store(int64(seq)); return nil }
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	lat, lon := offset(-80, 0)
	ft.Feed(f, v, fleet.Home{Lat: homeLat, Lon: homeLon, AltMSL: homeAMSL}, ft.Position(time.Second, lat, lon, 30))
	poll(t, "flying", func() bool { return state(t, f, "sysid-1").Flying() })
	plan := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: homeLat, Lon: homeLon, Alt: homeAMSL},
		{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Param1: 1, Param2: 5, Param3: -1},
		wp(60, 0),
		wp(60, 60),
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavReturnToLaunch},
	}
	ctx := context.Background()
	if _, err := f.UploadMission(ctx, "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.StartMission(ctx, "sysid-1", fleet.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := current.Load(); got != 1 {
		t.Errorf("made item %d current on the flying drone, want 1 (the speed change before the first waypoint)", got)
	}
	ms := state(t, f, "sysid-1").Mission
	// 140 m to the first waypoint (30 m up to 30 m: level), 60, then home.
	want := 140 + 60 + math.Hypot(60, 60) + 30
	if ms.State != fleet.MissionStateRunning || ms.CurrentSeq != 2 || math.Abs(ms.Distance-want) > 2 {
		t.Errorf("started in the air: %+v, want running at item 2 over %.0f m", ms, want)
	}
}
