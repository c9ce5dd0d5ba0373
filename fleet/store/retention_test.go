package store

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestRetentionByAge(t *testing.T) {
	clock := ft.NewClock(t0)
	db := mustOpen(t, "", Options{Now: clock.Now, MaxAge: 24 * time.Hour, TrimInterval: time.Hour})
	must(t, db.PutToken(app.Token{ID: "tok", Created: t0.Add(-1000 * time.Hour)}))
	must(t, db.PutDrone(app.DroneConfig{ID: "alpha"}))
	// 3 days of history, one sample an hour, for two drones; bravo stops
	// after the first day.
	for h := range 72 {
		at := t0.Add(time.Duration(h) * time.Hour)
		must(t, db.AppendTrack("alpha", samplePoint(at, h)))
		if h < 24 {
			must(t, db.AppendTrack("bravo", samplePoint(at, h)))
		}
		must(t, db.AppendEvents(app.EventRecord{At: at, DroneID: "alpha", Kind: app.KindLinkLost}))
		must(t, db.AppendAudit(app.AuditEntry{At: at, Action: "Control.Arm"}))
	}
	must(t, db.write(&batch{missions: []missionUpdate{
		{drone: "alpha", mission: "old", at: t0, upload: true},
		{drone: "alpha", mission: "new", at: t0.Add(60 * time.Hour), upload: true},
	}}))
	clock.Advance(72 * time.Hour)
	must(t, db.Trim())

	cut := t0.Add(48 * time.Hour)
	track, _ := db.Track("alpha", time.Time{}, time.Time{}, 0)
	if len(track) != 24 || !track[0].At.Equal(cut) {
		t.Errorf("alpha keeps %d points from %v, want 24 from %v", len(track), track[0].At, cut)
	}
	if ids, _ := db.TrackDrones(); len(ids) != 1 || ids[0] != "alpha" {
		t.Errorf("drones with tracks %v: bravo's bucket should be gone", ids)
	}
	if evs, _ := db.Events(app.EventQuery{}); len(evs) != 24 || !evs[0].At.Equal(cut) {
		t.Errorf("%d events kept, want 24", len(evs))
	}
	if au, _ := db.Audit(app.AuditQuery{}); len(au) != 24 {
		t.Errorf("%d audit entries kept, want 24", len(au))
	}
	if ms, _ := db.Missions("", time.Time{}, time.Time{}); len(ms) != 1 || ms[0].MissionID != "new" {
		t.Errorf("missions kept %+v, want only new", ms)
	}
	if tok, err := db.Token("tok"); err != nil || tok.ID != "tok" {
		t.Errorf("setup removed by retention: %v", err)
	}
	st := db.TrimStats()
	if st.Points != 48+24 || st.Events != 48 || st.Audit != 48 || st.Missions != 1 || st.Err != nil {
		t.Errorf("trim stats %+v", st)
	}
}

// TestRetentionBoundsFile records 10 drones at 10 Hz for simulated hours
// into a file bounded to 2 MiB (about 35,000 points), many times the bound,
// and checks after every commit that the trimmer keeps the file within it, the newest history is kept and the file is consistent.
// CENTINELA_LONG=1 records a simulated day.
func TestRetentionBoundsFile(t *testing.T) {
	const maxSize = 2 << 20
	hours := 0.3
	if testing.Short() {
		hours = 0.2
	}
	if os.Getenv("CENTINELA_LONG") != "" {
		hours = 24
	}
	clock := ft.NewClock(t0)
	db := mustOpen(t, "", Options{Now: clock.Now, MaxSize: maxSize, MaxAge: -1})
	const drones, hz, step = 10, 10, 5 * time.Second
	end := t0.Add(time.Duration(hours * float64(time.Hour)))
	var maxFile int64
	written := 0
	b := &batch{}
	for at := t0; at.Before(end); at = at.Add(step) {
		b.reset()
		for i := range int(step / (time.Second / hz)) {
			pt := at.Add(time.Duration(i) * time.Second / hz)
			for d := range drones {
				b.points = append(b.points, dronePoint{fmt.Sprintf("drone-%02d", d), samplePoint(pt, written)})
			}
		}
		b.events = append(b.events, app.EventRecord{At: at, DroneID: "drone-00", Kind: app.KindMissionStarted, Params: map[string]string{"mission_id": "m"}})
		must(t, db.write(b))
		written += len(b.points)
		clock.Advance(step)
		// What the background trimmer does after each commit, done here
		// too so that a trimmer starved of CPU cannot make the test flaky.
		must(t, db.trimSize())
		must(t, db.compact(false))
		s, err := db.Size()
		must(t, err)
		maxFile = max(maxFile, s.FileBytes)
		if s.FileBytes > maxSize {
			t.Fatalf("after %d points (%s simulated) the file is %d bytes (%d in use), over its %d bound",
				written, at.Sub(t0), s.FileBytes, s.UsedBytes, maxSize)
		}
	}
	st := db.TrimStats()
	if written < 2*maxSize/60 || st.SizeTrims == 0 || st.Points == 0 {
		t.Fatalf("wrote %d points, trims %+v: the test did not overfill the bound", written, st)
	}
	newest, _ := db.Track("drone-09", end.Add(-step), time.Time{}, 0)
	if len(newest) != int(step/(time.Second/hz)) {
		t.Errorf("the last %s of drone-09: %d points, want all %d", step, len(newest), int(step/(time.Second/hz)))
	}
	all, _ := db.Track("drone-00", time.Time{}, time.Time{}, MaxTrackPoints)
	kept := all[len(all)-1].At.Sub(all[0].At)
	if kept < 2*time.Minute {
		t.Errorf("only %s of history kept in %d bytes", kept, maxSize)
	}
	must(t, db.Check())
	t.Logf("%d points over %.2f h simulated; file at most %d bytes (bound %d); %d size trims removed %d points; %s kept",
		written, hours, maxFile, maxSize, st.SizeTrims, st.Points, kept)
}

// Retention measures age with the store's clock (Options.Now, the wall
// clock) against the records' own times, which the same wall clock
// stamped. A backward jump deletes nothing and the records written after
// it (older-looking than those before) are kept in time order; a forward
// jump of an hour moves the cutoff by that hour, no more.
func TestRetentionAcrossClockJumps(t *testing.T) {
	clock := ft.NewClock(t0.Add(30 * time.Hour))
	db := mustOpen(t, "", Options{Now: clock.Now, MaxAge: 24 * time.Hour, TrimInterval: time.Hour})
	for h := range 30 { // t0 .. t0+29h, hourly
		must(t, db.AppendTrack("alpha", samplePoint(t0.Add(time.Duration(h)*time.Hour), h)))
	}
	must(t, db.Trim()) // cutoff t0+6h
	clock.Advance(-2 * time.Hour)
	must(t, db.AppendTrack("alpha", samplePoint(clock.Now().Add(30*time.Minute), 100))) // t0+28h30
	must(t, db.Trim())                                                                  // cutoff t0+4h: nothing more goes
	track, _ := db.Track("alpha", time.Time{}, time.Time{}, 0)
	if len(track) != 25 || !track[0].At.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("after a backward jump: %d points from %v, want 25 from %v", len(track), track[0].At, t0.Add(6*time.Hour))
	}
	for i := 1; i < len(track); i++ {
		if !track[i].At.After(track[i-1].At) {
			t.Fatalf("points out of order at %d: %v then %v", i, track[i-1].At, track[i].At)
		}
	}
	clock.Advance(3 * time.Hour) // an hour past where it was: cutoff t0+7h
	must(t, db.Trim())
	track, _ = db.Track("alpha", time.Time{}, time.Time{}, 0)
	if len(track) != 24 || !track[0].At.Equal(t0.Add(7*time.Hour)) {
		t.Fatalf("after a forward jump: %d points from %v, want 24 from %v", len(track), track[0].At, t0.Add(7*time.Hour))
	}
}
