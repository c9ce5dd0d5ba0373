package fleet

import (
	"context"
	"time"
)

// VehicleKey identifies one vehicle as a transport hears it: the link it was
// heard on and its MAVLink system id. The same drone reconnecting (a new UDP
// source port, a new TCP connection) gets a new Link but keeps its SysID; the
// fleet binds a drone to one key and moves it to a new key only by the rules
// of the package doc's "Identity" section.
type VehicleKey struct {
	// Link names the endpoint and the remote peer, for example
	// "udp:127.0.0.1:14550/127.0.0.1:40211".
	Link string
	// SysID is the vehicle's MAVLink system id.
	SysID uint8
}

// Vehicle is the port through which the fleet reaches one vehicle. A transport
// (package mavlink) implements it for every remote system it hears and hands it
// to the fleet with each Update.
//
// Every method may be called from any goroutine, concurrently with the others;
// each blocks until the vehicle answers, ctx ends, or the transport's timeout
// and retries run out. Errors are *Error with these codes: Denied (the vehicle
// refused, with its reason), Unsupported, Timeout, NoDrone (the link is gone),
// Busy (another transfer of the same kind is running), Invalid.
type Vehicle interface {
	// Key identifies the vehicle.
	Key() VehicleKey

	// Command sends a command and waits for its COMMAND_ACK, resending with
	// the confirmation field incremented until the ack, a timeout or ctx.
	// A vehicle's refusal carries the latest STATUSTEXT reason heard with it
	// (for example "Arm: Need Position Estimate") in the Error's Message.
	Command(ctx context.Context, cmd Command) error

	// SetPositionTarget sends a guided-mode position target that the
	// autopilot never acknowledges (SET_POSITION_TARGET_GLOBAL_INT).
	SetPositionTarget(ctx context.Context, p Position) error

	// UploadMission replaces the vehicle's plan of type t with items (items[0]
	// is seq 0, which ArduPilot treats as home). progress, if not nil, is
	// called with the number of items sent so far.
	UploadMission(ctx context.Context, t MissionType, items []MissionItem, progress func(done, total int)) error
	// DownloadMission reads the vehicle's plan of type t.
	DownloadMission(ctx context.Context, t MissionType, progress func(done, total int)) ([]MissionItem, error)
	// ClearMission removes the vehicle's plan of type t.
	ClearMission(ctx context.Context, t MissionType) error
	// SetCurrentItem makes seq the current mission item.
	SetCurrentItem(ctx context.Context, seq int) error

	// ReadParams reads the whole parameter list, asking again by index for
	// what was missed. progress, if not nil, is called as values arrive.
	ReadParams(ctx context.Context, progress func(got, total int)) ([]Param, error)
	// ReadParam reads one parameter by name. Returns NotFound if the vehicle
	// does not answer for that name.
	ReadParam(ctx context.Context, name string) (Param, error)
	// SetParam sets one parameter and returns the value the vehicle echoed.
	// Returns Denied if the echoed value differs from the one asked for.
	SetParam(ctx context.Context, name string, value float64) (Param, error)

	// RequestStreams asks the vehicle to send its telemetry at the given
	// rates (REQUEST_DATA_STREAM for ArduPilot, MAV_CMD_SET_MESSAGE_INTERVAL
	// for each PerMessage entry and for autopilots that prefer it).
	RequestStreams(ctx context.Context, rates StreamRates) error
}

// StreamRates says how fast a vehicle should send its telemetry.
type StreamRates struct {
	// Hz is the rate for the standard telemetry streams; 0 stops them.
	Hz float64
	// PerMessage overrides the rate of single messages, keyed by MAVLink
	// message name (for example "GLOBAL_POSITION_INT"); a rate of 0 stops it.
	PerMessage map[string]float64
}

// CommandKind names a vehicle command in domain terms; the transport maps it
// onto its protocol (MAV_CMD_* for MAVLink).
type CommandKind int

// Command kinds.
const (
	// CommandArm arms the motors (Force skips pre-arm checks).
	CommandArm CommandKind = iota + 1
	// CommandDisarm disarms the motors (Force disarms in flight).
	CommandDisarm
	// CommandTakeoff climbs to Position.RelAlt above home (GUIDED, armed).
	CommandTakeoff
	// CommandLand lands where the vehicle is.
	CommandLand
	// CommandReturnToLaunch flies home and lands.
	CommandReturnToLaunch
	// CommandSetMode switches to Mode.
	CommandSetMode
	// CommandReposition flies to Position in guided mode (MAV_CMD_DO_REPOSITION).
	CommandReposition
	// CommandMissionStart starts the mission from item First (0 = current).
	CommandMissionStart
	// CommandFenceEnable enables (Enable) or disables the on-board fence.
	CommandFenceEnable
	// CommandRequestMessage asks the vehicle to send message MessageID once
	// (for example 148, AUTOPILOT_VERSION).
	CommandRequestMessage
	// CommandSetMessageInterval sets the interval of message MessageID
	// (Interval 0 = default rate, negative = stop).
	CommandSetMessageInterval
	// CommandSetSpeed changes the ground speed to Speed m/s.
	CommandSetSpeed
)

var commandKindNames = map[CommandKind]string{
	CommandArm: "arm", CommandDisarm: "disarm", CommandTakeoff: "takeoff",
	CommandLand: "land", CommandReturnToLaunch: "return_to_launch",
	CommandSetMode: "set_mode", CommandReposition: "reposition",
	CommandMissionStart: "mission_start", CommandFenceEnable: "fence_enable",
	CommandRequestMessage: "request_message", CommandSetMessageInterval: "set_message_interval",
	CommandSetSpeed: "set_speed",
}

// String returns the command's snake_case name.
func (k CommandKind) String() string {
	if s, ok := commandKindNames[k]; ok {
		return s
	}
	return "unknown"
}

// Command is one vehicle command. Only the fields its Kind names are read.
type Command struct {
	Kind CommandKind
	// Force skips checks (arm, disarm).
	Force bool
	// Position is the target of takeoff (RelAlt) and reposition.
	Position Position
	// Mode is the target of set-mode: the autopilot's custom mode number.
	Mode uint32
	// Enable is the state asked of fence-enable.
	Enable bool
	// MessageID is the MAVLink message id of request-message and
	// set-message-interval.
	MessageID uint32
	// Interval is the interval of set-message-interval.
	Interval time.Duration
	// First is the first item of mission-start.
	First int
	// Speed is the ground speed of set-speed, m/s.
	Speed float64
}

// Position is a WGS84 point with an altitude relative to home.
type Position struct {
	// Lat and Lon are degrees.
	Lat, Lon float64
	// RelAlt is metres above home.
	RelAlt float64
}
