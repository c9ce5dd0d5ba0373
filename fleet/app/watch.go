package app

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Limits of a watch.
const (
	MaxWatchDrones = 10_000
	MaxWatchRateHz = 50.0
)

// WatchOptions select what a Watcher delivers.
type WatchOptions struct {
	// Drones limits the watch to these drones (empty: all).
	Drones []string
	// Agency limits it to the drones of one agency ("" : all).
	Agency string
	// Kinds selects event kinds (see EventKinds; empty: all).
	Kinds []string
	// NoState leaves out state; NoEvents leaves out events.
	NoState, NoEvents bool
	// MaxRateHz caps each drone's state updates (0: every update the
	// fleet's coalescing lets through). Over the cap the latest state wins.
	MaxRateHz float64
	// Snapshot starts with the state of every selected drone.
	Snapshot bool
	// QueueSize bounds the events waiting for a slow reader (optional,
	// the fleet's default); past it they are dropped and counted.
	QueueSize int
	// Alerts adds each alert raised or acknowledged, as it happens (see
	// Service.Alerts; Drones and Agency select them too, Kinds does not).
	Alerts bool
}

// WatchItem is one thing a Watcher delivers: a drone's state, an event, an
// alert raised or acknowledged (WatchOptions.Alerts), or a count of events
// missed (alert changes among them: read Service.Alerts again). Exactly one
// of State, Event, Alert and Missed is set. State points to memory the
// Watcher reuses: it is valid until the next call of Next (copy the state
// to keep it).
type WatchItem struct {
	State  *fleet.DroneState
	Event  *EventRecord
	Alert  *Alert
	Missed uint64
}

// Watcher delivers a watch's items. One goroutine reads it with Next;
// Close may be called from any goroutine.
type Watcher struct {
	s     *Service
	sub   *fleet.Subscription
	o     WatchOptions
	kinds map[string]bool
	gap   time.Duration
	// drones is what the watch keeps of each drone it heard of: one map
	// lookup a state.
	drones  map[string]*watchDrone
	due     dueHeap
	timer   *time.Timer
	dropped uint64
	// ready holds the items of the last Take that Next has not returned.
	ready []WatchItem
	head  int
	// states holds the states of ready's items: memory reused from one
	// Take to the next (WatchItem.State is valid until the next call of
	// Next).
	states []fleet.DroneState
	// takeFn is take's adapter for Subscription.Take, made once.
	takeFn func(*fleet.DroneState, fleet.Event)
}

// watchLinger is how long a watch lets drones' states gather before it
// reads them: one wake-up for many drones, at a cost of latency far below
// what an operator notices.
const watchLinger = 5 * time.Millisecond

// Watch starts a watch for p. Returns Invalid for bad options.
func (s *Service) Watch(_ context.Context, p Principal, o WatchOptions) (*Watcher, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if len(o.Drones) > MaxWatchDrones {
		return nil, fleet.Errorf(fleet.Exhausted, "drones: %d drones, at most %d", len(o.Drones), MaxWatchDrones)
	}
	for i, id := range o.Drones {
		if err := checkID("drones", id); err != nil {
			return nil, fleet.Errorf(fleet.Invalid, "drones[%d]: %s", i, fleet.ErrorMessage(err))
		}
	}
	if err := checkName("agency", o.Agency, 64, true); err != nil {
		return nil, err
	}
	if math.IsNaN(o.MaxRateHz) || o.MaxRateHz < 0 || o.MaxRateHz > MaxWatchRateHz {
		return nil, fleet.Errorf(fleet.Invalid, "max_rate_hz: %v is outside 0..%g", o.MaxRateHz, MaxWatchRateHz)
	}
	if o.QueueSize < 0 || o.QueueSize > 65536 {
		return nil, fleet.Errorf(fleet.Invalid, "queue_size: %d is outside 0..65536", o.QueueSize)
	}
	w := &Watcher{s: s, o: o, drones: map[string]*watchDrone{}}
	if len(o.Kinds) > 0 {
		w.kinds = make(map[string]bool, len(o.Kinds))
		for i, k := range o.Kinds {
			if !slices.Contains(EventKinds, k) && k != KindLowBattery {
				return nil, fleet.Errorf(fleet.Invalid, "kinds[%d]: %q is not an event kind", i, k)
			}
			w.kinds[k] = true
		}
	}
	if o.MaxRateHz > 0 {
		w.gap = time.Duration(float64(time.Second) / o.MaxRateHz)
	}
	w.takeFn = func(st *fleet.DroneState, ev fleet.Event) {
		now := time.Now()
		var it WatchItem
		var ok bool
		if st != nil {
			it, ok = w.takeState(st, now)
		} else {
			it, ok = w.take(ev, now)
		}
		if ok {
			w.ready = append(w.ready, it)
		}
	}
	w.sub = s.Fleet.Subscribe(fleet.SubscribeOptions{Drones: slices.Clone(o.Drones), QueueSize: o.QueueSize, Snapshot: o.Snapshot,
		Batch: true, Linger: watchLinger})
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	return w, nil
}

// Close ends the watch; a Next waiting returns.
func (w *Watcher) Close() {
	w.sub.Close()
	w.timer.Stop()
}

// Coalesced returns how many state updates the rate cap replaced by newer
// ones (the fleet's own coalescing of a slow reader is not counted).
func (w *Watcher) Coalesced() uint64 { return w.dropped }

// Missed returns how many events were dropped for this watch in total.
func (w *Watcher) Missed() uint64 { return w.sub.Missed() }

// Next returns the next item. It blocks until one is ready, ctx ends
// (Timeout) or the watch is closed (NotFound: the watch is gone).
func (w *Watcher) Next(ctx context.Context) (WatchItem, error) {
	for {
		if it, ok := w.duePending(time.Now()); ok {
			return it, nil
		}
		if w.head < len(w.ready) {
			it := w.ready[w.head]
			w.ready[w.head] = WatchItem{}
			w.head++
			if w.head == len(w.ready) {
				w.ready, w.head = w.ready[:0], 0
			}
			return it, nil
		}
		var tc <-chan time.Time
		if len(w.due) > 0 {
			w.timer.Reset(time.Until(w.due[0].at))
			tc = w.timer.C
		}
		select {
		case <-ctx.Done():
			w.timer.Stop()
			return WatchItem{}, ctxErr(ctx.Err())
		case <-tc:
		case <-w.sub.Ready():
			w.timer.Stop()
			// Every item of the last Take was returned, and the caller is
			// done with the last one: their states' memory is free.
			w.states = w.states[:0]
			if !w.sub.Take(w.takeFn) {
				return WatchItem{}, fleet.Errorf(fleet.NotFound, "watch closed")
			}
		}
	}
}

// duePending returns a pending state whose time has come.
func (w *Watcher) duePending(now time.Time) (WatchItem, bool) {
	if len(w.due) == 0 || now.Before(w.due[0].at) {
		return WatchItem{}, false
	}
	d := w.due.pop().d
	if !d.waiting {
		return WatchItem{}, false
	}
	d.waiting, d.last = false, now
	return WatchItem{State: &d.pending}, true
}

// take filters one fleet event.
func (w *Watcher) take(ev fleet.Event, now time.Time) (WatchItem, bool) {
	switch e := ev.(type) {
	case fleet.StateChanged:
		return w.takeState(&e.Drone, now)
	case fleet.Missed:
		return WatchItem{Missed: e.N}, true
	case fleet.AlertChanged:
		if !w.o.Alerts {
			return WatchItem{}, false
		}
		a, ok := w.s.alert(e.AlertID)
		if !ok || (w.o.Agency != "" && a.Agency != "" && a.Agency != w.o.Agency) {
			return WatchItem{}, false
		}
		return WatchItem{Alert: &a}, true
	}
	if w.o.NoEvents {
		return WatchItem{}, false
	}
	id := fleet.EventDrone(ev)
	var agency string
	if d := w.drones[id]; d != nil {
		agency = d.agency
	} else if id != "" {
		if st, err := w.s.Fleet.Drone(id); err == nil {
			agency = st.Agency
			w.drones[id] = &watchDrone{agency: agency}
		}
	}
	rec, ok := EventRecordOf(ev, agency)
	if !ok {
		return WatchItem{}, false
	}
	if w.o.Agency != "" && rec.Agency != w.o.Agency && rec.Kind != KindGrantChanged {
		return WatchItem{}, false
	}
	if w.kinds != nil && !w.kinds[rec.Kind] {
		return WatchItem{}, false
	}
	return WatchItem{Event: &rec}, true
}

// keep copies a state for an item of the Take under way.
func (w *Watcher) keep(in *fleet.DroneState) *fleet.DroneState {
	w.states = append(w.states, *in)
	return &w.states[len(w.states)-1]
}

// takeState filters one drone state (which it copies if it keeps it).
func (w *Watcher) takeState(in *fleet.DroneState, now time.Time) (WatchItem, bool) {
	d := w.drones[in.ID]
	if d == nil {
		d = &watchDrone{}
		w.drones[in.ID] = d
	}
	d.agency = in.Agency
	if w.o.NoState || (w.o.Agency != "" && in.Agency != w.o.Agency) {
		return WatchItem{}, false
	}
	if w.gap == 0 {
		return WatchItem{State: w.keep(in)}, true
	}
	if d.waiting {
		d.pending = *in
		w.dropped++
		return WatchItem{}, false
	}
	if d.last.IsZero() || now.Sub(d.last) >= w.gap {
		d.last = now
		return WatchItem{State: w.keep(in)}, true
	}
	d.pending, d.waiting = *in, true
	w.due.push(dueDrone{d: d, at: d.last.Add(w.gap)})
	return WatchItem{}, false
}

// watchDrone is what a Watcher keeps of one drone: its agency (for its
// events), when its last state was delivered, and the latest state
// waiting for the rate cap (in due while waiting).
type watchDrone struct {
	agency  string
	last    time.Time
	waiting bool
	pending fleet.DroneState
}

type dueDrone struct {
	d  *watchDrone
	at time.Time
}

// dueHeap orders waiting drones by when they may be sent (a binary
// min-heap on at, kept by hand: container/heap would box every entry).
type dueHeap []dueDrone

func (h *dueHeap) push(x dueDrone) {
	*h = append(*h, x)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].at.Before(q[p].at) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *dueHeap) pop() dueDrone {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q[n] = dueDrone{}
	q = q[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && q[l].at.Before(q[m].at) {
			m = l
		}
		if r := l + 1; r < n && q[r].at.Before(q[m].at) {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}
