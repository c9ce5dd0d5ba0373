package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

func TestOpenSecondProcessGetsClearError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	mustOpen(t, path, Options{})
	start := time.Now()
	// flock is per open file: a second Open in this process is refused as
	// a second server's would be.
	_, err := Open(path, Options{Timeout: 150 * time.Millisecond})
	took := time.Since(start)
	if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open: %v (code %q), want Conflict saying the file is in use", err, fleet.ErrorCode(err))
	}
	if took < 100*time.Millisecond || took > 2*time.Second {
		t.Fatalf("second Open gave up after %s, want about the 150 ms timeout", took)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := mustOpen(t, path, Options{})
	if err := db.PutToken(app.Token{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = Open(path, Options{})
	if fleet.ErrorCode(err) != fleet.Unsupported || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d, newer than this centinela's %d", SchemaVersion+1, SchemaVersion)) {
		t.Fatalf("Open of a newer schema: %v, want Unsupported naming both versions", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("refusing a newer schema changed the file")
	}
}

func TestOpenMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := mustOpen(t, path, Options{})
	if err := db.PutToken(app.Token{ID: "t1", Label: "ops"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A build with a newer schema: its migration runs once, on the next Open.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	runs := 0
	migrations = append(append([]func(*bolt.Tx) error(nil), saved...), func(tx *bolt.Tx) error {
		runs++
		_, err := tx.CreateBucket([]byte("v2"))
		return err
	})
	db = mustOpen(t, path, Options{})
	var v uint32
	var hasV2 bool
	db.bolt.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(tx.Bucket(bucketMeta).Get(keySchema))
		hasV2 = tx.Bucket([]byte("v2")) != nil
		return nil
	})
	if v != SchemaVersion+1 || !hasV2 || runs != 1 {
		t.Fatalf("after migration: schema %d, bucket %v, runs %d; want %d, true, 1", v, hasV2, runs, SchemaVersion+1)
	}
	if tok, err := db.Token("t1"); err != nil || tok.Label != "ops" {
		t.Fatalf("token after migration: %+v, %v", tok, err)
	}
	db.Close()
	db = mustOpen(t, path, Options{})
	if runs != 1 {
		t.Fatalf("migration ran %d times, want once", runs)
	}
}

func TestOpenRejectsNonDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600)
	_, err := Open(path, Options{})
	if fleet.ErrorCode(err) != fleet.Invalid || !strings.Contains(err.Error(), "not a centinela database") {
		t.Fatalf("Open of a text file: %v, want Invalid", err)
	}
}

func TestSetupRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := mustOpen(t, path, Options{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens := []app.Token{
		{ID: "b", Label: "second", Role: app.RoleOperator, Agency: "us-agency", Hash: []byte{1, 2, 3}, Created: t0.Add(time.Hour), CreatedBy: "root"},
		{ID: "a", Label: "first", Role: app.RoleAdmin, Hash: []byte{4}, Created: t0, Revoked: t0.Add(2 * time.Hour)},
	}
	grant := app.Grant{ID: "g1", From: "mx-agency", To: "us-agency", Drones: []string{"alpha"}, Until: t0.Add(time.Hour), Created: t0, CreatedBy: "root"}
	drone := app.DroneConfig{ID: "alpha", SysID: 7, Name: "Alpha 1", Agency: "us-agency",
		Profile: app.Profile{CruiseSpeedMS: 12, Endurance: 25 * time.Minute, ReservePct: 20}, Endpoints: []string{"udp:a", "udp:b"}, Updated: t0}
	agency := geofence.Agency{ID: "cbp-west", Name: "CBP West", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.Joint}}
	poly := geofence.Zone{ID: "z-poly", Name: "Training", Kind: geofence.Inclusion, Jurisdiction: geofence.US,
		Polygon:  orb.Polygon{{{-117.1, 32.6}, {-117.0, 32.6}, {-117.0, 32.7}, {-117.1, 32.7}, {-117.1, 32.6}}},
		CeilingM: 90, ValidUntil: t0.Add(24 * time.Hour), Reason: "exercise"}
	circle := geofence.Zone{ID: "z-circle", Kind: geofence.Exclusion, Jurisdiction: geofence.MX,
		Center: orb.Point{-116.97, 32.54}, RadiusM: 500, CeilingM: 120}
	for _, tok := range tokens {
		must(t, db.PutToken(tok))
	}
	must(t, db.PutGrant(grant))
	must(t, db.PutDrone(drone))
	must(t, db.PutAgency(agency))
	must(t, db.PutZone(poly))
	must(t, db.PutZone(circle))
	db.Close()

	db = mustOpen(t, path, Options{})
	gotTokens, err := db.Tokens()
	must(t, err)
	if !reflect.DeepEqual(gotTokens, []app.Token{tokens[1], tokens[0]}) {
		t.Errorf("Tokens = %+v, want oldest first %+v", gotTokens, []app.Token{tokens[1], tokens[0]})
	}
	if tok, err := db.Token("b"); err != nil || !reflect.DeepEqual(tok, tokens[0]) {
		t.Errorf("Token(b) = %+v, %v", tok, err)
	}
	if _, err := db.Token("nope"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("Token(nope): %v, want NotFound", err)
	}
	if gs, err := db.Grants(); err != nil || !reflect.DeepEqual(gs, []app.Grant{grant}) {
		t.Errorf("Grants = %+v, %v", gs, err)
	}
	if ds, err := db.Drones(); err != nil || !reflect.DeepEqual(ds, []app.DroneConfig{drone}) {
		t.Errorf("Drones = %+v, %v", ds, err)
	}
	if as, err := db.Agencies(); err != nil || !reflect.DeepEqual(as, []geofence.Agency{agency}) {
		t.Errorf("Agencies = %+v, %v", as, err)
	}
	zs, err := db.Zones()
	must(t, err)
	if len(zs) != 2 || zs[0].ID != "z-circle" || zs[1].ID != "z-poly" {
		t.Fatalf("Zones = %+v", zs)
	}
	if c := zs[0]; c.RadiusM != 500 || c.Center != circle.Center || c.Kind != geofence.Exclusion || c.Jurisdiction != geofence.MX {
		t.Errorf("circle zone = %+v", c)
	}
	if p := zs[1]; len(p.Polygon) != 1 || len(p.Polygon[0]) != 5 || p.CeilingM != 90 || !p.ValidUntil.Equal(poly.ValidUntil) || p.Reason != "exercise" {
		t.Errorf("polygon zone = %+v", p)
	}
	must(t, db.DeleteZone("z-poly"))
	if err := db.DeleteZone("z-poly"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("second DeleteZone: %v, want NotFound", err)
	}
	if zs, _ := db.Zones(); len(zs) != 1 {
		t.Errorf("after delete: %d zones, want 1", len(zs))
	}
}

func TestSetupRejectsBadInput(t *testing.T) {
	db := mustOpen(t, "", Options{})
	bad := geofence.Zone{ID: "open-ring", Kind: geofence.Inclusion, Jurisdiction: geofence.US,
		Polygon: orb.Polygon{{{-117.1, 32.6}, {-117.0, 32.6}, {-117.0, 32.7}}}}
	cases := map[string]error{
		"token without id":     db.PutToken(app.Token{}),
		"grant without id":     db.PutGrant(app.Grant{}),
		"drone without id":     db.PutDrone(app.DroneConfig{}),
		"agency without id":    db.PutAgency(geofence.Agency{}),
		"agency bad juris":     db.PutAgency(geofence.Agency{ID: "x", Jurisdictions: []geofence.Jurisdiction{"XX"}}),
		"zone not closed":      db.PutZone(bad),
		"zone nan":             db.PutZone(geofence.Zone{ID: "nan", Kind: geofence.Exclusion, Jurisdiction: geofence.US, Center: orb.Point{math.NaN(), 1}, RadiusM: 5}),
		"negative event limit": func() error { _, err := db.Events(app.EventQuery{Limit: -1}); return err }(),
		"negative track max":   func() error { _, err := db.Track("a", time.Time{}, time.Time{}, -1); return err }(),
	}
	for name, err := range cases {
		if fleet.ErrorCode(err) != fleet.Invalid {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	if zs, _ := db.Zones(); len(zs) != 0 {
		t.Errorf("bad zones were stored: %+v", zs)
	}
	if as, _ := db.Agencies(); len(as) != 0 {
		t.Errorf("bad agencies were stored: %+v", as)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
