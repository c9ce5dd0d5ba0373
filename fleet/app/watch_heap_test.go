package app

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDueHeapOrder: the watch's heap of waiting drones pops them in the
// order of their times, whatever the order they were pushed in, with
// pushes between pops.
func TestDueHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var h dueHeap
	last := t0
	popped, pushed := 0, 0
	for round := range 200 {
		for range r.IntN(20) {
			// Later than anything popped: a drone is due after its last
			// delivery.
			base := t0.Add(time.Duration(round) * time.Second)
			if base.Before(last) {
				base = last
			}
			h.push(dueDrone{d: &watchDrone{}, at: base.Add(time.Duration(r.IntN(5000)) * time.Millisecond)})
			pushed++
		}
		for range r.IntN(15) {
			if len(h) == 0 {
				break
			}
			x := h.pop()
			if x.at.Before(last) {
				t.Fatalf("popped %v after %v", x.at, last)
			}
			if x.d == nil {
				t.Fatal("popped an empty entry")
			}
			last = x.at
			popped++
		}
		// Every entry's time is at least its parent's.
		for i := 1; i < len(h); i++ {
			if h[i].at.Before(h[(i-1)/2].at) {
				t.Fatalf("round %d: entry %d before its parent", round, i)
			}
		}
	}
	if popped == 0 || pushed-popped != len(h) {
		t.Fatalf("pushed %d, popped %d, %d left", pushed, popped, len(h))
	}
}
