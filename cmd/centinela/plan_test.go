package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
)

var (
	planBinOnce sync.Once
	planBin     string
	planBinErr  error
)

// centinelaBinary builds the centinela binary once per test run.
func centinelaBinary(t *testing.T) string {
	t.Helper()
	planBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "centinela-bin-")
		if err != nil {
			planBinErr = err
			return
		}
		planBin = filepath.Join(dir, "centinela")
		out, err := exec.Command("go", "build", "-o", planBin, ".").CombinedOutput()
		if err != nil {
			planBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if planBinErr != nil {
		t.Fatal(planBinErr)
	}
	return planBin
}

// squareFile writes a GeoJSON square of half-side d degrees.
func squareFile(t *testing.T, lat, lon, d float64) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "area.geojson")
	fc := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%[2]f,%[3]f],[%[4]f,%[3]f],[%[4]f,%[1]f],[%[2]f,%[1]f],[%[2]f,%[3]f]]]}}]}`,
		lat+d, lon-d, lat-d, lon+d)
	if err := os.WriteFile(f, []byte(fc), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func runBinary(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(centinelaBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestPlanCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	area := squareFile(t, 32.55, -117.06, 0.006)
	mexico := squareFile(t, 32.51, -117.06, 0.004)
	home := "32.548,-117.0293"

	t.Run("text", func(t *testing.T) {
		out, errs, code := runBinary(t, "plan", "--kind", "perimeter", "--area", area, "--home", home, "--agency", agencyUS)
		if code != 0 || !strings.Contains(out, "perimeter patrol for agency us-agency") || !strings.Contains(out, "check allowed space  passed") ||
			!strings.Contains(out, "check endurance      passed") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
	})
	t.Run("plan", func(t *testing.T) {
		out, errs, code := runBinary(t, "plan", "--kind", "coverage", "--area", area, "--home", home, "--agency", agencyUS,
			"--swath", "200", "--speed", "12", "--alt", "50", "--endurance", "40m", "--format", "plan")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		p, err := qgcplan.Decode([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		items, err := p.MissionItems()
		if err != nil {
			t.Fatal(err)
		}
		if items[1].Command != fleet.CmdNavTakeoff || items[1].Alt != 50 || items[2].Command != fleet.CmdDoChangeSpeed ||
			items[len(items)-1].Command != fleet.CmdNavReturnToLaunch || len(p.GeoFence.Polygons)+len(p.GeoFence.Circles) == 0 {
			t.Fatalf("mission %+v … %+v, fence %+v", items[:3], items[len(items)-1], p.GeoFence)
		}
	})
	t.Run("geojson", func(t *testing.T) {
		out, errs, code := runBinary(t, "plan", "--kind", "corridor", "--home", home, "--agency", agencyUS, "--drones", "2",
			"--home", "32.56,-117.10", "--speed", "15", "--endurance", "1h", "--format", "geojson")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var fc struct {
			Features []struct {
				Geometry   struct{ Type string }
				Properties map[string]any
			}
		}
		if err := json.Unmarshal([]byte(out), &fc); err != nil || len(fc.Features) != 2 || fc.Features[0].Geometry.Type != "LineString" {
			t.Fatalf("%v: %s", err, out)
		}
	})
	t.Run("no valid route", func(t *testing.T) {
		_, errs, code := runBinary(t, "plan", "--kind", "coverage", "--area", mexico, "--home", home, "--agency", agencyUS)
		if code != 1 || !strings.Contains(errs, "allowed space") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("endurance", func(t *testing.T) {
		_, errs, code := runBinary(t, "plan", "--kind", "coverage", "--area", area, "--home", home, "--agency", agencyUS, "--swath", "30")
		if code != 1 || !strings.Contains(errs, "usable") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	for name, args := range map[string][]string{
		"unknown kind": {"--kind", "spiral", "--home", home},
		"no home":      {"--kind", "perimeter", "--area", area},
		"no area":      {"--kind", "coverage", "--home", home},
		"bad format":   {"--kind", "perimeter", "--area", area, "--home", home, "--format", "kml"},
		"bad value":    {"--kind", "coverage", "--area", area, "--home", home, "--swath", "-5"},
		"bad flag":     {"--kind", "coverage", "--bogus"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errs, code := runBinary(t, append([]string{"plan"}, args...)...)
			if code != 2 || errs == "" {
				t.Fatalf("exit %d: %q", code, errs)
			}
		})
	}
}
