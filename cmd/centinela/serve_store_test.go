package main

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "none": 0, "1GiB": 1 << 30, "500MB": 500e6, "2 GiB": 2 << 30, "1.5MiB": 3 << 19, "1048576": 1 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1GB", "12 parsecs", "1KB", "GB", "1e30GB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestDefaultDBPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/lib/x")
	if p, err := defaultDBPath(); err != nil || p != "/var/lib/x/centinela/centinela.db" {
		t.Errorf("with XDG_STATE_HOME: %q, %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/ana")
	if p, err := defaultDBPath(); err != nil || p != "/home/ana/.local/state/centinela/centinela.db" {
		t.Errorf("without XDG_STATE_HOME: %q, %v", p, err)
	}
}

func TestServeStoreBadFlags(t *testing.T) {
	for name, mod := range map[string]func(*serveConfig){
		"retention age 0": func(c *serveConfig) { c.Store.RetentionAge = 0 },
		"bad size":        func(c *serveConfig) { c.Store.RetentionSize = "lots" },
	} {
		cfg := testServeConfig("udp:127.0.0.1:0")
		mod(&cfg)
		if _, err := startServer(cfg, testLogger(t)); err == nil {
			t.Errorf("%s: the server started", name)
		}
	}
}

func openTestStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Error(err)
		}
		db.Close()
	})
	return db
}

func TestSeedDronesFlagsSeedAdminWins(t *testing.T) {
	db := openTestStore(t, filepath.Join(t.TempDir(), "c.db"))
	// First run: flags seed.
	names, agencies, err := seedDrones(db, map[uint8]string{1: "halcon-1", 2: "halcon-2"}, map[uint8]string{1: "us-agency", 3: "mx-agency"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, map[uint8]string{1: "halcon-1", 2: "halcon-2"}) || !reflect.DeepEqual(agencies, map[uint8]string{1: "us-agency", 3: "mx-agency"}) {
		t.Fatalf("first run: names %v agencies %v", names, agencies)
	}
	// An admin moves halcon-2 to the Mexican agency and renames it for
	// display; the drone heard as sysid-3 was recorded on discovery.
	c, err := db.Drone("halcon-2")
	if err != nil {
		t.Fatal(err)
	}
	c.Agency, c.Name, c.Updated = "mx-agency", "Halcón 2", time.Now()
	if err := db.PutDrone(c); err != nil {
		t.Fatal(err)
	}
	// Second run: new flags for 1 and 2. 1 was only seeded: the flags win;
	// 2 was changed by an admin: the store wins. 3 keeps its seeded agency.
	names, agencies, err = seedDrones(db, map[uint8]string{1: "aguila-1", 2: "other"}, map[uint8]string{2: "us-agency"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, map[uint8]string{1: "aguila-1", 2: "halcon-2"}) {
		t.Errorf("second run names %v", names)
	}
	if !reflect.DeepEqual(agencies, map[uint8]string{1: "us-agency", 2: "mx-agency", 3: "mx-agency"}) {
		t.Errorf("second run agencies %v", agencies)
	}
	if _, err := db.Drone("halcon-1"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("the renamed seed halcon-1 is still stored: %v", err)
	}
	ds, _ := db.Drones()
	if len(ds) != 3 {
		t.Errorf("stored drones %+v, want aguila-1, halcon-2, sysid-3", ds)
	}
}

func TestServeLoadsStoredSetup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	agency := geofence.Agency{ID: "cbp-west", Name: "CBP West", Jurisdictions: []geofence.Jurisdiction{geofence.US}}
	zone := geofence.Zone{ID: "exercise", Kind: geofence.Exclusion, Jurisdiction: geofence.US, Center: orb.Point{-117.05, 32.6}, RadiusM: 300}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.PutAgency(agency))
	must(db.PutZone(zone))
	must(db.PutDrone(app.DroneConfig{ID: "halcon-7", SysID: 7, Name: "Halcón 7", Agency: "cbp-west", Updated: time.Now()}))
	must(db.Check())
	must(db.Close())

	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.Store.DB = path
	srv := mustServer(t, cfg)
	set := srv.Zones.Snapshot()
	ok, v, err := set.Allowed("cbp-west", geofence.Pos(32.6, -117.05, 10), time.Now())
	if err != nil {
		t.Fatalf("stored agency not loaded: %v", err)
	}
	if ok || v == nil || v.ZoneID != "exercise" {
		t.Errorf("stored zone not loaded: allowed %v, %+v", ok, v)
	}
	if srv.Fleet.Names[7] != "halcon-7" || srv.Fleet.Agencies[7] != "cbp-west" {
		t.Errorf("fleet names %v agencies %v", srv.Fleet.Names, srv.Fleet.Agencies)
	}
	if srv.store == nil || srv.store.Recorder == nil {
		t.Fatal("no recorder")
	}
}
