package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestSigningKeyManagement(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	// Without a live key store the Service manages no keys.
	if _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, app.KeyOptions{}); fleet.ErrorCode(err) != fleet.Unsupported {
		t.Fatalf("without Keys: %v", err)
	}
	live := &fleet.MemKeyStore{}
	e.s.Close()
	e.s = &app.Service{Fleet: e.f, Zones: e.s.Zones, Store: e.st, Now: e.c.Now, Keys: live}
	if err := e.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.s.Close)

	for _, who := range []string{"sup", "op-us"} {
		if _, err := e.s.CreateSigningKey(c, e.who[who], 7, app.KeyOptions{}); fleet.ErrorCode(err) != fleet.Forbidden {
			t.Errorf("%s: %v", who, err)
		}
	}
	if _, err := e.s.CreateSigningKey(c, e.who["admin"], 255, app.KeyOptions{}); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("sys_id 255: %v", err)
	}
	if _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, app.KeyOptions{Rotate: true}); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("rotate without a key: %v", err)
	}
	made, err := e.s.CreateSigningKey(c, e.who["admin"], 7, app.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hex1, info := made.Hex, made.Info
	k1, err := fleet.ParseSigningKey(hex1)
	if err != nil || info.SysID != 7 || len(info.Fingerprint) != 16 || strings.Contains(hex1, info.Fingerprint) {
		t.Fatalf("key %q info %+v err %v", hex1, info, err)
	}
	if got, ok := live.SigningKey(fleet.VehicleKey{Link: "any", SysID: 7}); !ok || got != k1 {
		t.Errorf("the live store does not sign with the new key")
	}
	if _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, app.KeyOptions{}); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("second create: %v", err)
	}
	made2, err := e.s.CreateSigningKey(c, e.who["admin"], 7, app.KeyOptions{Rotate: true})
	hex2, info2 := made2.Hex, made2.Info
	if err != nil || hex2 == hex1 || info2.Fingerprint == info.Fingerprint {
		t.Fatalf("rotate: %v", err)
	}
	k2, _ := fleet.ParseSigningKey(hex2)
	if got, _ := live.SigningKey(fleet.VehicleKey{SysID: 7}); got != k2 {
		t.Errorf("rotation did not reach the live store")
	}
	// Listing never reveals a key.
	list, err := e.s.ListSigningKeys(c, e.who["admin"])
	if err != nil || len(list) != 1 || list[0].Fingerprint != info2.Fingerprint {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := e.s.ListSigningKeys(c, e.who["sup"]); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("supervisor list: %v", err)
	}
	// The audit log has the fingerprints, never the keys.
	audit, _ := e.s.Audit(c, e.who["admin"], app.AuditQuery{})
	n := 0
	for _, a := range audit {
		if strings.Contains(a.Summary, hex1) || strings.Contains(a.Summary, hex2) {
			t.Errorf("audit reveals a key: %+v", a)
		}
		if strings.HasSuffix(a.Action, "SigningKey") && a.Code == "" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d key changes audited, want 2", n)
	}
	// A restarted Service loads the stored key into a fresh live store.
	live2 := &fleet.MemKeyStore{}
	s2 := &app.Service{Fleet: e.f, Zones: e.s.Zones, Store: e.st, Now: e.c.Now, Keys: live2}
	if err := s2.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok := live2.SigningKey(fleet.VehicleKey{SysID: 7}); !ok || got != k2 {
		t.Errorf("stored key not loaded at start")
	}
}

// signingVehicle is a fake vehicle whose link can be given a key.
type signingVehicle struct {
	*ft.Vehicle
	mu     sync.Mutex
	pushes []pushCall
	err    error // what SetSigningKey returns
}

type pushCall struct {
	key  fleet.SigningKey
	push bool
}

func (v *signingVehicle) SetSigningKey(_ context.Context, k fleet.SigningKey, push bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pushes = append(v.pushes, pushCall{k, push})
	return v.err
}

func (v *signingVehicle) calls() []pushCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]pushCall(nil), v.pushes...)
}

// Admins give drones keys over their live links: on create or rotate with
// Push, or with PushSigningKey; each is audited with the fingerprint, a
// failed push is reported per drone, and the key is never in the audit.
func TestSigningKeyPush(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	live := &fleet.MemKeyStore{}
	e.s.Close()
	e.s = &app.Service{Fleet: e.f, Zones: e.s.Zones, Store: e.st, Now: e.c.Now, Keys: live}
	if err := e.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.s.Close)
	v := &signingVehicle{Vehicle: ft.NewVehicle("test:link9", 9)}
	ft.Feed(e.f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := e.f.Drone("sysid-9"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("drone sysid-9 not heard")
		}
		time.Sleep(2 * time.Millisecond)
	}
	admin := e.who["admin"]

	if _, err := e.s.PushSigningKey(c, e.who["op-us"], "sysid-9"); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("operator push: %v", err)
	}
	if _, err := e.s.PushSigningKey(c, admin, "nobody"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("unknown drone: %v", err)
	}
	if _, err := e.s.PushSigningKey(c, admin, "sysid-9"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("no key yet: %v", err)
	}
	if len(v.calls()) != 0 {
		t.Fatalf("pushed without a key: %+v", v.calls())
	}

	// Create with push: the live drone of the system id gets the key.
	made, err := e.s.CreateSigningKey(c, admin, 9, app.KeyOptions{Push: true})
	if err != nil || len(made.Drones) != 1 || made.Drones[0].DroneID != "sysid-9" || made.Drones[0].Err != nil {
		t.Fatalf("create and push: %+v %v", made, err)
	}
	k1, _ := fleet.ParseSigningKey(made.Hex)
	if calls := v.calls(); len(calls) != 1 || calls[0].key != k1 || !calls[0].push {
		t.Fatalf("vehicle calls %+v", calls)
	}
	// A drone of another system id is left alone; a rotation without push
	// switches only signed live links (sysid-9's heartbeats are unsigned).
	made, err = e.s.CreateSigningKey(c, admin, 9, app.KeyOptions{Rotate: true})
	if err != nil || len(made.Drones) != 0 {
		t.Fatalf("rotate without push: %+v %v", made, err)
	}
	// A push the vehicle does not take is reported for the drone.
	v.mu.Lock()
	v.err = fleet.Errorf(fleet.Timeout, "not heard with the key")
	v.mu.Unlock()
	made, err = e.s.CreateSigningKey(c, admin, 9, app.KeyOptions{Rotate: true, Push: true})
	if err != nil || len(made.Drones) != 1 || fleet.ErrorCode(made.Drones[0].Err) != fleet.Timeout {
		t.Fatalf("failed push: %+v %v", made, err)
	}
	if _, err := e.s.PushSigningKey(c, admin, "sysid-9"); fleet.ErrorCode(err) != fleet.Timeout {
		t.Errorf("failed push again: %v", err)
	}
	v.mu.Lock()
	v.err = nil
	v.mu.Unlock()
	info, err := e.s.PushSigningKey(c, admin, "sysid-9")
	if err != nil || info.Fingerprint != made.Info.Fingerprint {
		t.Fatalf("push: %+v %v", info, err)
	}
	calls := v.calls()
	if last := calls[len(calls)-1]; !last.push || hexKey(last.key) != made.Hex {
		t.Errorf("the push did not give the stored key")
	}

	audit, _ := e.s.Audit(c, admin, app.AuditQuery{})
	pushes, failed := 0, 0
	for _, a := range audit {
		for _, call := range calls {
			if strings.Contains(a.Summary, hexKey(call.key)) {
				t.Errorf("audit reveals a key: %+v", a)
			}
		}
		if a.Action == "Admin.PushSigningKey" && a.DroneID == "sysid-9" {
			pushes++
			if a.Code == fleet.Timeout {
				failed++
			}
		}
	}
	if pushes != 5 || failed != 2 {
		t.Errorf("%d pushes audited (%d failed), want 5 (2)", pushes, failed)
	}
}

func hexKey(k fleet.SigningKey) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 64)
	for _, c := range k {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}
