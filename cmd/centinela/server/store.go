package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
)

// openStore opens Config.Store.DB (nothing without one; the application
// layer loads the agencies and zones made at run time from it), seeds the
// stored drones from the config's names and agencies by system id, and
// returns the fleet's Names and Agencies built from the store: the config
// seeds, what an admin changed (a DroneConfig with Updated set) wins.
// Names given by link key or uid are not seeded; a stored drone of such a
// name does not name its system id.
func (s *Server) openStore(names, agencies map[uint8]string) (map[uint8]string, map[uint8]string, error) {
	if s.cfg.Store.DB == "" {
		return names, agencies, nil
	}
	opts := s.cfg.Store.storeOpts()
	opts.Logger = s.log
	db, err := store.Open(s.cfg.Store.DB, opts)
	if err != nil {
		return nil, nil, err
	}
	s.DB = db
	names, agencies, err = seedDrones(db, names, agencies)
	if err != nil {
		return nil, nil, err
	}
	keyed := map[string]bool{}
	for _, n := range s.cfg.DroneNames.ByKey {
		keyed[n] = true
	}
	for _, n := range s.cfg.DroneNames.ByUID {
		keyed[n] = true
	}
	for sys, n := range names {
		if keyed[n] {
			delete(names, sys)
		}
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
				return nil, nil, invalid("DroneNames", "stored_name_taken", "sysid", fmt.Sprint(sys), "name", c.ID, "other", other.ID, "other_sysid", fmt.Sprint(other.SysID))
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
	// The newest change of each system id decides. A drone whose id the
	// fleet derived ("sysid-1-l9c2f61a0": a second vehicle with the system
	// id) names no system id: its setup reaches it by id (keepDrones).
	slices.SortStableFunc(stored, func(a, b app.DroneConfig) int { return a.Updated.Compare(b.Updated) })
	outNames, outAgencies := map[uint8]string{}, map[uint8]string{}
	for _, c := range stored {
		if c.SysID == 0 || strings.HasPrefix(c.ID, sysIDName(c.SysID)+"-") {
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
func (s *Server) startRecorder() error {
	if s.DB == nil {
		return nil
	}
	rec := &store.Recorder{DB: s.DB, Fleet: s.Fleet, Logger: s.log}
	if err := rec.Initialize(); err != nil {
		return err
	}
	s.Recorder = rec
	s.drones = s.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 256, NoState: true})
	s.dronesDone = make(chan struct{})
	go s.keepDrones()
	return nil
}

// maxEndpoints bounds the links remembered of a drone.
const maxEndpoints = 8

// keepDrones, until its subscription closes, stores each drone heard (its
// system id and links) and gives a newly discovered drone the display
// name and agency an admin stored for it.
func (s *Server) keepDrones() {
	defer close(s.dronesDone)
	for ev := range s.drones.C {
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
		c, err := s.DB.Drone(id)
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
		if err := s.DB.PutDrone(c); err != nil {
			s.log.Warn("drone setup not stored", "drone_id", id, "err", err)
		}
	}
}

// closeRecorder stops the recorder and the drones' watcher.
func (s *Server) closeRecorder() {
	if s.drones != nil {
		s.drones.Close()
		<-s.dronesDone
		s.drones = nil
	}
	if s.Recorder != nil {
		s.Recorder.Close()
	}
}

// closeDB closes the database, last.
func (s *Server) closeDB() {
	if s.DB == nil {
		return
	}
	if err := s.DB.Close(); err != nil {
		s.log.Error("close store", "err", err)
	}
}
