package geofence

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// Reason says why a position is not in a drone's allowed space.
type Reason string

// Reasons.
const (
	// ReasonOutside: the position is in no inclusion zone at all that the
	// agency may use (ZoneID names the zone being left on a route, if any).
	ReasonOutside Reason = "outside_allowed_space"
	// ReasonUnauthorised: the position is only in inclusion zones of
	// jurisdictions the agency is not authorised for (ZoneID names one,
	// the smallest).
	ReasonUnauthorised Reason = "unauthorised_jurisdiction"
	// ReasonExclusion: the position is in an active exclusion zone's volume.
	ReasonExclusion Reason = "exclusion_zone"
	// ReasonAboveCeiling: horizontally inside a usable inclusion zone but
	// above its ceiling.
	ReasonAboveCeiling Reason = "above_ceiling"
	// ReasonBelowFloor: horizontally inside a usable inclusion zone but
	// below its floor.
	ReasonBelowFloor Reason = "below_floor"
	// ReasonAltitudeUnknown: the zone's band is AMSL and the position's
	// AMSL altitude is unknown (NaN).
	ReasonAltitudeUnknown Reason = "altitude_unknown"
)

// Violation locates where a position, segment or route leaves the allowed
// space of an agency.
type Violation struct {
	// Reason says what is violated.
	Reason Reason
	// ZoneID and ZoneName name the zone concerned, "" when none is.
	ZoneID, ZoneName string
	// Jurisdiction is the zone's jurisdiction, "" when no zone is named.
	Jurisdiction Jurisdiction
	// Leg is the index of the route leg (from route[Leg] to route[Leg+1]);
	// 0 for a point or a single segment. For a route of one point it is 0.
	Leg int
	// Fraction is where on the leg the violation starts, 0…1.
	Fraction float64
	// At is where the violation starts (the first position outside the
	// allowed space, to the precision of the boundary crossing).
	At Position
}

// String describes the violation for people, for example
// `leg 1 at 32.54000,-116.97500 alt 60 m: enters exclusion zone "apt-mmtj" (TIJ airport)`.
func (v *Violation) String() string {
	zone := ""
	if v.ZoneID != "" {
		zone = " " + quote(v.ZoneID)
		if v.ZoneName != "" {
			zone += " (" + v.ZoneName + ")"
		}
	}
	var what string
	switch v.Reason {
	case ReasonExclusion:
		what = "enters exclusion zone" + zone
	case ReasonUnauthorised:
		what = fmt.Sprintf("enters%s, jurisdiction %s, which the agency is not authorised for", zone, v.Jurisdiction)
	case ReasonAboveCeiling:
		what = "is above the ceiling of zone" + zone
	case ReasonBelowFloor:
		what = "is below the floor of zone" + zone
	case ReasonAltitudeUnknown:
		what = "has no AMSL altitude to check against zone" + zone
	default:
		if zone != "" {
			what = "leaves zone" + zone + " out of the allowed space"
		} else {
			what = "is outside the allowed space"
		}
	}
	return fmt.Sprintf("leg %d at %.5f,%.5f alt %.0f m: %s", v.Leg, v.At.Lat, v.At.Lon, v.At.RelAlt, what)
}

// status is the verdict on one position.
type status struct {
	ok     bool
	reason Reason
	zone   int // -1 when none
}

// eval decides whether a position is in the agency's allowed space.
func (s *Set) eval(ag *Agency, ll orb.Point, rel, amsl float64, at time.Time) status {
	var buf [16]int
	return s.evalIn(ag, s.containing(ll, at, buf[:0]), rel, amsl)
}

// containing appends to out the active zones whose shape contains ll, in
// the order each finds them.
func (s *Set) containing(ll orb.Point, at time.Time, out []int) []int {
	if fc := s.fineCell(ll); fc != nil {
		return s.containingIn(fc, ll, at, out)
	}
	s.each(orb.Bound{Min: ll, Max: ll}, func(i int) bool {
		z := &s.zones[i]
		if z.ActiveAt(at) && z.contains(ll) {
			out = append(out, i)
		}
		return true
	})
	return out
}

// containingIn is containing from the fine cell fc holding ll: the same
// zones in the same order.
func (s *Set) containingIn(fc *fineCell, ll orb.Point, at time.Time, out []int) []int {
	for _, e := range fc.in {
		z := &s.zones[e.zone]
		if z.ActiveAt(at) && (e.all || z.contains(ll)) {
			out = append(out, int(e.zone))
		}
	}
	return out
}

// evalIn is eval over in, the active zones containing the position.
func (s *Set) evalIn(ag *Agency, in []int, rel, amsl float64) status {
	excl, inclOut, unauth := -1, -1, -1
	inclOK := false
	for _, i := range in {
		z := &s.zones[i]
		alt := z.altOf(rel, amsl)
		switch {
		case z.Kind == Exclusion:
			if !(alt < z.FloorM || alt > z.Ceiling()) && (excl < 0 || i < excl) {
				excl = i
			}
		case ag.Authorised(z.Jurisdiction):
			if z.inBand(alt) {
				inclOK = true
			} else if inclOut < 0 || i < inclOut {
				inclOut = i
			}
		default:
			if unauth < 0 || z.areaM2 < s.zones[unauth].areaM2 || (z.areaM2 == s.zones[unauth].areaM2 && i < unauth) {
				unauth = i
			}
		}
	}
	switch {
	case excl >= 0:
		return status{reason: ReasonExclusion, zone: excl}
	case inclOK:
		return status{ok: true, zone: -1}
	case inclOut >= 0:
		z := &s.zones[inclOut]
		alt := z.altOf(rel, amsl)
		switch {
		case math.IsNaN(alt):
			return status{reason: ReasonAltitudeUnknown, zone: inclOut}
		case alt > z.Ceiling():
			return status{reason: ReasonAboveCeiling, zone: inclOut}
		default:
			return status{reason: ReasonBelowFloor, zone: inclOut}
		}
	case unauth >= 0:
		return status{reason: ReasonUnauthorised, zone: unauth}
	}
	return status{reason: ReasonOutside, zone: -1}
}

func (s *Set) violation(st status, p Position, leg int, frac float64) *Violation {
	v := &Violation{Reason: st.reason, Leg: leg, Fraction: frac, At: p}
	if st.zone >= 0 {
		z := &s.zones[st.zone]
		v.ZoneID, v.ZoneName, v.Jurisdiction = z.ID, z.Name, z.Jurisdiction
	}
	return v
}

// Allowed reports whether p is in the allowed space of the agency at time
// at, and if not, why. It is the fast path: no distance, no zone list.
// Returns ErrUnknownAgency (wrapped) if the agency is not in the Set,
// ErrBadPosition (wrapped) for a position that is not finite or out of range.
func (s *Set) Allowed(agencyID string, p Position, at time.Time) (bool, *Violation, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return false, nil, err
	}
	if err := checkPos(p); err != nil {
		return false, nil, err
	}
	st := s.eval(ag, p.orb(), p.RelAlt, p.AltMSL, at)
	if st.ok {
		return true, nil, nil
	}
	return false, s.violation(st, p, 0, 0), nil
}

// ZoneRef names a zone found by a query.
type ZoneRef struct {
	ID, Name     string
	Kind         Kind
	Jurisdiction Jurisdiction
	// InBand reports whether the position's altitude is within the zone's
	// band (false when the needed altitude is unknown).
	InBand bool
}

// PointResult is the answer of CheckPoint.
type PointResult struct {
	// Allowed reports whether the position is in the agency's allowed space.
	Allowed bool
	// Violation says why not; nil when Allowed.
	Violation *Violation
	// Zones lists the active zones whose horizontal shape contains the
	// position, any kind or jurisdiction, sorted by ID.
	Zones []ZoneRef
	// BoundaryM is the horizontal distance in metres to the nearest
	// boundary of the agency's allowed space at the position's altitude:
	// how far it is to leaving it (Allowed) or to entering it (not
	// Allowed). +Inf when no boundary lies within MaxSearchM.
	BoundaryM float64
	// BoundaryZoneID names the zone whose edge is that nearest boundary.
	BoundaryZoneID string
}

// MaxSearchM is how far CheckPoint and Watch look for the boundary of the
// allowed space: 1,000 km.
const MaxSearchM = 1_000_000.0

// CheckPoint answers everything about one position: allowed or not and why,
// which zones contain it, and the distance to the nearest boundary of the
// agency's allowed space. Returns ErrUnknownAgency (wrapped) if the agency
// is not in the Set, ErrBadPosition (wrapped) for a bad position.
func (s *Set) CheckPoint(agencyID string, p Position, at time.Time) (PointResult, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return PointResult{}, err
	}
	if err := checkPos(p); err != nil {
		return PointResult{}, err
	}
	ll := p.orb()
	var res PointResult
	st := s.eval(ag, ll, p.RelAlt, p.AltMSL, at)
	res.Allowed = st.ok
	if !st.ok {
		res.Violation = s.violation(st, p, 0, 0)
	}
	s.each(orb.Bound{Min: ll, Max: ll}, func(i int) bool {
		z := &s.zones[i]
		if z.ActiveAt(at) && z.contains(ll) {
			alt := z.altOf(p.RelAlt, p.AltMSL)
			res.Zones = append(res.Zones, ZoneRef{ID: z.ID, Name: z.Name, Kind: z.Kind, Jurisdiction: z.Jurisdiction, InBand: z.inBand(alt)})
		}
		return true
	})
	sort.Slice(res.Zones, func(a, b int) bool { return res.Zones[a].ID < res.Zones[b].ID })
	d, zi := s.boundary(ag, p, at)
	res.BoundaryM = d
	if zi >= 0 {
		res.BoundaryZoneID = s.zones[zi].ID
	}
	return res, nil
}

// CheckSegment checks the straight leg from a to b (straight in
// longitude/latitude, altitudes interpolated linearly) and returns the
// first violation, nil if the whole leg stays in the agency's allowed space.
// Returns ErrUnknownAgency (wrapped) if the agency is not in the Set,
// ErrBadPosition (wrapped) for a position that is not finite or out of range.
func (s *Set) CheckSegment(agencyID string, a, b Position, at time.Time) (*Violation, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return nil, err
	}
	if err := checkPos(a, b); err != nil {
		return nil, err
	}
	return s.checkLeg(ag, a, b, 0, at), nil
}

// CheckRoute checks each leg of a route in order and returns the first
// violation (its Leg, Fraction and At locate it), nil if the whole route
// stays in the agency's allowed space. A route of one position is checked
// as a point; an empty route has no violation. Returns ErrUnknownAgency (wrapped) if the agency is not in the Set,
// ErrBadPosition (wrapped) for a position that is not finite or out of range.
func (s *Set) CheckRoute(agencyID string, route []Position, at time.Time) (*Violation, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return nil, err
	}
	if err := checkPos(route...); err != nil {
		return nil, err
	}
	if len(route) == 1 {
		st := s.eval(ag, route[0].orb(), route[0].RelAlt, route[0].AltMSL, at)
		if !st.ok {
			return s.violation(st, route[0], 0, 0), nil
		}
	}
	for i := 0; i+1 < len(route); i++ {
		if v := s.checkLeg(ag, route[i], route[i+1], i, at); v != nil {
			return v, nil
		}
	}
	return nil, nil
}

func lerpPos(a, b Position, t float64) Position {
	return Position{
		Lat:    a.Lat + (b.Lat-a.Lat)*t,
		Lon:    a.Lon + (b.Lon-a.Lon)*t,
		RelAlt: a.RelAlt + (b.RelAlt-a.RelAlt)*t,
		AltMSL: a.AltMSL + (b.AltMSL-a.AltMSL)*t,
	}
}

// checkLeg finds every parameter where the leg may change status (zone
// edges, circle crossings, band limits), then tests the start and the middle
// of each interval between them, in order.
func (s *Set) checkLeg(ag *Agency, a, b Position, leg int, at time.Time) *Violation {
	la, lb := a.orb(), b.orb()
	ts := []float64{0, 1}
	va, vb := vec{la[0], la[1]}, vec{lb[0], lb[1]}
	s.each(orb.Bound{Min: la, Max: la}.Extend(lb), func(i int) bool {
		z := &s.zones[i]
		if !z.ActiveAt(at) {
			return true
		}
		if z.Kind == Inclusion && !ag.Authorised(z.Jurisdiction) {
			// Unauthorised zones only name violations; they change no status.
			return true
		}
		if z.IsCircle() {
			ts = circleHits(z.cproj.fwd(la), z.cproj.fwd(lb), z.RadiusM, ts)
		} else {
			for _, r := range z.Polygon {
				for k := 0; k+1 < len(r); k++ {
					if t, _, ok := segIntersect(va, vb, vec{r[k][0], r[k][1]}, vec{r[k+1][0], r[k+1][1]}); ok {
						ts = append(ts, t)
					}
				}
			}
		}
		altA, altB := z.altOf(a.RelAlt, a.AltMSL), z.altOf(b.RelAlt, b.AltMSL)
		if altA != altB && finite(altA) && finite(altB) {
			for _, lim := range [2]float64{z.FloorM, z.Ceiling()} {
				if t := (lim - altA) / (altB - altA); t > 0 && t < 1 {
					ts = append(ts, t)
				}
			}
		}
		return true
	})
	slices.Sort(ts)
	ts = slices.Compact(ts)
	if st := s.eval(ag, la, a.RelAlt, a.AltMSL, at); !st.ok {
		return s.violation(st, a, leg, 0)
	}
	for k := 0; k+1 < len(ts); k++ {
		t0, t1 := ts[k], ts[k+1]
		if t1-t0 < 1e-12 {
			continue
		}
		m := lerpPos(a, b, (t0+t1)/2)
		st := s.eval(ag, m.orb(), m.RelAlt, m.AltMSL, at)
		if st.ok {
			continue
		}
		v := s.violation(st, lerpPos(a, b, t0), leg, t0)
		if st.reason == ReasonOutside && v.ZoneID == "" {
			// Name the zone being left: a usable zone just before.
			prev := lerpPos(a, b, math.Max(0, t0-(t1-t0)/2))
			if zi := s.usableZoneAt(ag, prev, at); zi >= 0 {
				z := &s.zones[zi]
				v.ZoneID, v.ZoneName, v.Jurisdiction = z.ID, z.Name, z.Jurisdiction
			}
		}
		return v
	}
	return nil
}

// usableZoneAt returns the first (by ID) active inclusion zone the agency
// may use that contains p horizontally, or -1.
func (s *Set) usableZoneAt(ag *Agency, p Position, at time.Time) int {
	ll := p.orb()
	best := -1
	s.each(orb.Bound{Min: ll, Max: ll}, func(i int) bool {
		z := &s.zones[i]
		if z.Kind == Inclusion && ag.Authorised(z.Jurisdiction) && z.ActiveAt(at) && z.contains(ll) && (best < 0 || i < best) {
			best = i
		}
		return true
	})
	return best
}
