package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// testVehicleEnv names an external vehicle that the ArduCopter-fidelity
// end-to-end tests also run against, as a serve MAVLink endpoint: for
// example CENTINELA_TEST_VEHICLE=tcp:127.0.0.1:5760 for ArduPilot SITL
// (see the README). Unset, they run against the built-in simulator only.
const testVehicleEnv = "CENTINELA_TEST_VEHICLE"

// arduRig is the vehicle an ArduCopter-fidelity test flies: one simulated
// drone (sd set, sped up, tests in parallel), or the external vehicle named
// by testVehicleEnv (sd nil: real time, one vehicle, so never in parallel,
// with its own parameters, restored after the test).
type arduRig struct {
	*rig
	sd       *sim.Drone
	id       string
	external bool
}

// mustArduRig starts a server connected to the vehicle under test and
// waits until it is discovered with a position. Against the simulator it
// runs sc (one drone) and marks the test parallel.
func mustArduRig(t *testing.T, cfg server.Config, sc sim.Config) *arduRig {
	t.Helper()
	if ext := os.Getenv(testVehicleEnv); ext != "" {
		cfg.MAVLink = []string{ext}
		srv := mustServer(t, cfg)
		r := &rig{srv: srv, ev: record(t, srv.Fleet), ids: map[uint8]string{}}
		var id string
		eventually(t, 2*time.Minute, "the external vehicle "+ext+" discovered with a position", func() bool {
			for _, d := range srv.Fleet.Drones() {
				if d.HasPosition && d.LinkState == fleet.LinkStateUp {
					id = d.ID
					r.ids[d.SysID] = d.ID
					return true
				}
			}
			return false
		})
		t.Logf("against the external vehicle %s (%s)", ext, id)
		return &arduRig{rig: r, id: id, external: true}
	}
	t.Parallel()
	r, _ := mustRig(t, cfg, sc, false)
	sd, id := r.drone(0)
	return &arduRig{rig: r, sd: sd, id: id}
}

// simOnly skips the rest of the test against an external vehicle: it
// relies on something only the simulator does (a fault knob, its clock).
func (r *arduRig) simOnly(t *testing.T, why string) {
	t.Helper()
	if r.external {
		t.Skipf("needs the built-in simulator (%s): skipped against %s", why, os.Getenv(testVehicleEnv))
	}
}

// within returns the wait for a step: simD against the simulator (sped
// up), realD against an external vehicle in real time.
func (r *arduRig) within(simD, realD time.Duration) time.Duration {
	if r.external {
		return realD
	}
	return simD
}

// position is where the vehicle is: the simulator's own truth, or the
// fleet's view of an external vehicle.
func (r *arduRig) position(t *testing.T) fleet.Position {
	t.Helper()
	if r.sd != nil {
		return simPosition(r.sd.State())
	}
	return droneState(t, r.srv.Fleet, r.id).Position
}

// advance waits for dur of the vehicle's time: simulated time, or real
// time for an external vehicle.
func (r *arduRig) advance(t *testing.T, dur time.Duration) {
	t.Helper()
	if r.sd != nil {
		simTimeAdvance(t, r.sd, dur)
		return
	}
	deadline := time.Now().Add(dur)
	eventually(t, dur+5*time.Second, dur.String()+" of real time", func() bool { return !time.Now().Before(deadline) })
}

// setParam sets a parameter of the vehicle under test and, against an
// external vehicle, restores its value at cleanup.
func (r *arduRig) setParam(t *testing.T, name string, v float64) fleet.Param {
	t.Helper()
	f := r.srv.Fleet
	if r.external {
		old, err := f.Param(opCtx(t, 10*time.Second), r.id, name)
		if err != nil {
			t.Fatalf("read %s before setting it: %v", name, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := f.SetParam(ctx, r.id, name, old.Value); err != nil {
				t.Errorf("restore %s = %v: %v", name, old.Value, err)
			}
		})
	}
	return mustSetParam(t, f, r.id, name, v)
}

// landed waits until the vehicle under test is disarmed on the ground
// (an external vehicle may have been left flying by a failed test).
func (r *arduRig) landed(t *testing.T, d time.Duration) {
	t.Helper()
	_, err := r.srv.Fleet.WaitState(opCtx(t, d), r.id, func(st fleet.DroneState) bool {
		return !st.Armed && st.Landed == fleet.LandedOnGround
	})
	if err != nil {
		t.Fatalf("waiting %s for the drone to be landed and disarmed: %v", d, err)
	}
}

// clearFence disables and removes the fence of an external vehicle after a
// test that set one.
func (r *arduRig) clearFence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.srv.Fleet.EnableFence(ctx, r.id, false); err != nil {
		t.Errorf("disable the fence: %v", err)
	}
	if err := r.srv.Fleet.ClearMission(ctx, r.id, fleet.MissionTypeFence); err != nil {
		t.Errorf("clear the fence: %v", err)
	}
}
