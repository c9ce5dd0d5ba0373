package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/sim"
)

// An admin makes a signing key with ctl; a simulated drone given that key
// is then heard on a signed link, the key is listed only by fingerprint,
// and a restarted server on the same file still signs with it.
func TestCtlSigningKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary: skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "centinela.db")
	e := mustGRPC(t, 1, func(c *server.Config) {
		c.Store.DB = db
		c.MAVLink = []string{"udp:127.0.0.1:0"}
	})
	srvFlag := "--server=" + e.addr
	admin := []string{"CENTINELA_TOKEN=" + e.admin, "LANG=en_US.UTF-8"}

	if _, errs, code := runCtlBinary(t, []string{"CENTINELA_TOKEN=" + e.own}, "keys", "create", "7", srvFlag); code != 1 || !strings.Contains(errs, "not allowed") {
		t.Fatalf("operator keys create: exit %d: %q", code, errs)
	}
	out, errs, code := runCtlBinary(t, admin, "keys", "create", "7", "--json", srvFlag)
	if code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errs)
	}
	var made map[string]any
	if err := json.Unmarshal([]byte(out), &made); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	keyHex, _ := made["key_hex"].(string)
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %v", keyHex, err)
	}
	if _, _, code := runCtlBinary(t, admin, "keys", "create", "7", srvFlag); code != 1 {
		t.Errorf("second create: exit %d, want 1 (rotate instead)", code)
	}
	out, _, code = runCtlBinary(t, admin, "keys", "ls", srvFlag)
	if code != 0 || !strings.Contains(out, made["fingerprint"].(string)) || strings.Contains(out, keyHex) {
		t.Fatalf("keys ls: exit %d:\n%s", code, out)
	}

	// A drone with system id 7 and the key: heard signed.
	swarm := mustSwarm(t, sim.Config{Drones: 1, SysIDBase: 7, Connect: "udpout:" + e.srv.MAVLinkAddr(0).String(),
		SigningKeys: map[uint8][]byte{7: key}, BootDelay: -1})
	defer swarm.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := e.srv.Fleet.Drone("sysid-7")
		if err == nil && d.Signed && d.HasPosition {
			break
		}
		if time.Now().After(deadline) {
			for _, d := range e.srv.Fleet.Drones() {
				t.Logf("drone %s signed=%t pos=%t link=%s", d.ID, d.Signed, d.HasPosition, d.Link)
			}
			t.Logf("transport %+v", e.srv.Transport.Stats())
			t.Fatalf("sysid-7 not heard on a signed link")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The key outlives the server.
	swarm.Close()
	e.srv.Close()
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.Store.DB = db
	srv2 := mustServer(t, cfg)
	keys, err := srv2.App.ListSigningKeys(t.Context(), app.Principal{Role: app.RoleAdmin, Label: "test-root"})
	if err != nil || len(keys) != 1 || keys[0].SysID != 7 || keys[0].Fingerprint != made["fingerprint"] {
		t.Fatalf("after restart: %+v %v", keys, err)
	}
	swarm2 := mustSwarm(t, sim.Config{Drones: 1, SysIDBase: 7, Connect: "udpout:" + srv2.MAVLinkAddr(0).String(),
		SigningKeys: map[uint8][]byte{7: key}, BootDelay: -1})
	defer swarm2.Close()
	eventually(t, 15*time.Second, "sysid-7 signed after the restart", func() bool {
		d, err := srv2.Fleet.Drone("sysid-7")
		return err == nil && d.Signed
	})
}

// ctlInProcess runs ctl in this process as the holder of token.
func ctlInProcess(t *testing.T, addr, token string, args ...string) (string, string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	env := map[string]string{"CENTINELA_TOKEN": token, "LANG": "en_US.UTF-8"}
	err := runCtlEnv(t.Context(), append(args, "--server="+addr), &out, &errs, func(k string) string { return env[k] })
	return out.String(), errs.String(), err
}

// Keys reach a live drone without a restart: an unsigned simulated drone is
// given a new key with `keys create --push` over its link and is heard
// signed; `keys rotate --push` then replaces the key on the live link: the
// drone stays the same drone on the same link, signed with the new key and
// commanded, while frames signed with the old key are refused; `keys push`
// gives it the stored key again.
func TestE2EKeyPushRotateLive(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	e := mustGRPC(t, 0, func(c *server.Config) {
		c.Store.DB = filepath.Join(t.TempDir(), "centinela.db")
		c.MAVLink = []string{"udp:127.0.0.1:0"}
	})
	addr := e.srv.MAVLinkAddr(0).String()
	swarm := mustSwarm(t, sim.Config{Drones: 1, SysIDBase: 7, Connect: "udpout:" + addr, BootDelay: -1})
	drone := swarm.Drones()[0]
	eventually(t, 15*time.Second, "sysid-7 heard unsigned with a position", func() bool {
		d, err := e.srv.Fleet.Drone("sysid-7")
		return err == nil && d.HasPosition && !d.Signed
	})
	link := droneState(t, e.srv.Fleet, "sysid-7").Link

	keyOf := func(out string) []byte {
		t.Helper()
		k, err := hex.DecodeString(strings.TrimSpace(out))
		if err != nil || len(k) != 32 {
			t.Fatalf("key %q: %v", out, err)
		}
		return k
	}
	signedWith := func(what string, k []byte) {
		t.Helper()
		eventually(t, 5*time.Second, what, func() bool {
			dk, ok := drone.Signing()
			d, err := e.srv.Fleet.Drone("sysid-7")
			return ok && bytes.Equal(dk, k) && err == nil && d.Signed && d.LinkState == fleet.LinkStateUp
		})
	}

	out, errs, err := ctlInProcess(t, e.addr, e.admin, "keys", "create", "7", "--push")
	if err != nil || !strings.Contains(errs, "drone sysid-7: its link now signs with the new key") {
		t.Fatalf("keys create --push: %v\n%s", err, errs)
	}
	k1 := keyOf(out)
	signedWith("the drone signs with the pushed key", k1)

	out, errs, err = ctlInProcess(t, e.addr, e.admin, "keys", "rotate", "7", "--push")
	if err != nil || !strings.Contains(errs, "drone sysid-7: its link now signs with the new key") {
		t.Fatalf("keys rotate --push: %v\n%s", err, errs)
	}
	k2 := keyOf(out)
	signedWith("the drone signs with the rotated key", k2)
	if ds := e.srv.Fleet.Drones(); len(ds) != 1 || ds[0].Link != link {
		t.Fatalf("the drone did not stay on its link: %+v", ds)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := e.srv.Fleet.Arm(ctx, "sysid-7", fleet.ArmOptions{Wait: 20 * time.Second, RetryInterval: 200 * time.Millisecond}); err != nil {
		t.Fatalf("arm after the rotation: %v", err)
	}
	eventually(t, 3*time.Second, "armed", func() bool { return drone.State().Armed })

	// Frames signed with the old key are refused (from another source: the
	// same link's grace period is mavlink's TestSigningKeyPushAndGrace).
	before := e.srv.Transport.Stats().BadSignatures
	old := &gomavlib.Node{
		Endpoints:  []gomavlib.EndpointConf{gomavlib.EndpointUDPClient{Address: addr}},
		Dialect:    ardupilotmega.Dialect,
		OutVersion: gomavlib.V2, OutSystemID: 7, OutComponentID: 1,
		HeartbeatPeriod: 100 * time.Millisecond, HeartbeatSystemType: 2, HeartbeatAutopilotType: 3,
		OutKey: frame.NewV2Key(k1),
	}
	if err := old.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	eventually(t, 3*time.Second, "old-key frames refused", func() bool { return e.srv.Transport.Stats().BadSignatures >= before+3 })
	if n := len(e.srv.Fleet.Drones()); n != 1 {
		t.Errorf("%d drones: an old-key sender became one", n)
	}

	out, _, err = ctlInProcess(t, e.addr, e.admin, "keys", "push", "sysid-7")
	if err != nil || !strings.Contains(out, "drone sysid-7 took the key of system id 7") {
		t.Fatalf("keys push: %v %q", err, out)
	}
	signedWith("still signed with the stored key", k2)
}

// A signed frame recorded off the air and replayed to the server after it
// restarted on the same file is refused and counted: the newest timestamp
// of each system id outlives the restart. A fresh frame with the same key
// is accepted.
func TestE2ESignedReplayAfterRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "centinela.db")
	key, err := fleet.ParseSigningKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	start := func() *server.Server {
		cfg := testServeConfig("udp:127.0.0.1:0")
		cfg.Store.DB = db
		cfg.Signing.Keys = map[uint8]fleet.SigningKey{7: key}
		return mustServer(t, cfg)
	}
	// A vehicle's signed heartbeats, as a radio would carry them.
	drw, err := dialect.NewReadWriter(ardupilotmega.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &frame.Writer{ByteWriter: &buf, DialectRW: drw, OutVersion: frame.V2, OutSystemID: 7, OutComponentID: 1, OutKey: frame.NewV2Key(key[:])}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	heartbeat := func() []byte {
		buf.Reset()
		if err := w.WriteMessage(&common.MessageHeartbeat{Type: 2, Autopilot: 3, SystemStatus: 3, MavlinkVersion: 3}); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes())
	}
	send := func(srv *server.Server, b []byte) {
		t.Helper()
		c, err := net.DialUDP("udp", nil, srv.MAVLinkAddr(0).(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}

	srv := start()
	recorded := heartbeat()
	send(srv, recorded)
	eventually(t, 5*time.Second, "sysid-7 heard signed", func() bool {
		d, err := srv.Fleet.Drone("sysid-7")
		return err == nil && d.Signed
	})
	send(srv, heartbeat())
	srv.Close()

	srv2 := start()
	send(srv2, recorded)
	eventually(t, 3*time.Second, "the replay refused and counted", func() bool { return srv2.Transport.Stats().Replays == 1 })
	if _, err := srv2.Fleet.Drone("sysid-7"); err == nil {
		t.Fatal("the replayed heartbeat made a drone")
	}
	send(srv2, heartbeat())
	eventually(t, 3*time.Second, "a fresh signed heartbeat accepted", func() bool {
		d, err := srv2.Fleet.Drone("sysid-7")
		return err == nil && d.Signed
	})
}
