package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
)

// runCtlBinary runs the built binary (the test executable acting as
// centinela, see TestMain) as "centinela ctl ARGS" with env, and returns
// its output and exit status.
func runCtlBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	for _, a := range args {
		if strings.ContainsAny(a, " \t") {
			t.Fatalf("argument %q: CENTINELA_TEST_ARGS splits on spaces", a)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CENTINELA_TEST_MAIN=1", "CENTINELA_TEST_ARGS=ctl "+strings.Join(args, " "), "LC_ALL=", "LC_MESSAGES=")
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestCtlBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary: skipped with -short")
	}
	// Slower simulated time than other tests: ArduCopter disarms 10 s
	// (simulated) after arming without a takeoff, and each ctl here is a
	// new process.
	e := mustGRPC(t, 2, func(c *server.Config) { c.SimSpeedup = 2 })
	srvFlag := "--server=" + e.addr
	as := func(token string, lang string) []string {
		return []string{"CENTINELA_TOKEN=" + token, "LANG=" + lang}
	}
	op, admin := as(e.own, "en_US.UTF-8"), as(e.admin, "en_US.UTF-8")

	t.Run("drones ls --json", func(t *testing.T) {
		out, errs, code := runCtlBinary(t, op, "drones", "ls", "--json", srvFlag)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var ds []map[string]any
		if err := json.Unmarshal([]byte(out), &ds); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(ds) != 2 {
			t.Fatalf("%d drones", len(ds))
		}
		for _, k := range []string{"id", "agency", "link", "mode", "armed", "lat", "lon", "alt_m", "battery_pct"} {
			if _, ok := ds[0][k]; !ok {
				t.Errorf("no %q in %v", k, ds[0])
			}
		}
		if ds[0]["id"] != "sysid-1" || ds[0]["link"] != "up" || ds[0]["agency"] != testAgency {
			t.Errorf("drone %v", ds[0])
		}
	})
	t.Run("drones ls in Spanish", func(t *testing.T) {
		out, errs, code := runCtlBinary(t, as(e.sup, "es_MX.UTF-8"), "drones", "ls", srvFlag)
		if code != 0 || !strings.Contains(out, "DRON") || !strings.Contains(out, "AGENCIA") || !strings.Contains(out, "sysid-2") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		// --lang wins over LANG; --json stays language-neutral.
		out, _, _ = runCtlBinary(t, as(e.sup, "es_MX.UTF-8"), "drones", "ls", "--lang", "en", srvFlag)
		if !strings.Contains(out, "DRONE") || strings.Contains(out, "AGENCIA") {
			t.Fatalf("--lang en:\n%s", out)
		}
		out, _, _ = runCtlBinary(t, as(e.sup, "es_MX.UTF-8"), "drones", "show", "sysid-1", "--json", srvFlag)
		var d map[string]any
		if err := json.Unmarshal([]byte(out), &d); err != nil || d["link"] != "up" {
			t.Fatalf("show --json: %v %s", err, out)
		}
	})
	t.Run("watch --json", func(t *testing.T) {
		out, errs, code := runCtlBinary(t, op, "watch", "--json", "--count", "4", srvFlag)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 4 {
			t.Fatalf("exit %d, %d lines: %s%s", code, len(lines), out, errs)
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || (m["drone"] == nil && m["event"] == nil) {
				t.Fatalf("line %q: %v", l, err)
			}
		}
	})
	t.Run("errors are one line with the reason", func(t *testing.T) {
		_, errs, code := runCtlBinary(t, as(e.sup, "es_MX.UTF-8"), "drones", "show", "nosuch", srvFlag)
		if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "no encontrado") {
			t.Fatalf("exit %d: %q", code, errs)
		}
		_, errs, code = runCtlBinary(t, op, "goto", "sysid-1", "NaN", "-117.0", "--alt", "20", srvFlag)
		if code != 1 || !strings.Contains(errs, "invalid request") || !strings.Contains(errs, "lat") {
			t.Fatalf("NaN: exit %d: %q", code, errs)
		}
		_, errs, code = runCtlBinary(t, as(e.sup, "en"), "land", "sysid-1", srvFlag)
		if code != 1 || !strings.Contains(errs, "not allowed") {
			t.Fatalf("supervisor land: exit %d: %q", code, errs)
		}
		_, errs, code = runCtlBinary(t, []string{"CENTINELA_TOKEN="}, "drones", "ls", srvFlag)
		if code != 1 || !strings.Contains(errs, "not authenticated") {
			t.Fatalf("no token: exit %d: %q", code, errs)
		}
	})
	t.Run("alerts and ack", func(t *testing.T) {
		// A go-to far outside the allowed space is refused by the zone
		// guard: a refused command, so an alert.
		if _, errs, code := runCtlBinary(t, op, "goto", "sysid-2", "19.4326", "-99.1332", "--alt", "20", srvFlag); code != 1 {
			t.Fatalf("goto Mexico City: exit %d: %s", code, errs)
		}
		var id string
		eventually(t, 10*time.Second, "an alert for sysid-2", func() bool {
			out, _, _ := runCtlBinary(t, op, "alerts", "--unacked", "--json", srvFlag)
			var as []map[string]any
			if json.Unmarshal([]byte(out), &as) != nil {
				return false
			}
			for _, a := range as {
				ev, _ := a["event"].(map[string]any)
				if ev["drone_id"] == "sysid-2" && ev["kind"] == "command_result" {
					id, _ = a["id"].(string)
				}
			}
			return id != ""
		})
		if _, errs, code := runCtlBinary(t, as(e.sup, "en"), "alerts", "ack", id, srvFlag); code != 1 || !strings.Contains(errs, "not allowed") {
			t.Errorf("supervisor ack: exit %d: %q", code, errs)
		}
		if out, errs, code := runCtlBinary(t, op, "alerts", "ack", id, srvFlag); code != 0 || !strings.Contains(out, id) {
			t.Fatalf("ack: exit %d: %s%s", code, out, errs)
		}
		if _, _, code := runCtlBinary(t, op, "alerts", "ack", id, srvFlag); code != 1 {
			t.Errorf("second ack: exit %d", code)
		}
		out, _, _ := runCtlBinary(t, as(e.sup, "es_MX.UTF-8"), "alerts", srvFlag)
		if !strings.Contains(out, "ALERTA") || !strings.Contains(out, id) {
			t.Errorf("alerts in Spanish:\n%s", out)
		}
	})
	t.Run("usage errors exit 2", func(t *testing.T) {
		for _, args := range [][]string{{"takeoff"}, {"nosuchcommand"}, {"goto", "sysid-1", "north", "west"}, {"drones", "ls", "--bogus"}, {"takeoff", "sysid-1"}} {
			_, errs, code := runCtlBinary(t, op, append(args, srvFlag)...)
			if code != 2 || errs == "" {
				t.Errorf("%v: exit %d: %q", args, code, errs)
			}
		}
	})
	t.Run("arm takeoff emergency", func(t *testing.T) {
		out, errs, code := runCtlBinary(t, op, "arm", "sysid-1", "--wait", "20s", srvFlag)
		if code != 0 || !strings.Contains(out, "sysid-1: armed") {
			t.Fatalf("arm: exit %d: %s%s", code, out, errs)
		}
		if _, errs, code := runCtlBinary(t, op, "takeoff", "sysid-1", "--alt", "12", srvFlag); code != 0 {
			t.Fatalf("takeoff: exit %d: %s", code, errs)
		}
		eventually(t, 30*time.Second, "climbed", func() bool { return e.drone(t, "sysid-1").Position.RelAlt > 8 })
		out, errs, code = runCtlBinary(t, as(e.admin, "en"), "emergency", "land", "--all", "--json", srvFlag)
		if code != 0 {
			t.Fatalf("emergency: exit %d: %s", code, errs)
		}
		var r struct {
			Results []struct{ DroneID, Outcome string } `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Results) != 2 {
			t.Fatalf("emergency --json: %v %s", err, out)
		}
		eventually(t, 10*time.Second, "landing", func() bool { return e.drone(t, "sysid-1").Mode == "LAND" })
	})
	t.Run("mission upload", func(t *testing.T) {
		home := e.drone(t, "sysid-2").Home
		mission := map[string]any{"items": []map[string]any{
			{"command": 16, "frame": 0, "lat": home.Lat, "lon": home.Lon, "alt": home.AltMSL},
			{"command": 22, "frame": 3, "alt": 15, "autocontinue": true},
			{"command": 16, "frame": 3, "lat": home.Lat + 0.001, "lon": home.Lon, "alt": 15, "autocontinue": true},
			{"command": 20, "frame": 3, "autocontinue": true},
		}}
		path := filepath.Join(t.TempDir(), "patrol.json")
		data, _ := json.Marshal(mission)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errs, code := runCtlBinary(t, op, "mission", "upload", "sysid-2", path, srvFlag)
		if code != 0 || !strings.Contains(out, "uploaded (4 items)") {
			t.Fatalf("upload: exit %d: %s%s", code, out, errs)
		}
		out, _, code = runCtlBinary(t, op, "mission", "download", "sysid-2", srvFlag)
		var dl struct{ Items []map[string]any }
		if err := json.Unmarshal([]byte(out), &dl); code != 0 || err != nil || len(dl.Items) != 4 {
			t.Fatalf("download: exit %d %v: %s", code, err, out)
		}
		plan := filepath.Join(t.TempDir(), "patrol.plan")
		os.WriteFile(plan, []byte("{}"), 0o644)
		_, errs, code = runCtlBinary(t, op, "mission", "upload", "sysid-2", plan, srvFlag)
		if code != 1 || !strings.Contains(errs, ".plan") {
			t.Fatalf(".plan: exit %d: %q", code, errs)
		}
	})
	t.Run("params zones audit token", func(t *testing.T) {
		out, errs, code := runCtlBinary(t, op, "params", "get", "sysid-2", "FS_GCS_ENABLE", "--json", srvFlag)
		var p map[string]any
		if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil || p["name"] != "FS_GCS_ENABLE" {
			t.Fatalf("params get: exit %d %v: %s%s", code, err, out, errs)
		}
		out, _, code = runCtlBinary(t, op, "zones", "check", agencyUS, "32.541", "-116.97", "--json", srvFlag)
		var cp map[string]any
		if err := json.Unmarshal([]byte(out), &cp); code != 0 || err != nil || cp["allowed"] != false || cp["zone_id"] != "apt-mmtj" {
			t.Fatalf("zones check: exit %d %v: %s", code, err, out)
		}
		bad := filepath.Join(t.TempDir(), "bad.geojson")
		os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature"}]}`), 0o644)
		_, errs, code = runCtlBinary(t, admin, "zones", "import", bad, srvFlag)
		if code != 1 || !strings.Contains(errs, "invalid request") {
			t.Fatalf("bad import: exit %d: %q", code, errs)
		}
		out, errs, code = runCtlBinary(t, admin, "audit", "--json", srvFlag)
		var au []map[string]any
		if err := json.Unmarshal([]byte(out), &au); code != 0 || err != nil || len(au) == 0 {
			t.Fatalf("audit: exit %d %v: %s%s", code, err, out, errs)
		}
		out, errs, code = runCtlBinary(t, admin, "token", "create", "--role", "supervisor", "--name", "from-ctl", srvFlag)
		secret := strings.TrimSpace(out)
		if code != 0 || !strings.HasPrefix(secret, "cnt_") || strings.Contains(errs, secret) {
			t.Fatalf("token create: exit %d: %q %q", code, out, errs)
		}
		if _, errs, code := runCtlBinary(t, as(secret, "en"), "drones", "ls", srvFlag); code != 0 {
			t.Fatalf("new token: exit %d: %s", code, errs)
		}
	})
}
