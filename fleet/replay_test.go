package fleet_test

import (
	"encoding/binary"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// tlogFrame is one recorded frame: its time and, for the vehicle's messages
// the fleet reads, the decoded update.
type tlogFrame struct {
	at time.Time
	u  fleet.Update
}

// readTlog decodes the vehicle's (sysid 1, compid 1) frames of a tlog into
// Updates. It knows only the few messages these tests need; the files'
// checksums were verified when they were recorded (see testdata/SOURCE.md),
// so they are not checked here.
func readTlog(tb testing.TB, path string) []tlogFrame {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []tlogFrame
	for len(b) > 8 {
		at := time.UnixMicro(int64(binary.BigEndian.Uint64(b)))
		b = b[8:]
		var n, sys, comp int
		var id uint32
		var payload []byte
		switch b[0] {
		case 0xfd:
			plen := int(b[1])
			n = 10 + plen + 2
			if b[2]&1 != 0 {
				n += 13
			}
			sys, comp = int(b[5]), int(b[6])
			id = uint32(b[7]) | uint32(b[8])<<8 | uint32(b[9])<<16
			payload = b[10 : 10+plen]
		case 0xfe:
			plen := int(b[1])
			n = 6 + plen + 2
			sys, comp, id = int(b[3]), int(b[4]), uint32(b[5])
			payload = b[6 : 6+plen]
		default:
			tb.Fatalf("%s: bad frame start %#x", path, b[0])
		}
		b = b[n:]
		if sys != 1 || comp != 1 {
			continue
		}
		p := make([]byte, 64) // MAVLink 2 trims trailing zeros
		copy(p, payload)
		u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(p[o:]) }
		i32 := func(o int) int32 { return int32(u32(o)) }
		u16 := func(o int) uint16 { return binary.LittleEndian.Uint16(p[o:]) }
		f32 := func(o int) float64 { return float64(math.Float32frombits(u32(o))) }
		var u fleet.Update
		switch id {
		case 0:
			u = fleet.Heartbeat{CustomMode: u32(0), VehicleType: p[4], Autopilot: p[5], BaseMode: p[6], SystemStatus: p[7], ComponentID: uint8(comp)}
		case 33:
			hdg := float64(u16(26)) / 100
			if u16(26) == 65535 {
				hdg = math.NaN()
			}
			u = fleet.GlobalPosition{
				TimeBoot: time.Duration(u32(0)) * time.Millisecond,
				Lat:      float64(i32(4)) / 1e7, Lon: float64(i32(8)) / 1e7,
				AltMSL: float64(i32(12)) / 1000, RelAlt: float64(i32(16)) / 1000,
				VN: float64(int16(u16(20))) / 100, VE: float64(int16(u16(22))) / 100, VD: float64(int16(u16(24))) / 100,
				HeadingDeg: hdg,
			}
		case 42:
			u = fleet.MissionCurrent{Seq: int(u16(0)), Total: int(u16(2)), State: p[4]}
		case 46:
			u = fleet.MissionItemReached{Seq: int(u16(0))}
		case 74:
			u = fleet.VFRHUD{Groundspeed: f32(4), AltMSL: f32(8), Climb: f32(12), HeadingDeg: float64(int16(u16(16)))}
		case 242:
			u = fleet.Home{Lat: float64(i32(0)) / 1e7, Lon: float64(i32(4)) / 1e7, AltMSL: float64(i32(8)) / 1000}
		case 253:
			text := string(p[1:51])
			if i := strings.IndexByte(text, 0); i >= 0 {
				text = text[:i]
			}
			u = fleet.StatusText{Severity: p[0], Text: text}
		default:
			continue
		}
		out = append(out, tlogFrame{at: at, u: u})
	}
	return out
}

// replay feeds frames to a fleet whose clock follows the recording, and
// returns every event, read by a subscriber that keeps up.
func replay(t *testing.T, frames []tlogFrame, before func(f *fleet.Fleet, v *ft.Vehicle)) (*fleet.Fleet, []fleet.Event) {
	t.Helper()
	clock := ft.NewClock(frames[0].at)
	f := &fleet.Fleet{Now: clock.Now, TickInterval: time.Hour} // link checks are not replayed
	if err := f.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sub := f.Subscribe(fleet.SubscribeOptions{QueueSize: 1 << 20})
	t.Cleanup(sub.Close)
	v := ft.NewVehicle("udp:127.0.0.1:14550/127.0.0.1:5760", 1)
	var zeroSeen bool
	for i, fr := range frames {
		clock.Advance(fr.at.Sub(clock.Now()))
		f.Handle(v, fr.u)
		if i == 0 && before != nil {
			before(f, v)
		}
		if st, err := f.Drone("sysid-1"); err == nil && st.HasPosition && math.Abs(st.Position.Lat) < 1 {
			zeroSeen = true
		}
	}
	if zeroSeen {
		t.Error("a drone appeared at 0,0")
	}
	var evs []fleet.Event
	for {
		select {
		case e := <-sub.C:
			if _, ok := e.(fleet.StateChanged); !ok {
				evs = append(evs, e)
			}
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	return f, evs
}

func TestReplayMissionRecording(t *testing.T) {
	frames := readTlog(t, "../testdata/ardupilot-sitl/c-mission-auto-rtl.tlog")
	start := frames[0].at
	sec := func(e time.Time) float64 { return e.Sub(start).Seconds() }
	var firstFix float64
	for _, fr := range frames {
		if p, ok := fr.u.(fleet.GlobalPosition); ok && p.Lat != 0 {
			firstFix = sec(fr.at)
			break
		}
	}
	f, evs := replay(t, frames, func(f *fleet.Fleet, v *ft.Vehicle) {
		// The plan the ground station uploaded at 17–21 s (see the README).
		if _, err := f.UploadMission(t.Context(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	var reached, reported, refusals []string
	var armedAt, finishedAt, landedAt float64
	var modes []string
	percent := -1.0
	for _, e := range evs {
		switch e := e.(type) {
		case fleet.MissionItemReachedEvent:
			reached = append(reached, strconv.Itoa(e.Seq))
			reported = append(reported, strconv.Itoa(e.Reported))
		case fleet.StatusTextEvent:
			if strings.HasPrefix(e.Text, "Arm: ") {
				refusals = append(refusals, e.Text)
			}
		case fleet.Armed:
			armedAt = sec(e.At)
		case fleet.ModeChanged:
			modes = append(modes, e.To)
		case fleet.MissionProgress:
			if e.Status.Percent < percent {
				t.Errorf("progress went back from %.1f to %.1f at %.1f s", percent, e.Status.Percent, sec(e.At))
			}
			percent = e.Status.Percent
		case fleet.MissionFinished:
			if finishedAt != 0 {
				t.Errorf("finished twice")
			}
			finishedAt = sec(e.At)
		case fleet.Landed:
			landedAt = sec(e.At)
		case fleet.MissionInterrupted:
			t.Errorf("interrupted: %+v", e)
		}
	}
	if firstFix < 9 || firstFix > 9.2 {
		t.Errorf("first fix at %.2f s, want about 9.04", firstFix)
	}
	if want := "1 2 3 5 2 3 5 7 9 10"; strings.Join(reached, " ") != want {
		t.Errorf("items reached %v, want %s", reached, want)
	}
	if want := "1 2 4 5 2 4 5 8 9 10"; strings.Join(reported, " ") != want {
		t.Errorf("items reported %v, want %s", reported, want)
	}
	if len(refusals) < 9 || !slices.Contains(refusals, "Arm: Need Position Estimate") {
		t.Errorf("arming refusals %v", refusals)
	}
	if armedAt < 40.7 || armedAt > 41.5 {
		t.Errorf("armed at %.2f s, want about 40.75", armedAt)
	}
	if !slices.Contains(modes, "AUTO") {
		t.Errorf("modes %v lack AUTO", modes)
	}
	if landedAt < 215 || finishedAt < 220.9 || finishedAt > 221.5 || percent != 100 {
		t.Errorf("landed %.1f s, finished %.2f s at %.1f %%; want touchdown ~219, finish ~221.06, 100 %%", landedAt, finishedAt, percent)
	}
	st := state(t, f, "sysid-1")
	if st.Mission.State != fleet.MissionStateFinished || st.Armed || st.Landed != fleet.LandedOnGround || st.Mode != "AUTO" {
		t.Errorf("final state: mission %v armed %v landed %v mode %s", st.Mission.State, st.Armed, st.Landed, st.Mode)
	}
}

func TestReplayGCSFailsafeRecording(t *testing.T) {
	frames := readTlog(t, "../testdata/ardupilot-sitl/e-gcs-heartbeat-loss.tlog")
	start := frames[0].at
	_, evs := replay(t, frames, nil)
	var fs []fleet.Failsafe
	var tookOff, landed, disarmed bool
	for _, e := range evs {
		switch e := e.(type) {
		case fleet.Failsafe:
			fs = append(fs, e)
		case fleet.TookOff:
			tookOff = true
		case fleet.Landed:
			landed = true
		case fleet.Disarmed:
			disarmed = tookOff
		}
	}
	if len(fs) != 1 {
		t.Fatalf("failsafes %+v, want one", fs)
	}
	at := fs[0].At.Sub(start).Seconds()
	if fs[0].Kind != fleet.FailsafeGCS || fs[0].Mode != "RTL" || at < 67.2 || at > 67.5 {
		t.Errorf("failsafe %+v at %.2f s, want GCS in RTL at ~67.28", fs[0], at)
	}
	if !tookOff || !landed || !disarmed {
		t.Errorf("took off %v, landed %v, disarmed after %v", tookOff, landed, disarmed)
	}
}
