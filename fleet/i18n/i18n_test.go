package i18n

import (
	"slices"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// Every key exists in every language, with the same placeholders.
func TestCatalogueComplete(t *testing.T) {
	for _, a := range Langs {
		for _, b := range Langs {
			if a == b {
				continue
			}
			for _, k := range Keys(a) {
				if !Has(b, k) {
					t.Errorf("key %q is in %s but not in %s", k, a, b)
					continue
				}
				pa, pb := placeholders(catalog[a][k]), placeholders(catalog[b][k])
				if !slices.Equal(pa, pb) {
					t.Errorf("key %q: placeholders %v in %s, %v in %s", k, pa, a, pb, b)
				}
			}
		}
	}
	for _, l := range Langs {
		for _, k := range Keys(l) {
			if strings.TrimSpace(catalog[l][k]) == "" {
				t.Errorf("%s %q is empty", l, k)
			}
		}
	}
}

// Every event kind the application layer produces, and every error code,
// has a message.
func TestEveryKindAndCode(t *testing.T) {
	for _, k := range append(slices.Clone(app.EventKinds), app.KindLowBattery) {
		if !Has(En, "event."+k) {
			t.Errorf("event kind %q has no message", k)
		}
	}
	for _, c := range fleet.Codes {
		if !Has(En, "code."+string(c)) {
			t.Errorf("code %q has no message", c)
		}
	}
}

func TestParseAndEnv(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"es", Es, true}, {"es_MX.UTF-8", Es, true}, {"es-MX", Es, true}, {"en_US.UTF-8", En, true},
		{"C", En, false}, {"", En, false}, {"fr_FR", En, false},
	} {
		if got, ok := Parse(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	env := map[string]string{"LANG": "es_MX.UTF-8"}
	if got := FromEnv(func(k string) string { return env[k] }); got != Es {
		t.Errorf("LANG=es_MX: %v", got)
	}
	env["LC_MESSAGES"] = "en_US.UTF-8"
	if got := FromEnv(func(k string) string { return env[k] }); got != En {
		t.Errorf("LC_MESSAGES=en_US over LANG=es_MX: %v", got)
	}
	if got := FromEnv(func(string) string { return "" }); got != En {
		t.Errorf("no locale: %v", got)
	}
}

func TestRender(t *testing.T) {
	p := map[string]string{"zone_id": "apt-mmtj"}
	if got := Event(Es, app.KindZoneBreached, p); got != "salió de su espacio permitido (zona apt-mmtj)" {
		t.Errorf("es breach: %q", got)
	}
	if got := Event(En, app.KindZoneBreached, p); got != "left its allowed space (zone apt-mmtj)" {
		t.Errorf("en breach: %q", got)
	}
	// The vehicle's text as it came, with a translated explanation.
	got := Event(Es, app.KindStatusText, map[string]string{"text": "Arm: Need Position Estimate"})
	if !strings.Contains(got, "Arm: Need Position Estimate") || !strings.Contains(got, "espere al GPS") {
		t.Errorf("es status text: %q", got)
	}
	if got := Event(En, app.KindCommandResult, map[string]string{"command": "arm", "code": "denied", "message": "no"}); got != "arm: denied: no" {
		t.Errorf("failed command: %q", got)
	}
	if got := Event(En, app.KindMissionProgress, map[string]string{"state": "running", "seq": "5", "percent": "58.78999799811382"}); got != "mission running, item 5, 59 %" {
		t.Errorf("rounded percent: %q", got)
	}
	if got := Event(En, "brand_new_kind", map[string]string{"b": "2", "a": "1"}); got != "brand_new_kind a=1 b=2" {
		t.Errorf("unknown kind: %q", got)
	}
	if got := T(En, "ctl.done", "drone", "d1"); got != "d1: {command} accepted" {
		t.Errorf("missing parameter left as placeholder: %q", got)
	}
	if got := Msg(Es, "no.such.key", nil); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if got := Code(Es, "forbidden"); got != "no permitido" {
		t.Errorf("code: %q", got)
	}
}

// The store's own records render in both languages; a re-synced mission
// that differs says so.
func TestStoreRecords(t *testing.T) {
	same := Event(Es, app.KindMissionResynced, map[string]string{"mission_id": "m2", "stored_mission_id": "m1", "same": "true"})
	diff := Event(En, app.KindMissionResynced, map[string]string{"mission_id": "m2", "stored_mission_id": "m1", "same": "false", "difference": "item 3 moved"})
	stop := Event(Es, app.KindRecordingStopped, map[string]string{"err": "no space left on device"})
	if !strings.Contains(same, "es el plan guardado m1") || !strings.Contains(diff, "differs from the stored plan m1: item 3 moved") ||
		!strings.Contains(stop, "la grabación se detuvo") || strings.Contains(stop, "{") {
		t.Fatalf("renders: %q, %q, %q", same, diff, stop)
	}
}
