package fleet

import (
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// ZoneStatus is a drone's state relative to its allowed space, as a
// ZoneWatch sees it.
type ZoneStatus int

// Zone statuses. "Back inside" is a transition, not a status: from
// ZoneBreached to ZoneInside or ZoneApproaching (see
// ZoneStateChanged.BackInside).
const (
	// ZoneUnknown: not checked yet (no position yet, or just discovered).
	ZoneUnknown ZoneStatus = iota
	// ZoneInside: in the allowed space, not near its edge.
	ZoneInside
	// ZoneApproaching: in the allowed space, within the watch's margin of
	// its edge (in metres, or in seconds of flight at the current velocity).
	ZoneApproaching
	// ZoneBreached: outside the allowed space.
	ZoneBreached
)

// String returns "unknown", "inside", "approaching" or "breached".
func (s ZoneStatus) String() string {
	switch s {
	case ZoneInside:
		return "inside"
	case ZoneApproaching:
		return "approaching"
	case ZoneBreached:
		return "breached"
	}
	return "unknown"
}

// ZoneAction is an automatic response to a breach of a drone's allowed space.
type ZoneAction string

// Zone actions.
const (
	// ZoneWarn only records the breach (a ZoneResponse event, a log line).
	ZoneWarn ZoneAction = "warn"
	// ZoneHold stops the drone where it is (Fleet.Hold: BRAKE, LOITER).
	ZoneHold ZoneAction = "hold"
	// ZoneRTL flies the drone home to land (Fleet.ReturnToLaunch).
	ZoneRTL ZoneAction = "rtl"
	// ZoneLand lands the drone where it is (Fleet.Land).
	ZoneLand ZoneAction = "land"
)

// Valid reports whether a is one of the zone actions.
func (a ZoneAction) Valid() bool {
	return a == ZoneWarn || a == ZoneHold || a == ZoneRTL || a == ZoneLand
}

// ZoneStateChanged is sent by a ZoneWatch when a drone's zone status
// changes: first checked (From ZoneUnknown), approaching the edge of its
// allowed space, breached, back inside.
type ZoneStateChanged struct {
	DroneID string
	At      time.Time
	// Agency is the drone's agency.
	Agency   string
	From, To ZoneStatus
	// ZoneID and ZoneName name the zone concerned: the one breached, the one
	// whose edge the drone approaches or is nearest to; "" when none.
	ZoneID, ZoneName string
	// Position is the drone's position when the change was seen.
	Position Position
	// Violation is the breach (To ZoneBreached) or the predicted one
	// (approaching by time); nil otherwise. Read only.
	Violation *geofence.Violation
	// BoundaryM is the horizontal distance in metres to the nearest edge of
	// the allowed space (+Inf when none is near).
	BoundaryM float64
	// TimeToBreach is when flying on at the current velocity leaves the
	// allowed space, -1 when not within the watch's time margin.
	TimeToBreach time.Duration
}

// BackInside reports whether the drone came back into its allowed space
// after a breach.
func (e ZoneStateChanged) BackInside() bool {
	return e.From == ZoneBreached && (e.To == ZoneInside || e.To == ZoneApproaching)
}

// ZoneResponse is sent by a ZoneWatch for every automatic response to a
// breach: once per breach, after the command (if any) finished.
type ZoneResponse struct {
	DroneID string
	At      time.Time
	// ZoneID and ZoneName name the zone breached ("" when none is named).
	ZoneID, ZoneName string
	// Action is the response the policy chose.
	Action ZoneAction
	// Skipped says why no command was sent ("" when one was, or for warn):
	// the drone is not flying, the vehicle answered the breach itself, or a
	// response is already running.
	Skipped string
	// ByVehicle is true when the vehicle answered the breach itself before
	// the watch did: its on-board fence reports the breach (FENCE_STATUS),
	// or it is already returning, landing or braking. No command was sent;
	// the response is the vehicle's.
	ByVehicle bool
	// Code and Message are the command's result: Code "" when the vehicle
	// accepted (as in CommandResult).
	Code    Code
	Message string
}

func (ZoneStateChanged) isEvent() {}
func (ZoneResponse) isEvent()     {}

func (e ZoneStateChanged) drone() string { return e.DroneID }
func (e ZoneResponse) drone() string     { return e.DroneID }
