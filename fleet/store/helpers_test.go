package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// mustOpen opens a store in a fresh file of t.TempDir() (or at path) and, at
// cleanup, runs bbolt's consistency check and closes it.
func mustOpen(tb testing.TB, path string, opts Options) *DB {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "centinela.db")
	}
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if db.bolt.Path() != "" { // still open
			if err := db.Check(); err != nil {
				tb.Errorf("consistency check: %v", err)
			}
		}
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// checkFile opens the closed file at path with bbolt alone and runs its
// consistency check.
func checkFile(tb testing.TB, path string) {
	tb.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		tb.Fatalf("bolt.Open(%s): %v", path, err)
	}
	defer b.Close()
	err = b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("consistency check of %s: %v", path, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
