package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// The hardening tests (issue 20): signing, impostors, floods and faults,
// over loopback against simulated drones.

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// rogueGCS is an unsigned ground station that can reach a drone's socket.
func rogueGCS(t *testing.T, addr string) *gomavlib.Node {
	t.Helper()
	n := &gomavlib.Node{
		Endpoints:       []gomavlib.EndpointConf{gomavlib.EndpointUDPClient{Address: addr}},
		Dialect:         ardupilotmega.Dialect,
		OutVersion:      gomavlib.V2,
		OutSystemID:     255, // it even pretends to be the server
		OutComponentID:  190,
		HeartbeatPeriod: 200 * time.Millisecond,
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n.Events() {
		}
	}()
	t.Cleanup(func() { n.Close(); <-done })
	return n
}

// A signed simulated drone, with the key given to serve in a key file:
// the server discovers it on a signed link and commands it; a rogue
// ground station's unsigned COMMAND_LONG is ignored by the drone.
func TestE2ESignedDroneIgnoresRogue(t *testing.T) {
	key, err := fleet.ParseSigningKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	swarm := mustSwarm(t, sim.Config{Drones: 1, Listen: "udp:127.0.0.1:0", BootDelay: -1,
		SigningKeys: map[uint8][]byte{1: key[:]}})
	drone := swarm.Drones()[0]

	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("# drone keys\n1="+testKeyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testServeConfig("udpout:" + drone.Addr())
	cfg.Signing.File = keyFile
	srv := mustServer(t, cfg)
	waitDiscovered(t, srv.Fleet, 1)
	if st := droneState(t, srv.Fleet, "sysid-1"); !st.Signed {
		t.Fatalf("drone not on a signed link: %+v", st.Link)
	}

	rogue := rogueGCS(t, drone.Addr())
	before := drone.Rejected()
	arm := &common.MessageCommandLong{TargetSystem: 1, TargetComponent: 1,
		Command: common.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1, Param2: 21196}
	for range 5 {
		rogue.WriteMessageAll(arm)
		time.Sleep(50 * time.Millisecond)
	}
	eventually(t, 3*time.Second, "the drone rejects the rogue's frames", func() bool { return drone.Rejected() >= before+5 })
	if drone.State().Armed || droneState(t, srv.Fleet, "sysid-1").Armed {
		t.Fatal("the rogue armed a signed drone")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Fleet.Arm(ctx, "sysid-1", fleet.ArmOptions{Wait: 20 * time.Second, RetryInterval: 200 * time.Millisecond}); err != nil {
		t.Fatalf("the server's signed arm: %v", err)
	}
	eventually(t, 3*time.Second, "armed", func() bool { return drone.State().Armed })
	if st := srv.Transport.Stats(); st.Unsigned+st.BadSignatures+st.Replays != 0 {
		t.Errorf("the real drone's frames were rejected: %+v", st)
	}
}

// Bad signing flags fail startup with a message that never repeats the key.
func TestSigningFlagErrors(t *testing.T) {
	secret := strings.Repeat("ab", 31) + "zz"
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("1="+testKeyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"bad hex", []string{"--signing-key", "1=" + secret}},
		{"no sysid", []string{"--signing-key", testKeyHex}},
		{"sysid 255", []string{"--signing-key", "255=" + testKeyHex}},
		{"duplicate", []string{"--signing-key", "1=" + testKeyHex, "--signing-key", "1=" + testKeyHex}},
		{"duplicate in the file", []string{"--signing-key", "1=" + testKeyHex, "--signing-key-file", keyFile}},
		{"missing file", []string{"--signing-key-file", filepath.Join(t.TempDir(), "none")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testServeConfig("udp:127.0.0.1:0")
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			finish := signingFlags(fs, &cfg.Signing)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			err := finish()
			if err == nil {
				err = validateServe(&cfg)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), testKeyHex) {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
	sc := defaultSimConfig()
	sc.Signing.Keys = []string{testKeyHex}
	if ks, err := sc.Signing.simKeys(); err != nil || len(ks[0]) != 32 {
		t.Errorf("sim --signing-key HEX for every drone: %v", err)
	}
}
