package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

var (
	_ app.Store   = (*DB)(nil)
	_ app.History = (*DB)(nil)
)

// SchemaVersion is the schema this build writes. A file of a newer schema
// is refused; an older one is migrated on Open.
const SchemaVersion = 2

// Defaults of Options.
const (
	DefaultTimeout      = time.Second
	DefaultMaxAge       = 30 * 24 * time.Hour
	DefaultMaxSize      = int64(1 << 30)
	DefaultTrimInterval = 10 * time.Second
)

// Bucket names. Setup buckets hold JSON (zones GeoJSON) by id; history
// buckets are keyed by time (see keys.go).
var (
	bucketMeta     = []byte("meta")
	bucketTokens   = []byte("tokens")
	bucketGrants   = []byte("grants")
	bucketDrones   = []byte("drones")
	bucketAgencies = []byte("agencies")
	bucketZones    = []byte("zones")
	bucketAudit    = []byte("audit")
	bucketEvents   = []byte("events")
	bucketTracks   = []byte("tracks")
	bucketRecent   = []byte("recent")
	bucketMissions = []byte("missions")

	keySchema = []byte("schema")
)

// migrations[i] brings a file of schema i to schema i+1, in the same
// transaction that records the new version.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the first schema: every bucket.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTokens, bucketGrants, bucketDrones, bucketAgencies, bucketZones,
			bucketAudit, bucketEvents, bucketTracks, bucketRecent, bucketMissions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 1 → 2: track points in chunks (chunk.go). The recent bucket's
	// points of schema 1 (keyed by time and drone, a point a value) join
	// their drones' buckets as they are (a version 1 point an entry), a
	// point of recent replacing one at the same time; the recent bucket
	// starts again as a journal.
	func(tx *bolt.Tx) error {
		recent, tracks := tx.Bucket(bucketRecent), tx.Bucket(bucketTracks)
		buckets := map[string]*bolt.Bucket{}
		err := recent.ForEach(func(k, v []byte) error {
			if len(k) <= 8 {
				return nil
			}
			bk := buckets[string(k[8:])]
			if bk == nil {
				var err error
				if bk, err = tracks.CreateBucketIfNotExists(k[8:]); err != nil {
					return err
				}
				buckets[string(k[8:])] = bk
			}
			return bk.Put(bytes.Clone(k[:8]), bytes.Clone(v))
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketRecent); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketRecent)
		return err
	},
}

// Options tune Open. The zero value is the default.
type Options struct {
	// Timeout is how long Open waits for the file's lock, held by another
	// process (optional, default 1 s). Open then fails with Conflict.
	Timeout time.Duration
	// MaxAge is how long history (tracks, events, audit entries, missions)
	// is kept (optional, default 30 days; negative: forever).
	MaxAge time.Duration
	// MaxSize bounds the bytes the data may use, in bytes (optional,
	// default 1 GiB; negative: unbounded). See the package doc.
	MaxSize int64
	// TrimInterval is how often the background trimmer enforces MaxAge
	// (optional, default 10 s). MaxSize is also checked after every
	// recorder commit.
	TrimInterval time.Duration
	// Now is the clock of retention and of audit entries without a time
	// (optional, default time.Now).
	Now func() time.Time
	// Logger receives the store's logs (optional, default discard).
	Logger *slog.Logger
}

// DB is Centinela's durable state in one bbolt file. It implements
// app.Store and app.History. All methods may be called from any goroutine.
type DB struct {
	path string
	opts Options
	log  *slog.Logger
	bolt *bolt.DB

	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup

	trimMu  sync.Mutex
	trimmed TrimStats
	// recentN counts the points in the recent bucket (about: it is
	// only a trigger of compaction).
	recentN atomic.Int64
	// compactN is the compaction threshold; cp its buffers (under
	// trimMu).
	compactN int
	cp       compactor

	closeOnce sync.Once
}

// Open opens (creating it if needed, with its directory) the database
// file at path, migrates an older schema and starts the background
// trimmer. Returns Conflict when another process holds the file (after
// opts.Timeout), Unsupported for a file of a newer schema, Invalid for a
// file that is not a database, Internal for other failures.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.TrimInterval <= 0 {
		opts.TrimInterval = DefaultTrimInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, fleet.Errorf(fleet.Invalid, "open store: no path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fleet.Errorf(fleet.Internal, "open store: %v", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.Timeout,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &fleet.Error{Code: fleet.Conflict, Reason: "locked",
			Message: fmt.Sprintf("open store %s: the file is in use by another process (is another centinela server running on it?); gave up after %s", path, opts.Timeout)}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, &fleet.Error{Code: fleet.Invalid, Reason: "not_a_database",
			Message: fmt.Sprintf("open store %s: not a centinela database (%v)", path, err)}
	case err != nil:
		return nil, fleet.Errorf(fleet.Internal, "open store %s: %v", path, err)
	}
	db := &DB{path: path, opts: opts, log: opts.Logger.With("component", "store"), bolt: b,
		kick: make(chan struct{}, 1), done: make(chan struct{}), compactN: compactPoints(opts.MaxSize)}
	if err := db.migrate(); err != nil {
		b.Close()
		return nil, err
	}
	err = b.View(func(tx *bolt.Tx) error {
		n := 0
		err := tx.Bucket(bucketRecent).ForEach(func(_, v []byte) error {
			m, err := journalPoints(v)
			n += m
			return err
		})
		db.recentN.Store(int64(n))
		return err
	})
	if err != nil {
		// Compaction drops what it cannot read; the count is only its
		// trigger.
		db.log.Warn("recent track values unreadable", "err", err)
	}
	db.wg.Add(1)
	go db.trimLoop()
	return db, nil
}

// migrate brings the file to SchemaVersion, refusing a newer one.
func (db *DB) migrate() error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v := uint32(0)
		if raw := meta.Get(keySchema); raw != nil {
			if len(raw) != 4 {
				return &fleet.Error{Code: fleet.Invalid, Reason: "bad_schema",
					Message: fmt.Sprintf("open store %s: corrupt schema version", db.path)}
			}
			v = binary.BigEndian.Uint32(raw)
		}
		if int(v) > len(migrations) {
			return &fleet.Error{Code: fleet.Unsupported, Reason: "newer_schema",
				Message: fmt.Sprintf("open store %s: the file has schema version %d, newer than this centinela's %d: run a newer centinela, or give another --db", db.path, v, len(migrations))}
		}
		for ; int(v) < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
			db.log.Info("store schema migrated", "from", v, "to", v+1)
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, v))
	})
	if err != nil {
		var fe *fleet.Error
		if errors.As(err, &fe) {
			return fe
		}
		return fleet.Errorf(fleet.Internal, "open store %s: %v", db.path, err)
	}
	return nil
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// Close stops the trimmer and closes the file. Calls after the first do
// nothing. The caller closes any Recorder writing to db first.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.done)
		db.wg.Wait()
		if e := db.bolt.Close(); e != nil {
			err = fleet.Errorf(fleet.Internal, "close store: %v", e)
		}
	})
	return err
}

// Check runs bbolt's consistency check of the whole file and returns the
// first problem found (Internal), or nil.
func (db *DB) Check() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fleet.Errorf(fleet.Internal, "store %s is inconsistent: %v", db.path, err)
		}
		return nil
	})
}

// SizeStats is how much of the file is in use.
type SizeStats struct {
	// FileBytes is the file's size on disk.
	FileBytes int64
	// UsedBytes is the size of the pages holding data.
	UsedBytes int64
	// FreeBytes is the size of pages free for reuse.
	FreeBytes int64
}

// Size reports how much of the file is in use.
func (db *DB) Size() (SizeStats, error) {
	var s SizeStats
	err := db.bolt.View(func(tx *bolt.Tx) error {
		st := db.bolt.Stats()
		ps := int64(db.bolt.Info().PageSize)
		s.FreeBytes = int64(st.FreePageN+st.PendingPageN) * ps
		s.UsedBytes = tx.Size() - s.FreeBytes
		return nil
	})
	if err != nil {
		return s, internal("size", err)
	}
	if fi, err := os.Stat(db.path); err == nil {
		s.FileBytes = fi.Size()
	}
	return s, nil
}

// internal wraps a storage failure as Internal.
func internal(op string, err error) error {
	var fe *fleet.Error
	if errors.As(err, &fe) {
		return fe
	}
	return fleet.Errorf(fleet.Internal, "store: %s: %v", op, err)
}
