package sim

import (
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// forceArmMagic is COMPONENT_ARM_DISARM param2 that skips the checks.
const forceArmMagic = 21196

// cmdArgs is a COMMAND_LONG or COMMAND_INT in one shape.
type cmdArgs struct {
	cmd           common.MAV_CMD
	p             [7]float64 // params; for COMMAND_INT p[4], p[5] are degrees
	frame         common.MAV_FRAME
	confirmation  uint8
	sysid, compid uint8
}

// cmdRecord remembers the last accepted command to answer retries.
type cmdRecord struct {
	args   cmdArgs
	result common.MAV_RESULT
	at     time.Time
}

func (a cmdArgs) same(b cmdArgs) bool {
	if a.cmd != b.cmd || a.sysid != b.sysid || a.compid != b.compid || a.frame != b.frame {
		return false
	}
	for i := range a.p {
		if a.p[i] != b.p[i] && !(math.IsNaN(a.p[i]) && math.IsNaN(b.p[i])) {
			return false
		}
	}
	return true
}

// forMe reports whether a message addressed to (sys, comp) is for this vehicle.
func (v *vehicle) forMe(sys, comp uint8) bool {
	return (sys == 0 || sys == v.sysid) && (comp == 0 || comp == 1)
}

// handle processes one message from the link.
func (v *vehicle) handle(sysid, compid uint8, msg message.Message) {
	switch m := msg.(type) {
	case *common.MessageSetupSigning:
		v.setupSigning(m)
	case *common.MessageHeartbeat:
		if sysid == uint8(v.p.get("MAV_GCS_SYSID")) {
			v.gcsHeartbeat()
		}
	case *common.MessageCommandLong:
		if !v.forMe(m.TargetSystem, m.TargetComponent) {
			return
		}
		v.command(cmdArgs{cmd: m.Command, p: [7]float64{f(m.Param1), f(m.Param2), f(m.Param3), f(m.Param4), f(m.Param5), f(m.Param6), f(m.Param7)},
			frame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT, confirmation: m.Confirmation, sysid: sysid, compid: compid})
	case *common.MessageCommandInt:
		if !v.forMe(m.TargetSystem, m.TargetComponent) {
			return
		}
		v.command(cmdArgs{cmd: m.Command, p: [7]float64{f(m.Param1), f(m.Param2), f(m.Param3), f(m.Param4), float64(m.X) / 1e7, float64(m.Y) / 1e7, f(m.Z)},
			frame: m.Frame, sysid: sysid, compid: compid})
	case *common.MessageSetMode:
		if m.TargetSystem != v.sysid {
			return
		}
		res := common.MAV_RESULT_ACCEPTED
		if m.BaseMode&common.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED == 0 {
			res = common.MAV_RESULT_UNSUPPORTED
		} else if ok, why := v.setMode(m.CustomMode); !ok {
			v.text(common.MAV_SEVERITY_WARNING, why)
			res = common.MAV_RESULT_FAILED
		}
		// ArduPilot answers SET_MODE with a COMMAND_ACK for command 11.
		v.send(&common.MessageCommandAck{Command: 11, Result: res, TargetSystem: sysid, TargetComponent: compid})
	case *common.MessageSetPositionTargetGlobalInt:
		if !v.forMe(m.TargetSystem, m.TargetComponent) {
			return
		}
		v.positionTarget(m)
	case *common.MessageRequestDataStream:
		if !v.forMe(m.TargetSystem, m.TargetComponent) {
			return
		}
		v.requestDataStream(uint8(m.ReqStreamId), m.ReqMessageRate, m.StartStop)
	case *common.MessageParamRequestList:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.paramRequestList()
		}
	case *common.MessageParamRequestRead:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.paramRequestRead(m.ParamId, m.ParamIndex)
		}
	case *common.MessageParamSet:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.paramSet(m.ParamId, float64(m.ParamValue))
		}
	default:
		v.handleMission(sysid, compid, msg)
	}
}

func f(x float32) float64 { return float64(x) }

// validLatLon reports whether lat, lon are degrees on the globe.
func validLatLon(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// command answers a COMMAND_LONG or COMMAND_INT.
func (v *vehicle) command(a cmdArgs) {
	// A retry (confirmation > 0) of the command just accepted is answered
	// again without doing it twice.
	if a.confirmation > 0 && v.lastCmd.result == common.MAV_RESULT_ACCEPTED &&
		v.lastCmd.args.same(a) && v.now.Sub(v.lastCmd.at) < 5*time.Second {
		v.ack(a, common.MAV_RESULT_ACCEPTED)
		return
	}
	res, why := v.execute(a)
	if why != "" {
		sev := common.MAV_SEVERITY_WARNING
		if a.cmd == common.MAV_CMD_COMPONENT_ARM_DISARM {
			sev = common.MAV_SEVERITY_CRITICAL
		}
		v.text(sev, why)
	}
	v.ack(a, res)
	v.lastCmd = cmdRecord{args: a, result: res, at: v.now}
	v.afterCommand(a, res)
}

func (v *vehicle) ack(a cmdArgs, res common.MAV_RESULT) {
	v.send(&common.MessageCommandAck{Command: a.cmd, Result: res, TargetSystem: a.sysid, TargetComponent: a.compid})
}

// afterCommand sends what ArduPilot sends after the ACK of some commands.
func (v *vehicle) afterCommand(a cmdArgs, res common.MAV_RESULT) {
	if res != common.MAV_RESULT_ACCEPTED {
		return
	}
	switch a.cmd {
	case common.MAV_CMD_REQUEST_MESSAGE:
		v.sendOnce(uint32(a.p[0]))
	case common.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES:
		v.sendOnce(msgAutopilotVersion)
	}
}

// execute runs a command and returns its result and, on refusal, the
// reason sent as a STATUSTEXT.
func (v *vehicle) execute(a cmdArgs) (common.MAV_RESULT, string) {
	p := a.p
	switch a.cmd {
	case common.MAV_CMD_COMPONENT_ARM_DISARM:
		if p[0] == 1 {
			if ok, why := v.arm(p[1] == forceArmMagic); !ok {
				return common.MAV_RESULT_FAILED, why
			}
			return common.MAV_RESULT_ACCEPTED, ""
		}
		if p[0] != 0 {
			return common.MAV_RESULT_DENIED, ""
		}
		if v.armed && !v.m.Landed && p[1] != forceArmMagic {
			return common.MAV_RESULT_FAILED, "Disarm: vehicle is flying"
		}
		v.disarm()
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_NAV_TAKEOFF:
		if !v.armed || !v.m.Landed || (v.mode != ModeGuided && v.mode != ModeLoiter && v.mode != ModePosHold && v.mode != ModeAltHold) || !v.positionOK() {
			return common.MAV_RESULT_FAILED, ""
		}
		alt := p[6]
		if !(alt > 0) || math.IsInf(alt, 0) {
			return common.MAV_RESULT_FAILED, ""
		}
		v.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.home[2] + alt}
		v.takeoff = true
		v.landedSince = -1
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_NAV_LAND:
		if ok, why := v.setMode(ModeLand); !ok {
			return common.MAV_RESULT_FAILED, why
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		if ok, why := v.setMode(ModeRTL); !ok {
			return common.MAV_RESULT_FAILED, why
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_DO_SET_MODE:
		if uint32(p[0])&uint32(common.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) == 0 {
			return common.MAV_RESULT_UNSUPPORTED, ""
		}
		if ok, why := v.setMode(uint32(p[1])); !ok {
			return common.MAV_RESULT_FAILED, why
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_DO_REPOSITION:
		if v.mode != ModeGuided {
			if uint32(p[1])&1 == 0 {
				return common.MAV_RESULT_DENIED, ""
			}
			if ok, why := v.setMode(ModeGuided); !ok {
				return common.MAV_RESULT_FAILED, why
			}
		}
		if !v.armed || v.m.Landed || !v.positionOK() {
			return common.MAV_RESULT_FAILED, ""
		}
		n, e, u := v.tgt.n, v.tgt.e, v.tgt.u
		if !math.IsNaN(p[4]) && !math.IsNaN(p[5]) && (p[4] != 0 || p[5] != 0) {
			if !validLatLon(p[4], p[5]) || math.IsInf(p[6], 0) {
				return common.MAV_RESULT_DENIED, ""
			}
			n, e, u = v.local(p[4], p[5], p[6], a.frame)
			if math.IsNaN(p[6]) {
				u = v.m.U
			}
		}
		if p[0] > 0 && !math.IsInf(p[0], 0) {
			v.speed = p[0]
		}
		if !v.fenceAllows(n, e, u) {
			return common.MAV_RESULT_FAILED, ""
		}
		v.goTo(n, e, u)
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_DO_CHANGE_SPEED:
		if p[1] > 0 && !math.IsInf(p[1], 0) && (p[0] == 0 || p[0] == 1) {
			v.speed = p[1]
			v.mis.speed = p[1]
		} else if p[1] == -2 {
			v.speed = 0
			v.mis.speed = 0
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_DO_FENCE_ENABLE:
		switch p[0] {
		case 0:
			v.setFenceEnabled(false)
		case 1:
			v.setFenceEnabled(true)
		default:
			return common.MAV_RESULT_DENIED, ""
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_MISSION_START:
		return v.missionStartCommand()

	case common.MAV_CMD_DO_SET_MISSION_CURRENT:
		return v.setMissionCurrentCommand(p[0], p[1])

	case common.MAV_CMD_DO_SET_HOME:
		if p[0] == 1 {
			v.home = [3]float64{v.m.N, v.m.E, v.m.U}
		} else {
			if !validLatLon(p[4], p[5]) || math.IsNaN(p[6]) || math.IsInf(p[6], 0) {
				return common.MAV_RESULT_DENIED, ""
			}
			n, e, u := v.local(p[4], p[5], p[6], common.MAV_FRAME_GLOBAL)
			v.home = [3]float64{n, e, u}
		}
		v.homeSet = true
		v.sendHome()
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_REQUEST_MESSAGE:
		// ArduCopter answers a message it does not know with DENIED.
		if !v.canSendOnce(uint32(p[0])) {
			return common.MAV_RESULT_DENIED, ""
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES:
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_SET_MESSAGE_INTERVAL:
		if !v.setMessageInterval(uint32(p[0]), p[1]) {
			return common.MAV_RESULT_DENIED, ""
		}
		return common.MAV_RESULT_ACCEPTED, ""

	case common.MAV_CMD_GET_MESSAGE_INTERVAL:
		id := uint32(p[0])
		if !isStreamable(id) {
			return common.MAV_RESULT_FAILED, ""
		}
		// Sent before the ACK, as ArduPilot does.
		v.send(&common.MessageMessageInterval{MessageId: uint16(id), IntervalUs: v.intervalUs(id)})
		return common.MAV_RESULT_ACCEPTED, ""
	}
	return common.MAV_RESULT_UNSUPPORTED, ""
}

// goTo flies to a local position in GUIDED.
func (v *vehicle) goTo(n, e, u float64) {
	v.tgt = target{valid: true, n: n, e: e, u: u}
	v.takeoff = false
	v.horizTarget = true
}

// positionTarget handles SET_POSITION_TARGET_GLOBAL_INT: a silent go-to in
// GUIDED while flying (ignored otherwise, and inside an exclusion zone).
func (v *vehicle) positionTarget(m *common.MessageSetPositionTargetGlobalInt) {
	if v.mode != ModeGuided || !v.armed || v.m.Landed || !v.positionOK() {
		return
	}
	const ignorePos = common.POSITION_TARGET_TYPEMASK_X_IGNORE | common.POSITION_TARGET_TYPEMASK_Y_IGNORE | common.POSITION_TARGET_TYPEMASK_Z_IGNORE
	if m.TypeMask&ignorePos != 0 || math.IsNaN(float64(m.Alt)) || math.IsInf(float64(m.Alt), 0) ||
		m.LatInt < -900000000 || m.LatInt > 900000000 || m.LonInt < -1800000000 || m.LonInt > 1800000000 {
		return
	}
	n, e, u := v.local(float64(m.LatInt)/1e7, float64(m.LonInt)/1e7, float64(m.Alt), m.CoordinateFrame)
	if !v.fenceAllows(n, e, u) {
		return
	}
	v.goTo(n, e, u)
}
