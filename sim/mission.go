package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Mission protocol timing on the vehicle, wall-clock (the link's time).
const (
	missionRequestRepeat = time.Second     // an unanswered MISSION_REQUEST is repeated
	missionUploadTimeout = 8 * time.Second // an upload with no progress is dropped
)

// missionItem is one stored item of a mission, fence or rally plan.
type missionItem struct {
	frame          common.MAV_FRAME
	cmd            common.MAV_CMD
	autocontinue   uint8
	p1, p2, p3, p4 float32
	x, y           int32 // degrees × 1e7
	z              float32
}

// check validates an uploaded item as ArduPilot's conversion does: a
// position on the globe and finite parameters and altitude for the items
// that fly somewhere.
func (it missionItem) check() common.MAV_MISSION_RESULT {
	finite32 := func(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }
	switch {
	case it.x < -900000000 || it.x > 900000000:
		return common.MAV_MISSION_INVALID_PARAM5_X
	case it.y < -1800000000 || it.y > 1800000000:
		return common.MAV_MISSION_INVALID_PARAM6_Y
	case (!isDo(it.cmd) || it.cmd == common.MAV_CMD_DO_SET_HOME) && !finite32(it.z):
		return common.MAV_MISSION_INVALID_PARAM7
	case it.cmd == common.MAV_CMD_DO_CHANGE_SPEED && !finite32(it.p2):
		return common.MAV_MISSION_INVALID_PARAM2
	}
	return common.MAV_MISSION_ACCEPTED
}

// checkParams refuses a mission item with NaN in params 1-4 as AP_Mission
// does, except a NaN param4 (yaw: "unchanged") of NAV_WAYPOINT, LAND,
// TAKEOFF and LOITER_UNLIM.
func (it missionItem) checkParams() common.MAV_MISSION_RESULT {
	nan := func(x float32) bool { return math.IsNaN(float64(x)) }
	yawNaN := false
	switch it.cmd {
	case common.MAV_CMD_NAV_WAYPOINT, common.MAV_CMD_NAV_LAND, common.MAV_CMD_NAV_TAKEOFF, common.MAV_CMD_NAV_LOITER_UNLIM:
		yawNaN = true
	}
	switch {
	case nan(it.p1):
		return common.MAV_MISSION_INVALID_PARAM1
	case nan(it.p2):
		return common.MAV_MISSION_INVALID_PARAM2
	case nan(it.p3):
		return common.MAV_MISSION_INVALID_PARAM3
	case nan(it.p4) && !yawNaN:
		return common.MAV_MISSION_INVALID_PARAM4
	}
	return common.MAV_MISSION_ACCEPTED
}

// stored returns a mission item as ArduCopter keeps it (AP_Mission's
// 15-byte command): only the params Copter uses, integers where it stores
// integers, altitude in whole centimetres, and no position for DO items
// other than DO_SET_HOME. A download returns this, not what was uploaded:
// a NAV_WAYPOINT keeps only param1 (hold time, whole seconds).
func (it missionItem) stored() missionItem {
	u16 := func(x float32) float32 { return float32(uint16(clamp(math.Trunc(float64(x)), 0, math.MaxUint16))) }
	sign := func(neg bool) float32 {
		if neg {
			return -1
		}
		return 1
	}
	b := func(x bool) float32 {
		if x {
			return 1
		}
		return 0
	}
	out := missionItem{frame: it.frame, cmd: it.cmd, autocontinue: 1, x: it.x, y: it.y,
		z: float32(math.Trunc(float64(it.z*100))) / 100}
	switch it.cmd {
	case common.MAV_CMD_NAV_WAYPOINT, common.MAV_CMD_NAV_TAKEOFF:
		out.p1 = u16(it.p1)
	case common.MAV_CMD_NAV_LOITER_UNLIM:
		out.p3 = u16(float32(math.Abs(float64(it.p3)))) * sign(it.p3 < 0)
	case common.MAV_CMD_NAV_LOITER_TURNS:
		out.p1 = float32(uint16(u16(it.p1)) & 0xff)
		out.p3 = float32(uint16(u16(float32(math.Abs(float64(it.p3))))) & 0xff)
		if it.p3 < 0 {
			out.p3 = -out.p3
		}
		out.p4 = b(it.p4 > 0)
	case common.MAV_CMD_NAV_LOITER_TIME:
		out.p1 = u16(it.p1)
		out.p3 = sign(it.p3 < 0)
		out.p4 = b(it.p4 > 0)
	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
	case common.MAV_CMD_NAV_LAND:
		out.p1 = u16(it.p1)
		out.p4 = sign(it.p4 < 0)
	case common.MAV_CMD_DO_JUMP:
		out.p1 = u16(it.p1)
		out.p2 = float32(int16(clamp(math.Trunc(float64(it.p2)), math.MinInt16, math.MaxInt16)))
	case common.MAV_CMD_DO_CHANGE_SPEED:
		out.p1 = float32(uint8(clamp(math.Trunc(float64(it.p1)), 0, math.MaxUint8)))
		out.p2 = it.p2
		out.p3 = it.p3
	case common.MAV_CMD_DO_SET_HOME:
		out.p1 = u16(it.p1)
	default:
		out.p1, out.p2, out.p3, out.p4 = it.p1, it.p2, it.p3, it.p4
	}
	if isDo(it.cmd) && it.cmd != common.MAV_CMD_DO_SET_HOME {
		out.x, out.y, out.z = 0, 0, 0
	}
	return out
}

// upload is a mission upload in progress (the vehicle asks, the GCS answers).
type upload struct {
	active        bool
	typ           common.MAV_MISSION_TYPE
	count         int
	next          int
	items         []missionItem
	sysid, compid uint8
	lastReq       time.Time
	lastProgress  time.Time
	// finished remembers the last completed upload to answer a resent
	// final item (its ACK was lost) with MAV_MISSION_ERROR.
	finished bool
}

// missionState is the vehicle's plans and the AUTO mission's progress.
type missionState struct {
	items    [3][]missionItem // by MAV_MISSION_TYPE; mission seq 0 is home
	up       upload
	warned   bool // the deprecated MISSION_REQUEST warning was sent
	current  int  // current navigation item of the mission
	started  bool // the mission has run since upload
	running  bool // executing (AUTO, armed, not complete)
	complete bool
	landing  bool
	tgt      target
	speed    float64
	holding  bool
	holdEnd  time.Duration
	orbit    float64 // radians flown on a LOITER_TURNS circle
	inOrbit  bool
	jumps    map[int]int
}

func (s *missionState) init() {
	s.items[0] = []missionItem{{cmd: common.MAV_CMD_NAV_WAYPOINT}}
	s.jumps = map[int]int{}
}

func (s *missionState) count(t int) int { return len(s.items[t]) }

// startsWithTakeoff reports whether the mission's first navigation item
// (after home, skipping DO items) is NAV_TAKEOFF.
func (s *missionState) startsWithTakeoff() bool {
	for _, it := range s.items[0][min(1, len(s.items[0])):] {
		if !isDo(it.cmd) {
			return it.cmd == common.MAV_CMD_NAV_TAKEOFF
		}
	}
	return false
}

// handleMission processes the mission protocol's messages.
func (v *vehicle) handleMission(sysid, compid uint8, msg message.Message) {
	switch m := msg.(type) {
	case *common.MessageMissionCount:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.missionCount(sysid, compid, m.MissionType, int(m.Count))
		}
	case *common.MessageMissionItemInt:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.missionItemIn(sysid, compid, m.MissionType, int(m.Seq), missionItem{frame: m.Frame, cmd: m.Command,
				autocontinue: m.Autocontinue, p1: m.Param1, p2: m.Param2, p3: m.Param3, p4: m.Param4, x: m.X, y: m.Y, z: m.Z})
		}
	case *common.MessageMissionItem:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.missionItemIn(sysid, compid, m.MissionType, int(m.Seq), missionItem{frame: m.Frame, cmd: m.Command,
				autocontinue: m.Autocontinue, p1: m.Param1, p2: m.Param2, p3: m.Param3, p4: m.Param4,
				x: int32(math.Round(float64(m.X) * 1e7)), y: int32(math.Round(float64(m.Y) * 1e7)), z: m.Z})
		}
	case *common.MessageMissionRequestList:
		if v.forMe(m.TargetSystem, m.TargetComponent) && m.MissionType <= 2 {
			v.send(&common.MessageMissionCount{TargetSystem: sysid, TargetComponent: compid,
				Count: uint16(len(v.mis.items[m.MissionType])), MissionType: m.MissionType})
		}
	case *common.MessageMissionRequestInt:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.missionRequest(sysid, compid, m.MissionType, int(m.Seq), true)
		}
	case *common.MessageMissionRequest:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.missionRequest(sysid, compid, m.MissionType, int(m.Seq), false)
		}
	case *common.MessageMissionClearAll:
		if v.forMe(m.TargetSystem, m.TargetComponent) && m.MissionType <= 2 {
			v.mis.up.active = false
			v.storePlan(m.MissionType, nil)
			v.missionAck(sysid, compid, m.MissionType, common.MAV_MISSION_ACCEPTED)
		}
	case *common.MessageMissionSetCurrent:
		if v.forMe(m.TargetSystem, m.TargetComponent) {
			v.setCurrent(int(m.Seq))
			v.send(v.missionCurrent())
		}
	}
}

func (v *vehicle) missionAck(sysid, compid uint8, t common.MAV_MISSION_TYPE, r common.MAV_MISSION_RESULT) {
	v.send(&common.MessageMissionAck{TargetSystem: sysid, TargetComponent: compid, Type: r, MissionType: t})
}

// missionCount starts (or restarts) an upload.
func (v *vehicle) missionCount(sysid, compid uint8, t common.MAV_MISSION_TYPE, count int) {
	if t > 2 {
		v.missionAck(sysid, compid, t, common.MAV_MISSION_UNSUPPORTED)
		return
	}
	if count == 0 {
		v.mis.up.active = false
		v.storePlan(t, nil)
		v.missionAck(sysid, compid, t, common.MAV_MISSION_ACCEPTED)
		return
	}
	if count > 700 {
		v.missionAck(sysid, compid, t, common.MAV_MISSION_NO_SPACE)
		return
	}
	v.mis.up = upload{active: true, typ: t, count: count, sysid: sysid, compid: compid,
		items: make([]missionItem, 0, count), lastProgress: v.now}
	v.requestNext()
}

func (v *vehicle) requestNext() {
	u := &v.mis.up
	u.lastReq = v.now
	// ArduCopter asks with MISSION_REQUEST (40), never MISSION_REQUEST_INT.
	v.send(&common.MessageMissionRequest{TargetSystem: u.sysid, TargetComponent: u.compid, Seq: uint16(u.next), MissionType: u.typ})
}

// missionItemIn receives one uploaded item.
func (v *vehicle) missionItemIn(sysid, compid uint8, t common.MAV_MISSION_TYPE, seq int, it missionItem) {
	u := &v.mis.up
	if !u.active || t != u.typ {
		// The transfer is over (its final ACK may have been lost).
		v.missionAck(sysid, compid, t, common.MAV_MISSION_ERROR)
		return
	}
	if seq != u.next {
		v.missionAck(sysid, compid, t, common.MAV_MISSION_INVALID_SEQUENCE)
		return
	}
	r := it.check()
	if r == common.MAV_MISSION_ACCEPTED && t == common.MAV_MISSION_TYPE_MISSION {
		r = it.checkParams()
	}
	if r != common.MAV_MISSION_ACCEPTED {
		// Like ArduPilot: an item that does not convert ends the upload.
		u.active = false
		v.missionAck(sysid, compid, t, r)
		return
	}
	u.items = append(u.items, it)
	u.next++
	u.lastProgress = v.now
	if u.next < u.count {
		v.requestNext()
		return
	}
	u.active = false
	if t == common.MAV_MISSION_TYPE_FENCE {
		// ArduCopter checks the whole fence when it is complete.
		for _, it := range u.items {
			if (it.cmd == common.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION || it.cmd == common.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION) && !(it.p1 > 0) {
				v.text(common.MAV_SEVERITY_WARNING, "Non-positive circle radius")
				v.missionAck(sysid, compid, t, common.MAV_MISSION_ERROR)
				return
			}
		}
	}
	v.storePlan(t, u.items)
	v.missionAck(sysid, compid, t, common.MAV_MISSION_ACCEPTED)
	switch t {
	case common.MAV_MISSION_TYPE_MISSION:
		v.text(common.MAV_SEVERITY_INFO, "Flight plan received")
	case common.MAV_MISSION_TYPE_FENCE:
		v.text(common.MAV_SEVERITY_DEBUG, "Fence Indexed OK")
		v.send(v.paramValue(paramIndex["FENCE_TOTAL"], 65535))
	case common.MAV_MISSION_TYPE_RALLY:
		v.send(v.paramValue(paramIndex["RALLY_TOTAL"], 65535))
	}
	v.d.log.Info("plan received", "sys_id", v.sysid)
}

// storePlan replaces a plan. Mission seq 0 is home; the fence's item count
// is FENCE_TOTAL (ArduCopter counts 8 for six items: it adds its own).
func (v *vehicle) storePlan(t common.MAV_MISSION_TYPE, items []missionItem) {
	switch t {
	case common.MAV_MISSION_TYPE_MISSION:
		home := missionItem{cmd: common.MAV_CMD_NAV_WAYPOINT}
		v.mis.items[0] = []missionItem{home}
		for _, it := range items[min(1, len(items)):] {
			v.mis.items[0] = append(v.mis.items[0], it.stored())
		}
		v.mis.current = 0
		v.mis.started, v.mis.running, v.mis.complete = false, false, false
		v.mis.jumps = map[int]int{}
		if v.mode == ModeAuto && v.armed {
			v.startMission()
		}
		v.p.setInternal("MIS_TOTAL", float64(len(v.mis.items[0])))
	case common.MAV_MISSION_TYPE_FENCE:
		v.mis.items[1] = append([]missionItem(nil), items...)
		total := 0.0
		if len(items) > 0 {
			total = float64(len(items) + 2)
		}
		v.p.setInternal("FENCE_TOTAL", total)
		v.fenceLoaded()
	case common.MAV_MISSION_TYPE_RALLY:
		v.mis.items[2] = append([]missionItem(nil), items...)
		v.p.setInternal("RALLY_TOTAL", float64(len(items)))
	}
}

// pumpMission repeats unanswered requests and drops a stalled upload.
func (v *vehicle) pumpMission() {
	u := &v.mis.up
	if !u.active {
		return
	}
	if v.now.Sub(u.lastProgress) >= missionUploadTimeout {
		u.active = false
		v.missionAck(u.sysid, u.compid, u.typ, common.MAV_MISSION_OPERATION_CANCELLED)
		v.text(common.MAV_SEVERITY_WARNING, "Mission upload timeout")
		return
	}
	if v.now.Sub(u.lastReq) >= missionRequestRepeat {
		v.requestNext()
	}
}

// isDo reports whether c is a DO_* (or condition) command, never current.
func isDo(c common.MAV_CMD) bool { return c >= 80 && c < 5000 }

// missionRequest answers a download request for one item.
func (v *vehicle) missionRequest(sysid, compid uint8, t common.MAV_MISSION_TYPE, seq int, isInt bool) {
	if t > 2 {
		return
	}
	items := v.mis.items[t]
	if seq >= len(items) {
		v.send(&common.MessageMissionCount{TargetSystem: sysid, TargetComponent: compid, Count: uint16(len(items)), MissionType: t})
		v.missionAck(sysid, compid, t, common.MAV_MISSION_INVALID_SEQUENCE)
		return
	}
	it := items[seq]
	frame := it.frame
	switch frame {
	case common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT:
		frame = common.MAV_FRAME_GLOBAL_RELATIVE_ALT
	case common.MAV_FRAME_GLOBAL_INT:
		frame = common.MAV_FRAME_GLOBAL
	case common.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT:
		frame = common.MAV_FRAME_GLOBAL_TERRAIN_ALT
	}
	if t == common.MAV_MISSION_TYPE_MISSION && isDo(it.cmd) {
		frame = common.MAV_FRAME_GLOBAL
	}
	if t == common.MAV_MISSION_TYPE_MISSION && seq == 0 {
		// Seq 0 is home, AMSL (0,0,0 before home is set).
		it = missionItem{cmd: common.MAV_CMD_NAV_WAYPOINT, autocontinue: 1}
		frame = common.MAV_FRAME_GLOBAL
		if v.homeSet {
			lat, lon := offset(v.origin.Lat, v.origin.Lon, v.home[0], v.home[1])
			it.x, it.y = int32(math.Round(lat*1e7)), int32(math.Round(lon*1e7))
			it.z = float32(v.origin.Alt + v.home[2])
		}
	}
	cur := uint8(0)
	if t == common.MAV_MISSION_TYPE_MISSION && seq == v.mis.current {
		cur = 1
	}
	if isInt {
		v.send(&common.MessageMissionItemInt{TargetSystem: sysid, TargetComponent: compid, Seq: uint16(seq), Frame: frame,
			Command: it.cmd, Current: cur, Autocontinue: it.autocontinue, Param1: it.p1, Param2: it.p2, Param3: it.p3, Param4: it.p4,
			X: it.x, Y: it.y, Z: it.z, MissionType: t})
		return
	}
	v.send(&common.MessageMissionItem{TargetSystem: sysid, TargetComponent: compid, Seq: uint16(seq), Frame: frame,
		Command: it.cmd, Current: cur, Autocontinue: it.autocontinue, Param1: it.p1, Param2: it.p2, Param3: it.p3, Param4: it.p4,
		X: float32(float64(it.x) / 1e7), Y: float32(float64(it.y) / 1e7), Z: it.z, MissionType: t})
	if !v.mis.warned {
		v.mis.warned = true
		v.text(common.MAV_SEVERITY_WARNING, "got MISSION_REQUEST; use MISSION_REQUEST_INT!")
	}
}

// missionCurrent builds MISSION_CURRENT.
func (v *vehicle) missionCurrent() *common.MessageMissionCurrent {
	n := len(v.mis.items[0])
	st := common.MISSION_STATE_NOT_STARTED
	switch {
	case n <= 1:
		st = common.MISSION_STATE_NO_MISSION
	case v.mis.complete:
		st = common.MISSION_STATE_COMPLETE
	case v.mis.running && v.mode == ModeAuto:
		st = common.MISSION_STATE_ACTIVE
	case v.mis.started:
		st = common.MISSION_STATE_PAUSED
	}
	mode := uint8(0)
	if v.mode == ModeAuto {
		mode = 1
	}
	return &common.MessageMissionCurrent{Seq: uint16(v.navSeq(v.mis.current)), Total: uint16(max(n-1, 0)), MissionState: st, MissionMode: mode}
}

// navSeq is the navigation item ArduCopter reports current for current
// item seq: a DO item is never current (AP_Mission loads the DO items up to
// the next navigation item and reports that one), so a DO item made current
// outside AUTO reads as the navigation item after it, DO_JUMPs followed as
// they stand.
func (v *vehicle) navSeq(seq int) int {
	items := v.mis.items[0]
	for k, guard := seq, 0; k > 0 && k < len(items) && guard < 64; guard++ {
		it := items[k]
		switch {
		case !isDo(it.cmd):
			return k
		case it.cmd == common.MAV_CMD_DO_JUMP:
			if target, repeat := int(it.p1), int(it.p2); target > 0 && target < len(items) && (repeat < 0 || v.mis.jumps[k] < repeat) {
				k = target
				continue
			}
		}
		k++
	}
	return seq
}

// setMissionCurrentCommand handles MAV_CMD_DO_SET_MISSION_CURRENT as
// ArduCopter 4.7 does: FAILED without a mission or for an item beyond it;
// item 0 means 1; param2 1 resets the DO_JUMP counters. MISSION_CURRENT
// follows, as ArduPilot volunteers it.
func (v *vehicle) setMissionCurrentCommand(seq, reset float64) (common.MAV_RESULT, string) {
	n := len(v.mis.items[0])
	if n <= 1 || math.IsNaN(seq) || seq < 0 || int(seq) >= n {
		return common.MAV_RESULT_FAILED, ""
	}
	s := int(seq)
	if s == 0 || reset == 1 {
		v.mis.jumps = map[int]int{}
	}
	v.setCurrent(max(s, 1))
	v.send(v.missionCurrent())
	return common.MAV_RESULT_ACCEPTED, ""
}

// missionStartCommand handles MAV_CMD_MISSION_START: AUTO, then start or resume.
func (v *vehicle) missionStartCommand() (common.MAV_RESULT, string) {
	if len(v.mis.items[0]) <= 1 {
		return common.MAV_RESULT_FAILED, ""
	}
	if ok, why := v.setMode(ModeAuto); !ok {
		return common.MAV_RESULT_FAILED, why
	}
	if v.armed && !v.mis.running {
		v.startMission()
	}
	return common.MAV_RESULT_ACCEPTED, ""
}

// setCurrent makes seq the current item (the next nav item from it).
func (v *vehicle) setCurrent(seq int) {
	if seq <= 0 || seq >= len(v.mis.items[0]) {
		return
	}
	if v.mis.complete {
		v.mis.jumps = map[int]int{} // AP_Mission restarts a completed mission's jumps
	}
	v.mis.complete = false
	if v.mode == ModeAuto && v.armed {
		v.mis.running = true
		v.mis.started = true
		v.beginFrom(seq, nil)
		return
	}
	v.mis.current = seq
}

// startMission starts or resumes the mission when AUTO is entered armed.
func (v *vehicle) startMission() {
	n := len(v.mis.items[0])
	if n <= 1 {
		return
	}
	seq := v.mis.current
	if v.mis.complete || seq <= 0 || seq >= n {
		seq = 1
		v.mis.jumps = map[int]int{}
	}
	v.mis.complete = false
	v.mis.running = true
	v.mis.started = true
	v.beginFrom(seq, nil)
}

// beginFrom runs DO items from seq on and starts the next navigation item.
// It returns the seq of the last DO item run (for MISSION_ITEM_REACHED), or
// -1. Texts are appended to texts when not nil (sent after the REACHED).
func (v *vehicle) beginFrom(seq int, texts *[]string) int {
	say := func(s string) {
		if texts != nil {
			*texts = append(*texts, s)
		} else {
			v.text(common.MAV_SEVERITY_INFO, s)
		}
	}
	lastDo := -1
	items := v.mis.items[0]
	for guard := 0; guard < 1000; guard++ {
		if seq >= len(items) {
			v.missionDone()
			return lastDo
		}
		it := items[seq]
		if !isDo(it.cmd) {
			v.startNav(seq, it)
			say(fmt.Sprintf("Mission: %d %s", seq, navName(it.cmd)))
			return lastDo
		}
		switch it.cmd {
		case common.MAV_CMD_DO_JUMP:
			target, repeat := int(it.p1), int(it.p2)
			done := v.mis.jumps[seq]
			if repeat < 0 || done < repeat {
				v.mis.jumps[seq] = done + 1
				if repeat < 0 {
					say(fmt.Sprintf("Mission: %d Jump %d/unlimited", seq, done+1))
				} else {
					say(fmt.Sprintf("Mission: %d Jump %d/%d", seq, done+1, repeat))
				}
				if target > 0 && target < len(items) {
					seq = target
					continue
				}
			}
			seq++
			continue
		case common.MAV_CMD_DO_CHANGE_SPEED:
			if it.p2 > 0 {
				v.mis.speed = float64(it.p2)
			} else if it.p2 == -2 {
				v.mis.speed = 0
			}
			say(fmt.Sprintf("Mission: %d ChangeSpeed", seq))
		case common.MAV_CMD_DO_SET_HOME:
			if it.p1 == 1 {
				v.home = [3]float64{v.m.N, v.m.E, v.m.U}
			} else {
				n, e, u := v.local(float64(it.x)/1e7, float64(it.y)/1e7, float64(it.z), common.MAV_FRAME_GLOBAL)
				v.home = [3]float64{n, e, u}
			}
			v.sendHome()
			say(fmt.Sprintf("Mission: %d SetHome", seq))
		default:
			say(fmt.Sprintf("Mission: %d Do", seq))
		}
		lastDo = seq
		seq++
	}
	v.missionDone()
	return lastDo
}

func navName(c common.MAV_CMD) string {
	switch c {
	case common.MAV_CMD_NAV_TAKEOFF:
		return "Takeoff"
	case common.MAV_CMD_NAV_WAYPOINT:
		return "WP"
	case common.MAV_CMD_NAV_LOITER_TIME:
		return "LoitTime"
	case common.MAV_CMD_NAV_LOITER_TURNS:
		return "LoitTurns"
	case common.MAV_CMD_NAV_LOITER_UNLIM:
		return "LoitUnlim"
	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		return "RTL"
	case common.MAV_CMD_NAV_LAND:
		return "Land"
	}
	return "Nav"
}

// itemPos returns an item's local position; lat/lon 0 keeps the current
// horizontal position, altitude 0 the current altitude for waypoints.
func (v *vehicle) itemPos(it missionItem) target {
	t := target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
	if it.x != 0 || it.y != 0 {
		t.n, t.e, _ = v.local(float64(it.x)/1e7, float64(it.y)/1e7, 0, common.MAV_FRAME_GLOBAL)
	}
	_, _, t.u = v.local(0, 0, float64(it.z), it.frame)
	return t
}

// startNav makes seq the current navigation item.
func (v *vehicle) startNav(seq int, it missionItem) {
	v.mis.current = seq
	v.mis.holding, v.mis.inOrbit, v.mis.orbit = false, false, 0
	v.mis.landing = false
	v.horizTarget = false
	switch it.cmd {
	case common.MAV_CMD_NAV_TAKEOFF:
		v.mis.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: math.Max(v.home[2]+float64(it.z), v.m.U)}
	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		v.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
		v.rtlAlt = math.Max(v.m.U, v.home[2]+v.p.get("RTL_ALT")/100)
		v.rtlStage = rtlClimb
		v.mis.tgt = target{valid: true, n: v.home[0], e: v.home[1], u: v.rtlAlt}
	case common.MAV_CMD_NAV_LAND:
		t := v.itemPos(it)
		t.u = v.m.U
		v.mis.tgt = t
		v.horizTarget = true
	default:
		v.mis.tgt = v.itemPos(it)
		v.horizTarget = true
	}
}

// missionDone ends the mission: hold where it is (AUTO stays).
func (v *vehicle) missionDone() {
	v.mis.running = false
	v.mis.complete = true
	v.mis.landing = false
	v.mis.current = 0
	v.horizTarget = false
	v.mis.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
}

// reached completes the current navigation item and starts the next.
func (v *vehicle) reached(seq int, cmd common.MAV_CMD) {
	var texts []string
	if cmd != common.MAV_CMD_NAV_TAKEOFF {
		texts = append(texts, fmt.Sprintf("Reached command #%d", seq))
	}
	lastDo := v.beginFrom(seq+1, &texts)
	r := seq
	if lastDo >= 0 {
		r = lastDo
	}
	v.send(&common.MessageMissionItemReached{Seq: uint16(r)})
	for _, s := range texts {
		v.text(common.MAV_SEVERITY_INFO, s)
	}
}

// autoStep flies the current mission item.
func (v *vehicle) autoStep(lim limits) setpoint {
	if v.mis.speed > 0 {
		lim.HSpeed = v.mis.speed
	}
	if !v.mis.running {
		if !v.mis.tgt.valid {
			v.mis.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
		}
		return v.flyTo(v.mis.tgt, lim)
	}
	seq := v.mis.current
	it := v.mis.items[0][seq]
	t := v.mis.tgt
	switch it.cmd {
	case common.MAV_CMD_NAV_TAKEOFF:
		if math.Abs(v.m.U-t.u) < 0.3 {
			v.reached(seq, it.cmd)
		}
		return v.flyTo(t, lim)
	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		sp := v.rtlStep(lim)
		v.mis.landing = v.rtlStage >= rtlLand
		return sp
	case common.MAV_CMD_NAV_LAND:
		if !v.mis.landing && math.Hypot(v.m.N-t.n, v.m.E-t.e) < 1 {
			v.mis.landing = true
			v.horizTarget = false
		}
		if v.mis.landing {
			return v.landSetpoint(t.n, t.e, lim)
		}
		return v.flyTo(t, lim)
	case common.MAV_CMD_NAV_LOITER_TURNS:
		r := math.Abs(float64(it.p3))
		if r < 1 {
			r = 10
		}
		if !v.mis.inOrbit {
			if math.Hypot(v.m.N-t.n, v.m.E-t.e) < 2 && math.Abs(v.m.U-t.u) < 1 {
				v.mis.inOrbit = true
			}
			return v.flyTo(t, lim)
		}
		speed := math.Min(lim.HSpeed, 5)
		v.mis.orbit += speed / r * physDT.Seconds()
		if v.mis.orbit >= 2*math.Pi*math.Max(float64(it.p1), 0) {
			v.reached(seq, it.cmd)
			return v.flyTo(t, lim)
		}
		sp := v.flyTo(target{n: t.n + r*math.Cos(v.mis.orbit), e: t.e + r*math.Sin(v.mis.orbit), u: t.u}, lim)
		return sp
	}
	// Waypoints and timed or unlimited loiters.
	radius := float64(it.p2)
	if it.cmd != common.MAV_CMD_NAV_WAYPOINT || radius <= 0 {
		radius = v.p.get("WPNAV_RADIUS") / 100
	}
	if !v.mis.holding && math.Hypot(v.m.N-t.n, v.m.E-t.e) <= math.Max(radius, 0.5) && math.Abs(v.m.U-t.u) < 1 {
		v.mis.holding = true
		hold := float64(it.p1)
		if it.cmd == common.MAV_CMD_NAV_LOITER_UNLIM {
			hold = math.Inf(1)
		}
		if math.IsInf(hold, 1) {
			v.mis.holdEnd = math.MaxInt64
		} else {
			v.mis.holdEnd = v.sim + time.Duration(math.Max(hold, 0)*float64(time.Second))
		}
	}
	if v.mis.holding && v.sim >= v.mis.holdEnd {
		v.reached(seq, it.cmd)
	}
	return v.flyTo(t, lim)
}

// missionAfterStep is the hook after each physics step (nothing yet).
func (v *vehicle) missionAfterStep() {}

// missionDisarmed ends a landing item with its MISSION_ITEM_REACHED.
func (v *vehicle) missionDisarmed() {
	if v.mode != ModeAuto || !v.mis.running {
		v.mis.running = false
		return
	}
	it := v.mis.items[0][v.mis.current]
	if (it.cmd == common.MAV_CMD_NAV_RETURN_TO_LAUNCH || it.cmd == common.MAV_CMD_NAV_LAND) && v.m.Landed {
		v.send(&common.MessageMissionItemReached{Seq: uint16(v.mis.current)})
		v.missionDone()
		return
	}
	v.mis.running = false
}
