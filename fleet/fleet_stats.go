package fleet

import "sync/atomic"

// Stats are the fleet's counters at one instant, for metrics. Reading them
// takes each drone's lock briefly, one drone at a time; it never blocks
// ingest for long.
type Stats struct {
	// Drones is the number of drones known; LinkUp and LinkLost count them
	// by link state (a drone heard only once may be in neither).
	Drones, LinkUp, LinkLost int
	// FramesReceived, FramesLost and ParseErrors add up the transport's
	// measure of every known drone's current link (LinkQuality). A drone
	// that changes link starts again from the new link's counts, so these
	// are gauges, not counters.
	FramesReceived, FramesLost, ParseErrors uint64
	// Subscriptions is the number of open subscriptions.
	Subscriptions int
	// SubscriptionMissed counts the discrete events dropped for slow
	// subscribers since Initialize, closed subscriptions included.
	SubscriptionMissed uint64
}

// fleetCounters are the fleet's own monotonic counters.
type fleetCounters struct {
	missed atomic.Uint64
}

// Stats returns the fleet's counters. It may be called from any goroutine.
func (f *Fleet) Stats() Stats {
	var s Stats
	for _, d := range f.droneList() {
		d.mu.Lock()
		ls, q := d.st.LinkState, d.st.Quality
		d.mu.Unlock()
		s.Drones++
		switch ls {
		case LinkStateUp:
			s.LinkUp++
		case LinkStateLost:
			s.LinkLost++
		}
		s.FramesReceived += q.Received
		s.FramesLost += q.Lost
		s.ParseErrors += q.ParseErrors
	}
	s.Subscriptions = len(f.subList())
	s.SubscriptionMissed = f.counters.missed.Load()
	return s
}
