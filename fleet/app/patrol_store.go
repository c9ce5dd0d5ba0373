package app

import (
	"slices"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// PatrolRecord is a dispatched patrol as a PatrolStore keeps it: the
// Patrol and what the Service needs to take it up again after a restart.
type PatrolRecord struct {
	Patrol
	// OffsetM is the altitude reference of its volume: the volume's
	// altitudes are the route's plus OffsetM (the home's AMSL, or 0).
	OffsetM float64
	// Principal dispatched it; a scheduled patrol starts as them.
	Principal Principal
}

// PatrolStore keeps dispatched patrols across restarts. When the Service's
// Store implements it (fleet/store's DB, MemStore), the Service saves a
// patrol on every change of its state, reservation or conformance, deletes
// the ended ones it stops keeping (beyond MaxEndedPatrols), and Initialize
// reloads them: the active ones back into the volume registry, matched to
// the missions the fleet re-syncs by mission id.
//
// Methods return *fleet.Error: Invalid for a bad id, Internal when the
// storage fails. They may be called from any goroutine.
type PatrolStore interface {
	// PutPatrol creates or replaces patrol r.ID.
	PutPatrol(r PatrolRecord) error
	// DeletePatrol removes patrol id (nothing when it is not stored).
	DeletePatrol(id string) error
	// Patrols returns every stored patrol.
	Patrols() ([]PatrolRecord, error)
}

// patrolStore returns the Store as a PatrolStore, or nil.
func (s *Service) patrolStore() PatrolStore {
	ps, _ := s.Store.(PatrolStore)
	return ps
}

// savePatrol writes patrol id as it is now (nothing without a
// PatrolStore). Saves of the Service are serialised, so that the store
// never ends up holding an older state than the last one saved. A failure
// is logged: the patrol goes on in memory.
func (s *Service) savePatrol(id string) {
	pst := s.patrolStore()
	if pst == nil {
		return
	}
	ps := s.patrolsInit()
	ps.saveMu.Lock()
	defer ps.saveMu.Unlock()
	ps.mu.Lock()
	e, ok := ps.byID[id]
	var r PatrolRecord
	if ok {
		r = PatrolRecord{Patrol: clonePatrol(e.Patrol), OffsetM: e.offset, Principal: e.principal}
	}
	ps.mu.Unlock()
	if !ok {
		return
	}
	if err := pst.PutPatrol(r); err != nil {
		s.log.Warn("patrol not stored", "patrol_id", id, "err", err)
	}
}

// forgetPatrols deletes ended patrols the Service no longer keeps.
func (s *Service) forgetPatrols(ids []string) {
	pst := s.patrolStore()
	if pst == nil || len(ids) == 0 {
		return
	}
	ps := s.patrolsInit()
	ps.saveMu.Lock()
	defer ps.saveMu.Unlock()
	for _, id := range ids {
		if err := pst.DeletePatrol(id); err != nil {
			s.log.Warn("ended patrol not deleted", "patrol_id", id, "err", err)
		}
	}
}

// loadPatrols reloads the stored patrols (Initialize): the active ones
// reserve their volume again (a scheduled one starts at its time), the
// ended ones are kept for reading, the newest MaxEndedPatrols of them.
func (s *Service) loadPatrols() error {
	pst := s.patrolStore()
	if pst == nil {
		return nil
	}
	recs, err := pst.Patrols()
	if err != nil {
		return err
	}
	ps := s.patrolsInit()
	var ended []PatrolRecord
	var scheduled []string
	for _, r := range recs {
		e := &patrolEntry{Patrol: r.Patrol, offset: r.OffsetM, principal: r.Principal, startAt: r.Volume.Start}
		if !r.State.Active() {
			ended = append(ended, r)
			ps.mu.Lock()
			ps.byID[r.ID] = e
			ps.mu.Unlock()
			continue
		}
		if r.Volume.End.After(s.Now()) {
			if _, err := ps.reg.Reserve(r.Volume, plan.Resolve{}); err != nil {
				// Another stored patrol holds the airspace (or the volume
				// is bad): keep the patrol, say so.
				s.log.Warn("stored patrol's volume not reserved again", "patrol_id", r.ID, "drone_id", r.DroneID, "err", err)
			}
		}
		ps.mu.Lock()
		ps.byID[r.ID] = e
		ps.mu.Unlock()
		if r.State == PatrolScheduled {
			scheduled = append(scheduled, r.ID)
		}
		s.log.Info("patrol reloaded", "patrol_id", r.ID, "drone_id", r.DroneID, "mission_id", r.MissionID, "state", string(r.State))
	}
	slices.SortFunc(ended, func(a, b PatrolRecord) int { return a.Ended.Compare(b.Ended) })
	var drop []string
	for len(ended) > MaxEndedPatrols {
		drop = append(drop, ended[0].ID)
		ended = ended[1:]
	}
	ps.mu.Lock()
	for _, id := range drop {
		delete(ps.byID, id)
	}
	for _, r := range ended {
		ps.ended = append(ps.ended, r.ID)
	}
	ps.mu.Unlock()
	s.forgetPatrols(drop)
	for _, id := range scheduled {
		s.startLater(id)
	}
	return nil
}

// patrolMismatch ends a flying patrol whose drone turned out, on a re-sync
// (after a restart), to hold another plan than the patrol's mission.
func (s *Service) patrolMismatch(e fleet.MissionMismatch) {
	ps := s.patrolsInit()
	ps.mu.Lock()
	var id string
	for _, p := range ps.byID {
		if p.DroneID == e.DroneID && p.State.Active() && p.MissionID == e.MissionID {
			id = p.ID
		}
	}
	ps.mu.Unlock()
	if id != "" {
		s.endPatrol(id, PatrolInterrupted, fleet.PatrolInterrupted,
			"the vehicle holds another plan than the patrol's mission "+e.MissionID+" ("+e.Detail.String()+"), tracked as "+e.NewMissionID)
	}
}
