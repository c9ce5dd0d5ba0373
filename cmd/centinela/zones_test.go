package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/sim"
)

// The simulator's default homes must be where the built-in agencies may fly,
// with room to take off and manoeuvre: otherwise every demo flight would be
// refused or breach at once.
func TestSimHomesAreInAllowedSpace(t *testing.T) {
	set, err := geofence.Default(builtinAgencies()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sim.Corridors {
		for _, agency := range []string{agencyUS, agencyJoint} {
			r, err := set.CheckPoint(agency, geofence.Pos(c.Home.Lat, c.Home.Lon, 40), time.Now())
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if !r.Allowed || r.BoundaryM < 300 {
				t.Errorf("%s home for %s: allowed %t, %.0f m from the edge of %s (%v)", c.Name, agency, r.Allowed, r.BoundaryM, r.BoundaryZoneID, r.Violation)
			}
		}
	}
}

func TestServeGeofenceConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*serveConfig)
		valid bool
	}{
		{"defaults", func(*serveConfig) {}, true},
		{"custom agency", func(c *serveConfig) {
			c.Agencies = []string{"cbp=US", "gn=mx"}
			c.DroneAgencies = []string{"1=cbp", "2=gn", "3=" + agencyJoint}
		}, true},
		{"unknown jurisdiction", func(c *serveConfig) { c.Agencies = []string{"x=CA"} }, false},
		{"agency without jurisdictions", func(c *serveConfig) { c.Agencies = []string{"x="} }, false},
		{"drone of an unknown agency", func(c *serveConfig) { c.DroneAgencies = []string{"1=nobody"} }, false},
		{"bad sysid", func(c *serveConfig) { c.DroneAgencies = []string{"300=" + agencyUS} }, false},
		{"unknown default agency", func(c *serveConfig) { c.DefaultAgency = "nobody" }, false},
		{"bad breach action", func(c *serveConfig) { c.BreachAction = "explode" }, false},
		{"names", func(c *serveConfig) { c.DroneNames = []string{"1=halcon-1", "2=aguila-2"} }, true},
		{"duplicate name", func(c *serveConfig) { c.DroneNames = []string{"1=halcon", "2=halcon"} }, false},
		{"name like an id", func(c *serveConfig) { c.DroneNames = []string{"1=sysid-2"} }, false},
		{"empty name", func(c *serveConfig) { c.DroneNames = []string{"1="} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testServeConfig("udp:127.0.0.1:0")
			tc.mod(&c)
			err := c.validate()
			if (err == nil) != tc.valid {
				t.Errorf("validate: %v, want valid %t", err, tc.valid)
			}
		})
	}
}

// --zones imports a GeoJSON file over the bundled dataset; a bad file stops
// the server from starting and names the problem.
func TestServeZonesFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tfr.geojson")
	// A temporary no-fly circle over the San Ysidro port of entry.
	if err := os.WriteFile(good, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature",
		"geometry":{"type":"Point","coordinates":[-117.0293,32.5427]},
		"properties":{"id":"tfr-sanysidro","name":"San Ysidro TFR","kind":"exclusion","jurisdiction":"US","radius_m":800}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.geojson")
	if err := os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature",
		"geometry":{"type":"Polygon","coordinates":[[[-117,32],[-116.9,32.1],[-116.9,32],[-117,32.1],[-117,32]]]},
		"properties":{"id":"bowtie","kind":"inclusion","jurisdiction":"US"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.Zones = good
	srv := mustServer(t, cfg)
	z, ok := srv.Zones.Snapshot().Zone("tfr-sanysidro")
	if !ok || z.Kind != geofence.Exclusion || z.RadiusM != 800 {
		t.Fatalf("imported zone %+v, found %t", z, ok)
	}
	if _, ok := srv.Zones.Snapshot().Zone("apt-mmtj"); !ok {
		t.Error("the bundled dataset is gone after the import")
	}

	cfg.Zones = bad
	_, err := startServer(cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "bowtie") || !strings.Contains(err.Error(), "self-intersect") {
		t.Errorf("bad zones file: %v", err)
	}
}
