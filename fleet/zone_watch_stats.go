package fleet

import (
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// ZoneWatchStats are a ZoneWatch's counters since Initialize, for metrics.
type ZoneWatchStats struct {
	// Checks counts positions checked against the allowed space, and
	// CheckTime is the wall-clock time spent in those checks (time.Now
	// around each geofence.Set.Watch call: it includes the goroutine's
	// preemption; see CheckInputs for measuring the CPU of the check).
	Checks    uint64
	CheckTime time.Duration
	// Unchanged counts states not checked again because the drone had not
	// moved since its last check (less than a second before).
	Unchanged uint64
	// Approaches and Breaches count transitions into approaching and into
	// breached; Returns counts transitions from breached back inside.
	Approaches, Breaches, Returns uint64
	// Responses counts breach responses published, and ResponsesFailed
	// those whose command failed (Skipped ones are in Responses only).
	Responses, ResponsesFailed uint64
}

// zoneWatchCounters are updated by the watch's goroutines and read by Stats.
type zoneWatchCounters struct {
	checks, checkNS, unchanged    atomic.Uint64
	approaches, breaches, returns atomic.Uint64
	responses, responsesFailed    atomic.Uint64
}

// observeCheck counts one check that started at t0.
func (c *zoneWatchCounters) observeCheck(t0 time.Time) {
	c.checks.Add(1)
	c.checkNS.Add(uint64(time.Since(t0)))
}

// transition counts a change of zone status.
func (c *zoneWatchCounters) transition(prev, next ZoneStatus) {
	switch {
	case next == ZoneBreached:
		c.breaches.Add(1)
	case next == ZoneApproaching:
		c.approaches.Add(1)
	}
	if prev == ZoneBreached && next != ZoneBreached {
		c.returns.Add(1)
	}
}

// response counts a published breach response.
func (c *zoneWatchCounters) response(ev ZoneResponse) {
	c.responses.Add(1)
	if ev.Skipped == "" && ev.Code != "" {
		c.responsesFailed.Add(1)
	}
}

// Stats returns the watch's counters. It may be called from any goroutine.
func (w *ZoneWatch) Stats() ZoneWatchStats {
	c := &w.counters
	return ZoneWatchStats{
		Checks:          c.checks.Load(),
		CheckTime:       time.Duration(c.checkNS.Load()),
		Unchanged:       c.unchanged.Load(),
		Approaches:      c.approaches.Load(),
		Breaches:        c.breaches.Load(),
		Returns:         c.returns.Load(),
		Responses:       c.responses.Load(),
		ResponsesFailed: c.responsesFailed.Load(),
	}
}

// ZoneCheckInput is one check as a ZoneWatch makes it: the arguments it
// passes to geofence.Set.Watch, but for the margin and the time.
type ZoneCheckInput struct {
	Agency   string
	Position geofence.Position
	Velocity geofence.Velocity
}

// CheckInputs returns the checks the watch would make now of the fleet's
// drones (those with a position and an up link, as the watch converts
// them), and the margin it checks with, so that the cost of the check can
// be measured on the same positions (centinela bench). It may be called
// from any goroutine once the watch is initialized.
func (w *ZoneWatch) CheckInputs() ([]ZoneCheckInput, geofence.Margin) {
	var out []ZoneCheckInput
	for _, st := range w.Fleet.Drones() {
		if !st.HasPosition || st.LinkState != LinkStateUp {
			continue
		}
		vel := [3]float64{st.VelN, st.VelE, st.VelD}
		for i, v := range vel {
			if !finite(v) {
				vel[i] = 0
			}
		}
		out = append(out, ZoneCheckInput{Agency: st.Agency, Position: currentGeoPos(st),
			Velocity: geofence.Velocity{VN: vel[0], VE: vel[1], VD: vel[2]}})
	}
	return out, w.margin
}
