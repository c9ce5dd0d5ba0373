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
	// reports are the re-sync records the missions produced (written with
	// the events), for the recorder to log.
	reports []app.EventRecord
}

type dronePoint struct {
	drone string
	p     app.TrackPoint
}

func (b *batch) len() int { return len(b.points) + len(b.events) + len(b.missions) }

func (b *batch) reset() {
	b.points, b.events, b.missions, b.reports = b.points[:0], b.events[:0], b.missions[:0], b.reports[:0]
}

// write commits b in one transaction: all of it or, on failure, nothing.
func (db *DB) write(b *batch) error {
	if b.len() == 0 {
		return nil
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		// Points go to the time-ordered recent bucket: a commit appends to
		// its last pages only, however many drones it holds. Compaction
		// moves them to the drones' buckets in large groups later.
		recent := tx.Bucket(bucketRecent)
		recent.FillPercent = 0.95
		// bbolt keeps the values until the commit: one arena for the batch.
		arena := make([]byte, 0, len(b.points)*(pointFixed+8))
		for _, dp := range b.points {
			start := len(arena)
			arena = appendPoint(arena, dp.p)
			if err := recent.Put(recentKey(dp.p.At, dp.drone), arena[start:len(arena):len(arena)]); err != nil {
				return err
			}
		}
		b.reports = b.reports[:0]
		ms := tx.Bucket(bucketMissions)
		for _, u := range b.missions {
			r, err := putMission(ms, u)
			if err != nil {
				return err
			}
			if r != nil {
				b.reports = append(b.reports, *r)
			}
		}
		ev := tx.Bucket(bucketEvents)
		ev.FillPercent = 0.95
		for _, list := range [][]app.EventRecord{b.events, b.reports} {
			for _, r := range list {
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
		return nil
	})
	if err != nil {
		return internal("write history", err)
	}
	db.recentN.Add(int64(len(b.points)))
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
