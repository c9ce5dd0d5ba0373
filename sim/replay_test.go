package sim

import (
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/bluenviron/gomavlib/v3/pkg/tlog"
)

// tlogEntry is one recorded frame, at its time from the first record.
type tlogEntry struct {
	at            time.Duration
	sysid, compid uint8
	msg           message.Message
}

// readTlog decodes a tlog (8-byte big-endian µs, then a frame) from testdata.
func readTlog(t testing.TB, name string) []tlogEntry {
	t.Helper()
	f, err := os.Open("../testdata/ardupilot-sitl/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		t.Fatal(err)
	}
	r := &tlog.Reader{ByteReader: f, DialectRW: rw}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	var out []tlogEntry
	var t0 time.Time
	for {
		e, err := r.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if t0.IsZero() {
			t0 = e.Time
		}
		out = append(out, tlogEntry{at: e.Time.Sub(t0), sysid: e.Frame.GetSystemID(), compid: e.Frame.GetComponentID(), msg: e.Frame.GetMessage()})
	}
	return out
}

// replayGCS feeds the ground station's frames of a recording into a
// harness at the recorded times (speed-up 1, fake clock).
func replayGCS(h *harness, rec []tlogEntry, until time.Duration) {
	start := h.now
	for _, e := range rec {
		if e.at > until {
			break
		}
		for h.now.Sub(start) < e.at {
			h.step()
		}
		if e.sysid == 255 {
			h.recv(e.msg)
		}
	}
	for h.now.Sub(start) < until {
		h.step()
	}
}

type ackKey struct {
	cmd    common.MAV_CMD
	result common.MAV_RESULT
}

// TestReplayGuidedRecordingAcks replays the ground station of recording b
// (refused and accepted arming, takeoff, go-tos, land, disarm) into the
// simulator, with its boot delay set to the recorded 40.6 s, and compares
// every COMMAND_ACK with the real ArduCopter's.
func TestReplayGuidedRecordingAcks(t *testing.T) {
	rec := readTlog(t, "b-guided-takeoff-goto-land.tlog")
	var want []ackKey
	for _, e := range rec {
		if a, ok := e.msg.(*common.MessageCommandAck); ok && e.sysid == 1 {
			want = append(want, ackKey{a.Command, a.Result})
		}
	}
	h := newHarness(t, Config{BootDelay: 40600 * time.Millisecond, Home: &Home{32.5422, -117.0293, 20}})
	replayGCS(h, rec, rec[len(rec)-1].at+time.Second)
	var got []ackKey
	var texts []string
	for _, s := range h.sent {
		switch m := s.msg.(type) {
		case *common.MessageCommandAck:
			got = append(got, ackKey{m.Command, m.Result})
		case *common.MessageStatustext:
			texts = append(texts, m.Text)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d ACKs, recording has %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ACK %d: got %v, recorded %v", i, got[i], want[i])
		}
	}
	for _, s := range []string{"Arm: System not initialised", "Arm: Need Position Estimate", "Arming motors", "Disarming motors"} {
		if !contains(texts, s) {
			t.Errorf("no %q text", s)
		}
	}
	st := h.d.State()
	if st.Armed || !st.Landed {
		t.Errorf("end state %+v", st)
	}
	// The recorded DO_REPOSITION goes 50 m N, 100 m E of home, where it lands.
	n, e := toNE(32.5422, -117.0293, st.Lat, st.Lon)
	if math.Hypot(n-50, e-100) > 5 {
		t.Errorf("landed at %.0f m N, %.0f m E; recorded 50 N, 100 E", n, e)
	}
}

// TestReplayStreamsRecording replays recording a (boot, stream requests,
// stop, SET_MESSAGE_INTERVAL, parameter list) and compares which messages
// flow in each phase and at what rate.
func TestReplayStreamsRecording(t *testing.T) {
	rec := readTlog(t, "a-idle-streams-params.tlog")
	h := newHarness(t, Config{BootDelay: 40600 * time.Millisecond, Home: &Home{32.5422, -117.0293, 20}})
	start := h.now
	replayGCS(h, rec, 86*time.Second)

	window := func(from, to time.Duration) (recorded, simulated map[string]int) {
		recorded, simulated = map[string]int{}, map[string]int{}
		for _, e := range rec {
			if e.sysid == 1 && e.at >= from && e.at < to {
				recorded[msgName(e.msg)]++
			}
		}
		for _, s := range h.sent {
			if at := s.wall.Sub(start); at >= from && at < to {
				simulated[msgName(s.msg)]++
			}
		}
		return recorded, simulated
	}
	phases := []struct {
		name     string
		from, to time.Duration
		rate     map[string]float64 // messages whose rates must match (per second)
	}{
		{"before any request", 0, 29900 * time.Millisecond, nil},
		{"streams at 10 Hz", 30500 * time.Millisecond, 59900 * time.Millisecond,
			map[string]float64{"GlobalPositionInt": 10, "Attitude": 10, "SysStatus": 10, "BatteryStatus": 10,
				"GpsRawInt": 10, "VfrHud": 10, "MissionCurrent": 10, "SystemTime": 10}},
		{"stopped, two intervals", 60500 * time.Millisecond, 79900 * time.Millisecond,
			map[string]float64{"GlobalPositionInt": 10, "Attitude": 10}},
	}
	for _, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			recorded, simulated := window(p.from, p.to)
			for name := range simulated {
				if recorded[name] == 0 {
					t.Errorf("simulator sent %s (%d), the recording has none", name, simulated[name])
				}
			}
			secs := (p.to - p.from).Seconds()
			for name, hz := range p.rate {
				r, s := float64(recorded[name])/secs, float64(simulated[name])/secs
				if math.Abs(r-hz) > 0.5 || math.Abs(s-hz) > 0.5 {
					t.Errorf("%s: recorded %.1f Hz, simulated %.1f Hz, want %.0f", name, r, s, hz)
				}
			}
			if p.rate == nil && simulated["GlobalPositionInt"] != 0 {
				t.Error("position sent before a request")
			}
		})
	}
	_, simulated := window(80*time.Second, 86*time.Second)
	if simulated["ParamValue"] != len(paramDefs) {
		t.Errorf("parameter list sent %d of %d", simulated["ParamValue"], len(paramDefs))
	}
}
