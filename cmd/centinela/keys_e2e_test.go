package main

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
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
