package fleet

import "time"

// RecordingStopped is published by the history recorder (package
// fleet/store) when it stops because the store cannot be written (a full
// disk, a read-only file): from then on telemetry and events are no longer
// kept, while the fleet flies on. It is about no drone.
type RecordingStopped struct {
	At time.Time
	// Err says why; Path is the store's file.
	Err, Path string
}

func (RecordingStopped) isEvent()      {}
func (RecordingStopped) drone() string { return "" }
