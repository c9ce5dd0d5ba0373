package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// Deconfliction parameters of dispatched patrols.
const (
	// PatrolBufferM is the horizontal margin of a patrol's reserved volume
	// around its path.
	PatrolBufferM = 50
	// PatrolVerticalM is the half height of a volume's band around the
	// patrol altitude.
	PatrolVerticalM = 10
	// PatrolReserve is the time added to a volume after the planned end.
	PatrolReserve = 2 * time.Minute
	// DefaultLayerStepM is the spacing of the altitude layers tried when a
	// conflict may be resolved by altitude (more than twice
	// PatrolVerticalM, so that neighbouring layers never meet).
	DefaultLayerStepM = 25
	// MaxPatrolDelay bounds how much later a patrol may be started to
	// resolve a conflict.
	MaxPatrolDelay = 6 * time.Hour
	// MaxEndedPatrols bounds the ended patrols kept for ListPatrols.
	MaxEndedPatrols = 1000
	// MaxPlanBytes bounds an imported .plan file.
	MaxPlanBytes = qgcplan.MaxBytes
)

// PatrolState is where a dispatched patrol stands.
type PatrolState string

// Patrol states.
const (
	// PatrolScheduled: reserved and uploaded, waiting for its later start.
	PatrolScheduled PatrolState = "scheduled"
	// PatrolFlying: its mission was started.
	PatrolFlying PatrolState = "flying"
	// The ended states hold no reservation: the mission finished, was
	// interrupted (Reason says why), the patrol was cancelled, or its
	// delayed start failed.
	PatrolFinished    PatrolState = "finished"
	PatrolInterrupted PatrolState = "interrupted"
	PatrolCancelled   PatrolState = "cancelled"
	PatrolFailed      PatrolState = "failed"
)

// Active reports whether a patrol in state st holds a reservation.
func (st PatrolState) Active() bool { return st == PatrolScheduled || st == PatrolFlying }

// PatrolRequest is a patrol to preview or dispatch.
type PatrolRequest struct {
	// Plan is the planning request. Its Drones are filled from DroneIDs
	// when DroneIDs is set (live position, home, battery; endurance, speed
	// and reserve from the drone's stored Profile where the request leaves
	// them zero). Its Agency defaults to the drones' agency (dispatch) or
	// the caller's (a preview without drones).
	Plan plan.Request
	// DroneIDs are the fleet drones to fly it (required for a dispatch;
	// a preview may give Plan.Drones instead, planning ahead).
	DroneIDs []string
	// ResolveAltitude lets a conflict be resolved by another altitude
	// layer inside the zones' bands (LayerMinM..LayerMaxM above home, every
	// LayerStepM; defaults 20 m, the fleet's ceiling or 120 m, 25 m).
	ResolveAltitude                  bool
	LayerMinM, LayerMaxM, LayerStepM float64
	// MaxDelay lets a conflict be resolved by a later start, at most this
	// much later (0: not at all; at most MaxPatrolDelay).
	MaxDelay time.Duration
}

// PatrolPreview is a planned patrol and what it would meet: nothing is
// reserved.
type PatrolPreview struct {
	// Result is the plan: routes, distance, duration, battery use, checks.
	Result *plan.Result
	// Volumes are the volumes the routes would reserve (one per route,
	// PatrolID "preview-N").
	Volumes []plan.Volume
	// Conflicts lists, for each route that would meet a reserved patrol,
	// where and when (Route indexes Result.Routes).
	Conflicts []PatrolConflict
}

// PatrolConflict is a route of a preview meeting a reserved patrol.
type PatrolConflict struct {
	Route int
	plan.Conflict
}

// Patrol is a dispatched patrol: one drone's route and its reservation.
type Patrol struct {
	// ID is the patrol's stable id (random hex, the same on every station).
	ID string
	// DroneID and Agency say who flies it; Kind the pattern.
	DroneID, Agency string
	Kind            plan.Kind
	// MissionID is the uploaded mission.
	MissionID string
	State     PatrolState
	// Route is what the drone flies (at the reserved altitude).
	Route plan.Route
	// Volume is the reserved volume (kept after release, for reading).
	Volume plan.Volume
	// Resolved is "" when reserved as asked, else "altitude" or "delay";
	// Resolves the conflict avoided; Delay how much later it starts.
	Resolved string
	Resolves *plan.Conflict
	Delay    time.Duration
	// DispatchedBy is the dispatching caller's label; Created when.
	DispatchedBy string
	Created      time.Time
	// Ended is when it ended (zero while active); Reason why, for an
	// interruption or a failure.
	Ended  time.Time
	Reason string
	// Outside is set while the drone is outside its reserved volume.
	Outside bool
}

// patrolSet is the Service's patrols and their deconfliction registry.
// Its mutex guards the map; the registry has its own lock.
type patrolSet struct {
	once sync.Once
	reg  *plan.Registry
	// offset is each patrol's altitude reference (its home's AMSL, or 0):
	// volumes hold altitudes above sea level where known.
	mu    sync.Mutex
	byID  map[string]*patrolEntry
	ended []string        // ended patrol ids, oldest first
	busy  map[string]bool // drones a DispatchPatrol is working on
	// saveMu serialises writes to the PatrolStore (patrol_store.go).
	saveMu sync.Mutex
}

type patrolEntry struct {
	Patrol
	offset    float64 // volume altitude = route altitude + offset
	principal Principal
	startAt   time.Time // scheduled start
	cancelBy  string    // set while CancelPatrol aborts its mission
}

// patrolsInit makes the registry on first use.
func (s *Service) patrolsInit() *patrolSet {
	ps := &s.patrols
	ps.once.Do(func() {
		ps.reg = &plan.Registry{Now: func() time.Time { return s.Now() }}
		ps.byID = map[string]*patrolEntry{}
		ps.busy = map[string]bool{}
	})
	return ps
}

// newPatrolID returns a random stable id.
func newPatrolID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("patrol id: %w", err)
	}
	return "ptl-" + hex.EncodeToString(b[:]), nil
}

// mayPlan checks that p may plan or dispatch patrols: operators and admins.
// A supervisor watches and reads; it does not plan (Forbidden).
func (s *Service) mayPlan(p Principal) error {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return err
	}
	if p.Role != RoleOperator && p.Role != RoleAdmin {
		return fleet.Errorf(fleet.Forbidden, "a %s may not plan patrols", p.Role)
	}
	return nil
}

// checkPatrolRequest checks the request's own fields.
func (s *Service) checkPatrolRequest(r *PatrolRequest) error {
	if len(r.DroneIDs) > plan.MaxDrones {
		return fleet.Errorf(fleet.Invalid, "drone_ids: at most %d drones", plan.MaxDrones)
	}
	for i, id := range r.DroneIDs {
		if err := checkID(fmt.Sprintf("drone_ids[%d]", i), id); err != nil {
			return err
		}
		if slices.Contains(r.DroneIDs[:i], id) {
			return fleet.Errorf(fleet.Invalid, "drone_ids[%d]: %q is given twice", i, id)
		}
	}
	if r.MaxDelay < 0 || r.MaxDelay > MaxPatrolDelay {
		return fleet.Errorf(fleet.Invalid, "max_delay: %s is outside 0..%s", r.MaxDelay, MaxPatrolDelay)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"layer_min_m", r.LayerMinM}, {"layer_max_m", r.LayerMaxM}, {"layer_step_m", r.LayerStepM}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 || f.v > s.maxAlt() {
			return fleet.Errorf(fleet.Invalid, "%s: %v is outside 0..%g m", f.name, f.v, s.maxAlt())
		}
	}
	if err := checkName("agency", r.Plan.Agency, 64, true); err != nil {
		return err
	}
	return nil
}

// liveDrones reads drones ids from the fleet into the request: their
// planning view, and the profile's defaults. It returns the drones' states.
func (s *Service) liveDrones(r *PatrolRequest) ([]fleet.DroneState, error) {
	cfgs, _ := s.Store.Drones()
	prof := map[string]Profile{}
	for _, c := range cfgs {
		prof[c.ID] = c.Profile
	}
	var states []fleet.DroneState
	r.Plan.Drones = nil
	for _, id := range r.DroneIDs {
		st, err := s.Fleet.Drone(id)
		if err != nil {
			return nil, err
		}
		if !st.HasHome && !st.HasPosition {
			return nil, fleet.Errorf(fleet.Conflict, "drone %q has no position or home yet", id)
		}
		pr := prof[id]
		r.Plan.Drones = append(r.Plan.Drones, patrol.DroneOf(st, pr.Endurance))
		if r.Plan.SpeedMPS == 0 && pr.CruiseSpeedMS > 0 {
			r.Plan.SpeedMPS = pr.CruiseSpeedMS
		}
		if r.Plan.ReservePct == 0 && pr.ReservePct > 0 {
			r.Plan.ReservePct = pr.ReservePct
		}
		states = append(states, st)
	}
	return states, nil
}

// volumeOf is the volume route rt reserves from start, in the altitude
// reference offset (its home's AMSL when known).
func volumeOf(id string, rt plan.Route, start time.Time, offset float64) plan.Volume {
	v := plan.VolumeOf(id, []plan.Route{rt}, start, PatrolBufferM, PatrolVerticalM, PatrolReserve)
	v.AltM += offset
	return v
}

// homeOffset is drone d's altitude reference for volumes.
func homeOffset(d plan.Drone) float64 {
	if d.HasHomeAMSL && !math.IsNaN(d.HomeAMSL) && !math.IsInf(d.HomeAMSL, 0) {
		return d.HomeAMSL
	}
	return 0
}

// planPatrol plans r (drones from the fleet when DroneIDs are given).
func (s *Service) planPatrol(p Principal, r *PatrolRequest) (*plan.Result, []fleet.DroneState, error) {
	if err := s.checkPatrolRequest(r); err != nil {
		return nil, nil, err
	}
	var states []fleet.DroneState
	if len(r.DroneIDs) > 0 {
		var err error
		if states, err = s.liveDrones(r); err != nil {
			return nil, nil, err
		}
		for _, st := range states {
			if r.Plan.Agency == "" {
				r.Plan.Agency = st.Agency
			}
			if st.Agency != r.Plan.Agency {
				return nil, nil, fleet.Errorf(fleet.Invalid, "drone_ids: drone %q flies for agency %q, the patrol for %q (one agency a patrol)", st.ID, st.Agency, r.Plan.Agency)
			}
		}
	}
	if r.Plan.Agency == "" {
		r.Plan.Agency = p.Agency
	}
	if r.Plan.Agency == "" {
		return nil, nil, fleet.Errorf(fleet.Invalid, "agency: required")
	}
	res, err := plan.Plan(s.Zones.Snapshot(), r.Plan, s.Now())
	if err != nil {
		return nil, nil, patrol.Err(err)
	}
	return res, states, nil
}

// PlanPatrol plans r and previews it against the reserved volumes: the
// routes, their distance, duration, battery use and checks, and the
// patrols they would meet, where and when. It reserves nothing and is not
// audited. Operators and admins may preview (a supervisor: Forbidden),
// for any drone they can see. Returns Invalid naming the field, NotFound
// for an unknown drone or agency, Conflict when no valid route exists or
// it does not fit the battery.
func (s *Service) PlanPatrol(_ context.Context, p Principal, r PatrolRequest) (*PatrolPreview, error) {
	if err := s.mayPlan(p); err != nil {
		return nil, err
	}
	res, _, err := s.planPatrol(p, &r)
	if err != nil {
		return nil, err
	}
	ps := s.patrolsInit()
	start := r.Plan.Start
	if start.IsZero() {
		start = s.Now()
	}
	out := &PatrolPreview{Result: res}
	for i, rt := range res.Routes {
		off := 0.0
		for _, d := range r.Plan.Drones {
			if d.ID == rt.DroneID {
				off = homeOffset(d)
			}
		}
		v := volumeOf(fmt.Sprintf("preview-%d", i), rt, start, off)
		out.Volumes = append(out.Volumes, v)
		c, err := ps.reg.Check(v)
		if err != nil {
			return nil, patrol.Err(err)
		}
		if c != nil {
			out.Conflicts = append(out.Conflicts, PatrolConflict{Route: i, Conflict: *c})
		}
	}
	return out, nil
}

// DispatchPatrol plans r for the drones r.DroneIDs (their live state),
// reserves one volume per drone, uploads each drone's mission through
// UploadMission (the zone guard and the audit apply) and starts it, or,
// when a conflict was resolved by a later start, starts it then. Each
// drone's patrol gets a stable id. The caller must be an operator who may
// command every drone (its agency's, or granted). A volume meeting a
// reserved one is refused with Conflict naming the patrol met, where and
// when, unless r allows a resolution (another altitude layer, a later
// start). A drone already on an active patrol is Conflict. Reservations are
// all-or-nothing; if an upload or start fails, the patrols already started
// are returned with the error and the rest are released.
func (s *Service) DispatchPatrol(ctx context.Context, p Principal, r PatrolRequest) ([]Patrol, error) {
	const action = "Patrol.Dispatch"
	sum := fmt.Sprintf("kind=%s drones=%s alt_m=%g resolve_alt=%t max_delay=%s", r.Plan.Kind, strings.Join(r.DroneIDs, ","), r.Plan.AltM, r.ResolveAltitude, r.MaxDelay)
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	fail := func(drone, agency string, err error) ([]Patrol, error) {
		s.audit(p, action, drone, agency, sum, err)
		return nil, err
	}
	if err := s.authorize(p, accessCommand, nil); err != nil {
		return fail("", "", err)
	}
	if len(r.DroneIDs) == 0 {
		return fail("", "", fleet.Errorf(fleet.Invalid, "drone_ids: at least one drone"))
	}
	if r.Plan.Sorties {
		return fail("", "", fleet.Errorf(fleet.Invalid, "sorties: a dispatch flies one sortie; plan the sorties ahead and dispatch each"))
	}
	if err := s.checkPatrolRequest(&r); err != nil {
		return fail("", "", err)
	}
	for _, id := range r.DroneIDs {
		st, err := s.Fleet.Drone(id)
		if err != nil {
			return fail(id, "", err)
		}
		if err := s.authorize(p, accessCommand, &st); err != nil {
			return fail(id, st.Agency, err)
		}
	}
	ps := s.patrolsInit()
	ps.mu.Lock()
	for _, e := range ps.byID {
		if e.State.Active() && slices.Contains(r.DroneIDs, e.DroneID) {
			ps.mu.Unlock()
			return fail(e.DroneID, e.Agency, fleet.Errorf(fleet.Conflict, "drone %q is on patrol %s until %s; cancel it first",
				e.DroneID, e.ID, e.Volume.End.UTC().Format(time.RFC3339)))
		}
	}
	for _, id := range r.DroneIDs {
		if ps.busy[id] {
			ps.mu.Unlock()
			return fail(id, "", fleet.Errorf(fleet.Busy, "drone %q is being dispatched by another call", id))
		}
	}
	for _, id := range r.DroneIDs {
		ps.busy[id] = true
	}
	ps.mu.Unlock()
	defer func() {
		ps.mu.Lock()
		for _, id := range r.DroneIDs {
			delete(ps.busy, id)
		}
		ps.mu.Unlock()
	}()
	res, states, err := s.planPatrol(p, &r)
	if err != nil {
		return fail("", "", err)
	}
	// One route per drone.
	byDrone := map[string]plan.Route{}
	for _, rt := range res.Routes {
		if _, dup := byDrone[rt.DroneID]; dup {
			return fail(rt.DroneID, "", fleet.Errorf(fleet.Invalid, "drone %q: the patrol needs several sorties; plan them ahead and dispatch each", rt.DroneID))
		}
		byDrone[rt.DroneID] = rt
	}
	start := r.Plan.Start
	if start.IsZero() {
		start = s.Now()
	}
	set := s.Zones.Snapshot()
	minA, maxA, step := r.LayerMinM, r.LayerMaxM, r.LayerStepM
	if minA == 0 {
		minA = 20
	}
	if maxA == 0 {
		maxA = math.Min(120, s.maxAlt())
	}
	if step == 0 {
		step = DefaultLayerStepM
	}
	// Reserve every drone's volume, or none.
	entries := make([]*patrolEntry, 0, len(states))
	release := func(es []*patrolEntry) {
		for _, e := range es {
			_ = ps.reg.Release(e.ID)
		}
	}
	for i, st := range states {
		rt, ok := byDrone[st.ID]
		if !ok {
			release(entries)
			return fail(st.ID, st.Agency, fleet.Errorf(fleet.Conflict, "drone %q got no part of the patrol", st.ID))
		}
		id, err := newPatrolID()
		if err != nil {
			release(entries)
			return fail(st.ID, st.Agency, err)
		}
		off := homeOffset(r.Plan.Drones[i])
		v := volumeOf(id, rt, start, off)
		var opt plan.Resolve
		// Drones of one dispatch share their pieces' edges (and often a
		// base): one meeting a sibling flies another layer.
		sibling := false
		if c, err := ps.reg.Check(v); err == nil && c != nil {
			sibling = slices.ContainsFunc(entries, func(e *patrolEntry) bool { return e.ID == c.PatrolID })
		}
		if r.ResolveAltitude || sibling {
			for _, a := range plan.AltitudeLayers(set, r.Plan.Agency, []plan.Route{rt}, minA, maxA, step, start) {
				opt.Layers = append(opt.Layers, a+off)
			}
		}
		opt.MaxDelay = r.MaxDelay
		resv, err := ps.reg.Reserve(v, opt)
		if err != nil {
			release(entries)
			return fail(st.ID, st.Agency, patrol.Err(err))
		}
		if resv.Resolved == "altitude" {
			rt = rt.WithAltitude(resv.AltM-off, r.Plan.ClimbMPS, r.Plan.DescentMPS)
		}
		e := &patrolEntry{Patrol: Patrol{ID: id, DroneID: st.ID, Agency: st.Agency, Kind: res.Kind, State: PatrolScheduled,
			Route: rt, Volume: resv.Volume, Resolved: resv.Resolved, Resolves: resv.Resolves, Delay: resv.Delay,
			DispatchedBy: p.Label, Created: s.Now().UTC()}, offset: off, principal: p, startAt: resv.Volume.Start}
		entries = append(entries, e)
	}
	ps.mu.Lock()
	for _, e := range entries {
		ps.byID[e.ID] = e
	}
	ps.mu.Unlock()
	for _, e := range entries {
		s.savePatrol(e.ID)
	}
	var out []Patrol
	for k, e := range entries {
		home := r.Plan.Drones[slices.Index(r.DroneIDs, e.DroneID)]
		items := patrol.Mission(e.Route, patrol.Options{HomeAMSL: home.HomeAMSL, Jump: true})
		mid, err := s.UploadMission(ctx, p, e.DroneID, items, UploadOptions{})
		if err == nil {
			e.MissionID = mid
			if e.Delay <= 0 {
				err = s.StartMission(ctx, p, e.DroneID, false)
			}
		}
		if err != nil {
			for _, rest := range entries[k:] {
				s.endPatrol(rest.ID, PatrolFailed, fleet.PatrolFailed, fleet.ErrorMessage(err))
			}
			s.audit(p, action, e.DroneID, e.Agency, sum, err)
			return out, err
		}
		ps.mu.Lock()
		e.MissionID = mid
		if e.Delay <= 0 {
			e.State = PatrolFlying
		}
		snap := e.Patrol
		ps.mu.Unlock()
		s.savePatrol(e.ID)
		s.audit(p, action, e.DroneID, e.Agency, sum+" patrol_id="+e.ID+" resolved="+e.Resolved, nil)
		s.Fleet.Publish(fleet.PatrolChanged{DroneID: e.DroneID, At: s.Now().UTC(), PatrolID: e.ID, MissionID: mid, Agency: e.Agency,
			Change: fleet.PatrolDispatched, Start: e.Volume.Start, End: e.Volume.End})
		if e.Delay > 0 {
			s.startLater(e.ID)
		}
		out = append(out, clonePatrol(snap))
	}
	return out, nil
}

// startLater starts patrol id's mission at its scheduled start, in a
// goroutine the Service owns (Close stops it).
func (s *Service) startLater(id string) {
	ps := s.patrolsInit()
	ps.mu.Lock()
	e, ok := ps.byID[id]
	if !ok {
		ps.mu.Unlock()
		return
	}
	at, p, drone := e.startAt, e.principal, e.DroneID
	ps.mu.Unlock()
	if s.ctx.Err() != nil {
		return // closed: nothing may start
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			d := at.Sub(s.Now())
			if d <= 0 {
				break
			}
			t := time.NewTimer(min(d, time.Second))
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			ps.mu.Lock()
			active := e.State == PatrolScheduled
			ps.mu.Unlock()
			if !active {
				return
			}
		}
		err := s.StartMission(s.ctx, p, drone, false)
		if err != nil {
			s.endPatrol(id, PatrolFailed, fleet.PatrolFailed, fleet.ErrorMessage(err))
			return
		}
		ps.mu.Lock()
		if e.State == PatrolScheduled {
			e.State = PatrolFlying
		}
		mid, ag, start, end := e.MissionID, e.Agency, e.Volume.Start, e.Volume.End
		ps.mu.Unlock()
		s.savePatrol(id)
		s.Fleet.Publish(fleet.PatrolChanged{DroneID: drone, At: s.Now().UTC(), PatrolID: id, MissionID: mid, Agency: ag,
			Change: fleet.PatrolStarted, Start: start, End: end})
	}()
}

// endPatrol ends patrol id if it is active: it releases its volume, keeps
// it among the ended ones, and publishes change. It reports whether it
// ended it.
func (s *Service) endPatrol(id string, state PatrolState, change fleet.PatrolChange, reason string) bool {
	ps := s.patrolsInit()
	ps.mu.Lock()
	e, ok := ps.byID[id]
	if !ok || !e.State.Active() {
		ps.mu.Unlock()
		return false
	}
	e.State, e.Ended, e.Reason = state, s.Now().UTC(), reason
	_ = ps.reg.Release(id) // gone already when its window passed
	ps.ended = append(ps.ended, id)
	var drop []string
	for len(ps.ended) > MaxEndedPatrols {
		delete(ps.byID, ps.ended[0])
		drop = append(drop, ps.ended[0])
		ps.ended = ps.ended[1:]
	}
	ev := fleet.PatrolChanged{DroneID: e.DroneID, At: e.Ended, PatrolID: id, MissionID: e.MissionID, Agency: e.Agency,
		Change: change, Message: reason}
	ps.mu.Unlock()
	s.savePatrol(id)
	s.forgetPatrols(drop)
	s.log.Info("patrol volume released", "patrol_id", id, "drone_id", ev.DroneID, "mission_id", ev.MissionID, "state", string(state))
	s.Fleet.Publish(ev)
	return true
}

// notePatrol follows the fleet's events for the patrols: a patrol's
// mission finishing or being interrupted ends it. It is called from the
// Service's goroutine.
func (s *Service) notePatrol(ev fleet.Event) {
	switch e := ev.(type) {
	case fleet.MissionFinished:
		s.patrolMissionEnded(e.DroneID, e.MissionID, fleet.MissionStateFinished, "")
	case fleet.MissionInterrupted:
		s.patrolMissionEnded(e.DroneID, e.MissionID, fleet.MissionStateInterrupted, string(e.Reason))
	case fleet.MissionMismatch:
		s.patrolMismatch(e)
	}
}

// patrolMissionEnded ends the flying patrol of drone whose mission mid (any,
// when "") ended in state (finished or interrupted, for reason): finished,
// interrupted, or cancelled when CancelPatrol aborted it.
func (s *Service) patrolMissionEnded(drone, mid string, state fleet.MissionState, reason string) {
	pstate, change := PatrolFinished, fleet.PatrolFinished
	if state == fleet.MissionStateInterrupted {
		pstate, change = PatrolInterrupted, fleet.PatrolInterrupted
	}
	ps := s.patrolsInit()
	ps.mu.Lock()
	var id string
	for _, e := range ps.byID {
		if e.DroneID == drone && e.State == PatrolFlying && (mid == "" || e.MissionID == mid) {
			id = e.ID
			if e.cancelBy != "" && pstate == PatrolInterrupted {
				// The abort of CancelPatrol.
				pstate, change, reason = PatrolCancelled, fleet.PatrolCancelled, "cancelled by "+e.cancelBy
			}
		}
	}
	ps.mu.Unlock()
	if id != "" {
		s.endPatrol(id, pstate, change, reason)
	}
}

// tickPatrols checks the flying patrols: one whose mission the fleet
// tracks as finished or interrupted ends (a re-sync after a restart takes
// that state from the vehicle), a drone outside its volume raises a
// PatrolConformance (and one when back inside), and a patrol running late
// has its volume extended. It is called from the Service's goroutine.
func (s *Service) tickPatrols() {
	ps := s.patrolsInit()
	now := s.Now()
	type flying struct {
		id, drone, agency, mission string
		offset                     float64
		vol                        plan.Volume
		outside                    bool
		home                       plan.LatLon
	}
	var fl []flying
	ps.mu.Lock()
	for _, e := range ps.byID {
		if e.State == PatrolFlying {
			fl = append(fl, flying{e.ID, e.DroneID, e.Agency, e.MissionID, e.offset, e.Volume, e.Outside, e.Route.Home})
		}
	}
	ps.mu.Unlock()
	for _, f := range fl {
		st, err := s.Fleet.Drone(f.drone)
		if err != nil {
			continue
		}
		// The mission's state as the fleet tracks it, which a re-sync
		// takes from the vehicle (after a restart: completed or
		// interrupted while the server was down), ends the patrol even
		// when no event said so while the Service was listening.
		if ms := st.Mission; ms.MissionID == f.mission &&
			(ms.State == fleet.MissionStateFinished || ms.State == fleet.MissionStateInterrupted) {
			s.patrolMissionEnded(f.drone, f.mission, ms.State, string(ms.Reason))
			continue
		}
		if !st.HasPosition {
			continue
		}
		// Running late: the rest of the route (the mission's ETA, landing at
		// 1 m/s) and half the reserve must fit before the volume's end;
		// without an ETA, a drone still airborne within half the reserve of
		// the end is late.
		if st.Armed {
			need := now.Add(PatrolReserve / 2)
			if ms := st.Mission; ms.State == fleet.MissionStateRunning && ms.ETA >= 0 {
				need = need.Add(ms.ETA + time.Duration(math.Max(0, st.Position.RelAlt))*time.Second)
			}
			if need.After(f.vol.End) {
				s.extendPatrol(f.id, need.Add(PatrolReserve))
				if v, ok := ps.reg.Get(f.id); ok {
					f.vol = v
				}
			}
		}
		pos := plan.LatLon{Lat: st.Position.Lat, Lon: st.Position.Lon}
		alt := st.Position.RelAlt + f.offset
		if alt < f.vol.Floor() && distanceM(pos, f.home) <= f.vol.BufferM {
			// Climbing out of, or descending into, its home: the take-off
			// and landing column belongs to the volume.
			alt = f.vol.AltM
		}
		dev, err := ps.reg.Conform(f.id, pos, alt, now)
		if err != nil {
			continue
		}
		outside := dev != nil && st.Armed
		if outside == f.outside {
			continue
		}
		ps.mu.Lock()
		if e, ok := ps.byID[f.id]; ok {
			e.Outside = outside
		}
		ps.mu.Unlock()
		s.savePatrol(f.id)
		ev := fleet.PatrolConformance{DroneID: f.drone, At: now.UTC(), PatrolID: f.id, Agency: f.agency, Inside: !outside, Position: st.Position}
		if dev != nil {
			ev.Reason, ev.ByM = dev.Reason, dev.ByM
		}
		if outside {
			s.log.Warn("drone outside its patrol volume", "patrol_id", f.id, "drone_id", f.drone, "reason", ev.Reason, "by_m", ev.ByM)
		}
		s.Fleet.Publish(ev)
	}
}

// extendPatrol moves patrol id's volume end to end, and says so.
func (s *Service) extendPatrol(id string, end time.Time) {
	ps := s.patrolsInit()
	err := ps.reg.Extend(id, end)
	ps.mu.Lock()
	e, ok := ps.byID[id]
	if !ok {
		ps.mu.Unlock()
		return
	}
	ev := fleet.PatrolChanged{DroneID: e.DroneID, At: s.Now().UTC(), PatrolID: id, MissionID: e.MissionID, Agency: e.Agency,
		Change: fleet.PatrolExtended, Start: e.Volume.Start, End: end}
	if err == nil {
		e.Volume.End = end
	} else {
		if e.Reason == fleet.ErrorMessage(patrol.Err(err)) {
			ps.mu.Unlock()
			return // said already
		}
		ev.Change, ev.End, ev.Message = fleet.PatrolExtendRefused, e.Volume.End, fleet.ErrorMessage(patrol.Err(err))
		e.Reason = ev.Message
	}
	ps.mu.Unlock()
	s.savePatrol(id)
	s.Fleet.Publish(ev)
}

func clonePatrol(p Patrol) Patrol {
	p.Route.Waypoints = slices.Clone(p.Route.Waypoints)
	p.Route.Checks = slices.Clone(p.Route.Checks)
	p.Volume.Path = slices.Clone(p.Volume.Path)
	return p
}

// ListPatrols returns the active patrols and the most recent ended ones
// (at most MaxEndedPatrols), newest first; with activeOnly only those
// holding a reservation. Any role may read.
func (s *Service) ListPatrols(_ context.Context, p Principal, activeOnly bool) ([]Patrol, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	ps := s.patrolsInit()
	ps.mu.Lock()
	out := make([]Patrol, 0, len(ps.byID))
	for _, e := range ps.byID {
		if !activeOnly || e.State.Active() {
			out = append(out, clonePatrol(e.Patrol))
		}
	}
	ps.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// GetPatrol returns patrol id. Any role may read. Returns NotFound.
func (s *Service) GetPatrol(_ context.Context, p Principal, id string) (Patrol, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return Patrol{}, err
	}
	if err := checkID("patrol_id", id); err != nil {
		return Patrol{}, err
	}
	ps := s.patrolsInit()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	e, ok := ps.byID[id]
	if !ok {
		return Patrol{}, fleet.Errorf(fleet.NotFound, "patrol_id: no patrol %q", id)
	}
	return clonePatrol(e.Patrol), nil
}

// CancelPatrol ends patrol id: a flying drone's mission is aborted (the
// drone returns home), a scheduled one never starts, and the volume is
// released. The caller must be an operator who may command the drone.
// Returns NotFound, Conflict for a patrol that has ended already, and the
// vehicle's codes for the abort (the patrol stays active then).
func (s *Service) CancelPatrol(ctx context.Context, p Principal, id string) error {
	const action = "Patrol.Cancel"
	if err := s.authorize(p, accessRead, nil); err != nil {
		return err
	}
	if err := checkID("patrol_id", id); err != nil {
		s.audit(p, action, "", "", "patrol_id="+id, err)
		return err
	}
	ps := s.patrolsInit()
	ps.mu.Lock()
	e, ok := ps.byID[id]
	var drone string
	var state PatrolState
	if ok {
		drone, state = e.DroneID, e.State
	}
	ps.mu.Unlock()
	if !ok {
		err := fleet.Errorf(fleet.NotFound, "patrol_id: no patrol %q", id)
		s.audit(p, action, "", "", "patrol_id="+id, err)
		return err
	}
	return s.command(ctx, p, accessCommand, action, drone, "patrol_id="+id, func(ctx context.Context) error {
		if !state.Active() {
			return fleet.Errorf(fleet.Conflict, "patrol %s has ended (%s)", id, state)
		}
		if state == PatrolFlying {
			ps.mu.Lock()
			e.cancelBy = p.Label
			ps.mu.Unlock()
			if err := s.Fleet.AbortMission(ctx, drone); err != nil {
				ps.mu.Lock()
				e.cancelBy = ""
				ps.mu.Unlock()
				return err
			}
		}
		s.endPatrol(id, PatrolCancelled, fleet.PatrolCancelled, "cancelled by "+p.Label)
		return nil
	})
}

// ImportOptions tune ImportPlan.
type ImportOptions struct {
	// DroneID, when set, checks the mission with the zone guard for that
	// drone, as an upload would (Conflict naming the zone and leg).
	DroneID string
	// FenceZones puts the plan's fence as zones (admin only, through
	// PutZone, audited), named ZonePrefix-polygon-N and -circle-N, of
	// Jurisdiction.
	FenceZones   bool
	ZonePrefix   string
	Jurisdiction geofence.Jurisdiction
}

// ImportedPlan is a QGroundControl .plan read and checked.
type ImportedPlan struct {
	// Items are the mission items, seq 0 home.
	Items []fleet.MissionItem
	// Zones are the plan's fence as zones (empty without a fence or
	// without a ZonePrefix).
	Zones []geofence.Zone
	// Rally are the rally points [lat, lon, alt above home].
	Rally [][3]float64
}

// ImportPlan reads a QGroundControl .plan: its mission items (surveys and
// corridor scans expanded) checked like any upload (CheckItems; with
// o.DroneID the zone guard for that drone), and its fence as zones, which
// with o.FenceZones an admin puts in the zone set. Operators and admins may
// import (a supervisor: Forbidden). Returns Invalid with what is wrong,
// Exhausted for a file over MaxPlanBytes, Conflict from the zone guard.
func (s *Service) ImportPlan(ctx context.Context, p Principal, data []byte, o ImportOptions) (*ImportedPlan, error) {
	if err := s.mayPlan(p); err != nil {
		return nil, err
	}
	if len(data) > MaxPlanBytes {
		return nil, fleet.Errorf(fleet.Exhausted, "plan: %d bytes, at most %d", len(data), MaxPlanBytes)
	}
	if o.FenceZones && p.Role != RoleAdmin {
		return nil, fleet.Errorf(fleet.Forbidden, "fence_zones: only an admin may put zones (caller %q is %s)", p.Label, p.Role)
	}
	if err := checkName("zone_prefix", o.ZonePrefix, 64, !o.FenceZones); err != nil {
		return nil, err
	}
	qp, err := qgcplan.Decode(data)
	if err != nil {
		return nil, err
	}
	items, err := qp.MissionItems()
	if err != nil {
		return nil, err
	}
	if err := CheckItems(items, s.MaxMissionItems); err != nil {
		return nil, err
	}
	out := &ImportedPlan{Items: items, Rally: qp.RallyPoints.Points}
	if o.DroneID != "" {
		st, err := s.Fleet.Drone(o.DroneID)
		if err != nil {
			return nil, err
		}
		if err := patrol.Check(s.Zones, st, items); err != nil {
			return nil, err
		}
	}
	if o.ZonePrefix != "" {
		j := o.Jurisdiction
		if j == "" {
			j = geofence.Joint
		}
		zs, err := qp.Zones(o.ZonePrefix, j)
		if err != nil {
			return nil, err
		}
		out.Zones = zs
	}
	if o.FenceZones {
		for _, z := range out.Zones {
			if err := s.PutZone(ctx, p, z); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// ExportPlan writes a QGroundControl .plan of patrol patrolID's mission,
// or, with patrolID empty, of the plan the fleet tracks for drone droneID.
// Any role may read. Returns NotFound, Invalid when neither is given.
func (s *Service) ExportPlan(_ context.Context, p Principal, droneID, patrolID string) ([]byte, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	var items []fleet.MissionItem
	speed := 0.0
	switch {
	case patrolID != "":
		pt, err := s.GetPatrol(context.Background(), p, patrolID)
		if err != nil {
			return nil, err
		}
		home := 0.0
		if st, err := s.Fleet.Drone(pt.DroneID); err == nil && st.HasHome && !math.IsNaN(st.Home.AltMSL) {
			home = st.Home.AltMSL
		}
		items = patrol.Mission(pt.Route, patrol.Options{HomeAMSL: home, Jump: true})
		if len(pt.Route.Waypoints) > 0 {
			speed = pt.Route.Waypoints[0].SpeedMPS
		}
	case droneID != "":
		if err := checkID("drone_id", droneID); err != nil {
			return nil, err
		}
		var err error
		if items, err = s.Fleet.MissionPlan(droneID); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, fleet.Errorf(fleet.NotFound, "drone %q has no mission plan", droneID)
		}
	default:
		return nil, fleet.Errorf(fleet.Invalid, "drone_id or patrol_id: one is required")
	}
	return qgcplan.Encode(qgcplan.FromMission(items, speed, nil, nil))
}

// distanceM is the horizontal distance from a to b in metres
// (equirectangular, fine over a patrol's few kilometres).
func distanceM(a, b plan.LatLon) float64 {
	const r = 6371008.8
	dn := (b.Lat - a.Lat) * math.Pi / 180 * r
	de := (b.Lon - a.Lon) * math.Pi / 180 * r * math.Cos(a.Lat*math.Pi/180)
	return math.Hypot(dn, de)
}
