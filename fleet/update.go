package fleet

import "time"

// Ingest is what transports feed: every message heard from a vehicle, decoded
// into an Update. *Fleet implements it.
//
// Handle is called from the transport's ingest goroutine and must return
// quickly without blocking on subscribers or on the network.
type Ingest interface {
	Handle(v Vehicle, u Update)
}

// Update is one decoded message from a vehicle, in domain units (degrees,
// metres, m/s, radians, volts). It is a closed set: read it with a type switch.
type Update interface{ isUpdate() }

// Heartbeat is the vehicle's HEARTBEAT.
type Heartbeat struct {
	// VehicleType is MAV_TYPE (2 quadrotor, 6 GCS, …).
	VehicleType uint8
	// Autopilot is MAV_AUTOPILOT (3 ArduPilot, 12 PX4, 8 invalid).
	Autopilot uint8
	// BaseMode is the MAV_MODE_FLAG bit set (0x80 armed, 0x01 custom mode).
	BaseMode uint8
	// CustomMode is the autopilot-specific flight mode.
	CustomMode uint32
	// SystemStatus is MAV_STATE (3 standby, 4 active, 5 critical, 6 emergency).
	SystemStatus uint8
	// ComponentID is the sender's component id.
	ComponentID uint8
	// Signed is true when the transport verified the frame's MAVLink 2
	// signature with the vehicle's key.
	Signed bool
}

// GlobalPosition is GLOBAL_POSITION_INT. ArduCopter sends 0,0,0 before its
// first fix: a consumer must not take that as a position.
type GlobalPosition struct {
	TimeBoot   time.Duration
	Lat, Lon   float64 // degrees
	AltMSL     float64 // metres
	RelAlt     float64 // metres above home
	VN, VE, VD float64 // m/s, north east down
	HeadingDeg float64 // degrees 0..360, NaN when unknown
}

// Attitude is ATTITUDE.
type Attitude struct {
	TimeBoot         time.Duration
	Roll, Pitch, Yaw float64 // radians
}

// SysStatus is SYS_STATUS.
type SysStatus struct {
	VoltageV     float64 // NaN when unknown
	CurrentA     float64 // NaN when unknown
	RemainingPct int     // -1 when unknown
	DropRateComm float64 // percent
	// SensorsPresent, SensorsEnabled and SensorsHealth are the
	// MAV_SYS_STATUS_SENSOR bits (onboard_control_sensors_*).
	SensorsPresent, SensorsEnabled, SensorsHealth uint32
}

// Battery is BATTERY_STATUS.
type Battery struct {
	VoltageV     float64 // total of the cells, NaN when unknown
	CurrentA     float64 // NaN when unknown
	RemainingPct int     // -1 when unknown
	ConsumedMAh  float64 // NaN when unknown
}

// GPSRaw is GPS_RAW_INT.
type GPSRaw struct {
	// FixType is GPS_FIX_TYPE (0 none, 1 no fix, 2 2D, 3 3D, 4 DGPS, 5 RTK float, 6 RTK fixed).
	FixType    uint8
	Satellites int // -1 when unknown
	Lat, Lon   float64
	AltMSL     float64
	HDOP       float64 // NaN when unknown
}

// VFRHUD is VFR_HUD.
type VFRHUD struct {
	Airspeed, Groundspeed float64 // m/s
	HeadingDeg            float64
	ThrottlePct           float64
	AltMSL                float64
	Climb                 float64 // m/s
}

// Home is HOME_POSITION.
type Home struct {
	Lat, Lon float64
	AltMSL   float64
}

// ExtendedState is EXTENDED_SYS_STATE (PX4 sends it; ArduCopter when asked).
type ExtendedState struct {
	// Landed is MAV_LANDED_STATE (0 unknown, 1 on ground, 2 in air, 3 takeoff, 4 landing).
	Landed uint8
}

// StatusText is a whole STATUSTEXT, chunks already reassembled.
type StatusText struct {
	// Severity is MAV_SEVERITY (0 emergency … 7 debug).
	Severity uint8
	Text     string
}

// MissionCurrent is MISSION_CURRENT.
type MissionCurrent struct {
	Seq   int
	Total int // -1 when the vehicle does not say
	// State is MISSION_STATE (0 unknown, 1 no mission, 2 not started,
	// 3 active, 4 paused, 5 complete).
	State uint8
}

// MissionItemReached is MISSION_ITEM_REACHED.
type MissionItemReached struct {
	Seq int
}

// FenceStatus is FENCE_STATUS.
type FenceStatus struct {
	Breached   bool
	Count      int
	BreachType uint8 // FENCE_BREACH
	Mitigation uint8 // FENCE_MITIGATE
	BreachTime time.Duration
}

// AutopilotVersion is AUTOPILOT_VERSION.
type AutopilotVersion struct {
	// Capabilities is the MAV_PROTOCOL_CAPABILITY bit set.
	Capabilities uint64
	// FlightSW is flight_sw_version (major<<24 | minor<<16 | patch<<8 | type).
	FlightSW uint32
	// CustomVersion is flight_custom_version as text (a git hash for ArduPilot).
	CustomVersion string
	VendorID      uint16
	ProductID     uint16
	UID           uint64
}

// Capability bits of AutopilotVersion.Capabilities (MAV_PROTOCOL_CAPABILITY)
// that the fleet uses.
const (
	CapabilityMissionFloat      uint64 = 1
	CapabilityParamFloat        uint64 = 2
	CapabilityMissionInt        uint64 = 4
	CapabilityCommandInt        uint64 = 8
	CapabilitySetPositionTarget uint64 = 256 // SET_POSITION_TARGET_GLOBAL_INT
	CapabilityMAVLink2          uint64 = 8192
	CapabilityMissionFence      uint64 = 16384
	CapabilityMissionRally      uint64 = 32768
)

// ParamValue is an unsolicited or echoed PARAM_VALUE.
type ParamValue struct {
	Param Param
}

// LinkStats is sent by the transport about once a second per vehicle.
type LinkStats struct {
	// Received counts frames received since the vehicle was first heard.
	Received uint64
	// Lost counts frames missing from the MAVLink sequence numbers.
	Lost uint64
	// Rate is frames per second over the last interval.
	Rate float64
	// ParseErrors counts malformed frames on the vehicle's link (all peers).
	ParseErrors uint64
}

func (Heartbeat) isUpdate()          {}
func (GlobalPosition) isUpdate()     {}
func (Attitude) isUpdate()           {}
func (SysStatus) isUpdate()          {}
func (Battery) isUpdate()            {}
func (GPSRaw) isUpdate()             {}
func (VFRHUD) isUpdate()             {}
func (Home) isUpdate()               {}
func (ExtendedState) isUpdate()      {}
func (StatusText) isUpdate()         {}
func (MissionCurrent) isUpdate()     {}
func (MissionItemReached) isUpdate() {}
func (FenceStatus) isUpdate()        {}
func (AutopilotVersion) isUpdate()   {}
func (ParamValue) isUpdate()         {}
func (LinkStats) isUpdate()          {}
