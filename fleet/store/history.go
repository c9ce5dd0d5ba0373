package store

import (
	"bytes"
	"encoding/json"
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
		n := 0
		eachPoint(tx, id, from, to, func(_, _ []byte) bool { n++; return true })
		if n == 0 {
			return nil
		}
		// Pick indexes round(i*(n-1)/(m-1)), i = 0..m-1: first and last kept.
		m := min(n, max)
		out = make([]app.TrackPoint, 0, m)
		next, i := 0, 0
		var err error
		eachPoint(tx, id, from, to, func(k, v []byte) bool {
			if i == next {
				var p app.TrackPoint
				if p, err = decodePoint(keyTime(k), v); err != nil {
					return false
				}
				out = append(out, p)
				if m > 1 {
					next = (len(out)*(n-1) + (m-1)/2) / (m - 1)
				}
			}
			i++
			return len(out) < m
		})
		return err
	})
	if err != nil {
		return nil, internal("track", err)
	}
	return out, nil
}

// eachPoint calls fn with the keys (times) and values of drone id's points
// in [from, to), in time order, merged from its bucket and the recent one,
// while fn returns true. A time in both is the recent one's.
func eachPoint(tx *bolt.Tx, id string, from, to time.Time, fn func(k, v []byte) bool) {
	start, end := timeKey(from), timeKey(to)
	inRange := func(k []byte) bool { return k != nil && (to.IsZero() || bytes.Compare(k[:8], end) < 0) }
	var a *bolt.Cursor
	var ak, av []byte
	if b := tx.Bucket(bucketTracks).Bucket([]byte(id)); b != nil {
		a = b.Cursor()
		ak, av = a.Seek(start)
	}
	r := tx.Bucket(bucketRecent).Cursor()
	nextRecent := func(k, v []byte) ([]byte, []byte) {
		for ; inRange(k); k, v = r.Next() {
			if len(k) > 8 && string(k[8:]) == id {
				return k, v
			}
		}
		return nil, nil
	}
	rk, rv := nextRecent(r.Seek(start))
	for {
		aok, rok := inRange(ak), rk != nil
		switch {
		case !aok && !rok:
			return
		case aok && rok && bytes.Equal(ak, rk[:8]):
			ak, av = a.Next()
		case aok && (!rok || bytes.Compare(ak, rk[:8]) < 0):
			if !fn(ak, av) {
				return
			}
			ak, av = a.Next()
		default:
			if !fn(rk[:8], rv) {
				return
			}
			rk, rv = nextRecent(r.Next())
		}
	}
}

// TrackDrones returns the ids of the drones with stored samples.
func (db *DB) TrackDrones() ([]string, error) {
	seen := map[string]bool{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRecent).ForEach(func(k, _ []byte) error {
			seen[string(k[8:])] = true
			return nil
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
