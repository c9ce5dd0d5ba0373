package fleet

import "time"

// AlertChanged is published by the application layer (fleet/app) when it
// raises an alert or someone acknowledges one, so that readers such as the
// operator map show it at once instead of polling. It is not an event of
// its own (the event that raised the alert, and the acknowledgement's
// OperatorAction, are): readers fetch the alert by AlertID.
type AlertChanged struct {
	At      time.Time
	AlertID string
	// DroneID is the alert's drone ("" for one about no drone).
	DroneID string
	// Acked is set when the change is an acknowledgement.
	Acked bool
}

func (AlertChanged) isEvent()        {}
func (e AlertChanged) drone() string { return e.DroneID }
