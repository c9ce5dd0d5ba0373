package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet/app"
)

// codecPoint is p as stored and read back (the codec's resolution).
func codecPoint(tb testing.TB, p app.TrackPoint) app.TrackPoint {
	tb.Helper()
	q, err := decodePoint(p.At, appendPoint(nil, p))
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// samePoints fails unless got and want are the same points (NaN headings
// equal).
func samePoints(tb testing.TB, what string, got, want []app.TrackPoint) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d points, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !got[i].At.Equal(want[i].At) || !samePoint(withUTC(got[i]), withUTC(want[i])) {
			tb.Fatalf("%s: point %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func withUTC(p app.TrackPoint) app.TrackPoint { p.At = p.At.UTC(); return p }

// TestOpenSchema1File opens a file written by the code of schema 1 (main
// at e6319d2, before track chunks) and reads, records into and trims it.
// testdata/schema1.db.gz was made there by a throwaway test in this
// package:
//
//	db, _ := Open(path, Options{MaxAge: -1, MaxSize: -1})
//	pts: samplePoint(t0.Add(i*time.Second), i) for i in 0..299
//	db.AppendTrack("alpha", pts[:200]...); db.AppendTrack("bravo", pts[:10]...)
//	db.compact(true) // into the drones' buckets, a point a key
//	changed := pts[150]; changed.Mode = "RTL"
//	db.AppendTrack("alpha", pts[200:]...); db.AppendTrack("alpha", changed)
//	db.AppendTrack("bravo", pts[10:20]...); db.AppendTrack("charlie", pts[:5]...)
//	db.AppendEvents(app.EventRecord{At: t0, DroneID: "alpha", Kind: app.KindLinkLost})
//	db.PutToken(app.Token{ID: "tok", Label: "ops", Created: t0})
//	db.Close(); then gzip -9.
func TestOpenSchema1File(t *testing.T) {
	gz, err := os.Open("testdata/schema1.db.gz")
	must(t, err)
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	must(t, err)
	raw, err := io.ReadAll(zr)
	must(t, err)
	path := filepath.Join(t.TempDir(), "schema1.db")
	must(t, os.WriteFile(path, raw, 0o600))

	var pts []app.TrackPoint
	for i := range 300 {
		pts = append(pts, codecPoint(t, samplePoint(t0.Add(time.Duration(i)*time.Second), i)))
	}
	alpha := append([]app.TrackPoint(nil), pts...)
	alpha[150].Mode = "RTL"

	db := mustOpen(t, path, Options{MaxAge: -1, MaxSize: -1})
	var v uint32
	db.bolt.View(func(tx *bolt.Tx) error {
		v = uint32(tx.Bucket(bucketMeta).Get(keySchema)[3])
		return nil
	})
	if v != SchemaVersion {
		t.Fatalf("schema %d after Open, want %d", v, SchemaVersion)
	}
	check := func(when string) {
		t.Helper()
		got, err := db.Track("alpha", time.Time{}, time.Time{}, 0)
		must(t, err)
		samePoints(t, when+": alpha", got, alpha)
		got, _ = db.Track("bravo", time.Time{}, time.Time{}, 0)
		samePoints(t, when+": bravo", got, pts[:20])
		got, _ = db.Track("charlie", time.Time{}, time.Time{}, 0)
		samePoints(t, when+": charlie", got, pts[:5])
		got, _ = db.Track("alpha", t0.Add(145*time.Second), t0.Add(155*time.Second), 0)
		samePoints(t, when+": alpha [145 s, 155 s)", got, alpha[145:155])
		if ids, _ := db.TrackDrones(); !reflect.DeepEqual(ids, []string{"alpha", "bravo", "charlie"}) {
			t.Fatalf("%s: drones %v", when, ids)
		}
	}
	check("migrated")
	if evs, _ := db.Events(app.EventQuery{}); len(evs) != 1 || evs[0].DroneID != "alpha" {
		t.Errorf("events %+v", evs)
	}
	if tok, err := db.Token("tok"); err != nil || tok.Label != "ops" {
		t.Errorf("token %+v, %v", tok, err)
	}
	// New points after, and over, the old ones: into chunks next to the
	// version 1 points.
	more := make([]app.TrackPoint, 0, 100)
	for i := 300; i < 400; i++ {
		more = append(more, codecPoint(t, samplePoint(t0.Add(time.Duration(i)*time.Second), i)))
	}
	must(t, db.AppendTrack("alpha", more...))
	over := codecPoint(t, samplePoint(t0.Add(100*time.Second), 1000))
	must(t, db.AppendTrack("alpha", over))
	alpha = append(alpha, more...)
	alpha[100] = over
	check("recent")
	must(t, db.compact(true))
	check("compacted")
	db.Close()
	db = mustOpen(t, path, Options{MaxAge: -1, MaxSize: -1})
	check("reopened")
	db.trimMu.Lock()
	n, err := db.deleteBeforeN(t0.Add(250*time.Second + 500*time.Millisecond))
	db.trimMu.Unlock()
	must(t, err)
	if st := db.TrimStats(); n != 251+20+5+1 || st.Points != 251+20+5 || st.Events != 1 {
		t.Errorf("retention removed %d entries (%+v), want %d points and the event", n, st, 251+20+5)
	}
	got, _ := db.Track("alpha", time.Time{}, time.Time{}, 0)
	samePoints(t, "alpha after retention", got, alpha[251:])
	if ids, _ := db.TrackDrones(); !reflect.DeepEqual(ids, []string{"alpha"}) {
		t.Errorf("drones after retention %v", ids)
	}
}

// Points written in any order, over each other and across compactions,
// read back as the last written of each time, in time order; retention
// cuts through chunks.
func TestTrackChunksMerge(t *testing.T) {
	db := mustOpen(t, "", Options{MaxAge: -1, MaxSize: -1})
	want := map[int64]app.TrackPoint{}
	put := func(id string, secs ...int) {
		t.Helper()
		var ps []app.TrackPoint
		for _, s := range secs {
			p := codecPoint(t, samplePoint(t0.Add(time.Duration(s)*time.Second), s+len(want)))
			p.Mode = fmt.Sprintf("M%d", len(want)%3)
			ps = append(ps, p)
			if id == "alpha" {
				want[int64(s)] = p
			}
		}
		must(t, db.AppendTrack(id, ps...))
	}
	ordered := func() []app.TrackPoint {
		var out []app.TrackPoint
		for s := int64(0); s <= 10001; s++ {
			if p, ok := want[s]; ok {
				out = append(out, p)
			}
		}
		return out
	}
	seq := func(from, to, step int) []int {
		var s []int
		for i := from; i < to; i += step {
			s = append(s, i)
		}
		return s
	}
	put("alpha", seq(0, 2000, 2)...) // several chunks
	put("bravo", seq(0, 50, 1)...)
	must(t, db.compact(true))
	put("alpha", seq(1, 2001, 2)...)   // between every point
	put("alpha", 500, 400, 500, 10001) // out of order, twice the same
	got, _ := db.Track("alpha", time.Time{}, time.Time{}, MaxTrackPoints)
	samePoints(t, "before compaction", got, ordered())
	must(t, db.compact(true))
	got, _ = db.Track("alpha", time.Time{}, time.Time{}, MaxTrackPoints)
	samePoints(t, "after compaction", got, ordered())
	put("alpha", seq(1500, 1600, 1)...) // over the compacted chunks
	must(t, db.compact(true))
	got, _ = db.Track("alpha", time.Time{}, time.Time{}, MaxTrackPoints)
	all := ordered()
	samePoints(t, "after a second compaction", got, all)
	got, _ = db.Track("alpha", t0.Add(999*time.Second), t0.Add(1003*time.Second), 0)
	samePoints(t, "a range", got, all[999:1003])
	if b, _ := db.Track("bravo", time.Time{}, time.Time{}, 0); len(b) != 50 {
		t.Errorf("bravo: %d points", len(b))
	}
	// Entries of alpha's bucket never overlap, and hold many points.
	entries := 0
	db.bolt.View(func(tx *bolt.Tx) error {
		var it chunkIter
		prev := uint64(0)
		return tx.Bucket(bucketTracks).Bucket([]byte("alpha")).ForEach(func(k, v []byte) error {
			must(t, it.reset(k, v))
			if entries > 0 && it.at <= prev {
				t.Fatalf("entry at %d overlaps the one before (to %d)", it.at, prev)
			}
			prev = it.last
			entries++
			return nil
		})
	})
	if entries == 0 || entries > len(all)/20 {
		t.Errorf("%d entries for %d points", entries, len(all))
	}
	db.trimMu.Lock()
	n, err := db.deleteBeforeN(t0.Add(1234*time.Second + time.Millisecond))
	db.trimMu.Unlock()
	must(t, err)
	if n != 1235+50 {
		t.Errorf("retention removed %d points, want %d", n, 1235+50)
	}
	got, _ = db.Track("alpha", time.Time{}, time.Time{}, MaxTrackPoints)
	samePoints(t, "after retention", got, all[1235:])
	if st := db.TrimStats(); st.Points != 1235+50 {
		t.Errorf("trim stats %+v", st)
	}
}

func TestChunkRoundTrip(t *testing.T) {
	var pts []rawPoint
	modes := []string{"AUTO", "AUTO", "", "", "RTL", "AUTO"}
	for i, m := range modes {
		p := samplePoint(t0.Add(time.Duration(i*i)*time.Millisecond), i)
		pts = append(pts, rawPoint{at: timeNanos(p.At) + uint64(i), fixed: appendPointFixed(nil, p), mode: []byte(m)})
	}
	c := appendChunk(nil, pts)
	var it chunkIter
	must(t, it.reset(c[1:9], c))
	if it.count() != len(pts) || it.last != pts[len(pts)-1].at {
		t.Fatalf("count %d last %d", it.count(), it.last)
	}
	for i := 0; it.next(); i++ {
		if p := it.point(); p.at != pts[i].at || !bytes.Equal(p.fixed, pts[i].fixed) || string(p.mode) != modes[i] {
			t.Fatalf("point %d = %+v, want %+v", i, p, pts[i])
		}
	}
	if it.err != nil {
		t.Fatal(it.err)
	}
	for cut := range len(c) {
		if it.resetChunk(c[:cut]) == nil {
			for it.next() {
			}
			if it.err == nil {
				t.Fatalf("a chunk cut at %d of %d bytes read", cut, len(c))
			}
		}
	}
}

// FuzzDecodeChunk: whatever reads as a chunk re-encodes to the same
// points.
func FuzzDecodeChunk(f *testing.F) {
	p := samplePoint(t0, 1)
	f.Add(appendChunk(nil, []rawPoint{{at: 5, fixed: appendPointFixed(nil, p), mode: []byte("AUTO")},
		{at: 9, fixed: appendPointFixed(nil, p), mode: []byte("AUTO")}}))
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var it chunkIter
		if it.resetChunk(b) != nil {
			return
		}
		var pts []rawPoint
		for it.next() {
			pts = append(pts, it.point())
		}
		if it.err != nil {
			return
		}
		if len(pts) == 0 {
			t.Fatalf("%x read as an empty chunk", b)
		}
		again := appendChunk(nil, pts)
		var it2 chunkIter
		if err := it2.resetChunk(again); err != nil {
			t.Fatalf("re-encoding %x: %v", b, err)
		}
		for i := 0; it2.next(); i++ {
			q := it2.point()
			if q.at != pts[i].at || !bytes.Equal(q.fixed, pts[i].fixed) || !bytes.Equal(q.mode, pts[i].mode) {
				t.Fatalf("point %d: %+v became %+v", i, pts[i], q)
			}
			got := pointFrom(nanosTime(q.at), q.fixed, string(q.mode))
			if math.IsNaN(got.Lat) {
				t.Fatalf("point %d decodes to NaN", i)
			}
		}
		if it2.err != nil {
			t.Fatalf("re-encoded %x: %v", again, it2.err)
		}
	})
}
