package geofence

import (
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"
)

// Velocity is a drone's velocity in m/s, north, east and down (as
// GLOBAL_POSITION_INT vx, vy, vz).
type Velocity struct {
	VN, VE, VD float64
}

// Margin says when a drone counts as approaching the edge of its allowed
// space. A zero field disables that test.
type Margin struct {
	// HorizontalM: approaching when the nearest horizontal boundary is at
	// most this many metres away.
	HorizontalM float64
	// VerticalM: approaching when the floor or ceiling of its band is at
	// most this many metres away.
	VerticalM float64
	// Time: approaching when flying on at the current velocity would leave
	// the allowed space within this time.
	Time time.Duration
}

// WatchState is a drone's state relative to its allowed space.
type WatchState int

// Watch states.
const (
	// Inside: in the allowed space and not near its edge.
	Inside WatchState = iota + 1
	// Approaching: in the allowed space but within the margin of its edge.
	Approaching
	// Breached: outside the allowed space.
	Breached
)

// String returns "inside", "approaching" or "breached".
func (s WatchState) String() string {
	switch s {
	case Inside:
		return "inside"
	case Approaching:
		return "approaching"
	case Breached:
		return "breached"
	}
	return "unknown"
}

// WatchResult is the state of one drone at one instant.
type WatchResult struct {
	// State is Inside, Approaching or Breached.
	State WatchState
	// ZoneID and ZoneName name the zone concerned: the one breached, the
	// one whose edge the drone is predicted to cross or is nearest to, ""
	// when none.
	ZoneID, ZoneName string
	// Violation is the current violation (Breached) or the predicted one
	// (Approaching by time); nil otherwise.
	Violation *Violation
	// BoundaryM is the horizontal distance to the nearest boundary of the
	// allowed space (see PointResult.BoundaryM).
	BoundaryM float64
	// VerticalM is the distance to the nearest floor or ceiling that limits
	// the drone where it is, +Inf when none does; 0 when Breached.
	VerticalM float64
	// TimeToBreach is when flying on at the current velocity leaves the
	// allowed space, -1 when not within Margin.Time (or Margin.Time is 0).
	TimeToBreach time.Duration
}

// Watch classifies a drone's position against its agency's allowed space:
// Breached if outside it, Approaching if within the margin (in metres
// horizontally or vertically, or in seconds of flight at velocity v), else
// Inside. It is a pure function of its arguments and the Set; the caller
// keeps the per-drone state machine and its events. Returns
// ErrUnknownAgency (wrapped) if the agency is not in the Set,
// ErrBadPosition (wrapped) for a bad position or velocity.
func (s *Set) Watch(agencyID string, p Position, v Velocity, m Margin, at time.Time) (WatchResult, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return WatchResult{}, err
	}
	if err := checkPos(p); err != nil || !finite(v.VN) || !finite(v.VE) || !finite(v.VD) {
		return WatchResult{}, fmt.Errorf("watch: %w", ErrBadPosition)
	}
	res := WatchResult{TimeToBreach: -1, VerticalM: math.Inf(1)}
	ll := p.orb()
	fc := s.fineCell(ll)
	d, dz := s.boundaryIn(ag, p, at, fc)
	res.BoundaryM = d
	var buf [16]int
	var in []int
	if fc != nil {
		in = s.containingIn(fc, ll, at, buf[:0])
	} else {
		in = s.containing(ll, at, buf[:0])
	}
	st := s.evalIn(ag, in, p.RelAlt, p.AltMSL)
	if !st.ok {
		res.State = Breached
		res.VerticalM = 0
		res.Violation = s.violation(st, p, 0, 0)
		res.ZoneID, res.ZoneName = res.Violation.ZoneID, res.Violation.ZoneName
		if res.ZoneID == "" && dz >= 0 {
			res.ZoneID, res.ZoneName = s.zones[dz].ID, s.zones[dz].Name
		}
		return res, nil
	}
	res.State = Inside
	vz := s.verticalRoom(ag, p, in, &res.VerticalM)
	zone := -1
	if m.Time > 0 && (v.VN != 0 || v.VE != 0 || v.VD != 0) {
		secs := m.Time.Seconds()
		end := ahead(p, v, secs)
		if s.legClear(ag, p, end, d, v, secs, at) {
			// Flight that cannot reach the nearest boundary within the
			// margin, nor cross a floor or ceiling: the look-ahead stays
			// in the allowed space.
		} else if pv := s.checkLeg(ag, p, end, 0, at); pv != nil {
			res.State = Approaching
			res.Violation = pv
			res.TimeToBreach = time.Duration(pv.Fraction * secs * float64(time.Second))
			res.ZoneID, res.ZoneName = pv.ZoneID, pv.ZoneName
			if res.ZoneID != "" {
				return res, nil
			}
			zone = dz
		}
	}
	if m.HorizontalM > 0 && d <= m.HorizontalM {
		res.State, zone = Approaching, dz
	}
	if m.VerticalM > 0 && res.VerticalM <= m.VerticalM && (zone < 0 || res.VerticalM < d) {
		res.State, zone = Approaching, vz
	}
	if res.State == Approaching && res.ZoneID == "" && zone >= 0 {
		res.ZoneID, res.ZoneName = s.zones[zone].ID, s.zones[zone].Name
	}
	return res, nil
}

// ahead returns where p will be after secs seconds at velocity v.
func ahead(p Position, v Velocity, secs float64) Position {
	pr := newProj(p.orb())
	q := pr.inv(vec{v.VE * secs, v.VN * secs})
	return Position{Lat: q[1], Lon: q[0], RelAlt: p.RelAlt - v.VD*secs, AltMSL: p.AltMSL - v.VD*secs}
}

// verticalRoom sets *room to the vertical distance from p to the nearest
// altitude limit of the allowed space where p is (the best band among the
// usable inclusion zones containing p, and the bands of exclusion zones
// containing p above or below it), and returns the zone of that limit. in
// lists the active zones containing p (Set.containing).
func (s *Set) verticalRoom(ag *Agency, p Position, in []int, room *float64) int {
	incl, inclZ := math.Inf(-1), -1
	excl, exclZ := math.Inf(1), -1
	for _, i := range in {
		z := &s.zones[i]
		alt := z.altOf(p.RelAlt, p.AltMSL)
		if z.Kind == Exclusion {
			g := math.Max(z.FloorM-alt, alt-z.Ceiling())
			if g >= 0 && g < excl {
				excl, exclZ = g, i
			}
			continue
		}
		if ag.Authorised(z.Jurisdiction) && z.inBand(alt) {
			r := math.Min(z.Ceiling()-alt, alt-z.FloorM)
			if r > incl {
				incl, inclZ = r, i
			}
		}
	}
	*room = math.Inf(1)
	best := -1
	if inclZ >= 0 {
		*room, best = incl, inclZ
	}
	if exclZ >= 0 && excl < *room {
		*room, best = excl, exclZ
	}
	return best
}

// legClear reports whether the look-ahead leg from p to end (flight at v
// for secs seconds) ends nearer than the boundary distance d (less a metre
// and 1 %) and crosses no floor or ceiling of a zone that decides the
// allowed status along it: then every point of it lies where the allowed
// status is p's, and checkLeg need not run. The scan (scanBoundary) always
// checks the leg.
//
// Why: d is the distance to the nearest boundary of the allowed space at
// p's altitude, so at that altitude every point of the leg is allowed (p
// is). Climbing or descending changes the status of a point only where a
// zone's band begins or ends, and only the zones whose bound meets the
// leg's (those checkLeg looks at: active exclusions and authorised
// inclusions; unauthorised ones only name violations) hold its points.
func (s *Set) legClear(ag *Agency, p, end Position, d float64, v Velocity, secs float64, at time.Time) bool {
	if s.scanBoundary || s.bcache == nil || math.IsInf(d, 1) {
		return false
	}
	if !(math.Hypot(v.VN, v.VE)*secs*1.01+1 < d) {
		return false
	}
	if v.VD == 0 {
		return true
	}
	la, lb := p.orb(), end.orb()
	clear := true
	s.each(orb.Bound{Min: la, Max: la}.Extend(lb), func(i int) bool {
		z := &s.zones[i]
		if !z.ActiveAt(at) || (z.Kind == Inclusion && !ag.Authorised(z.Jurisdiction)) {
			return true
		}
		a0, a1 := z.altOf(p.RelAlt, p.AltMSL), z.altOf(end.RelAlt, end.AltMSL)
		if a0 == a1 || !finite(a0) || !finite(a1) {
			return true // the same altitude, or unknown (in no band), all along
		}
		lo, hi := math.Min(a0, a1), math.Max(a0, a1)
		// A margin for the rounding of the altitudes checkLeg interpolates.
		eps := 1e-6 * math.Max(1, math.Max(math.Abs(lo), math.Abs(hi)))
		for _, lim := range [2]float64{z.FloorM, z.Ceiling()} {
			if lim >= lo-eps && lim <= hi+eps {
				clear = false
				return false
			}
		}
		return true
	})
	return clear
}
