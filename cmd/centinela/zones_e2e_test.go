package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// End-to-end geofence tests: the real server with its zone guard and breach
// watch against simulated drones over real UDP sockets, in the San
// Diego–Tijuana corridor.

// sanYsidro is a home 650 m north of the international boundary.
var sanYsidro = sim.Home{Lat: 32.5480, Lon: -117.0293, Alt: 40}

// southOfLine is 1.3 km south of the boundary, inside the joint corridor.
var southOfLine = fleet.Position{Lat: 32.5300, Lon: -117.0293, RelAlt: 30}

// zoneServer starts a server whose drone 1 belongs to a US-only agency and
// drone 2 to the binational task force, with n simulated drones at home.
func zoneServer(t *testing.T, n int) (*server.Server, *sim.Swarm, []string) {
	t.Helper()
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.DroneAgencies.BySysID = map[uint8]string{1: agencyUS, 2: agencyJoint}
	srv := mustServer(t, cfg)
	home := sanYsidro
	swarm := mustSwarm(t, sim.Config{Drones: n, Connect: "udpout:" + srv.MAVLinkAddr(0).String(), Home: &home, Seed: 5})
	waitDiscovered(t, srv.Fleet, n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "sysid-" + string(rune('1'+i))
	}
	return srv, swarm, ids
}

// airborne arms drone id and takes it to alt metres.
func airborne(t *testing.T, f *fleet.Fleet, id string, alt float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := f.Arm(ctx, id, fleet.ArmOptions{Wait: 30 * time.Second, RetryInterval: 200 * time.Millisecond}); err != nil {
		t.Fatalf("%s: arm: %v", id, err)
	}
	if err := f.Takeoff(ctx, id, alt); err != nil {
		t.Fatalf("%s: takeoff: %v", id, err)
	}
	eventually(t, 30*time.Second, id+" at altitude", func() bool {
		return droneState(t, f, id).Position.RelAlt > alt-1
	})
}

func TestZonesGoToAcrossTheBorder(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv, swarm, ids := zoneServer(t, 2)
	us, joint := ids[0], ids[1]
	if a := droneState(t, srv.Fleet, us).Agency; a != agencyUS {
		t.Fatalf("drone 1 agency %q", a)
	}
	airborne(t, srv.Fleet, us, 30)
	airborne(t, srv.Fleet, joint, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A US-only drone may not go south of the line: refused, the zone named,
	// nothing sent to the drone.
	before := swarm.Drones()[0].State()
	err := srv.Fleet.GoTo(ctx, us, southOfLine, fleet.GoToOptions{})
	if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "mx-sandiego-tijuana") {
		t.Fatalf("US drone go-to south of the line: %v, want conflict naming mx-sandiego-tijuana", err)
	}
	time.Sleep(300 * time.Millisecond) // give a wrongly sent go-to time to show
	if after := swarm.Drones()[0].State(); after.Mode != before.Mode ||
		distance(fleet.Position{Lat: after.Lat, Lon: after.Lon}, fleet.Position{Lat: before.Lat, Lon: before.Lon}) > 5 {
		t.Errorf("refused drone moved: mode %d → %d", before.Mode, after.Mode)
	}

	// The binational task force's drone may go, and gets there.
	if err := srv.Fleet.GoTo(ctx, joint, southOfLine, fleet.GoToOptions{}); err != nil {
		t.Fatalf("joint drone go-to: %v", err)
	}
	eventually(t, 30*time.Second, "joint drone south of the line", func() bool {
		return distance(droneState(t, srv.Fleet, joint).Position, southOfLine) < 2
	})
	if st, ok := srv.Watch.Status(joint); !ok || st.Status != fleet.ZoneInside {
		t.Errorf("joint drone zone status %+v", st)
	}
}

func TestZonesBreachResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv, swarm, ids := zoneServer(t, 1)
	us := ids[0]
	airborne(t, srv.Fleet, us, 30)
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 1 << 16})
	defer sub.Close()

	// Flying toward the line (an authorised override of the guard): the
	// watch says "approaching" before "breached", then answers with RTL.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Fleet.GoTo(ctx, us, southOfLine, fleet.GoToOptions{SkipGuard: true}); err != nil {
		t.Fatalf("override go-to: %v", err)
	}
	var seen []fleet.ZoneStatus
	breach := waitEvent(t, sub, 30*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.ZoneStateChanged)
		if ok && e.DroneID == us {
			seen = append(seen, e.To)
		}
		return ok && e.To == fleet.ZoneBreached
	}).(fleet.ZoneStateChanged)
	if len(seen) < 2 || seen[len(seen)-2] != fleet.ZoneApproaching {
		t.Errorf("zone states %v: want approaching before breached", seen)
	}
	if breach.ZoneID != "mx-sandiego-tijuana" {
		t.Errorf("breach names zone %q, want mx-sandiego-tijuana", breach.ZoneID)
	}
	resp := waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.ZoneResponse)
		return ok && e.DroneID == us
	}).(fleet.ZoneResponse)
	if resp.Action != fleet.ZoneRTL || resp.ZoneID != breach.ZoneID || resp.Code != "" {
		t.Errorf("response %+v, want a successful rtl for %s", resp, breach.ZoneID)
	}
	eventually(t, 5*time.Second, "drone in RTL", func() bool { return swarm.Drones()[0].State().Mode == sim.ModeRTL })
}

// A drone pushed across the line gets the response within 1 s of simulated
// time. The simulator drops to real time for the measurement, so that the
// 10 Hz position stream does not dominate it.
func TestZonesPushedAcrossRespondsWithinOneSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv, swarm, ids := zoneServer(t, 1)
	us := ids[0]
	airborne(t, srv.Fleet, us, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.Fleet.SetParam(ctx, us, "SIM_SPEEDUP", 1); err != nil {
		t.Fatalf("SIM_SPEEDUP: %v", err)
	}
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 1 << 16})
	defer sub.Close()

	d := swarm.Drones()[0]
	pushed := d.State().SimTime
	d.Teleport(-1000, 0) // 350 m into Mexico
	var rtlAt time.Duration
	eventually(t, 10*time.Second, "drone in RTL", func() bool {
		st := d.State()
		rtlAt = st.SimTime
		return st.Mode == sim.ModeRTL
	})
	if took := rtlAt - pushed; took > time.Second {
		t.Errorf("RTL %s of simulated time after the push, want within 1 s", took)
	}
	breach := waitEvent(t, sub, 5*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.ZoneStateChanged)
		return ok && e.To == fleet.ZoneBreached
	}).(fleet.ZoneStateChanged)
	if breach.DroneID != us || breach.ZoneID != "mx-sandiego-tijuana" {
		t.Errorf("breach event %+v: want drone %s and zone mx-sandiego-tijuana", breach, us)
	}
	waitEvent(t, sub, 5*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.ZoneResponse)
		return ok && e.DroneID == us && e.ZoneID == "mx-sandiego-tijuana" && e.Action == fleet.ZoneRTL
	})
}

// A fence uploaded to a drone is enforced on board, with the server's link
// cut: the drone itself turns back at the line.
func TestZonesFenceEnforcedOnBoardWithLinkCut(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv, swarm, ids := zoneServer(t, 1)
	us := ids[0]
	airborne(t, srv.Fleet, us, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := srv.Watch.UploadFence(ctx, us, fleet.FenceOptions{SetType: true})
	if err != nil {
		t.Fatalf("upload fence: %v", err)
	}
	d := swarm.Drones()[0]
	if !rep.Enabled || rep.Items < 4 || !d.State().FenceEnabled {
		t.Fatalf("fence report %+v; on board enabled %t", rep, d.State().FenceEnabled)
	}

	d.Stop() // the server's link is gone; the drone flies on
	eventually(t, 10*time.Second, "server sees the link lost", func() bool {
		return droneState(t, srv.Fleet, us).LinkState == fleet.LinkStateLost
	})
	d.Teleport(-1000, 0)
	eventually(t, 10*time.Second, "on-board fence breach and RTL", func() bool {
		st := d.State()
		return st.FenceBreached && st.Mode == sim.ModeRTL && !st.Linked
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "server sees the vehicle's fence breach and RTL", func() bool {
		st := droneState(t, srv.Fleet, us)
		return st.LinkState == fleet.LinkStateUp && st.Fence.Count >= 1 && st.Mode == "RTL"
	})
}
