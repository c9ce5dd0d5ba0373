package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// These tests run the real thing over loopback: the server (fleet + MAVLink
// transport) against simulated drones that speak MAVLink over real UDP and
// TCP sockets.

const testSpeedup = 20

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("CENTINELA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// mustServer starts serve with cfg and closes it at cleanup.
func mustServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	srv, err := server.Start(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// mustSwarm starts simulated drones and closes them at cleanup.
func mustSwarm(t *testing.T, cfg sim.Config) *sim.Swarm {
	t.Helper()
	if cfg.Speedup == 0 {
		cfg.Speedup = testSpeedup
	}
	if cfg.BootDelay == 0 {
		cfg.BootDelay = 2 * time.Second
	}
	cfg.Logger = testLogger(t)
	s := sim.New(cfg)
	if err := s.Initialize(); err != nil {
		t.Fatalf("start sim: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func testServeConfig(endpoints ...string) server.Config {
	cfg := server.DefaultConfig()
	cfg.MAVLink = endpoints
	cfg.LinkTimeout = 1500 * time.Millisecond
	cfg.StreamHz = 10
	return cfg
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func droneState(t *testing.T, f *fleet.Fleet, id string) fleet.DroneState {
	t.Helper()
	d, err := f.Drone(id)
	if err != nil {
		t.Fatalf("drone %s: %v", id, err)
	}
	return d
}

// waitDiscovered waits until the fleet knows n drones with a position and
// returns their ids.
func waitDiscovered(t *testing.T, f *fleet.Fleet, n int) []string {
	t.Helper()
	var ids []string
	eventually(t, 20*time.Second, fmt.Sprintf("%d drones discovered with a position", n), func() bool {
		ids = ids[:0]
		for _, d := range f.Drones() {
			if d.HasPosition && d.LinkState == fleet.LinkStateUp {
				ids = append(ids, d.ID)
			}
		}
		return len(ids) == n
	})
	return ids
}

// flyPattern arms drone id, takes off to 30 m, goes 120 m north-east and
// lands, checking each step against the fleet's view of the drone.
func flyPattern(t *testing.T, f *fleet.Fleet, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := f.Arm(ctx, id, fleet.ArmOptions{Wait: 30 * time.Second, RetryInterval: 200 * time.Millisecond}); err != nil {
		t.Errorf("%s: arm: %v", id, err)
		return
	}
	if err := f.Takeoff(ctx, id, 30); err != nil {
		t.Errorf("%s: takeoff: %v", id, err)
		return
	}
	ok := poll(ctx, func() bool {
		d, _ := f.Drone(id)
		return d.Position.RelAlt > 29 && d.Position.RelAlt < 31 && abs(d.Climb) < 0.2
	})
	if d, _ := f.Drone(id); !ok {
		t.Errorf("%s: did not settle at 30 ± 1 m: at %.2f m climbing %.2f m/s", id, d.Position.RelAlt, d.Climb)
		return
	}

	start, _ := f.Drone(id)
	target := offset(start.Position, 100, 60)
	target.RelAlt = 30
	if err := f.GoTo(ctx, id, target, fleet.GoToOptions{}); err != nil {
		t.Errorf("%s: go-to: %v", id, err)
		return
	}
	ok = poll(ctx, func() bool {
		d, _ := f.Drone(id)
		return distance(d.Position, target) < 2 && d.GroundSpeed < 0.5
	})
	if d, _ := f.Drone(id); !ok {
		t.Errorf("%s: go-to ended %.1f m from the target", id, distance(d.Position, target))
		return
	}

	if err := f.Land(ctx, id); err != nil {
		t.Errorf("%s: land: %v", id, err)
		return
	}
	ok = poll(ctx, func() bool {
		d, _ := f.Drone(id)
		return !d.Armed && d.Position.RelAlt < 0.5
	})
	if d, _ := f.Drone(id); !ok {
		t.Errorf("%s: after land: armed %t at %.1f m", id, d.Armed, d.Position.RelAlt)
	}
}

func poll(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// flyAll flies the pattern with every drone at once.
func flyAll(t *testing.T, f *fleet.Fleet, ids []string) {
	done := make(chan struct{}, len(ids))
	for _, id := range ids {
		go func() {
			defer func() { done <- struct{}{} }()
			flyPattern(t, f, id)
		}()
	}
	for range ids {
		<-done
	}
}

func TestEndToEndUDP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	swarm := mustSwarm(t, sim.Config{Drones: 3, Connect: "udpout:" + srv.MAVLinkAddr(0).String(), Seed: 7})

	ids := waitDiscovered(t, srv.Fleet, 3)
	flyAll(t, srv.Fleet, ids)
	if t.Failed() {
		return
	}

	// A drone whose socket stops goes LOST within the link timeout and is
	// regained when it comes back.
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{})
	defer sub.Close()
	victim := swarm.Drones()[1]
	victimID := ""
	for _, d := range srv.Fleet.Drones() {
		if d.SysID == victim.SysID() {
			victimID = d.ID
		}
	}
	stopped := time.Now()
	victim.Stop()
	lost := waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.LinkLost)
		return ok && e.DroneID == victimID
	})
	if took := time.Since(stopped); took > srv.Config().LinkTimeout+1500*time.Millisecond {
		t.Errorf("LOST after %s, link timeout %s", took, srv.Config().LinkTimeout)
	}
	_ = lost
	if st := droneState(t, srv.Fleet, victimID); st.LinkState != fleet.LinkStateLost {
		t.Errorf("state after LinkLost: %s", st.LinkState)
	}
	for _, d := range srv.Fleet.Drones() {
		if d.ID != victimID && d.LinkState != fleet.LinkStateUp {
			t.Errorf("%s went %s with %s", d.ID, d.LinkState, victimID)
		}
	}
	if err := victim.Start(); err != nil {
		t.Fatalf("restart drone: %v", err)
	}
	waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.LinkRegained)
		return ok && e.DroneID == victimID
	})
	eventually(t, 5*time.Second, "regained drone up with position", func() bool {
		st := droneState(t, srv.Fleet, victimID)
		return st.LinkState == fleet.LinkStateUp && st.HasPosition
	})
}

// waitEvent reads sub until match accepts an event (fleet.NextEvent).
func waitEvent(t *testing.T, sub *fleet.Subscription, d time.Duration, match func(fleet.Event) bool) fleet.Event {
	t.Helper()
	ev, err := fleet.NextEvent(opCtx(t, d), sub, match)
	if err != nil {
		t.Fatalf("no matching event within %s: %v", d, err)
	}
	return ev
}

// A drone named on the command line is known by its name.
func TestEndToEndNamedDrone(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.DroneNames.BySysID = map[uint8]string{2: "halcon-tijuana"}
	srv := mustServer(t, cfg)
	mustSwarm(t, sim.Config{Drones: 2, Connect: "udpout:" + srv.MAVLinkAddr(0).String()})
	ids := waitDiscovered(t, srv.Fleet, 2)
	if !slices.Contains(ids, "halcon-tijuana") || !slices.Contains(ids, "sysid-1") {
		t.Fatalf("drone ids %v, want sysid-1 and halcon-tijuana", ids)
	}
	if d := droneState(t, srv.Fleet, "halcon-tijuana"); d.SysID != 2 || d.Name != "halcon-tijuana" {
		t.Errorf("named drone: sysid %d name %q", d.SysID, d.Name)
	}
}

func TestEndToEndTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	// Each simulated drone is a TCP server, like ArduPilot SITL; the server
	// connects to each.
	swarm := mustSwarm(t, sim.Config{Drones: 3, Listen: "tcpin:127.0.0.1:0", Seed: 11})
	var endpoints []string
	for _, d := range swarm.Drones() {
		endpoints = append(endpoints, "tcp:"+d.Addr())
	}
	srv := mustServer(t, testServeConfig(endpoints...))
	ids := waitDiscovered(t, srv.Fleet, 3)
	flyAll(t, srv.Fleet, ids)
}

func TestEndToEndGarbageInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	addr := srv.MAVLinkAddr(0).String()
	mustSwarm(t, sim.Config{Drones: 3, Connect: "udpout:" + addr, Seed: 3})
	ids := waitDiscovered(t, srv.Fleet, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, id := range ids {
		if err := srv.Fleet.Arm(ctx, id, fleet.ArmOptions{Wait: 30 * time.Second, RetryInterval: 200 * time.Millisecond}); err != nil {
			t.Fatalf("arm %s: %v", id, err)
		}
		if err := srv.Fleet.Takeoff(ctx, id, 40); err != nil {
			t.Fatalf("takeoff %s: %v", id, err)
		}
	}

	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := map[string]fleet.DroneState{}
	for _, id := range ids {
		before[id] = droneState(t, srv.Fleet, id)
	}
	parseBefore := srv.Transport.Stats().ParseErrors

	// Random bytes, frames with a wrong checksum, truncated frames, frames of
	// unknown messages, for two seconds.
	rng := rand.New(rand.NewSource(1))
	for _, p := range garbage(rng, 400) {
		if _, err := conn.Write(p); err != nil {
			t.Fatalf("send garbage: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	eventually(t, 10*time.Second, "parse errors counted", func() bool {
		return srv.Transport.Stats().ParseErrors > parseBefore+50
	})
	for _, id := range ids {
		eventually(t, 10*time.Second, id+" still updating", func() bool {
			d := droneState(t, srv.Fleet, id)
			return d.LinkState == fleet.LinkStateUp && d.LastSeen.After(before[id].LastSeen.Add(time.Second)) &&
				d.Position.RelAlt > before[id].Position.RelAlt+1
		})
	}
	if n := len(srv.Fleet.Drones()); n != 3 {
		t.Errorf("fleet has %d drones after garbage, want 3 (garbage must not create drones)", n)
	}
}

// garbage returns n datagrams of malformed MAVLink.
func garbage(rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		var p []byte
		switch i % 4 {
		case 0: // random bytes
			p = make([]byte, 1+rng.Intn(300))
			rng.Read(p)
		case 1: // a MAVLink 2 heartbeat from sysid 99 with a wrong checksum
			p = []byte{0xfd, 9, 0, 0, byte(i), 99, 1, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0x59, 3, 3, 0xde, 0xad}
		case 2: // truncated frame
			p = []byte{0xfd, 30, 0, 0, byte(i), 98, 1, 33, 0, 0, 1, 2, 3}
		case 3: // unknown message id 0xfffff0
			p = []byte{0xfd, 1, 0, 0, byte(i), 97, 1, 0xf0, 0xff, 0xff, 7, 0x12, 0x34}
		}
		out = append(out, p)
	}
	return out
}

func TestServeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing to serve", nil, "nothing to serve"},
		{"bad endpoint", []string{"--mavlink", "udp-in:1.2.3.4:5"}, "udp"},
		{"bad sysid", []string{"--mavlink", "udp:127.0.0.1:0", "--sysid", "0"}, "--sysid"},
		{"bad speedup", []string{"--sim", "1", "--sim-speedup", "-2"}, "--sim-speedup"},
		{"bad home", []string{"--sim", "1", "--sim-home", "91,0,0"}, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := run(context.Background(), append([]string{"serve"}, tc.args...), &out, &errb)
			if code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tc.want)
			}
		})
	}
}

func TestPortInUseFailsFast(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = server.Start(testServeConfig("udp:"+pc.LocalAddr().String()), testLogger(t))
	if err == nil {
		t.Fatal("server started on a port in use")
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			var out, errb strings.Builder
			if code := run(context.Background(), []string{c.name, "--help"}, &out, &errb); code != 0 {
				t.Fatalf("exit %d", code)
			}
			if !strings.Contains(errb.String(), "Usage: centinela "+c.name) {
				t.Errorf("help of %s: %q", c.name, errb.String())
			}
		})
	}
}
