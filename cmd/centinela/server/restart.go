package server

import (
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// knownMission returns the fleet's KnownMission: the newest mission the
// database holds for a drone with its plan (nil without a database), so
// that after a restart a drone flying or holding it is re-synced under its
// stored id instead of re-uploaded.
func (s *Server) knownMission() func(string) (string, []fleet.MissionItem, bool) {
	if s.DB == nil {
		return nil
	}
	db, log := s.DB, s.log
	return func(droneID string) (string, []fleet.MissionItem, bool) {
		recs, err := db.Missions(droneID, time.Time{}, time.Time{})
		if err != nil {
			log.Warn("stored missions not read", "drone_id", droneID, "err", err)
			return "", nil, false
		}
		// Oldest upload first: the newest with a plan wins.
		for i := len(recs) - 1; i >= 0; i-- {
			if r := recs[i]; len(r.Items) > 0 && r.MissionID != "" {
				return r.MissionID, r.Items, true
			}
		}
		return "", nil, false
	}
}
