package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
// first differing seq and what differs, or -1 and the zero MissionDiff when
// the plans are the same; seq is the shorter plan's length when only the
// counts differ.
func planDiff(tracked, got []MissionItem, ardupilot bool) (seq int, why MissionDiff) {
	near := func(x, y, tol float64) bool {
		return (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) <= tol
	}
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
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
			return i, MissionDiff{Code: DiffCommand, Item: i, Want: strconv.Itoa(int(x.Command)), Got: strconv.Itoa(int(y.Command))}
		case !near(x.Lat, y.Lat, planLatLonTol) || !near(x.Lon, y.Lon, planLatLonTol):
			pos := func(it MissionItem) string {
				return strconv.FormatFloat(it.Lat, 'f', 7, 64) + "," + strconv.FormatFloat(it.Lon, 'f', 7, 64)
			}
			return i, MissionDiff{Code: DiffPosition, Item: i, Want: pos(x), Got: pos(y)}
		case !near(x.Alt, y.Alt, planAltTol):
			return i, MissionDiff{Code: DiffAltitude, Item: i, Want: g(x.Alt), Got: g(y.Alt)}
		}
		px := [4]float64{x.Param1, x.Param2, x.Param3, x.Param4}
		py := [4]float64{y.Param1, y.Param2, y.Param3, y.Param4}
		for k := range px {
			if !near(px[k], py[k], planParamTol) {
				return i, MissionDiff{Code: DiffParam, Item: i, Param: k + 1, Want: g(px[k]), Got: g(py[k])}
			}
		}
	}
	if len(tracked) != len(got) {
		return min(len(tracked), len(got)), MissionDiff{Code: DiffCount, Item: min(len(tracked), len(got)), Want: strconv.Itoa(len(tracked)), Got: strconv.Itoa(len(got))}
	}
	return -1, MissionDiff{}
}

// MissionDiffCode is what differs between two mission plans, a stable
// machine code (the "diff" parameter of a mission_mismatch event).
type MissionDiffCode string

// What can differ between the plan the fleet tracks and the vehicle's.
const (
	// DiffCommand: item Item's MAV_CMD.
	DiffCommand MissionDiffCode = "command"
	// DiffPosition: item Item's position, as "LAT,LON" in degrees.
	DiffPosition MissionDiffCode = "position"
	// DiffAltitude: item Item's altitude, metres.
	DiffAltitude MissionDiffCode = "altitude"
	// DiffParam: item Item's param number Param (1..4).
	DiffParam MissionDiffCode = "param"
	// DiffCount: the number of items (Item is the shorter plan's length).
	DiffCount MissionDiffCode = "count"
)

// MissionDiffCodes lists every MissionDiffCode.
var MissionDiffCodes = []MissionDiffCode{DiffCommand, DiffPosition, DiffAltitude, DiffParam, DiffCount}

// MissionDiff says where two mission plans first differ, as a stable code
// and language-neutral values, for people to read in their language.
type MissionDiff struct {
	// Code is what differs ("" when nothing does).
	Code MissionDiffCode
	// Item is the seq of the item that differs.
	Item int
	// Param is the param number (1..4) of a DiffParam.
	Param int
	// Want is the tracked plan's value and Got the vehicle's, as numbers in
	// Go's formatting ("." decimals; a position "LAT,LON").
	Want, Got string
}

// String says what differs in English, for logs: "item 3: param1 5,
// vehicle has 0".
func (d MissionDiff) String() string {
	switch d.Code {
	case DiffCommand:
		return fmt.Sprintf("item %d: command %s, vehicle has %s", d.Item, d.Want, d.Got)
	case DiffPosition:
		return fmt.Sprintf("item %d: position %s, vehicle has %s", d.Item, strings.ReplaceAll(d.Want, ",", ", "), strings.ReplaceAll(d.Got, ",", ", "))
	case DiffAltitude:
		return fmt.Sprintf("item %d: altitude %s m, vehicle has %s m", d.Item, d.Want, d.Got)
	case DiffParam:
		return fmt.Sprintf("item %d: param%d %s, vehicle has %s", d.Item, d.Param, d.Want, d.Got)
	case DiffCount:
		return fmt.Sprintf("%s items, vehicle has %s", d.Want, d.Got)
	}
	return ""
}

// samePlan reports whether two plans are the same as the vehicle stores them.
func samePlan(a, b []MissionItem, ardupilot bool) bool {
	seq, _ := planDiff(a, b, ardupilot)
	return seq < 0
}
