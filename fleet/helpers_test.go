package fleet_test

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

var epoch = time.Date(2025, 7, 21, 12, 0, 0, 0, time.UTC)

// mustFleet starts a fleet with a settable clock and a fast scheduler.
func mustFleet(tb testing.TB, opts ...func(*fleet.Fleet)) (*fleet.Fleet, *fleettest.Clock) {
	tb.Helper()
	clock := fleettest.NewClock(epoch)
	f := &fleet.Fleet{Now: clock.Now, TickInterval: 2 * time.Millisecond}
	for _, o := range opts {
		o(f)
	}
	if err := f.Initialize(); err != nil {
		tb.Fatalf("Initialize: %v", err)
	}
	tb.Cleanup(f.Close)
	return f, clock
}

// events wraps a subscription for tests.
type events struct {
	tb  testing.TB
	sub *fleet.Subscription
}

func subscribe(tb testing.TB, f *fleet.Fleet, opts fleet.SubscribeOptions) *events {
	tb.Helper()
	s := f.Subscribe(opts)
	tb.Cleanup(s.Close)
	return &events{tb: tb, sub: s}
}

// waitFor reads events until one matches, failing after a deadline. It
// returns the match and the events read before it.
func waitFor[E fleet.Event](e *events, match func(E) bool) (E, []fleet.Event) {
	e.tb.Helper()
	var seen []fleet.Event
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-e.sub.C:
			if !ok {
				var zero E
				e.tb.Fatalf("subscription closed while waiting for %T", zero)
			}
			if x, ok := ev.(E); ok && (match == nil || match(x)) {
				return x, seen
			}
			seen = append(seen, ev)
		case <-deadline.C:
			var zero E
			e.tb.Fatalf("no %T within 5s; saw %d events", zero, len(seen))
			return zero, seen
		}
	}
}

// drain returns the events ready within a short quiet period.
func (e *events) drain() []fleet.Event {
	var out []fleet.Event
	for {
		select {
		case ev := <-e.sub.C:
			out = append(out, ev)
		case <-time.After(50 * time.Millisecond):
			return out
		}
	}
}

// poll waits until cond holds or fails after 5 s.
func poll(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// state returns the drone's state or fails.
func state(tb testing.TB, f *fleet.Fleet, id string) fleet.DroneState {
	tb.Helper()
	st, err := f.Drone(id)
	if err != nil {
		tb.Fatalf("Drone(%q): %v", id, err)
	}
	return st
}

// discover feeds a first heartbeat and waits until the fleet has asked for
// streams, so later command counts start clean.
func discover(tb testing.TB, f *fleet.Fleet, v *fleettest.Vehicle, hb fleet.Heartbeat) {
	tb.Helper()
	f.Handle(v, hb)
	poll(tb, "stream request", func() bool { return v.Calls("RequestStreams") >= 1 && v.Calls("Command") >= 1 })
}
