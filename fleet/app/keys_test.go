package app_test

import (
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

func TestSigningKeyManagement(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	// Without a live key store the Service manages no keys.
	if _, _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, false); fleet.ErrorCode(err) != fleet.Unsupported {
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
		if _, _, err := e.s.CreateSigningKey(c, e.who[who], 7, false); fleet.ErrorCode(err) != fleet.Forbidden {
			t.Errorf("%s: %v", who, err)
		}
	}
	if _, _, err := e.s.CreateSigningKey(c, e.who["admin"], 255, false); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("sys_id 255: %v", err)
	}
	if _, _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, true); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("rotate without a key: %v", err)
	}
	hex1, info, err := e.s.CreateSigningKey(c, e.who["admin"], 7, false)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := fleet.ParseSigningKey(hex1)
	if err != nil || info.SysID != 7 || len(info.Fingerprint) != 16 || strings.Contains(hex1, info.Fingerprint) {
		t.Fatalf("key %q info %+v err %v", hex1, info, err)
	}
	if got, ok := live.SigningKey(fleet.VehicleKey{Link: "any", SysID: 7}); !ok || got != k1 {
		t.Errorf("the live store does not sign with the new key")
	}
	if _, _, err := e.s.CreateSigningKey(c, e.who["admin"], 7, false); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("second create: %v", err)
	}
	hex2, info2, err := e.s.CreateSigningKey(c, e.who["admin"], 7, true)
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
