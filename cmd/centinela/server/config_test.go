package server

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/sim"
)

// The simulator's default homes must be where the built-in agencies may fly,
// with room to take off and manoeuvre: otherwise every demo flight would be
// refused or breach at once.
func TestSimHomesAreInAllowedSpace(t *testing.T) {
	set, err := geofence.Default(BuiltinAgencies()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sim.Corridors {
		for _, agency := range []string{AgencyUS, AgencyJoint} {
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

func TestConfigValidate(t *testing.T) {
	us := []geofence.Jurisdiction{geofence.US}
	key := fleet.VehicleKey{Link: "tcp:127.0.0.1:5760", SysID: 1}
	for _, tc := range []struct {
		name  string
		mod   func(*Config)
		field string // the error's Reason; "" when valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"nothing to serve", func(c *Config) { c.MAVLink = nil }, "MAVLink"},
		{"bad endpoint", func(c *Config) { c.MAVLink = []string{"udp-in:1.2.3.4:5"} }, "MAVLink"},
		{"sysid 0", func(c *Config) { c.SysID = 0 }, "SysID"},
		{"compid 256", func(c *Config) { c.CompID = 256 }, "CompID"},
		{"no link timeout", func(c *Config) { c.LinkTimeout = 0 }, "LinkTimeout"},
		{"mission retries", func(c *Config) { c.MissionRetries = 101 }, "MissionRetries"},
		{"max drones", func(c *Config) { c.MaxDrones = -1 }, "MaxDrones"},
		{"max drones over", func(c *Config) { c.MaxDrones = 100001 }, "MaxDrones"},
		{"stream rate NaN", func(c *Config) { c.StreamHz = math.NaN() }, "StreamHz"},
		{"position rate", func(c *Config) { c.PositionHz = 60 }, "PositionHz"},
		{"too many simulated drones", func(c *Config) { c.Sim = 251 }, "Sim"},
		{"speed-up 0", func(c *Config) { c.Sim, c.SimSpeedup = 1, 0 }, "SimSpeedup"},
		{"home out of range", func(c *Config) { c.SimHome = &sim.Home{Lat: 91} }, "SimHome"},
		{"home NaN", func(c *Config) { c.SimHome = &sim.Home{Lat: 32, Lon: -117, Alt: math.NaN()} }, "SimHome"},
		{"custom agency", func(c *Config) {
			c.Agencies = []geofence.Agency{{ID: "cbp", Jurisdictions: us}, {ID: "gn", Jurisdictions: []geofence.Jurisdiction{geofence.MX}}}
			c.DroneAgencies = DroneMap{BySysID: map[uint8]string{1: "cbp", 2: "gn", 3: AgencyJoint}}
		}, ""},
		{"unknown jurisdiction", func(c *Config) {
			c.Agencies = []geofence.Agency{{ID: "x", Jurisdictions: []geofence.Jurisdiction{"CA"}}}
		}, "Agencies"},
		{"agency without jurisdictions", func(c *Config) { c.Agencies = []geofence.Agency{{ID: "x"}} }, "Agencies"},
		{"agency without id", func(c *Config) { c.Agencies = []geofence.Agency{{Jurisdictions: us}} }, "Agencies"},
		{"drone of an unknown agency", func(c *Config) { c.DroneAgencies.BySysID = map[uint8]string{1: "nobody"} }, "DroneAgencies"},
		{"drone by key of an unknown agency", func(c *Config) { c.DroneAgencies.ByKey = map[fleet.VehicleKey]string{key: "nobody"} }, "DroneAgencies"},
		{"agency of system id 0", func(c *Config) { c.DroneAgencies.BySysID = map[uint8]string{0: AgencyUS} }, "DroneAgencies"},
		{"agency of uid 0", func(c *Config) { c.DroneAgencies.ByUID = map[uint64]string{0: AgencyUS} }, "DroneAgencies"},
		{"unknown default agency", func(c *Config) { c.DefaultAgency = "nobody" }, "DefaultAgency"},
		{"bad breach action", func(c *Config) { c.BreachAction = "explode" }, "BreachAction"},
		{"names", func(c *Config) {
			c.DroneNames = DroneMap{BySysID: map[uint8]string{1: "halcon-1", 2: "aguila-2"},
				ByKey: map[fleet.VehicleKey]string{key: "halcon-5"}, ByUID: map[uint64]string{0xabc: "halcon-6"}}
		}, ""},
		{"duplicate name", func(c *Config) { c.DroneNames.BySysID = map[uint8]string{1: "halcon", 2: "halcon"} }, "DroneNames"},
		{"duplicate name by key and uid", func(c *Config) {
			c.DroneNames = DroneMap{ByKey: map[fleet.VehicleKey]string{key: "halcon"}, ByUID: map[uint64]string{7: "halcon"}}
		}, "DroneNames"},
		{"name like an id", func(c *Config) { c.DroneNames.BySysID = map[uint8]string{1: "sysid-2"} }, "DroneNames"},
		{"empty name", func(c *Config) { c.DroneNames.BySysID = map[uint8]string{1: ""} }, "DroneNames"},
		{"long name", func(c *Config) { c.DroneNames.BySysID = map[uint8]string{1: strings.Repeat("x", 65)} }, "DroneNames"},
		{"link key without a link", func(c *Config) { c.DroneNames.ByKey = map[fleet.VehicleKey]string{{SysID: 1}: "halcon"} }, "DroneNames"},
		{"signing key of system id 255", func(c *Config) { c.Signing.Keys = map[uint8]fleet.SigningKey{255: {}} }, "Signing.Keys"},
		{"missing key file", func(c *Config) { c.Signing.File = "/nonexistent/keys" }, "Signing.File"},
		{"bad gRPC address", func(c *Config) { c.GRPC.Addr = "nohostport" }, "GRPC.Addr"},
		{"certificate without key", func(c *Config) { c.GRPC = GRPCConfig{Addr: "127.0.0.1:0", TLSCert: "c.pem"} }, "GRPC.TLSCert"},
		{"certificate and self-signed", func(c *Config) {
			c.GRPC = GRPCConfig{Addr: "127.0.0.1:0", TLSCert: "c.pem", TLSKey: "k.pem", TLSSelfSigned: true}
		}, "GRPC.TLSSelfSigned"},
		{"gRPC off", func(c *Config) { c.GRPC = GRPCConfig{Addr: "off", TLSCert: "c.pem"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig("udp:127.0.0.1:0")
			tc.mod(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			var fe *fleet.Error
			if !errors.As(err, &fe) || fe.Code != fleet.Invalid || fe.Reason != tc.field || !strings.HasPrefix(fe.Message, tc.field) {
				t.Fatalf("Validate: %v, want an Invalid error about %s", err, tc.field)
			}
			if _, err := Start(c, testLogger(t)); err == nil {
				t.Fatal("Start accepted what Validate refuses")
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

	cfg := testConfig("udp:127.0.0.1:0")
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
	_, err := Start(cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "bowtie") || !strings.Contains(err.Error(), "self-intersect") {
		t.Errorf("bad zones file: %v", err)
	}
}
