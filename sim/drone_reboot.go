package sim

// Reboot power-cycles the drone's autopilot: its link drops (the socket is
// closed and opened again, so a UDP drone comes back from a new source
// port), and it boots again on the ground at its home with its clock at
// zero, keeping what an airframe keeps: system id, AUTOPILOT_VERSION uid and
// parameters. It returns Start's error.
func (d *Drone) Reboot() error {
	d.Stop()
	d.mu.Lock()
	old := d.v
	cfg := d.swarm.cfg
	nv := newVehicle(d, &cfg, d.index)
	nv.uid, nv.p = old.uid, old.p
	d.v = nv
	d.mu.Unlock()
	return d.Start()
}
