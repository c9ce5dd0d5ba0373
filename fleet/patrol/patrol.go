package patrol

import (
	"errors"
	"math"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// Options tune Mission. The zero Options are the defaults.
type Options struct {
	// HomeAMSL is the home item's altitude above sea level (optional, 0:
	// ArduPilot replaces the home item with its own home anyway).
	HomeAMSL float64
	// Jump expresses a route's laps with DO_JUMP instead of unrolling them.
	Jump bool
	// AcceptRadiusM is each waypoint's acceptance radius (optional, default
	// 0: the vehicle's WPNAV_RADIUS).
	AcceptRadiusM float64
}

// Mission converts rt into ArduCopter mission items, numbered from 0.
func Mission(rt plan.Route, opt Options) []fleet.MissionItem {
	items := []fleet.MissionItem{{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Current: true, Autocontinue: true,
		Lat: rt.Home.Lat, Lon: rt.Home.Lon, Alt: opt.HomeAMSL}}
	wps := rt.Waypoints
	if len(wps) == 0 {
		return renumber(append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true}))
	}
	if !rt.Airborne {
		items = append(items, fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Autocontinue: true, Alt: wps[0].AltM})
	}
	speed := -1.0
	skipFrom, skipTo := -1, -1
	loopSeq := -1
	loop := rt.Loop
	if !opt.Jump || !loopFits(loop, len(wps)) {
		loop = nil // fly the waypoints as listed (they hold every lap)
	}
	for i := 0; i < len(wps); i++ {
		if i == skipFrom {
			i = skipTo
			if i >= len(wps) {
				break
			}
		}
		w := wps[i]
		if w.SpeedMPS != speed {
			items = append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Autocontinue: true,
				Param1: 1, Param2: w.SpeedMPS, Param3: -1})
			speed = w.SpeedMPS
		}
		if loop != nil && i == loop.First {
			loopSeq = len(items)
		}
		items = append(items, fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true,
			Param2: opt.AcceptRadiusM, Lat: w.Lat, Lon: w.Lon, Alt: w.AltM})
		if loop != nil && i == loop.Last && loopSeq >= 0 {
			per := loop.Last - loop.First + 1
			items = append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Autocontinue: true,
				Param1: float64(loopSeq), Param2: float64(loop.Laps - 1)})
			skipFrom, skipTo = i+1, i+1+per*(loop.Laps-1)
		}
	}
	items = append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true})
	return renumber(items)
}

// loopFits reports whether l describes laps that the n waypoints really
// hold unrolled: a lap of First..Last repeated Laps times (at least twice)
// within the list. A route read back from storage, or a planner bug, may
// carry any loop; Mission then lists the waypoints instead of jumping.
func loopFits(l *plan.Loop, n int) bool {
	if l == nil || l.First < 0 || l.Last < l.First || l.Last >= n || l.Laps < 2 || l.Laps > n {
		return false
	}
	per := l.Last - l.First + 1
	return per <= (n-l.First)/l.Laps
}

func renumber(items []fleet.MissionItem) []fleet.MissionItem {
	for i := range items {
		items[i].Seq = i
	}
	return items
}

// Check checks a mission for drone d with the fleet's zone guard over
// zones, as an upload would. Returns Conflict naming the zone.
func Check(zones *geofence.Store, d fleet.DroneState, items []fleet.MissionItem) error {
	return fleet.NewZoneGuard(zones).CheckMission(d, fleet.MissionTypeMission, items)
}

// Plan plans r against the zones' current set and clock, mapping errors
// with Err.
func Plan(zones *geofence.Store, r plan.Request) (*plan.Result, error) {
	res, err := plan.Plan(zones.Snapshot(), r, zones.Time())
	return res, Err(err)
}

// Err maps a planning error to a fleet error: invalid → Invalid, not found
// → NotFound, no route, endurance and conflict → Conflict (with the plan
// code as Reason). Other errors pass unchanged (nil stays nil).
func Err(err error) error {
	var pe *plan.Error
	if !errors.As(err, &pe) {
		return err
	}
	code := fleet.Conflict
	switch pe.Code {
	case plan.CodeInvalid:
		code = fleet.Invalid
	case plan.CodeNotFound:
		code = fleet.NotFound
	}
	return &fleet.Error{Code: code, Message: pe.Message, Reason: string(pe.Code)}
}

// DroneOf returns the planning view of a live drone: its home (HOME_POSITION,
// else where it is), its home's altitude above sea level when known, its
// position when it is airborne, and its battery from telemetry
// (RemainingPct; full when unknown). endurance is the flight time of its
// full battery from its profile (0: the request's).
func DroneOf(st fleet.DroneState, endurance time.Duration) plan.Drone {
	d := plan.Drone{ID: st.ID, Endurance: endurance}
	switch {
	case st.HasHome:
		d.Home = plan.LatLon{Lat: st.Home.Lat, Lon: st.Home.Lon}
		if !math.IsNaN(st.Home.AltMSL) {
			d.HomeAMSL, d.HasHomeAMSL = st.Home.AltMSL, true
		}
	case st.HasPosition:
		d.Home = plan.LatLon{Lat: st.Position.Lat, Lon: st.Position.Lon}
	}
	if st.HasPosition && st.Armed && st.Landed != fleet.LandedOnGround {
		p := plan.LatLon{Lat: st.Position.Lat, Lon: st.Position.Lon}
		d.Position = &p
	}
	if r := st.Battery.RemainingPct; r > 0 && r <= 100 {
		d.BatteryPct = float64(r)
	}
	return d
}
