package fleet

import "time"

// PatrolChange says what happened to a patrol.
type PatrolChange string

// Patrol changes.
const (
	// PatrolDispatched: the patrol's volume is reserved and its mission
	// uploaded (started, or waiting for a later start).
	PatrolDispatched PatrolChange = "dispatched"
	// PatrolStarted: a patrol dispatched with a later start began flying.
	PatrolStarted PatrolChange = "started"
	// PatrolExtended: the patrol runs late; its volume now ends at End.
	PatrolExtended PatrolChange = "extended"
	// PatrolExtendRefused: the patrol runs late but its volume could not be
	// extended (it would meet another patrol's; Message says which).
	PatrolExtendRefused PatrolChange = "extend_refused"
	// PatrolFinished: its mission completed; the volume is released.
	PatrolFinished PatrolChange = "finished"
	// PatrolInterrupted: its mission stopped before the end (a mode change,
	// a lost link, a failsafe); the volume is released.
	PatrolInterrupted PatrolChange = "interrupted"
	// PatrolCancelled: an operator cancelled it (the drone returns home);
	// the volume is released.
	PatrolCancelled PatrolChange = "cancelled"
	// PatrolFailed: a delayed start failed; the volume is released.
	PatrolFailed PatrolChange = "failed"
)

// PatrolChanged is sent by the control plane when a patrol is dispatched,
// starts late, is extended, or ends (finished, interrupted, cancelled,
// failed).
type PatrolChanged struct {
	DroneID string
	At      time.Time
	// PatrolID is the patrol's stable id; MissionID the mission it flies.
	PatrolID, MissionID string
	// Agency is the drone's agency.
	Agency string
	Change PatrolChange
	// Start and End bound the patrol's reserved volume (zero once
	// released).
	Start, End time.Time
	// Message says why, for an interruption, a failure or a refused
	// extension ("" otherwise).
	Message string
}

// PatrolConformance is sent by the control plane when a drone flying a
// patrol leaves its reserved 4D volume (Inside false) or comes back into it
// (Inside true).
type PatrolConformance struct {
	DroneID string
	At      time.Time
	// PatrolID is the patrol whose volume is concerned; Agency the drone's
	// agency.
	PatrolID, Agency string
	// Inside is true when the drone is back inside its volume.
	Inside bool
	// Reason says how it is outside: "horizontal", "vertical", "early" or
	// "late" ("" when Inside).
	Reason string
	// ByM is how far outside, metres (horizontal and vertical).
	ByM float64
	// Position is where the drone was.
	Position Position
}

func (PatrolChanged) isEvent()            {}
func (PatrolConformance) isEvent()        {}
func (e PatrolChanged) drone() string     { return e.DroneID }
func (e PatrolConformance) drone() string { return e.DroneID }
