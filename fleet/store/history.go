package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// Query limits.
const (
	// DefaultLimit is the number of events or audit entries returned when a
	// query names no Limit; MaxLimit the most ever returned.
	DefaultLimit = 1000
	MaxLimit     = 100_000
	// DefaultTrackPoints is the most track points returned when Track names
	// no maximum; MaxTrackPoints the most ever returned.
	DefaultTrackPoints = 10_000
	MaxTrackPoints     = 100_000
)

func queryLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fleet.Errorf(fleet.Invalid, "limit %d: want 0 (default) or more", n)
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// AppendAudit appends e, assigning its Seq (and its At, when zero, from
// the store's clock). Returns Internal when the storage fails.
func (db *DB) AppendAudit(e app.AuditEntry) error {
	if e.At.IsZero() {
		e.At = db.opts.Now()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(seqKey(e.At, seq), data)
	})
	if err != nil {
		return internal("append audit", err)
	}
	return nil
}

// Audit returns the entries q selects, oldest first; with more than
// q.Limit (default DefaultLimit, at most MaxLimit) the newest are kept.
// Returns Invalid for a negative limit.
func (db *DB) Audit(q app.AuditQuery) ([]app.AuditEntry, error) {
	limit, err := queryLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	var out []app.AuditEntry
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return scanBack(tx.Bucket(bucketAudit), q.From, q.To, func(v []byte) (bool, error) {
			var e app.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, err
			}
			if q.Match(e) {
				out = append(out, e)
			}
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, internal("audit", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Events returns the records q selects, oldest first; with more than
// q.Limit (default DefaultLimit, at most MaxLimit) the newest are kept.
// Returns Invalid for a negative limit.
func (db *DB) Events(q app.EventQuery) ([]app.EventRecord, error) {
	limit, err := queryLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	var out []app.EventRecord
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return scanBack(tx.Bucket(bucketEvents), q.From, q.To, func(v []byte) (bool, error) {
			var r app.EventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if matchEvent(q, r) {
				out = append(out, r)
			}
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, internal("events", err)
	}
	slices.Reverse(out)
	return out, nil
}

func matchEvent(q app.EventQuery, r app.EventRecord) bool {
	if q.DroneID != "" && r.DroneID != q.DroneID {
		return false
	}
	if q.Agency != "" && r.Agency != q.Agency {
		return false
	}
	return len(q.Kinds) == 0 || slices.Contains(q.Kinds, r.Kind)
}

// scanBack calls fn with the values of b's time-keyed entries in [from, to),
// newest first, while fn returns true.
func scanBack(b *bolt.Bucket, from, to time.Time, fn func(v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if to.IsZero() {
		k, v = c.Last()
	} else {
		end := timeKey(to)
		if k, v = c.Seek(end); k == nil {
			k, v = c.Last()
		}
		for k != nil && bytes.Compare(k, end) >= 0 {
			k, v = c.Prev()
		}
	}
	start := timeKey(from)
	for ; k != nil && (from.IsZero() || bytes.Compare(k, start) >= 0); k, v = c.Prev() {
		more, err := fn(v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// Track returns drone id's samples in [from, to) (zero times: unbounded),
// oldest first, downsampled evenly to at most max points (0: the default
// DefaultTrackPoints; at most MaxTrackPoints): the first and last samples
// are kept and the others picked at even steps. An unknown drone has no
// samples. Returns Invalid for a negative max.
func (db *DB) Track(id string, from, to time.Time, max int) ([]app.TrackPoint, error) {
	switch {
	case max < 0:
		return nil, fleet.Errorf(fleet.Invalid, "max %d: want 0 (default) or more", max)
	case max == 0:
		max = DefaultTrackPoints
	case max > MaxTrackPoints:
		max = MaxTrackPoints
	}
	var out []app.TrackPoint
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r := trackRange{id: id, from: timeNanos(from), to: timeNanos(to), bounded: !to.IsZero()}
		if err := r.readRecent(tx); err != nil {
			return err
		}
		n := 0
		if err := r.each(tx, func(rawPoint) bool { n++; return true }); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		// Pick indexes round(i*(n-1)/(m-1)), i = 0..m-1: first and last kept.
		m := min(n, max)
		out = make([]app.TrackPoint, 0, m)
		next, i := 0, 0
		mode := ""
		return r.each(tx, func(p rawPoint) bool {
			if i == next {
				if string(p.mode) != mode {
					mode = string(p.mode)
				}
				out = append(out, pointFrom(nanosTime(p.at), p.fixed, mode))
				if m > 1 {
					next = (len(out)*(n-1) + (m-1)/2) / (m - 1)
				}
			}
			i++
			return len(out) < m
		})
	})
	if err != nil {
		return nil, internal("track", err)
	}
	return out, nil
}

// trackRange reads drone id's points in [from, to) (to: only if bounded),
// in time order, merged from its bucket and the recent one. A time in both
// is the recent one's.
type trackRange struct {
	id       string
	from, to uint64
	bounded  bool
	recent   []rawPoint
}

func (r *trackRange) in(at uint64) bool { return at >= r.from && (!r.bounded || at < r.to) }

// readRecent collects the drone's points of the recent bucket.
func (r *trackRange) readRecent(tx *bolt.Tx) error {
	var it chunkIter
	err := tx.Bucket(bucketRecent).ForEach(func(k, v []byte) error {
		return eachSection(v, func(id, chunk []byte) error {
			if string(id) != r.id {
				return nil
			}
			if err := it.resetChunk(chunk); err != nil {
				return err
			}
			if it.last < r.from || (r.bounded && it.at >= r.to) {
				return nil
			}
			for it.next() {
				if p := it.point(); r.in(p.at) {
					r.recent = append(r.recent, p)
				}
			}
			return it.err
		})
	})
	// Later values are newer: of points at the same time, the last wins.
	r.recent = sortPoints(r.recent)
	return err
}

// seekEntry moves c, on a drone's bucket of entries keyed by their first
// time, to the entry that may hold the time at: the last starting at or
// before it, else the first (nil when the bucket is empty).
func seekEntry(c *bolt.Cursor, at uint64) (k, v []byte) {
	fk := binary.BigEndian.AppendUint64(nil, at)
	k, v = c.Seek(fk)
	switch {
	case k == nil:
		k, v = c.Last()
	case !bytes.Equal(k, fk):
		if k, v = c.Prev(); k == nil {
			k, v = c.First()
		}
	}
	return k, v
}

// each calls fn with the points, in time order, while fn returns true.
func (r *trackRange) each(tx *bolt.Tx, fn func(p rawPoint) bool) error {
	j := 0
	if b := tx.Bucket(bucketTracks).Bucket([]byte(r.id)); b != nil {
		c := b.Cursor()
		// The entry holding from, or the first after it.
		k, v := seekEntry(c, r.from)
		var it chunkIter
	entries:
		for ; k != nil; k, v = c.Next() {
			if err := it.reset(k, v); err != nil {
				return fmt.Errorf("track of %q at %x: %w", r.id, k, err)
			}
			if r.bounded && it.at >= r.to {
				break
			}
			if it.last < r.from {
				continue
			}
			for it.next() {
				p := it.point()
				if p.at < r.from {
					continue
				}
				if r.bounded && p.at >= r.to {
					break entries
				}
				for ; j < len(r.recent) && r.recent[j].at < p.at; j++ {
					if !fn(r.recent[j]) {
						return nil
					}
				}
				if j < len(r.recent) && r.recent[j].at == p.at {
					continue
				}
				if !fn(p) {
					return nil
				}
			}
			if it.err != nil {
				return fmt.Errorf("track of %q at %x: %w", r.id, k, it.err)
			}
		}
	}
	for ; j < len(r.recent); j++ {
		if !fn(r.recent[j]) {
			return nil
		}
	}
	return nil
}

// TrackDrones returns the ids of the drones with stored samples.
func (db *DB) TrackDrones() ([]string, error) {
	seen := map[string]bool{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRecent).ForEach(func(_, v []byte) error {
			return eachSection(v, func(id, _ []byte) error {
				if !seen[string(id)] {
					seen[string(id)] = true
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketTracks).ForEachBucket(func(k []byte) error {
			seen[string(k)] = true
			return nil
		})
	})
	if err != nil {
		return nil, internal("track drones", err)
	}
	out := slices.Collect(maps.Keys(seen))
	slices.Sort(out)
	return out, nil
}
