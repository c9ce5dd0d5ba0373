package sim

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// wp makes a MISSION_ITEM_INT at north/east metres from the drone's origin,
// altitude relative to home.
func (h *harness) wp(seq int, cmd common.MAV_CMD, north, east, alt float64, p ...float32) *common.MessageMissionItemInt {
	var a [4]float32
	copy(a[:], p)
	it := &common.MessageMissionItemInt{TargetSystem: 1, TargetComponent: 1, Seq: uint16(seq), Frame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Command: cmd, Autocontinue: 1, Param1: a[0], Param2: a[1], Param3: a[2], Param4: a[3], Z: float32(alt)}
	if north != 0 || east != 0 {
		lat, lon := offset(h.v.origin.Lat, h.v.origin.Lon, north, east)
		it.X, it.Y = int32(math.Round(lat*1e7)), int32(math.Round(lon*1e7))
	}
	if isDo(cmd) {
		it.Frame = common.MAV_FRAME_MISSION
	}
	return it
}

// upload runs the mission protocol as a well-behaved GCS and returns the
// final MISSION_ACK result.
func (h *harness) upload(t common.MAV_MISSION_TYPE, items []*common.MessageMissionItemInt) common.MAV_MISSION_RESULT {
	h.t.Helper()
	from := len(h.sent)
	h.recv(&common.MessageMissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items)), MissionType: t})
	for i := 0; i < 10*len(items)+10; i++ {
		for _, s := range h.sent[from:] {
			switch m := s.msg.(type) {
			case *common.MessageMissionAck:
				return m.Type
			case *common.MessageMissionRequest:
				from = len(h.sent)
				it := *items[m.Seq]
				it.MissionType = t
				h.recv(&it)
			}
		}
	}
	h.t.Fatal("upload did not finish")
	return 0
}

// download reads a plan back with MISSION_REQUEST_INT.
func (h *harness) download(t common.MAV_MISSION_TYPE) []*common.MessageMissionItemInt {
	h.t.Helper()
	from := len(h.sent)
	h.recv(&common.MessageMissionRequestList{TargetSystem: 1, TargetComponent: 1, MissionType: t})
	cnt, ok := h.sent[from].msg.(*common.MessageMissionCount)
	if !ok {
		h.t.Fatalf("answer to REQUEST_LIST: %T", h.sent[from].msg)
	}
	var out []*common.MessageMissionItemInt
	for i := 0; i < int(cnt.Count); i++ {
		from = len(h.sent)
		h.recv(&common.MessageMissionRequestInt{TargetSystem: 1, TargetComponent: 1, Seq: uint16(i), MissionType: t})
		it, ok := h.sent[from].msg.(*common.MessageMissionItemInt)
		if !ok || int(it.Seq) != i {
			h.t.Fatalf("answer to REQUEST_INT %d: %+v", i, h.sent[from].msg)
		}
		out = append(out, it)
	}
	return out
}

func (h *harness) reachedSeqs(from int) []int {
	var out []int
	for _, s := range h.sent[from:] {
		if m, ok := s.msg.(*common.MessageMissionItemReached); ok {
			out = append(out, int(m.Seq))
		}
	}
	return out
}

// patrol50 builds a 50-item patrol: home, takeoff, 47 waypoints on a
// square loop 80 m a side with a speed change, RTL.
func patrol50(h *harness) []*common.MessageMissionItemInt {
	items := []*common.MessageMissionItemInt{h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0), h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 25)}
	corners := [][2]float64{{80, 0}, {80, 80}, {0, 80}, {0, 0}}
	for i := 2; i < 49; i++ {
		if i == 20 {
			items = append(items, h.wp(i, common.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 0, 1, 12, -1))
			continue
		}
		c := corners[i%4]
		items = append(items, h.wp(i, common.MAV_CMD_NAV_WAYPOINT, c[0], c[1], 25+float64(i%3)))
	}
	return append(items, h.wp(49, common.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0))
}

func TestMission50UploadDownloadFly(t *testing.T) {
	h := newHarness(t, Config{Speedup: 50, BootDelay: -1})
	h.run(50 * time.Millisecond)
	items := patrol50(h)
	n := len(h.sent)
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload: %v", r)
	}
	if !contains(h.texts(n), "Flight plan received") {
		t.Error("no Flight plan received")
	}
	got := h.download(common.MAV_MISSION_TYPE_MISSION)
	if len(got) != 50 {
		t.Fatalf("downloaded %d items", len(got))
	}
	for i := 1; i < 50; i++ {
		w, g := items[i], got[i]
		wantFrame := common.MAV_FRAME_GLOBAL_RELATIVE_ALT
		if isDo(w.Command) {
			wantFrame = common.MAV_FRAME_GLOBAL
		}
		if g.Command != w.Command || g.X != w.X || g.Y != w.Y || g.Z != w.Z || g.Param1 != w.Param1 || g.Param2 != w.Param2 ||
			g.Param3 != w.Param3 || g.Frame != wantFrame {
			t.Errorf("item %d: got %+v, uploaded %+v", i, g, w)
		}
	}
	if got[0].Frame != common.MAV_FRAME_GLOBAL || got[0].Command != common.MAV_CMD_NAV_WAYPOINT {
		t.Errorf("seq 0 %+v, want home as a GLOBAL waypoint", got[0])
	}
	if mc := h.v.missionCurrent(); mc.MissionState != common.MISSION_STATE_NOT_STARTED || mc.Total != 49 {
		t.Errorf("after upload %+v", mc)
	}
	// Fly it: GUIDED, arm, AUTO starts the mission on the ground.
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	n = len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto)); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("AUTO: %v", r)
	}
	if txt := h.texts(n); len(txt) == 0 || txt[0] != "Mission: 1 Takeoff" {
		t.Errorf("texts at AUTO %q", txt)
	}
	if r, _ := h.cmd(common.MAV_CMD_MISSION_START); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("MISSION_START: %v", r)
	}
	var lastSeq uint16
	sawActive := false
	if !h.runUntil(60*time.Second, func() bool {
		mc := h.v.missionCurrent()
		if mc.MissionState == common.MISSION_STATE_ACTIVE {
			sawActive = true
			if mc.Seq < lastSeq {
				t.Fatalf("MISSION_CURRENT went back %d → %d", lastSeq, mc.Seq)
			}
			if isDo(items[mc.Seq].Command) {
				t.Fatalf("DO item %d is current", mc.Seq)
			}
			lastSeq = mc.Seq
		}
		return !h.v.armed
	}) {
		t.Fatalf("mission not finished: item %d at %.0f,%.0f", h.v.mis.current, h.v.m.N, h.v.m.E)
	}
	reached := h.reachedSeqs(n)
	var want []int
	for i := 1; i < 50; i++ {
		switch {
		case i == 19: // followed by the DO_CHANGE_SPEED: its seq is reported
			want = append(want, 20)
		case i == 20:
		default:
			want = append(want, i)
		}
	}
	if !reflect.DeepEqual(reached, want) {
		t.Errorf("MISSION_ITEM_REACHED %v\nwant %v", reached, want)
	}
	mc := h.v.missionCurrent()
	if !sawActive || mc.MissionState != common.MISSION_STATE_COMPLETE || mc.Seq != 0 || h.v.mode != ModeAuto {
		t.Errorf("end: %+v mode %d", mc, h.v.mode)
	}
	if d := math.Hypot(h.v.m.N, h.v.m.E); d > 2 || !h.v.m.Landed {
		t.Errorf("landed %.1f m from home, landed=%v", d, h.v.m.Landed)
	}
}

// TestMissionLikeRecordingC flies recording c's mission (DO_JUMP, two speed
// changes, final RTL) and checks MISSION_ITEM_REACHED and the texts against
// what real ArduCopter sent.
func TestMissionLikeRecordingC(t *testing.T) {
	h := newHarness(t, Config{Speedup: 50, BootDelay: -1})
	h.run(50 * time.Millisecond)
	W := common.MAV_CMD_NAV_WAYPOINT
	items := []*common.MessageMissionItemInt{
		h.wp(0, W, 0, 0, 0), h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 30),
		h.wp(2, W, 60, 0, 30), h.wp(3, W, 60, 60, 30), h.wp(4, common.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 0, 1, 5, -1),
		h.wp(5, W, 0, 60, 30), h.wp(6, common.MAV_CMD_DO_JUMP, 0, 0, 0, 2, 1), h.wp(7, W, -60, 60, 30),
		h.wp(8, common.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 0, 1, 10, -1), h.wp(9, W, -60, 0, 30),
		h.wp(10, common.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0),
	}
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatal(r)
	}
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	n := len(h.sent)
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto))
	var legSpeed []float64
	if !h.runUntil(30*time.Second, func() bool {
		if h.v.mis.current == 5 {
			legSpeed = append(legSpeed, h.v.m.groundSpeed())
		}
		return !h.v.armed
	}) {
		t.Fatal("mission did not finish")
	}
	if got, want := h.reachedSeqs(n), []int{1, 2, 4, 5, 2, 4, 5, 8, 9, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("MISSION_ITEM_REACHED %v, recorded %v", got, want)
	}
	var missionTexts []string
	for _, s := range h.texts(n) {
		if strings.HasPrefix(s, "Mission: ") || strings.HasPrefix(s, "Reached command") {
			missionTexts = append(missionTexts, s)
		}
	}
	want := []string{"Mission: 1 Takeoff", "Mission: 2 WP", "Reached command #2", "Mission: 3 WP", "Reached command #3",
		"Mission: 4 ChangeSpeed", "Mission: 5 WP", "Reached command #5", "Mission: 6 Jump 1/1", "Mission: 2 WP",
		"Reached command #2", "Mission: 3 WP", "Reached command #3", "Mission: 4 ChangeSpeed", "Mission: 5 WP",
		"Reached command #5", "Mission: 7 WP", "Reached command #7", "Mission: 8 ChangeSpeed", "Mission: 9 WP",
		"Reached command #9", "Mission: 10 RTL"}
	if !reflect.DeepEqual(missionTexts, want) {
		t.Errorf("texts\n%q\nrecorded\n%q", missionTexts, want)
	}
	maxLeg := 0.0
	for _, s := range legSpeed {
		maxLeg = math.Max(maxLeg, s)
	}
	if maxLeg > 5.01 || maxLeg < 4.5 {
		t.Errorf("leg after DO_CHANGE_SPEED 5 m/s flown at up to %.2f m/s", maxLeg)
	}
	if mc := h.v.missionCurrent(); mc.MissionState != common.MISSION_STATE_COMPLETE || h.v.mode != ModeAuto {
		t.Errorf("end %+v mode %d", mc, h.v.mode)
	}
}

func TestMissionProtocolErrors(t *testing.T) {
	h := newHarness(t, Config{BootDelay: -1})
	h.run(50 * time.Millisecond)
	// No answers: MISSION_REQUEST 0 every second, cancelled after 8 s.
	n := len(h.sent)
	h.recv(&common.MessageMissionCount{TargetSystem: 1, TargetComponent: 1, Count: 3})
	h.run(9 * time.Second)
	var reqs []time.Time
	var ack *common.MessageMissionAck
	var ackAt time.Time
	for _, s := range h.since(n) {
		switch m := s.msg.(type) {
		case *common.MessageMissionRequest:
			if m.Seq != 0 {
				t.Errorf("request seq %d", m.Seq)
			}
			reqs = append(reqs, s.wall)
		case *common.MessageMissionAck:
			ack, ackAt = m, s.wall
		}
	}
	if len(reqs) != 8 || ack == nil || ack.Type != common.MAV_MISSION_OPERATION_CANCELLED || !contains(h.texts(n), "Mission upload timeout") {
		t.Fatalf("%d requests, ack %+v, texts %q", len(reqs), ack, h.texts(n))
	}
	if d := ackAt.Sub(reqs[0]); d < 7900*time.Millisecond || d > 8100*time.Millisecond {
		t.Errorf("cancelled %v after the count, want 8 s", d)
	}
	// Wrong seq → INVALID_SEQUENCE, then the transfer goes on.
	items := []*common.MessageMissionItemInt{h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0), h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 10),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 50, 0, 10)}
	h.recv(&common.MessageMissionCount{TargetSystem: 1, TargetComponent: 1, Count: 3})
	h.recv(items[0])
	n = len(h.sent)
	h.recv(items[2])
	if a, ok := h.sent[n].msg.(*common.MessageMissionAck); !ok || a.Type != common.MAV_MISSION_INVALID_SEQUENCE {
		t.Fatalf("wrong seq answered %+v", h.sent[n].msg)
	}
	n = len(h.sent)
	h.run(1100 * time.Millisecond)
	var again *common.MessageMissionRequest
	for _, s := range h.since(n) {
		if r, ok := s.msg.(*common.MessageMissionRequest); ok && again == nil {
			again = r
		}
	}
	if again == nil || again.Seq != 1 {
		t.Fatalf("re-request %+v", again)
	}
	// A repeated MISSION_COUNT restarts at seq 0.
	n = len(h.sent)
	h.recv(&common.MessageMissionCount{TargetSystem: 1, TargetComponent: 1, Count: 3})
	if r, ok := h.sent[n].msg.(*common.MessageMissionRequest); !ok || r.Seq != 0 {
		t.Fatalf("restart request %+v", h.sent[n].msg)
	}
	h.recv(items[0])
	h.recv(items[1])
	n = len(h.sent)
	h.recv(items[2])
	if a, ok := h.sent[n].msg.(*common.MessageMissionAck); !ok || a.Type != common.MAV_MISSION_ACCEPTED {
		t.Fatalf("final ack %+v", h.sent[n].msg)
	}
	// The last item again (its ACK lost): MAV_MISSION_ERROR.
	n = len(h.sent)
	h.recv(items[2])
	if a, ok := h.sent[n].msg.(*common.MessageMissionAck); !ok || a.Type != common.MAV_MISSION_ERROR {
		t.Fatalf("resent final item answered %+v", h.sent[n].msg)
	}
	// Download: beyond the end → COUNT + INVALID_SEQUENCE; deprecated
	// MISSION_REQUEST → MISSION_ITEM + one warning.
	n = len(h.sent)
	h.recv(&common.MessageMissionRequestInt{TargetSystem: 1, TargetComponent: 1, Seq: 99})
	if c, ok := h.sent[n].msg.(*common.MessageMissionCount); !ok || c.Count != 3 {
		t.Errorf("beyond the end: %+v", h.sent[n].msg)
	}
	if a, ok := h.sent[n+1].msg.(*common.MessageMissionAck); !ok || a.Type != common.MAV_MISSION_INVALID_SEQUENCE {
		t.Errorf("beyond the end: %+v", h.sent[n+1].msg)
	}
	n = len(h.sent)
	h.recv(&common.MessageMissionRequest{TargetSystem: 1, TargetComponent: 1, Seq: 2})
	h.recv(&common.MessageMissionRequest{TargetSystem: 1, TargetComponent: 1, Seq: 2})
	if c := h.names(n); c["MissionItem"] != 2 || len(h.texts(n)) != 1 || h.texts(n)[0] != "got MISSION_REQUEST; use MISSION_REQUEST_INT!" {
		t.Errorf("deprecated request: %v %q", c, h.texts(n))
	}
	// Clear all.
	n = len(h.sent)
	h.recv(&common.MessageMissionClearAll{TargetSystem: 1, TargetComponent: 1})
	if a, ok := h.sent[n].msg.(*common.MessageMissionAck); !ok || a.Type != common.MAV_MISSION_ACCEPTED || len(h.v.mis.items[0]) != 1 {
		t.Errorf("clear: %+v, %d items", h.sent[n].msg, len(h.v.mis.items[0]))
	}
}

func TestMissionPauseResume(t *testing.T) {
	h := newHarness(t, Config{Speedup: 20, BootDelay: -1})
	h.run(50 * time.Millisecond)
	items := []*common.MessageMissionItemInt{h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0), h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 20),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 300, 0, 20), h.wp(3, common.MAV_CMD_NAV_LOITER_TIME, 300, 100, 20, 5),
		h.wp(4, common.MAV_CMD_NAV_LOITER_TURNS, 200, 100, 20, 1, 0, 15), h.wp(5, common.MAV_CMD_NAV_LAND, 0, 0, 0)}
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatal(r)
	}
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	h.cmd(common.MAV_CMD_MISSION_START)
	if !h.runUntil(5*time.Second, func() bool { return h.v.mis.current == 2 && h.v.m.N > 100 }) {
		t.Fatal("never on the way to item 2")
	}
	// Pause: LOITER holds where it stops.
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeLoiter))
	h.run(500 * time.Millisecond) // stop
	n0, e0 := h.v.m.N, h.v.m.E
	h.run(time.Second) // 20 s simulated
	if d := math.Hypot(h.v.m.N-n0, h.v.m.E-e0); d > 1 {
		t.Errorf("paused drone moved %.1f m", d)
	}
	if mc := h.v.missionCurrent(); mc.Seq != 2 || mc.MissionState != common.MISSION_STATE_PAUSED {
		t.Errorf("paused: %+v", mc)
	}
	// Resume: AUTO continues with item 2.
	n := len(h.sent)
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto))
	if txt := h.texts(n); len(txt) == 0 || txt[0] != "Mission: 2 WP" {
		t.Errorf("resume texts %q", txt)
	}
	if !h.runUntil(30*time.Second, func() bool { return !h.v.armed }) {
		t.Fatalf("resumed mission did not finish: item %d", h.v.mis.current)
	}
	if got := h.reachedSeqs(n); !reflect.DeepEqual(got, []int{2, 3, 4, 5}) {
		t.Errorf("reached after resume %v", got)
	}
}

func TestMissionGCSFailsafeMidMission(t *testing.T) {
	h := newHarness(t, Config{Speedup: 20, BootDelay: -1})
	h.run(50 * time.Millisecond)
	hb := &common.MessageHeartbeat{Type: common.MAV_TYPE_GCS, Autopilot: common.MAV_AUTOPILOT_INVALID}
	h.recv(hb)
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_ENABLE", ParamValue: 1})
	items := []*common.MessageMissionItemInt{h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0), h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 20),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 2000, 0, 20)}
	h.upload(common.MAV_MISSION_TYPE_MISSION, items)
	h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	h.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	h.cmd(common.MAV_CMD_MISSION_START)
	h.recv(hb)
	if !h.runUntil(3*time.Second, func() bool { return h.v.mis.current == 2 }) {
		t.Fatal("mission not under way")
	}
	// Heartbeats stop: RTL after FS_GCS_TIMEOUT (5 s wall).
	start := h.now
	if !h.runUntil(6*time.Second, func() bool { return h.v.mode == ModeRTL }) {
		t.Fatal("no failsafe RTL mid-mission")
	}
	if mc := h.v.missionCurrent(); mc.MissionState != common.MISSION_STATE_PAUSED || mc.Seq != 2 {
		t.Errorf("mission after failsafe %+v", mc)
	}
	_ = start
	if !h.runUntil(30*time.Second, func() bool { return !h.v.armed }) {
		t.Fatal("RTL did not land")
	}
}

// Items that do not convert end the upload with ArduPilot's result codes,
// and leave the stored plan as it was.
func TestMissionItemValidation(t *testing.T) {
	h := newHarness(t, Config{BootDelay: -1})
	good := []*common.MessageMissionItemInt{
		h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0),
		h.wp(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 20),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 50, 0, 20),
	}
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, good); r != common.MAV_MISSION_ACCEPTED {
		t.Fatalf("good plan: %v", r)
	}
	for _, tc := range []struct {
		name string
		mod  func(*common.MessageMissionItemInt)
		want common.MAV_MISSION_RESULT
	}{
		{"latitude off the globe", func(it *common.MessageMissionItemInt) { it.X = 950000000 }, common.MAV_MISSION_INVALID_PARAM5_X},
		{"longitude off the globe", func(it *common.MessageMissionItemInt) { it.Y = -1850000000 }, common.MAV_MISSION_INVALID_PARAM6_Y},
		{"NaN altitude", func(it *common.MessageMissionItemInt) { it.Z = float32(math.NaN()) }, common.MAV_MISSION_INVALID_PARAM7},
		{"infinite speed", func(it *common.MessageMissionItemInt) {
			it.Command, it.Frame, it.Param1, it.Param2 = common.MAV_CMD_DO_CHANGE_SPEED, common.MAV_FRAME_MISSION, 1, float32(math.Inf(1))
		}, common.MAV_MISSION_INVALID_PARAM2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 80, 0, 20)
			tc.mod(bad)
			plan := []*common.MessageMissionItemInt{good[0], good[1], bad}
			if r := h.upload(common.MAV_MISSION_TYPE_MISSION, plan); r != tc.want {
				t.Errorf("result %v, want %v", r, tc.want)
			}
			if got := h.download(common.MAV_MISSION_TYPE_MISSION); len(got) != 3 || got[2].X != good[2].X {
				t.Errorf("stored plan changed: %d items", len(got))
			}
		})
	}
}

// A DO item made current outside AUTO, as a ground station starting a
// mission on a flying drone does, is never what MISSION_CURRENT shows:
// ArduCopter's AP_Mission::set_current_cmd loads the DO items up to the
// next navigation item and reports that one; entering AUTO runs the DO
// items (the speed change) before flying it. DO_SET_MISSION_CURRENT is
// accepted as on ArduCopter 4.7, and refused beyond the mission's end.
func TestSetCurrentDOItemLikeArduCopter(t *testing.T) {
	h := newHarness(t, Config{Speedup: 50, BootDelay: -1})
	h.run(50 * time.Millisecond)
	items := []*common.MessageMissionItemInt{
		h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0),
		h.wp(1, common.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 0, 1, 4, -1),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 150, 0, 20),
		h.wp(3, common.MAV_CMD_NAV_WAYPOINT, 150, 150, 20),
		h.wp(4, common.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0),
	}
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload: %v", r)
	}
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MISSION_CURRENT, 5); r != common.MAV_RESULT_FAILED {
		t.Errorf("DO_SET_MISSION_CURRENT beyond the end: %v, want FAILED", r)
	}
	h.armAndTakeoff(20)
	n := len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MISSION_CURRENT, 1); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("DO_SET_MISSION_CURRENT 1: %v", r)
	}
	var seen []int
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageMissionCurrent); ok {
			seen = append(seen, int(m.Seq))
		}
	}
	if len(seen) == 0 || seen[0] != 2 {
		t.Errorf("MISSION_CURRENT after making the DO item 1 current: %v, want 2 (the navigation item after it)", seen)
	}
	n = len(h.sent)
	h.recv(&common.MessageMissionSetCurrent{TargetSystem: 1, TargetComponent: 1, Seq: 1})
	for _, s := range h.since(n) {
		if m, ok := s.msg.(*common.MessageMissionCurrent); ok && m.Seq != 2 {
			t.Errorf("MISSION_CURRENT after MISSION_SET_CURRENT 1: %d, want 2", m.Seq)
		}
	}

	n = len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto)); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("AUTO: %v", r)
	}
	if txt := h.texts(n); !contains(txt, "Mission: 1 ChangeSpeed") || !contains(txt, "Mission: 2 WP") {
		t.Errorf("texts on entering AUTO %q, want the speed change run, then WP 2", txt)
	}
	top := 0.0
	h.runUntil(time.Duration(25/h.v.p.get("SIM_SPEEDUP")*float64(time.Second)), func() bool { // 100 m of the 150 m leg
		top = math.Max(top, math.Hypot(h.v.m.VN, h.v.m.VE))
		return false
	})
	if top < 3.5 || top > 4.3 {
		t.Errorf("flew to WP 2 at up to %.1f m/s, want the mission's 4 m/s", top)
	}
	if mc := h.v.missionCurrent(); mc.Seq != 2 || mc.MissionState != common.MISSION_STATE_ACTIVE {
		t.Errorf("in AUTO: %+v, want item 2 active", mc)
	}
}

// A drone hovering on the first waypoint reports it reached as AUTO
// begins, as ArduCopter does (verify_nav_wp finds the destination reached
// on its first check): MISSION_ITEM_REACHED comes in the first physics
// steps after the AUTO ack, before the ground station's MISSION_START
// (which the fleet sends on the AUTO ack) is answered, and the next item is
// current after it.
func TestReachedAsAutoBeginsOnTheWaypoint(t *testing.T) {
	h := newHarness(t, Config{Speedup: 2, BootDelay: -1})
	h.run(50 * time.Millisecond)
	h.armAndTakeoff(20)
	items := []*common.MessageMissionItemInt{
		h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0),
		h.wp(1, common.MAV_CMD_NAV_WAYPOINT, h.v.m.N+0.3, h.v.m.E, 20),
		h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 60, 0, 20),
		h.wp(3, common.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0),
	}
	if r := h.upload(common.MAV_MISSION_TYPE_MISSION, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload: %v", r)
	}
	n := len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto)); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("AUTO: %v", r)
	}
	if got := h.reachedSeqs(n); len(got) != 0 {
		t.Errorf("MISSION_ITEM_REACHED %v with the AUTO ack, want it from the first loop in AUTO", got)
	}
	at := h.v.sim
	if !h.runUntil(100*time.Millisecond, func() bool { return len(h.reachedSeqs(n)) > 0 }) {
		t.Fatalf("no MISSION_ITEM_REACHED within 100 ms of entering AUTO on the first waypoint")
	}
	if got := h.reachedSeqs(n); !reflect.DeepEqual(got, []int{1}) || h.v.sim-at > 5*physDT {
		t.Errorf("reached %v %s after AUTO, want [1] within %s", got, h.v.sim-at, 5*physDT)
	}
	if txt := h.texts(n); !contains(txt, "Reached command #1") || !contains(txt, "Mission: 2 WP") {
		t.Errorf("texts %q, want item 1 reached and WP 2 begun", txt)
	}
	m := len(h.sent)
	if r, _ := h.cmd(common.MAV_CMD_MISSION_START, 0, 0); r != common.MAV_RESULT_ACCEPTED {
		t.Errorf("MISSION_START after AUTO: %v", r)
	}
	if got := h.reachedSeqs(m); len(got) != 0 {
		t.Errorf("MISSION_START reported %v reached again", got)
	}
	if mc := h.v.missionCurrent(); mc.Seq != 2 || mc.MissionState != common.MISSION_STATE_ACTIVE {
		t.Errorf("after the start: %+v, want item 2 active", mc)
	}
}
