package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Fleet's options.
const (
	DefaultLinkTimeout      = 3 * time.Second
	DefaultTickInterval     = 100 * time.Millisecond
	DefaultCommandTimeout   = 15 * time.Second
	DefaultArmRetryInterval = 2 * time.Second
	DefaultArmWait          = 60 * time.Second
	DefaultMaxAltitude      = 1000.0
	DefaultAgency           = "unassigned"
	defaultEventQueue       = 1024
	defaultWorkers          = 4
	defaultUploadParallel   = 32
	initRetryDelay          = 5 * time.Second
	failsafeWindow          = 2 * time.Second
	failsafeRepeat          = 10 * time.Second // repeats of one failsafe kind within this are one
	expectModeWindow        = 5 * time.Second
	progressInterval        = time.Second
)

// DefaultStreamRates are the telemetry rates asked of each drone: 4 Hz for
// the standard streams and 10 Hz for GLOBAL_POSITION_INT.
func DefaultStreamRates() StreamRates {
	return StreamRates{Hz: 4, PerMessage: map[string]float64{"GLOBAL_POSITION_INT": 10}}
}

// Guard can veto operations that would take a drone out of its allowed space
// (a geofence). Its methods are called from the caller's goroutine before the
// fleet contacts the vehicle, and must be safe for concurrent use. They return
// nil to allow, or an error (preferably *Error with code Conflict naming the
// zone) to refuse.
type Guard interface {
	CheckGoTo(d DroneState, target Position) error
	CheckMission(d DroneState, t MissionType, items []MissionItem) error
}

// Fleet is the domain core: the registry of drones and their state, link
// health, the event bus, commands, missions and parameters. Transports feed it
// through Handle (it implements Ingest); servers call its methods and read
// its events.
//
// Set the options, call Initialize, and Close when done. All methods may be
// called from any goroutine.
type Fleet struct {
	// Logger receives the fleet's logs (optional, default discard).
	Logger *slog.Logger
	// Now is the wall clock (optional, default time.Now): event times,
	// last-seen and heartbeat times use it.
	Now func() time.Time
	// Monotonic is the clock durations are measured with (optional,
	// default Now): link timeouts, claimant silences, the windows of
	// failsafes and mission interruptions, progress reports and rate
	// limits. It must not jump; Now may (an NTP step, an operator setting
	// the date), and a jump then moves no timeout. Go's time.Now carries a
	// monotonic reading that Sub uses, so the default is immune to
	// wall-clock jumps; a test that injects a Now that jumps injects a
	// steady Monotonic too.
	Monotonic func() time.Time
	// LinkTimeout is how long without a heartbeat before a link is LOST
	// (optional, default 3 s).
	LinkTimeout time.Duration
	// TickInterval is how often (real time) the scheduler checks link
	// health and retries pending work (optional, default 100 ms).
	TickInterval time.Duration
	// Names gives drones a configured name by system id (optional). A named
	// drone's id is its name; others are "sysid-N". Fleets that reuse
	// system ids across links name drones with NamesByKey or NamesByUID,
	// which take precedence.
	Names map[uint8]string
	// NamesByKey names drones by link and system id (optional).
	NamesByKey map[VehicleKey]string
	// NamesByUID names drones by their AUTOPILOT_VERSION uid (optional).
	// When set (or AgenciesByUID is), a new vehicle is held up to 2 s for
	// its uid before it becomes a drone.
	NamesByUID map[uint64]string
	// Agencies assigns drones to agencies by system id (optional).
	Agencies map[uint8]string
	// AgenciesByKey and AgenciesByUID assign agencies by link and system id
	// and by uid (optional); they take precedence over Agencies.
	AgenciesByKey map[VehicleKey]string
	AgenciesByUID map[uint64]string
	// DefaultAgency is the agency of drones not in Agencies (optional,
	// default "unassigned").
	DefaultAgency string
	// DroneID maps a transport key to a drone id (optional, default the
	// configured name or "sysid-N"). A key asking for the id of a drone
	// active on another key is a claim, decided as the package doc's
	// "Identity" section says; it never takes the drone over.
	DroneID func(VehicleKey) string
	// MaxDrones bounds the drones tracked (optional, default 4096); more
	// are refused, counted in Stats and logged once a second.
	MaxDrones int
	// MaxMissionItems bounds a plan adopted from a vehicle (optional,
	// default 2000); larger or invalid plans are not adopted.
	MaxMissionItems int
	// MaxParams bounds the parameters cached per drone (optional, default
	// 4096). Unsolicited PARAM_VALUEs are cached only for names already
	// cached or while fewer names are cached than the vehicle announced
	// (param_count, with param_index below it when given); the cache of a
	// drone lost for 10 minutes is dropped.
	MaxParams int
	// MaxClaimants bounds the keys held while their identity is decided
	// (optional, default 64).
	MaxClaimants int
	// StreamRates are asked of every drone on discovery, on link regained
	// and after a reboot (optional, default DefaultStreamRates()).
	StreamRates *StreamRates
	// CommandTimeout bounds each operation whose ctx has no deadline
	// (optional, default 15 s).
	CommandTimeout time.Duration
	// ArmRetryInterval is the pause between arming attempts while waiting
	// for pre-arm checks (optional, default 2 s).
	ArmRetryInterval time.Duration
	// ArmWait is how long StartMission waits for pre-arm checks (optional,
	// default 60 s).
	ArmWait time.Duration
	// HoldMode is the ArduCopter mode used to hold position (optional,
	// default "BRAKE", which needs no pilot input; "LOITER" also works).
	HoldMode string
	// MaxAltitude bounds altitudes of takeoff and go-to, metres above home
	// (optional, default 1000).
	MaxAltitude float64
	// EventQueue is the default bound of a subscriber's discrete-event
	// queue (optional, default 1024).
	EventQueue int
	// Workers is the number of goroutines that run background requests
	// (streams, versions, mission re-syncs) (optional, default 4).
	Workers int
	// Guard vetoes go-tos and missions (optional; nil allows everything).
	Guard Guard
	// KnownMission, if set, says which mission the server stored last for a
	// drone (its id and plan as uploaded; ok false when none), so that a
	// drone discovered after a restart flying or holding a plan is re-synced
	// instead of re-uploaded: the fleet downloads the plan, and when it
	// matches the stored one as the vehicle stores plans it keeps the
	// stored mission id (MISSION_CURRENT then gives the progress, and its
	// mission_state whether the vehicle completed the plan meanwhile,
	// finished, or holds it stopped part-way, paused); when it
	// differs a MissionMismatch names the stored id and the new id the
	// vehicle's plan is tracked under (optional; nil: a plan the fleet did
	// not know gets a new id). It is called from the fleet's workers, never
	// under a drone's lock, and may block briefly (a store read).
	KnownMission func(droneID string) (missionID string, items []MissionItem, ok bool)

	log  *slog.Logger
	now  func() time.Time
	mono func() time.Time
	// monoIsNow: mono is now's clock (no Monotonic given), so a time read
	// from now serves as a monotonic one too.
	monoIsNow bool
	rates     StreamRates
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	ready     atomic.Bool

	mu     sync.RWMutex
	byID   map[string]*drone
	byKey  map[VehicleKey]*drone
	list   []*drone
	claims map[VehicleKey]*claimant

	limitLog RateLog
	// droneLog limits the lines one drone or link can cause (bad values,
	// link flaps, failsafes, identity claims), per source and message.
	droneLog KeyedRateLog
	stats    struct {
		claims, claimantUpdates, claimantsRefused, dronesRefused, badFields, badMissions atomic.Uint64
		paramsRefused, eventsDropped                                                     atomic.Uint64
	}

	// droneSeq numbers drones as they are created (drone.idx).
	droneSeq atomic.Int64

	subMu  sync.Mutex
	subs   atomic.Pointer[[]*Subscription]
	subWG  sync.WaitGroup
	closed bool

	counters fleetCounters

	// in
	wake chan struct{}
	jobs chan job
}

// Initialize checks the options, fills defaults and starts the scheduler and
// workers. It returns Invalid for negative durations.
func (f *Fleet) Initialize() error {
	if f.LinkTimeout < 0 || f.TickInterval < 0 || f.CommandTimeout < 0 ||
		f.ArmRetryInterval < 0 || f.ArmWait < 0 || f.MaxAltitude < 0 || f.Workers < 0 ||
		f.MaxDrones < 0 || f.MaxClaimants < 0 || f.MaxMissionItems < 0 || f.MaxParams < 0 {
		return Errorf(Invalid, "fleet: negative option")
	}
	if f.StreamRates != nil && f.StreamRates.Hz < 0 {
		return Errorf(Invalid, "fleet: negative stream rate")
	}
	f.log = f.Logger
	if f.log == nil {
		f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f.log = f.log.With("component", "fleet")
	f.now = f.Now
	if f.now == nil {
		f.now = time.Now
	}
	f.mono = f.Monotonic
	if f.mono == nil {
		f.mono, f.monoIsNow = f.now, true
	}
	if f.LinkTimeout == 0 {
		f.LinkTimeout = DefaultLinkTimeout
	}
	if f.TickInterval == 0 {
		f.TickInterval = DefaultTickInterval
	}
	if f.CommandTimeout == 0 {
		f.CommandTimeout = DefaultCommandTimeout
	}
	if f.ArmRetryInterval == 0 {
		f.ArmRetryInterval = DefaultArmRetryInterval
	}
	if f.ArmWait == 0 {
		f.ArmWait = DefaultArmWait
	}
	if f.HoldMode == "" {
		f.HoldMode = "BRAKE"
	}
	if _, ok := arduCopterModeNumbers[f.HoldMode]; !ok {
		return Errorf(Invalid, "fleet: unknown hold mode %q", f.HoldMode)
	}
	if f.MaxAltitude == 0 {
		f.MaxAltitude = DefaultMaxAltitude
	}
	if f.DefaultAgency == "" {
		f.DefaultAgency = DefaultAgency
	}
	if f.EventQueue == 0 {
		f.EventQueue = defaultEventQueue
	}
	if f.Workers == 0 {
		f.Workers = defaultWorkers
	}
	if f.MaxDrones == 0 {
		f.MaxDrones = DefaultMaxDrones
	}
	if f.MaxClaimants == 0 {
		f.MaxClaimants = DefaultMaxClaimants
	}
	f.limitLog.Log = f.log
	if f.MaxParams == 0 {
		f.MaxParams = DefaultMaxParams
	}
	if f.MaxMissionItems == 0 {
		f.MaxMissionItems = DefaultMaxMissionItems
	}
	if f.StreamRates != nil {
		f.rates = *f.StreamRates
	} else {
		f.rates = DefaultStreamRates()
	}
	f.byID = make(map[string]*drone)
	f.byKey = make(map[VehicleKey]*drone)
	f.claims = make(map[VehicleKey]*claimant)
	f.subs.Store(&[]*Subscription{})
	f.wake = make(chan struct{}, 1)
	f.jobs = make(chan job, 256)
	f.ctx, f.cancel = context.WithCancel(context.Background())

	f.wg.Add(1 + f.Workers)
	go f.schedule()
	for range f.Workers {
		go f.work()
	}
	f.ready.Store(true)
	return nil
}

// Close stops the scheduler and workers, waits for them, and closes every
// subscription. Handle calls after Close are ignored.
func (f *Fleet) Close() {
	if !f.ready.Swap(false) {
		return
	}
	f.cancel()
	f.wg.Wait()
	f.subMu.Lock()
	f.closed = true
	subs := *f.subs.Load()
	f.subMu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	f.subWG.Wait()
}

func (f *Fleet) agency(sysID uint8) string {
	if a, ok := f.Agencies[sysID]; ok && a != "" {
		return a
	}
	return f.DefaultAgency
}

func (f *Fleet) droneByID(id string) *drone {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.byID[id]
}

// droneList returns the drones in discovery order.
func (f *Fleet) droneList() []*drone {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return slices.Clone(f.list)
}

// Drones returns a snapshot of every known drone, sorted by id.
func (f *Fleet) Drones() []DroneState {
	ds := f.droneList()
	out := make([]DroneState, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.snapshot())
	}
	slices.SortFunc(out, func(a, b DroneState) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Drone returns a snapshot of drone id. Returns NotFound if no such drone was
// heard.
func (f *Fleet) Drone(id string) (DroneState, error) {
	d := f.droneByID(id)
	if d == nil {
		return DroneState{}, errNotFound(id)
	}
	return d.snapshot(), nil
}

func errNotFound(id string) *Error { return Errorf(NotFound, "no drone %q", id) }

// Handle implements Ingest. It updates the drone's state and publishes
// events without blocking: it takes only short in-memory locks, and leaves
// network work (stream requests, re-syncs) to the fleet's workers.
func (f *Fleet) Handle(v Vehicle, u Update) {
	if !f.ready.Load() || v == nil || u == nil {
		return
	}
	u, bad, keep := sanitize(u)
	if bad > 0 {
		f.stats.badFields.Add(uint64(bad))
		k := v.Key()
		f.droneLog.Warn(f.log, k.Link+"/"+strconv.Itoa(int(k.SysID)), "impossible values dropped", "link", k.Link, "sys_id", k.SysID,
			"update", fmt.Sprintf("%T", u), "fields", bad)
	}
	if !keep {
		return
	}
	key := v.Key()
	f.mu.RLock()
	d := f.byKey[key]
	f.mu.RUnlock()
	now := f.now()
	var a admitted
	if d == nil {
		if hb, ok := u.(Heartbeat); ok && !acceptHeartbeat(hb) {
			return
		}
		a = f.admit(v, key, u, now)
		f.afterAdmit(a)
		if a.d == nil {
			return
		}
		d = a.d
	}
	var out outbox
	d.mu.Lock()
	if d.key != key {
		// A stale key: the drone moved on.
		d.mu.Unlock()
		return
	}
	changed := d.apply(now, u, &out)
	if a.created {
		out.add(DroneDiscovered{Drone: d.st})
	}
	evs, dropped := out.events(), 0
	if len(evs) > 0 {
		// Reading the clock is a tenth of a frame's cost at 1,000 drones:
		// only events need it here.
		evs, dropped = d.budget(f.mono(), evs)
	}
	d.mu.Unlock()
	if dropped > 0 {
		f.stats.eventsDropped.Add(uint64(dropped))
		f.droneLog.Warn(d.log, d.id, "events over the rate: dropped", "per_s", eventRate)
	}

	if a.switched {
		f.droneLog.Info(f.log, d.id, "drone follows new link", "drone_id", d.id, "sys_id", key.SysID, "link", key.Link, "old_link", a.oldKey.Link)
	}
	if a.created {
		f.log.Info("drone discovered", "drone_id", d.id, "sys_id", key.SysID, "link", key.Link)
	}
	for _, e := range evs {
		f.Publish(e)
	}
	if changed {
		f.publishState(d)
	}
	if out.poke || a.created || a.switched {
		f.poke()
	}
}

// budget drops the budgeted events over the drone's event rate (a
// flapping vehicle), returning those kept and how many it dropped. Called
// with d.mu held.
func (d *drone) budget(now time.Time, evs []Event) ([]Event, int) {
	kept, dropped := evs[:0], 0
	for _, e := range evs {
		if budgeted(e) && !d.events.allow(now) {
			dropped++
			continue
		}
		kept = append(kept, e)
	}
	return kept, dropped
}

// monoAt returns the monotonic time of now, a time just read from f.now:
// now itself when both are one clock (reading the clock is a tenth of a
// frame's cost), else a reading of Monotonic.
func (f *Fleet) monoAt(now time.Time) time.Time {
	if f.monoIsNow {
		return now
	}
	return f.mono()
}

// poke wakes the scheduler without blocking.
func (f *Fleet) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// outbox collects the events of one state change, published after the
// drone's lock is released.
type outbox struct {
	buf  [4]Event
	n    int
	more []Event
	poke bool
}

func (o *outbox) add(e Event) {
	if o.n < len(o.buf) {
		o.buf[o.n] = e
		o.n++
		return
	}
	o.more = append(o.more, e)
}

func (o *outbox) events() []Event {
	if o.more == nil {
		return o.buf[:o.n]
	}
	return append(o.buf[:o.n:o.n], o.more...)
}

// job is background work for a drone, run by a worker.
type job struct {
	d    *drone
	c    *claimant // jobIdentify
	kind jobKind
}

type jobKind int

const (
	jobInit jobKind = iota + 1
	jobResync
	jobHome
	jobIdentify
)

// schedule is the one goroutine that checks every drone's link health,
// finishes pending failsafe/interrupt decisions and queues background work.
func (f *Fleet) schedule() {
	defer f.wg.Done()
	t := time.NewTicker(f.TickInterval)
	defer t.Stop()
	var scratch []*drone
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		case <-f.wake:
		}
		f.mu.RLock()
		scratch = append(scratch[:0], f.list...)
		f.mu.RUnlock()
		now := f.now()
		f.tickClaims(f.mono())
		for _, d := range scratch {
			var out outbox
			d.mu.Lock()
			changed := d.tick(now, &out)
			jobs := d.pendingJobs(now)
			d.mu.Unlock()
			for _, e := range out.events() {
				f.Publish(e)
			}
			if changed {
				f.publishState(d)
			}
			for _, k := range jobs {
				select {
				case f.jobs <- job{d: d, kind: k}:
				default:
					d.mu.Lock()
					d.unqueue(k)
					d.mu.Unlock()
				}
			}
		}
		clear(scratch)
	}
}

// work runs background jobs until the fleet closes.
func (f *Fleet) work() {
	defer f.wg.Done()
	for {
		select {
		case <-f.ctx.Done():
			return
		case j := <-f.jobs:
			switch j.kind {
			case jobInit:
				f.initDrone(j.d)
			case jobResync:
				f.resyncMission(j.d)
			case jobHome:
				f.requestHome(j.d)
			case jobIdentify:
				f.identify(j.c)
			}
		}
	}
}

// msgHomePosition is the MAVLink message id of HOME_POSITION.
const msgHomePosition = 242

// requestHome asks a drone that has a fix but no known home for its
// HOME_POSITION (MAV_CMD_REQUEST_MESSAGE 242).
func (f *Fleet) requestHome(d *drone) {
	ctx, cancel := context.WithTimeout(f.ctx, f.CommandTimeout)
	defer cancel()
	v := d.currentVehicle()
	err := v.Command(ctx, Command{Kind: CommandRequestMessage, MessageID: msgHomePosition})
	if err != nil {
		d.log.Debug("home position request failed", "link", v.Key().Link, "err", err)
	}
	d.mu.Lock()
	d.homeQueued = false
	d.mu.Unlock()
}

// initDrone asks a drone for its telemetry streams and AUTOPILOT_VERSION.
func (f *Fleet) initDrone(d *drone) {
	ctx, cancel := context.WithTimeout(f.ctx, f.CommandTimeout)
	defer cancel()
	v := d.currentVehicle()
	log := d.log.With("link", v.Key().Link)
	err := v.RequestStreams(ctx, f.rates)
	if err != nil {
		log.Warn("stream request failed", "err", err)
	} else {
		log.Debug("streams requested", "hz", f.rates.Hz)
	}
	verr := v.Command(ctx, Command{Kind: CommandRequestMessage, MessageID: 148})
	if verr != nil && ErrorCode(verr) != Unsupported {
		log.Warn("autopilot version request failed", "err", verr)
	}
	d.mu.Lock()
	d.initQueued = false
	if err == nil {
		d.streamsAt = f.mono()
	}
	if err != nil && f.ctx.Err() == nil {
		d.needInit = true
		d.initAfter = f.mono().Add(initRetryDelay)
	}
	d.mu.Unlock()
}
