package geofence

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// FenceShape is one fence a vehicle can hold: an inclusion or exclusion
// polygon (MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION/EXCLUSION, one mission
// item per vertex) or circle (MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION/EXCLUSION,
// one item).
type FenceShape struct {
	// Kind is Inclusion (stay inside) or Exclusion (stay outside).
	Kind Kind
	// Polygon lists the vertices in order, not repeating the first; nil for
	// a circle.
	Polygon []LatLon
	// Center and RadiusM describe a circle.
	Center  LatLon
	RadiusM float64
	// ZoneID is the zone the shape comes from.
	ZoneID string
}

// IsCircle reports whether the shape is a circle.
func (f *FenceShape) IsCircle() bool { return f.Polygon == nil }

// Items returns how many fence mission items the shape takes.
func (f *FenceShape) Items() int {
	if f.IsCircle() {
		return 1
	}
	return len(f.Polygon)
}

// FenceLimits bounds what Fences produces. Zero fields take the defaults.
type FenceLimits struct {
	// MaxPolygonVertices is the most vertices of one polygon (optional,
	// default 64); bigger polygons are simplified.
	MaxPolygonVertices int
	// MaxItems is the most fence items in all (optional, default 100,
	// which fits ArduPilot's fence storage on small boards).
	MaxItems int
	// UnionInclusions sends every usable inclusion zone near the point, for
	// a vehicle that treats inclusion fences as a union: ArduPilot with
	// FENCE_OPTIONS bit 1 (value 2, "union of inclusion areas") set;
	// ArduCopter 4.7 has the parameter (INT16, default 0). By default only
	// the one zone containing the point is sent, because ArduPilot otherwise
	// requires the vehicle to be inside every inclusion fence.
	UnionInclusions bool
}

func (l FenceLimits) withDefaults() FenceLimits {
	if l.MaxPolygonVertices <= 0 {
		l.MaxPolygonVertices = 64
	}
	if l.MaxPolygonVertices < 3 {
		l.MaxPolygonVertices = 3
	}
	if l.MaxItems <= 0 {
		l.MaxItems = 100
	}
	return l
}

// FenceNote reports something about the allowed space that the fences do
// not express exactly.
type FenceNote struct {
	// ZoneID is the zone concerned, "" for the plan as a whole.
	ZoneID string
	// Message says what was changed or left out.
	Message string
}

// FencePlan is what a vehicle should hold for a drone near a point.
type FencePlan struct {
	// Shapes are the fences: inclusions first, then exclusions nearest first.
	Shapes []FenceShape
	// AltMaxM is the lowest ceiling above home of the inclusion zones sent,
	// for the vehicle's altitude fence (ArduPilot FENCE_ALT_MAX); NaN when
	// none applies.
	AltMaxM float64
	// Notes lists what could not be expressed exactly.
	Notes []FenceNote
}

// Items returns the total number of fence items of the plan.
func (p *FencePlan) Items() int {
	n := 0
	for i := range p.Shapes {
		n += p.Shapes[i].Items()
	}
	return n
}

// Fences converts the agency's allowed space within radiusM metres of near
// into fences a vehicle can hold, within lim, reporting what it could not
// express: altitude bands (only AltMaxM is given), validity windows, holes of
// inclusion zones (sent as exclusion polygons), holes of exclusion zones
// (dropped: the whole outer ring is excluded), polygons over the vertex limit
// (simplified), zones over the item budget (dropped, farthest exclusions
// first), and inclusion zones other than the one containing near (see
// FenceLimits.UnionInclusions). Returns ErrUnknownAgency (wrapped) if the
// agency is not in the Set, ErrBadPosition (wrapped) for a bad position.
func (s *Set) Fences(agencyID string, near Position, radiusM float64, at time.Time, lim FenceLimits) (FencePlan, error) {
	ag, err := s.agency(agencyID)
	if err != nil {
		return FencePlan{}, err
	}
	if err := checkPos(near); err != nil {
		return FencePlan{}, err
	}
	lim = lim.withDefaults()
	plan := FencePlan{AltMaxM: math.NaN()}
	note := func(id, format string, args ...any) {
		plan.Notes = append(plan.Notes, FenceNote{ZoneID: id, Message: fmt.Sprintf(format, args...)})
	}
	ll := near.orb()
	pr := newProj(ll)
	var incl, excl []int
	s.each(degBox(ll, radiusM), func(i int) bool {
		z := &s.zones[i]
		if !z.ActiveAt(at) {
			return true
		}
		if z.Kind == Exclusion {
			excl = append(excl, i)
		} else if ag.Authorised(z.Jurisdiction) {
			incl = append(incl, i)
		}
		return true
	})
	sort.Ints(incl)
	if !lim.UnionInclusions && len(incl) > 0 {
		best := -1
		for _, i := range incl {
			if s.zones[i].contains(ll) && (best < 0 || s.zones[i].areaM2 > s.zones[best].areaM2) {
				best = i
			}
		}
		for _, i := range incl {
			if i != best {
				note(s.zones[i].ID, "inclusion zone not sent: the vehicle requires being inside every inclusion fence, so only the zone containing the drone is sent")
			}
		}
		incl = incl[:0]
		if best >= 0 {
			incl = append(incl, best)
		}
	}
	if len(incl) == 0 {
		note("", "no usable inclusion zone contains the position: no inclusion fence sent")
	}
	if lim.UnionInclusions && len(incl) > 1 {
		note("", "several inclusion fences: the vehicle must treat them as a union (ArduPilot FENCE_OPTIONS bit 2)")
	}
	dist := func(i int) float64 {
		z := &s.zones[i]
		if z.contains(ll) {
			return 0
		}
		if z.IsCircle() {
			return pr.fwd(z.Center).norm() - z.RadiusM
		}
		best := math.Inf(1)
		for _, r := range z.Polygon {
			for k := 0; k+1 < len(r); k++ {
				d, _ := segDist(pr.fwd(r[k]), pr.fwd(r[k+1]), vec{})
				best = math.Min(best, d)
			}
		}
		return best
	}
	sort.SliceStable(excl, func(a, b int) bool { return dist(excl[a]) < dist(excl[b]) })

	budget := lim.MaxItems
	add := func(z *zone, sh []FenceShape) bool {
		n := 0
		for i := range sh {
			n += sh[i].Items()
		}
		if n > budget {
			note(z.ID, "zone not sent: %d fence items over the remaining budget of %d", n, budget)
			return false
		}
		budget -= n
		plan.Shapes = append(plan.Shapes, sh...)
		return true
	}
	for _, i := range incl {
		z := &s.zones[i]
		if !add(z, s.zoneShapes(z, lim, note)) {
			continue
		}
		if z.Ref() == AltAMSL {
			note(z.ID, "altitude band is AMSL (%g–%g m): not expressed on the vehicle", z.FloorM, z.Ceiling())
		} else {
			if math.IsNaN(plan.AltMaxM) || z.Ceiling() < plan.AltMaxM {
				plan.AltMaxM = z.Ceiling()
			}
			if z.FloorM > 0 {
				note(z.ID, "floor %g m above home not expressed (the vehicle's minimum-altitude fence is left to the operator)", z.FloorM)
			}
		}
		s.windowNote(z, note)
	}
	for _, i := range excl {
		z := &s.zones[i]
		if !add(z, s.zoneShapes(z, lim, note)) {
			continue
		}
		if z.FloorM > 0 || (!math.IsNaN(plan.AltMaxM) && z.Ceiling() < plan.AltMaxM) {
			note(z.ID, "exclusion applies only from %g to %g m (%s) but the vehicle excludes every altitude", z.FloorM, z.Ceiling(), z.Ref())
		}
		s.windowNote(z, note)
	}
	return plan, nil
}

func (s *Set) windowNote(z *zone, note func(id, format string, args ...any)) {
	if !z.ValidUntil.IsZero() {
		note(z.ID, "zone expires at %s: the vehicle keeps the fence until the next upload", z.ValidUntil.UTC().Format(time.RFC3339))
	}
}

// zoneShapes converts one zone to fence shapes.
func (s *Set) zoneShapes(z *zone, lim FenceLimits, note func(id, format string, args ...any)) []FenceShape {
	if z.IsCircle() {
		return []FenceShape{{Kind: z.Kind, Center: LatLon{Lat: z.Center[1], Lon: z.Center[0]}, RadiusM: z.RadiusM, ZoneID: z.ID}}
	}
	out := []FenceShape{{Kind: z.Kind, Polygon: s.fenceRing(z, z.Polygon[0], lim, note), ZoneID: z.ID}}
	for hi, h := range z.Polygon[1:] {
		if z.Kind == Exclusion {
			note(z.ID, "hole %d dropped: the vehicle cannot hold a hole in an exclusion, so all of the outer ring is excluded", hi+1)
			continue
		}
		out = append(out, FenceShape{Kind: Exclusion, Polygon: s.fenceRing(z, h, lim, note), ZoneID: z.ID})
		note(z.ID, "hole %d sent as an exclusion polygon", hi+1)
	}
	return out
}

// fenceRing returns the ring's vertices (open), simplified to the vertex
// limit if needed.
func (s *Set) fenceRing(z *zone, r orb.Ring, lim FenceLimits, note func(id, format string, args ...any)) []LatLon {
	open := r[:len(r)-1]
	var pts []orb.Point
	for i, p := range open {
		if i == 0 || p != open[i-1] {
			pts = append(pts, p)
		}
	}
	if len(pts) > lim.MaxPolygonVertices {
		n0 := len(pts)
		for tol := 10.0; ; tol *= 1.5 {
			simp := simplifyRing(pts, tol)
			if len(simp) <= lim.MaxPolygonVertices {
				note(z.ID, "polygon simplified from %d to %d vertices (tolerance %.0f m): the fence may differ from the zone by that much", n0, len(simp), tol)
				pts = simp
				break
			}
		}
	}
	out := make([]LatLon, len(pts))
	for i, p := range pts {
		out[i] = LatLon{Lat: p[1], Lon: p[0]}
	}
	return out
}

// simplifyRing runs Douglas–Peucker (tolerance in metres) on an open ring,
// keeping its first vertex and the vertex farthest from it, so at least 3
// vertices remain when the ring has them.
func simplifyRing(pts []orb.Point, tol float64) []orb.Point {
	if len(pts) <= 3 {
		return pts
	}
	pr := newProj(pts[0])
	v := make([]vec, len(pts)+1)
	for i, p := range pts {
		v[i] = pr.fwd(p)
	}
	v[len(pts)] = v[0]
	far, fk := -1.0, 1
	for i := 1; i < len(pts); i++ {
		if d := v[i].dist(v[0]); d > far {
			far, fk = d, i
		}
	}
	keep := make([]bool, len(v))
	keep[0], keep[fk], keep[len(pts)] = true, true, true
	var rec func(i, j int)
	rec = func(i, j int) {
		best, bk := -1.0, -1
		for k := i + 1; k < j; k++ {
			if d, _ := segDist(v[i], v[j], v[k]); d > best {
				best, bk = d, k
			}
		}
		if bk >= 0 && best > tol {
			keep[bk] = true
			rec(i, bk)
			rec(bk, j)
		}
	}
	rec(0, fk)
	rec(fk, len(pts))
	var out []orb.Point
	for i := 0; i < len(pts); i++ {
		if keep[i] {
			out = append(out, pts[i])
		}
	}
	if len(out) < 3 {
		// keep a third vertex: the one farthest from the chord
		best, bk := -1.0, -1
		for k := 1; k < len(pts); k++ {
			if k == fk {
				continue
			}
			if d, _ := segDist(v[0], v[fk], v[k]); d > best {
				best, bk = d, k
			}
		}
		keep[bk] = true
		out = out[:0]
		for i := 0; i < len(pts); i++ {
			if keep[i] {
				out = append(out, pts[i])
			}
		}
	}
	return out
}
