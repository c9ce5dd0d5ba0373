package fleet

// DroneInfo is what an administrator configures about a drone at run time:
// its display name and the agency that operates it. The drone's id never
// changes.
type DroneInfo struct {
	// Name is the display name ("" keeps the current one).
	Name string
	// Agency is the operating agency ("" keeps the current one).
	Agency string
}

// SetDroneInfo changes drone id's display name and agency, publishes its new
// state, and keeps them across link changes and reboots. The fleet does not
// check that the agency exists: the caller (the control plane) does.
// Returns NotFound if no such drone was heard, Invalid for a name longer than
// 64 bytes.
func (f *Fleet) SetDroneInfo(id string, info DroneInfo) error {
	if len(info.Name) > 64 || len(info.Agency) > 64 {
		return Errorf(Invalid, "name and agency are at most 64 bytes")
	}
	d := f.droneByID(id)
	if d == nil {
		return errNotFound(id)
	}
	d.mu.Lock()
	if info.Name != "" {
		d.st.Name = info.Name
	}
	if info.Agency != "" {
		d.st.Agency = info.Agency
	}
	d.mu.Unlock()
	f.publishState(d)
	return nil
}
