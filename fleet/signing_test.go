package fleet_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestSigningKeyNeverPrinted(t *testing.T) {
	k, err := fleet.ParseSigningKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), sb.String()} {
		if strings.Contains(strings.ToLower(s), "abab") || strings.Contains(s, "171") {
			t.Errorf("key revealed: %s", s)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := fleet.ParseSigningKey(bad); fleet.ErrorCode(err) != fleet.Invalid || (len(bad) > 8 && strings.Contains(err.Error(), bad)) {
			t.Errorf("ParseSigningKey(%q) = %v", bad, err)
		}
	}
	var s fleet.MemKeyStore
	s.SetSysID(3, k)
	other := k
	other[0] = 1
	s.SetKey(fleet.VehicleKey{Link: "tcp:x", SysID: 3}, other)
	if got, ok := s.SigningKey(fleet.VehicleKey{Link: "udp:y", SysID: 3}); !ok || got != k {
		t.Errorf("by sysid: %v", ok)
	}
	if got, ok := s.SigningKey(fleet.VehicleKey{Link: "tcp:x", SysID: 3}); !ok || got != other {
		t.Errorf("by key: %v", ok)
	}
	if _, ok := s.SigningKey(fleet.VehicleKey{SysID: 4}); ok {
		t.Errorf("key for an unsigned vehicle")
	}
}

// Security notices become alerts, at most one per drone and kind every 10 s,
// counting what was held back.
func TestSecurityAlerts(t *testing.T) {
	f, clock := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	for range 5 {
		f.Handle(v, fleet.SecurityNotice{Kind: fleet.SecurityUnsigned, Count: 3})
	}
	a, _ := waitFor[fleet.SecurityAlert](ev, nil)
	if a.DroneID != "sysid-1" || a.Kind != fleet.SecurityUnsigned || a.Count != 3 || a.Link != "l" {
		t.Errorf("alert %+v", a)
	}
	clock.Advance(11 * time.Second)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	f.Handle(v, fleet.SecurityNotice{Kind: fleet.SecurityUnsigned, Count: 1})
	a, _ = waitFor[fleet.SecurityAlert](ev, nil)
	if a.Count != 13 {
		t.Errorf("second alert counts %d, want 12 held + 1", a.Count)
	}
}

// FuzzReadSigningKeys: any key file either loads keys for system ids
// 1..254 or fails with Invalid, with an error that never repeats a line.
func FuzzReadSigningKeys(f *testing.F) {
	key := strings.Repeat("0f", 32)
	f.Add("1=" + key + "\n")
	f.Add("# keys\n\n2=" + key + "\n3 = " + key + "\n")
	f.Add("1=" + key[:63] + "\n")
	f.Add("300=" + key)
	f.Add("1=" + key + "\n1=" + key)
	f.Fuzz(func(t *testing.T, content string) {
		ks, err := fleet.ReadSigningKeys(strings.NewReader(content), "keys")
		if err != nil {
			if fleet.ErrorCode(err) != fleet.Invalid {
				t.Fatalf("error %v is not Invalid", err)
			}
			for _, line := range strings.Split(content, "\n") {
				if len(line) >= 16 && strings.Contains(err.Error(), line) {
					t.Fatalf("error %q repeats the line %q", err, line)
				}
			}
			return
		}
		for sys := range ks {
			if sys < 1 || sys > 254 {
				t.Fatalf("key for system id %d", sys)
			}
		}
	})
}
