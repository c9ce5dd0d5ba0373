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
}

// Subscription receives the fleet's events on C. State is coalesced per
// drone (a slow reader gets the latest snapshot of each drone, once), and
// discrete events wait in a bounded queue; publishers never block on it.
//
// C is closed after Close, or after the fleet's Close.
type Subscription struct {
	// C delivers the events. Read it until it is closed.
	C <-chan Event

	f      *Fleet
	c      chan Event
	filter map[string]struct{}
	limit  int

	mu          sync.Mutex
	queue       []subEntry
	head        int
	discrete    int
	stateQueued map[*drone]struct{}
	pending     uint64 // dropped since the last Missed delivered
	lastDropLog time.Time

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
// Initialize or after Close it returns a subscription whose C is closed.
func (f *Fleet) Subscribe(opts SubscribeOptions) *Subscription {
	limit := opts.QueueSize
	if limit <= 0 {
		limit = f.EventQueue
	}
	if limit <= 0 {
		limit = defaultEventQueue
	}
	s := &Subscription{
		f:           f,
		c:           make(chan Event),
		limit:       limit,
		stateQueued: make(map[*drone]struct{}),
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		exited:      make(chan struct{}),
	}
	s.C = s.c
	if opts.Drones != nil {
		s.filter = make(map[string]struct{}, len(opts.Drones))
		for _, id := range opts.Drones {
			s.filter[id] = struct{}{}
		}
	}
	if opts.Snapshot {
		for _, d := range f.droneList() {
			s.pushState(d)
		}
	}

	f.subMu.Lock()
	if f.closed || f.subs.Load() == nil {
		f.subMu.Unlock()
		close(s.done)
		close(s.exited)
		close(s.c)
		s.once.Do(func() {}) // nothing left for Close to do
		return s
	}
	old := f.subs.Load()
	next := make([]*Subscription, 0, len(*old)+1)
	next = append(next, *old...)
	next = append(next, s)
	f.subs.Store(&next)
	f.subWG.Add(1)
	f.subMu.Unlock()

	go s.pump()
	return s
}

// Missed returns how many discrete events were dropped for this subscriber
// in total.
func (s *Subscription) Missed() uint64 { return s.missed.Load() }

// Close stops the subscription and closes C. It may be called more than
// once, from any goroutine.
func (s *Subscription) Close() {
	s.once.Do(func() {
		close(s.done)
		<-s.exited
		close(s.c)
		s.f.removeSub(s)
	})
}

func (s *Subscription) wants(id string) bool {
	if s.filter == nil || id == "" {
		return true
	}
	_, ok := s.filter[id]
	return ok
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues a discrete event, dropping it if the queue is full.
func (s *Subscription) push(e Event) {
	if !s.wants(e.drone()) {
		return
	}
	s.mu.Lock()
	if s.discrete >= s.limit {
		s.pending++
		s.missed.Add(1)
		s.f.counters.missed.Add(1)
		now := time.Now()
		logIt := now.Sub(s.lastDropLog) >= time.Second
		if logIt {
			s.lastDropLog = now
		}
		s.mu.Unlock()
		if logIt {
			s.f.log.Warn("slow subscriber", "dropped", s.missed.Load())
		}
		return
	}
	s.queue = append(s.queue, subEntry{ev: e})
	s.discrete++
	s.mu.Unlock()
	s.signal()
}

// pushState queues a placeholder for d's latest state unless one waits.
func (s *Subscription) pushState(d *drone) {
	if !s.wants(d.id) {
		return
	}
	s.mu.Lock()
	if _, ok := s.stateQueued[d]; ok {
		s.mu.Unlock()
		return
	}
	s.stateQueued[d] = struct{}{}
	s.queue = append(s.queue, subEntry{d: d})
	s.mu.Unlock()
	s.signal()
}

// next pops the next entry; ok is false when the queue is empty.
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
		delete(s.stateQueued, e.d)
	} else {
		s.discrete--
	}
	s.mu.Unlock()
	if e.d != nil {
		return StateChanged{Drone: e.d.snapshot()}, true
	}
	return e.ev, true
}

// pump is the subscription's writer goroutine: it moves queued entries to C
// at the subscriber's pace.
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
