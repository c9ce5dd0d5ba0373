package sim

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// harness drives one vehicle without sockets on a fake wall clock.
type harness struct {
	t    testing.TB
	d    *Drone
	v    *vehicle
	now  time.Time
	sent []sent
}

type sent struct {
	wall time.Time
	sim  time.Duration
	msg  message.Message
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	if cfg.Speedup == 0 {
		cfg.Speedup = 1
	}
	if cfg.BootDelay == 0 {
		cfg.BootDelay = DefaultBootDelay
	}
	if cfg.SysIDBase == 0 {
		cfg.SysIDBase = 1
	}
	d := &Drone{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	d.v = newVehicle(d, &cfg, 0)
	h := &harness{t: t, d: d, v: &d.v, now: time.Unix(1_700_000_000, 0)}
	h.step()
	return h
}

func (h *harness) collect() {
	for _, m := range h.v.out {
		h.sent = append(h.sent, sent{wall: h.now, sim: h.v.sim, msg: m})
	}
	h.v.out = nil
}

// step advances the fake wall clock by one 10 ms tick.
func (h *harness) step() {
	h.now = h.now.Add(10 * time.Millisecond)
	h.v.advance(h.now)
	h.collect()
}

// run advances wall time by d.
func (h *harness) run(d time.Duration) {
	for end := h.now.Add(d); h.now.Before(end); {
		h.step()
	}
}

// runUntil advances until cond holds or max wall time passes.
func (h *harness) runUntil(max time.Duration, cond func() bool) bool {
	for end := h.now.Add(max); h.now.Before(end); {
		if cond() {
			return true
		}
		h.step()
	}
	return cond()
}

// recv hands msg to the vehicle as if from the GCS (255/190).
func (h *harness) recv(msg message.Message) {
	h.v.now = h.now
	h.v.handle(255, 190, msg)
	h.collect()
}

// cmd sends a COMMAND_LONG and returns the ACK's result and the texts sent
// with it.
func (h *harness) cmd(c common.MAV_CMD, p ...float32) (common.MAV_RESULT, []string) {
	var a [7]float32
	copy(a[:], p)
	n := len(h.sent)
	h.recv(&common.MessageCommandLong{TargetSystem: 1, TargetComponent: 1, Command: c,
		Param1: a[0], Param2: a[1], Param3: a[2], Param4: a[3], Param5: a[4], Param6: a[5], Param7: a[6]})
	return h.ackIn(n, c)
}

func (h *harness) ackIn(from int, c common.MAV_CMD) (common.MAV_RESULT, []string) {
	var texts []string
	for _, s := range h.sent[from:] {
		switch m := s.msg.(type) {
		case *common.MessageStatustext:
			texts = append(texts, m.Text)
		case *common.MessageCommandAck:
			if m.Command == c {
				return m.Result, texts
			}
		}
	}
	h.t.Fatalf("no COMMAND_ACK for %v", c)
	return 0, nil
}

// since returns the messages sent from index i.
func (h *harness) since(i int) []sent { return h.sent[i:] }

func msgName(m message.Message) string {
	s := fmt.Sprintf("%T", m)
	return s[strings.LastIndex(s, ".Message")+len(".Message"):]
}

func (h *harness) names(from int) map[string]int {
	out := map[string]int{}
	for _, s := range h.sent[from:] {
		out[msgName(s.msg)]++
	}
	return out
}

func (h *harness) texts(from int) []string {
	var out []string
	for _, s := range h.sent[from:] {
		if m, ok := s.msg.(*common.MessageStatustext); ok {
			out = append(out, m.Text)
		}
	}
	return out
}

func (h *harness) lastHeartbeat() *common.MessageHeartbeat {
	for i := len(h.sent) - 1; i >= 0; i-- {
		if m, ok := h.sent[i].msg.(*common.MessageHeartbeat); ok {
			return m
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// armAndTakeoff boots, arms in GUIDED and climbs to alt.
func (h *harness) armAndTakeoff(alt float32) {
	h.t.Helper()
	if !h.runUntil(time.Duration(float64(h.v.bootDelay+time.Second)/h.v.p.get("SIM_SPEEDUP")), h.v.positionOK) {
		h.t.Fatal("no position estimate after boot delay")
	}
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided)); r != common.MAV_RESULT_ACCEPTED {
		h.t.Fatalf("GUIDED: %v", r)
	}
	if r, txt := h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1); r != common.MAV_RESULT_ACCEPTED {
		h.t.Fatalf("arm: %v %v", r, txt)
	}
	if r, _ := h.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt); r != common.MAV_RESULT_ACCEPTED {
		h.t.Fatalf("takeoff: %v", r)
	}
	if !h.runUntil(time.Duration(60/h.v.p.get("SIM_SPEEDUP")*float64(time.Second)), func() bool {
		return math.Abs(h.v.m.U-float64(alt)) < 0.5 && math.Abs(h.v.m.VU) < 0.2
	}) {
		h.t.Fatalf("takeoff: at %.1f m", h.v.m.U)
	}
}

func TestPreArmTiming(t *testing.T) {
	h := newHarness(t, Config{BootDelay: 8 * time.Second})
	steps := []struct {
		at     time.Duration
		result common.MAV_RESULT
		text   string
	}{
		{500 * time.Millisecond, common.MAV_RESULT_FAILED, "Arm: System not initialised"},
		{3 * time.Second, common.MAV_RESULT_FAILED, "Arm: AHRS: waiting for home"},
		{5 * time.Second, common.MAV_RESULT_FAILED, "Arm: Need Position Estimate"},
		{8100 * time.Millisecond, common.MAV_RESULT_ACCEPTED, "Arming motors"},
	}
	start := h.now
	for _, s := range steps {
		h.run(s.at - h.now.Sub(start))
		n := len(h.sent)
		res, texts := h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
		if res != s.result || !contains(texts, s.text) {
			t.Errorf("arm at %v: %v %q, want %v %q", s.at, res, texts, s.result, s.text)
		}
		if s.result == common.MAV_RESULT_FAILED {
			for _, x := range h.since(n) {
				if m, ok := x.msg.(*common.MessageStatustext); ok && m.Severity != common.MAV_SEVERITY_CRITICAL {
					t.Errorf("refusal text %q severity %v, want CRITICAL", m.Text, m.Severity)
				}
			}
		} else if h.names(n)["HomePosition"] != 1 {
			t.Error("no HOME_POSITION at arming")
		}
	}
	h.run(1100 * time.Millisecond)
	if hb := h.lastHeartbeat(); hb.BaseMode != 0xd1 || hb.BaseMode&common.MAV_MODE_FLAG_SAFETY_ARMED == 0 {
		t.Errorf("armed STABILIZE heartbeat base_mode %#x", uint8(hb.BaseMode))
	}
}

func TestPreArmForceAndNoDelay(t *testing.T) {
	h := newHarness(t, Config{BootDelay: 30 * time.Second})
	h.run(2 * time.Second)
	if r, _ := h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1, forceArmMagic); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("force arm: %v", r)
	}
	h2 := newHarness(t, Config{BootDelay: -1})
	h2.run(50 * time.Millisecond)
	if !h2.v.positionOK() {
		t.Fatal("negative boot delay: no position at once")
	}
	if r, txt := h2.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("arm without boot delay: %v %v", r, txt)
	}
}

func TestBootHeartbeatsAndPositionBeforeFix(t *testing.T) {
	h := newHarness(t, Config{BootDelay: 8 * time.Second, StreamUnasked: true})
	h.run(500 * time.Millisecond)
	hb := h.lastHeartbeat()
	if hb == nil || hb.SystemStatus != common.MAV_STATE_BOOT || hb.BaseMode != 0x59 || hb.Type != common.MAV_TYPE_QUADROTOR ||
		hb.Autopilot != common.MAV_AUTOPILOT_ARDUPILOTMEGA || hb.MavlinkVersion != 3 {
		t.Fatalf("boot heartbeat %+v", hb)
	}
	// DO_SET_MODE during boot is accepted but does not stick.
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided)); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("GUIDED during boot: %v", r)
	}
	if hb := h.lastHeartbeat(); hb.CustomMode != ModeGuided {
		t.Errorf("mode change sends a heartbeat at once: got mode %d", hb.CustomMode)
	}
	for _, s := range h.sent {
		if m, ok := s.msg.(*common.MessageGlobalPositionInt); ok && (m.Lat != 0 || m.Lon != 0) {
			t.Fatalf("position %d,%d before the fix", m.Lat, m.Lon)
		}
	}
	h.run(1500 * time.Millisecond)
	hb = h.lastHeartbeat()
	if hb.SystemStatus != common.MAV_STATE_STANDBY || hb.CustomMode != ModeStabilize || hb.BaseMode != 0x51 {
		t.Errorf("after boot: %+v, want STANDBY STABILIZE 0x51", hb)
	}
	if !contains(h.texts(0), "ArduPilot Ready") || !contains(h.texts(0), "ArduCopter V4.7.0-dev (centinela-sim)") {
		t.Errorf("boot texts %q", h.texts(0))
	}
	h.run(3 * time.Second)
	var fixed bool
	for _, s := range h.sent {
		if m, ok := s.msg.(*common.MessageGlobalPositionInt); ok && m.Lat != 0 {
			fixed = true
			if math.Abs(float64(m.Lat)/1e7-h.v.origin.Lat) > 1e-5 {
				t.Errorf("position %v, home %v", m.Lat, h.v.origin.Lat)
			}
		}
	}
	if !fixed {
		t.Error("no position after the fix")
	}
}

func TestStreamsOnlyOnRequest(t *testing.T) {
	h := newHarness(t, Config{BootDelay: 4 * time.Second})
	h.run(12 * time.Second)
	allowed := map[string]bool{"Heartbeat": true, "Statustext": true, "HomePosition": true, "GpsGlobalOrigin": true, "Timesync": true}
	for name := range h.names(0) {
		if !allowed[name] {
			t.Errorf("sent %s without a stream request", name)
		}
	}
	if h.names(0)["HomePosition"] != 1 || h.names(0)["Timesync"] != 1 {
		t.Errorf("unrequested traffic %v: want one HOME_POSITION at origin and a TIMESYNC", h.names(0))
	}
	n := len(h.sent)
	for _, id := range []uint8{1, 2, 3, 6, 10, 11, 12} {
		h.recv(&common.MessageRequestDataStream{TargetSystem: 1, TargetComponent: 1, ReqStreamId: common.MAV_DATA_STREAM(id), ReqMessageRate: 4, StartStop: 1})
	}
	h.run(10 * time.Second)
	got := h.names(n)
	for _, name := range []string{"GlobalPositionInt", "Attitude", "SysStatus", "BatteryStatus", "GpsRawInt", "VfrHud", "MissionCurrent", "SystemTime", "LocalPositionNed"} {
		if c := got[name]; c < 38 || c > 41 {
			t.Errorf("%s: %d in 10 s at 4 Hz", name, c)
		}
	}
	for _, name := range []string{"ExtendedSysState", "FenceStatus", "PositionTargetGlobalInt"} {
		if got[name] != 0 {
			t.Errorf("%s streamed (%d)", name, got[name])
		}
	}
	if c := got["Heartbeat"]; c < 9 || c > 11 {
		t.Errorf("%d heartbeats in 10 s", c)
	}
	// Stop all, then two messages at 10 Hz by interval.
	h.recv(&common.MessageRequestDataStream{TargetSystem: 1, TargetComponent: 1, ReqStreamId: 0, ReqMessageRate: 0, StartStop: 0})
	if r, _ := h.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 33, 100000); r != common.MAV_RESULT_ACCEPTED {
		t.Fatal(r)
	}
	if r, _ := h.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 30, 100000); r != common.MAV_RESULT_ACCEPTED {
		t.Fatal(r)
	}
	n = len(h.sent)
	res, _ := h.cmd(common.MAV_CMD_GET_MESSAGE_INTERVAL, 30)
	if res != common.MAV_RESULT_ACCEPTED {
		t.Fatal(res)
	}
	if mi, ok := h.sent[n].msg.(*common.MessageMessageInterval); !ok || mi.MessageId != 30 || mi.IntervalUs != 100000 {
		t.Errorf("GET_MESSAGE_INTERVAL answered %+v first", h.sent[n].msg)
	}
	n = len(h.sent)
	h.run(5 * time.Second)
	got = h.names(n)
	if got["GlobalPositionInt"] < 49 || got["GlobalPositionInt"] > 51 || got["Attitude"] < 49 || got["Attitude"] > 51 {
		t.Errorf("10 Hz for 5 s: %v", got)
	}
	for name := range got {
		if name != "GlobalPositionInt" && name != "Attitude" && name != "Heartbeat" {
			t.Errorf("%s still streamed after stream 0 stop", name)
		}
	}
	if r, _ := h.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 9999, 100000); r != common.MAV_RESULT_DENIED { // as ArduCopter
		t.Errorf("interval for an unknown message: %v", r)
	}
}

func TestStreamUnasked(t *testing.T) {
	h := newHarness(t, Config{StreamUnasked: true, BootDelay: -1})
	h.run(2 * time.Second)
	got := h.names(0)
	if c := got["GlobalPositionInt"]; c < 19 || c > 21 {
		t.Errorf("GLOBAL_POSITION_INT %d in 2 s unasked, want 10 Hz", c)
	}
	if got["SysStatus"] < 7 {
		t.Errorf("SYS_STATUS %d in 2 s", got["SysStatus"])
	}
}

func TestCommands(t *testing.T) {
	h := newHarness(t, Config{BootDelay: -1})
	h.run(100 * time.Millisecond)
	cases := []struct {
		name string
		cmd  common.MAV_CMD
		p    []float32
		want common.MAV_RESULT
	}{
		{"takeoff disarmed", common.MAV_CMD_NAV_TAKEOFF, []float32{0, 0, 0, 0, 0, 0, 30}, common.MAV_RESULT_FAILED},
		{"disarm when disarmed", common.MAV_CMD_COMPONENT_ARM_DISARM, []float32{0}, common.MAV_RESULT_ACCEPTED},
		{"unknown command", common.MAV_CMD_DO_SET_SERVO, []float32{1, 1500}, common.MAV_RESULT_UNSUPPORTED},
		{"unknown mode", common.MAV_CMD_DO_SET_MODE, []float32{1, 99}, common.MAV_RESULT_FAILED},
		{"fence enable", common.MAV_CMD_DO_FENCE_ENABLE, []float32{1}, common.MAV_RESULT_ACCEPTED},
		{"change speed", common.MAV_CMD_DO_CHANGE_SPEED, []float32{1, 5, -1}, common.MAV_RESULT_ACCEPTED},
		{"reposition disarmed", common.MAV_CMD_DO_REPOSITION, []float32{-1, 1, 0, float32(math.NaN()), 32.55, -117.03, 30}, common.MAV_RESULT_FAILED},
		{"GUIDED disarmed", common.MAV_CMD_DO_SET_MODE, []float32{1, float32(ModeGuided)}, common.MAV_RESULT_ACCEPTED},
		{"takeoff disarmed in GUIDED", common.MAV_CMD_NAV_TAKEOFF, []float32{0, 0, 0, 0, 0, 0, 30}, common.MAV_RESULT_FAILED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r, txt := h.cmd(c.cmd, c.p...); r != c.want {
				t.Errorf("%v: %v %q, want %v", c.cmd, r, txt, c.want)
			}
		})
	}
	n := len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_REQUEST_MESSAGE, 148); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("request AUTOPILOT_VERSION: %v", r)
	}
	var av *common.MessageAutopilotVersion
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageAutopilotVersion); ok {
			av = m
		}
	}
	if av == nil {
		t.Fatal("no AUTOPILOT_VERSION")
	}
	want := common.MAV_PROTOCOL_CAPABILITY_MISSION_INT | common.MAV_PROTOCOL_CAPABILITY_COMMAND_INT |
		common.MAV_PROTOCOL_CAPABILITY_MAVLINK2 | common.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE |
		common.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY | common.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT
	if av.Capabilities&want != want || av.FlightSwVersion != 0x04070000 {
		t.Errorf("AUTOPILOT_VERSION caps %v version %#x", av.Capabilities, av.FlightSwVersion)
	}
	// SET_MODE (the message) is answered with COMMAND_ACK for command 11.
	n = len(h.sent)
	h.recv(&common.MessageSetMode{TargetSystem: 1, BaseMode: 1, CustomMode: ModeLoiter})
	if r, _ := h.ackIn(n, 11); r != common.MAV_RESULT_ACCEPTED || h.v.mode != ModeLoiter {
		t.Errorf("SET_MODE LOITER: %v, mode %d", r, h.v.mode)
	}
}

func TestGuidedFlightTakeoffGotoLand(t *testing.T) {
	h := newHarness(t, Config{Speedup: 10, BootDelay: 2 * time.Second})
	h.armAndTakeoff(30)
	if hb := h.lastHeartbeat(); hb.BaseMode != 0xd9 || hb.SystemStatus != common.MAV_STATE_ACTIVE || hb.CustomMode != ModeGuided {
		t.Errorf("flying heartbeat %+v", hb)
	}
	// A new takeoff (confirmation 0) while flying is refused like ArduCopter.
	if r, _ := h.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 30); r != common.MAV_RESULT_FAILED {
		t.Errorf("takeoff while flying: %v", r)
	}
	n := len(h.sent)

	// Go-to 150 m north via SET_POSITION_TARGET_GLOBAL_INT.
	lat, lon := offset(h.v.origin.Lat, h.v.origin.Lon, 150, 0)
	h.recv(&common.MessageSetPositionTargetGlobalInt{TargetSystem: 1, TargetComponent: 1,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, TypeMask: 0xff8,
		LatInt: int32(lat * 1e7), LonInt: int32(lon * 1e7), Alt: 30})
	start := h.v.sim
	if !h.runUntil(5*time.Second, func() bool { return math.Hypot(h.v.m.N-150, h.v.m.E) < 2 }) {
		t.Fatalf("go-to: at %.1f,%.1f", h.v.m.N, h.v.m.E)
	}
	if took := (h.v.sim - start).Seconds(); took < 15 || took > 25 {
		t.Errorf("150 m took %.1f s simulated", took)
	}
	// DO_REPOSITION as COMMAND_INT, AMSL frame, with a retry.
	lat, lon = offset(h.v.origin.Lat, h.v.origin.Lon, 200, 100)
	ci := &common.MessageCommandInt{TargetSystem: 1, TargetComponent: 1, Frame: common.MAV_FRAME_GLOBAL_INT,
		Command: common.MAV_CMD_DO_REPOSITION, Param1: -1, Param2: 1, Param4: float32(math.NaN()),
		X: int32(lat * 1e7), Y: int32(lon * 1e7), Z: float32(h.v.origin.Alt + 40)}
	n = len(h.sent)
	h.recv(ci)
	if r, _ := h.ackIn(n, common.MAV_CMD_DO_REPOSITION); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("reposition: %v", r)
	}
	if !h.runUntil(5*time.Second, func() bool {
		return math.Hypot(h.v.m.N-200, h.v.m.E-100) < 2 && math.Abs(h.v.m.U-40) < 1
	}) {
		t.Fatalf("reposition: at %.1f,%.1f,%.1f", h.v.m.N, h.v.m.E, h.v.m.U)
	}
	// Land: mode 9 at once, ACTIVE until the disarm 2 s after touchdown.
	n = len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_NAV_LAND); r != common.MAV_RESULT_ACCEPTED || h.v.mode != ModeLand {
		t.Fatalf("land: %v mode %d", r, h.v.mode)
	}
	if !h.runUntil(10*time.Second, func() bool { return !h.v.armed }) {
		t.Fatalf("not disarmed: alt %.1f", h.v.m.U)
	}
	var touch, disarm time.Duration
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageStatustext); ok {
			if strings.HasPrefix(m.Text, "SIM Hit ground") {
				touch = s.sim
			}
			if m.Text == "Disarming motors" {
				disarm = s.sim
			}
		}
	}
	if touch == 0 || disarm-touch < 1900*time.Millisecond || disarm-touch > 2100*time.Millisecond {
		t.Errorf("touchdown %v, disarm %v: want disarm 2 s after", touch, disarm)
	}
	// From 40 m: about 42 s in the recording (30 m at 1.5 m/s, 10 m at 0.5 m/s).
	if took := touch.Seconds() - h.since(n)[0].sim.Seconds(); took < 38 || took > 46 {
		t.Errorf("landing from 40 m took %.1f s", took)
	}
	if r, _ := h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 0); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("disarm when landed and disarmed: %v", r)
	}
}

func TestDuplicateCommandIdempotent(t *testing.T) {
	h := newHarness(t, Config{Speedup: 10, BootDelay: -1})
	h.run(50 * time.Millisecond)
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	if r, _ := h.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 20); r != common.MAV_RESULT_ACCEPTED {
		t.Fatal(r)
	}
	h.run(300 * time.Millisecond) // climbing
	n := len(h.sent)
	h.recv(&common.MessageCommandLong{TargetSystem: 1, TargetComponent: 1, Command: common.MAV_CMD_NAV_TAKEOFF, Param7: 20, Confirmation: 1})
	if r, _ := h.ackIn(n, common.MAV_CMD_NAV_TAKEOFF); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("retried takeoff: %v, want ACCEPTED again", r)
	}
	if h.v.tgt.u != 20 || !h.v.takeoff {
		t.Errorf("retry changed the takeoff: %+v", h.v.tgt)
	}
}

func TestRTLAndGCSFailsafeWallClock(t *testing.T) {
	h := newHarness(t, Config{Speedup: 20, BootDelay: -1})
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_ENABLE", ParamValue: 1, ParamType: common.MAV_PARAM_TYPE_REAL32})
	hb := &common.MessageHeartbeat{Type: common.MAV_TYPE_GCS, Autopilot: common.MAV_AUTOPILOT_INVALID}
	h.recv(hb)
	h.armAndTakeoff(20)
	lat, lon := offset(h.v.origin.Lat, h.v.origin.Lon, 300, 0)
	h.recv(&common.MessageSetPositionTargetGlobalInt{TargetSystem: 1, TargetComponent: 1,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, TypeMask: 0xff8,
		LatInt: int32(lat * 1e7), LonInt: int32(lon * 1e7), Alt: 20})
	// A 1 Hz ground station for 8 s of wall time (160 s simulated) never
	// trips the failsafe.
	for i := 0; i < 8; i++ {
		h.run(time.Second)
		h.recv(hb)
	}
	if h.v.gcsFS || h.v.mode != ModeGuided {
		t.Fatalf("failsafe with a 1 Hz GCS: fs=%v mode %d", h.v.gcsFS, h.v.mode)
	}
	n := len(h.sent)
	lastHB := h.now
	if !h.runUntil(10*time.Second, func() bool { return h.v.gcsFS }) {
		t.Fatal("no failsafe")
	}
	if d := h.now.Sub(lastHB); d < 5*time.Second || d > 5100*time.Millisecond {
		t.Errorf("failsafe after %v of wall time, want FS_GCS_TIMEOUT 5 s", d)
	}
	if h.v.mode != ModeRTL || !contains(h.texts(n), "GCS Failsafe") {
		t.Errorf("failsafe: mode %d texts %q", h.v.mode, h.texts(n))
	}
	if hb := h.lastHeartbeat(); hb.CustomMode != ModeRTL || hb.SystemStatus != common.MAV_STATE_CRITICAL {
		t.Errorf("failsafe heartbeat %+v", hb)
	}
	h.recv(hb)
	if h.v.gcsFS || !contains(h.texts(n), "GCS Failsafe Cleared") || h.v.mode != ModeRTL {
		t.Errorf("cleared: fs=%v mode=%d", h.v.gcsFS, h.v.mode)
	}
	// RTL climbs to RTL_ALT (15 m, below us: keep 20 m), returns, lands, disarms.
	if !h.runUntil(20*time.Second, func() bool { h.recv(hb); return !h.v.armed }) {
		t.Fatalf("RTL did not end: stage %d at %.1f,%.1f,%.1f", h.v.rtlStage, h.v.m.N, h.v.m.E, h.v.m.U)
	}
	if d := math.Hypot(h.v.m.N-h.v.home[0], h.v.m.E-h.v.home[1]); d > 2 {
		t.Errorf("RTL landed %.1f m from home", d)
	}
}

func TestParamsProtocol(t *testing.T) {
	h := newHarness(t, Config{BootDelay: -1})
	n := len(h.sent)
	h.recv(&common.MessageParamRequestList{TargetSystem: 1, TargetComponent: 1})
	h.run(time.Second)
	got := map[uint16]*common.MessageParamValue{}
	var order []uint16
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageParamValue); ok {
			got[m.ParamIndex] = m
			order = append(order, m.ParamIndex)
			if int(m.ParamCount) != len(paramDefs) {
				t.Fatalf("count %d", m.ParamCount)
			}
		}
	}
	if len(got) != len(paramDefs) {
		t.Fatalf("got %d of %d parameters", len(got), len(paramDefs))
	}
	for i, idx := range order {
		if int(idx) != i {
			t.Fatalf("parameter %d sent at position %d", idx, i)
		}
	}
	names := map[string]common.MAV_PARAM_TYPE{}
	for _, m := range got {
		names[m.ParamId] = m.ParamType
	}
	for _, want := range []string{"MAV_SYSID", "MAV_GCS_SYSID", "FS_GCS_ENABLE", "FS_GCS_TIMEOUT", "FS_OPTIONS",
		"FENCE_ENABLE", "FENCE_TYPE", "FENCE_ACTION", "FENCE_RADIUS", "FENCE_ALT_MAX", "FENCE_MARGIN", "FENCE_TOTAL",
		"FENCE_OPTIONS", "FENCE_NTF_FREQ", "AVOID_ENABLE", "RTL_ALT", "WPNAV_SPEED", "WPNAV_SPEED_UP", "WPNAV_SPEED_DN", "LAND_SPEED", "BATT_CAPACITY",
		"BATT_LOW_VOLT", "BATT_CRT_VOLT", "BATT_FS_LOW_ACT", "BATT_FS_CRT_ACT", "DISARM_DELAY", "SIM_SPEEDUP",
		"SIM_WIND_SPD", "SIM_WIND_DIR"} {
		if _, ok := names[want]; !ok {
			t.Errorf("parameter %s missing", want)
		}
	}
	// ArduCopter 4.7 renamed SYSID_THISMAV to MAV_SYSID; the old name is gone.
	if _, ok := names["SYSID_THISMAV"]; ok {
		t.Error("SYSID_THISMAV is not an ArduCopter 4.7 parameter")
	}
	if names["FENCE_OPTIONS"] != common.MAV_PARAM_TYPE_INT16 || names["FENCE_NTF_FREQ"] != common.MAV_PARAM_TYPE_REAL32 {
		t.Errorf("FENCE_OPTIONS %v, FENCE_NTF_FREQ %v: not ArduCopter's types", names["FENCE_OPTIONS"], names["FENCE_NTF_FREQ"])
	}
	if names["FS_GCS_ENABLE"] != common.MAV_PARAM_TYPE_INT8 || names["FS_GCS_TIMEOUT"] != common.MAV_PARAM_TYPE_REAL32 || names["RTL_ALT"] != common.MAV_PARAM_TYPE_INT32 {
		t.Error("wrong ArduCopter types")
	}
	// Read by name: index 65535. By index: the index.
	n = len(h.sent)
	h.recv(&common.MessageParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamId: "FENCE_RADIUS", ParamIndex: -1})
	h.recv(&common.MessageParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamIndex: 3})
	h.recv(&common.MessageParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamId: "NO_SUCH_PARAM", ParamIndex: -1})
	var reads []*common.MessageParamValue
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageParamValue); ok {
			reads = append(reads, m)
		}
	}
	if len(reads) != 2 || reads[0].ParamId != "FENCE_RADIUS" || reads[0].ParamIndex != 65535 || reads[0].ParamValue != 150 ||
		reads[1].ParamIndex != 3 || reads[1].ParamId != paramDefs[3].name {
		t.Errorf("reads %+v", reads)
	}
	// Set an INT8 as REAL32 (2.6 rounds to 3): echo with the true type.
	n = len(h.sent)
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_ENABLE", ParamValue: 2.6, ParamType: common.MAV_PARAM_TYPE_REAL32})
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "SIM_WIND_SPD", ParamValue: 7, ParamType: common.MAV_PARAM_TYPE_REAL32})
	var echo []*common.MessageParamValue
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageParamValue); ok {
			echo = append(echo, m)
		}
	}
	if len(echo) != 2 || echo[0].ParamType != common.MAV_PARAM_TYPE_INT8 || echo[0].ParamValue != 3 || echo[0].ParamIndex != 65535 {
		t.Errorf("echo %+v", echo)
	}
	if h.v.m.WindSpeed != 7 {
		t.Errorf("SIM_WIND_SPD did not take effect: %v", h.v.m.WindSpeed)
	}
}

func TestBatteryFailsafe(t *testing.T) {
	h := newHarness(t, Config{Speedup: 20, BootDelay: -1})
	h.v.p.set("BATT_FS_LOW_ACT", 2)
	h.v.p.set("BATT_CRT_VOLT", 10.0)
	h.v.p.set("BATT_FS_CRT_ACT", 1)
	h.armAndTakeoff(20)
	h.v.m.ConsumedMAh = h.v.m.Capacity * 0.85 // about 10.3 V under load
	n := len(h.sent)
	if !h.runUntil(2*time.Second, func() bool { return h.v.mode == ModeRTL }) {
		t.Fatalf("no low-battery RTL: %.2f V", h.v.m.voltage())
	}
	if txt := h.texts(n); len(txt) == 0 || !strings.HasPrefix(txt[0], "Battery 1 is low") {
		t.Errorf("texts %q", txt)
	}
	h.v.m.ConsumedMAh = h.v.m.Capacity * 0.97
	if !h.runUntil(2*time.Second, func() bool { return h.v.mode == ModeLand }) {
		t.Fatalf("no critical-battery LAND: %.2f V", h.v.m.voltage())
	}
}
