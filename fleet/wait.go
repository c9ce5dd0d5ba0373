package fleet

import (
	"context"
	"errors"
)

// WaitState waits until drone id's state satisfies cond and returns that
// state. The drone need not be known yet: cond is tried on the current state
// (if any) and on every state the fleet publishes for id until ctx ends.
// State is coalesced, so cond sees the latest state, not every
// intermediate one: test for a condition, not a transition.
//
// Returns Timeout (with the last state seen) when ctx ends first, and
// Internal when the fleet closes. Safe for concurrent use; it blocks the
// calling goroutine only.
func (f *Fleet) WaitState(ctx context.Context, id string, cond func(DroneState) bool) (DroneState, error) {
	if cond == nil {
		return DroneState{}, Errorf(Invalid, "wait state: no condition")
	}
	sub := f.Subscribe(SubscribeOptions{Drones: []string{id}, Snapshot: true})
	defer sub.Close()
	var last DroneState
	for {
		select {
		case <-ctx.Done():
			return last, waitTimeout(ctx, "drone "+id+": state")
		case e, ok := <-sub.C:
			if !ok {
				return last, errors.New("wait state: fleet closed")
			}
			var st DroneState
			switch e := e.(type) {
			case StateChanged:
				st = e.Drone
			case DroneDiscovered:
				st = e.Drone
			default:
				continue
			}
			if st.ID != id {
				continue
			}
			last = st
			if cond(st) {
				return st, nil
			}
		}
	}
}

// WaitEvent waits for the first event of type E published from now on that
// match accepts (nil accepts any), for drones ids only (none: every drone).
// Events published before the call are not seen; subscribe first
// (Fleet.Subscribe) to wait for something an operation you start may
// cause at once, or call WaitEvent on its own goroutine before starting it.
//
// Returns Timeout when ctx ends first, and Internal when the fleet closes or
// the waiter fell so far behind that events were dropped (Missed) and the
// one waited for may be lost. Safe for concurrent use.
func WaitEvent[E Event](ctx context.Context, f *Fleet, match func(E) bool, ids ...string) (E, error) {
	sub := f.Subscribe(SubscribeOptions{Drones: ids})
	defer sub.Close()
	return NextEvent(ctx, sub, match)
}

// NextEvent reads sub until an event of type E that match accepts (nil
// accepts any), skipping the others, and returns it. Use it with a
// subscription made before starting the operation whose event is awaited.
// Returns Timeout when ctx ends first, and Internal when sub closes or
// events were dropped (Missed).
func NextEvent[E Event](ctx context.Context, sub *Subscription, match func(E) bool) (E, error) {
	var zero E
	for {
		select {
		case <-ctx.Done():
			return zero, waitTimeout(ctx, "event")
		case ev, ok := <-sub.C:
			if !ok {
				return zero, errors.New("wait event: subscription closed")
			}
			if m, ok := ev.(Missed); ok {
				return zero, Errorf(Internal, "wait event: %d events dropped, the one awaited may be lost", m.N)
			}
			e, ok := ev.(E)
			if ok && (match == nil || match(e)) {
				return e, nil
			}
		}
	}
}

// waitTimeout is the error of a wait whose ctx ended.
func waitTimeout(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return &Error{Code: Timeout, Message: "wait for " + what + ": cancelled"}
	}
	return &Error{Code: Timeout, Message: "wait for " + what + ": not within the deadline"}
}
