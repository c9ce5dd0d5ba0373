package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// An impostor sending a real drone's heartbeat from another link never
// takes it over: after the hold it is a drone of its own, reported by an
// IdentityClaimed event, and commands still go to the real drone.
func TestImpostorBecomesSeparateDrone(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	real := ft.NewVehicle("udp:s/127.0.0.1:4000", 1)
	discover(t, f, real, ft.Copter(ft.Auto, true, ft.StatusActive))
	f.Handle(real, ft.Position(time.Second, 32.5, -117, 50))
	bad := ft.NewVehicle("udp:s/127.0.0.1:6666", 1)
	for i := 0; i < 4; i++ {
		f.Handle(bad, ft.Copter(ft.Guided, false, ft.StatusStandby))
		f.Handle(bad, ft.Position(time.Second, 19.4, -99.1, 10)) // Mexico City
		st := state(t, f, "sysid-1")
		if st.Link != real.K.Link || st.Position.Lat != 32.5 || st.Mode != "AUTO" {
			t.Fatalf("impostor took over: %+v", st)
		}
		clock.Advance(time.Second)
		f.Handle(real, ft.Copter(ft.Auto, true, ft.StatusActive))
	}
	claim, _ := waitFor[fleet.IdentityClaimed](ev, nil)
	if claim.DroneID != "sysid-1" || claim.ClaimedBy != bad.K.Link || claim.Resolution != fleet.ClaimSeparate ||
		!strings.HasPrefix(claim.NewDroneID, "sysid-1-l") || claim.Link != real.K.Link {
		t.Errorf("claim %+v", claim)
	}
	other := state(t, f, claim.NewDroneID)
	if other.Link != bad.K.Link || other.SysID != 1 {
		t.Errorf("impostor drone %+v", other)
	}
	if err := f.ReturnToLaunch(context.Background(), "sysid-1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range bad.CommandKinds() {
		if k == fleet.CommandReturnToLaunch {
			t.Errorf("the impostor got the real drone's RTL")
		}
	}
	if got := f.Stats().Claims; got != 1 {
		t.Errorf("Stats.Claims = %d", got)
	}
	// The id is stable: derived from the link, not a counter.
	if claim.NewDroneID != "sysid-1-l"+claim.NewDroneID[len("sysid-1-l"):] || len(claim.NewDroneID) != len("sysid-1-l")+8 {
		t.Errorf("derived id %q", claim.NewDroneID)
	}
}

// Two vehicles with one system id on two links are two drones, never
// merged, and each keeps its own telemetry.
func TestSameSysIDTwoDrones(t *testing.T) {
	f, clock := mustFleet(t)
	a := ft.NewVehicle("udp:s/10.0.0.1:14550", 7)
	b := ft.NewVehicle("udp:s/10.0.0.2:14550", 7)
	discover(t, f, a, ft.Copter(0, false, ft.StatusStandby))
	for range 5 {
		clock.Advance(time.Second)
		f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
		f.Handle(b, ft.Copter(0, false, ft.StatusStandby))
	}
	ds := f.Drones()
	if len(ds) != 2 {
		t.Fatalf("%d drones, want 2", len(ds))
	}
	f.Handle(b, ft.Position(time.Second, 31.7, -106.4, 0))
	f.Handle(a, ft.Position(time.Second, 32.5, -117, 0))
	for _, d := range f.Drones() {
		want := map[string]float64{a.K.Link: 32.5, b.K.Link: 31.7}[d.Link]
		if d.Position.Lat != want {
			t.Errorf("drone %s on %s at %v, want %v", d.ID, d.Link, d.Position.Lat, want)
		}
	}
}

// A TCP reconnect: the transport closes the old link, the drone is lost at
// once and the new connection takes it over without waiting.
func TestLinkClosedAllowsReconnect(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	old := ft.NewVehicle("tcpin:s/127.0.0.1:5000", 1)
	discover(t, f, old, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(old, fleet.LinkClosed{})
	waitFor[fleet.LinkLost](ev, nil)
	nu := ft.NewVehicle("tcpin:s/127.0.0.1:5001", 1)
	f.Handle(nu, ft.Copter(0, false, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.Link != nu.K.Link || st.LinkState != fleet.LinkStateUp {
		t.Fatalf("reconnect not taken: %+v", st)
	}
	reg, _ := waitFor[fleet.LinkRegained](ev, nil)
	if reg.Link != nu.K.Link {
		t.Errorf("regained %+v", reg)
	}
}

// A claimant reporting the drone's AUTOPILOT_VERSION uid is the same
// vehicle: once the drone's own link is silent it moves there (a radio
// change); a different uid is another drone at once.
func TestUIDDecidesClaims(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	radio1 := ft.NewVehicle("serial:/dev/ttyUSB0", 1)
	discover(t, f, radio1, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(radio1, fleet.AutopilotVersion{UID: 0xabc})

	other := ft.NewVehicle("udp:s/10.0.0.9:14550", 1)
	f.Handle(other, ft.Copter(0, false, ft.StatusStandby))
	poll(t, "claimant asked for its version", func() bool { return other.Calls("Command") >= 1 })
	f.Handle(other, fleet.AutopilotVersion{UID: 0xdef})
	f.Handle(other, ft.Copter(0, false, ft.StatusStandby))
	claim, _ := waitFor[fleet.IdentityClaimed](ev, nil)
	if claim.Resolution != fleet.ClaimSeparate || claim.NewDroneID != "sysid-1-u0000000000000def" {
		t.Errorf("different uid: %+v", claim)
	}

	radio2 := ft.NewVehicle("serial:/dev/ttyUSB1", 1)
	f.Handle(radio2, ft.Copter(0, false, ft.StatusStandby))
	poll(t, "claimant asked", func() bool { return radio2.Calls("Command") >= 1 })
	f.Handle(radio2, fleet.AutopilotVersion{UID: 0xabc})
	f.Handle(radio2, ft.Copter(0, false, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.Link != radio1.K.Link {
		t.Fatalf("moved while radio 1 is live")
	}
	clock.Advance(2 * time.Second) // radio 1 falls silent
	f.Handle(radio2, ft.Copter(0, false, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.Link != radio2.K.Link {
		t.Fatalf("did not move to radio 2: %q", st.Link)
	}
	moved, _ := waitFor[fleet.IdentityClaimed](ev, nil)
	if moved.Resolution != fleet.ClaimMoved || moved.ProvenBy != "uid" || moved.ClaimedBy != radio2.K.Link {
		t.Errorf("move %+v", moved)
	}
	if len(f.Drones()) != 2 {
		t.Errorf("%d drones, want 2", len(f.Drones()))
	}
}

// A signed claimant of a signed drone is the same vehicle.
func TestSigningProvesIdentity(t *testing.T) {
	f, clock := mustFleet(t)
	hb := ft.Copter(0, false, ft.StatusStandby)
	hb.Signed = true
	a := ft.NewVehicle("udp:s/10.0.0.1:1", 3)
	discover(t, f, a, hb)
	b := ft.NewVehicle("udp:s/10.0.0.1:2", 3)
	clock.Advance(2 * time.Second)
	f.Handle(b, hb)
	if st := state(t, f, "sysid-3"); st.Link != b.K.Link || !st.Signed {
		t.Fatalf("signed claimant did not take over: %+v", st)
	}
	unsigned := ft.NewVehicle("udp:s/10.0.0.1:3", 3)
	clock.Advance(2 * time.Second)
	f.Handle(unsigned, ft.Copter(0, false, ft.StatusStandby))
	if st := state(t, f, "sysid-3"); st.Link != b.K.Link {
		t.Fatalf("unsigned claimant took over")
	}
}

// Names and agencies keyed by link and system id or by uid.
func TestNamesByKeyAndUID(t *testing.T) {
	a := ft.NewVehicle("tcp:10.0.0.1:5760", 1)
	b := ft.NewVehicle("tcp:10.0.0.2:5760", 1)
	c := ft.NewVehicle("tcp:10.0.0.3:5760", 1)
	f, clock := mustFleet(t, func(f *fleet.Fleet) {
		f.NamesByKey = map[fleet.VehicleKey]string{a.K: "halcon-1", b.K: "halcon-2"}
		f.AgenciesByKey = map[fleet.VehicleKey]string{b.K: "mx-agency"}
		f.NamesByUID = map[uint64]string{0x42: "aguila-7"}
		f.AgenciesByUID = map[uint64]string{0x42: "us-agency"}
	})
	f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(b, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(c, ft.Copter(0, false, ft.StatusStandby))
	poll(t, "c asked for its uid", func() bool { return c.Calls("Command") >= 1 })
	f.Handle(c, fleet.AutopilotVersion{UID: 0x42})
	f.Handle(c, ft.Copter(0, false, ft.StatusStandby))
	clock.Advance(3 * time.Second) // past the identification wait
	f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(b, ft.Copter(0, false, ft.StatusStandby))
	want := map[string]string{"halcon-1": fleet.DefaultAgency, "halcon-2": "mx-agency", "aguila-7": "us-agency"}
	ds := f.Drones()
	if len(ds) != 3 {
		t.Fatalf("drones %+v", ds)
	}
	for _, d := range ds {
		if ag, ok := want[d.ID]; !ok || d.Agency != ag {
			t.Errorf("drone %s agency %s", d.ID, d.Agency)
		}
	}
}

// Limits: drones in total and keys held as claimants.
func TestDroneAndClaimLimits(t *testing.T) {
	f, _ := mustFleet(t, func(f *fleet.Fleet) { f.MaxDrones = 3; f.MaxClaimants = 2 })
	for i := range 10 {
		f.Handle(ft.NewVehicle("l", uint8(i+1)), ft.Copter(0, false, ft.StatusStandby))
	}
	if n := len(f.Drones()); n != 3 {
		t.Errorf("%d drones, limit 3", n)
	}
	if got := f.Stats().DronesRefused; got != 7 {
		t.Errorf("DronesRefused = %d", got)
	}
	for i := range 5 {
		f.Handle(ft.NewVehicle("other"+string(rune('a'+i)), 1), ft.Copter(0, false, ft.StatusStandby))
	}
	if got := f.Stats().ClaimantsRefused; got != 3 {
		t.Errorf("ClaimantsRefused = %d", got)
	}
}

// A vehicle that comes back on a new link just after its old one fell
// silent is a reconnect, even when the new link is heard for longer than
// the hold before the old one is declared lost: never a second drone, never
// a claim.
func TestQuickReconnectIsNotAClaim(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	old := ft.NewVehicle("udp:s/127.0.0.1:4000", 1)
	discover(t, f, old, ft.Copter(0, false, ft.StatusStandby))
	clock.Advance(100 * time.Millisecond)
	nu := ft.NewVehicle("udp:s/127.0.0.1:4001", 1)
	for range 5 {
		f.Handle(nu, ft.Copter(0, false, ft.StatusStandby))
		clock.Advance(time.Second)
	}
	f.Handle(nu, ft.Copter(0, false, ft.StatusStandby))
	if st := state(t, f, "sysid-1"); st.Link != nu.K.Link {
		t.Fatalf("not moved to the new link: %q", st.Link)
	}
	if n := len(f.Drones()); n != 1 {
		t.Errorf("%d drones", n)
	}
	for _, e := range ev.drain() {
		if c, ok := e.(fleet.IdentityClaimed); ok {
			t.Errorf("a reconnect raised %+v", c)
		}
	}
}

// The second of two drones sharing a system id reconnecting on a new link
// gets its own drone back, not a third one.
func TestSecondDroneReconnects(t *testing.T) {
	f, clock := mustFleet(t)
	a := ft.NewVehicle("udp:s/10.0.0.1:1", 5)
	b := ft.NewVehicle("udp:s/10.0.0.2:1", 5)
	discover(t, f, a, ft.Copter(0, false, ft.StatusStandby))
	for range 5 {
		clock.Advance(time.Second)
		f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
		f.Handle(b, ft.Copter(0, false, ft.StatusStandby))
	}
	var second string
	for _, d := range f.Drones() {
		if d.Link == b.K.Link {
			second = d.ID
		}
	}
	if second == "" {
		t.Fatalf("no second drone: %+v", f.Drones())
	}
	// b goes silent and comes back from a new port while a flies on.
	for range 5 {
		clock.Advance(time.Second)
		f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
	}
	poll(t, "second lost", func() bool { return state(t, f, second).LinkState == fleet.LinkStateLost })
	b2 := ft.NewVehicle("udp:s/10.0.0.2:2", 5)
	for range 5 {
		clock.Advance(time.Second)
		f.Handle(a, ft.Copter(0, false, ft.StatusStandby))
		f.Handle(b2, ft.Copter(0, false, ft.StatusStandby))
	}
	if st := state(t, f, second); st.Link != b2.K.Link || st.LinkState != fleet.LinkStateUp {
		t.Errorf("the second drone did not come back: %+v", st.Link)
	}
	if n := len(f.Drones()); n != 2 {
		t.Errorf("%d drones, want 2", n)
	}
}
