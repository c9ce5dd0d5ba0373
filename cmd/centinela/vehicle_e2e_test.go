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

// The vehicle under test: the mission (missions_e2e_test.go) and
// ArduCopter-fidelity (ardupilot_e2e_test.go) end-to-end tests fly one
// through these helpers, so that each runs against the built-in simulator
// and, when testVehicleEnv names one, against an external vehicle such as
// ArduPilot SITL (see the README's Tests section).

// testVehicleEnv names an external vehicle that the vehicle tests also run
// against, as a serve MAVLink endpoint: for example
// CENTINELA_TEST_VEHICLE=tcp:127.0.0.1:5760 for ArduPilot SITL. Unset, they
// run against the built-in simulator only.
const testVehicleEnv = "CENTINELA_TEST_VEHICLE"

// externalVehicle returns the endpoint of the external vehicle under test,
// or "" for the built-in simulator.
func externalVehicle() string { return os.Getenv(testVehicleEnv) }

// vehicleCaps says what the vehicle under test offers beyond MAVLink. The
// built-in simulator has all of it; an external vehicle none.
type vehicleCaps struct {
	// Faults: the simulator's fault knobs (frame loss, link cuts, lost
	// ACKs, battery drain).
	Faults bool
	// SimTime: a simulated clock, sped up; otherwise every step takes its
	// real time and the helpers wait with real-time deadlines.
	SimTime bool
	// Truth: the vehicle's own state (sim.Drone.State), not only the
	// fleet's view of it.
	Truth bool
}

var simCaps = vehicleCaps{Faults: true, SimTime: true, Truth: true}

// needsSimulator skips a test against an external vehicle: it relies on
// something only the simulator does (what). Against the simulator it does
// nothing, so the test still runs there.
func needsSimulator(t *testing.T, what string) {
	t.Helper()
	if ext := externalVehicle(); ext != "" {
		t.Skipf("needs the simulator's fault knobs: %s (skipped against %s)", what, ext)
	}
}

// vehicleRig is the vehicle a test flies and the server connected to it:
// one simulated drone (sd set, sped up, tests in parallel), or the
// external vehicle named by testVehicleEnv (sd nil: real time, one
// vehicle, so never in parallel, with its own home and parameters, which
// setParam restores after the test).
type vehicleRig struct {
	*rig
	sd       *sim.Drone
	id       string
	external bool
	caps     vehicleCaps
}

// mustVehicle starts a server with cfg connected to the vehicle under test
// and waits until it is discovered with a position. Against the simulator
// it runs sc (one drone) and marks the test parallel; against an external
// vehicle it brings the vehicle home at cleanup if the test leaves it in
// the air (ready and landed wait for it on the ground).
func mustVehicle(t *testing.T, cfg server.Config, sc sim.Config) *vehicleRig {
	t.Helper()
	ext := externalVehicle()
	if ext == "" {
		t.Parallel()
		r, _ := mustRig(t, cfg, sc, false)
		return r.vehicle(0)
	}
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
	v := &vehicleRig{rig: r, id: id, external: true}
	// Registered before the test's own cleanups, so it runs after them.
	t.Cleanup(func() { v.bringHome(t) })
	return v
}

// vehicle returns the i-th simulated drone of r as a vehicle under test
// (for tests that need a relay or several drones, started with mustRig).
func (r *rig) vehicle(i int) *vehicleRig {
	sd, id := r.drone(i)
	return &vehicleRig{rig: r, sd: sd, id: id, caps: simCaps}
}

// within returns the wait for a step: simD against the simulator (sped
// up), realD against an external vehicle in real time.
func (r *vehicleRig) within(simD, realD time.Duration) time.Duration {
	if r.caps.SimTime {
		return simD
	}
	return realD
}

// home returns where the vehicle takes off from: its reported home
// (HOME_POSITION), else where it sits, and the home's altitude above sea
// level. Missions are planned around it, never around a fixed place.
func (r *vehicleRig) home(t *testing.T) (fleet.Position, float64) {
	t.Helper()
	return r.rig.home(t, r.id)
}

// position is where the vehicle is: the simulator's own truth, or the
// fleet's view of an external vehicle.
func (r *vehicleRig) position(t *testing.T) fleet.Position {
	t.Helper()
	if r.caps.Truth {
		return simPosition(r.sd.State())
	}
	return droneState(t, r.srv.Fleet, r.id).Position
}

// advance waits for dur of the vehicle's time: simulated time, or real
// time for an external vehicle.
func (r *vehicleRig) advance(t *testing.T, dur time.Duration) {
	t.Helper()
	if r.caps.SimTime {
		simTimeAdvance(t, r.sd, dur)
		return
	}
	deadline := time.Now().Add(dur)
	eventually(t, dur+5*time.Second, dur.String()+" of real time", func() bool { return !time.Now().Before(deadline) })
}

// setParam sets a parameter of the vehicle under test and, against an
// external vehicle, restores its value at cleanup.
func (r *vehicleRig) setParam(t *testing.T, name string, v float64) fleet.Param {
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

// landed waits until the vehicle under test is disarmed on the ground.
func (r *vehicleRig) landed(t *testing.T, d time.Duration) {
	t.Helper()
	_, err := r.srv.Fleet.WaitState(opCtx(t, d), r.id, func(st fleet.DroneState) bool {
		return !st.Armed && st.Landed == fleet.LandedOnGround
	})
	if err != nil {
		t.Fatalf("waiting %s for the drone to be landed and disarmed: %v", d, err)
	}
}

// ready waits until the vehicle is on the ground, disarmed, with its home
// known, as a mission test starts.
func (r *vehicleRig) ready(t *testing.T) {
	t.Helper()
	r.landed(t, r.within(10*time.Second, 3*time.Minute))
	eventually(t, r.within(10*time.Second, time.Minute), "the vehicle's home", func() bool {
		return droneState(t, r.srv.Fleet, r.id).HasHome
	})
}

// bringHome returns an external vehicle a test left in the air (RTL) and
// waits for it to land, so the next test finds it on the ground.
func (r *vehicleRig) bringHome(t *testing.T) {
	f := r.srv.Fleet
	st, err := f.Drone(r.id)
	if err != nil || !st.Armed || st.Landed == fleet.LandedOnGround || st.LinkState != fleet.LinkStateUp {
		return
	}
	t.Logf("the vehicle is still flying (%s): returning it home", st.Mode)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := f.ReturnToLaunch(ctx, r.id); err != nil {
		t.Errorf("RTL at cleanup: %v", err)
		return
	}
	if _, err := f.WaitState(ctx, r.id, func(st fleet.DroneState) bool { return !st.Armed }); err != nil {
		t.Errorf("waiting for the vehicle to land at cleanup: %v", err)
	}
}

// clearFence disables and removes the fence of an external vehicle after a
// test that set one.
func (r *vehicleRig) clearFence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.srv.Fleet.EnableFence(ctx, r.id, false); err != nil {
		t.Errorf("disable the fence: %v", err)
	}
	if err := r.srv.Fleet.ClearMission(ctx, r.id, fleet.MissionTypeFence); err != nil {
		t.Errorf("clear the fence: %v", err)
	}
}

// ---- missions on the vehicle under test ----

// startPatrol uploads a zigzag around the vehicle's home and starts it;
// it returns the mission id and plan.
func (r *vehicleRig) startPatrol(t *testing.T, alt, step float64, legs int) (string, []fleet.MissionItem) {
	t.Helper()
	home, altMSL := r.home(t)
	items := zigzag(home, altMSL, alt, step, legs)
	ctx := opCtx(t, r.within(30*time.Second, 3*time.Minute))
	mid, err := r.srv.Fleet.UploadMission(ctx, r.id, fleet.MissionTypeMission, items, fleet.UploadOptions{})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := r.srv.Fleet.StartMission(ctx, r.id, fleet.StartOptions{ArmWait: r.within(20*time.Second, 2*time.Minute)}); err != nil {
		t.Fatalf("start: %v", err)
	}
	return mid, items
}

// reached waits for the vehicle to report navigation item seq reached,
// from event index from on, and returns the event's index.
func (r *vehicleRig) reached(t *testing.T, from, seq int) int {
	t.Helper()
	_, i := await(t, r.ev, r.within(30*time.Second, 5*time.Minute), from, func(e fleet.MissionItemReachedEvent) bool {
		return e.DroneID == r.id && e.Seq == seq
	})
	return i
}

// landsHome waits until the vehicle is disarmed on the ground near home.
func (r *vehicleRig) landsHome(t *testing.T, home fleet.Position) {
	t.Helper()
	r.landed(t, r.within(30*time.Second, 5*time.Minute))
	if d := distance(droneState(t, r.srv.Fleet, r.id).Position, home); d > r.tolerance(3, 5) {
		t.Errorf("%s landed %.1f m from home", r.id, d)
	}
}

// tolerance returns simTol against the simulator, realTol against an
// external vehicle (a real position estimate, winds, its own tuning).
func (r *vehicleRig) tolerance(simTol, realTol float64) float64 {
	if r.external {
		return realTol
	}
	return simTol
}
