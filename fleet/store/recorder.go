package store

import (
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// Defaults of the Recorder's options.
const (
	DefaultQueueSize     = 32768
	DefaultBatchInterval = 200 * time.Millisecond
	DefaultBatchSize     = 8192
)

// Kinds of the records the Recorder writes about itself (not produced by
// app.EventRecordOf).
const (
	// KindRecordingDropped is app.KindRecordingDropped.
	KindRecordingDropped = app.KindRecordingDropped
)

// Recorder records the fleet's telemetry and events into a DB: every
// StateChanged of a drone with a position becomes a track point, and the
// events Keep selects (default Recorded) become event records; mission
// uploads (with their plan) and status changes also go to the missions
// bucket (DB.Missions).
//
// Restart re-sync: the fleet reads a running mission it does not know back
// from the vehicle (MISSION_CURRENT shows one; MISSION_CURRENT then says where
// the drone is). When that adopted plan starts, the Recorder stores it and
// compares it with the plan last uploaded to the drone (before the restart):
// a KindMissionResynced record, and a log line, say whether the vehicle holds
// the stored plan and, if not, how they differ.
//
// Recording never slows ingest: the fleet's subscription never blocks a
// publisher, the Recorder's reader only converts and queues (a bounded queue
// of QueueSize), and a writer commits the queue in groups at most every
// BatchInterval or BatchSize points. When the queue is full, points and
// events are dropped and counted (Stats), logged and recorded at most once a
// second. If a commit fails (disk full, file read-only) recording stops: it
// is logged once, Stats says Stopped with the error, everything committed
// before stays, and the fleet goes on.
//
// Set the options, call Initialize, and Close when done (before closing the
// DB).
type Recorder struct {
	// DB is where to record (required).
	DB *DB
	// Fleet is what to record (required).
	Fleet *fleet.Fleet
	// Logger receives the recorder's logs (optional, default discard).
	Logger *slog.Logger
	// Now is the clock for state changes that carry no new message time
	// (a link lost) and events without a time; use the fleet's (optional,
	// default time.Now).
	Now func() time.Time
	// QueueSize bounds the points and events waiting for the writer
	// (optional, default 32768).
	QueueSize int
	// BatchInterval is the longest time between commits (optional, default
	// 200 ms).
	BatchInterval time.Duration
	// BatchSize commits as soon as this many points wait (optional,
	// default 8192).
	BatchSize int
	// Keep selects the events recorded (optional, default Recorded).
	Keep func(app.EventRecord) bool

	log *slog.Logger
	sub *fleet.Subscription
	// The queue: the reader appends, the writer takes all at once (on a
	// tick, or woken when a batch waits), so that a point costs no
	// goroutine switch.
	qmu     sync.Mutex
	qitems  []item
	qclosed bool
	qwake   chan struct{}
	wg      sync.WaitGroup

	points, events, droppedPoints, droppedEvents, commits atomic.Uint64
	stopped                                               atomic.Bool
	errMu                                                 sync.Mutex
	err                                                   error
	failed                                                chan struct{}
	lastCommit                                            atomic.Int64
}

// item is one queued point or event.
type item struct {
	drone   string
	p       app.TrackPoint
	ev      *app.EventRecord
	mission *missionUpdate
}

// RecorderStats are the Recorder's counters, for metrics.
type RecorderStats struct {
	// Points and Events count what was committed.
	Points, Events uint64
	// DroppedPoints and DroppedEvents count what was not recorded: the
	// queue was full, or recording had stopped.
	DroppedPoints, DroppedEvents uint64
	// Missed counts events the fleet's bus dropped before the recorder
	// read them.
	Missed uint64
	// Commits counts group commits; LastCommit is the time of the last.
	Commits    uint64
	LastCommit time.Time
	// Stopped is set when a write failed and recording stopped; Err says
	// why.
	Stopped bool
	Err     error
}

// Recorded is the default event policy: every event but mission progress,
// zone state changes of no consequence (debug), vehicle texts less severe
// than warning and accepted commands (those are in the audit log).
func Recorded(r app.EventRecord) bool {
	switch r.Kind {
	case app.KindMissionProgress, app.KindZoneState:
		return false
	case app.KindStatusText:
		return r.Severity <= app.SevWarning
	case app.KindCommandResult:
		return r.Params["code"] != ""
	}
	return true
}

// Initialize checks the options, fills defaults, subscribes to the fleet
// and starts recording. Returns Invalid for missing or negative options.
func (r *Recorder) Initialize() error {
	if r.DB == nil || r.Fleet == nil {
		return fleet.Errorf(fleet.Invalid, "recorder: DB and Fleet are required")
	}
	if r.QueueSize < 0 || r.BatchInterval < 0 || r.BatchSize < 0 {
		return fleet.Errorf(fleet.Invalid, "recorder: negative queue size, batch interval or batch size")
	}
	r.init()
	r.sub = r.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 4096, Snapshot: true, Batch: true})
	r.start(nil, nil)
	return nil
}

// init fills the defaults and makes the queue.
func (r *Recorder) init() {
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.QueueSize == 0 {
		r.QueueSize = DefaultQueueSize
	}
	if r.BatchInterval == 0 {
		r.BatchInterval = DefaultBatchInterval
	}
	if r.BatchSize == 0 {
		r.BatchSize = DefaultBatchSize
	}
	if r.Keep == nil {
		r.Keep = Recorded
	}
	r.log = r.Logger.With("component", "recorder")
	r.qwake = make(chan struct{}, 1)
	r.failed = make(chan struct{})
}

// start runs the reader of events (nil: the recorder's Batch
// subscription) and the writer, which commits on every tick (nil: every
// BatchInterval).
func (r *Recorder) start(events <-chan fleet.Event, tick <-chan time.Time) {
	r.wg.Add(2)
	go r.read(events)
	go r.writeLoop(tick)
}

// Close stops recording: it ends the subscription, commits what is queued
// and waits for the recorder's goroutines.
func (r *Recorder) Close() {
	if r.sub == nil {
		return
	}
	r.sub.Close()
	r.wg.Wait()
}

// Failed returns a channel closed when recording stops because a write
// failed (Stats then says why), for callers to raise an alarm. Call after
// Initialize.
func (r *Recorder) Failed() <-chan struct{} { return r.failed }

// Stats returns the recorder's counters. Safe from any goroutine.
func (r *Recorder) Stats() RecorderStats {
	s := RecorderStats{
		Points: r.points.Load(), Events: r.events.Load(),
		DroppedPoints: r.droppedPoints.Load(), DroppedEvents: r.droppedEvents.Load(),
		Commits: r.commits.Load(), Stopped: r.stopped.Load(),
	}
	if r.sub != nil {
		s.Missed = r.sub.Missed()
	}
	if t := r.lastCommit.Load(); t != 0 {
		s.LastCommit = time.Unix(0, t)
	}
	r.errMu.Lock()
	s.Err = r.err
	r.errMu.Unlock()
	return s
}

// seen is what the reader keeps of a drone.
type seen struct {
	agency  string
	last    app.TrackPoint
	hasLast bool
}

// read drains the subscription, turns state into points and events into
// records, and queues them without ever blocking. It closes the queue
// when the subscription ends.
func (r *Recorder) read(events <-chan fleet.Event) {
	defer r.wg.Done()
	defer func() {
		r.qmu.Lock()
		r.qclosed = true
		r.qmu.Unlock()
		r.wake()
	}()
	rd := recordReader{r: r, drones: map[string]*seen{}, missions: map[string]string{}}
	if events == nil {
		// The fleet's subscription, drained in batches: a drone's newest
		// state without an allocation or a goroutine hand-off per state.
		for range r.sub.Ready() {
			if !r.sub.Take(rd.take) {
				return
			}
		}
		return
	}
	for ev := range events {
		if e, ok := ev.(fleet.StateChanged); ok {
			rd.take(&e.Drone, nil)
		} else {
			rd.take(nil, ev)
		}
	}
}

// recordReader is what the reader keeps between events: per drone its
// agency and last recorded point, and the mission each drone was last seen
// with in this run (a start of another one is of a plan the fleet read from
// the vehicle).
type recordReader struct {
	r        *Recorder
	drones   map[string]*seen
	missions map[string]string
}

// take queues what one state (d) or event (ev) records. d is valid only
// during the call.
func (rd *recordReader) take(d *fleet.DroneState, ev fleet.Event) {
	r := rd.r
	if d != nil {
		s := rd.drones[d.ID]
		if s == nil {
			s = &seen{}
			rd.drones[d.ID] = s
		}
		s.agency = d.Agency
		if !d.HasPosition {
			return
		}
		at := d.LastSeen
		if at.IsZero() {
			at = r.Now()
		}
		p := PointOf(*d, at)
		if prev := s.last; s.hasLast && !at.After(prev.At) {
			// A change without a new message: a link lost is stamped
			// now; one that changes nothing recorded is not a sample.
			if p.At = prev.At; samePoint(p, prev) {
				return
			}
			if p.At = r.Now(); !p.At.After(prev.At) {
				return
			}
		}
		s.last, s.hasLast = p, true
		r.enqueue(item{drone: d.ID, p: p})
		return
	}
	drone := fleet.EventDrone(ev)
	agency := ""
	if s := rd.drones[drone]; s != nil {
		agency = s.agency
	}
	rec, ok := app.EventRecordOf(ev, agency)
	if !ok || !r.Keep(rec) {
		return
	}
	if rec.At.IsZero() {
		rec.At = r.Now()
	}
	r.enqueue(item{ev: &rec, mission: r.missionUpdate(ev, rec, rd.missions)})
}

// samePoint reports whether a and b record the same sample (NaN headings
// equal).
func samePoint(a, b app.TrackPoint) bool {
	if math.IsNaN(a.Heading) && math.IsNaN(b.Heading) {
		a.Heading, b.Heading = 0, 0
	}
	return a == b
}

// missionUpdate is the missions-bucket write an event makes, if any.
func (r *Recorder) missionUpdate(ev fleet.Event, rec app.EventRecord, missions map[string]string) *missionUpdate {
	u := &missionUpdate{drone: rec.DroneID, mission: rec.Params["mission_id"], at: rec.At,
		change: MissionChange{At: rec.At, Kind: rec.Kind, Seq: -1, Reason: rec.Params["reason"], Mode: rec.Params["mode"]}}
	if s, ok := rec.Params["seq"]; ok {
		if n, err := strconv.Atoi(s); err == nil {
			u.change.Seq = n
		}
	}
	switch e := ev.(type) {
	case fleet.MissionUploaded:
		if e.Type != fleet.MissionTypeMission {
			return nil
		}
		u.upload = true
		missions[e.DroneID] = e.MissionID
		u.items = r.planOf(e.DroneID, e.MissionID)
	case fleet.MissionStarted:
		if missions[e.DroneID] != e.MissionID {
			// Adopted from the vehicle (after a restart): keep the plan and
			// compare it with the stored one.
			missions[e.DroneID] = e.MissionID
			u.adopted, u.items = true, r.planOf(e.DroneID, e.MissionID)
		}
	case fleet.MissionPaused, fleet.MissionResumed, fleet.MissionFinished, fleet.MissionInterrupted:
	default:
		return nil
	}
	if u.drone == "" || u.mission == "" {
		return nil
	}
	return u
}

// planOf returns the plan the fleet tracks for drone, if it is still
// mission's.
func (r *Recorder) planOf(drone, mission string) []fleet.MissionItem {
	if d, err := r.Fleet.Drone(drone); err == nil && d.Mission.MissionID == mission {
		items, _ := r.Fleet.MissionPlan(drone)
		return items
	}
	return nil
}

func (r *Recorder) enqueue(it item) {
	if !r.stopped.Load() {
		r.qmu.Lock()
		if n := len(r.qitems); n < r.QueueSize {
			r.qitems = append(r.qitems, it)
			r.qmu.Unlock()
			if n+1 == min(r.BatchSize, r.QueueSize) {
				r.wake()
			}
			return
		}
		r.qmu.Unlock()
	}
	r.countDropped(it)
}

// wake tells the writer that a batch waits or that the queue closed.
func (r *Recorder) wake() {
	select {
	case r.qwake <- struct{}{}:
	default:
	}
}

func (r *Recorder) countDropped(it item) {
	if it.ev != nil {
		r.droppedEvents.Add(1)
	} else {
		r.droppedPoints.Add(1)
	}
}

// writeLoop commits the queue in groups, at most every tick, until the
// queue closes.
func (r *Recorder) writeLoop(tick <-chan time.Time) {
	defer r.wg.Done()
	if tick == nil {
		t := time.NewTicker(r.BatchInterval)
		defer t.Stop()
		tick = t.C
	}
	report := time.NewTicker(time.Second)
	defer report.Stop()
	var b batch
	var reportedPoints, reportedEvents uint64
	first := true
	flush := func() {
		if b.len() == 0 {
			return
		}
		defer b.reset()
		if r.stopped.Load() {
			r.droppedPoints.Add(uint64(len(b.points)))
			r.droppedEvents.Add(uint64(len(b.events)))
			return
		}
		start := time.Now()
		if err := r.DB.write(&b); err != nil {
			r.errMu.Lock()
			r.err = err
			r.errMu.Unlock()
			r.stopped.Store(true)
			close(r.failed)
			r.Fleet.Publish(fleet.RecordingStopped{At: r.Now(), Err: err.Error(), Path: r.DB.Path()})
			r.droppedPoints.Add(uint64(len(b.points)))
			r.droppedEvents.Add(uint64(len(b.events)))
			r.log.Error("recording stopped: the store cannot be written; the fleet goes on without history",
				"err", err, "path", r.DB.Path())
			return
		}
		for _, rep := range b.reports {
			if rep.Params["same"] == "true" {
				r.log.Info("mission re-synced: the vehicle holds the stored plan", "drone_id", rep.DroneID,
					"mission_id", rep.Params["mission_id"], "stored_mission_id", rep.Params["stored_mission_id"])
			} else {
				r.log.Warn("mission re-synced: the vehicle's plan differs from the stored one", "drone_id", rep.DroneID,
					"mission_id", rep.Params["mission_id"], "stored_mission_id", rep.Params["stored_mission_id"],
					"difference", rep.Params["difference"])
			}
		}
		r.points.Add(uint64(len(b.points)))
		r.events.Add(uint64(len(b.events) + len(b.reports)))
		r.commits.Add(1)
		r.lastCommit.Store(time.Now().UnixNano())
		if first && len(b.points) > 0 {
			first = false
			r.log.Info("recording", "path", r.DB.Path(), "points", len(b.points), "commit_ms", time.Since(start).Milliseconds())
		}
	}
	// take moves the queue into the batch and reports whether it closed.
	var spare []item
	take := func() bool {
		r.qmu.Lock()
		items, closed := r.qitems, r.qclosed
		r.qitems = spare
		r.qmu.Unlock()
		for i := range items {
			it := &items[i]
			if it.ev != nil {
				b.events = append(b.events, *it.ev)
				if it.mission != nil {
					b.missions = append(b.missions, *it.mission)
				}
			} else {
				b.points = append(b.points, dronePoint{it.drone, it.p})
			}
			if len(b.points) >= r.BatchSize || b.len() >= 2*r.BatchSize {
				flush()
			}
		}
		clear(items)
		spare = items[:0]
		return closed
	}
	for {
		select {
		case <-r.qwake:
			if take() {
				flush()
				return
			}
		case <-tick:
			closed := take()
			flush()
			if closed {
				return
			}
		case <-report.C:
			dp, de := r.droppedPoints.Load(), r.droppedEvents.Load()
			if dp == reportedPoints && de == reportedEvents || r.stopped.Load() {
				continue
			}
			np, ne := dp-reportedPoints, de-reportedEvents
			reportedPoints, reportedEvents = dp, de
			r.log.Warn("recording fell behind: points and events dropped", "points", np, "events", ne,
				"dropped_points", dp, "dropped_events", de)
			b.events = append(b.events, app.EventRecord{At: r.Now(), Kind: KindRecordingDropped, Severity: app.SevWarning,
				Params: map[string]string{"points": strconv.FormatUint(np, 10), "events": strconv.FormatUint(ne, 10)}})
		}
	}
}
