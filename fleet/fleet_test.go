package fleet_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestInitializeErrors(t *testing.T) {
	cases := []struct {
		name string
		f    func() *fleet.Fleet
	}{
		{"negative link timeout", func() *fleet.Fleet { return &fleet.Fleet{LinkTimeout: -time.Second} }},
		{"negative tick", func() *fleet.Fleet { return &fleet.Fleet{TickInterval: -1} }},
		{"unknown hold mode", func() *fleet.Fleet { return &fleet.Fleet{HoldMode: "HOVER"} }},
		{"negative stream rate", func() *fleet.Fleet { return &fleet.Fleet{StreamRates: &fleet.StreamRates{Hz: -1}} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f()
			err := f.Initialize()
			if fleet.ErrorCode(err) != fleet.Invalid {
				f.Close()
				t.Fatalf("Initialize = %v, want Invalid", err)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	f, _ := mustFleet(t, func(f *fleet.Fleet) {
		f.Names = map[uint8]string{2: "alpha"}
		f.Agencies = map[uint8]string{2: "cbp"}
		f.DefaultAgency = "sedena"
	})
	ev := subscribe(t, f, fleet.SubscribeOptions{})

	gcs := ft.NewVehicle("udp:a/b", 255)
	f.Handle(gcs, ft.GCS())
	camera := ft.NewVehicle("udp:a/c", 7)
	f.Handle(camera, fleet.Heartbeat{VehicleType: 30, Autopilot: 8, ComponentID: 100})
	early := ft.NewVehicle("udp:a/d", 9)
	f.Handle(early, ft.Position(time.Second, 32.5, -117, 10)) // before any heartbeat

	v1 := ft.NewVehicle("udp:a/e", 1)
	f.Handle(v1, ft.Copter(ft.Stabilize, false, ft.StatusStandby))
	got, _ := waitFor[fleet.DroneDiscovered](ev, nil)
	if got.Drone.ID != "sysid-1" || got.Drone.Name != "sysid-1" || got.Drone.Agency != "sedena" || got.Drone.SysID != 1 {
		t.Errorf("discovered %+v", got.Drone)
	}
	if got.Drone.Mode != "STABILIZE" || got.Drone.LinkState != fleet.LinkStateUp || got.Drone.Link != "udp:a/e" {
		t.Errorf("discovered state mode %q link %v %q", got.Drone.Mode, got.Drone.LinkState, got.Drone.Link)
	}

	v2 := ft.NewVehicle("udp:a/f", 2)
	f.Handle(v2, ft.Copter(ft.Guided, false, ft.StatusStandby))
	got, _ = waitFor[fleet.DroneDiscovered](ev, nil)
	if got.Drone.ID != "alpha" || got.Drone.Name != "alpha" || got.Drone.Agency != "cbp" {
		t.Errorf("named drone %+v", got.Drone)
	}

	ids := []string{}
	for _, d := range f.Drones() {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"alpha", "sysid-1"}) {
		t.Errorf("Drones = %v, want [alpha sysid-1]", ids)
	}
	if _, err := f.Drone("sysid-255"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("ground station became a drone: %v", err)
	}

	// Streams and AUTOPILOT_VERSION are asked for, off the ingest path.
	poll(t, "streams requested", func() bool { return v1.Calls("RequestStreams") == 1 })
	poll(t, "version requested", func() bool { return len(v1.Commands()) == 1 })
	if c := v1.Commands()[0]; c.Kind != fleet.CommandRequestMessage || c.MessageID != 148 {
		t.Errorf("first command %+v, want request_message 148", c)
	}
}

func TestStreamRates(t *testing.T) {
	rates := make(chan fleet.StreamRates, 1)
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	v.RequestStreamsFn = func(_ context.Context, r fleet.StreamRates) error { rates <- r; return nil }
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	select {
	case r := <-rates:
		if r.Hz != 4 || r.PerMessage["GLOBAL_POSITION_INT"] != 10 {
			t.Errorf("rates %+v, want 4 Hz and position 10 Hz", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no stream request")
	}
}

func TestModeNames(t *testing.T) {
	copter := []struct {
		n    uint32
		name string
	}{
		{0, "STABILIZE"}, {1, "ACRO"}, {2, "ALT_HOLD"}, {3, "AUTO"}, {4, "GUIDED"}, {5, "LOITER"},
		{6, "RTL"}, {7, "CIRCLE"}, {9, "LAND"}, {11, "DRIFT"}, {13, "SPORT"}, {14, "FLIP"},
		{15, "AUTOTUNE"}, {16, "POSHOLD"}, {17, "BRAKE"}, {18, "THROW"}, {19, "AVOID_ADSB"},
		{20, "GUIDED_NOGPS"}, {21, "SMART_RTL"}, {8, "MODE(8)"}, {99, "MODE(99)"},
	}
	for _, c := range copter {
		t.Run("ArduCopter/"+c.name, func(t *testing.T) {
			if got := fleet.ModeName(3, 2, c.n); got != c.name {
				t.Errorf("ModeName(ArduCopter, %d) = %q, want %q", c.n, got, c.name)
			}
			n, ok := fleet.ModeNumber(3, 2, c.name)
			if !ok || n != c.n {
				t.Errorf("ModeNumber(ArduCopter, %q) = %d, %v; want %d", c.name, n, ok, c.n)
			}
		})
	}
	px4 := []struct {
		main, sub uint8
		name      string
	}{
		{1, 0, "MANUAL"}, {2, 0, "ALTCTL"}, {3, 0, "POSCTL"}, {3, 1, "POSCTL.ORBIT"},
		{4, 2, "AUTO.TAKEOFF"}, {4, 3, "AUTO.LOITER"}, {4, 4, "AUTO.MISSION"}, {4, 5, "AUTO.RTL"},
		{4, 6, "AUTO.LAND"}, {4, 8, "AUTO.FOLLOW_TARGET"}, {4, 9, "AUTO.PRECLAND"},
		{5, 0, "ACRO"}, {6, 0, "OFFBOARD"}, {7, 0, "STABILIZED"},
	}
	for _, c := range px4 {
		t.Run("PX4/"+c.name, func(t *testing.T) {
			custom := uint32(c.main)<<16 | uint32(c.sub)<<24
			if got := fleet.ModeName(12, 2, custom); got != c.name {
				t.Errorf("ModeName(PX4, main %d sub %d) = %q, want %q", c.main, c.sub, got, c.name)
			}
			n, ok := fleet.ModeNumber(12, 2, c.name)
			if !ok || n != custom {
				t.Errorf("ModeNumber(PX4, %q) = %#x, %v; want %#x", c.name, n, ok, custom)
			}
		})
	}
	if _, ok := fleet.ModeNumber(3, 2, "AUTO.MISSION"); ok {
		t.Error("ArduCopter has no AUTO.MISSION")
	}
	if got := fleet.ModeName(3, 1, 4); got != "MODE(4)" {
		t.Errorf("ArduPlane mode decoded with the copter table: %q", got)
	}
}

func TestStateFromHeartbeat(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	// Disarmed GUIDED: base_mode 0x59 has GUIDED_ENABLED, not armed.
	f.Handle(v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	st := state(t, f, "sysid-1")
	if st.Armed || st.Mode != "GUIDED" || st.SystemStatus != 3 || st.Landed != fleet.LandedOnGround {
		t.Errorf("state armed %v mode %q status %d landed %v", st.Armed, st.Mode, st.SystemStatus, st.Landed)
	}
	hb := ft.Copter(ft.Guided, false, ft.StatusStandby)
	hb.BaseMode = 0x59 | 0x80
	f.Handle(v, hb)
	waitFor[fleet.Armed](ev, nil)
	// Mode from custom_mode only: base_mode flags change nothing.
	hb.BaseMode = 0x80 | 0x01
	hb.CustomMode = ft.RTL
	hb.SystemStatus = ft.StatusCritical
	f.Handle(v, hb)
	sc, _ := waitFor[fleet.SystemStatusChanged](ev, nil)
	if sc.To != 5 || fleet.SystemStatusName(sc.To) != "CRITICAL" {
		t.Errorf("SystemStatusChanged %+v", sc)
	}
	mc, _ := waitFor[fleet.ModeChanged](ev, nil)
	if mc.From != "GUIDED" || mc.To != "RTL" || mc.Commanded {
		t.Errorf("ModeChanged %+v", mc)
	}
	f.Handle(v, ft.Copter(ft.RTL, false, ft.StatusStandby))
	waitFor[fleet.Disarmed](ev, nil)
}

func TestNoPositionBeforeFix(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	for i := range 10 {
		f.Handle(v, ft.NoFix(time.Duration(i+1)*time.Second))
	}
	f.Handle(v, fleet.GlobalPosition{TimeBoot: 11 * time.Second, Lat: math.NaN(), Lon: 10})
	f.Handle(v, fleet.GlobalPosition{TimeBoot: 11 * time.Second, Lat: 95, Lon: 10})
	st := state(t, f, "sysid-1")
	if st.HasPosition || st.Position != (fleet.Position{}) {
		t.Fatalf("position before fix: %+v (has %v)", st.Position, st.HasPosition)
	}
	f.Handle(v, ft.Position(12*time.Second, 32.5422, -117.0293, 0.1))
	st = state(t, f, "sysid-1")
	if !st.HasPosition || st.Position.Lat != 32.5422 || st.Position.Lon != -117.0293 || st.AltMSL != 20.1 {
		t.Fatalf("after fix: %+v AMSL %v", st.Position, st.AltMSL)
	}
	// A later 0,0 (a glitch) never replaces the real position.
	f.Handle(v, ft.NoFix(13*time.Second))
	if st2 := state(t, f, "sysid-1"); st2.Position != st.Position {
		t.Errorf("0,0 taken after fix: %+v", st2.Position)
	}
}

func TestTelemetryState(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	ft.Feed(f, v,
		ft.Copter(0, false, ft.StatusStandby),
		fleet.GlobalPosition{TimeBoot: time.Second, Lat: 32.5, Lon: -117, AltMSL: 50, RelAlt: 30, VN: 3, VE: 4, VD: -1, HeadingDeg: 53},
		fleet.Attitude{TimeBoot: time.Second, Roll: 0.1, Pitch: -0.2, Yaw: 1.5},
		fleet.SysStatus{VoltageV: 12.6, CurrentA: 10, RemainingPct: 80},
		fleet.Battery{VoltageV: math.NaN(), CurrentA: math.NaN(), RemainingPct: -1, ConsumedMAh: 123},
		fleet.GPSRaw{FixType: 6, Satellites: 10, HDOP: 0.8},
		fleet.Home{Lat: 32.54, Lon: -117.03, AltMSL: 20.1},
		fleet.AutopilotVersion{Capabilities: fleet.CapabilityMissionInt | fleet.CapabilityMAVLink2, FlightSW: 0x04070000, CustomVersion: "90700977"},
		fleet.LinkStats{Received: 900, Lost: 100, Rate: 42},
		fleet.FenceStatus{Breached: true, Count: 1, BreachType: 3},
	)
	st := state(t, f, "sysid-1")
	if st.GroundSpeed != 5 || st.Climb != 1 || st.Heading != 53 || st.VelN != 3 {
		t.Errorf("velocity gs %v climb %v heading %v", st.GroundSpeed, st.Climb, st.Heading)
	}
	if st.Roll != 0.1 || st.Pitch != -0.2 || st.Yaw != 1.5 {
		t.Errorf("attitude %v %v %v", st.Roll, st.Pitch, st.Yaw)
	}
	if st.Battery.VoltageV != 12.6 || st.Battery.CurrentA != 10 || st.Battery.RemainingPct != 80 || st.Battery.ConsumedMAh != 123 {
		t.Errorf("battery %+v", st.Battery)
	}
	if st.GPS.FixType != 6 || st.GPS.Satellites != 10 || !st.HasHome || st.Home.AltMSL != 20.1 {
		t.Errorf("gps %+v home %+v", st.GPS, st.Home)
	}
	if !st.Version.Known || st.Version.Firmware != "4.7.0-dev" || !st.Version.Has(fleet.CapabilityMissionInt) || st.Version.Has(fleet.CapabilityCommandInt) {
		t.Errorf("version %+v", st.Version)
	}
	if st.Quality.RateHz != 42 || st.Quality.LossPct != 10 {
		t.Errorf("quality %+v", st.Quality)
	}
	if !st.Fence.Breached || st.Fence.Count != 1 {
		t.Errorf("fence %+v", st.Fence)
	}
}

func TestLandedInference(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	lat, lon := 32.5422, -117.0293
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby), ft.Position(time.Second, lat, lon, 0))
	if st := state(t, f, "sysid-1"); st.Landed != fleet.LandedOnGround {
		t.Fatalf("disarmed landed = %v", st.Landed)
	}
	ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusStandby), ft.Position(2*time.Second, lat, lon, 0.2))
	if st := state(t, f, "sysid-1"); st.Landed != fleet.LandedOnGround {
		t.Fatalf("armed on ground landed = %v", st.Landed)
	}
	ft.Feed(f, v, ft.Position(3*time.Second, lat, lon, 5))
	waitFor[fleet.TookOff](ev, nil)
	ft.Feed(f, v, ft.Position(4*time.Second, lat, lon, 0.1))
	waitFor[fleet.Landed](ev, nil)

	// EXTENDED_SYS_STATE, when sent, wins over inference.
	ft.Feed(f, v, fleet.ExtendedState{Landed: 2})
	waitFor[fleet.TookOff](ev, nil)
	ft.Feed(f, v, ft.Position(5*time.Second, lat, lon, 0))
	if st := state(t, f, "sysid-1"); st.Landed != fleet.LandedInAir {
		t.Errorf("inference overrode EXTENDED_SYS_STATE: %v", st.Landed)
	}
}

func TestLinkLostAndRegained(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))

	clock.Advance(2900 * time.Millisecond)
	f.Handle(v, ft.Position(time.Second, 32.5, -117, 0)) // telemetry does not keep a link up
	time.Sleep(20 * time.Millisecond)                    // a few scheduler ticks
	if st := state(t, f, "sysid-1"); st.LinkState != fleet.LinkStateUp {
		t.Fatalf("lost before the timeout")
	}
	clock.Advance(200 * time.Millisecond)
	lost, _ := waitFor[fleet.LinkLost](ev, nil)
	if lost.DroneID != "sysid-1" || !lost.LastHeartbeat.Equal(epoch) {
		t.Errorf("LinkLost %+v", lost)
	}
	if st := state(t, f, "sysid-1"); st.LinkState != fleet.LinkStateLost {
		t.Errorf("state link %v", st.LinkState)
	}
	if err := f.Land(context.Background(), "sysid-1"); fleet.ErrorCode(err) != fleet.NoDrone {
		t.Errorf("Land on lost link = %v, want NoDrone", err)
	}

	clock.Advance(10 * time.Second)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	reg, _ := waitFor[fleet.LinkRegained](ev, nil)
	if reg.Down != 10*time.Second || reg.Link != "l" {
		t.Errorf("LinkRegained %+v", reg)
	}
	poll(t, "streams asked again", func() bool { return v.Calls("RequestStreams") == 2 })
}

func TestReconnectFollowsNewLink(t *testing.T) {
	f, clock := mustFleet(t)
	old := ft.NewVehicle("udp:s/127.0.0.1:4000", 1)
	discover(t, f, old, ft.Copter(ft.Guided, false, ft.StatusStandby))
	nu := ft.NewVehicle("udp:s/127.0.0.1:4001", 1)
	f.Handle(nu, ft.Copter(ft.Guided, true, ft.StatusStandby)) // the old link is up: a claim
	if st := state(t, f, "sysid-1"); st.Link != old.K.Link || st.Armed {
		t.Fatalf("moved while the old link was up: %q armed %v", st.Link, st.Armed)
	}
	clock.Advance(3100 * time.Millisecond) // the old link goes silent: lost
	poll(t, "link lost", func() bool { return state(t, f, "sysid-1").LinkState == fleet.LinkStateLost })
	f.Handle(nu, ft.Position(time.Second, 32.5, -117, 0)) // telemetry alone does not move it
	if st := state(t, f, "sysid-1"); st.Link != old.K.Link || st.HasPosition {
		t.Fatalf("moved on telemetry: %+v", st.Link)
	}
	f.Handle(nu, ft.Copter(ft.Guided, true, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.Link != nu.K.Link || !st.Armed || st.LinkState != fleet.LinkStateUp {
		t.Fatalf("did not follow the new link: %q armed %v", st.Link, st.Armed)
	}
	f.Handle(old, ft.Position(2*time.Second, 1, 1, 0)) // stale link
	if st := state(t, f, "sysid-1"); st.HasPosition {
		t.Errorf("took telemetry from the old link")
	}
	if err := f.Land(context.Background(), "sysid-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(old.CommandKinds()); n != 1 { // only its AUTOPILOT_VERSION request
		t.Errorf("old link got %d commands", n)
	}
	if !slices.Contains(nu.CommandKinds(), fleet.CommandLand) {
		t.Errorf("new link commands %v lack land", nu.CommandKinds())
	}
	if len(f.Drones()) != 1 {
		t.Errorf("%d drones, want 1", len(f.Drones()))
	}
}

func TestRebootRequestsStreamsAgain(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	ft.Feed(f, v, fleet.Attitude{TimeBoot: 100 * time.Second}, fleet.AutopilotVersion{FlightSW: 0x04070000})
	f.Handle(v, fleet.Attitude{TimeBoot: 2 * time.Second})
	waitFor[fleet.VehicleRebooted](ev, nil)
	poll(t, "streams asked again", func() bool { return v.Calls("RequestStreams") == 2 })
	if st := state(t, f, "sysid-1"); st.Version.Known {
		t.Error("version kept across a reboot")
	}
}

func TestStatusTextAndFailsafe(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, fleet.StatusText{Severity: 2, Text: "Arm: Need Position Estimate"})
	st, _ := waitFor[fleet.StatusTextEvent](ev, nil)
	if st.Severity != 2 || st.Text != "Arm: Need Position Estimate" {
		t.Errorf("status text %+v", st)
	}
	// As in the GCS-loss recording: RTL + CRITICAL, then the text.
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusCritical))
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
	fs, _ := waitFor[fleet.Failsafe](ev, nil)
	if fs.Kind != fleet.FailsafeGCS || fs.Mode != "RTL" || fs.Text != "GCS Failsafe" {
		t.Errorf("failsafe %+v", fs)
	}
	f.Handle(v, fleet.StatusText{Severity: 6, Text: "GCS Failsafe Cleared"})
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "Battery 1 is low 10.50V used 4000 mAh"})
	fs, seen := waitFor[fleet.Failsafe](ev, nil)
	if fs.Kind != fleet.FailsafeBattery {
		t.Errorf("failsafe %+v", fs)
	}
	for _, e := range seen {
		if _, ok := e.(fleet.Failsafe); ok {
			t.Errorf("a cleared text raised %+v", e)
		}
	}
}

// A second GCS failsafe 8 s after the first, after "GCS Failsafe Cleared",
// is a new failsafe (issue 22: the 10 s repeat filter swallowed it); a
// repeat without the clear is not.
func TestFailsafeAfterClearedIsNew(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
	waitFor[fleet.Failsafe](ev, nil)
	clock.Advance(time.Second)
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"}) // a repeat
	clock.Advance(time.Second)
	f.Handle(v, fleet.StatusText{Severity: 6, Text: "GCS Failsafe Cleared"})
	clock.Advance(6 * time.Second)
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
	f.Handle(v, fleet.StatusText{Severity: 6, Text: "marker"})
	_, seen := waitFor(ev, func(e fleet.StatusTextEvent) bool { return e.Text == "marker" })
	n := 0
	for _, e := range seen {
		if fs, ok := e.(fleet.Failsafe); ok && fs.Kind == fleet.FailsafeGCS {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d GCS failsafes after the first (a repeat, a clear, a new one), want 1", n)
	}
}

func TestCriticalWithoutTextIsFailsafe(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, ft.Copter(ft.Land, true, 6))
	clock.Advance(2500 * time.Millisecond)
	fs, _ := waitFor[fleet.Failsafe](ev, nil)
	if fs.Kind != fleet.FailsafeOther || fs.Mode != "LAND" {
		t.Errorf("failsafe %+v", fs)
	}
}

func TestCommandErrors(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ctx := context.Background()

	bad := []struct {
		name string
		err  error
		want fleet.Code
	}{
		{"unknown drone", f.Land(ctx, "sysid-9"), fleet.NotFound},
		{"takeoff NaN", f.Takeoff(ctx, "sysid-1", math.NaN()), fleet.Invalid},
		{"takeoff negative", f.Takeoff(ctx, "sysid-1", -5), fleet.Invalid},
		{"takeoff too high", f.Takeoff(ctx, "sysid-1", 5000), fleet.Invalid},
		{"goto lat 91", f.GoTo(ctx, "sysid-1", fleet.Position{Lat: 91, Lon: 0, RelAlt: 30}, fleet.GoToOptions{}), fleet.Invalid},
		{"goto lon NaN", f.GoTo(ctx, "sysid-1", fleet.Position{Lat: 32, Lon: math.NaN(), RelAlt: 30}, fleet.GoToOptions{}), fleet.Invalid},
		{"goto 0,0", f.GoTo(ctx, "sysid-1", fleet.Position{RelAlt: 30}, fleet.GoToOptions{}), fleet.Invalid},
		{"goto alt Inf", f.GoTo(ctx, "sysid-1", fleet.Position{Lat: 32, Lon: -117, RelAlt: math.Inf(1)}, fleet.GoToOptions{}), fleet.Invalid},
		{"unknown mode", f.SetMode(ctx, "sysid-1", "HOVER"), fleet.Invalid},
		{"speed zero", f.SetSpeed(ctx, "sysid-1", 0), fleet.Invalid},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if got := fleet.ErrorCode(c.err); got != c.want {
				t.Errorf("code %q (%v), want %q", got, c.err, c.want)
			}
		})
	}
	if n := len(v.Commands()); n != 1 {
		t.Errorf("invalid requests reached the vehicle: %v", v.CommandKinds())
	}

	vehicleErrs := []struct {
		name string
		ret  error
		want fleet.Code
	}{
		{"denied", &fleet.Error{Code: fleet.Denied, Message: "Arm: Need Position Estimate", Reason: "MAV_RESULT_FAILED"}, fleet.Denied},
		{"unsupported", fleet.Errorf(fleet.Unsupported, "no"), fleet.Unsupported},
		{"timeout", fleet.Errorf(fleet.Timeout, "no ack"), fleet.Timeout},
		{"context deadline", context.DeadlineExceeded, fleet.Timeout},
		{"other", errors.New("boom"), fleet.Internal},
	}
	for _, c := range vehicleErrs {
		t.Run("vehicle "+c.name, func(t *testing.T) {
			v.CommandFn = func(context.Context, fleet.Command) error { return c.ret }
			err := f.Disarm(ctx, "sysid-1", false)
			if fleet.ErrorCode(err) != c.want {
				t.Errorf("Disarm = %v, want code %q", err, c.want)
			}
			if c.want == fleet.Denied && fleet.ErrorMessage(err) != "Arm: Need Position Estimate" {
				t.Errorf("reason lost: %v", err)
			}
		})
	}
}

func TestCommandResultEvents(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v.CommandFn = func(context.Context, fleet.Command) error { return fleet.Errorf(fleet.Denied, "refused") }
	_ = f.Land(context.Background(), "sysid-1")
	r, _ := waitFor[fleet.CommandResult](ev, nil)
	if r.Command != "land" || r.Code != fleet.Denied || r.Message != "refused" || r.DroneID != "sysid-1" {
		t.Errorf("CommandResult %+v", r)
	}
}

func TestArmWaitRetries(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	reasons := []string{"Arm: Accels inconsistent", "Arm: AHRS: waiting for home", "Arm: Need Position Estimate"}
	attempts := 0
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind != fleet.CommandArm {
			return nil
		}
		attempts++
		if attempts <= len(reasons) {
			return &fleet.Error{Code: fleet.Denied, Message: reasons[attempts-1], Reason: "MAV_RESULT_FAILED"}
		}
		return nil
	}
	ctx := context.Background()
	if err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{Wait: 5 * time.Second, RetryInterval: 5 * time.Millisecond}); err != nil {
		t.Fatalf("Arm with wait: %v", err)
	}
	if attempts != 4 {
		t.Errorf("%d attempts, want 4", attempts)
	}

	// Never armable: the wait ends with the last refusal and its reason.
	attempts = 0
	reasons = []string{"Arm: Gyros inconsistent", "Arm: Need Position Estimate", "Arm: Need Position Estimate", "Arm: Need Position Estimate", "Arm: Need Position Estimate", "Arm: Need Position Estimate"}
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		attempts++
		return &fleet.Error{Code: fleet.Denied, Message: reasons[min(attempts, len(reasons))-1]}
	}
	start := time.Now()
	err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{Wait: 60 * time.Millisecond, RetryInterval: 10 * time.Millisecond})
	if fleet.ErrorCode(err) != fleet.Denied || fleet.ErrorMessage(err) != "Arm: Need Position Estimate" {
		t.Errorf("Arm = %v, want Denied with the last reason", err)
	}
	if attempts < 3 || time.Since(start) > 2*time.Second {
		t.Errorf("%d attempts in %v", attempts, time.Since(start))
	}

	// Without a wait, one attempt.
	attempts = 0
	if err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{}); fleet.ErrorCode(err) != fleet.Denied || attempts != 1 {
		t.Errorf("Arm without wait = %v after %d attempts", err, attempts)
	}
}

func TestTakeoffSwitchesToGuided(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Stabilize, true, ft.StatusStandby))
	ctx := context.Background()
	if err := f.Takeoff(ctx, "sysid-1", 30); err != nil {
		t.Fatal(err)
	}
	cmds := v.Commands()[1:]
	if len(cmds) != 2 || cmds[0].Kind != fleet.CommandSetMode || cmds[0].Mode != ft.Guided ||
		cmds[1].Kind != fleet.CommandTakeoff || cmds[1].Position.RelAlt != 30 {
		t.Fatalf("commands %+v, want set_mode GUIDED then takeoff 30", cmds)
	}
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	if err := f.Takeoff(ctx, "sysid-1", 30); err != nil {
		t.Fatal(err)
	}
	if ks := v.CommandKinds()[3:]; !slices.Equal(ks, []fleet.CommandKind{fleet.CommandTakeoff}) {
		t.Errorf("in GUIDED: %v, want takeoff only", ks)
	}
}

// A disarmed ArduCopter left in AUTO after a mission refuses to arm ("Arm:
// Mode not armable"): Arm switches it to GUIDED first, as Takeoff does, and
// when that fails says what to do.
func TestArmSwitchesFromUnarmableMode(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Auto, false, ft.StatusStandby))
	ctx := context.Background()
	if err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{}); err != nil {
		t.Fatal(err)
	}
	if ks := v.CommandKinds()[1:]; !slices.Equal(ks, []fleet.CommandKind{fleet.CommandSetMode, fleet.CommandArm}) || v.Commands()[1].Mode != ft.Guided {
		t.Errorf("commands %v, want set_mode GUIDED then arm", ks)
	}
	// In an armable mode, just the arm.
	f.Handle(v, ft.Copter(ft.Loiter, false, ft.StatusStandby))
	n := len(v.Commands())
	if err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{}); err != nil {
		t.Fatal(err)
	}
	if ks := v.CommandKinds()[n:]; !slices.Equal(ks, []fleet.CommandKind{fleet.CommandArm}) {
		t.Errorf("in LOITER: %v, want arm only", ks)
	}
	// GUIDED refused: a clear message, no arm sent.
	f.Handle(v, ft.Copter(ft.RTL, false, ft.StatusStandby))
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind == fleet.CommandSetMode {
			return &fleet.Error{Code: fleet.Denied, Message: "Mode change failed", Reason: "failed"}
		}
		return nil
	}
	n = len(v.Commands())
	err := f.Arm(ctx, "sysid-1", fleet.ArmOptions{})
	if fleet.ErrorCode(err) != fleet.Denied || !strings.Contains(fleet.ErrorMessage(err), "GUIDED") || !strings.Contains(fleet.ErrorMessage(err), "RTL") {
		t.Errorf("arm from RTL with GUIDED refused: %v", err)
	}
	if ks := v.CommandKinds()[n:]; slices.Contains(ks, fleet.CommandArm) {
		t.Errorf("arm sent after the mode change failed: %v", ks)
	}
}

type guard struct{ refuse error }

func (g guard) CheckGoTo(fleet.DroneState, fleet.Position) error { return g.refuse }
func (g guard) CheckMission(fleet.DroneState, fleet.MissionType, []fleet.MissionItem) error {
	return g.refuse
}

func TestGoTo(t *testing.T) {
	g := &guard{}
	f, _ := mustFleet(t, func(f *fleet.Fleet) { f.Guard = g })
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Loiter, true, ft.StatusActive))
	ctx := context.Background()
	target := fleet.Position{Lat: 32.5436, Lon: -117.0293, RelAlt: 30}

	g.refuse = &fleet.Error{Code: fleet.Conflict, Message: "target in Mexican airspace (zone mx-tijuana)"}
	if err := f.GoTo(ctx, "sysid-1", target, fleet.GoToOptions{}); fleet.ErrorCode(err) != fleet.Conflict {
		t.Fatalf("guarded GoTo = %v", err)
	}
	g.refuse = errors.New("outside allowed space")
	if err := f.GoTo(ctx, "sysid-1", target, fleet.GoToOptions{}); fleet.ErrorCode(err) != fleet.Conflict || fleet.ErrorMessage(err) != "outside allowed space" {
		t.Fatalf("plain guard error = %v", err)
	}
	if n := len(v.Commands()); n != 1 {
		t.Fatalf("refused GoTo reached the vehicle: %v", v.CommandKinds())
	}

	// Override; the vehicle has no DO_REPOSITION: position target instead.
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind == fleet.CommandReposition {
			return fleet.Errorf(fleet.Unsupported, "no")
		}
		return nil
	}
	var sent fleet.Position
	v.SetPositionTargetFn = func(_ context.Context, p fleet.Position) error { sent = p; return nil }
	if err := f.GoTo(ctx, "sysid-1", target, fleet.GoToOptions{SkipGuard: true}); err != nil {
		t.Fatal(err)
	}
	ks := v.CommandKinds()[1:]
	if !slices.Equal(ks, []fleet.CommandKind{fleet.CommandSetMode, fleet.CommandReposition}) || sent != target {
		t.Errorf("commands %v, position target %+v", ks, sent)
	}

	// A vehicle whose AUTOPILOT_VERSION says it has no COMMAND_INT gets the
	// position target without a DO_REPOSITION first.
	w := ft.NewVehicle("m", 2)
	discover(t, f, w, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, w, fleet.AutopilotVersion{Capabilities: fleet.CapabilityMissionInt | fleet.CapabilitySetPositionTarget})
	sent = fleet.Position{}
	w.SetPositionTargetFn = func(_ context.Context, p fleet.Position) error { sent = p; return nil }
	if err := f.GoTo(ctx, "sysid-2", target, fleet.GoToOptions{SkipGuard: true}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(w.CommandKinds(), fleet.CommandReposition) || sent != target {
		t.Errorf("no-COMMAND_INT vehicle: commands %v, position target %+v", w.CommandKinds(), sent)
	}
}

func TestHoldMode(t *testing.T) {
	f, _ := mustFleet(t)
	cop := ft.NewVehicle("a", 1)
	discover(t, f, cop, ft.Copter(ft.Auto, true, ft.StatusActive))
	px := ft.NewVehicle("b", 2)
	discover(t, f, px, ft.PX4(4, 4, true, ft.StatusActive))
	ctx := context.Background()
	if err := f.Hold(ctx, "sysid-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Hold(ctx, "sysid-2"); err != nil {
		t.Fatal(err)
	}
	if c := cop.Commands()[1]; c.Kind != fleet.CommandSetMode || c.Mode != ft.Brake {
		t.Errorf("ArduCopter hold %+v, want BRAKE", c)
	}
	if c := px.Commands()[1]; c.Kind != fleet.CommandSetMode || c.Mode != 4<<16|3<<24 {
		t.Errorf("PX4 hold %+v, want AUTO.LOITER", c)
	}
	// The mode change that follows is the fleet's own.
	ev := subscribe(t, f, fleet.SubscribeOptions{Drones: []string{"sysid-1"}})
	f.Handle(cop, ft.Copter(ft.Brake, true, ft.StatusActive))
	mc, _ := waitFor[fleet.ModeChanged](ev, nil)
	if !mc.Commanded || mc.To != "BRAKE" {
		t.Errorf("ModeChanged %+v", mc)
	}
}

// A drone with a fix but no HOME_POSITION (missed before its first
// heartbeat) is asked for it, every few seconds until it comes.
func TestMissingHomeIsRequested(t *testing.T) {
	f, clock := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	homeAsks := func() int {
		n := 0
		for _, c := range v.Commands() {
			if c.Kind == fleet.CommandRequestMessage && c.MessageID == 242 {
				n++
			}
		}
		return n
	}
	// No fix, no home to ask for.
	ft.Feed(f, v, ft.NoFix(time.Second))
	time.Sleep(20 * time.Millisecond) // scheduler ticks every 2 ms
	if n := homeAsks(); n != 0 {
		t.Fatalf("home asked %d times before a fix", n)
	}
	ft.Feed(f, v, ft.Position(2*time.Second, 32.5422, -117.0293, 0))
	poll(t, "home asked", func() bool { return homeAsks() == 1 })
	clock.Advance(2 * time.Second)
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	time.Sleep(20 * time.Millisecond)
	if n := homeAsks(); n != 1 {
		t.Fatalf("home asked %d times within 2 s", n)
	}
	clock.Advance(2 * time.Second)
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	clock.Advance(2 * time.Second)
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	poll(t, "home asked again", func() bool { return homeAsks() == 2 })
	ft.Feed(f, v, fleet.Home{Lat: 32.5422, Lon: -117.0293, AltMSL: 20.1})
	for range 5 {
		clock.Advance(2 * time.Second)
		ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	}
	time.Sleep(20 * time.Millisecond)
	if n := homeAsks(); n != 2 {
		t.Errorf("home asked %d times, want 2: not again once known", n)
	}
	if d := state(t, f, "sysid-1"); !d.HasHome {
		t.Error("home not taken")
	}
}

// Pre-arm readiness comes from SYS_STATUS's PREARM_CHECK bit, and the
// vehicle's last arming refusal is kept until it arms.
func TestPrearmReadinessAndLastRefusal(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.PrearmKnown || st.PrearmOK || st.LastRefusal != "" {
		t.Fatalf("before SYS_STATUS: %+v", st)
	}
	// As recorded (d-fence-breach-rtl.tlog at 30 s and 60 s).
	notArmable := fleet.SysStatus{VoltageV: 12.6, CurrentA: 0, RemainingPct: 100, SensorsPresent: 0x5371fc2f, SensorsEnabled: 0x52519c2f, SensorsHealth: 0x47519c2f}
	f.Handle(v, notArmable)
	if st := state(t, f, "sysid-1"); !st.PrearmKnown || st.PrearmOK {
		t.Errorf("not armable: known %v ok %v", st.PrearmKnown, st.PrearmOK)
	}
	f.Handle(v, fleet.StatusText{Severity: 2, Text: "PreArm: Need Position Estimate"})
	poll(t, "refusal from PreArm text", func() bool {
		return state(t, f, "sysid-1").LastRefusal == "PreArm: Need Position Estimate"
	})
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind == fleet.CommandArm {
			return &fleet.Error{Code: fleet.Denied, Message: "Arm: Fence requires position", Reason: "failed"}
		}
		return nil
	}
	if err := f.Arm(context.Background(), "sysid-1", fleet.ArmOptions{}); fleet.ErrorCode(err) != fleet.Denied {
		t.Fatalf("arm: %v", err)
	}
	if st := state(t, f, "sysid-1"); st.LastRefusal != "Arm: Fence requires position" {
		t.Errorf("LastRefusal %q after a refused arm", st.LastRefusal)
	}
	armable := notArmable
	armable.SensorsHealth = 0x5771fc2f
	f.Handle(v, armable)
	if st := state(t, f, "sysid-1"); !st.PrearmOK {
		t.Error("PREARM_CHECK healthy: not PrearmOK")
	}
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.LastRefusal != "" {
		t.Errorf("LastRefusal %q kept after arming", st.LastRefusal)
	}
	// A vehicle without the bit (PX4 style): unknown.
	f.Handle(v, fleet.SysStatus{SensorsPresent: 0x2f, SensorsHealth: 0x2f})
	if st := state(t, f, "sysid-1"); st.PrearmKnown || st.PrearmOK {
		t.Errorf("without PREARM_CHECK: known %v ok %v", st.PrearmKnown, st.PrearmOK)
	}
}
