package fleet

import (
	"sync"
	"sync/atomic"
	"time"
)

// SubscribeOptions selects what a subscription receives.
type SubscribeOptions struct {
	// Drones limits the subscription to these drone ids (optional; nil
	// means every drone).
	Drones []string
	// QueueSize bounds the discrete events waiting for the subscriber
	// (optional, default the fleet's EventQueue). When the queue is full,
	// new discrete events are dropped and counted (see Missed).
	QueueSize int
	// Snapshot starts the subscription with a StateChanged for every
	// drone known at the time of the call.
	Snapshot bool
	// NoState leaves out StateChanged: the subscription receives only
	// discrete events (and Missed), and Snapshot does nothing. For a
	// subscriber that ignores states, it saves the bus their cost.
	NoState bool
	// Batch makes the subscription one that its reader drains with Ready
	// and Take instead of C, which is then nil. It has no goroutine of its
	// own, and its states reach the reader without an allocation or a
	// channel send each: a reader that falls behind takes every drone that
	// changed meanwhile in one Take.
	Batch bool
	// Linger is how long the reader's wake-up may wait after a state
	// arrives for it, so that it takes the states of several drones at
	// once rather than waking for each (optional, default 0: at once).
	// Discrete events wake it at once. A few milliseconds cut the
	// wake-ups of a subscriber of a large fleet to a few hundred a second.
	Linger time.Duration
}

// Subscription receives the fleet's events on C (or, made with
// SubscribeOptions.Batch, through Ready and Take). State is coalesced per
// drone (a slow reader gets the latest snapshot of each drone, once), and
// discrete events wait in a bounded queue; publishers never block on it.
// Events come in the order they were published, a state placeholder
// taking its place in that order and carrying the drone's state when it
// is delivered.
//
// C is closed after Close, or after the fleet's Close.
type Subscription struct {
	// C delivers the events. Read it until it is closed. It is nil for a
	// Batch subscription.
	C <-chan Event

	f       *Fleet
	c       chan Event
	filter  map[string]struct{}
	limit   int
	batch   bool
	noState bool
	linger  time.Duration
	timer   *time.Timer // Linger's, which calls flush

	mu       sync.Mutex
	queue    []subEntry
	head     int
	spare    []subEntry // Batch: the buffer Take delivers from
	discrete int
	// queued says, by drone index, whether a state placeholder of that
	// drone waits; wanted caches the filter by drone index (0 not yet
	// asked, 1 wanted, 2 not).
	queued      []bool
	wanted      []uint8
	pending     uint64 // dropped since the last Missed delivered
	lastDropLog time.Time
	// sleeping is set when the reader found nothing to do and waits on
	// wake: the next push signals it, the pushes after it need not.
	sleeping  bool
	lingering bool // the timer runs to wake the reader
	ended     bool

	takeMu  sync.Mutex // one Take at a time
	scratch DroneState // Batch: the state Take hands its reader

	missed atomic.Uint64
	wake   chan struct{}
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
}

// subEntry is a discrete event, or (ev nil) a placeholder for the latest
// state of drone d, read when it is delivered.
type subEntry struct {
	ev Event
	d  *drone
}

// Subscribe starts a subscription. It may be called from any goroutine, before
// or after drones are discovered; Close the subscription when done. Before
// Initialize or after Close it returns a subscription whose C is closed (for
// a Batch subscription: whose Take reports the end).
func (f *Fleet) Subscribe(opts SubscribeOptions) *Subscription {
	limit := opts.QueueSize
	if limit <= 0 {
		limit = f.EventQueue
	}
	if limit <= 0 {
		limit = defaultEventQueue
	}
	s := &Subscription{
		f:        f,
		limit:    limit,
		batch:    opts.Batch,
		noState:  opts.NoState,
		linger:   max(opts.Linger, 0),
		sleeping: true,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	if !s.batch {
		s.c = make(chan Event)
		s.C = s.c
	}
	if s.linger > 0 {
		s.timer = time.AfterFunc(time.Hour, s.flush)
		s.timer.Stop()
	}
	if opts.Drones != nil {
		s.filter = make(map[string]struct{}, len(opts.Drones))
		for _, id := range opts.Drones {
			s.filter[id] = struct{}{}
		}
	}
	if opts.Snapshot && !opts.NoState {
		for _, d := range f.droneList() {
			s.pushState(d)
		}
	}

	f.subMu.Lock()
	if f.closed || f.subs.Load() == nil {
		f.subMu.Unlock()
		s.mu.Lock()
		s.end()
		s.mu.Unlock()
		close(s.done)
		close(s.exited)
		if s.c != nil {
			close(s.c)
		}
		s.once.Do(func() {}) // nothing left for Close to do
		return s
	}
	old := f.subs.Load()
	next := make([]*Subscription, 0, len(*old)+1)
	next = append(next, *old...)
	next = append(next, s)
	f.subs.Store(&next)
	if !s.batch {
		f.subWG.Add(1)
	}
	f.subMu.Unlock()

	if !s.batch {
		go s.pump()
	}
	return s
}

// Missed returns how many discrete events were dropped for this subscriber
// in total.
func (s *Subscription) Missed() uint64 { return s.missed.Load() }

// Close stops the subscription and closes C (a Batch subscription's Ready
// channel). It may be called more than once, from any goroutine.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.end()
		s.mu.Unlock()
		close(s.done)
		if s.batch {
			close(s.exited)
		}
		<-s.exited
		if s.c != nil {
			close(s.c)
		}
		s.f.removeSub(s)
	})
}

// end marks the subscription ended and drops what waits. A Batch
// subscription's wake channel is closed, so that its reader's select
// returns and Take reports the end. Called with s.mu held.
func (s *Subscription) end() {
	if s.ended {
		return
	}
	s.ended = true
	if s.timer != nil {
		s.timer.Stop()
	}
	clear(s.queue)
	s.queue, s.head, s.discrete = s.queue[:0], 0, 0
	clear(s.queued)
	if s.batch {
		close(s.wake)
	}
}

// Ready returns a channel that receives a value when events wait for a
// Batch subscription's reader, and is closed when the subscription ends;
// then call Take. A value may come with nothing to take (Take then hands
// nothing). It is nil for a subscription read on C.
func (s *Subscription) Ready() <-chan struct{} {
	if !s.batch {
		return nil
	}
	return s.wake
}

// Take hands every event waiting for a Batch subscription to fn, in order,
// and returns false once the subscription has ended (Close, or the fleet's
// Close), when it hands nothing. A state comes as st (ev nil): the drone's
// newest snapshot, in a buffer that Take reuses, valid only until fn
// returns (copy what you keep). Any other event comes as ev (st nil), a
// Missed first when discrete events were dropped. fn must not call Take.
// Take is meant for the subscription's one reader goroutine: it never
// blocks on publishers, and a second Take waits for the first.
func (s *Subscription) Take(fn func(st *DroneState, ev Event)) bool {
	if !s.batch {
		return false
	}
	s.takeMu.Lock()
	defer s.takeMu.Unlock()
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	missed := s.pending
	s.pending = 0
	batch := s.queue[s.head:]
	s.queue, s.spare, s.head = s.spare[:0], s.queue, 0
	for _, e := range batch {
		if e.d != nil {
			s.queued[e.d.idx] = false
		} else {
			s.discrete--
		}
	}
	s.sleeping = true
	s.mu.Unlock()

	if missed > 0 {
		fn(nil, Missed{N: missed})
	}
	for i := range batch {
		e := &batch[i]
		if e.d != nil {
			e.d.snapshotInto(&s.scratch)
			fn(&s.scratch, nil)
		} else {
			fn(nil, e.ev)
		}
		*e = subEntry{}
	}
	return true
}

// wants reports whether the subscription wants events about drone id.
func (s *Subscription) wants(id string) bool {
	if s.filter == nil || id == "" {
		return true
	}
	_, ok := s.filter[id]
	return ok
}

// wantsDrone is wants for a drone, cached by its index. Called with s.mu
// held.
func (s *Subscription) wantsDrone(d *drone) bool {
	if s.filter == nil {
		return true
	}
	if d.idx >= len(s.wanted) {
		s.wanted = growTo(s.wanted, d.idx+1)
	}
	switch s.wanted[d.idx] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := s.wants(d.id)
	s.wanted[d.idx] = 2
	if ok {
		s.wanted[d.idx] = 1
	}
	return ok
}

// growTo returns s extended with zero values to length n, at least doubling
// its capacity when it must grow.
func growTo[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	out := make([]T, n, max(n, 2*cap(s)))
	copy(out, s)
	return out
}

// signal wakes the reader if it waits: at once, or for a state of a
// lingering subscription when its timer fires. Called with s.mu held.
func (s *Subscription) signal(state bool) {
	if !s.sleeping {
		return
	}
	if state && s.timer != nil {
		if !s.lingering {
			s.lingering = true
			s.timer.Reset(s.linger)
		}
		return
	}
	s.sleeping = false
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush is Linger's timer: it wakes the reader if it still waits.
func (s *Subscription) flush() {
	s.mu.Lock()
	s.lingering = false
	if !s.ended {
		s.signal(false)
	}
	s.mu.Unlock()
}

// push queues a discrete event, dropping it if the queue is full.
func (s *Subscription) push(e Event) {
	if !s.wants(e.drone()) {
		return
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if s.discrete >= s.limit {
		s.pending++
		s.missed.Add(1)
		s.f.counters.missed.Add(1)
		now := time.Now()
		logIt := now.Sub(s.lastDropLog) >= time.Second
		if logIt {
			s.lastDropLog = now
		}
		s.signal(false) // the reader learns of the loss even with a full queue
		s.mu.Unlock()
		if logIt {
			s.f.log.Warn("slow subscriber", "dropped", s.missed.Load())
		}
		return
	}
	s.queue = append(s.queue, subEntry{ev: e})
	s.discrete++
	s.signal(false)
	s.mu.Unlock()
}

// pushState queues a placeholder for d's latest state unless one waits.
func (s *Subscription) pushState(d *drone) {
	if s.noState {
		return
	}
	s.mu.Lock()
	if s.ended || !s.wantsDrone(d) {
		s.mu.Unlock()
		return
	}
	if d.idx >= len(s.queued) {
		s.queued = growTo(s.queued, d.idx+1)
	}
	if s.queued[d.idx] {
		s.mu.Unlock()
		return
	}
	s.queued[d.idx] = true
	s.queue = append(s.queue, subEntry{d: d})
	s.signal(true)
	s.mu.Unlock()
}

// next pops the next entry; ok is false when the queue is empty, and the
// reader is then to wait for wake.
func (s *Subscription) next() (Event, bool) {
	s.mu.Lock()
	if s.pending > 0 {
		n := s.pending
		s.pending = 0
		s.mu.Unlock()
		return Missed{N: n}, true
	}
	if s.head == len(s.queue) {
		s.queue = s.queue[:0]
		s.head = 0
		s.sleeping = true
		s.mu.Unlock()
		return nil, false
	}
	e := s.queue[s.head]
	s.queue[s.head] = subEntry{}
	s.head++
	if s.head > 64 && s.head*2 > len(s.queue) {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.head = 0
	}
	if e.d != nil {
		s.queued[e.d.idx] = false
	} else {
		s.discrete--
	}
	s.mu.Unlock()
	if e.d != nil {
		return StateChanged{Drone: e.d.snapshot()}, true
	}
	return e.ev, true
}

// pump is the writer goroutine of a subscription read on C: it moves
// queued entries to C at the subscriber's pace.
func (s *Subscription) pump() {
	defer s.f.subWG.Done()
	defer close(s.exited)
	for {
		ev, ok := s.next()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.c <- ev:
		case <-s.done:
			return
		}
	}
}

func (f *Fleet) removeSub(s *Subscription) {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	old := *f.subs.Load()
	next := make([]*Subscription, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	f.subs.Store(&next)
}

// Publish sends a discrete event to every subscriber. It never blocks.
// Components inside the server (for example a geofence watcher) may use it
// for the event kinds the fleet defines.
func (f *Fleet) Publish(e Event) {
	if e == nil {
		return
	}
	if sc, ok := e.(StateChanged); ok {
		if d := f.droneByID(sc.Drone.ID); d != nil {
			f.publishState(d)
		}
		return
	}
	for _, s := range f.subList() {
		s.push(e)
	}
}

func (f *Fleet) publishState(d *drone) {
	for _, s := range f.subList() {
		s.pushState(d)
	}
}

func (f *Fleet) subList() []*Subscription {
	if p := f.subs.Load(); p != nil {
		return *p
	}
	return nil
}
