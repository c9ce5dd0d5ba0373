package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Retention's size marks, as fractions of Options.MaxSize: above the high
// mark the oldest history is removed until the data is under the low mark.
const (
	trimHigh = 0.85
	trimLow  = 0.70
	// trimBatch is the most keys removed in one transaction, so that the
	// recorder's commits never wait long behind the trimmer.
	trimBatch = 2000
)

// TrimStats counts what retention removed since Open.
type TrimStats struct {
	// Points, Events, Audit and Missions count the entries removed.
	Points, Events, Audit, Missions uint64
	// SizeTrims counts the times the data went over the size bound.
	SizeTrims uint64
	// Err is the last failure of the trimmer (nil if none).
	Err error
}

// TrimStats returns what retention removed since Open.
func (db *DB) TrimStats() TrimStats {
	db.trimMu.Lock()
	defer db.trimMu.Unlock()
	return db.trimmed
}

func (db *DB) kickTrim() {
	select {
	case db.kick <- struct{}{}:
	default:
	}
}

// trimLoop enforces MaxAge every TrimInterval and MaxSize after every
// history write, until Close.
func (db *DB) trimLoop() {
	defer db.wg.Done()
	t := time.NewTicker(db.opts.TrimInterval)
	defer t.Stop()
	for {
		var err error
		select {
		case <-db.done:
			return
		case <-t.C:
			err = db.Trim()
		case <-db.kick:
			if err = db.trimSize(); err == nil {
				err = db.compact(false)
			}
		}
		if err != nil {
			db.log.Warn("retention failed", "err", err)
		}
	}
}

// Trim applies retention now: history older than MaxAge is removed, then,
// if the data uses more than 85 % of MaxSize, the oldest history until it
// uses less than 70 %. It works in small transactions; the background
// trimmer calls it, and tests may. Returns Internal when the storage fails.
func (db *DB) Trim() error {
	db.trimMu.Lock()
	defer db.trimMu.Unlock()
	if db.opts.MaxAge > 0 {
		if err := db.deleteBefore(db.opts.Now().Add(-db.opts.MaxAge)); err != nil {
			return err
		}
	}
	return db.trimSizeLocked()
}

func (db *DB) trimSize() error {
	db.trimMu.Lock()
	defer db.trimMu.Unlock()
	return db.trimSizeLocked()
}

func (db *DB) trimSizeLocked() error {
	if db.opts.MaxSize <= 0 {
		return nil
	}
	high, low := int64(float64(db.opts.MaxSize)*trimHigh), int64(float64(db.opts.MaxSize)*trimLow)
	counted := false
	for range 20 {
		s, err := db.Size()
		if err != nil {
			return db.trimFailed(err)
		}
		if s.UsedBytes <= high || (counted && s.UsedBytes <= low) {
			return nil
		}
		if !counted {
			db.trimmed.SizeTrims++
			counted = true
		}
		oldest, newest, err := db.historySpan()
		if err != nil {
			return db.trimFailed(err)
		}
		if oldest.IsZero() || !newest.After(oldest) {
			return nil // nothing (more) to remove: the rest is setup
		}
		// Remove the share of the time span that should free the excess,
		// taking the recording rate as even; the loop corrects the guess.
		frac := float64(s.UsedBytes-low) / float64(s.UsedBytes)
		cutoff := oldest.Add(time.Duration(frac*float64(newest.Sub(oldest))) + 1)
		n, err := db.deleteBeforeN(cutoff)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// historySpan returns the times of the oldest and newest history entries.
func (db *DB) historySpan() (oldest, newest time.Time, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		seeNanos := func(first, last uint64) {
			if t := nanosTime(first); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
			if t := nanosTime(last); t.After(newest) {
				newest = t
			}
		}
		see := func(b *bolt.Bucket) {
			c := b.Cursor()
			if k, _ := c.First(); len(k) >= 8 {
				l, _ := c.Last()
				seeNanos(binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(l))
			}
		}
		see(tx.Bucket(bucketEvents))
		see(tx.Bucket(bucketAudit))
		var it chunkIter
		err := tx.Bucket(bucketRecent).ForEach(func(_, v []byte) error {
			return eachSection(v, func(_, chunk []byte) error {
				if it.resetChunk(chunk) == nil {
					seeNanos(it.at, it.last)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		tracks := tx.Bucket(bucketTracks)
		return tracks.ForEachBucket(func(k []byte) error {
			c := tracks.Bucket(k).Cursor()
			fk, fv := c.First()
			if fk == nil || it.reset(fk, fv) != nil {
				return nil
			}
			first := it.at
			if lk, lv := c.Last(); it.reset(lk, lv) == nil {
				seeNanos(first, it.last)
			}
			return nil
		})
	})
	return oldest, newest, err
}

func (db *DB) deleteBefore(cutoff time.Time) error {
	_, err := db.deleteBeforeN(cutoff)
	return err
}

// deleteBeforeN removes history older than cutoff, trimBatch keys a
// transaction, and returns how many entries it removed.
func (db *DB) deleteBeforeN(cutoff time.Time) (int, error) {
	end := timeKey(cutoff)
	endN := timeNanos(cutoff)
	// Recent points older than cutoff first join the drones' buckets.
	old, err := db.recentBefore(endN)
	if err != nil {
		return 0, db.trimFailed(err)
	}
	if old {
		if err := db.compactLocked(true); err != nil {
			return 0, err
		}
	}
	var drones [][]byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTracks).ForEachBucket(func(k []byte) error {
			drones = append(drones, bytes.Clone(k))
			return nil
		})
	})
	if err != nil {
		return 0, db.trimFailed(err)
	}
	total := 0
	// run removes, trimBatch at a time, the entries of the bucket pick
	// returns that old selects; timeKeyed buckets stop at the first young one.
	run := func(timeKeyed bool, pick func(tx *bolt.Tx) (*bolt.Bucket, func(k, v []byte) bool), count *uint64) error {
		for {
			select {
			case <-db.done:
				return nil
			default:
			}
			n := 0
			err := db.bolt.Update(func(tx *bolt.Tx) error {
				b, old := pick(tx)
				if b == nil {
					return nil
				}
				var keys [][]byte
				c := b.Cursor()
				for k, v := c.First(); k != nil && len(keys) < trimBatch; k, v = c.Next() {
					if old(k, v) {
						keys = append(keys, bytes.Clone(k))
					} else if timeKeyed {
						break
					}
				}
				for _, k := range keys {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				n = len(keys)
				return nil
			})
			if err != nil {
				return db.trimFailed(err)
			}
			*count += uint64(n)
			total += n
			if n < trimBatch {
				return nil
			}
		}
	}
	byTime := func(k, _ []byte) bool { return bytes.Compare(k, end) < 0 }
	// The drones' buckets, many in one transaction: trimBatch entries,
	// then the next transaction goes on from the drone it stopped at.
	for next := 0; next < len(drones); {
		select {
		case <-db.done:
			return total, nil
		default:
		}
		n, points := 0, 0
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			tracks := tx.Bucket(bucketTracks)
			var it chunkIter
			for ; next < len(drones) && n < trimBatch; next++ {
				b := tracks.Bucket(drones[next])
				if b == nil {
					continue
				}
				var keys [][]byte
				var keep []rawPoint
				budget := false
				c := b.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if n+len(keys) >= trimBatch {
						budget = true
						break
					}
					if err := it.reset(k, v); err != nil {
						return fmt.Errorf("track of %q at %x: %w", drones[next], k, err)
					}
					if it.at >= endN {
						break
					}
					keys = append(keys, bytes.Clone(k))
					if it.last < endN {
						points += it.count()
						continue
					}
					// The entry straddles the cutoff: its young points stay.
					for it.next() {
						if it.at >= endN {
							keep = append(keep, it.point())
						} else {
							points++
						}
					}
					if it.err != nil {
						return fmt.Errorf("track of %q at %x: %w", drones[next], k, it.err)
					}
					break
				}
				// Encoded before the deletes, from the entry's bytes.
				kvs := chunkKVs(nil, keep)
				for _, k := range keys {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				for _, kv := range kvs {
					if err := b.Put(kv.k, kv.v); err != nil {
						return err
					}
				}
				n += len(keys)
				if budget {
					return nil // budget spent within this drone: go on from it
				}
				// A drone without samples left loses its bucket.
				if first, _ := b.Cursor().First(); first == nil {
					if err := tracks.DeleteBucket(drones[next]); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return total, db.trimFailed(err)
		}
		db.trimmed.Points += uint64(points)
		total += points
	}
	for _, x := range []struct {
		name  []byte
		count *uint64
	}{{bucketEvents, &db.trimmed.Events}, {bucketAudit, &db.trimmed.Audit}} {
		err := run(true, func(tx *bolt.Tx) (*bolt.Bucket, func(k, v []byte) bool) {
			return tx.Bucket(x.name), byTime
		}, x.count)
		if err != nil {
			return total, err
		}
	}
	err = run(false, func(tx *bolt.Tx) (*bolt.Bucket, func(k, v []byte) bool) {
		return tx.Bucket(bucketMissions), func(_, v []byte) bool {
			var m storedMission
			if json.Unmarshal(v, &m) != nil {
				return true
			}
			return m.Updated.Before(cutoff)
		}
	}, &db.trimmed.Missions)
	return total, err
}

// Compaction moves points from the recent bucket to the drones' buckets
// once compactAt of them wait, as many a transaction: each drone's bucket
// is then written once for many points, not once a commit. A small
// MaxSize lowers it (compactPoints), so that the recent points, which a
// compaction copies before it frees them, stay a small part of the bound.
const compactAt = 65536

// compactPoints is the compaction threshold for a size bound of maxSize
// bytes (at most a 16th of it, at about 40 bytes a point).
func compactPoints(maxSize int64) int {
	if maxSize <= 0 {
		return compactAt
	}
	return int(min(compactAt, max(1024, maxSize/(16*40))))
}

// compactor holds compaction's buffers, reused from one to the next
// (under trimMu).
type compactor struct {
	raw     []rawPoint
	gid     []int32
	sorted  []rawPoint
	groupOf map[string]int32
	ids     []string
	off     []int32
	order   []int32
	keys    [][]byte
	old     []rawPoint
	merged  []rawPoint
	oldKeys [][]byte
}

// kv is a key and value to put.
type kv struct{ k, v []byte }

// chunkKVs appends the entries (key: the first point's time) of the chunks
// of pts (sorted, distinct times) to kvs, in a new buffer that bbolt may
// hold until the commit.
func chunkKVs(kvs []kv, pts []rawPoint) []kv {
	if len(pts) == 0 {
		return kvs
	}
	size := 0
	for _, p := range pts {
		size += pointBody + 1 + len(p.mode) + binary.MaxVarintLen64
	}
	buf := make([]byte, 0, size+(size/(chunkMax-chunkHeader)+1)*(chunkHeader+8+binary.MaxVarintLen64))
	splitChunks(pts, chunkMax, func(run []rawPoint) error {
		s := len(buf)
		buf = binary.BigEndian.AppendUint64(buf, run[0].at)
		buf = appendChunk(buf, run)
		kvs = append(kvs, kv{buf[s : s+8 : s+8], buf[s+8 : len(buf) : len(buf)]})
		return nil
	})
	return kvs
}

// compact moves the recent points to the drones' buckets when enough
// wait (all of them with force).
func (db *DB) compact(force bool) error {
	db.trimMu.Lock()
	defer db.trimMu.Unlock()
	return db.compactLocked(force)
}

func (db *DB) compactLocked(force bool) error {
	for force || db.recentN.Load() >= int64(db.compactN) {
		moved, more := 0, false
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			var err error
			moved, more, err = db.cp.run(tx, db.compactN, db.log)
			return err
		})
		if err != nil {
			return db.trimFailed(err)
		}
		db.recentN.Add(-int64(moved))
		if !more {
			db.recentN.Store(0)
			return nil
		}
	}
	return nil
}

// run moves about limit points of the recent bucket, in its order, to
// the drones' buckets. It returns how many it moved and whether more wait.
// The points are slices of the recent values: bbolt keeps a transaction's
// pages in place until it ends.
func (cp *compactor) run(tx *bolt.Tx, limit int, log *slog.Logger) (moved int, more bool, err error) {
	recent, tracks := tx.Bucket(bucketRecent), tx.Bucket(bucketTracks)
	cp.raw, cp.gid, cp.ids, cp.keys = cp.raw[:0], cp.gid[:0], cp.ids[:0], cp.keys[:0]
	if cp.groupOf == nil {
		cp.groupOf = make(map[string]int32)
	}
	clear(cp.groupOf)
	var it chunkIter
	c := recent.Cursor()
	k, v := c.First()
	for ; k != nil && len(cp.raw) < limit; k, v = c.Next() {
		cp.keys = append(cp.keys, k)
		start := len(cp.raw)
		err := eachSection(v, func(id, chunk []byte) error {
			g, ok := cp.groupOf[string(id)]
			if !ok {
				g = int32(len(cp.ids))
				cp.ids = append(cp.ids, string(id))
				cp.groupOf[cp.ids[g]] = g
			}
			if err := it.resetChunk(chunk); err != nil {
				return err
			}
			for it.next() {
				cp.raw = append(cp.raw, it.point())
				cp.gid = append(cp.gid, g)
			}
			return it.err
		})
		if err != nil {
			// Bytes the disk garbled: the value's points are lost, the rest
			// moves on.
			log.Warn("recent track value unreadable: its points are dropped", "key", fmt.Sprintf("%x", k), "err", err)
			cp.raw, cp.gid = cp.raw[:start], cp.gid[:start]
		}
	}
	more = k != nil
	// Group the points by drone, keeping their order (a counting sort).
	cp.off = slices.Grow(cp.off[:0], len(cp.ids)+1)[:len(cp.ids)+1]
	clear(cp.off)
	for _, g := range cp.gid {
		cp.off[g+1]++
	}
	for g := range cp.ids {
		cp.off[g+1] += cp.off[g]
	}
	cp.sorted = slices.Grow(cp.sorted[:0], len(cp.raw))[:len(cp.raw)]
	fill := slices.Clone(cp.off[:len(cp.ids)])
	for i, p := range cp.raw {
		g := cp.gid[i]
		cp.sorted[fill[g]] = p
		fill[g]++
	}
	// The drones in id order, as their buckets are in the file.
	cp.order = cp.order[:0]
	for g := range cp.ids {
		cp.order = append(cp.order, int32(g))
	}
	slices.SortFunc(cp.order, func(a, b int32) int { return strings.Compare(cp.ids[a], cp.ids[b]) })
	for _, g := range cp.order {
		pts := sortPoints(cp.sorted[cp.off[g]:cp.off[g+1]])
		bk := tracks.Bucket([]byte(cp.ids[g]))
		if bk == nil {
			if bk, err = tracks.CreateBucket([]byte(cp.ids[g])); err != nil {
				return 0, false, err
			}
		}
		bk.FillPercent = 1 // appended to, in time order
		if err := cp.add(bk, pts); err != nil {
			return 0, false, fmt.Errorf("track of %q: %w", cp.ids[g], err)
		}
	}
	for _, k := range cp.keys {
		if err := recent.Delete(k); err != nil {
			return 0, false, err
		}
	}
	return len(cp.raw), more, nil
}

// add stores pts (sorted, distinct times) in a drone's bucket: one new
// entry after the last when they all come later (recording), else merged
// with the entries they overlap, replacing points at the same times.
func (cp *compactor) add(bk *bolt.Bucket, pts []rawPoint) error {
	if len(pts) == 0 {
		return nil
	}
	var it chunkIter
	c := bk.Cursor()
	k, v := c.Last()
	if k != nil {
		if err := it.reset(k, v); err != nil {
			return fmt.Errorf("entry %x: %w", k, err)
		}
	}
	if k == nil || pts[0].at > it.last {
		for _, e := range chunkKVs(nil, pts) {
			if err := bk.Put(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	}
	// The entries that overlap [first, last]: from the one holding first
	// (or the first after it) to the last starting at or before last.
	first, last := pts[0].at, pts[len(pts)-1].at
	k, v = seekEntry(c, first)
	cp.old, cp.oldKeys = cp.old[:0], cp.oldKeys[:0]
	for ; k != nil; k, v = c.Next() {
		if err := it.reset(k, v); err != nil {
			return fmt.Errorf("entry %x: %w", k, err)
		}
		if it.at > last {
			break
		}
		if it.last < first {
			continue
		}
		cp.oldKeys = append(cp.oldKeys, bytes.Clone(k))
		for it.next() {
			cp.old = append(cp.old, it.point())
		}
		if it.err != nil {
			return fmt.Errorf("entry %x: %w", k, it.err)
		}
	}
	merged := cp.merged[:0]
	for i, j := 0, 0; i < len(cp.old) || j < len(pts); {
		switch {
		case j == len(pts) || (i < len(cp.old) && cp.old[i].at < pts[j].at):
			merged = append(merged, cp.old[i])
			i++
		case i < len(cp.old) && cp.old[i].at == pts[j].at:
			i++ // replaced by the newer point
		default:
			merged = append(merged, pts[j])
			j++
		}
	}
	cp.merged = merged
	kvs := chunkKVs(nil, merged) // encoded before the deletes
	for _, k := range cp.oldKeys {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	for _, e := range kvs {
		if err := bk.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// recentBefore reports whether the recent bucket holds a point older than
// Unix nanoseconds n (unreadable values count as old: compaction drops
// them).
func (db *DB) recentBefore(n uint64) (bool, error) {
	old := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var it chunkIter
		c := tx.Bucket(bucketRecent).Cursor()
		for k, v := c.First(); k != nil && !old; k, v = c.Next() {
			err := eachSection(v, func(_, chunk []byte) error {
				if it.resetChunk(chunk) != nil || it.at < n {
					old = true
				}
				return nil
			})
			if err != nil {
				old = true
			}
		}
		return nil
	})
	return old, err
}

func (db *DB) trimFailed(err error) error {
	err = internal("retention", err)
	db.trimmed.Err = err
	return err
}
