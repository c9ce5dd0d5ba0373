package server

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
)

func TestStoreBadConfig(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"retention age 0":  func(c *Config) { c.Store.RetentionAge = 0 },
		"size below 1 MiB": func(c *Config) { c.Store.RetentionSize = 1000 },
		"negative size":    func(c *Config) { c.Store.RetentionSize = -1 },
	} {
		cfg := testConfig("udp:127.0.0.1:0")
		mod(&cfg)
		if _, err := Start(cfg, testLogger(t)); err == nil {
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
	// A flag may not take the name of another stored drone.
	if _, _, err := seedDrones(db, map[uint8]string{9: "halcon-2"}, nil); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("seeding 9=halcon-2 over the stored halcon-2 of system id 2: %v, want an error", err)
	}
	if c, _ := db.Drone("halcon-2"); c.SysID != 2 || c.Name != "Halcón 2" {
		t.Errorf("halcon-2 after the refused seed: %+v", c)
	}
}

// A second vehicle with a system id, stored under the id the fleet derived
// for it, does not rename the first one on the next start.
func TestSeedDronesDerivedIDsNameNoSystemID(t *testing.T) {
	db := openTestStore(t, filepath.Join(t.TempDir(), "c.db"))
	for _, c := range []app.DroneConfig{
		{ID: "halcon-1", SysID: 1, Name: "halcon-1"},
		{ID: "sysid-1-l9c2f61a0", SysID: 1},
		{ID: "sysid-2", SysID: 2},
		{ID: "sysid-2-u00000000000000ab", SysID: 2, Agency: "mx-agency", Updated: time.Now()},
	} {
		if err := db.PutDrone(c); err != nil {
			t.Fatal(err)
		}
	}
	names, agencies, err := seedDrones(db, map[uint8]string{1: "halcon-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, map[uint8]string{1: "halcon-1"}) || len(agencies) != 0 {
		t.Errorf("names %v agencies %v, want halcon-1 for system id 1 and no agency", names, agencies)
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

	cfg := testConfig("udp:127.0.0.1:0")
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
	if srv.DB == nil || srv.Recorder == nil {
		t.Fatal("no recorder")
	}
}

func TestSecondServerOnSameDBFails(t *testing.T) {
	cfg := testConfig("udp:127.0.0.1:0")
	cfg.Store.DB = filepath.Join(t.TempDir(), "c.db")
	mustServer(t, cfg)
	start := time.Now()
	_, err := Start(cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second server: %v, want the file is in use", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the second server gave up after %s", took)
	}
}

// TestServeRecordsSimulatedDrones serves two simulated drones with a
// database and reads it back while serving: tracks, events and the drones
// heard with their links.
func TestServeRecordsSimulatedDrones(t *testing.T) {
	if testing.Short() {
		t.Skip("starts simulated drones: skipped with -short")
	}
	cfg := testConfig()
	cfg.Sim, cfg.SimSpeedup, cfg.SimBootDelay = 2, testSpeedup, 0
	cfg.DroneNames.BySysID = map[uint8]string{1: "halcon-1"}
	cfg.Store.DB = filepath.Join(t.TempDir(), "c.db")
	// An admin named sysid-2 and moved it to the Mexican agency before its
	// system id was known.
	pre, err := store.Open(cfg.Store.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pre.PutDrone(app.DroneConfig{ID: "sysid-2", Name: "Halcón Dos", Agency: "mx-agency", Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	pre.Close()
	srv := mustServer(t, cfg)
	db := srv.DB
	eventually(t, 10*time.Second, "the admin's name and agency applied", func() bool {
		d, err := srv.Fleet.Drone("sysid-2")
		return err == nil && d.Name == "Halcón Dos" && d.Agency == "mx-agency"
	})
	eventually(t, 20*time.Second, "tracks of both drones", func() bool {
		n := 0
		for _, id := range []string{"halcon-1", "sysid-2"} {
			if pts, _ := db.Track(id, time.Time{}, time.Time{}, 0); len(pts) >= 5 {
				n++
			}
		}
		return n == 2
	})
	eventually(t, 10*time.Second, "the drones heard, with their links", func() bool {
		ds, _ := db.Drones()
		heard := 0
		for _, d := range ds {
			if d.SysID != 0 && len(d.Endpoints) == 1 && strings.HasPrefix(d.Endpoints[0], "udp:") {
				heard++
			}
		}
		return heard == 2
	})
	if c, _ := db.Drone("sysid-2"); c.SysID != 2 || c.Name != "Halcón Dos" || c.Updated.IsZero() {
		t.Errorf("sysid-2 stored as %+v, want its system id added to the admin's record", c)
	}
	evs, err := db.Events(app.EventQuery{Kinds: []string{app.KindDroneDiscovered}})
	if err != nil || len(evs) != 2 {
		t.Errorf("discovery events %+v, %v", evs, err)
	}
	pts, _ := db.Track("halcon-1", time.Time{}, time.Time{}, 0)
	home := pts[0]
	if home.Lat == 0 || home.Lon == 0 || !home.LinkUp || home.Mode == "" {
		t.Errorf("first point %+v", home)
	}
	if s := srv.Recorder.Stats(); s.Stopped || s.DroppedPoints != 0 {
		t.Errorf("recorder %+v", s)
	}
}
