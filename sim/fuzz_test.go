package sim

import (
	"math"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// FuzzVehicleInput sends a flying vehicle commands, go-tos and mission items
// with arbitrary values (NaN, infinities, out-of-range coordinates, unknown
// commands and frames): it must never panic, and its true state must stay
// finite and on the globe, whatever it accepted.
func FuzzVehicleInput(f *testing.F) {
	nan := float32(math.NaN())
	f.Add(uint16(common.MAV_CMD_NAV_TAKEOFF), uint8(0), float32(0), float32(0), float32(0), float32(0), nan, nan, float32(30))
	f.Add(uint16(common.MAV_CMD_DO_REPOSITION), uint8(6), float32(-1), float32(1), float32(0), nan, float32(91), float32(200), float32(40))
	f.Add(uint16(common.MAV_CMD_DO_REPOSITION), uint8(6), float32(-1), float32(1), float32(0), nan, nan, nan, nan)
	f.Add(uint16(common.MAV_CMD_DO_CHANGE_SPEED), uint8(0), float32(1), float32(-5), float32(-1), float32(0), float32(0), float32(0), float32(0))
	f.Add(uint16(common.MAV_CMD_DO_CHANGE_SPEED), uint8(0), float32(1), float32(math.Inf(1)), float32(-1), float32(0), float32(0), float32(0), float32(0))
	f.Add(uint16(common.MAV_CMD_DO_SET_MODE), uint8(0), float32(1), float32(99), float32(0), float32(0), float32(0), float32(0), float32(0))
	f.Add(uint16(common.MAV_CMD_SET_MESSAGE_INTERVAL), uint8(0), float32(33), float32(-7), float32(0), float32(0), float32(0), float32(0), float32(0))
	f.Add(uint16(common.MAV_CMD_NAV_WAYPOINT), uint8(3), float32(5), float32(0), float32(0), float32(0), float32(1e30), float32(-1e30), float32(30))
	f.Add(uint16(common.MAV_CMD_DO_JUMP), uint8(2), float32(1), float32(-1), float32(0), float32(0), float32(0), float32(0), float32(0))
	f.Add(uint16(0xffff), uint8(200), nan, nan, nan, nan, nan, nan, nan)
	f.Fuzz(func(t *testing.T, cmd uint16, frame uint8, p1, p2, p3, p4, x, y, z float32) {
		h := newHarness(t, Config{BootDelay: -1, Speedup: 20})
		h.armAndTakeoff(20)
		lat := int32(math.Max(math.Min(float64(x)*1e7, math.MaxInt32), math.MinInt32))
		lon := int32(math.Max(math.Min(float64(y)*1e7, math.MaxInt32), math.MinInt32))
		if math.IsNaN(float64(x)) {
			lat = 0
		}
		if math.IsNaN(float64(y)) {
			lon = 0
		}
		c := common.MAV_CMD(cmd)
		h.recv(&common.MessageCommandLong{TargetSystem: 1, TargetComponent: 1, Command: c,
			Param1: p1, Param2: p2, Param3: p3, Param4: p4, Param5: x, Param6: y, Param7: z})
		h.recv(&common.MessageCommandInt{TargetSystem: 1, TargetComponent: 1, Command: c, Frame: common.MAV_FRAME(frame),
			Param1: p1, Param2: p2, Param3: p3, Param4: p4, X: lat, Y: lon, Z: z})
		h.recv(&common.MessageSetPositionTargetGlobalInt{TargetSystem: 1, TargetComponent: 1,
			CoordinateFrame: common.MAV_FRAME(frame), TypeMask: 0xff8, LatInt: lat, LonInt: lon, Alt: z})
		items := []*common.MessageMissionItemInt{
			h.wp(0, common.MAV_CMD_NAV_WAYPOINT, 0, 0, 0),
			{TargetSystem: 1, TargetComponent: 1, Seq: 1, Frame: common.MAV_FRAME(frame), Command: c, Autocontinue: 1,
				Param1: p1, Param2: p2, Param3: p3, Param4: p4, X: lat, Y: lon, Z: z},
			h.wp(2, common.MAV_CMD_NAV_WAYPOINT, 50, 0, 20),
		}
		h.upload(common.MAV_MISSION_TYPE_MISSION, items)
		h.cmd(common.MAV_CMD_DO_SET_MODE, 1, float32(ModeAuto))
		h.run(2 * time.Second)
		m := h.v.m
		for name, v := range map[string]float64{"N": m.N, "E": m.E, "U": m.U, "VN": m.VN, "VE": m.VE, "VU": m.VU} {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e7 {
				t.Fatalf("state %s = %v after %v frame %d %v %v %v %v %v %v %v", name, v, c, frame, p1, p2, p3, p4, x, y, z)
			}
		}
	})
}
