package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
)

// storeFlags adds --db, --retention-age and --retention-size to fs; the
// size is read into *size, for serveText.apply.
func storeFlags(fs *flag.FlagSet, o *server.StoreConfig, size *string) {
	fs.StringVar(&o.DB, "db", o.DB, "database `file` of the fleet's setup, audit log, events and telemetry history (serve: under $XDG_STATE_HOME or ~/.local/state by default, \"\" keeps nothing; demo: a temporary file unless given)")
	fs.DurationVar(&o.RetentionAge, "retention-age", o.RetentionAge, "history (tracks, events, audit, missions) older than this is removed (negative: kept forever)")
	fs.StringVar(size, "retention-size", *size, "bound of the database's data, for example 500MB or 2GiB (0: unbounded); the oldest history goes first")
}

// formatSize writes n as parseSize reads it, in the largest binary unit
// that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// defaultDBPath is $XDG_STATE_HOME/centinela/centinela.db, or
// ~/.local/state/centinela/centinela.db.
func defaultDBPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "centinela", "centinela.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "centinela", "centinela.db"), nil
}

// parseSize parses a byte count with an optional unit: B, KB, MB, GB, TB
// (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "none" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 || f*mult > 1<<62 {
		return 0, msgErr("flagerr.size_form", "value", strconv.Quote(s))
	}
	if n := int64(f * mult); n > 0 && n < 1<<20 {
		return 0, msgErr("flagerr.size_min", "value", strconv.Quote(s))
	}
	return int64(f * mult), nil
}

// useTempDB points an unset DB at a new temporary file (the demo's), and
// returns the function that removes it.
func useTempDB(o *server.StoreConfig) (remove func(), err error) {
	if o.DB != "" {
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "centinela-demo-")
	if err != nil {
		return nil, fmt.Errorf("temporary database: %w", err)
	}
	o.DB = filepath.Join(dir, "centinela.db")
	return func() { os.RemoveAll(dir) }, nil
}
