package mavlink

import (
	"encoding/binary"
	"math"
	"reflect"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Hand-written decoders of the telemetry ArduCopter and the simulator
// stream, into message structs the framer reuses. Each reads a payload
// zero-padded to the message's full MAVLink 2 length, fields in wire order
// (by size, largest first; extensions last in declaration order). Every
// field is assigned, so nothing of the previous frame remains.
// framer_test.go checks every decoder against gomavlib's.

// hotMessages are a framer's reused messages.
type hotMessages struct {
	heartbeat       common.MessageHeartbeat
	sysStatus       common.MessageSysStatus
	systemTime      common.MessageSystemTime
	gpsRawInt       common.MessageGpsRawInt
	rawImu          common.MessageRawImu
	scaledPressure  common.MessageScaledPressure
	scaledPressure2 common.MessageScaledPressure2
	attitude        common.MessageAttitude
	localPosition   common.MessageLocalPositionNed
	globalPosition  common.MessageGlobalPositionInt
	servoOutput     common.MessageServoOutputRaw
	missionCurrent  common.MessageMissionCurrent
	navController   common.MessageNavControllerOutput
	rcChannels      common.MessageRcChannels
	vfrHud          common.MessageVfrHud
	scaledImu2      common.MessageScaledImu2
	scaledImu3      common.MessageScaledImu3
	powerStatus     common.MessagePowerStatus
	terrainReport   common.MessageTerrainReport
	batteryStatus   common.MessageBatteryStatus
	meminfo         ardupilotmega.MessageMeminfo
	ahrs            ardupilotmega.MessageAhrs
	simstate        ardupilotmega.MessageSimstate
	wind            ardupilotmega.MessageWind
	ahrs2           ardupilotmega.MessageAhrs2
	ekfStatus       ardupilotmega.MessageEkfStatusReport
	vibration       common.MessageVibration
	homePosition    common.MessageHomePosition
	extendedState   common.MessageExtendedSysState
}

// hotDecoder decodes one message id; proto is its gomavlib type.
type hotDecoder struct {
	proto  message.Message
	decode func(h *hotMessages, p []byte) message.Message
}

// hotIndex finds a message id's decoder in hotDecoders.
var hotIndex = func() map[uint32]int {
	idx := make(map[uint32]int, len(hotDecoders))
	for i, d := range hotDecoders {
		idx[d.proto.GetID()] = i
	}
	return idx
}()

func u16(p []byte, o int) uint16 { return binary.LittleEndian.Uint16(p[o:]) }
func i16(p []byte, o int) int16  { return int16(binary.LittleEndian.Uint16(p[o:])) }
func u32(p []byte, o int) uint32 { return binary.LittleEndian.Uint32(p[o:]) }
func i32(p []byte, o int) int32  { return int32(binary.LittleEndian.Uint32(p[o:])) }
func u64(p []byte, o int) uint64 { return binary.LittleEndian.Uint64(p[o:]) }
func f32(p []byte, o int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(p[o:]))
}

var hotDecoders = []hotDecoder{
	{&common.MessageHeartbeat{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.heartbeat
		*m = common.MessageHeartbeat{
			CustomMode: u32(p, 0), Type: common.MAV_TYPE(p[4]), Autopilot: common.MAV_AUTOPILOT(p[5]),
			BaseMode: common.MAV_MODE_FLAG(p[6]), SystemStatus: common.MAV_STATE(p[7]), MavlinkVersion: p[8],
		}
		return m
	}},
	{&common.MessageSysStatus{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.sysStatus
		*m = common.MessageSysStatus{
			OnboardControlSensorsPresent: common.MAV_SYS_STATUS_SENSOR(u32(p, 0)),
			OnboardControlSensorsEnabled: common.MAV_SYS_STATUS_SENSOR(u32(p, 4)),
			OnboardControlSensorsHealth:  common.MAV_SYS_STATUS_SENSOR(u32(p, 8)),
			Load:                         u16(p, 12), VoltageBattery: u16(p, 14), CurrentBattery: i16(p, 16),
			DropRateComm: u16(p, 18), ErrorsComm: u16(p, 20), ErrorsCount1: u16(p, 22), ErrorsCount2: u16(p, 24),
			ErrorsCount3: u16(p, 26), ErrorsCount4: u16(p, 28), BatteryRemaining: int8(p[30]),
			OnboardControlSensorsPresentExtended: common.MAV_SYS_STATUS_SENSOR_EXTENDED(u32(p, 31)),
			OnboardControlSensorsEnabledExtended: common.MAV_SYS_STATUS_SENSOR_EXTENDED(u32(p, 35)),
			OnboardControlSensorsHealthExtended:  common.MAV_SYS_STATUS_SENSOR_EXTENDED(u32(p, 39)),
		}
		return m
	}},
	{&common.MessageSystemTime{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.systemTime
		*m = common.MessageSystemTime{TimeUnixUsec: u64(p, 0), TimeBootMs: u32(p, 8)}
		return m
	}},
	{&common.MessageGpsRawInt{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.gpsRawInt
		*m = common.MessageGpsRawInt{
			TimeUsec: u64(p, 0), Lat: i32(p, 8), Lon: i32(p, 12), Alt: i32(p, 16),
			Eph: u16(p, 20), Epv: u16(p, 22), Vel: u16(p, 24), Cog: u16(p, 26),
			FixType: common.GPS_FIX_TYPE(p[28]), SatellitesVisible: p[29],
			AltEllipsoid: i32(p, 30), HAcc: u32(p, 34), VAcc: u32(p, 38), VelAcc: u32(p, 42),
			HdgAcc: u32(p, 46), Yaw: u16(p, 50),
		}
		return m
	}},
	{&common.MessageRawImu{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.rawImu
		*m = common.MessageRawImu{
			TimeUsec: u64(p, 0), Xacc: i16(p, 8), Yacc: i16(p, 10), Zacc: i16(p, 12),
			Xgyro: i16(p, 14), Ygyro: i16(p, 16), Zgyro: i16(p, 18),
			Xmag: i16(p, 20), Ymag: i16(p, 22), Zmag: i16(p, 24), Id: p[26], Temperature: i16(p, 27),
		}
		return m
	}},
	{&common.MessageScaledPressure{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.scaledPressure
		*m = common.MessageScaledPressure{
			TimeBootMs: u32(p, 0), PressAbs: f32(p, 4), PressDiff: f32(p, 8),
			Temperature: i16(p, 12), TemperaturePressDiff: i16(p, 14),
		}
		return m
	}},
	{&common.MessageScaledPressure2{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.scaledPressure2
		*m = common.MessageScaledPressure2{
			TimeBootMs: u32(p, 0), PressAbs: f32(p, 4), PressDiff: f32(p, 8),
			Temperature: i16(p, 12), TemperaturePressDiff: i16(p, 14),
		}
		return m
	}},
	{&common.MessageAttitude{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.attitude
		*m = common.MessageAttitude{
			TimeBootMs: u32(p, 0), Roll: f32(p, 4), Pitch: f32(p, 8), Yaw: f32(p, 12),
			Rollspeed: f32(p, 16), Pitchspeed: f32(p, 20), Yawspeed: f32(p, 24),
		}
		return m
	}},
	{&common.MessageLocalPositionNed{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.localPosition
		*m = common.MessageLocalPositionNed{
			TimeBootMs: u32(p, 0), X: f32(p, 4), Y: f32(p, 8), Z: f32(p, 12),
			Vx: f32(p, 16), Vy: f32(p, 20), Vz: f32(p, 24),
		}
		return m
	}},
	{&common.MessageGlobalPositionInt{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.globalPosition
		*m = common.MessageGlobalPositionInt{
			TimeBootMs: u32(p, 0), Lat: i32(p, 4), Lon: i32(p, 8), Alt: i32(p, 12), RelativeAlt: i32(p, 16),
			Vx: i16(p, 20), Vy: i16(p, 22), Vz: i16(p, 24), Hdg: u16(p, 26),
		}
		return m
	}},
	{&common.MessageServoOutputRaw{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.servoOutput
		*m = common.MessageServoOutputRaw{
			TimeUsec: u32(p, 0), Servo1Raw: u16(p, 4), Servo2Raw: u16(p, 6), Servo3Raw: u16(p, 8),
			Servo4Raw: u16(p, 10), Servo5Raw: u16(p, 12), Servo6Raw: u16(p, 14), Servo7Raw: u16(p, 16),
			Servo8Raw: u16(p, 18), Port: p[20], Servo9Raw: u16(p, 21), Servo10Raw: u16(p, 23),
			Servo11Raw: u16(p, 25), Servo12Raw: u16(p, 27), Servo13Raw: u16(p, 29), Servo14Raw: u16(p, 31),
			Servo15Raw: u16(p, 33), Servo16Raw: u16(p, 35),
		}
		return m
	}},
	{&common.MessageMissionCurrent{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.missionCurrent
		*m = common.MessageMissionCurrent{
			Seq: u16(p, 0), Total: u16(p, 2), MissionState: common.MISSION_STATE(p[4]), MissionMode: p[5],
			MissionId: u32(p, 6), FenceId: u32(p, 10), RallyPointsId: u32(p, 14),
		}
		return m
	}},
	{&common.MessageNavControllerOutput{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.navController
		*m = common.MessageNavControllerOutput{
			NavRoll: f32(p, 0), NavPitch: f32(p, 4), AltError: f32(p, 8), AspdError: f32(p, 12),
			XtrackError: f32(p, 16), NavBearing: i16(p, 20), TargetBearing: i16(p, 22), WpDist: u16(p, 24),
		}
		return m
	}},
	{&common.MessageRcChannels{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.rcChannels
		*m = common.MessageRcChannels{
			TimeBootMs: u32(p, 0), Chan1Raw: u16(p, 4), Chan2Raw: u16(p, 6), Chan3Raw: u16(p, 8),
			Chan4Raw: u16(p, 10), Chan5Raw: u16(p, 12), Chan6Raw: u16(p, 14), Chan7Raw: u16(p, 16),
			Chan8Raw: u16(p, 18), Chan9Raw: u16(p, 20), Chan10Raw: u16(p, 22), Chan11Raw: u16(p, 24),
			Chan12Raw: u16(p, 26), Chan13Raw: u16(p, 28), Chan14Raw: u16(p, 30), Chan15Raw: u16(p, 32),
			Chan16Raw: u16(p, 34), Chan17Raw: u16(p, 36), Chan18Raw: u16(p, 38), Chancount: p[40], Rssi: p[41],
		}
		return m
	}},
	{&common.MessageVfrHud{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.vfrHud
		*m = common.MessageVfrHud{
			Airspeed: f32(p, 0), Groundspeed: f32(p, 4), Alt: f32(p, 8), Climb: f32(p, 12),
			Heading: i16(p, 16), Throttle: u16(p, 18),
		}
		return m
	}},
	{&common.MessageScaledImu2{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.scaledImu2
		*m = common.MessageScaledImu2{
			TimeBootMs: u32(p, 0), Xacc: i16(p, 4), Yacc: i16(p, 6), Zacc: i16(p, 8),
			Xgyro: i16(p, 10), Ygyro: i16(p, 12), Zgyro: i16(p, 14),
			Xmag: i16(p, 16), Ymag: i16(p, 18), Zmag: i16(p, 20), Temperature: i16(p, 22),
		}
		return m
	}},
	{&common.MessageScaledImu3{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.scaledImu3
		*m = common.MessageScaledImu3{
			TimeBootMs: u32(p, 0), Xacc: i16(p, 4), Yacc: i16(p, 6), Zacc: i16(p, 8),
			Xgyro: i16(p, 10), Ygyro: i16(p, 12), Zgyro: i16(p, 14),
			Xmag: i16(p, 16), Ymag: i16(p, 18), Zmag: i16(p, 20), Temperature: i16(p, 22),
		}
		return m
	}},
	{&common.MessagePowerStatus{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.powerStatus
		*m = common.MessagePowerStatus{Vcc: u16(p, 0), Vservo: u16(p, 2), Flags: common.MAV_POWER_STATUS(u16(p, 4))}
		return m
	}},
	{&common.MessageTerrainReport{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.terrainReport
		*m = common.MessageTerrainReport{
			Lat: i32(p, 0), Lon: i32(p, 4), TerrainHeight: f32(p, 8), CurrentHeight: f32(p, 12),
			Spacing: u16(p, 16), Pending: u16(p, 18), Loaded: u16(p, 20),
		}
		return m
	}},
	{&common.MessageBatteryStatus{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.batteryStatus
		*m = common.MessageBatteryStatus{
			CurrentConsumed: i32(p, 0), EnergyConsumed: i32(p, 4), Temperature: i16(p, 8),
			CurrentBattery: i16(p, 30), Id: p[32], BatteryFunction: common.MAV_BATTERY_FUNCTION(p[33]),
			Type: common.MAV_BATTERY_TYPE(p[34]), BatteryRemaining: int8(p[35]),
			TimeRemaining: i32(p, 36), ChargeState: common.MAV_BATTERY_CHARGE_STATE(p[40]),
			Mode: common.MAV_BATTERY_MODE(p[49]), FaultBitmask: common.MAV_BATTERY_FAULT(u32(p, 50)),
		}
		for i := range m.Voltages {
			m.Voltages[i] = u16(p, 10+2*i)
		}
		for i := range m.VoltagesExt {
			m.VoltagesExt[i] = u16(p, 41+2*i)
		}
		return m
	}},
	{&ardupilotmega.MessageMeminfo{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.meminfo
		*m = ardupilotmega.MessageMeminfo{Brkval: u16(p, 0), Freemem: u16(p, 2), Freemem32: u32(p, 4)}
		return m
	}},
	{&ardupilotmega.MessageAhrs{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.ahrs
		*m = ardupilotmega.MessageAhrs{
			Omegaix: f32(p, 0), Omegaiy: f32(p, 4), Omegaiz: f32(p, 8), AccelWeight: f32(p, 12),
			RenormVal: f32(p, 16), ErrorRp: f32(p, 20), ErrorYaw: f32(p, 24),
		}
		return m
	}},
	{&ardupilotmega.MessageSimstate{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.simstate
		*m = ardupilotmega.MessageSimstate{
			Roll: f32(p, 0), Pitch: f32(p, 4), Yaw: f32(p, 8), Xacc: f32(p, 12), Yacc: f32(p, 16),
			Zacc: f32(p, 20), Xgyro: f32(p, 24), Ygyro: f32(p, 28), Zgyro: f32(p, 32),
			Lat: i32(p, 36), Lng: i32(p, 40),
		}
		return m
	}},
	{&ardupilotmega.MessageWind{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.wind
		*m = ardupilotmega.MessageWind{Direction: f32(p, 0), Speed: f32(p, 4), SpeedZ: f32(p, 8)}
		return m
	}},
	{&ardupilotmega.MessageAhrs2{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.ahrs2
		*m = ardupilotmega.MessageAhrs2{
			Roll: f32(p, 0), Pitch: f32(p, 4), Yaw: f32(p, 8), Altitude: f32(p, 12),
			Lat: i32(p, 16), Lng: i32(p, 20),
		}
		return m
	}},
	{&ardupilotmega.MessageEkfStatusReport{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.ekfStatus
		*m = ardupilotmega.MessageEkfStatusReport{
			VelocityVariance: f32(p, 0), PosHorizVariance: f32(p, 4), PosVertVariance: f32(p, 8),
			CompassVariance: f32(p, 12), TerrainAltVariance: f32(p, 16),
			Flags: ardupilotmega.EKF_STATUS_FLAGS(u16(p, 20)), AirspeedVariance: f32(p, 22),
		}
		return m
	}},
	{&common.MessageVibration{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.vibration
		*m = common.MessageVibration{
			TimeUsec: u64(p, 0), VibrationX: f32(p, 8), VibrationY: f32(p, 12), VibrationZ: f32(p, 16),
			Clipping_0: u32(p, 20), Clipping_1: u32(p, 24), Clipping_2: u32(p, 28),
		}
		return m
	}},
	{&common.MessageHomePosition{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.homePosition
		*m = common.MessageHomePosition{
			Latitude: i32(p, 0), Longitude: i32(p, 4), Altitude: i32(p, 8),
			X: f32(p, 12), Y: f32(p, 16), Z: f32(p, 20),
			Q:         [4]float32{f32(p, 24), f32(p, 28), f32(p, 32), f32(p, 36)},
			ApproachX: f32(p, 40), ApproachY: f32(p, 44), ApproachZ: f32(p, 48), TimeUsec: u64(p, 52),
		}
		return m
	}},
	{&common.MessageExtendedSysState{}, func(h *hotMessages, p []byte) message.Message {
		m := &h.extendedState
		*m = common.MessageExtendedSysState{
			VtolState: common.MAV_VTOL_STATE(p[0]), LandedState: common.MAV_LANDED_STATE(p[1]),
		}
		return m
	}},
}

// hotTypes are the types of the framer's reused messages.
var hotTypes = func() map[reflect.Type]bool {
	types := make(map[reflect.Type]bool, len(hotDecoders))
	for _, d := range hotDecoders {
		types[reflect.TypeOf(d.proto)] = true
	}
	return types
}()

// ownMessage returns m, or a copy of it if it is of a type the framer
// reuses: what outlives the handling of its frame (a reply handed to a
// waiter) must be a copy.
func ownMessage(m message.Message) message.Message {
	t := reflect.TypeOf(m)
	if !hotTypes[t] {
		return m
	}
	c := reflect.New(t.Elem())
	c.Elem().Set(reflect.ValueOf(m).Elem())
	return c.Interface().(message.Message)
}
