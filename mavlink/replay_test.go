package mavlink

import (
	"context"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/mavlink/tlog"
)

// replaySpeedup replays the recordings fifty times faster than recorded;
// bursts (the parameter list) are spaced out to 20,000 datagrams a second
// at most.
const replaySpeedup = 50

// replay sends the vehicle side (sysid 1) of a recording in testdata/ to a
// new transport over a real UDP socket and returns what the transport
// decoded once the last frame is in.
func replay(t *testing.T, file string) (*Transport, []recorded) {
	t.Helper()
	recs, err := tlog.ReadFile("../testdata/ardupilot-sitl/" + file)
	if err != nil {
		t.Fatal(err)
	}
	vehicle := tlog.Filter(recs, tlog.FromSystem(1))
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec)
	conn, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	replayer := tlog.Replayer{Speedup: replaySpeedup, MinInterval: 50 * time.Microsecond}
	if err := replayer.Replay(ctx, conn, vehicle); err != nil {
		t.Fatal(err)
	}
	// All frames but the ones the dialect does not know decode.
	deadline := time.Now().Add(5 * time.Second)
	for st := tr.Stats(); st.Frames+st.UnknownMessages < uint64(len(vehicle)); st = tr.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("%d vehicle frames sent, stats %+v", len(vehicle), st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := tr.Stats(); st.ParseErrors != 0 || st.Frames != uint64(len(vehicle)) || st.Links != 1 {
		t.Errorf("%s: %d vehicle frames sent, stats %+v", file, len(vehicle), st)
	}
	return tr, rec.snapshot()
}

func updatesOf[U fleet.Update](recs []recorded) []U {
	var out []U
	for _, r := range recs {
		if u, ok := r.u.(U); ok {
			if r.key.SysID != 1 {
				panic("update from another system")
			}
			out = append(out, u)
		}
	}
	return out
}

func texts(recs []recorded) []string {
	var out []string
	for _, st := range updatesOf[fleet.StatusText](recs) {
		out = append(out, st.Text)
	}
	return out
}

// anySeverity is for texts whose severity the README does not state.
const anySeverity = 255

func hasText(t *testing.T, recs []recorded, severity uint8, text string) {
	t.Helper()
	for _, st := range updatesOf[fleet.StatusText](recs) {
		if st.Text == text && (st.Severity == severity || severity == anySeverity) {
			return
		}
	}
	t.Errorf("no STATUSTEXT %q (severity %d) in %q", text, severity, texts(recs))
}

// modes returns the custom modes of the heartbeats, without repeats.
func modes(recs []recorded) []uint32 {
	var out []uint32
	for _, hb := range updatesOf[fleet.Heartbeat](recs) {
		if len(out) == 0 || out[len(out)-1] != hb.CustomMode {
			out = append(out, hb.CustomMode)
		}
	}
	return out
}

// checkPositions: GLOBAL_POSITION_INT is 0,0 before the first fix, then
// near home (San Diego–Tijuana) and never 0,0 again.
func checkPositions(t *testing.T, recs []recorded) {
	t.Helper()
	fixed := false
	for _, p := range updatesOf[fleet.GlobalPosition](recs) {
		zero := p.Lat == 0 && p.Lon == 0
		if fixed && zero {
			t.Fatalf("position 0,0 after the first fix: %+v", p)
		}
		if !zero {
			fixed = true
			if math.Abs(p.Lat-32.5422) > 0.01 || math.Abs(p.Lon+117.0293) > 0.01 || p.RelAlt < -1 || p.RelAlt > 45 {
				t.Fatalf("position far from home: %+v", p)
			}
		}
	}
	if !fixed {
		t.Error("no position with a fix")
	}
}

func TestReplayArduCopter(t *testing.T) {
	if testing.Short() {
		t.Skip("replays take a few seconds each")
	}
	t.Run("a-idle-streams-params", func(t *testing.T) {
		t.Parallel()
		_, recs := replay(t, "a-idle-streams-params.tlog")
		hbs := updatesOf[fleet.Heartbeat](recs)
		if len(hbs) != 89 || hbs[0].SystemStatus != 1 || hbs[0].VehicleType != 2 || hbs[0].Autopilot != 3 || hbs[0].ComponentID != 1 {
			t.Errorf("%d heartbeats, first %+v", len(hbs), hbs[0])
		}
		hasText(t, recs, anySeverity, "ArduPilot Ready")
		hasText(t, recs, anySeverity, "ArduCopter V4.7.0-dev (90700977)")
		hasText(t, recs, anySeverity, "Frame: QUAD/PLUS")
		av := updatesOf[fleet.AutopilotVersion](recs)
		if len(av) != 1 || av[0].FlightSW != 0x04070000 || av[0].CustomVersion != "90700977" ||
			av[0].Capabilities&fleet.CapabilityMissionInt == 0 || av[0].Capabilities&fleet.CapabilityMAVLink2 == 0 {
			t.Errorf("autopilot version %+v", av)
		}
		home := updatesOf[fleet.Home](recs)
		if len(home) != 1 || math.Abs(home[0].Lat-32.5422) > 1e-7 || math.Abs(home[0].Lon+117.0293) > 1e-7 || math.Abs(home[0].AltMSL-20.1) > 1e-9 {
			t.Errorf("home %+v", home)
		}
		// The whole parameter list, every index once, FORMAT_VERSION first.
		seen := make(map[int]string)
		for _, pv := range updatesOf[fleet.ParamValue](recs) {
			if pv.Param.Index >= 0 {
				seen[pv.Param.Index] = pv.Param.Name
				if pv.Param.Count != 1349 {
					t.Fatalf("param %+v", pv.Param)
				}
			}
		}
		if len(seen) != 1349 || seen[0] != "FORMAT_VERSION" || seen[1348] != "MAV3_OPTIONS" {
			t.Errorf("%d parameter indices, 0 %q, 1348 %q", len(seen), seen[0], seen[1348])
		}
		checkPositions(t, recs)
	})
	t.Run("b-guided-takeoff-goto-land", func(t *testing.T) {
		t.Parallel()
		_, recs := replay(t, "b-guided-takeoff-goto-land.tlog")
		hasText(t, recs, 2, "Arm: System not initialised")
		hasText(t, recs, 2, "Arm: Need Position Estimate")
		hasText(t, recs, anySeverity, "Arming motors")
		hasText(t, recs, anySeverity, "Disarming motors")
		// GUIDED at boot, reset to STABILIZE, GUIDED, then LAND.
		if m := modes(recs); !slices.Equal(m, []uint32{0, 4, 0, 4, 9}) {
			t.Errorf("modes %v", m)
		}
		armed := 0
		for _, hb := range updatesOf[fleet.Heartbeat](recs) {
			if hb.BaseMode&0x80 != 0 {
				armed++
			}
		}
		if armed == 0 {
			t.Error("never armed")
		}
		checkPositions(t, recs)
		maxAlt := 0.0
		for _, p := range updatesOf[fleet.GlobalPosition](recs) {
			maxAlt = max(maxAlt, p.RelAlt)
		}
		if maxAlt < 39 || maxAlt > 41 {
			t.Errorf("highest relative altitude %v m, want about 40 (the second go-to)", maxAlt)
		}
		fixes := updatesOf[fleet.GPSRaw](recs)
		if fixes[0].FixType != 0 || fixes[len(fixes)-1].FixType != 6 || fixes[len(fixes)-1].Satellites != 10 {
			t.Errorf("gps first %+v last %+v", fixes[0], fixes[len(fixes)-1])
		}
	})
	t.Run("c-mission-auto-rtl", func(t *testing.T) {
		t.Parallel()
		_, recs := replay(t, "c-mission-auto-rtl.tlog")
		var reached []int
		for _, r := range updatesOf[fleet.MissionItemReached](recs) {
			reached = append(reached, r.Seq)
		}
		if !slices.Equal(reached, []int{1, 2, 4, 5, 2, 4, 5, 8, 9, 10}) {
			t.Errorf("items reached %v", reached)
		}
		hasText(t, recs, 4, "Mission upload timeout")
		hasText(t, recs, anySeverity, "Flight plan received")
		hasText(t, recs, anySeverity, "Mission: 1 Takeoff")
		hasText(t, recs, anySeverity, "Mission: 6 Jump 1/1")
		hasText(t, recs, anySeverity, "Mission: 10 RTL")
		cur := updatesOf[fleet.MissionCurrent](recs)
		last := cur[len(cur)-1]
		if last.Seq != 0 || last.State != 5 || last.Total != 10 {
			t.Errorf("last MISSION_CURRENT %+v", last)
		}
		if m := modes(recs); m[len(m)-1] != 3 {
			t.Errorf("modes %v, want AUTO (3) at the end", m)
		}
		checkPositions(t, recs)
	})
	t.Run("d-fence-breach-rtl", func(t *testing.T) {
		t.Parallel()
		_, recs := replay(t, "d-fence-breach-rtl.tlog")
		var breach *fleet.FenceStatus
		fs := updatesOf[fleet.FenceStatus](recs)
		for i := range fs {
			if fs[i].Breached {
				breach = &fs[i]
				break
			}
		}
		if breach == nil || breach.Count != 1 || breach.BreachType != 3 || breach.Mitigation != 1 || breach.BreachTime != 78132*time.Millisecond {
			t.Errorf("breach %+v", breach)
		}
		if l := fs[len(fs)-1]; l.Breached || l.Count != 1 {
			t.Errorf("last fence status %+v", l)
		}
		hasText(t, recs, 5, "Polygon fence breached")
		hasText(t, recs, 6, "Manual recovery started")
		hasText(t, recs, anySeverity, "Fence breach cleared")
		hasText(t, recs, 7, "Fence Indexed OK")
		if m := modes(recs); m[len(m)-1] != 6 {
			t.Errorf("modes %v, want RTL (6) at the end", m)
		}
		checkPositions(t, recs)
	})
	t.Run("e-gcs-heartbeat-loss", func(t *testing.T) {
		t.Parallel()
		_, recs := replay(t, "e-gcs-heartbeat-loss.tlog")
		hasText(t, recs, 4, "GCS Failsafe")
		hasText(t, recs, anySeverity, "GCS Failsafe Cleared")
		critical := false
		for _, hb := range updatesOf[fleet.Heartbeat](recs) {
			if hb.CustomMode == 6 && hb.SystemStatus == 5 {
				critical = true
			}
		}
		if !critical {
			t.Error("no RTL heartbeat with system status CRITICAL")
		}
		set := false
		for _, pv := range updatesOf[fleet.ParamValue](recs) {
			if pv.Param.Name == "FS_GCS_ENABLE" && pv.Param.Value == 1 && pv.Param.Type == fleet.ParamInt8 && pv.Param.Index == -1 {
				set = true
			}
		}
		if !set {
			t.Error("no PARAM_VALUE echo FS_GCS_ENABLE 1 INT8 at index -1")
		}
		checkPositions(t, recs)
	})
}
