package fleet

import "time"

// Event is one thing the fleet tells its subscribers. It is a closed set:
// read it with a type switch. Every event except StateChanged and Missed is
// discrete: it goes through the subscriber's bounded queue, in order.
type Event interface {
	isEvent()
	// drone returns the id of the drone the event is about ("" for none).
	drone() string
}

// DroneDiscovered is sent when a drone is first heard.
type DroneDiscovered struct {
	Drone DroneState
}

// StateChanged carries the latest snapshot of a drone. State is coalesced
// per subscriber: a slow subscriber gets the newest snapshot, not every one.
type StateChanged struct {
	Drone DroneState
}

// LinkLost is sent when no heartbeat arrived for the fleet's LinkTimeout.
type LinkLost struct {
	DroneID string
	At      time.Time
	// LastHeartbeat is when the last heartbeat arrived.
	LastHeartbeat time.Time
}

// LinkRegained is sent when a lost drone's heartbeat is heard again.
type LinkRegained struct {
	DroneID string
	At      time.Time
	// Link is the link the drone is heard on now (it may be a new one).
	Link string
	// Down is how long the link was lost.
	Down time.Duration
}

// VehicleRebooted is sent when a drone's boot time went backwards or its
// status went back to BOOT: the fleet asks for its streams again.
type VehicleRebooted struct {
	DroneID string
	At      time.Time
}

// StatusTextEvent is a STATUSTEXT from a drone.
type StatusTextEvent struct {
	DroneID string
	At      time.Time
	// Severity is MAV_SEVERITY (0 emergency … 7 debug).
	Severity uint8
	Text     string
}

// Armed is sent when a drone's heartbeat shows it armed.
type Armed struct {
	DroneID string
	At      time.Time
}

// Disarmed is sent when a drone's heartbeat shows it disarmed.
type Disarmed struct {
	DroneID string
	At      time.Time
}

// ModeChanged is sent when a drone's flight mode changes.
type ModeChanged struct {
	DroneID  string
	At       time.Time
	From, To string
	// Commanded is true when the fleet asked for this mode shortly before,
	// and the vehicle did not switch on its own: a change to RTL, LAND or
	// BRAKE while the vehicle's fence reports a breach is the vehicle's.
	Commanded bool
}

// TookOff is sent when a drone leaves the ground.
type TookOff struct {
	DroneID string
	At      time.Time
}

// Landed is sent when a drone is back on the ground.
type Landed struct {
	DroneID string
	At      time.Time
}

// SystemStatusChanged is sent when a drone's MAV_STATE changes.
type SystemStatusChanged struct {
	DroneID  string
	At       time.Time
	From, To uint8
}

// FailsafeKind says what triggered a failsafe.
type FailsafeKind string

// Failsafe kinds.
const (
	FailsafeGCS     FailsafeKind = "gcs"
	FailsafeBattery FailsafeKind = "battery"
	FailsafeFence   FailsafeKind = "fence"
	FailsafeRadio   FailsafeKind = "radio"
	FailsafeEKF     FailsafeKind = "ekf"
	FailsafeOther   FailsafeKind = "other"
)

// Failsafe is sent when a drone reports a failsafe: a failsafe STATUSTEXT
// ("GCS Failsafe", "Battery …", "… fence breached") or a switch of its
// system status to CRITICAL/EMERGENCY with no text to name it.
type Failsafe struct {
	DroneID string
	At      time.Time
	Kind    FailsafeKind
	// Mode is the drone's mode when the failsafe was reported (often RTL or LAND).
	Mode string
	// Text is the vehicle's text, if any.
	Text string
}

// VehicleFenceChanged is sent when the vehicle's own fence (FENCE_STATUS)
// becomes breached or clear.
type VehicleFenceChanged struct {
	DroneID string
	At      time.Time
	Fence   VehicleFence
}

// CommandResult is sent after every command the fleet sends on a caller's
// behalf (an audit trail). Code is "" when the vehicle accepted.
type CommandResult struct {
	DroneID string
	At      time.Time
	// Command is the operation's name ("arm", "takeoff", "goto", …).
	Command string
	Code    Code
	Message string
}

// MissionUploaded is sent when a plan was uploaded to a drone.
type MissionUploaded struct {
	DroneID   string
	At        time.Time
	MissionID string
	Type      MissionType
	Items     int
}

// MissionStarted is sent when the fleet sees a drone start (or restart
// tracking) its mission.
type MissionStarted struct {
	DroneID   string
	At        time.Time
	MissionID string
}

// MissionProgress is sent when a drone's mission progress changes: a new
// current item, an item reached, or (at most once a second) distance.
type MissionProgress struct {
	DroneID string
	At      time.Time
	Status  MissionStatus
}

// MissionItemReachedEvent is sent when a drone reports an item reached.
type MissionItemReachedEvent struct {
	DroneID   string
	At        time.Time
	MissionID string
	// Seq is the navigation item reached. Reported is the seq the vehicle
	// sent: ArduCopter reports the DO item that follows a waypoint instead
	// of the waypoint itself.
	Seq, Reported int
}

// MissionPaused is sent when the fleet paused a mission.
type MissionPaused struct {
	DroneID   string
	At        time.Time
	MissionID string
	// Seq is the item that will be resumed.
	Seq int
}

// MissionResumed is sent when the fleet resumed a paused mission.
type MissionResumed struct {
	DroneID   string
	At        time.Time
	MissionID string
	Seq       int
}

// MissionFinished is sent once when a drone completes its mission.
type MissionFinished struct {
	DroneID   string
	At        time.Time
	MissionID string
}

// InterruptReason says why a mission stopped before its end.
type InterruptReason string

// Interrupt reasons.
const (
	// InterruptModeChange means someone else (a pilot, another ground
	// station) changed the drone's mode.
	InterruptModeChange InterruptReason = "mode_change"
	// InterruptLinkLost means the fleet lost the drone's link.
	InterruptLinkLost InterruptReason = "link_lost"
	// InterruptFailsafe means the vehicle left the mission in a failsafe.
	InterruptFailsafe InterruptReason = "failsafe"
	// InterruptAborted means the fleet aborted the mission (RTL).
	InterruptAborted InterruptReason = "aborted"
	// InterruptReplaced means a new plan replaced the one being flown.
	InterruptReplaced InterruptReason = "replaced"
)

// MissionInterrupted is sent when a running mission stops before its end.
type MissionInterrupted struct {
	DroneID   string
	At        time.Time
	MissionID string
	Reason    InterruptReason
	// Mode is the drone's mode at the interruption.
	Mode string
	// Seq is the current item when the mission stopped.
	Seq int
}

// MissionMismatch is sent when a mission downloaded from a drone (by
// DownloadMission or the re-sync after a link regain) differs from the plan
// the fleet tracks, compared as the vehicle stores plans (for ArduPilot:
// seq 0, frames and the params ArduCopter does not keep are ignored, and
// positions within 1.5e-7°, altitudes within 1.1 cm). The vehicle's plan
// then becomes the tracked one under NewMissionID (a running mission is
// interrupted with InterruptReplaced); Seq and Detail say where they differ.
// After a restart (Fleet.KnownMission) MissionID is the mission the server
// stored for the drone, which the vehicle no longer holds.
type MissionMismatch struct {
	DroneID string
	At      time.Time
	// MissionID is the plan the fleet tracked; NewMissionID the vehicle's
	// plan now tracked ("" when the vehicle has no mission).
	MissionID, NewMissionID string
	// Seq is the first item that differs (the shorter plan's length when
	// only the counts differ).
	Seq int
	// Detail says what differs, as a code and values (its String is
	// English, for logs: "item 3: param1 5, vehicle has 0").
	Detail MissionDiff
}

// Missed tells a slow subscriber that N discrete events were dropped from
// its queue since the previous Missed.
type Missed struct {
	N uint64
}

func (DroneDiscovered) isEvent()         {}
func (StateChanged) isEvent()            {}
func (LinkLost) isEvent()                {}
func (LinkRegained) isEvent()            {}
func (VehicleRebooted) isEvent()         {}
func (StatusTextEvent) isEvent()         {}
func (Armed) isEvent()                   {}
func (Disarmed) isEvent()                {}
func (ModeChanged) isEvent()             {}
func (TookOff) isEvent()                 {}
func (Landed) isEvent()                  {}
func (SystemStatusChanged) isEvent()     {}
func (Failsafe) isEvent()                {}
func (VehicleFenceChanged) isEvent()     {}
func (CommandResult) isEvent()           {}
func (MissionUploaded) isEvent()         {}
func (MissionStarted) isEvent()          {}
func (MissionProgress) isEvent()         {}
func (MissionItemReachedEvent) isEvent() {}
func (MissionPaused) isEvent()           {}
func (MissionResumed) isEvent()          {}
func (MissionFinished) isEvent()         {}
func (MissionInterrupted) isEvent()      {}
func (MissionMismatch) isEvent()         {}
func (Missed) isEvent()                  {}
func (OperatorAction) isEvent()          {}
func (GrantChanged) isEvent()            {}

func (e DroneDiscovered) drone() string         { return e.Drone.ID }
func (e StateChanged) drone() string            { return e.Drone.ID }
func (e LinkLost) drone() string                { return e.DroneID }
func (e LinkRegained) drone() string            { return e.DroneID }
func (e VehicleRebooted) drone() string         { return e.DroneID }
func (e StatusTextEvent) drone() string         { return e.DroneID }
func (e Armed) drone() string                   { return e.DroneID }
func (e Disarmed) drone() string                { return e.DroneID }
func (e ModeChanged) drone() string             { return e.DroneID }
func (e TookOff) drone() string                 { return e.DroneID }
func (e Landed) drone() string                  { return e.DroneID }
func (e SystemStatusChanged) drone() string     { return e.DroneID }
func (e Failsafe) drone() string                { return e.DroneID }
func (e VehicleFenceChanged) drone() string     { return e.DroneID }
func (e CommandResult) drone() string           { return e.DroneID }
func (e MissionUploaded) drone() string         { return e.DroneID }
func (e MissionStarted) drone() string          { return e.DroneID }
func (e MissionProgress) drone() string         { return e.DroneID }
func (e MissionItemReachedEvent) drone() string { return e.DroneID }
func (e MissionPaused) drone() string           { return e.DroneID }
func (e MissionResumed) drone() string          { return e.DroneID }
func (e MissionFinished) drone() string         { return e.DroneID }
func (e MissionInterrupted) drone() string      { return e.DroneID }
func (e MissionMismatch) drone() string         { return e.DroneID }
func (Missed) drone() string                    { return "" }
func (e OperatorAction) drone() string          { return e.DroneID }
func (GrantChanged) drone() string              { return "" }

// OperatorAction is sent by the control plane after it carried out (or
// refused) something a person or a tool asked for: a command to a drone, a
// change of zones, tokens or grants. It is the audit trail's live view, so
// every operator sees commands issued by others.
type OperatorAction struct {
	// DroneID is the drone acted on ("" for actions on no drone).
	DroneID string
	At      time.Time
	// Actor is the caller's label, Role its role and Agency its agency.
	Actor, Role, Agency string
	// Action names the operation ("Control.Arm", "Geofence.PutZone", …).
	Action string
	// Summary is a short description of the arguments.
	Summary string
	// Code is "" when the action succeeded, else its error code; Message is
	// the error's user-facing message.
	Code    Code
	Message string
}

// GrantChanged is sent when a control grant is created, revoked or expires:
// agency To may (or may no longer) command drones of agency From.
type GrantChanged struct {
	At      time.Time
	GrantID string
	// From is the agency whose drones are granted; To the agency granted.
	From, To string
	// Drones lists the drones granted (empty: every drone of From).
	Drones []string
	// Until is when the grant ends.
	Until time.Time
	// Active is false once the grant is revoked or expired.
	Active bool
	// By is the label of the admin who changed it ("" for an expiry).
	By string
}

// EventDrone returns the id of the drone e is about, or "" for events about
// no drone (Missed).
func EventDrone(e Event) string { return e.drone() }
