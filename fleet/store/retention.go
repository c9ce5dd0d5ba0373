package store

import (
	"bytes"
	"encoding/json"
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
		see := func(b *bolt.Bucket) {
			c := b.Cursor()
			if k, _ := c.First(); k != nil {
				if t := keyTime(k); oldest.IsZero() || t.Before(oldest) {
					oldest = t
				}
				k, _ = c.Last()
				if t := keyTime(k); t.After(newest) {
					newest = t
				}
			}
		}
		see(tx.Bucket(bucketEvents))
		see(tx.Bucket(bucketRecent))
		see(tx.Bucket(bucketAudit))
		tracks := tx.Bucket(bucketTracks)
		return tracks.ForEachBucket(func(k []byte) error {
			see(tracks.Bucket(k))
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
	var drones [][]byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
	// The drones' buckets, many in one transaction: trimBatch keys, then
	// the next transaction goes on from the drone it stopped at.
	for next := 0; next < len(drones); {
		select {
		case <-db.done:
			return total, nil
		default:
		}
		n := 0
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			tracks := tx.Bucket(bucketTracks)
			for ; next < len(drones) && n < trimBatch; next++ {
				b := tracks.Bucket(drones[next])
				if b == nil {
					continue
				}
				var keys [][]byte
				c := b.Cursor()
				k, _ := c.First()
				for ; k != nil && bytes.Compare(k, end) < 0 && n+len(keys) < trimBatch; k, _ = c.Next() {
					keys = append(keys, bytes.Clone(k))
				}
				for _, k := range keys {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				n += len(keys)
				if k != nil && bytes.Compare(k, end) < 0 {
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
		db.trimmed.Points += uint64(n)
		total += n
	}
	before := db.trimmed.Points
	err = run(true, func(tx *bolt.Tx) (*bolt.Bucket, func(k, v []byte) bool) {
		return tx.Bucket(bucketRecent), byTime
	}, &db.trimmed.Points)
	db.recentN.Add(-int64(db.trimmed.Points - before))
	if err != nil {
		return total, err
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
// once compactAt of them wait, compactTx a transaction: each drone's bucket
// is then written once for many points, not once a commit.
const (
	compactAt = 65536
	compactTx = 65536
)

// compact moves the recent points to the drones' buckets when enough
// wait (all of them with force).
func (db *DB) compact(force bool) error {
	db.trimMu.Lock()
	defer db.trimMu.Unlock()
	for force || db.recentN.Load() >= compactAt {
		moved, more := 0, false
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			recent, tracks := tx.Bucket(bucketRecent), tx.Bucket(bucketTracks)
			buckets := map[string]*bolt.Bucket{}
			var keys [][]byte
			c := recent.Cursor()
			k, v := c.First()
			for ; k != nil && len(keys) < compactTx; k, v = c.Next() {
				if len(k) <= 8 {
					keys = append(keys, bytes.Clone(k))
					continue
				}
				id := string(k[8:])
				bk := buckets[id]
				if bk == nil {
					var err error
					if bk, err = tracks.CreateBucketIfNotExists(k[8:]); err != nil {
						return err
					}
					bk.FillPercent = 0.95
					buckets[id] = bk
				}
				k = bytes.Clone(k)
				if err := bk.Put(k[:8], bytes.Clone(v)); err != nil {
					return err
				}
				keys = append(keys, k)
			}
			more = k != nil
			for _, k := range keys {
				if err := recent.Delete(k); err != nil {
					return err
				}
			}
			moved = len(keys)
			return nil
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

func (db *DB) trimFailed(err error) error {
	err = internal("retention", err)
	db.trimmed.Err = err
	return err
}
