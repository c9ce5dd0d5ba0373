package fleet_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// Impossible values are dropped at the edge and counted; the rest of the
// message is kept where that is safe.
func TestImpossibleValuesDropped(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	pos := func(lat, lon, msl, rel float64) fleet.GlobalPosition {
		return fleet.GlobalPosition{TimeBoot: time.Second, Lat: lat, Lon: lon, AltMSL: msl, RelAlt: rel, HeadingDeg: 90}
	}
	cases := []struct {
		name  string
		u     fleet.Update
		bad   uint64
		check func(fleet.DroneState) bool
	}{
		{"lat 214", pos(214.7, -117, 100, 10), 1, func(s fleet.DroneState) bool { return s.Position.Lat == 32.5 }},
		{"lon NaN", pos(32.6, nan, 100, 10), 1, func(s fleet.DroneState) bool { return s.Position.Lat == 32.5 }},
		{"rel alt 2,147,483 m", pos(32.6, -117, 100, 2147483), 1, func(s fleet.DroneState) bool { return s.Position.RelAlt == 10 }},
		{"msl -2,147,483 m", pos(32.6, -117, -2147483, 10), 1, func(s fleet.DroneState) bool { return s.AltMSL == 100 }},
		{"velocity 300 m/s keeps the position", fleet.GlobalPosition{TimeBoot: time.Second, Lat: 32.6, Lon: -117, AltMSL: 100, RelAlt: 10, VN: 300, HeadingDeg: 90}, 1,
			func(s fleet.DroneState) bool { return s.Position.Lat == 32.6 && s.VelN == 1 && s.GroundSpeed == 1 }},
		{"vfr speed +Inf", fleet.VFRHUD{Groundspeed: inf, Climb: 1, HeadingDeg: 10}, 1,
			func(s fleet.DroneState) bool { return s.GroundSpeed == 1 && s.Climb == 1 && s.Heading == 10 }},
		{"vfr climb NaN", fleet.VFRHUD{Groundspeed: 2, Climb: nan, HeadingDeg: 10}, 1,
			func(s fleet.DroneState) bool { return s.GroundSpeed == 2 && s.Climb == 0 }},
		{"attitude NaN", fleet.Attitude{TimeBoot: time.Second, Roll: nan, Pitch: 0.1, Yaw: 1}, 1,
			func(s fleet.DroneState) bool { return s.Roll == 0 && s.Pitch == 0 }},
		{"home -2,147,483 m", fleet.Home{Lat: 32.5, Lon: -117, AltMSL: -2147483}, 1, func(s fleet.DroneState) bool { return !s.HasHome }},
		{"battery current 5000 A keeps the voltage", fleet.Battery{VoltageV: 15.2, CurrentA: 5000, RemainingPct: 80, ConsumedMAh: nan}, 1,
			func(s fleet.DroneState) bool { return s.Battery.VoltageV == 15.2 && math.IsNaN(s.Battery.CurrentA) }},
		{"param NaN", fleet.ParamValue{Param: fleet.Param{Name: "X", Value: nan, Index: 0, Count: 1}}, 1, func(s fleet.DroneState) bool { return s.Params == 0 }},
		{"param name with control bytes", fleet.ParamValue{Param: fleet.Param{Name: "A\x01", Value: 1, Index: 0, Count: 1}}, 1, func(s fleet.DroneState) bool { return s.Params == 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := mustFleet(t)
			v := ft.NewVehicle("l", 1)
			discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
			f.Handle(v, fleet.GlobalPosition{TimeBoot: time.Second, Lat: 32.5, Lon: -117, AltMSL: 100, RelAlt: 10, VN: 1, HeadingDeg: 90})
			f.Handle(v, c.u)
			st := state(t, f, "sysid-1")
			if !c.check(st) {
				t.Errorf("state after %+v: %+v", c.u, st)
			}
			if got := f.Stats().BadFields; got != c.bad {
				t.Errorf("BadFields = %d, want %d", got, c.bad)
			}
		})
	}
}

// A long or invalid status text is cut and made valid UTF-8.
func TestStatusTextBounded(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(v, fleet.StatusText{Severity: 6, Text: strings.Repeat("x", 2<<20) + "\xff"})
	st, _ := waitFor[fleet.StatusTextEvent](ev, nil)
	if len(st.Text) > fleet.MaxStatusText {
		t.Errorf("text of %d bytes", len(st.Text))
	}
}

// A plan read from a vehicle is adopted only when it is within the size
// limit and every item is valid.
func TestInvalidMissionNotAdopted(t *testing.T) {
	for _, c := range []struct {
		name  string
		items []fleet.MissionItem
	}{
		{"too many", make([]fleet.MissionItem, 3000)},
		{"latitude 214", []fleet.MissionItem{{}, {Seq: 1, Command: fleet.CmdNavWaypoint, Lat: 214, Lon: -117, Alt: 20}}},
		{"infinite param", []fleet.MissionItem{{}, {Seq: 1, Command: fleet.CmdNavWaypoint, Lat: 32, Lon: -117, Alt: 20, Param1: math.Inf(1)}}},
		{"NaN altitude", []fleet.MissionItem{{}, {Seq: 1, Command: fleet.CmdNavWaypoint, Lat: 32, Lon: -117, Alt: math.NaN()}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _ := mustFleet(t)
			v := ft.NewVehicle("l", 1)
			read := make(chan struct{}, 1)
			v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
				select {
				case read <- struct{}{}:
				default:
				}
				return c.items, nil
			}
			discover(t, f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
			f.Handle(v, fleet.MissionCurrent{Seq: 3, Total: 10, State: 3})
			<-read
			poll(t, "counted", func() bool { return f.Stats().BadMissions == 1 })
			if ms := state(t, f, "sysid-1").Mission; ms.Items != 0 {
				t.Errorf("adopted %+v", ms)
			}
		})
	}
	if err := fleet.CheckMissionItem(fleet.MissionItem{Command: fleet.CmdNavWaypoint, Lat: 32, Lon: -117, Alt: 30, Param4: math.NaN()}); err != nil {
		t.Errorf("a NaN (unused) param is valid: %v", err)
	}
}

// Unsolicited PARAM_VALUEs are cached only within the list the vehicle
// announced, and a drone's status texts are rate limited.
func TestParamCacheAndTextRateBounded(t *testing.T) {
	f, clock := mustFleet(t, func(f *fleet.Fleet) { f.MaxParams = 10 })
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	for i := range 1000 { // no count announced
		f.Handle(v, fleet.ParamValue{Param: fleet.Param{Name: fmt.Sprintf("RND%d", i), Value: 1, Index: -1}})
	}
	for i := range 3 { // an index past the count
		f.Handle(v, fleet.ParamValue{Param: fleet.Param{Name: fmt.Sprintf("BAD%d", i), Value: 1, Index: 5, Count: 5}})
	}
	if n := state(t, f, "sysid-1").Params; n != 0 {
		t.Errorf("%d params cached without a count", n)
	}
	for i := range 5 { // ArduPilot's own changes: no index, its count
		f.Handle(v, fleet.ParamValue{Param: fleet.Param{Name: fmt.Sprintf("CHG%d", i), Value: 1, Index: -1, Count: 5}})
	}
	if n := state(t, f, "sysid-1").Params; n != 5 {
		t.Errorf("%d params cached, want the 5 announced", n)
	}
	for i := range 50 { // a list: capped at MaxParams
		f.Handle(v, fleet.ParamValue{Param: fleet.Param{Name: fmt.Sprintf("P%d", i), Value: 1, Index: i, Count: 50}})
	}
	if n := state(t, f, "sysid-1").Params; n != 10 {
		t.Errorf("%d params cached, limit 10", n)
	}
	if got := f.Stats().ParamsRefused; got != 1000+3+45 {
		t.Errorf("ParamsRefused = %d", got)
	}
	for range 500 {
		f.Handle(v, fleet.StatusText{Severity: 6, Text: "spam"})
	}
	if got := f.Stats().EventsDropped; got != 400 {
		t.Errorf("EventsDropped = %d, want 400 (burst of 100)", got)
	}
	clock.Advance(4 * time.Second)
	poll(t, "lost", func() bool { return state(t, f, "sysid-1").LinkState == fleet.LinkStateLost })
	clock.Advance(11 * time.Minute)
	poll(t, "cache of a drone lost for long dropped", func() bool { return state(t, f, "sysid-1").Params == 0 })
}

// REQUEST_DATA_STREAM has no answer: when no telemetry follows it, the
// fleet asks again (once per 5 s), and not when telemetry flows.
func TestStreamsAskedAgainWhenSilent(t *testing.T) {
	f, clock := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	w := ft.NewVehicle("m", 2)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	discover(t, f, w, ft.Copter(0, false, ft.StatusStandby))
	for range 6 {
		clock.Advance(time.Second)
		f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
		f.Handle(w, ft.Copter(0, false, ft.StatusStandby))
		f.Handle(w, ft.NoFix(time.Second))
	}
	// One scheduler pass looks at both drones.
	poll(t, "streams asked again of the silent drone", func() bool { return v.Calls("RequestStreams") == 2 })
	if n := w.Calls("RequestStreams"); n != 1 {
		t.Errorf("streams asked %d times of a drone that streams", n)
	}
}
