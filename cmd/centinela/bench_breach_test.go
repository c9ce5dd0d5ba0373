package main

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/sim"
)

// TestMeasureBreachCPU: the breach check's CPU per position is measured
// on the run's positions (here the simulator's corridor homes, with the
// bundled zones and the server's agencies), and is 0 without positions.
func TestMeasureBreachCPU(t *testing.T) {
	set, err := geofence.Default(server.BuiltinAgencies()...)
	if err != nil {
		t.Fatal(err)
	}
	r := breachRun{set: set, at: time.Now(), margin: geofence.Margin{HorizontalM: fleet.DefaultZoneMarginM,
		VerticalM: fleet.DefaultZoneMarginVerticalM, Time: fleet.DefaultZoneMarginTime}}
	if got := measureBreachCPU(r); got != 0 {
		t.Errorf("no positions: %v, want 0", got)
	}
	for _, c := range sim.Corridors {
		p := geofence.Pos(c.Home.Lat, c.Home.Lon, 0)
		p.AltMSL = c.Home.Alt
		r.in = append(r.in, fleet.ZoneCheckInput{Agency: server.AgencyJoint, Position: p})
	}
	got := measureBreachCPU(r)
	// Not a timed test: the check costs microseconds, far from either bound.
	if got <= 0 || got > 10*time.Millisecond {
		t.Errorf("%v per position", got)
	}
}
