package fleet

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/centinela-gcs/centinela/geofence"
)

var _ Guard = (*ZoneGuard)(nil)

// Mission commands with a position that the guard follows besides those the
// fleet names (MAV_CMD numbers).
const (
	cmdNavLoiterToAlt    MissionCommand = 31
	cmdNavSplineWaypoint MissionCommand = 82
)

// ZoneGuard is the fleet's Guard backed by geofences: it refuses go-tos and
// missions that would take a drone out of its agency's allowed space (see
// package geofence), naming the zone. Set it as Fleet.Guard; callers that
// may override it pass GoToOptions.SkipGuard, UploadOptions.SkipGuard or
// StartOptions.SkipGuard.
//
// A drone's agency is DroneState.Agency. An agency the zone set does not
// hold has no allowed space: everything is refused (Conflict), so drones
// must be assigned to agencies (Fleet.Agencies, Fleet.DefaultAgency) that
// the geofence Store knows.
//
// Altitudes: go-to targets and mission items in a relative frame are above
// home; AMSL altitudes are derived from the home altitude (HOME_POSITION, or
// the current position's AMSL minus its relative altitude). Mission items in
// FrameGlobal need that home altitude. Items in FrameGlobalTerrainAlt are
// taken as above home (flat terrain).
//
// Recovery: when the drone is already outside its allowed space (for
// example after a breach), only a go-to's target must be allowed, and a
// mission is checked from its first item on, so that the drone can be sent
// back in; the way back in is not checked.
//
// Its methods are safe for concurrent use and never block: they read the
// Store's current Set.
type ZoneGuard struct {
	// Zones holds the zones and agencies (required). Its clock (Store.Now)
	// decides which zones are active.
	Zones *geofence.Store
}

// NewZoneGuard returns a guard that checks against zones.
func NewZoneGuard(zones *geofence.Store) *ZoneGuard { return &ZoneGuard{Zones: zones} }

// CheckGoTo implements Guard: it checks the straight leg from the drone's
// current position (or, without one, from its home at ground level, or
// else the target alone) to target. Returns Conflict naming the zone
// and the reason when the leg leaves the allowed space or the agency is
// not in the zone set, Invalid for a position geofence cannot check.
func (g *ZoneGuard) CheckGoTo(d DroneState, target Position) error {
	if g.Zones == nil {
		return errors.New("zone guard: no zone store")
	}
	set, at := g.Zones.Snapshot(), g.Zones.Time()
	home, hasHome := homeAMSL(d)
	to := geoPos(target.Lat, target.Lon, target.RelAlt, home, hasHome)
	var (
		v   *geofence.Violation
		err error
	)
	switch {
	case d.HasPosition:
		from := currentGeoPos(d)
		var ok bool
		ok, _, err = set.Allowed(d.Agency, from, at)
		if err != nil {
			break
		}
		if !ok {
			// Recovery: the drone is outside already; only the target must
			// be allowed.
			v, err = set.CheckRoute(d.Agency, []geofence.Position{to}, at)
			break
		}
		v, err = set.CheckSegment(d.Agency, from, to, at)
	case d.HasHome:
		v, err = set.CheckSegment(d.Agency, geoPos(d.Home.Lat, d.Home.Lon, 0, home, true), to, at)
	default:
		v, err = set.CheckRoute(d.Agency, []geofence.Position{to}, at)
	}
	if err != nil {
		return zoneQueryErr(err, d, "go-to")
	}
	if v != nil {
		return &Error{Code: Conflict, Reason: string(v.Reason), Message: fmt.Sprintf("go-to leaves allowed space: %s at leg %d (%s)",
			describeViolation(v, d.Agency), v.Leg, describeAt(v.At))}
	}
	return nil
}

// CheckMission implements Guard: for a mission plan (fence and rally plans
// are not checked) it checks the route the drone will fly, from its current
// position (or home) through every navigation item in order, DO_JUMP legs
// included. Takeoff climbs where the drone is (or at the item's position),
// land and return-to-launch descend to the ground at the item's position
// or home, items without a position (0, 0) stay where the drone is, and a
// zero waypoint altitude keeps the current one, as ArduPilot does; for
// ArduPilot, item 0 (home) is not flown; DO items are ignored. Returns
// Conflict naming the zone, the reason and the item, Invalid for items
// geofence cannot check.
func (g *ZoneGuard) CheckMission(d DroneState, t MissionType, items []MissionItem) error {
	if t != MissionTypeMission {
		return nil
	}
	if g.Zones == nil {
		return errors.New("zone guard: no zone store")
	}
	set, at := g.Zones.Snapshot(), g.Zones.Time()
	r, err := buildZoneRoute(d, items)
	if err != nil {
		return err
	}
	if d.HasPosition && len(r.pos) > 0 && r.seq[0] < 0 {
		ok, _, err := set.Allowed(d.Agency, r.pos[0], at)
		if err != nil {
			return zoneQueryErr(err, d, "mission")
		}
		if !ok {
			// Recovery: the drone is outside; check from the first item on.
			r.pos, r.seq = r.pos[1:], r.seq[1:]
		}
	}
	v, err := set.CheckRoute(d.Agency, r.pos, at)
	if err != nil {
		return zoneQueryErr(err, d, "mission")
	}
	if v != nil {
		where := fmt.Sprintf("at item %d", r.seq[0])
		if len(r.pos) > 1 {
			where = fmt.Sprintf("on the way to item %d", r.seq[v.Leg+1])
		}
		return missionRefusal(v, d.Agency, where)
	}
	for _, j := range r.jumps {
		v, err := set.CheckSegment(d.Agency, j.from, j.to, at)
		if err != nil {
			return zoneQueryErr(err, d, "mission")
		}
		if v != nil {
			return missionRefusal(v, d.Agency, fmt.Sprintf("on the jump (item %d) back to item %d", j.jumpSeq, j.toSeq))
		}
	}
	return nil
}

func missionRefusal(v *geofence.Violation, agency, where string) error {
	return &Error{Code: Conflict, Reason: string(v.Reason), Message: fmt.Sprintf("mission leaves allowed space: %s %s (%s)",
		describeViolation(v, agency), where, describeAt(v.At))}
}

// zoneQueryErr maps a geofence query error for the guard: an unknown agency
// is Conflict (the drone has no allowed space), a bad position Invalid.
func zoneQueryErr(err error, d DroneState, what string) error {
	switch {
	case errors.Is(err, geofence.ErrUnknownAgency):
		return Errorf(Conflict, "%s refused: drone %q belongs to agency %q, which has no geofence authorisation", what, d.ID, d.Agency)
	case errors.Is(err, geofence.ErrBadPosition):
		return Errorf(Invalid, "%s: position cannot be checked against geofences", what)
	}
	return fmt.Errorf("%s: geofence check: %w", what, err)
}

// describeViolation says what a violation does, naming the zone as
// `id "Name"`.
func describeViolation(v *geofence.Violation, agency string) string {
	zone := v.ZoneID
	if v.ZoneName != "" {
		zone += " " + strconv.Quote(v.ZoneName)
	}
	switch v.Reason {
	case geofence.ReasonExclusion:
		return "enters exclusion zone " + zone
	case geofence.ReasonUnauthorised:
		return fmt.Sprintf("enters zone %s of jurisdiction %s, which agency %q is not authorised for", zone, v.Jurisdiction, agency)
	case geofence.ReasonAboveCeiling:
		return "climbs above the ceiling of zone " + zone
	case geofence.ReasonBelowFloor:
		return "goes below the floor of zone " + zone
	case geofence.ReasonAltitudeUnknown:
		return "has no AMSL altitude to check against zone " + zone
	}
	if v.ZoneID != "" {
		return fmt.Sprintf("leaves zone %s into space agency %q may not use", zone, agency)
	}
	return fmt.Sprintf("is outside every zone agency %q may use", agency)
}

func describeAt(p geofence.Position) string {
	return fmt.Sprintf("%.5f,%.5f alt %.0f m", p.Lat, p.Lon, p.RelAlt)
}

// homeAMSL returns the drone's home altitude above mean sea level, from
// HOME_POSITION or else from its current position.
func homeAMSL(d DroneState) (float64, bool) {
	if d.HasHome && finite(d.Home.AltMSL) {
		return d.Home.AltMSL, true
	}
	if d.HasPosition && finite(d.AltMSL) && finite(d.Position.RelAlt) {
		return d.AltMSL - d.Position.RelAlt, true
	}
	return math.NaN(), false
}

// geoPos builds a geofence position at rel metres above home.
func geoPos(lat, lon, rel, home float64, hasHome bool) geofence.Position {
	p := geofence.Pos(lat, lon, rel)
	if hasHome {
		p.AltMSL = home + rel
	}
	return p
}

// currentGeoPos is the drone's reported position.
func currentGeoPos(d DroneState) geofence.Position {
	p := geofence.Pos(d.Position.Lat, d.Position.Lon, d.Position.RelAlt)
	if finite(d.AltMSL) {
		p.AltMSL = d.AltMSL
	}
	return p
}

// zoneRoute is the flown route of a mission: positions with the seq of the
// item each reaches (-1 for the drone's start), plus DO_JUMP legs.
type zoneRoute struct {
	pos   []geofence.Position
	seq   []int
	jumps []zoneJump
}

type zoneJump struct {
	from, to       geofence.Position
	jumpSeq, toSeq int
}

// buildZoneRoute resolves a mission's navigation items into positions.
func buildZoneRoute(d DroneState, items []MissionItem) (zoneRoute, error) {
	var r zoneRoute
	home, hasHome := homeAMSL(d)
	add := func(p geofence.Position, seq int) {
		r.pos = append(r.pos, p)
		r.seq = append(r.seq, seq)
	}
	var homePos geofence.Position
	haveHomePos := false
	switch {
	case d.HasHome && validFix(d.Home.Lat, d.Home.Lon):
		homePos, haveHomePos = geoPos(d.Home.Lat, d.Home.Lon, 0, home, hasHome), true
	case d.Autopilot == AutopilotArduPilot && len(items) > 0 && validFix(items[0].Lat, items[0].Lon):
		homePos, haveHomePos = geoPos(items[0].Lat, items[0].Lon, 0, home, hasHome), true
	}
	switch {
	case d.HasPosition:
		add(currentGeoPos(d), -1)
	case haveHomePos:
		add(homePos, -1)
	}
	start := 0
	if d.Autopilot == AutopilotArduPilot {
		start = 1
	}
	// at[seq] is the position reached by a navigation item, for DO_JUMP.
	at := make(map[int]geofence.Position)
	for i := start; i < len(items); i++ {
		it := items[i]
		var prev geofence.Position
		havePrev := len(r.pos) > 0
		if havePrev {
			prev = r.pos[len(r.pos)-1]
		}
		if it.Command == CmdDoJump {
			target, repeat := int(it.Param1), int(it.Param2)
			for k := target; k >= start && k < i && repeat != 0 && havePrev; k++ {
				if to, ok := at[k]; ok {
					r.jumps = append(r.jumps, zoneJump{from: prev, to: to, jumpSeq: i, toSeq: k})
					break
				}
			}
			continue
		}
		switch it.Command {
		case CmdNavWaypoint, CmdNavLoiterUnlimited, CmdNavLoiterTurns, CmdNavLoiterTime,
			CmdNavTakeoff, CmdNavLand, CmdNavReturnToLaunch, cmdNavLoiterToAlt, cmdNavSplineWaypoint:
		default:
			continue // DO items, fence and rally items, unknown commands
		}
		lat, lon := it.Lat, it.Lon
		if !validFix(lat, lon) {
			if !havePrev {
				return r, Errorf(Invalid, "mission item %d: no position, and the drone's position is unknown", i)
			}
			lat, lon = prev.Lat, prev.Lon
		}
		var rel float64
		switch it.Frame {
		case FrameGlobal:
			if !hasHome {
				return r, Errorf(Invalid, "mission item %d: altitude above sea level, but the drone's home altitude is unknown", i)
			}
			rel = it.Alt - home
		default: // relative to home; terrain frame taken as relative
			rel = it.Alt
		}
		switch it.Command {
		case CmdNavTakeoff:
			add(geoPos(lat, lon, rel, home, hasHome), i)
		case CmdNavLand:
			if havePrev {
				add(geoPos(lat, lon, prev.RelAlt, home, hasHome), i)
			}
			add(geoPos(lat, lon, 0, home, hasHome), i)
		case CmdNavReturnToLaunch:
			h := homePos
			if !haveHomePos {
				if len(r.pos) == 0 {
					continue
				}
				h = r.pos[0]
			}
			if havePrev {
				add(geoPos(h.Lat, h.Lon, prev.RelAlt, home, hasHome), i)
			}
			add(geoPos(h.Lat, h.Lon, 0, home, hasHome), i)
		default:
			if it.Alt == 0 && havePrev {
				rel = prev.RelAlt
			}
			add(geoPos(lat, lon, rel, home, hasHome), i)
		}
		at[i] = r.pos[len(r.pos)-1]
	}
	return r, nil
}
