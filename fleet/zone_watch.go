package fleet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// Defaults of the ZoneWatch's options.
const (
	// DefaultZoneMarginM is the default horizontal margin: 50 m.
	DefaultZoneMarginM = 50.0
	// DefaultZoneMarginVerticalM is the default vertical margin: 10 m.
	DefaultZoneMarginVerticalM = 10.0
	// DefaultZoneMarginTime is the default time margin: 10 s of flight.
	DefaultZoneMarginTime = 10 * time.Second
	defaultZoneWorkers    = 2
	defaultVehicleGrace   = 500 * time.Millisecond
	defaultHysteresisM    = 10.0
	defaultHysteresisTime = 3 * time.Second
	vehicleGracePoll      = 20 * time.Millisecond
	zoneResponseQueue     = 64
	// zoneRecheck is how often an unchanged position is checked again
	// (zones and their validity windows change).
	zoneRecheck = time.Second
)

// ZonePolicy chooses the automatic response to a breach: by the zone
// breached, else by the drone's agency, else Default.
type ZonePolicy struct {
	// Default is the response when neither the zone nor the agency has one
	// (optional, default ZoneWarn).
	Default ZoneAction
	// ByAgency gives the response by agency id (optional).
	ByAgency map[string]ZoneAction
	// ByZone gives the response by zone id (optional); it wins over ByAgency.
	ByZone map[string]ZoneAction
}

// Action returns the response to a breach of zone zoneID by a drone of agency.
func (p ZonePolicy) Action(agency, zoneID string) ZoneAction {
	if a, ok := p.ByZone[zoneID]; ok && zoneID != "" {
		return a
	}
	if a, ok := p.ByAgency[agency]; ok {
		return a
	}
	if p.Default == "" {
		return ZoneWarn
	}
	return p.Default
}

func (p ZonePolicy) validate() error {
	check := func(where string, a ZoneAction) error {
		if !a.Valid() {
			return Errorf(Invalid, "zone watch: policy %s: unknown action %q (want warn, hold, rtl or land)", where, a)
		}
		return nil
	}
	if p.Default != "" {
		if err := check("default", p.Default); err != nil {
			return err
		}
	}
	for id, a := range p.ByAgency {
		if err := check("agency "+id, a); err != nil {
			return err
		}
	}
	for id, a := range p.ByZone {
		if err := check("zone "+id, a); err != nil {
			return err
		}
	}
	return nil
}

// ZoneDroneStatus is what a ZoneWatch last saw of one drone.
type ZoneDroneStatus struct {
	DroneID string
	Agency  string
	Status  ZoneStatus
	// ZoneID and ZoneName name the zone concerned (see ZoneStateChanged).
	ZoneID, ZoneName string
	// Position is the position last checked, At when.
	Position Position
	At       time.Time
	// BoundaryM is the distance to the nearest edge of the allowed space.
	BoundaryM float64
}

// ZoneWatch checks every position of every drone against its agency's
// allowed space (package geofence), keeps each drone's status (inside,
// approaching, breached), publishes ZoneStateChanged on the fleet's bus at
// each transition, and responds to each breach once, by its Policy (warn,
// hold, RTL, land), publishing a ZoneResponse.
//
// It reads the fleet's events like any subscriber: state is coalesced, so a
// slow watch checks each drone's latest position and never slows ingest.
// Drones without a position (ArduCopter's 0,0 before a fix) and drones whose
// link is lost are not checked. Responses run on the watch's own workers,
// never on the subscriber goroutine; they are skipped for drones that are
// disarmed or on the ground, or already in the response's mode. A drone
// whose agency the zone set does not hold is logged, not acted on (the
// ZoneGuard refuses its commands). A floor at home level (0 m, as in the
// bundled zones) is the ground: taking off and landing do not count as
// approaching it, nor flying or landing below home level as breaching it,
// and no event names it as a violation. A drone approaching counts as inside
// again only HysteresisM beyond the margin for HysteresisTime, so that GPS
// noise at the margin does not flip its status. When the vehicle answers a
// breach itself (its own fence, its own RTL), the response is recorded as
// the vehicle's (ZoneResponse.ByVehicle) and no command is sent.
//
// Set the options, call Initialize, and Close when done (before the
// Fleet's Close). Status and Statuses may be called from any goroutine.
type ZoneWatch struct {
	// Fleet is the fleet watched and commanded (required, initialized).
	Fleet *Fleet
	// Zones holds zones and agencies (required). Its clock (Store.Now)
	// decides which zones are active.
	Zones *geofence.Store
	// Margin says when a drone is approaching (optional; the zero Margin
	// means 50 m horizontally, 10 m vertically and 10 s of flight). A
	// negative field disables that test.
	Margin geofence.Margin
	// Policy chooses the response to a breach (optional; default warn).
	Policy ZonePolicy
	// Logger receives the watch's logs (optional, default discard).
	Logger *slog.Logger
	// Now is the clock of event times (optional, default the Fleet's Now).
	// Rechecks and the hysteresis are timed with the Fleet's Monotonic
	// (Now when it has none), so a wall-clock jump moves neither.
	Now func() time.Time
	// Workers is the number of goroutines that send responses (optional,
	// default 2).
	Workers int
	// HysteresisM is how much farther than the margin a drone that is
	// approaching must be before it counts as inside again, horizontally
	// (a fifth of it vertically), so that GPS noise at the margin does not
	// flip approaching/inside (optional, default 10 m; negative: none).
	HysteresisM float64
	// HysteresisTime is how long a drone that is approaching must be
	// clear of the margin (by HysteresisM) before it counts as inside again
	// (optional, default 3 s; negative: none).
	HysteresisTime time.Duration
	// VehicleGrace is how long a response waits for the vehicle's own
	// answer when the vehicle has an on-board fence (it sends FENCE_STATUS):
	// ArduCopter switches to RTL within ~35 ms of its breach, and the watch,
	// one position later, would send a second RTL (optional, default 500 ms;
	// negative: no wait).
	VehicleGrace time.Duration

	log    *slog.Logger
	now    func() time.Time
	mono   func() time.Time // rechecks and hysteresis: the Fleet's Monotonic, else now
	margin geofence.Margin
	// grace, hystM, hystTime are VehicleGrace, HysteresisM and
	// HysteresisTime with their defaults.
	grace    time.Duration
	hystM    float64
	hystTime time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	sub      *Subscription
	wg       sync.WaitGroup
	once     sync.Once

	// tracks belongs to the run goroutine.
	tracks map[string]*zoneTrack

	mu         sync.Mutex
	status     map[string]ZoneDroneStatus
	responding map[string]bool
	counters   zoneWatchCounters
	// droneLog limits the breach lines of each drone (a flapping drone).
	droneLog KeyedRateLog

	// in
	jobs chan zoneJob
}

// zoneTrack is the run goroutine's memory of one drone.
type zoneTrack struct {
	status    ZoneStatus
	set       *geofence.Set
	agency    string
	pos       Position
	altMSL    float64
	vel       [3]float64
	checked   time.Time
	badAgency string
	// clearSince is when an approaching drone was first seen clear of the
	// margin by the hysteresis (zero while it is not).
	clearSince time.Time
	// zoneID, zoneName are the zone of the last published status.
	zoneID, zoneName string
}

// zoneJob is one response for a worker.
type zoneJob struct {
	ev ZoneResponse
}

// Initialize checks the options, fills defaults, subscribes to the fleet and
// starts the watch. Returns Invalid for a missing Fleet or Zones, an unknown
// action in Policy or negative Workers.
func (w *ZoneWatch) Initialize() error {
	if w.Fleet == nil || w.Zones == nil {
		return Errorf(Invalid, "zone watch: Fleet and Zones are required")
	}
	if w.Workers < 0 {
		return Errorf(Invalid, "zone watch: negative Workers")
	}
	if err := w.Policy.validate(); err != nil {
		return err
	}
	w.log = w.Logger
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w.log = w.log.With("component", "zone_watch")
	w.now = w.Now
	if w.now == nil {
		w.now = w.Fleet.Now
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.mono = w.Fleet.Monotonic
	if w.mono == nil {
		w.mono = w.now
	}
	w.margin = w.Margin
	if w.margin == (geofence.Margin{}) {
		w.margin = geofence.Margin{HorizontalM: DefaultZoneMarginM, VerticalM: DefaultZoneMarginVerticalM, Time: DefaultZoneMarginTime}
	}
	w.margin.HorizontalM = max(w.margin.HorizontalM, 0)
	w.margin.VerticalM = max(w.margin.VerticalM, 0)
	w.margin.Time = max(w.margin.Time, 0)
	w.grace, w.hystM, w.hystTime = w.VehicleGrace, w.HysteresisM, w.HysteresisTime
	if w.grace == 0 {
		w.grace = defaultVehicleGrace
	}
	if w.hystM == 0 {
		w.hystM = defaultHysteresisM
	}
	if w.hystTime == 0 {
		w.hystTime = defaultHysteresisTime
	}
	workers := w.Workers
	if workers == 0 {
		workers = defaultZoneWorkers
	}
	w.tracks = make(map[string]*zoneTrack)
	w.status = make(map[string]ZoneDroneStatus)
	w.responding = make(map[string]bool)
	w.jobs = make(chan zoneJob, zoneResponseQueue)
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.sub = w.Fleet.Subscribe(SubscribeOptions{Snapshot: true, Batch: true, Linger: 2 * time.Millisecond})
	w.wg.Add(1 + workers)
	go w.run()
	for range workers {
		go w.work()
	}
	return nil
}

// Close stops the watch: it cancels responses in flight and waits for its
// goroutines. It may be called more than once.
func (w *ZoneWatch) Close() {
	if w.cancel == nil {
		return
	}
	w.once.Do(func() {
		w.cancel()
		w.sub.Close()
		w.wg.Wait()
	})
}

// Status returns what the watch last saw of drone id; false if it has not
// checked that drone yet.
func (w *ZoneWatch) Status(id string) (ZoneDroneStatus, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.status[id]
	return s, ok
}

// Statuses returns what the watch last saw of every drone it checked,
// sorted by drone id.
func (w *ZoneWatch) Statuses() []ZoneDroneStatus {
	w.mu.Lock()
	out := make([]ZoneDroneStatus, 0, len(w.status))
	for _, s := range w.status {
		out = append(out, s)
	}
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b ZoneDroneStatus) int { return strings.Compare(a.DroneID, b.DroneID) })
	return out
}

// run is the subscriber goroutine: it checks each state it reads.
func (w *ZoneWatch) run() {
	defer w.wg.Done()
	take := func(st *DroneState, ev Event) {
		if st != nil {
			w.check(*st)
		} else if e, ok := ev.(DroneDiscovered); ok {
			w.check(e.Drone)
		}
	}
	for range w.sub.Ready() {
		if !w.sub.Take(take) {
			return
		}
	}
}

// check classifies one drone state and acts on a transition.
func (w *ZoneWatch) check(st DroneState) {
	if !st.HasPosition || st.LinkState != LinkStateUp {
		return
	}
	set, mono := w.Zones.Snapshot(), w.mono()
	tr := w.tracks[st.ID]
	if tr == nil {
		tr = &zoneTrack{}
		w.tracks[st.ID] = tr
	}
	vel := [3]float64{st.VelN, st.VelE, st.VelD}
	if tr.status != ZoneUnknown && tr.set == set && tr.agency == st.Agency && tr.pos == st.Position &&
		sameFloat(tr.altMSL, st.AltMSL) && tr.vel == vel && mono.Sub(tr.checked) < zoneRecheck && !mono.Before(tr.checked) {
		w.counters.unchanged.Add(1)
		return
	}
	tr.set, tr.agency, tr.pos, tr.altMSL, tr.vel, tr.checked = set, st.Agency, st.Position, st.AltMSL, vel, mono
	at, now := w.Zones.Time(), w.now()
	for i, v := range vel {
		if !finite(v) {
			vel[i] = 0
		}
	}
	pos := currentGeoPos(st)
	t0 := time.Now()
	res, err := set.Watch(st.Agency, pos, geofence.Velocity{VN: vel[0], VE: vel[1], VD: vel[2]}, w.margin, at)
	w.counters.observeCheck(t0)
	if err != nil {
		if errors.Is(err, geofence.ErrUnknownAgency) {
			if tr.badAgency != st.Agency {
				tr.badAgency = st.Agency
				w.log.Warn("drone agency has no geofence authorisation", "drone_id", st.ID, "agency", st.Agency)
			}
		} else {
			w.log.Debug("position not checked", "drone_id", st.ID, "err", err)
		}
		return
	}
	tr.badAgency = ""
	next := ZoneInside
	violation := res.Violation
	switch res.State {
	case geofence.Approaching:
		if !w.groundOnly(set, st.Agency, pos, res, at) {
			next = ZoneApproaching
		} else {
			violation = nil // the ground is not a floor to approach
		}
	case geofence.Breached:
		next = ZoneBreached
		if w.belowGround(set, st.Agency, pos, res, at) {
			next, violation = ZoneInside, nil // nor a floor to breach
		}
	}
	prev := tr.status
	zoneID, zoneName := res.ZoneID, res.ZoneName
	if prev == ZoneApproaching && next == ZoneInside && w.holdApproaching(tr, res, pos.RelAlt, mono) {
		next, zoneID, zoneName = ZoneApproaching, tr.zoneID, tr.zoneName
	}
	if next != ZoneInside || prev != ZoneApproaching {
		tr.clearSince = time.Time{}
	}
	tr.status, tr.zoneID, tr.zoneName = next, zoneID, zoneName
	w.mu.Lock()
	w.status[st.ID] = ZoneDroneStatus{DroneID: st.ID, Agency: st.Agency, Status: next, ZoneID: zoneID,
		ZoneName: zoneName, Position: st.Position, At: now, BoundaryM: res.BoundaryM}
	w.mu.Unlock()
	if next == prev {
		return
	}
	w.counters.transition(prev, next)
	w.Fleet.Publish(ZoneStateChanged{DroneID: st.ID, At: now, Agency: st.Agency, From: prev, To: next,
		ZoneID: zoneID, ZoneName: zoneName, Position: st.Position, Violation: violation,
		BoundaryM: res.BoundaryM, TimeToBreach: res.TimeToBreach})
	log := w.log.With("drone_id", st.ID, "zone_id", res.ZoneID, "from", prev.String(), "to", next.String())
	switch {
	case next == ZoneBreached:
		w.droneLog.Warn(log, st.ID, "allowed space breached", "reason", violationReason(res.Violation))
		w.respond(st, res, now)
	case prev == ZoneBreached:
		w.droneLog.Info(log, st.ID, "back inside allowed space")
	default:
		log.Debug("zone status changed", "boundary_m", res.BoundaryM)
	}
}

// holdApproaching reports whether a drone that was approaching and now
// checks inside should stay approaching: it is not yet HysteresisM beyond
// the margin, or not yet for HysteresisTime.
func (w *ZoneWatch) holdApproaching(tr *zoneTrack, res geofence.WatchResult, relAlt float64, mono time.Time) bool {
	if w.hystM > 0 {
		nearH := w.margin.HorizontalM > 0 && res.BoundaryM <= w.margin.HorizontalM+w.hystM
		// A floor at home level is the ground, never a margin to hold.
		ground := relAlt-res.VerticalM <= groundM
		nearV := w.margin.VerticalM > 0 && !ground && res.VerticalM <= w.margin.VerticalM+w.hystM/5
		if nearH || nearV {
			tr.clearSince = time.Time{}
			return true
		}
	}
	if w.hystTime <= 0 {
		return false
	}
	if tr.clearSince.IsZero() {
		tr.clearSince = mono
	}
	return mono.Sub(tr.clearSince) < w.hystTime
}

// groundM is how far above home a floor still counts as the ground.
const groundM = 0.5

// groundOnly reports whether an Approaching result is only about a floor at
// home level or below: the ground a drone takes off from and lands on,
// not an edge to warn about on every takeoff and landing.
func (w *ZoneWatch) groundOnly(set *geofence.Set, agency string, p geofence.Position, res geofence.WatchResult, at time.Time) bool {
	if v := res.Violation; v != nil {
		return v.Reason == geofence.ReasonBelowFloor && v.At.RelAlt <= groundM
	}
	if w.margin.HorizontalM > 0 && res.BoundaryM <= w.margin.HorizontalM {
		return false
	}
	if p.RelAlt-res.VerticalM > groundM {
		return false
	}
	// The limit near is the floor if the space goes on above.
	up := p
	up.RelAlt += res.VerticalM + w.margin.VerticalM
	if !math.IsNaN(up.AltMSL) {
		up.AltMSL += res.VerticalM + w.margin.VerticalM
	}
	ok, _, err := set.Allowed(agency, up, at)
	return err == nil && ok
}

// belowGround reports whether a breach is only below a floor at home
// level: a drone landing on ground lower than its home, or flying over a
// valley, with the allowed space just above it.
func (w *ZoneWatch) belowGround(set *geofence.Set, agency string, p geofence.Position, res geofence.WatchResult, at time.Time) bool {
	if res.Violation == nil || res.Violation.Reason != geofence.ReasonBelowFloor || p.RelAlt >= groundM {
		return false
	}
	up := p
	up.RelAlt = groundM
	if !math.IsNaN(up.AltMSL) {
		up.AltMSL += groundM - p.RelAlt
	}
	ok, _, err := set.Allowed(agency, up, at)
	return err == nil && ok
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func violationReason(v *geofence.Violation) string {
	if v == nil {
		return ""
	}
	return string(v.Reason)
}

// respond starts the policy's response to a new breach, without blocking.
func (w *ZoneWatch) respond(st DroneState, res geofence.WatchResult, now time.Time) {
	ev := ZoneResponse{DroneID: st.ID, At: now, ZoneID: res.ZoneID, ZoneName: res.ZoneName,
		Action: w.Policy.Action(st.Agency, res.ZoneID)}
	switch {
	case ev.Action == ZoneWarn:
	case !st.Armed || st.Landed == LandedOnGround:
		ev.Skipped = "drone is not flying"
	default:
		w.vehicleAnswered(st, &ev)
	}
	if ev.Action == ZoneWarn || ev.Skipped != "" {
		w.publishResponse(ev)
		return
	}
	w.mu.Lock()
	busy := w.responding[st.ID]
	if !busy {
		w.responding[st.ID] = true
	}
	w.mu.Unlock()
	if busy {
		ev.Skipped = "a response is already running"
		w.publishResponse(ev)
		return
	}
	select {
	case w.jobs <- zoneJob{ev: ev}:
	default:
		w.done(st.ID)
		ev.Code, ev.Message = Busy, "zone watch: response queue full"
		w.publishResponse(ev)
	}
}

// vehicleAnswered marks ev skipped when the vehicle is already answering
// the breach: its own fence reports it, or it returns, lands or brakes (its
// FENCE_ACTION, a failsafe, a pilot), or it is already in the action's mode.
func (w *ZoneWatch) vehicleAnswered(st DroneState, ev *ZoneResponse) bool {
	role := modeRoleOf(st.Autopilot, st.Mode)
	switch {
	case st.Fence.Breached:
		ev.Skipped, ev.ByVehicle = "the vehicle's own fence answered the breach (mode "+st.Mode+")", true
	case st.Mode != "" && st.Mode == w.actionMode(st, ev.Action):
		ev.Skipped = "drone is already in " + st.Mode
	case role == roleReturn || role == roleLand || st.Mode == "BRAKE":
		ev.Skipped, ev.ByVehicle = "the vehicle is already in "+st.Mode, true
	default:
		return false
	}
	return true
}

// waitForVehicle gives a drone with an on-board fence VehicleGrace to
// answer the breach itself; true when it did (ev is then marked).
func (w *ZoneWatch) waitForVehicle(ev *ZoneResponse) bool {
	st, err := w.Fleet.Drone(ev.DroneID)
	if err != nil {
		return false
	}
	if w.vehicleAnswered(st, ev) {
		return true
	}
	if !st.Fence.Known || w.grace <= 0 {
		return false
	}
	deadline := time.NewTimer(w.grace)
	defer deadline.Stop()
	tick := time.NewTicker(vehicleGracePoll)
	defer tick.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
		if st, err := w.Fleet.Drone(ev.DroneID); err == nil && w.vehicleAnswered(st, ev) {
			return true
		}
	}
}

// actionMode is the mode a drone shows once the action took effect.
func (w *ZoneWatch) actionMode(st DroneState, a ZoneAction) string {
	switch a {
	case ZoneRTL:
		return roleModeName(st, roleReturn)
	case ZoneLand:
		return roleModeName(st, roleLand)
	case ZoneHold:
		m, _ := w.Fleet.holdMode(st)
		return m
	}
	return ""
}

func (w *ZoneWatch) done(id string) {
	w.mu.Lock()
	delete(w.responding, id)
	w.mu.Unlock()
}

// work sends responses until the watch closes.
func (w *ZoneWatch) work() {
	defer w.wg.Done()
	for {
		select {
		case <-w.ctx.Done():
			return
		case j := <-w.jobs:
			w.execute(j.ev)
		}
	}
}

func (w *ZoneWatch) execute(ev ZoneResponse) {
	defer w.done(ev.DroneID)
	if w.waitForVehicle(&ev) {
		ev.At = w.now()
		w.publishResponse(ev)
		return
	}
	var err error
	switch ev.Action {
	case ZoneHold:
		err = w.Fleet.Hold(w.ctx, ev.DroneID)
	case ZoneRTL:
		err = w.Fleet.ReturnToLaunch(w.ctx, ev.DroneID)
	case ZoneLand:
		err = w.Fleet.Land(w.ctx, ev.DroneID)
	}
	ev.At = w.now()
	ev.Code, ev.Message = ErrorCode(err), ErrorMessage(err)
	w.publishResponse(ev)
}

func (w *ZoneWatch) publishResponse(ev ZoneResponse) {
	w.counters.response(ev)
	log := w.log.With("drone_id", ev.DroneID, "zone_id", ev.ZoneID, "action", string(ev.Action))
	switch {
	case ev.Skipped != "":
		log.Info("breach response skipped", "why", ev.Skipped)
	case ev.Code != "":
		log.Warn("breach response failed", "code", string(ev.Code), "err", ev.Message)
	default:
		log.Info("breach response")
	}
	w.Fleet.Publish(ev)
}
