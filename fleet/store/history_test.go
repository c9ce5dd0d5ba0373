package store

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func samplePoint(at time.Time, i int) app.TrackPoint {
	return app.TrackPoint{At: at, Lat: 32.5 + float64(i)*1e-5, Lon: -117.0 - float64(i)*1e-5, AltMSL: 60.123, RelAlt: 40.5,
		VelN: 3.25, VelE: -1.5, VelD: -0.25, GroundSpeed: 3.58, Heading: 270.5, BatteryPct: 87, Mode: "AUTO", Armed: true, LinkUp: true}
}

func TestPointCodecRoundTrip(t *testing.T) {
	cases := map[string]app.TrackPoint{
		"typical":      samplePoint(t0, 3),
		"unknowns":     {At: t0, Lat: -33.9, Lon: 151.2, Heading: math.NaN(), BatteryPct: -1, Mode: "MODE(99)"},
		"extremes":     {At: t0, Lat: 90, Lon: -180, AltMSL: -400, RelAlt: 2000, VelN: -300, VelE: 300, GroundSpeed: 600, Heading: 359.99, BatteryPct: 100, Mode: "AUTO.MISSION"},
		"out of range": {At: t0, AltMSL: 1e12, VelN: 1e6, GroundSpeed: -5, Heading: 725, BatteryPct: 300, Mode: "a-very-long-mode-name-that-goes-past-32-bytes"},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			b := appendPoint(nil, p)
			got, err := decodePoint(p.At, b)
			if err != nil {
				t.Fatal(err)
			}
			near := func(what string, a, b, tol float64) {
				if math.IsNaN(a) != math.IsNaN(b) || math.Abs(a-b) > tol {
					t.Errorf("%s = %v, want %v (±%g)", what, a, b, tol)
				}
			}
			near("lat", got.Lat, p.Lat, 1e-7)
			near("lon", got.Lon, p.Lon, 1e-7)
			if name == "out of range" {
				near("alt clamped", got.AltMSL, math.MaxInt32/1e3, 1e-3)
				near("vel clamped", got.VelN, 327.67, 1e-9)
				near("speed clamped", got.GroundSpeed, 0, 0)
				near("heading wrapped", got.Heading, 5, 1e-9)
				if got.BatteryPct != -1 || got.Mode != p.Mode[:32] {
					t.Errorf("battery %d mode %q", got.BatteryPct, got.Mode)
				}
				return
			}
			near("alt", got.AltMSL, p.AltMSL, 1e-3)
			near("rel alt", got.RelAlt, p.RelAlt, 1e-3)
			near("vn", got.VelN, p.VelN, 0.01)
			near("ve", got.VelE, p.VelE, 0.01)
			near("vd", got.VelD, p.VelD, 0.01)
			near("speed", got.GroundSpeed, p.GroundSpeed, 0.01)
			near("heading", got.Heading, p.Heading, 0.01)
			if got.BatteryPct != p.BatteryPct || got.Mode != p.Mode || got.Armed != p.Armed || got.LinkUp != p.LinkUp || !got.At.Equal(p.At) {
				t.Errorf("got %+v, want %+v", got, p)
			}
		})
	}
	if _, err := decodePoint(t0, []byte{1, 2, 3}); err == nil {
		t.Error("a short point decoded")
	}
	if _, err := decodePoint(t0, append(appendPoint(nil, samplePoint(t0, 0)), 'x')); err == nil {
		t.Error("a point with trailing bytes decoded")
	}
}

func FuzzDecodePoint(f *testing.F) {
	f.Add(appendPoint(nil, samplePoint(t0, 1)))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePoint(t0, b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to bytes that decode to the same point.
		again, err := decodePoint(t0, appendPoint(nil, p))
		if err != nil {
			t.Fatalf("re-encoding %x: %v", b, err)
		}
		if math.IsNaN(p.Heading) != math.IsNaN(again.Heading) {
			t.Fatalf("heading %v became %v", p.Heading, again.Heading)
		}
		p.Heading, again.Heading = 0, 0
		if p != again {
			t.Fatalf("%x decoded to %+v, re-encoded to %+v", b, p, again)
		}
	})
}

func TestTrackRangeAndDownsample(t *testing.T) {
	db := mustOpen(t, "", Options{})
	var pts []app.TrackPoint
	for i := range 1000 {
		pts = append(pts, samplePoint(t0.Add(time.Duration(i)*100*time.Millisecond), i))
	}
	must(t, db.AppendTrack("alpha", pts...))
	must(t, db.AppendTrack("bravo", samplePoint(t0, 0)))

	all, err := db.Track("alpha", time.Time{}, time.Time{}, 0)
	must(t, err)
	if len(all) != 1000 || !all[0].At.Equal(t0) || !all[999].At.Equal(pts[999].At) {
		t.Fatalf("full track: %d points, %v..%v", len(all), all[0].At, all[len(all)-1].At)
	}
	for i, p := range all {
		if math.Abs(p.Lat-pts[i].Lat) > 1e-7 || math.Abs(p.Lon-pts[i].Lon) > 1e-7 || p.Mode != pts[i].Mode {
			t.Fatalf("point %d = %+v, want %+v", i, p, pts[i])
		}
	}
	// [10 s, 20 s): points 100..199.
	part, err := db.Track("alpha", t0.Add(10*time.Second), t0.Add(20*time.Second), 0)
	must(t, err)
	if len(part) != 100 || !part[0].At.Equal(pts[100].At) || !part[99].At.Equal(pts[199].At) {
		t.Fatalf("range: %d points from %v", len(part), part[0].At)
	}
	// Downsampled to 10: first and last kept, even steps of 111 between.
	ds, err := db.Track("alpha", time.Time{}, time.Time{}, 10)
	must(t, err)
	if len(ds) != 10 {
		t.Fatalf("downsampled to %d points, want 10", len(ds))
	}
	for i, p := range ds {
		want := pts[(i*999+4)/9].At
		if !p.At.Equal(want) {
			t.Errorf("point %d at %v, want %v", i, p.At, want)
		}
	}
	if one, _ := db.Track("alpha", time.Time{}, time.Time{}, 1); len(one) != 1 || !one[0].At.Equal(t0) {
		t.Errorf("max 1: %+v", one)
	}
	if none, err := db.Track("nobody", time.Time{}, time.Time{}, 0); err != nil || len(none) != 0 {
		t.Errorf("unknown drone: %v, %v", none, err)
	}
	if b, _ := db.Track("bravo", time.Time{}, time.Time{}, 0); len(b) != 1 {
		t.Errorf("bravo: %d points", len(b))
	}
	ids, _ := db.TrackDrones()
	if !reflect.DeepEqual(ids, []string{"alpha", "bravo"}) {
		t.Errorf("TrackDrones = %v", ids)
	}
}

func TestEventsAndAuditQueries(t *testing.T) {
	db := mustOpen(t, "", Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	var recs []app.EventRecord
	for i := range 30 {
		drone, agency := "alpha", "us-agency"
		if i%3 == 0 {
			drone, agency = "bravo", "mx-agency"
		}
		kind := app.KindLinkLost
		if i%2 == 0 {
			kind = app.KindZoneBreached
		}
		recs = append(recs, app.EventRecord{At: t0.Add(time.Duration(i) * time.Second), DroneID: drone, Agency: agency,
			Kind: kind, Severity: app.SevWarning, Params: map[string]string{"i": string(rune('a' + i))}})
	}
	must(t, db.AppendEvents(recs[:15]...))
	must(t, db.AppendEvents(recs[15:]...))

	got, err := db.Events(app.EventQuery{})
	must(t, err)
	if len(got) != 30 {
		t.Fatalf("%d events, want 30", len(got))
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) || !r.At.Equal(recs[i].At) || r.Params["i"] != recs[i].Params["i"] {
			t.Fatalf("event %d = %+v, want %+v with seq %d", i, r, recs[i], i+1)
		}
	}
	check := func(name string, q app.EventQuery, want []int) {
		t.Helper()
		got, err := db.Events(q)
		must(t, err)
		var idx []int
		for _, r := range got {
			idx = append(idx, int(r.At.Sub(t0)/time.Second))
		}
		if !reflect.DeepEqual(idx, want) {
			t.Errorf("%s: events %v, want %v", name, idx, want)
		}
	}
	check("range", app.EventQuery{From: t0.Add(5 * time.Second), To: t0.Add(9 * time.Second)}, []int{5, 6, 7, 8})
	check("drone", app.EventQuery{DroneID: "bravo", To: t0.Add(10 * time.Second)}, []int{0, 3, 6, 9})
	check("agency", app.EventQuery{Agency: "mx-agency", From: t0.Add(20 * time.Second)}, []int{21, 24, 27})
	check("kinds", app.EventQuery{Kinds: []string{app.KindLinkLost}, From: t0.Add(20 * time.Second)}, []int{21, 23, 25, 27, 29})
	check("limit keeps newest", app.EventQuery{Limit: 3}, []int{27, 28, 29})
	check("to past the end", app.EventQuery{From: t0.Add(28 * time.Second), To: t0.Add(time.Hour)}, []int{28, 29})
	check("empty range", app.EventQuery{From: t0.Add(time.Hour)}, nil)

	entries := []app.AuditEntry{
		{At: t0, Label: "ana", Role: app.RoleOperator, Agency: "us-agency", Action: "Control.Arm", DroneID: "alpha", DroneAgency: "us-agency"},
		{At: t0.Add(time.Second), Label: "luis", Role: app.RoleOperator, Agency: "mx-agency", Action: "Control.Land", DroneID: "alpha", DroneAgency: "us-agency", Code: fleet.Forbidden, Message: "no grant"},
		{Label: "root", Role: app.RoleAdmin, Action: "Admin.CreateToken", Summary: "label=ops"},
	}
	for _, e := range entries {
		must(t, db.AppendAudit(e))
	}
	all, err := db.Audit(app.AuditQuery{})
	must(t, err)
	if len(all) != 3 || all[0].Seq != 1 || all[2].Seq != 3 || !all[2].At.Equal(t0.Add(time.Hour)) || all[1].Code != fleet.Forbidden {
		t.Fatalf("audit = %+v", all)
	}
	if mx, _ := db.Audit(app.AuditQuery{Agency: "mx-agency"}); len(mx) != 1 || mx[0].Label != "luis" {
		t.Errorf("audit by agency mx: %+v", mx)
	}
	if us, _ := db.Audit(app.AuditQuery{Agency: "us-agency"}); len(us) != 2 {
		t.Errorf("audit by agency us (caller or drone): %d entries, want 2", len(us))
	}
	if r, _ := db.Audit(app.AuditQuery{From: t0.Add(time.Second), To: t0.Add(time.Minute), DroneID: "alpha"}); len(r) != 1 || r[0].Label != "luis" {
		t.Errorf("audit by range and drone: %+v", r)
	}
}

func TestMissionsStored(t *testing.T) {
	db := mustOpen(t, "", Options{})
	items := []fleet.MissionItem{
		{Seq: 0, Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: 32.5, Lon: -117, Alt: 20},
		{Seq: 1, Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Current: true, Autocontinue: true, Alt: 40, Param4: math.NaN()},
		{Seq: 2, Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Param1: 1, Param2: -1, Autocontinue: true},
	}
	b := &batch{missions: []missionUpdate{
		{drone: "alpha", mission: "m1", at: t0, upload: true, items: items},
		{drone: "alpha", mission: "m1", at: t0.Add(time.Minute), change: MissionChange{At: t0.Add(time.Minute), Kind: app.KindMissionStarted, Seq: -1}},
		{drone: "bravo", mission: "m2", at: t0.Add(2 * time.Minute), change: MissionChange{At: t0.Add(2 * time.Minute), Kind: app.KindMissionStarted, Seq: 3}},
	}}
	must(t, db.write(b))
	must(t, db.write(&batch{missions: []missionUpdate{{drone: "alpha", mission: "m1", at: t0.Add(3 * time.Minute),
		change: MissionChange{At: t0.Add(3 * time.Minute), Kind: app.KindMissionInterrupted, Seq: 2, Reason: "link_lost", Mode: "RTL"}}}}))

	ms, err := db.Missions("alpha", time.Time{}, time.Time{})
	must(t, err)
	if len(ms) != 1 {
		t.Fatalf("%d missions of alpha, want 1", len(ms))
	}
	m := ms[0]
	if m.MissionID != "m1" || !m.Uploaded.Equal(t0) || !m.Updated.Equal(t0.Add(3*time.Minute)) || len(m.Changes) != 2 ||
		m.Changes[1].Reason != "link_lost" || m.Changes[1].Seq != 2 {
		t.Errorf("mission = %+v", m)
	}
	if len(m.Items) != 3 || !math.IsNaN(m.Items[1].Param4) || m.Items[2].Param2 != -1 || !m.Items[1].Current || m.Items[0].Lat != 32.5 {
		t.Errorf("items = %+v", m.Items)
	}
	all, _ := db.Missions("", time.Time{}, time.Time{})
	if len(all) != 2 || all[0].MissionID != "m1" || all[1].MissionID != "m2" || all[1].Items != nil {
		t.Errorf("all missions = %+v", all)
	}
	if recent, _ := db.Missions("", t0.Add(150*time.Second), time.Time{}); len(recent) != 1 || recent[0].MissionID != "m1" {
		t.Errorf("missions updated since 2.5 min: %+v, want m1", recent)
	}
	if old, _ := db.Missions("", time.Time{}, t0.Add(150*time.Second)); len(old) != 1 || old[0].MissionID != "m2" {
		t.Errorf("missions updated before 2.5 min: %+v", old)
	}
}

func TestTrackAcrossCompaction(t *testing.T) {
	db := mustOpen(t, "", Options{})
	var pts []app.TrackPoint
	for i := range 300 {
		pts = append(pts, samplePoint(t0.Add(time.Duration(i)*time.Second), i))
	}
	// 0..199 compacted into the drone's bucket, 200..299 still recent, and
	// the same time as point 150 rewritten in recent (it wins).
	must(t, db.AppendTrack("alpha", pts[:200]...))
	must(t, db.AppendTrack("bravo", pts[:10]...))
	must(t, db.compact(true))
	if n := db.recentN.Load(); n != 0 {
		t.Fatalf("after compaction %d recent points counted", n)
	}
	changed := pts[150]
	changed.Mode = "RTL"
	must(t, db.AppendTrack("alpha", pts[200:]...))
	must(t, db.AppendTrack("alpha", changed))
	all, err := db.Track("alpha", time.Time{}, time.Time{}, 0)
	must(t, err)
	if len(all) != 300 {
		t.Fatalf("%d points, want 300", len(all))
	}
	for i, p := range all {
		if !p.At.Equal(pts[i].At) {
			t.Fatalf("point %d at %v, want %v", i, p.At, pts[i].At)
		}
	}
	if all[150].Mode != "RTL" || all[149].Mode != "AUTO" {
		t.Errorf("point 150 mode %q, want the rewritten RTL", all[150].Mode)
	}
	// A range across both, downsampled: first and last kept.
	part, err := db.Track("alpha", t0.Add(190*time.Second), t0.Add(211*time.Second), 3)
	must(t, err)
	if len(part) != 3 || !part[0].At.Equal(pts[190].At) || !part[1].At.Equal(pts[200].At) || !part[2].At.Equal(pts[210].At) {
		t.Errorf("downsampled range = %v %v %v", part[0].At, part[1].At, part[2].At)
	}
	if b, _ := db.Track("bravo", time.Time{}, time.Time{}, 0); len(b) != 10 {
		t.Errorf("bravo: %d points after compaction, want 10", len(b))
	}
	// Retention reaches both buckets.
	db.trimMu.Lock()
	err = db.deleteBefore(t0.Add(250 * time.Second))
	db.trimMu.Unlock()
	must(t, err)
	if rest, _ := db.Track("alpha", time.Time{}, time.Time{}, 0); len(rest) != 50 || !rest[0].At.Equal(pts[250].At) {
		t.Errorf("after retention %d points", len(rest))
	}
	if ids, _ := db.TrackDrones(); !reflect.DeepEqual(ids, []string{"alpha"}) {
		t.Errorf("drones %v, want alpha only", ids)
	}
}
