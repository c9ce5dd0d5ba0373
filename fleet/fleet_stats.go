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

	// The hardening counters (identity, sanity, limits) since Initialize;
	// they only grow.

	// Claims counts identity claims decided (IdentityClaimed events).
	Claims uint64
	// ClaimantUpdates counts updates ignored from keys held as claimants.
	ClaimantUpdates uint64
	// ClaimantsRefused counts keys not held because MaxClaimants were held.
	ClaimantsRefused uint64
	// DronesRefused counts new drones refused because MaxDrones were tracked.
	DronesRefused uint64
	// BadFields counts decoded values dropped as impossible (non-finite,
	// off the globe, out of a patrol drone's envelope).
	BadFields uint64
	// BadMissions counts plans read from vehicles and not adopted: too
	// large or with an invalid item.
	BadMissions uint64
	// ParamsRefused counts PARAM_VALUEs not cached: names neither asked for
	// nor part of the list the vehicle announced, or over MaxParams.
	ParamsRefused uint64
	// EventsDropped counts discrete events dropped by a drone's rate limits
	// (status texts, and the other events its messages cause, each over 20
	// a second after a burst of 100).
	EventsDropped uint64
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
	s.Claims = f.stats.claims.Load()
	s.ClaimantUpdates = f.stats.claimantUpdates.Load()
	s.ClaimantsRefused = f.stats.claimantsRefused.Load()
	s.DronesRefused = f.stats.dronesRefused.Load()
	s.BadFields = f.stats.badFields.Load()
	s.BadMissions = f.stats.badMissions.Load()
	s.ParamsRefused = f.stats.paramsRefused.Load()
	s.EventsDropped = f.stats.eventsDropped.Load()
	return s
}
