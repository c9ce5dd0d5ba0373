package sim

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Message ids the simulator streams or sends on request.
const (
	msgHeartbeat            uint32 = 0
	msgSysStatus            uint32 = 1
	msgSystemTime           uint32 = 2
	msgGPSRawInt            uint32 = 24
	msgAttitude             uint32 = 30
	msgLocalPositionNED     uint32 = 32
	msgGlobalPositionInt    uint32 = 33
	msgMissionCurrent       uint32 = 42
	msgVFRHUD               uint32 = 74
	msgPositionTargetGlobal uint32 = 87
	msgAutopilotVersion     uint32 = 148
	msgBatteryStatus        uint32 = 147
	msgFenceStatus          uint32 = 162
	msgHomePosition         uint32 = 242
	msgExtendedSysState     uint32 = 245
	msgFlightInformation    uint32 = 264
	msgGPSGlobalOrigin      uint32 = 49
)

// streamedIDs lists the messages that streams carry.
var streamedIDs = []uint32{msgSysStatus, msgSystemTime, msgGPSRawInt, msgAttitude, msgLocalPositionNED,
	msgGlobalPositionInt, msgMissionCurrent, msgVFRHUD, msgPositionTargetGlobal, msgBatteryStatus, msgFenceStatus}

// intervalIDs lists the messages that only SET_MESSAGE_INTERVAL streams
// (no REQUEST_DATA_STREAM group carries them), as ArduCopter: HOME_POSITION,
// EXTENDED_SYS_STATE and FLIGHT_INFORMATION, which MAVSDK asks for.
var intervalIDs = []uint32{msgHomePosition, msgExtendedSysState, msgFlightInformation}

// pumpedIDs is every message a stream can carry, in sending order.
var pumpedIDs = append(append([]uint32(nil), streamedIDs...), intervalIDs...)

// streamGroups maps REQUEST_DATA_STREAM ids to messages, as ArduPilot
// groups them (SRn_* parameters).
var streamGroups = map[uint8][]uint32{
	1:  {},                                                                                       // RAW_SENSORS
	2:  {msgSysStatus, msgGPSRawInt, msgMissionCurrent, msgPositionTargetGlobal, msgFenceStatus}, // EXTENDED_STATUS
	3:  {},                                                                                       // RC_CHANNELS
	6:  {msgGlobalPositionInt, msgLocalPositionNED},                                              // POSITION
	10: {msgAttitude},                                                                            // EXTRA1
	11: {msgVFRHUD},                                                                              // EXTRA2
	12: {msgBatteryStatus, msgSystemTime},                                                        // EXTRA3
}

// stream is one message's schedule, in wall-clock time.
type stream struct {
	interval time.Duration
	next     time.Time
}

func isStreamable(id uint32) bool {
	for _, s := range pumpedIDs {
		if s == id {
			return true
		}
	}
	return false
}

// requestDataStream handles REQUEST_DATA_STREAM: start/stop a group (0 = all).
func (v *vehicle) requestDataStream(id uint8, rate uint16, start uint8) {
	var ids []uint32
	if id == 0 {
		ids = streamedIDs
	} else {
		ids = streamGroups[id]
	}
	for _, m := range ids {
		if start == 0 || rate == 0 {
			delete(v.streams, m)
			continue
		}
		iv := time.Second / time.Duration(min(rate, 50))
		// The first messages follow about 0.2 s later, as on ArduCopter.
		v.streams[m] = &stream{interval: iv, next: v.now.Add(200 * time.Millisecond)}
	}
}

// setMessageInterval handles MAV_CMD_SET_MESSAGE_INTERVAL: us < 0 stops,
// 0 is the default rate (4 Hz), else the interval in microseconds.
func (v *vehicle) setMessageInterval(id uint32, us float64) bool {
	if !isStreamable(id) {
		return false
	}
	switch {
	case us < 0:
		delete(v.streams, id)
	case us == 0:
		v.streams[id] = &stream{interval: 250 * time.Millisecond, next: v.now}
	default:
		iv := time.Duration(us) * time.Microsecond
		iv = max(iv, 20*time.Millisecond)
		v.streams[id] = &stream{interval: iv, next: v.now}
	}
	return true
}

// intervalUs is MESSAGE_INTERVAL's value: -1 when not streamed.
func (v *vehicle) intervalUs(id uint32) int32 {
	if s, ok := v.streams[id]; ok {
		return int32(s.interval / time.Microsecond)
	}
	return -1
}

// pumpStreams sends the streamed messages that are due.
func (v *vehicle) pumpStreams() {
	for _, id := range pumpedIDs { // fixed order: deterministic output
		s, ok := v.streams[id]
		if !ok || v.now.Before(s.next) {
			continue
		}
		s.next = s.next.Add(s.interval)
		if s.next.Before(v.now) {
			s.next = v.now.Add(s.interval)
		}
		if m := v.build(id, false); m != nil {
			v.send(m)
		}
	}
}

func (v *vehicle) canSendOnce(id uint32) bool {
	switch id {
	case msgAutopilotVersion, msgHomePosition, msgGPSGlobalOrigin, msgHeartbeat:
		return true
	}
	return isStreamable(id)
}

// sendOnce sends one message on request (MAV_CMD_REQUEST_MESSAGE).
func (v *vehicle) sendOnce(id uint32) {
	switch id {
	case msgHeartbeat:
		v.send(v.heartbeat())
		return
	case msgGPSGlobalOrigin:
		if v.bootStage >= 3 {
			v.send(&common.MessageGpsGlobalOrigin{Latitude: int32(math.Round(v.origin.Lat * 1e7)),
				Longitude: int32(math.Round(v.origin.Lon * 1e7)), Altitude: int32(math.Round(v.origin.Alt * 1000))})
		}
		return
	}
	if m := v.build(id, true); m != nil {
		v.send(m)
	}
}

// Capabilities of ArduCopter 4.7's AUTOPILOT_VERSION, as recorded.
const arduCopterCapabilities = common.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT |
	common.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT |
	common.MAV_PROTOCOL_CAPABILITY_MISSION_INT |
	common.MAV_PROTOCOL_CAPABILITY_COMMAND_INT |
	common.MAV_PROTOCOL_CAPABILITY_SET_ATTITUDE_TARGET |
	common.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_LOCAL_NED |
	common.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT |
	common.MAV_PROTOCOL_CAPABILITY_TERRAIN |
	common.MAV_PROTOCOL_CAPABILITY_FLIGHT_TERMINATION |
	common.MAV_PROTOCOL_CAPABILITY_COMPASS_CALIBRATION |
	common.MAV_PROTOCOL_CAPABILITY_MAVLINK2 |
	common.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE |
	common.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY

// FlightSWVersion is AUTOPILOT_VERSION.flight_sw_version: 4.7.0, type dev.
const FlightSWVersion uint32 = 4<<24 | 7<<16 | 0<<8 | 0

// reported returns the position the vehicle reports (with GPS noise).
func (v *vehicle) reported() (lat, lon float64) {
	return offset(v.origin.Lat, v.origin.Lon, v.m.N+v.noiseN, v.m.E+v.noiseE)
}

func (v *vehicle) bootMs() uint32 { return uint32(v.sim / time.Millisecond) }

// build makes message id from the current state; nil when it is not sent
// now (for example POSITION_TARGET_GLOBAL_INT with no target). once is
// true for MAV_CMD_REQUEST_MESSAGE.
func (v *vehicle) build(id uint32, once bool) message.Message {
	m := &v.m
	switch id {
	case msgGlobalPositionInt:
		msg := &common.MessageGlobalPositionInt{TimeBootMs: v.bootMs(), Hdg: uint16(headingCdeg(m.Yaw))}
		if v.bootStage >= 2 && (v.gpsFix() || v.bootStage >= 4) {
			lat, lon := v.reported()
			msg.Lat = int32(math.Round(lat * 1e7))
			msg.Lon = int32(math.Round(lon * 1e7))
			msg.Alt = int32(math.Round((v.origin.Alt + m.U) * 1000))
			msg.RelativeAlt = int32(math.Round((m.U - v.home[2]) * 1000))
			msg.Vx = int16(math.Round(m.VN * 100))
			msg.Vy = int16(math.Round(m.VE * 100))
			msg.Vz = int16(math.Round(-m.VU * 100))
		}
		return msg
	case msgLocalPositionNED:
		if !v.positionOK() && !once {
			return nil
		}
		return &common.MessageLocalPositionNed{TimeBootMs: v.bootMs(), X: float32(m.N), Y: float32(m.E), Z: float32(-m.U),
			Vx: float32(m.VN), Vy: float32(m.VE), Vz: float32(-m.VU)}
	case msgAttitude:
		r, p := m.attitude()
		return &common.MessageAttitude{TimeBootMs: v.bootMs(), Roll: float32(r), Pitch: float32(p), Yaw: float32(m.Yaw)}
	case msgSysStatus:
		present, enabled, health := v.sensorBits()
		return &common.MessageSysStatus{
			OnboardControlSensorsPresent: present, OnboardControlSensorsEnabled: enabled, OnboardControlSensorsHealth: health,
			Load: 100, VoltageBattery: uint16(m.voltage() * 1000), CurrentBattery: int16(m.Current * 100),
			BatteryRemaining: int8(math.Round(m.remaining() * 100)),
		}
	case msgBatteryStatus:
		var cells [10]uint16
		for i := range cells {
			cells[i] = math.MaxUint16
		}
		cells[0] = uint16(m.voltage() * 1000)
		var ext [4]uint16
		return &common.MessageBatteryStatus{
			Id: 0, BatteryFunction: common.MAV_BATTERY_FUNCTION_UNKNOWN, Type: common.MAV_BATTERY_TYPE_UNKNOWN,
			Temperature: math.MaxInt16, Voltages: cells, CurrentBattery: int16(m.Current * 100),
			CurrentConsumed: int32(m.ConsumedMAh), EnergyConsumed: int32(m.ConsumedMAh * 11.1 * 36 / 1000),
			BatteryRemaining: int8(math.Round(m.remaining() * 100)), VoltagesExt: ext,
		}
	case msgGPSRawInt:
		msg := &common.MessageGpsRawInt{TimeUsec: uint64(v.sim.Microseconds()), Eph: math.MaxUint16, Epv: math.MaxUint16,
			Vel: math.MaxUint16, Cog: math.MaxUint16}
		switch {
		case v.bootStage < 2:
			msg.FixType = common.GPS_FIX_TYPE_NO_GPS
		case !v.gpsFix():
			msg.FixType = common.GPS_FIX_TYPE_NO_FIX
		default:
			lat, lon := v.reported()
			msg.FixType = common.GPS_FIX_TYPE_RTK_FIXED
			msg.Lat, msg.Lon = int32(math.Round(lat*1e7)), int32(math.Round(lon*1e7))
			msg.Alt = int32(math.Round((v.origin.Alt + m.U) * 1000))
			msg.Eph, msg.Epv = 121, 200
			msg.Vel = uint16(m.groundSpeed() * 100)
			msg.Cog = uint16(headingCdeg(math.Atan2(m.VE, m.VN)))
			msg.SatellitesVisible = 10
		}
		return msg
	case msgVFRHUD:
		wn, we := m.wind()
		thr := uint16(0)
		if m.Motors && !m.Landed {
			thr = 39
		}
		return &common.MessageVfrHud{Airspeed: float32(math.Hypot(m.VN-wn, m.VE-we)), Groundspeed: float32(m.groundSpeed()),
			Heading: int16(headingCdeg(m.Yaw) / 100), Throttle: thr, Alt: float32(v.origin.Alt + m.U), Climb: float32(m.VU)}
	case msgSystemTime:
		var unix uint64
		if v.gpsFix() {
			unix = uint64(v.now.UnixMicro())
		}
		return &common.MessageSystemTime{TimeUnixUsec: unix, TimeBootMs: v.bootMs()}
	case msgMissionCurrent:
		return v.missionCurrent()
	case msgPositionTargetGlobal:
		if !v.horizTarget && !once {
			return nil
		}
		t := v.tgt
		if v.mode == ModeRTL {
			t = target{n: v.home[0], e: v.home[1], u: v.rtlAlt}
		} else if v.mode == ModeAuto {
			t = v.mis.tgt
		}
		lat, lon := offset(v.origin.Lat, v.origin.Lon, t.n, t.e)
		return &common.MessagePositionTargetGlobalInt{TimeBootMs: v.bootMs(), CoordinateFrame: common.MAV_FRAME_GLOBAL_INT,
			TypeMask: 0xff8, LatInt: int32(math.Round(lat * 1e7)), LonInt: int32(math.Round(lon * 1e7)), Alt: float32(v.origin.Alt + t.u)}
	case msgHomePosition:
		return v.homePosition()
	case msgExtendedSysState:
		return &common.MessageExtendedSysState{VtolState: common.MAV_VTOL_STATE_UNDEFINED, LandedState: v.landedState()}
	case msgFlightInformation:
		return &common.MessageFlightInformation{TimeBootMs: v.bootMs(), ArmingTimeUtc: v.armedUs,
			TakeoffTimeUtc: v.takeoffUs, FlightUuid: v.flights}
	case msgFenceStatus:
		if !v.fen.enabled && !once {
			return nil
		}
		return v.fenceStatus()
	case msgAutopilotVersion:
		var custom [8]uint8
		copy(custom[:], "c3n71n3l")
		// uid2 repeats the uid after a prefix: MAVSDK prefers uid2 as the
		// hardware id when it is not zero.
		var uid2 [18]uint8
		copy(uid2[:], "centinela-")
		binary.BigEndian.PutUint64(uid2[10:], v.uid)
		return &common.MessageAutopilotVersion{
			Capabilities:        arduCopterCapabilities,
			FlightSwVersion:     FlightSWVersion,
			FlightCustomVersion: custom,
			Uid:                 v.uid,
			Uid2:                uid2,
		}
	}
	return nil
}

// Sensor bit groups of SYS_STATUS, as ArduCopter 4.7 SITL reports them.
const (
	sensorsBasic = common.MAV_SYS_STATUS_SENSOR_3D_GYRO | common.MAV_SYS_STATUS_SENSOR_3D_ACCEL |
		common.MAV_SYS_STATUS_SENSOR_3D_MAG | common.MAV_SYS_STATUS_SENSOR_ABSOLUTE_PRESSURE |
		common.MAV_SYS_STATUS_SENSOR_GPS
	sensorsAttitude = common.MAV_SYS_STATUS_SENSOR_ANGULAR_RATE_CONTROL | common.MAV_SYS_STATUS_SENSOR_ATTITUDE_STABILIZATION |
		common.MAV_SYS_STATUS_SENSOR_YAW_POSITION | common.MAV_SYS_STATUS_SENSOR_MOTOR_OUTPUTS
	sensorsPosition = common.MAV_SYS_STATUS_SENSOR_Z_ALTITUDE_CONTROL | common.MAV_SYS_STATUS_SENSOR_XY_POSITION_CONTROL
	sensorsAlways   = sensorsBasic | sensorsAttitude | common.MAV_SYS_STATUS_SENSOR_RC_RECEIVER | common.MAV_SYS_STATUS_AHRS |
		common.MAV_SYS_STATUS_TERRAIN | common.MAV_SYS_STATUS_SENSOR_BATTERY | common.MAV_SYS_STATUS_PREARM_CHECK |
		common.MAV_SYS_STATUS_SENSOR_PROPULSION
	sensorsPresent = sensorsAlways | sensorsPosition | common.MAV_SYS_STATUS_GEOFENCE | common.MAV_SYS_STATUS_LOGGING
)

// sensorBits returns SYS_STATUS's present, enabled and health bits like
// ArduCopter: the position controllers enabled in position modes, GEOFENCE
// enabled with the fence and unhealthy during a breach, PREARM_CHECK healthy
// when the pre-arm checks pass (or armed), GPS unhealthy without a fix.
// Health bits of sensors not enabled are set, as ArduCopter does.
func (v *vehicle) sensorBits() (present, enabled, health common.MAV_SYS_STATUS_SENSOR) {
	present = sensorsPresent
	enabled = sensorsAlways
	switch v.mode {
	case ModeGuided, ModeAuto, ModeRTL, ModeLoiter, ModePosHold, ModeBrake, ModeLand:
		enabled |= sensorsPosition | common.MAV_SYS_STATUS_LOGGING
	}
	if v.armed {
		enabled |= common.MAV_SYS_STATUS_LOGGING
	}
	if v.fen.enabled {
		enabled |= common.MAV_SYS_STATUS_GEOFENCE
	}
	health = present | common.MAV_SYS_STATUS_SENSOR_PROXIMITY
	if !v.gpsFix() {
		health &^= common.MAV_SYS_STATUS_SENSOR_GPS
	}
	if !v.armed && !v.prearmOK() {
		health &^= common.MAV_SYS_STATUS_PREARM_CHECK
	}
	if v.fen.enabled && v.fen.breached {
		health &^= common.MAV_SYS_STATUS_GEOFENCE
	}
	return present, enabled, health
}

// headingCdeg converts a yaw in radians to centidegrees 0..35999.
func headingCdeg(yaw float64) float64 {
	d := yaw * 180 / math.Pi
	for d < 0 {
		d += 360
	}
	for d >= 360 {
		d -= 360
	}
	return math.Round(d*100) - math.Floor(math.Round(d*100)/36000)*36000
}
