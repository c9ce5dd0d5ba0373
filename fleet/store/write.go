package store

import (
	"encoding/binary"
	"encoding/json"
	"slices"

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

	// The journal encoder's buffers, reused from commit to commit.
	enc     []byte
	raw     []rawPoint
	next    []int32
	groupOf map[string]int32
	groups  []pointGroup
	run     []rawPoint
	chunk   []byte
	vals    [][]byte
}

type dronePoint struct {
	drone string
	p     app.TrackPoint
}

// pointGroup lists one drone's points of a batch: the indexes from head,
// linked by batch.next.
type pointGroup struct {
	id         string
	head, tail int32
}

func (b *batch) len() int { return len(b.points) + len(b.events) + len(b.missions) }

func (b *batch) reset() {
	b.points, b.events, b.missions, b.reports = b.points[:0], b.events[:0], b.missions[:0], b.reports[:0]
}

// journal encodes b's points as the values of the recent bucket (see
// chunk.go): grouped by drone, each drone's in time order (of points at
// the same time, the last), in values of at most journalMax bytes. The
// values are slices of one new buffer, which bbolt holds until the commit.
func (b *batch) journal() [][]byte {
	b.vals = b.vals[:0]
	if len(b.points) == 0 {
		return nil
	}
	// Encode every point once; enc never grows past its capacity, so the
	// slices into it stay valid.
	b.enc = slices.Grow(b.enc[:0], len(b.points)*(pointBody+maxModeLen))
	b.raw, b.next, b.groups = b.raw[:0], b.next[:0], b.groups[:0]
	if b.groupOf == nil {
		b.groupOf = make(map[string]int32)
	}
	clear(b.groupOf)
	modeLen := 0
	for i, dp := range b.points {
		start := len(b.enc)
		b.enc = appendPointFixed(b.enc, dp.p)
		mode := dp.p.Mode
		if len(mode) > maxModeLen {
			mode = mode[:maxModeLen]
		}
		b.enc = append(b.enc, mode...)
		modeLen += len(mode)
		b.raw = append(b.raw, rawPoint{at: timeNanos(dp.p.At), fixed: b.enc[start : start+pointBody : start+pointBody],
			mode: b.enc[start+pointBody : len(b.enc) : len(b.enc)]})
		b.next = append(b.next, -1)
		g, ok := b.groupOf[dp.drone]
		if !ok {
			b.groupOf[dp.drone] = int32(len(b.groups))
			b.groups = append(b.groups, pointGroup{id: dp.drone, head: int32(i), tail: int32(i)})
			continue
		}
		b.next[b.groups[g].tail] = int32(i)
		b.groups[g].tail = int32(i)
	}
	out := make([]byte, 0, len(b.points)*(pointBody+6)+modeLen+len(b.groups)*24+64)
	valStart := -1
	for _, g := range b.groups {
		run := b.run[:0]
		for i := g.head; i >= 0; i = b.next[i] {
			run = append(run, b.raw[i])
		}
		run = sortPoints(run)
		b.run = run
		splitChunks(run, max(journalMax-len(g.id)-16, 512), func(r []rawPoint) error {
			b.chunk = appendChunk(b.chunk[:0], r)
			section := uvarintLen(uint64(len(g.id))) + len(g.id) + uvarintLen(uint64(len(b.chunk))) + len(b.chunk)
			if valStart >= 0 && len(out)-valStart+section > journalMax {
				b.vals = append(b.vals, out[valStart:len(out):len(out)])
				valStart = -1
			}
			if valStart < 0 {
				valStart = len(out)
				out = append(out, journalVersion)
			}
			out = binary.AppendUvarint(out, uint64(len(g.id)))
			out = append(out, g.id...)
			out = binary.AppendUvarint(out, uint64(len(b.chunk)))
			out = append(out, b.chunk...)
			return nil
		})
	}
	if valStart >= 0 {
		b.vals = append(b.vals, out[valStart:len(out):len(out)])
	}
	return b.vals
}

// write commits b in one transaction: all of it or, on failure, nothing.
func (db *DB) write(b *batch) error {
	if b.len() == 0 {
		return nil
	}
	vals := b.journal()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		// Points go to the recent bucket, a journal keyed by sequence: a
		// commit appends a few values to its last pages, however many
		// drones it holds. Compaction moves them to the drones' buckets
		// in large groups later.
		recent := tx.Bucket(bucketRecent)
		recent.FillPercent = 1
		keys := make([]byte, 0, 8*len(vals))
		for _, v := range vals {
			seq, err := recent.NextSequence()
			if err != nil {
				return err
			}
			keys = binary.BigEndian.AppendUint64(keys, seq)
			if err := recent.Put(keys[len(keys)-8:], v); err != nil {
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
