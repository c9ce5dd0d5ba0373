package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet/app"
)

// batch is what one group commit writes.
type batch struct {
	points   []dronePoint
	events   []app.EventRecord
	missions []missionUpdate
}

type dronePoint struct {
	drone string
	p     app.TrackPoint
}

func (b *batch) len() int { return len(b.points) + len(b.events) + len(b.missions) }

func (b *batch) reset() {
	b.points, b.events, b.missions = b.points[:0], b.events[:0], b.missions[:0]
}

// write commits b in one transaction: all of it or, on failure, nothing.
func (db *DB) write(b *batch) error {
	if b.len() == 0 {
		return nil
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		tracks := tx.Bucket(bucketTracks)
		buckets := map[string]*bolt.Bucket{}
		// bbolt keeps a Put's value until the commit: each point gets its
		// own bytes (appended to one arena; a grown arena leaves the earlier
		// values in the old one, untouched).
		var arena []byte
		for _, dp := range b.points {
			bk := buckets[dp.drone]
			if bk == nil {
				var err error
				if bk, err = tracks.CreateBucketIfNotExists([]byte(dp.drone)); err != nil {
					return err
				}
				// Points arrive in time order: pack the pages full.
				bk.FillPercent = 0.95
				buckets[dp.drone] = bk
			}
			start := len(arena)
			arena = appendPoint(arena, dp.p)
			if err := bk.Put(timeKey(dp.p.At), arena[start:len(arena):len(arena)]); err != nil {
				return err
			}
		}
		if len(b.events) > 0 {
			ev := tx.Bucket(bucketEvents)
			ev.FillPercent = 0.95
			for _, r := range b.events {
				seq, err := ev.NextSequence()
				if err != nil {
					return err
				}
				r.Seq = seq
				data, err := json.Marshal(r)
				if err != nil {
					return err
				}
				if err := ev.Put(seqKey(r.At, seq), data); err != nil {
					return err
				}
			}
		}
		ms := tx.Bucket(bucketMissions)
		for _, u := range b.missions {
			if err := putMission(ms, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return internal("write history", err)
	}
	db.kickTrim()
	return nil
}

// AppendEvents stores records (their Seq is assigned), in one transaction.
// The Recorder stores the fleet's events itself; this is for other writers
// (and tests).
func (db *DB) AppendEvents(recs ...app.EventRecord) error {
	return db.write(&batch{events: recs})
}

// AppendTrack stores drone id's points (keyed by their At; a point at the
// same time as a stored one replaces it), in one transaction. The Recorder
// stores the fleet's telemetry itself; this is for imports (and tests).
func (db *DB) AppendTrack(id string, pts ...app.TrackPoint) error {
	if err := checkID("drone", id); err != nil {
		return err
	}
	b := &batch{points: make([]dronePoint, len(pts))}
	for i, p := range pts {
		b.points[i] = dronePoint{id, p}
	}
	return db.write(b)
}
