package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// physDT is the flight model's fixed step in simulated time.
const physDT = 20 * time.Millisecond

// maxStepsPerTick bounds the catch-up after a stall.
const maxStepsPerTick = 5000

// advance runs everything due up to wall time now.
func (v *vehicle) advance(now time.Time) {
	v.now = now
	if !v.started {
		v.started = true
		v.lastWall = now
		v.nextHB = now
		v.nextTimesync = now.Add(10 * time.Second)
		v.bootTexts()
	}
	dt := now.Sub(v.lastWall)
	v.lastWall = now
	if dt > 0 {
		speed := v.p.get("SIM_SPEEDUP")
		if speed <= 0 {
			speed = 1
		}
		v.acc += dt.Seconds() * speed
		step := physDT.Seconds()
		n := 0
		for v.acc >= step && n < maxStepsPerTick {
			v.acc -= step
			v.sim += physDT
			v.simStep(step)
			n++
		}
		if n == maxStepsPerTick {
			v.acc = 0
		}
	}
	v.boot()
	v.pumpQueues()
	v.linkTimers()
}

// bootTexts sends the power-on banner.
func (v *vehicle) bootTexts() {
	v.text(common.MAV_SEVERITY_INFO, "ArduCopter V4.7.0-dev (centinela-sim)")
	v.text(common.MAV_SEVERITY_INFO, "Frame: QUAD/PLUS")
}

// boot passes the boot milestones due at the current simulated time.
func (v *vehicle) boot() {
	for {
		switch {
		case v.bootStage == 0 && v.sim >= v.readyAt:
			v.text(common.MAV_SEVERITY_INFO, "ArduPilot Ready")
			// Boot completion puts the vehicle in its initial mode, whatever
			// was asked during boot (as ArduCopter does).
			if v.mode != ModeStabilize {
				v.mode = ModeStabilize
				v.heartbeatNow()
			}
		case v.bootStage == 1 && v.sim >= v.fixAt:
			v.text(common.MAV_SEVERITY_INFO, "GPS 1: detected u-blox")
		case v.bootStage == 2 && v.sim >= v.originAt:
			v.text(common.MAV_SEVERITY_INFO, "EKF3 IMU0 origin set")
			v.text(common.MAV_SEVERITY_INFO, fmt.Sprintf("Field Elevation Set: %.0fm", v.origin.Alt))
			v.homeSet = true
			v.sendHome()
			v.send(&common.MessageGpsGlobalOrigin{
				Latitude: int32(math.Round(v.origin.Lat * 1e7)), Longitude: int32(math.Round(v.origin.Lon * 1e7)),
				Altitude: int32(math.Round(v.origin.Alt * 1000)), TimeUsec: uint64(v.sim.Microseconds()),
			})
		case v.bootStage == 3 && v.sim >= v.ekfAt:
			v.text(common.MAV_SEVERITY_INFO, "EKF3 IMU0 is using GPS")
		default:
			return
		}
		v.bootStage++
	}
}

func (v *vehicle) booted() bool { return v.bootStage >= 1 }
func (v *vehicle) gpsFix() bool {
	return v.bootStage >= 2 && !v.faults.GPSLost && v.p.get("SIM_GPS1_ENABLE") != 0
}
func (v *vehicle) positionOK() bool { return v.bootStage >= 4 && v.gpsFix() }

// systemStatus returns the MAV_STATE for the heartbeat.
func (v *vehicle) systemStatus() common.MAV_STATE {
	switch {
	case !v.booted():
		return common.MAV_STATE_BOOT
	case v.armed && (v.gcsFS || v.battFS > 0 || v.ekfFS):
		return common.MAV_STATE_CRITICAL
	case v.armed && v.airborne:
		return common.MAV_STATE_ACTIVE
	}
	return common.MAV_STATE_STANDBY
}

// baseMode returns the heartbeat's base_mode like ArduCopter's.
func (v *vehicle) baseMode() common.MAV_MODE_FLAG {
	f := common.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | common.MAV_MODE_FLAG_STABILIZE_ENABLED | common.MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
	if v.armed {
		f |= common.MAV_MODE_FLAG_SAFETY_ARMED
	}
	switch {
	case !v.booted(), v.armed && v.mode != ModeStabilize && v.mode != ModeAltHold,
		v.mode == ModeGuided, v.mode == ModeLand:
		f |= common.MAV_MODE_FLAG_GUIDED_ENABLED
	}
	return f
}

func (v *vehicle) heartbeat() *common.MessageHeartbeat {
	return &common.MessageHeartbeat{
		Type:           common.MAV_TYPE_QUADROTOR,
		Autopilot:      common.MAV_AUTOPILOT_ARDUPILOTMEGA,
		BaseMode:       v.baseMode(),
		CustomMode:     v.mode,
		SystemStatus:   v.systemStatus(),
		MavlinkVersion: 3,
	}
}

// heartbeatNow sends an extra heartbeat (ArduCopter does on a mode change).
func (v *vehicle) heartbeatNow() {
	if v.started {
		v.send(v.heartbeat())
	}
}

// text sends a STATUSTEXT.
func (v *vehicle) text(sev common.MAV_SEVERITY, s string) {
	if len(s) > 50 {
		s = s[:50]
	}
	v.send(&common.MessageStatustext{Severity: sev, Text: s})
}

// local converts a position in the given MAV_FRAME to local N, E, U.
// relative frames are metres above home, global ones above sea level.
func (v *vehicle) local(lat, lon, alt float64, frame common.MAV_FRAME) (float64, float64, float64) {
	n, e := toNE(v.origin.Lat, v.origin.Lon, lat, lon)
	var u float64
	switch frame {
	case common.MAV_FRAME_GLOBAL, common.MAV_FRAME_GLOBAL_INT:
		u = alt - v.origin.Alt
	default: // relative and terrain frames (flat terrain)
		u = alt + v.home[2]
	}
	return n, e, u
}

// limits returns the flight model's limits from the parameters.
func (v *vehicle) limits() limits {
	hs := v.p.get("WPNAV_SPEED") / 100
	if v.speed > 0 {
		hs = v.speed
	}
	return limits{
		HSpeed: math.Max(hs, 0.2),
		HAccel: math.Max(v.p.get("WPNAV_ACCEL")/100, 0.5),
		Up:     math.Max(v.p.get("WPNAV_SPEED_UP")/100, 0.1),
		Down:   math.Max(v.p.get("WPNAV_SPEED_DN")/100, 0.1),
		VAccel: math.Max(v.p.get("WPNAV_ACCEL_Z")/100, 0.2),
	}
}

// flyTo returns a setpoint toward t.
func (v *vehicle) flyTo(t target, lim limits) setpoint {
	sp := setpoint{Limits: lim}
	sp.VN, sp.VE = toward(v.m.N, v.m.E, t.n, t.e, lim.HSpeed, lim.HAccel*0.8)
	du := t.u - v.m.U
	if du > 0 {
		sp.VU = approach(du, lim.Up, lim.VAccel*0.8)
	} else {
		sp.VU = -approach(-du, lim.Down, lim.VAccel*0.8)
	}
	return sp
}

// landSetpoint descends at LAND_SPEED_HIGH (or WPNAV_SPEED_DN) above
// LAND_ALT_LOW and LAND_SPEED below it, holding (n, e) when the position is
// known.
func (v *vehicle) landSetpoint(n, e float64, lim limits) setpoint {
	sp := setpoint{Limits: lim}
	if v.positionOK() {
		sp.VN, sp.VE = toward(v.m.N, v.m.E, n, e, lim.HSpeed, lim.HAccel*0.8)
	} else {
		sp.Drift = true
	}
	high := v.p.get("LAND_SPEED_HIGH") / 100
	if high <= 0 {
		high = v.p.get("WPNAV_SPEED_DN") / 100
	}
	rate := high
	if v.m.U <= v.p.get("LAND_ALT_LOW")/100 {
		rate = v.p.get("LAND_SPEED") / 100
	}
	rate = math.Max(rate, 0.1)
	sp.VU = -rate
	sp.Limits.Down = math.Max(rate, sp.Limits.Down)
	return sp
}

// landing reports whether the vehicle is in a final descent that ends in a
// disarm 2 s after touchdown.
func (v *vehicle) landing() bool {
	switch v.mode {
	case ModeLand:
		return true
	case ModeRTL:
		return v.rtlStage >= rtlLand
	case ModeAuto:
		return v.mis.landing
	}
	return false
}

// RTL stages.
const (
	rtlClimb = iota
	rtlReturn
	rtlLoiter
	rtlLand
	rtlFinal // holding at RTL_ALT_FINAL
)

// simStep advances the vehicle by one physics step.
func (v *vehicle) simStep(dt float64) {
	v.boot()
	lim := v.limits()
	var sp setpoint
	if v.armed {
		switch v.mode {
		case ModeStabilize, ModeAltHold:
			sp = setpoint{Drift: true, Limits: lim}
		case ModeGuided, ModeLoiter, ModeBrake, ModePosHold:
			if !v.tgt.valid {
				v.holdHere()
			}
			sp = v.flyTo(v.tgt, lim)
			if v.takeoff && math.Abs(v.m.U-v.tgt.u) < 0.3 {
				v.takeoff = false
			}
		case ModeRTL:
			sp = v.rtlStep(lim)
		case ModeLand:
			sp = v.landSetpoint(v.landN, v.landE, lim)
		case ModeAuto:
			sp = v.autoStep(lim)
		}
		if v.m.Landed && sp.VU <= 0 {
			sp = setpoint{Limits: lim}
		}
	}
	v.m.Motors = v.armed
	touch := v.m.step(dt, sp, v.physRNG)
	if v.gpsNoise {
		v.noiseN += -v.noiseN*dt/5 + 0.3*math.Sqrt(dt)*v.physRNG.NormFloat64()
		v.noiseE += -v.noiseE*dt/5 + 0.3*math.Sqrt(dt)*v.physRNG.NormFloat64()
	}
	if touch >= 0 {
		v.text(common.MAV_SEVERITY_INFO, fmt.Sprintf("SIM Hit ground at %f m/s", touch))
		if v.mode != ModeLand {
			v.airborne = false
		}
	}
	if v.m.U > 1 && v.armed {
		if !v.airborne && v.takeoffUs == 0 {
			v.takeoffUs = uint64(v.sim.Microseconds())
		}
		v.airborne = true
	}
	v.autoDisarm()
	v.missionAfterStep()
	v.fenceCheck()
	v.simFailsafes()
	if v.booted() && !v.armed && !v.positionOK() && v.sim-v.lastPreArm >= 30*time.Second {
		v.lastPreArm = v.sim
		if v.bootStage >= 2 || v.sim > 20*time.Second {
			v.text(common.MAV_SEVERITY_CRITICAL, "PreArm: Need Position Estimate")
		}
	}
}

// holdHere makes the current position the guided target.
func (v *vehicle) holdHere() {
	v.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
}

// autoDisarm disarms a vehicle that stays on the ground: 2 s after touchdown
// when landing, DISARM_DELAY s otherwise.
func (v *vehicle) autoDisarm() {
	if !v.armed || !v.m.Landed {
		v.landedSince = -1
		return
	}
	if v.landedSince < 0 {
		v.landedSince = v.sim
	}
	delay := 2 * time.Second
	if !v.landing() {
		dd := v.p.get("DISARM_DELAY")
		if dd <= 0 {
			return
		}
		delay = time.Duration(dd * float64(time.Second))
	}
	if v.sim-v.landedSince >= delay {
		v.disarm()
	}
}

func (v *vehicle) rtlStep(lim limits) setpoint {
	if s := v.p.get("RTL_SPEED") / 100; s > 0 {
		lim.HSpeed = s
	}
	switch v.rtlStage {
	case rtlClimb:
		t := target{valid: true, n: v.tgt.n, e: v.tgt.e, u: v.rtlAlt}
		if v.m.U >= v.rtlAlt-0.5 {
			v.rtlStage = rtlReturn
			v.horizTarget = true
		}
		return v.flyTo(t, lim)
	case rtlReturn:
		t := target{valid: true, n: v.home[0], e: v.home[1], u: v.rtlAlt}
		if math.Hypot(v.m.N-t.n, v.m.E-t.e) < 2 && v.m.groundSpeed() < 0.5 {
			v.rtlStage = rtlLoiter
			v.horizTarget = false
			v.holdUntil = v.sim + time.Duration(v.p.get("RTL_LOIT_TIME"))*time.Millisecond
		}
		return v.flyTo(t, lim)
	case rtlLoiter:
		t := target{valid: true, n: v.home[0], e: v.home[1], u: v.rtlAlt}
		if v.sim >= v.holdUntil {
			if f := v.p.get("RTL_ALT_FINAL") / 100; f > 0 {
				v.rtlStage = rtlFinal
			} else {
				v.rtlStage = rtlLand
			}
		}
		return v.flyTo(t, lim)
	case rtlFinal:
		return v.flyTo(target{valid: true, n: v.home[0], e: v.home[1], u: v.home[2] + v.p.get("RTL_ALT_FINAL")/100}, lim)
	default:
		return v.landSetpoint(v.home[0], v.home[1], lim)
	}
}

// setMode changes the flight mode like ArduCopter's set_mode: any known
// mode while disarmed, position modes only with a position estimate when
// armed, AUTO only with a mission. It returns a reason on refusal.
func (v *vehicle) setMode(m uint32) (bool, string) {
	if !knownMode(m) {
		return false, "Mode change failed: unknown mode"
	}
	if v.armed {
		switch m {
		case ModeGuided, ModeLoiter, ModeRTL, ModeAuto, ModePosHold, ModeBrake:
			if !v.positionOK() {
				return false, fmt.Sprintf("Mode change failed: %s requires position", ModeName(m))
			}
		}
		if m == ModeAuto && v.mis.count(0) <= 1 {
			return false, "Mode change failed: AUTO"
		}
		// ArduCopter's ModeAuto::init: on the ground the mission must
		// start with a takeoff.
		if m == ModeAuto && v.m.Landed && !v.mis.startsWithTakeoff() {
			v.text(common.MAV_SEVERITY_CRITICAL, "Auto: Missing Takeoff Cmd")
			return false, "Mode change to AUTO failed: init failed"
		}
	}
	prev := v.mode
	v.mode = m
	v.enterMode(prev)
	if m != prev {
		v.heartbeatNow()
	}
	return true, ""
}

// enterMode initialises the new mode's guidance.
func (v *vehicle) enterMode(prev uint32) {
	v.takeoff = false
	v.horizTarget = false
	v.speed = 0
	if v.fen.breached && v.mode != prev {
		v.text(common.MAV_SEVERITY_INFO, "Manual recovery started")
	}
	switch v.mode {
	case ModeGuided, ModeLoiter, ModeBrake, ModePosHold:
		v.holdHere()
	case ModeRTL:
		v.tgt = target{valid: true, n: v.m.N, e: v.m.E, u: v.m.U}
		v.rtlAlt = math.Max(v.m.U, v.home[2]+v.p.get("RTL_ALT")/100)
		v.rtlStage = rtlClimb
	case ModeLand:
		v.landN, v.landE = v.m.N, v.m.E
	case ModeAuto:
		if v.armed {
			v.startMission()
		}
	}
}

// prearmFailure returns the first failing pre-arm check's text, "" when
// all pass.
func (v *vehicle) prearmFailure() string {
	switch {
	case !v.booted():
		return "Arm: System not initialised"
	case v.bootStage < 3:
		return "Arm: AHRS: waiting for home"
	case !v.positionOK() && v.fen.enabled:
		return "Arm: Fence requires position"
	case !v.positionOK():
		return "Arm: Need Position Estimate"
	}
	return ""
}

// prearmOK reports whether the pre-arm checks pass (SYS_STATUS PREARM_CHECK).
func (v *vehicle) prearmOK() bool { return v.prearmFailure() == "" }

// arm arms the motors after the pre-arm checks, unless forced. It returns
// the refusal reason.
func (v *vehicle) arm(force bool) (bool, string) {
	if v.armed {
		return true, ""
	}
	if !force {
		if why := v.prearmFailure(); why != "" {
			return false, why
		}
		if v.mode == ModeAuto || v.mode == ModeRTL || v.mode == ModeLand || v.mode == ModeBrake {
			return false, "Arm: Mode not armable"
		}
	}
	v.armed = true
	v.armedUs, v.takeoffUs = uint64(v.sim.Microseconds())+1, 0
	v.flights++
	v.airborne = !v.m.Landed
	v.landedSince = -1
	v.gcsFS = false
	v.battFS = 0
	v.ekfFS = false
	v.home = [3]float64{v.m.N, v.m.E, v.m.U}
	v.homeSet = true
	v.text(common.MAV_SEVERITY_INFO, "Arming motors")
	v.sendHome()
	switch v.mode {
	case ModeGuided, ModeLoiter, ModeBrake, ModePosHold:
		v.holdHere()
	}
	v.d.log.Info("armed", "sys_id", v.sysid)
	return true, ""
}

// disarm stops the motors.
func (v *vehicle) disarm() {
	if !v.armed {
		return
	}
	v.armed = false
	v.airborne = false
	v.takeoff = false
	v.horizTarget = false
	v.landedSince = -1
	v.text(common.MAV_SEVERITY_INFO, "Disarming motors")
	v.missionDisarmed()
	v.d.log.Info("disarmed", "sys_id", v.sysid)
}

// failsafeAction runs a failsafe's action: land if on the ground is a
// disarm, otherwise the given mode.
func (v *vehicle) failsafeAction(mode uint32) {
	if !v.armed {
		return
	}
	if v.m.Landed {
		v.disarm()
		return
	}
	if v.mode == mode || (mode == ModeRTL && v.mode == ModeLand) {
		return
	}
	if ok, _ := v.setMode(mode); !ok && mode == ModeRTL {
		v.setMode(ModeLand)
	}
}

// simFailsafes runs the failsafes judged on simulated time: battery and GPS.
func (v *vehicle) simFailsafes() {
	volt := v.m.voltage()
	low, crt := v.p.get("BATT_LOW_VOLT"), v.p.get("BATT_CRT_VOLT")
	lowMah, crtMah := v.p.get("BATT_LOW_MAH"), v.p.get("BATT_CRT_MAH")
	remainMah := v.m.Capacity - v.m.ConsumedMAh
	level := 0
	if (low > 0 && volt < low) || (lowMah > 0 && remainMah < lowMah) {
		level = 1
	}
	if (crt > 0 && volt < crt) || (crtMah > 0 && remainMah < crtMah) {
		level = 2
	}
	if level <= v.battFS {
		v.battLowAt = 0
	} else {
		if v.battLowAt == 0 {
			v.battLowAt = v.sim
		}
		// BATT_LOW_TIMER: 10 s below the threshold.
		if v.sim-v.battLowAt >= 10*time.Second {
			v.battLowAt = 0
			v.battFS = level
			if level == 2 {
				v.text(common.MAV_SEVERITY_CRITICAL, fmt.Sprintf("Battery 1 is critical %.2fV used %.0f mAh", volt, v.m.ConsumedMAh))
				v.battAction(v.p.get("BATT_FS_CRT_ACT"))
			} else {
				v.text(common.MAV_SEVERITY_WARNING, fmt.Sprintf("Battery 1 is low %.2fV used %.0f mAh", volt, v.m.ConsumedMAh))
				v.battAction(v.p.get("BATT_FS_LOW_ACT"))
			}
		}
	}
	// GPS loss in flight: the EKF failsafe lands (FS_EKF_ACTION 1).
	if v.armed && v.airborne && v.bootStage >= 4 && !v.gpsFix() {
		if v.gpsLostAt == 0 {
			v.gpsLostAt = v.sim
		}
		if !v.ekfFS && v.sim-v.gpsLostAt >= time.Second {
			v.ekfFS = true
			v.text(common.MAV_SEVERITY_CRITICAL, "EKF Failsafe: changed to LAND Mode")
			if v.mode != ModeLand {
				v.mode = ModeLand
				v.enterMode(0)
				v.heartbeatNow()
			}
		}
	} else {
		v.gpsLostAt = 0
		if v.ekfFS && v.gpsFix() {
			v.ekfFS = false
			v.text(common.MAV_SEVERITY_CRITICAL, "EKF Failsafe Cleared")
		}
	}
}

// battAction runs BATT_FS_*_ACT: 1 land, 2 RTL, 3 SmartRTL (RTL here),
// 4 SmartRTL or land (RTL here), 5 terminate (disarm).
func (v *vehicle) battAction(act float64) {
	switch int(act) {
	case 1:
		v.failsafeAction(ModeLand)
	case 2, 3, 4:
		v.failsafeAction(ModeRTL)
	case 5:
		v.disarm()
	}
}

// linkTimers runs everything judged on wall-clock time.
func (v *vehicle) linkTimers() {
	now := v.now
	if !now.Before(v.nextHB) {
		v.send(v.heartbeat())
		v.nextHB = v.nextHB.Add(time.Second)
		if v.nextHB.Before(now) {
			v.nextHB = now.Add(time.Second)
		}
	}
	if !now.Before(v.nextTimesync) {
		v.send(&common.MessageTimesync{Tc1: 0, Ts1: v.sim.Nanoseconds()})
		v.nextTimesync = now.Add(10 * time.Second)
	}
	v.gcsFailsafe()
	v.pumpStreams()
	v.pumpParams()
	v.pumpMission()
}

// gcsFailsafe trips when no heartbeat from MAV_GCS_SYSID arrived for
// FS_GCS_TIMEOUT wall-clock seconds while armed.
func (v *vehicle) gcsFailsafe() {
	en := v.p.get("FS_GCS_ENABLE")
	if en == 0 || !v.gcsSeen || !v.armed || v.gcsFS {
		return
	}
	timeout := time.Duration(math.Max(v.p.get("FS_GCS_TIMEOUT"), 2) * float64(time.Second))
	if v.now.Sub(v.lastGCS) < timeout {
		return
	}
	v.gcsFS = true
	v.text(common.MAV_SEVERITY_WARNING, "GCS Failsafe")
	v.d.log.Warn("gcs failsafe", "sys_id", v.sysid)
	opts := int(v.p.get("FS_OPTIONS"))
	switch {
	case v.m.Landed:
		v.disarm()
		return
	case opts&16 != 0 && (v.mode == ModeStabilize || v.mode == ModeAltHold || v.mode == ModeLoiter || v.mode == ModePosHold):
		return
	case opts&2 != 0 && v.mode == ModeAuto:
		return
	case opts&8 != 0 && v.landing():
		return
	}
	switch int(en) {
	case 5:
		v.failsafeAction(ModeLand)
	default:
		v.failsafeAction(ModeRTL)
	}
	if v.mode != ModeRTL && v.mode != ModeLand {
		// a failed mode change leaves the failsafe flag set; nothing else to do
		return
	}
}

// gcsHeartbeat records a heartbeat from the ground station.
func (v *vehicle) gcsHeartbeat() {
	v.gcsSeen = true
	v.lastGCS = v.now
	if v.gcsFS {
		v.gcsFS = false
		v.text(common.MAV_SEVERITY_WARNING, "GCS Failsafe Cleared")
	}
}

// sendHome sends HOME_POSITION.
func (v *vehicle) sendHome() {
	if m := v.homePosition(); m != nil {
		v.send(m)
	}
}

// homePosition builds HOME_POSITION, nil before home is set.
func (v *vehicle) homePosition() message.Message {
	if !v.homeSet {
		return nil
	}
	lat, lon := offset(v.origin.Lat, v.origin.Lon, v.home[0], v.home[1])
	return &common.MessageHomePosition{
		Latitude: int32(math.Round(lat * 1e7)), Longitude: int32(math.Round(lon * 1e7)),
		Altitude: int32(math.Round((v.origin.Alt + v.home[2]) * 1000)),
		X:        float32(v.home[0]), Y: float32(v.home[1]), Z: float32(-v.home[2]),
		Q:        [4]float32{float32(math.NaN()), float32(math.NaN()), float32(math.NaN()), float32(math.NaN())},
		TimeUsec: uint64(v.sim.Microseconds()),
	}
}

// landedState is EXTENDED_SYS_STATE's landed state, as ArduCopter reports it.
func (v *vehicle) landedState() common.MAV_LANDED_STATE {
	switch {
	case !v.armed || (v.m.Landed && !v.takeoff):
		return common.MAV_LANDED_STATE_ON_GROUND
	case v.takeoff:
		return common.MAV_LANDED_STATE_TAKEOFF
	case v.landing():
		return common.MAV_LANDED_STATE_LANDING
	}
	return common.MAV_LANDED_STATE_IN_AIR
}
