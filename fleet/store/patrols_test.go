package store

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// Patrols round-trip through the file and survive a reopen; deletes and
// bad ids behave; a file that never stored a patrol has none.
func TestPatrolsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := mustOpen(t, path, Options{})
	if got, err := db.Patrols(); err != nil || len(got) != 0 {
		t.Fatalf("fresh file: %v %v", got, err)
	}
	if err := db.DeletePatrol("ptl-none"); err != nil {
		t.Fatalf("delete from a file without patrols: %v", err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := app.PatrolRecord{
		Patrol: app.Patrol{ID: "ptl-0123456789abcdef", DroneID: "halcon-1", Agency: "us-cbp", Kind: plan.Perimeter,
			MissionID: "halcon-1-m00112233aabbccdd", State: app.PatrolFlying,
			Route: plan.Route{DroneID: "halcon-1", Home: plan.LatLon{Lat: 32.548, Lon: -117.03},
				Waypoints: []plan.Waypoint{{LatLon: plan.LatLon{Lat: 32.55, Lon: -117.03}, AltM: 40, SpeedMPS: 10, ETA: time.Minute}},
				DistanceM: 1800, Duration: 4 * time.Minute, BatteryPct: 12},
			Volume: plan.Volume{PatrolID: "ptl-0123456789abcdef", DroneID: "halcon-1", Path: []plan.LatLon{{Lat: 32.548, Lon: -117.03}, {Lat: 32.55, Lon: -117.03}},
				BufferM: 50, AltM: 80, VerticalM: 10, Start: at, End: at.Add(10 * time.Minute)},
			Resolved: "altitude", Resolves: &plan.Conflict{PatrolID: "ptl-other", From: at, Until: at.Add(time.Minute)},
			DispatchedBy: "operator-1", Created: at},
		OffsetM:   40,
		Principal: app.Principal{TokenID: "tok1", Label: "operator-1", Role: app.RoleOperator, Agency: "us-cbp"},
	}
	ended := rec
	ended.ID, ended.State, ended.Ended, ended.Reason = "ptl-ended", app.PatrolInterrupted, at.Add(time.Minute), "mode_change"
	ended.Resolves = nil
	for _, r := range []app.PatrolRecord{rec, ended} {
		if err := db.PutPatrol(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutPatrol(app.PatrolRecord{}); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("empty id: %v, want Invalid", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	db = mustOpen(t, path, Options{})
	got, err := db.Patrols()
	if err != nil || len(got) != 2 {
		t.Fatalf("after reopen: %d patrols (%v)", len(got), err)
	}
	byID := map[string]app.PatrolRecord{}
	for _, r := range got {
		byID[r.ID] = r
	}
	for _, want := range []app.PatrolRecord{rec, ended} {
		if !reflect.DeepEqual(byID[want.ID], want) {
			t.Errorf("patrol %s:\n got %+v\nwant %+v", want.ID, byID[want.ID], want)
		}
	}
	if err := db.DeletePatrol(ended.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Patrols(); len(got) != 1 || got[0].ID != rec.ID {
		t.Errorf("after delete %+v", got)
	}
}
