package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
)

// storeOptions are the storage flags of serve and demo.
type storeOptions struct {
	// DB is the database file ("": no durable state, everything in memory).
	DB string
	// RetentionAge is how long history is kept (negative: forever).
	RetentionAge time.Duration
	// RetentionSize bounds the data in the file ("1GiB", "500MB", bytes;
	// "0" or "none": unbounded).
	RetentionSize string
}

func defaultStoreOptions() storeOptions {
	return storeOptions{RetentionAge: store.DefaultMaxAge, RetentionSize: "1GiB"}
}

// register adds --db, --retention-age and --retention-size to fs.
func (o *storeOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.DB, "db", o.DB, "database `file` of the fleet's setup, audit log, events and telemetry history (serve: under $XDG_STATE_HOME or ~/.local/state by default, \"\" keeps nothing; demo: a temporary file unless given)")
	fs.DurationVar(&o.RetentionAge, "retention-age", o.RetentionAge, "history (tracks, events, audit, missions) older than this is removed (negative: kept forever)")
	fs.StringVar(&o.RetentionSize, "retention-size", o.RetentionSize, "bound of the database's data, for example 500MB or 2GiB (0: unbounded); the oldest history goes first")
}

func (o storeOptions) validate() error {
	if o.RetentionAge == 0 {
		return errors.New("--retention-age 0: want a positive duration, or negative to keep history forever")
	}
	if _, err := parseSize(o.RetentionSize); err != nil {
		return fmt.Errorf("--retention-size: %w", err)
	}
	return nil
}

// storeOpts returns the store's options for the flags.
func (o storeOptions) storeOpts() store.Options {
	size, _ := parseSize(o.RetentionSize)
	if size == 0 {
		size = -1
	}
	return store.Options{MaxAge: o.RetentionAge, MaxSize: size}
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
		return 0, fmt.Errorf("%q: want a size such as 500MB, 2GiB or 0", s)
	}
	if n := int64(f * mult); n > 0 && n < 1<<20 {
		return 0, fmt.Errorf("%q: want at least 1MiB (or 0 for unbounded)", s)
	}
	return int64(f * mult), nil
}

// storage is serve's durable state: the database, the recorder writing the
// fleet's history into it, and the watcher keeping drones' setup.
type storage struct {
	DB       *store.DB
	Recorder *store.Recorder
	drones   *fleet.Subscription
	done     chan struct{}
}

// openStore opens --db (nothing without one; the application layer loads
// the agencies and zones made at run time from it, over zones), seeds the
// stored drones from the flags' names and agencies by system id, and
// returns the fleet's Names and Agencies built from the store: flags seed,
// what an admin changed (a DroneConfig with Updated set) wins.
func (s *server) openStore(zones *geofence.Store, names, agencies map[uint8]string) (map[uint8]string, map[uint8]string, error) {
	if s.cfg.Store.DB == "" {
		return names, agencies, nil
	}
	opts := s.cfg.Store.storeOpts()
	opts.Logger = s.log
	db, err := store.Open(s.cfg.Store.DB, opts)
	if err != nil {
		return nil, nil, err
	}
	s.store = &storage{DB: db}
	names, agencies, err = seedDrones(db, names, agencies)
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("store opened", "path", db.Path())
	return names, agencies, nil
}

func sysIDName(sys uint8) string { return fmt.Sprintf("sysid-%d", sys) }

// seedDrones writes the flags' names and agencies into the stored drones,
// except where an admin changed a drone (its Updated is set), and returns
// the names and agencies by system id of every stored drone.
func seedDrones(db *store.DB, names, agencies map[uint8]string) (map[uint8]string, map[uint8]string, error) {
	stored, err := db.Drones()
	if err != nil {
		return nil, nil, err
	}
	var sysIDs []uint8
	for sys := range names {
		sysIDs = append(sysIDs, sys)
	}
	for sys := range agencies {
		if _, ok := names[sys]; !ok {
			sysIDs = append(sysIDs, sys)
		}
	}
	slices.Sort(sysIDs)
	for _, sys := range sysIDs {
		var cur []app.DroneConfig
		for _, c := range stored {
			if c.SysID == sys {
				cur = append(cur, c)
			}
		}
		if slices.ContainsFunc(cur, func(c app.DroneConfig) bool { return !c.Updated.IsZero() }) {
			continue // an admin's change wins over the flags
		}
		c := app.DroneConfig{ID: sysIDName(sys), SysID: sys}
		if len(cur) > 0 {
			c = cur[0]
		}
		if n, ok := names[sys]; ok {
			c.ID, c.Name = n, n
		}
		if c.Name == "" {
			c.Name = c.ID
		}
		if a, ok := agencies[sys]; ok {
			c.Agency = a
		}
		for _, other := range stored {
			if other.ID == c.ID && other.SysID != sys && other.SysID != 0 {
				return nil, nil, fmt.Errorf("--drone-name %d=%s: the name is taken by the stored drone %s of system id %d", sys, c.ID, other.ID, other.SysID)
			}
		}
		for _, old := range cur {
			if old.ID != c.ID {
				if err := db.DeleteDrone(old.ID); err != nil {
					return nil, nil, err
				}
			}
		}
		if err := db.PutDrone(c); err != nil {
			return nil, nil, err
		}
	}
	if stored, err = db.Drones(); err != nil {
		return nil, nil, err
	}
	// The newest change of each system id decides.
	slices.SortStableFunc(stored, func(a, b app.DroneConfig) int { return a.Updated.Compare(b.Updated) })
	outNames, outAgencies := map[uint8]string{}, map[uint8]string{}
	for _, c := range stored {
		if c.SysID == 0 {
			continue
		}
		delete(outNames, c.SysID)
		if c.ID != sysIDName(c.SysID) {
			outNames[c.SysID] = c.ID
		}
		if c.Agency != "" {
			outAgencies[c.SysID] = c.Agency
		}
	}
	return outNames, outAgencies, nil
}

// startRecorder starts recording the fleet's history and the watcher of
// drones' setup (nothing without a database).
func (s *server) startRecorder() error {
	if s.store == nil {
		return nil
	}
	st := s.store
	st.Recorder = &store.Recorder{DB: st.DB, Fleet: s.Fleet, Logger: s.log}
	if err := st.Recorder.Initialize(); err != nil {
		return err
	}
	st.drones = s.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 256})
	st.done = make(chan struct{})
	go s.keepDrones(st)
	return nil
}

// maxEndpoints bounds the links remembered of a drone.
const maxEndpoints = 8

// keepDrones, until its subscription closes, stores each drone heard (its
// system id and links) and gives a newly discovered drone the display
// name and agency an admin stored for it.
func (s *server) keepDrones(st *storage) {
	defer close(st.done)
	for ev := range st.drones.C {
		var id, link string
		switch e := ev.(type) {
		case fleet.DroneDiscovered:
			id, link = e.Drone.ID, e.Drone.Link
		case fleet.LinkRegained:
			id, link = e.DroneID, e.Link
		default:
			continue
		}
		d, err := s.Fleet.Drone(id)
		if err != nil {
			continue
		}
		c, err := st.DB.Drone(id)
		switch {
		case fleet.ErrorCode(err) == fleet.NotFound:
			// Only what was heard: a name or agency stored here would
			// outlive the flags that gave it.
			c = app.DroneConfig{ID: id}
		case err != nil:
			s.log.Warn("drone setup not stored", "drone_id", id, "err", err)
			continue
		}
		// An admin's name and agency (the agency also reaches the fleet
		// through Agencies when the system id is known).
		info := fleet.DroneInfo{}
		if c.Name != "" && c.Name != d.Name {
			info.Name = c.Name
		}
		if !c.Updated.IsZero() && c.Agency != "" && c.Agency != d.Agency {
			info.Agency = c.Agency
		}
		if info != (fleet.DroneInfo{}) {
			if err := s.Fleet.SetDroneInfo(id, info); err != nil {
				s.log.Warn("stored drone name and agency not applied", "drone_id", id, "err", err)
			}
		}
		c.SysID = d.SysID
		if link != "" {
			c.Endpoints = append(slices.DeleteFunc(c.Endpoints, func(e string) bool { return e == link }), link)
			if len(c.Endpoints) > maxEndpoints {
				c.Endpoints = c.Endpoints[len(c.Endpoints)-maxEndpoints:]
			}
		}
		if err := st.DB.PutDrone(c); err != nil {
			s.log.Warn("drone setup not stored", "drone_id", id, "err", err)
		}
	}
}

// closeRecorder stops the recorder and the drones' watcher.
func (s *server) closeRecorder() {
	if s.store == nil {
		return
	}
	if s.store.drones != nil {
		s.store.drones.Close()
		<-s.store.done
	}
	if s.store.Recorder != nil {
		s.store.Recorder.Close()
	}
}

// closeDB closes the database, last.
func (s *server) closeDB() {
	if s.store == nil {
		return
	}
	if err := s.store.DB.Close(); err != nil {
		s.log.Error("close store", "err", err)
	}
}

// useTempDB points an unset DB at a new temporary file (the demo's), and
// returns the function that removes it.
func (o *storeOptions) useTempDB() (remove func(), err error) {
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
