package fleet

import (
	"strconv"
	"time"
)

// LinkState says whether the fleet hears a drone.
type LinkState int

// Link states.
const (
	// LinkStateUp means heartbeats arrive.
	LinkStateUp LinkState = iota + 1
	// LinkStateLost means no heartbeat for the fleet's LinkTimeout.
	LinkStateLost
)

// String returns "up" or "lost".
func (s LinkState) String() string {
	switch s {
	case LinkStateUp:
		return "up"
	case LinkStateLost:
		return "lost"
	}
	return "unknown"
}

// LandedState is whether a drone is on the ground or flying, numbered as
// MAV_LANDED_STATE.
type LandedState uint8

// Landed states.
const (
	LandedUnknown   LandedState = 0
	LandedOnGround  LandedState = 1
	LandedInAir     LandedState = 2
	LandedTakingOff LandedState = 3
	LandedLanding   LandedState = 4
)

// String returns the state's snake_case name.
func (s LandedState) String() string {
	switch s {
	case LandedOnGround:
		return "on_ground"
	case LandedInAir:
		return "in_air"
	case LandedTakingOff:
		return "taking_off"
	case LandedLanding:
		return "landing"
	}
	return "unknown"
}

// flying reports whether s counts as airborne (in air, taking off, landing).
func (s LandedState) flying() bool {
	return s == LandedInAir || s == LandedTakingOff || s == LandedLanding
}

// GPSState is the drone's GNSS receiver state.
type GPSState struct {
	// FixType is GPS_FIX_TYPE (0 none, 1 no fix, 2 2D, 3 3D, … 6 RTK fixed).
	FixType uint8
	// Satellites is the number of satellites used, -1 when unknown.
	Satellites int
	// HDOP is the horizontal dilution of precision, NaN when unknown.
	HDOP float64
}

// LinkQuality is what the transport measured on the drone's link.
type LinkQuality struct {
	// RateHz is frames per second over the transport's last interval.
	RateHz float64
	// LossPct is the share of frames lost (from MAVLink sequence numbers)
	// since the link was first heard, 0..100.
	LossPct float64
	// Received and Lost count frames since the link was first heard.
	Received, Lost uint64
	// ParseErrors counts malformed frames on the drone's link.
	ParseErrors uint64
}

// VersionInfo is what AUTOPILOT_VERSION said.
type VersionInfo struct {
	// Known is false until AUTOPILOT_VERSION arrived.
	Known bool
	// Firmware is the flight software version as text, for example "4.7.0-dev".
	Firmware string
	// FlightSW is the raw flight_sw_version word.
	FlightSW uint32
	// CustomVersion is flight_custom_version (a git hash for ArduPilot).
	CustomVersion string
	// Capabilities is the MAV_PROTOCOL_CAPABILITY bit set.
	Capabilities uint64
	// UID is the autopilot's hardware uid (0 when it reports none).
	UID uint64
}

// Has reports whether the vehicle announced capability bit c (for example
// CapabilityMissionInt). It is false while the version is unknown.
func (v VersionInfo) Has(c uint64) bool { return v.Known && v.Capabilities&c != 0 }

// FirmwareString formats a flight_sw_version word (major<<24 | minor<<16 |
// patch<<8 | FIRMWARE_VERSION_TYPE) as "major.minor.patch[-type]".
func FirmwareString(sw uint32) string {
	s := strconv.Itoa(int(sw>>24)) + "." + strconv.Itoa(int(sw>>16&0xff)) + "." + strconv.Itoa(int(sw>>8&0xff))
	switch sw & 0xff {
	case 0:
		s += "-dev"
	case 64:
		s += "-alpha"
	case 128:
		s += "-beta"
	case 192:
		s += "-rc"
	}
	return s
}

// VehicleFence is the vehicle's own fence state from FENCE_STATUS.
type VehicleFence struct {
	// Known is false until FENCE_STATUS arrived (it comes only once a fence
	// is enabled).
	Known    bool
	Breached bool
	// Count is the number of breaches since boot.
	Count int
	// BreachType is FENCE_BREACH (3 boundary).
	BreachType uint8
}

// DroneState is a snapshot of everything the fleet knows about one drone.
// It is a plain value: copies never change and may be kept or sent anywhere.
type DroneState struct {
	// ID is the drone's fleet id: its configured name or "sysid-N".
	ID string
	// Name is the drone's display name (its configured name, or ID).
	Name string
	// Agency is the agency that operates the drone.
	Agency string
	// SysID is the drone's MAVLink system id.
	SysID uint8
	// Link is the transport link the drone is heard on now.
	Link string
	// Signed is true when its last heartbeat carried a valid MAVLink 2
	// signature made with its key.
	Signed bool

	// VehicleType is MAV_TYPE and Autopilot MAV_AUTOPILOT.
	VehicleType, Autopilot uint8
	// Mode is the flight mode's name (see ModeName), CustomMode its number.
	Mode       string
	CustomMode uint32
	// Armed is the 0x80 SAFETY_ARMED flag of the last heartbeat.
	Armed bool
	// SystemStatus is MAV_STATE (see SystemStatusName).
	SystemStatus uint8
	// Landed is from EXTENDED_SYS_STATE when the vehicle sends it, else
	// inferred from armed, relative altitude and climb rate.
	Landed LandedState

	// HasPosition is false until the vehicle reports a real position: the
	// zeros ArduCopter streams before its first fix are never taken.
	HasPosition bool
	// Position is the last position (relative altitude above home).
	Position Position
	// AltMSL is the altitude above mean sea level, metres.
	AltMSL float64
	// VelN, VelE, VelD are the velocity in m/s, north east down.
	VelN, VelE, VelD float64
	// GroundSpeed is m/s; Climb m/s upwards.
	GroundSpeed, Climb float64
	// Heading is degrees 0..360, NaN when unknown.
	Heading float64
	// Roll, Pitch, Yaw are radians.
	Roll, Pitch, Yaw float64

	// Battery is the last BATTERY_STATUS or SYS_STATUS reading.
	Battery Battery
	// GPS is the last GPS_RAW_INT reading.
	GPS GPSState
	// HasHome is false until HOME_POSITION arrives.
	HasHome bool
	Home    Home
	// Fence is the vehicle's on-board fence state.
	Fence VehicleFence
	// PrearmKnown is true when the vehicle reports its pre-arm checks in
	// SYS_STATUS (the PREARM_CHECK sensor bit present, as ArduPilot does);
	// PrearmOK then says whether they pass, i.e. the vehicle would arm now
	// (ArduPilot keeps it set while armed). Both false until SYS_STATUS.
	PrearmOK, PrearmKnown bool
	// LastRefusal is the vehicle's last reason for refusing to arm: the
	// message of an arm the vehicle refused (Denied, with its STATUSTEXT
	// reason such as "Arm: Need Position Estimate") or its last "PreArm: …"
	// or "Arm: …" text. Cleared when the drone arms.
	LastRefusal string

	// LinkState is up or lost; LastSeen the time of the last message and
	// LastHeartbeat that of the last heartbeat. Discovered is when the drone
	// was first heard.
	LinkState                           LinkState
	LastSeen, LastHeartbeat, Discovered time.Time
	// Quality is the transport's measure of the link.
	Quality LinkQuality
	// Version is the AUTOPILOT_VERSION answer.
	Version VersionInfo
	// Params is the number of parameters in the fleet's cache.
	Params int

	// Mission is the mission the fleet tracks on this drone.
	Mission MissionStatus
}

// Flying reports whether the drone is in the air (or taking off, landing).
func (s DroneState) Flying() bool { return s.Landed.flying() }
