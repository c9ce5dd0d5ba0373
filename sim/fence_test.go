package sim

import (
	"math"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

func fenceItem(h *harness, seq int, cmd common.MAV_CMD, north, east float64, p1 float32) *common.MessageMissionItemInt {
	it := h.wp(seq, cmd, north, east, 0, p1)
	it.Frame = common.MAV_FRAME_GLOBAL
	it.Autocontinue = 0
	return it
}

// TestFenceEnforcedLikeArduCopter uploads an inclusion square and an
// exclusion circle, enables the fence by command, has a target inside the
// circle refused, flies through it and checks breach, RTL and recovery —
// with the ground station's link cut during the breach.
func TestFenceEnforcedLikeArduCopter(t *testing.T) {
	h := newHarness(t, Config{Speedup: 10, BootDelay: -1})
	h.run(50 * time.Millisecond)
	P := common.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
	items := []*common.MessageMissionItemInt{
		fenceItem(h, 0, P, -120, -120, 4), fenceItem(h, 1, P, -120, 120, 4), fenceItem(h, 2, P, 120, 120, 4), fenceItem(h, 3, P, 120, -120, 4),
		fenceItem(h, 4, common.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION, 60, 0, 20),
	}
	n := len(h.sent)
	if r := h.upload(common.MAV_MISSION_TYPE_FENCE, items); r != common.MAV_MISSION_ACCEPTED {
		t.Fatal(r)
	}
	if !contains(h.texts(n), "Fence Indexed OK") || h.v.p.get("FENCE_TOTAL") != 7 {
		t.Errorf("texts %q FENCE_TOTAL %v", h.texts(n), h.v.p.get("FENCE_TOTAL"))
	}
	back := h.download(common.MAV_MISSION_TYPE_FENCE)
	if len(back) != 5 || back[4].Command != common.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION || back[4].Param1 != 20 || back[0].Param1 != 4 {
		t.Errorf("fence download %+v", back)
	}
	h.recv(&common.MessageRequestDataStream{TargetSystem: 1, TargetComponent: 1, ReqStreamId: 2, ReqMessageRate: 4, StartStop: 1})
	h.run(time.Second)
	if h.names(n)["FenceStatus"] != 0 {
		t.Error("FENCE_STATUS before the fence is enabled")
	}
	if r, _ := h.cmd(common.MAV_CMD_DO_FENCE_ENABLE, 1); r != common.MAV_RESULT_ACCEPTED {
		t.Fatal(r)
	}
	if h.v.p.get("FENCE_ENABLE") != 0 {
		t.Error("DO_FENCE_ENABLE changed FENCE_ENABLE")
	}
	n = len(h.sent)
	h.run(time.Second)
	if c := h.names(n)["FenceStatus"]; c < 3 {
		t.Errorf("%d FENCE_STATUS in 1 s at 4 Hz once enabled", c)
	}
	h.armAndTakeoff(20)
	// Targets inside the exclusion circle: DO_REPOSITION FAILED, position
	// target ignored.
	lat, lon := offset(h.v.origin.Lat, h.v.origin.Lon, 60, 5)
	if r, _ := h.cmd(common.MAV_CMD_DO_REPOSITION, -1, 1, 0, float32(math.NaN()), float32(lat), float32(lon), 20); r != common.MAV_RESULT_FAILED {
		t.Errorf("reposition into the exclusion zone: %v", r)
	}
	h.recv(&common.MessageSetPositionTargetGlobalInt{TargetSystem: 1, TargetComponent: 1, CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		TypeMask: 0xff8, LatInt: int32(lat * 1e7), LonInt: int32(lon * 1e7), Alt: 20})
	if h.v.horizTarget {
		t.Error("position target inside the exclusion zone was taken")
	}
	// A target beyond the zone is flown straight at, through it.
	lat, lon = offset(h.v.origin.Lat, h.v.origin.Lon, 110, 0)
	if r, _ := h.cmd(common.MAV_CMD_DO_REPOSITION, -1, 1, 0, float32(math.NaN()), float32(lat), float32(lon), 20); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("reposition beyond the zone: %v", r)
	}
	h.v.cutUntil = h.now.Add(time.Hour) // the ground station's link is cut
	if !h.runUntil(5*time.Second, func() bool { return h.v.fen.breached }) {
		t.Fatalf("no breach: at %.1f N", h.v.m.N)
	}
	if d := math.Hypot(h.v.m.N-60, h.v.m.E); d < 19 || d > 21 {
		t.Errorf("breach %.1f m from the circle's centre, want ~20", d)
	}
	if h.v.mode != ModeRTL {
		t.Errorf("FENCE_ACTION 1: mode %d, want RTL", h.v.mode)
	}
	st := h.v.fenceStatus()
	if st.BreachStatus != 1 || st.BreachCount != 1 || st.BreachType != common.FENCE_BREACH_BOUNDARY || st.BreachMitigation != common.FENCE_MITIGATE_NONE || st.BreachTime == 0 {
		t.Errorf("FENCE_STATUS %+v", st)
	}
	if !h.runUntil(10*time.Second, func() bool { return !h.v.fen.breached }) {
		t.Fatal("breach never cleared")
	}
	if h.v.fenceStatus().BreachCount != 1 {
		t.Error("breach count changed on clearing")
	}
	if !h.runUntil(20*time.Second, func() bool { return !h.v.armed }) {
		t.Fatal("RTL did not land")
	}
	// Nothing went out while the link was cut; the texts were dropped.
	h.v.cutUntil = time.Time{}
}

func TestFencePushedAcross(t *testing.T) {
	h := newHarness(t, Config{Speedup: 10, BootDelay: -1})
	h.run(50 * time.Millisecond)
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FENCE_ENABLE", ParamValue: 1})
	h.recv(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FENCE_RADIUS", ParamValue: 100})
	if !h.v.fen.enabled {
		t.Fatal("FENCE_ENABLE=1 did not enable the fence")
	}
	h.armAndTakeoff(20)
	n := len(h.sent)
	h.d.Teleport(0, 110)                                                                            // pushed across the 100 m circle
	h.step()                                                                                        // one 10 ms tick: 0.1 s simulated
	if !h.v.fen.breached || h.v.mode != ModeRTL || !contains(h.texts(n), "Circle fence breached") { // ArduCopter names the FENCE_RADIUS fence "Circle"
		t.Errorf("breached=%v mode=%d texts %q", h.v.fen.breached, h.v.mode, h.texts(n))
	}
}
