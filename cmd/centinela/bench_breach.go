package main

import (
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// breachRun is what the bench keeps of a run to measure the breach check
// after it: the positions the zone watch last checked, with its zone set,
// margin and clock.
type breachRun struct {
	set    *geofence.Set
	at     time.Time
	margin geofence.Margin
	in     []fleet.ZoneCheckInput
}

// takeBreachRun records the server's drones as its zone watch checks them.
func takeBreachRun(srv *server.Server) breachRun {
	in, m := srv.Watch.CheckInputs()
	return breachRun{set: srv.Zones.Snapshot(), at: srv.Zones.Time(), margin: m, in: in}
}

// breachMinTime and breachMinRounds bound the measurement of the breach
// check: at least this long and this many passes over the positions.
const (
	breachMinTime   = 300 * time.Millisecond
	breachMinRounds = 5
)

// measureBreachCPU returns the process CPU per position of the check the
// zone watch makes (geofence.Set.Watch with its margin), over the run's
// positions, once the server and the simulated fleet are stopped: the
// check's own cost, without the preemption and the other goroutines that
// the server's wall-clock figure (ZoneWatchStats.CheckTime) includes. 0
// when there are no positions.
func measureBreachCPU(r breachRun) time.Duration {
	if len(r.in) == 0 {
		return 0
	}
	check := func() {
		for _, c := range r.in {
			r.set.Watch(c.Agency, c.Position, c.Velocity, r.margin, r.at)
		}
	}
	check() // as in the server, the caches are warm
	check()
	n := 0
	start, cpu0 := time.Now(), processCPU()
	for n < breachMinRounds || time.Since(start) < breachMinTime {
		check()
		n++
	}
	return (processCPU() - cpu0) / time.Duration(n*len(r.in))
}
