package fleet

import (
	"fmt"
	"math"
)

// Tolerances of plan comparison: positions travel as degrees × 1e7
// (MISSION_ITEM_INT) and ArduPilot keeps altitudes in whole centimetres.
const (
	planLatLonTol = 1.5e-7 // degrees
	planAltTol    = 0.011  // metres
	planParamTol  = 1e-3
)

// storedAsArduCopter returns a mission item as ArduCopter keeps it
// (AP_Mission's packed command, Copter build): only the params Copter uses,
// integers where it stores integers, and no position for DO items other than
// DO_SET_HOME. A NAV_WAYPOINT keeps only param1 (hold time, whole seconds):
// its acceptance radius, pass radius and yaw come back 0. Commands not
// listed keep their params.
func storedAsArduCopter(it MissionItem) MissionItem {
	u16 := func(x float64) float64 {
		if math.IsNaN(x) {
			return 0
		}
		return math.Trunc(math.Max(0, math.Min(x, math.MaxUint16)))
	}
	sign := func(neg bool) float64 {
		if neg {
			return -1
		}
		return 1
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	out := it
	out.Autocontinue = true // ArduPilot returns autocontinue 1 for every item
	out.Param1, out.Param2, out.Param3, out.Param4 = 0, 0, 0, 0
	switch it.Command {
	case CmdNavWaypoint, CmdNavTakeoff:
		out.Param1 = u16(it.Param1)
	case CmdNavLoiterUnlimited:
		out.Param3 = u16(math.Abs(it.Param3)) * sign(it.Param3 < 0)
	case CmdNavLoiterTurns:
		out.Param1 = float64(uint16(u16(it.Param1)) & 0xff)
		out.Param3 = float64(uint16(u16(math.Abs(it.Param3)))&0xff) * sign(it.Param3 < 0)
		out.Param4 = b(it.Param4 > 0)
	case CmdNavLoiterTime:
		out.Param1 = u16(it.Param1)
		out.Param3 = sign(it.Param3 < 0)
		out.Param4 = b(it.Param4 > 0)
	case CmdNavReturnToLaunch:
	case CmdNavLand:
		out.Param1 = u16(it.Param1)
		out.Param4 = sign(it.Param4 < 0)
	case CmdDoJump:
		out.Param1 = u16(it.Param1)
		out.Param2 = math.Trunc(math.Max(math.MinInt16, math.Min(it.Param2, math.MaxInt16)))
	case CmdDoChangeSpeed:
		out.Param1 = math.Trunc(math.Max(0, math.Min(it.Param1, math.MaxUint8)))
		out.Param2, out.Param3 = it.Param2, it.Param3
	case CmdDoSetHome:
		out.Param1 = u16(it.Param1)
	default:
		out.Param1, out.Param2, out.Param3, out.Param4 = it.Param1, it.Param2, it.Param3, it.Param4
	}
	if !it.Command.IsNav() && it.Command != CmdDoSetHome {
		out.Lat, out.Lon, out.Alt = 0, 0, 0
	}
	return out
}

// StoredItem returns mission item it as an autopilot (MAV_AUTOPILOT) keeps
// it, which is what a download returns: for ArduPilot as ArduCopter's
// AP_Mission stores a mission item (a NAV_WAYPOINT keeps only its hold time
// in whole seconds, autocontinue is always set, DO items other than
// DO_SET_HOME lose their position); unchanged for other autopilots and for
// commands it does not know. Positions and altitudes are not rounded.
func StoredItem(autopilot uint8, it MissionItem) MissionItem {
	if autopilot != AutopilotArduPilot {
		return it
	}
	return storedAsArduCopter(it)
}

// planDiff compares a tracked plan with one downloaded from the vehicle, as
// the vehicle stores them. For ArduPilot seq 0 (home, rewritten by the
// vehicle), frames and autocontinue are not compared, and params are
// compared as ArduCopter keeps them (storedAsArduCopter). It returns the
// first differing seq and what differs, or -1 and "" when the plans are the
// same; seq is the shorter plan's length when only the counts differ.
func planDiff(tracked, got []MissionItem, ardupilot bool) (seq int, why string) {
	near := func(x, y, tol float64) bool {
		return (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) <= tol
	}
	for i := range min(len(tracked), len(got)) {
		if i == 0 && ardupilot {
			continue
		}
		x, y := tracked[i], got[i]
		if ardupilot {
			x, y = storedAsArduCopter(x), storedAsArduCopter(y)
		}
		switch {
		case x.Command != y.Command:
			return i, fmt.Sprintf("item %d: command %d, vehicle has %d", i, x.Command, y.Command)
		case !near(x.Lat, y.Lat, planLatLonTol) || !near(x.Lon, y.Lon, planLatLonTol):
			return i, fmt.Sprintf("item %d: position %.7f, %.7f, vehicle has %.7f, %.7f", i, x.Lat, x.Lon, y.Lat, y.Lon)
		case !near(x.Alt, y.Alt, planAltTol):
			return i, fmt.Sprintf("item %d: altitude %v m, vehicle has %v m", i, x.Alt, y.Alt)
		}
		px := [4]float64{x.Param1, x.Param2, x.Param3, x.Param4}
		py := [4]float64{y.Param1, y.Param2, y.Param3, y.Param4}
		for k := range px {
			if !near(px[k], py[k], planParamTol) {
				return i, fmt.Sprintf("item %d: param%d %v, vehicle has %v", i, k+1, px[k], py[k])
			}
		}
	}
	if len(tracked) != len(got) {
		return min(len(tracked), len(got)), fmt.Sprintf("%d items, vehicle has %d", len(tracked), len(got))
	}
	return -1, ""
}

// samePlan reports whether two plans are the same as the vehicle stores them.
func samePlan(a, b []MissionItem, ardupilot bool) bool {
	seq, _ := planDiff(a, b, ardupilot)
	return seq < 0
}
