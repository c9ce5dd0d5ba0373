package store

import (
	"context"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// mustFleet starts a fleet on the real clock.
func mustFleet(tb testing.TB) *fleet.Fleet {
	tb.Helper()
	f := &fleet.Fleet{Agencies: map[uint8]string{1: "us-agency"}, DefaultAgency: "mx-agency"}
	if err := f.Initialize(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	return f
}

// mustRecorder starts a recorder of f into db, closed at cleanup.
func mustRecorder(tb testing.TB, db *DB, f *fleet.Fleet, opts func(*Recorder)) *Recorder {
	tb.Helper()
	r := &Recorder{DB: db, Fleet: f, BatchInterval: 20 * time.Millisecond}
	if opts != nil {
		opts(r)
	}
	if err := r.Initialize(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

func TestRecorderRecordsTrackEventsAndMissions(t *testing.T) {
	db := mustOpen(t, "", Options{})
	f := mustFleet(t)
	r := mustRecorder(t, db, f, nil)

	v := ft.NewVehicle("udp:test/1", 1)
	// Before the first fix: state, but no point.
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby), ft.NoFix(time.Second))
	waitFor(t, 2*time.Second, "the drone", func() bool { _, err := f.Drone("sysid-1"); return err == nil })
	for i := range 50 {
		ft.Feed(f, v, ft.Position(time.Duration(i)*100*time.Millisecond, 32.5+float64(i)*1e-5, -117, 30))
		time.Sleep(time.Millisecond) // let the coalescing subscription see each update
	}
	f.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", At: time.Now(), Severity: app.SevCritical, Text: "PreArm: GPS"})
	f.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", At: time.Now(), Severity: app.SevInfo, Text: "chatter"})
	f.Publish(fleet.CommandResult{DroneID: "sysid-1", At: time.Now(), Command: "arm", Code: fleet.Denied, Message: "Arm: throttle"})
	f.Publish(fleet.CommandResult{DroneID: "sysid-1", At: time.Now(), Command: "takeoff"})
	f.Publish(fleet.GrantChanged{At: time.Now(), GrantID: "g1", From: "mx-agency", To: "us-agency", Active: true, By: "root"})
	plan := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: 32.5, Lon: -117, Alt: 20},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Alt: 30},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Lat: 32.501, Lon: -117, Alt: 30},
	}
	id, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, plan, fleet.UploadOptions{SkipGuard: true})
	if err != nil {
		t.Fatalf("UploadMission: %v", err)
	}

	waitFor(t, 5*time.Second, "the events", func() bool { return r.Stats().Events >= 4 })
	waitFor(t, 5*time.Second, "the points", func() bool { return r.Stats().Points >= 10 })
	track, err := db.Track("sysid-1", time.Time{}, time.Time{}, 0)
	must(t, err)
	if len(track) < 10 {
		t.Fatalf("%d points recorded, want at least 10 (stats %+v)", len(track), r.Stats())
	}
	for i, p := range track {
		if p.Lat < 32.5 || p.Lat > 32.5+50e-5 || p.Lon != -117 || p.RelAlt != 30 || p.Mode != "GUIDED" || !p.LinkUp || p.Armed {
			t.Fatalf("point %d = %+v", i, p)
		}
		if i > 0 && !p.At.After(track[i-1].At) {
			t.Fatalf("point %d at %v, not after %v", i, p.At, track[i-1].At)
		}
	}
	if last := track[len(track)-1]; last.Lat < 32.5+49e-5-1e-9 {
		t.Errorf("last point at lat %v, want the last fed (%v)", last.Lat, 32.5+49e-5)
	}

	evs, err := db.Events(app.EventQuery{DroneID: "sysid-1"})
	must(t, err)
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
		if e.Agency != "us-agency" {
			t.Errorf("event %+v: agency %q, want us-agency", e, e.Agency)
		}
	}
	if kinds[app.KindStatusText] != 1 || kinds[app.KindCommandResult] != 1 || kinds[app.KindMissionUploaded] != 1 || kinds[app.KindDroneDiscovered] != 1 {
		t.Errorf("recorded kinds %v, want one each of discovered, the critical text, the refused command, the upload", kinds)
	}
	if g, _ := db.Events(app.EventQuery{Kinds: []string{app.KindGrantChanged}}); len(g) != 1 || g[0].Params["grant_id"] != "g1" {
		t.Errorf("grant events: %+v", g)
	}
	ms, err := db.Missions("sysid-1", time.Time{}, time.Time{})
	must(t, err)
	if len(ms) != 1 || ms[0].MissionID != id || len(ms[0].Items) != 3 || ms[0].Items[2].Lat != 32.501 {
		t.Errorf("missions = %+v, want %s with its 3 items", ms, id)
	}
	if s := r.Stats(); s.Stopped || s.Err != nil || s.DroppedPoints != 0 || s.Commits == 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestRecorderDropsWhenDiskIsSlow(t *testing.T) {
	db := mustOpen(t, "", Options{})
	f := mustFleet(t)
	r := mustRecorder(t, db, f, func(r *Recorder) { r.QueueSize = 4; r.BatchSize = 1 })
	// A disk that does not keep up: a write transaction held open blocks
	// the recorder's commits.
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.bolt.Update(func(*bolt.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	v := ft.NewVehicle("udp:test/1", 1)
	ft.Feed(f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	start := time.Now()
	fed := 0
	for r.Stats().DroppedPoints == 0 {
		ft.Feed(f, v, ft.Position(time.Duration(fed)*time.Millisecond, 32.5, -117+float64(fed)*1e-6, 10))
		fed++
		if time.Since(start) > 5*time.Second {
			t.Fatalf("nothing dropped after %d updates: %+v", fed, r.Stats())
		}
		time.Sleep(200 * time.Microsecond)
	}
	// Ingest went on while the disk was stuck.
	d, err := f.Drone("sysid-1")
	if err != nil || d.Position.Lon != -117+float64(fed-1)*1e-6 {
		t.Fatalf("fleet state %+v, %v: want the last position fed", d.Position, err)
	}
	close(release)
	must(t, <-done)
	waitFor(t, 5*time.Second, "the drop report", func() bool {
		evs, _ := db.Events(app.EventQuery{Kinds: []string{KindRecordingDropped}})
		return len(evs) == 1 && evs[0].Params["points"] != "" && evs[0].Severity == app.SevWarning
	})
	r.Close()
	s := r.Stats()
	if s.Stopped || s.Points == 0 || s.Points+s.DroppedPoints > uint64(fed) {
		t.Errorf("stats %+v after %d updates: want some committed, some dropped, none invented", s, fed)
	}
	track, _ := db.Track("sysid-1", time.Time{}, time.Time{}, 0)
	if uint64(len(track)) != s.Points {
		t.Errorf("%d points stored, stats say %d committed", len(track), s.Points)
	}
}

func TestRecorderReportsResyncAfterRestart(t *testing.T) {
	uploaded := []fleet.MissionItem{
		{Seq: 0, Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: 32.5, Lon: -117, Alt: 20},
		{Seq: 1, Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Alt: 30, Autocontinue: true},
		{Seq: 2, Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Lat: 32.501, Lon: -117, Alt: 30, Autocontinue: true},
		{Seq: 3, Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true},
	}
	moved := append([]fleet.MissionItem(nil), uploaded...)
	moved[2].Lat = 32.502
	rehomed := append([]fleet.MissionItem(nil), uploaded...)
	rehomed[0].Lat, rehomed[0].Alt = 32.49, 25 // ArduPilot rewrites home
	for name, c := range map[string]struct {
		vehicle []fleet.MissionItem
		same    string
		diff    string
	}{
		"same plan":    {rehomed, "true", ""},
		"changed plan": {moved, "false", "item 2"},
		"shorter plan": {uploaded[:3], "false", "3 items, 4 were uploaded"},
	} {
		t.Run(name, func(t *testing.T) {
			db := mustOpen(t, "", Options{})
			// The previous run stored the upload.
			must(t, db.write(&batch{missions: []missionUpdate{{drone: "sysid-1", mission: "before", at: time.Now().Add(-time.Hour), upload: true, items: uploaded}}}))
			f := mustFleet(t)
			mustRecorder(t, db, f, nil)
			v := ft.NewVehicle("udp:test/1", 1)
			v.DownloadMissionFn = func(context.Context, fleet.MissionType, func(int, int)) ([]fleet.MissionItem, error) {
				return c.vehicle, nil
			}
			ft.Feed(f, v, ft.Copter(ft.Auto, true, ft.StatusActive), ft.Position(time.Second, 32.5005, -117, 30))
			var reports []app.EventRecord
			waitFor(t, 10*time.Second, "the re-sync report", func() bool {
				// The vehicle flies item 2 of a mission the fleet does not know.
				ft.Feed(f, v, ft.Copter(ft.Auto, true, ft.StatusActive), fleet.MissionCurrent{Seq: 2, Total: len(c.vehicle), State: 3})
				reports, _ = db.Events(app.EventQuery{Kinds: []string{KindMissionResynced}})
				return len(reports) > 0
			})
			r := reports[0]
			if r.Params["same"] != c.same || r.Params["stored_mission_id"] != "before" || r.DroneID != "sysid-1" ||
				!strings.Contains(r.Params["difference"], c.diff) {
				t.Errorf("report %+v, want same=%s, difference with %q", r, c.same, c.diff)
			}
			ms, _ := db.Missions("sysid-1", time.Time{}, time.Time{})
			if len(ms) != 2 || ms[1].MissionID != r.Params["mission_id"] || len(ms[1].Items) != len(c.vehicle) || !ms[1].Uploaded.IsZero() {
				t.Errorf("missions %+v, want the adopted plan stored after the uploaded one", ms)
			}
		})
	}
}
