package geofence

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// Limits bound what validation and import accept. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// MaxBytes is the largest GeoJSON document accepted (optional, default 16 MiB).
	MaxBytes int
	// MaxFeatures is the most features in one document (optional, default 20,000).
	MaxFeatures int
	// MaxVertices is the most vertices in one zone, all rings together, or
	// in one line (optional, default 20,000).
	MaxVertices int
	// MaxProblems is the most problems a ValidationError lists before it
	// stops looking (optional, default 100).
	MaxProblems int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 16 << 20, MaxFeatures: 20_000, MaxVertices: 20_000, MaxProblems: 100}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxFeatures <= 0 {
		l.MaxFeatures = d.MaxFeatures
	}
	if l.MaxVertices <= 0 {
		l.MaxVertices = d.MaxVertices
	}
	if l.MaxProblems <= 0 {
		l.MaxProblems = d.MaxProblems
	}
	return l
}

// Problem is one validation problem, located as precisely as known.
type Problem struct {
	// Feature is the index of the feature in the GeoJSON document, -1 when
	// the input was not GeoJSON or the problem concerns the whole document.
	Feature int
	// ID is the zone, line or agency id, "" when unknown.
	ID string
	// Ring is the polygon ring (0 outer, 1… holes), -1 when not about a ring.
	Ring int
	// Vertex is the vertex index within the ring or line, -1 when not about a vertex.
	Vertex int
	// Field is the property concerned (GeoJSON name, for example "floor_m"),
	// "" when not about a property.
	Field string
	// Message says what is wrong.
	Message string
}

// String returns the problem with its location, for example
// `feature 3 (id "tmp-1"): ring 0 vertex 5: ring is self-intersecting (edge 5 crosses edge 9)`.
func (p Problem) String() string {
	var b strings.Builder
	sep := ""
	if p.Feature >= 0 {
		fmt.Fprintf(&b, "feature %d", p.Feature)
		sep = " "
	}
	if p.ID != "" {
		if p.Feature >= 0 {
			fmt.Fprintf(&b, " (id %s)", quote(p.ID))
		} else {
			fmt.Fprintf(&b, "id %s", quote(p.ID))
		}
		sep = " "
	}
	if p.Ring >= 0 {
		b.WriteString(sep)
		fmt.Fprintf(&b, "ring %d", p.Ring)
		sep = " "
	}
	if p.Vertex >= 0 {
		b.WriteString(sep)
		fmt.Fprintf(&b, "vertex %d", p.Vertex)
		sep = " "
	}
	if p.Field != "" {
		b.WriteString(sep)
		fmt.Fprintf(&b, "%s", p.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in invalid input. Nothing was
// changed. The fleet maps it to its Invalid code.
type ValidationError struct {
	Problems []Problem
}

// Error lists up to five problems.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid geofence data: %d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-5)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

type problems struct {
	list []Problem
	max  int
	full bool
}

func (ps *problems) add(p Problem) {
	if ps.max > 0 && len(ps.list) >= ps.max {
		ps.full = true
		return
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps.list}
}

func quote(s string) string { return strconv.Quote(s) }

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// checkCoord reports the problem with a position, "" if it is fine.
func checkCoord(lon, lat float64) string {
	switch {
	case !finite(lon) || !finite(lat):
		return "coordinate is not a finite number"
	case lon < -180 || lon > 180:
		return fmt.Sprintf("longitude %g out of range [-180, 180]", lon)
	case lat < -90 || lat > 90:
		return fmt.Sprintf("latitude %g out of range [-90, 90]", lat)
	}
	return ""
}

func validateAgency(ps *problems, a *Agency) {
	at := func(field, msg string) {
		ps.add(Problem{Feature: -1, ID: a.ID, Ring: -1, Vertex: -1, Field: field, Message: msg})
	}
	if a.ID == "" {
		at("id", "agency id is missing")
	}
	for _, j := range a.Jurisdictions {
		if !j.Valid() {
			at("jurisdictions", fmt.Sprintf("unknown jurisdiction %s (want US, MX or JOINT)", quote(string(j))))
		}
	}
}

func validateLine(ps *problems, feature int, l *Line, lim Limits) {
	at := func(vertex int, field, msg string) {
		ps.add(Problem{Feature: feature, ID: l.ID, Ring: -1, Vertex: vertex, Field: field, Message: msg})
	}
	if l.ID == "" {
		at(-1, "id", "id is missing")
	}
	if len(l.Path) < 2 {
		at(-1, "", "line has fewer than 2 positions")
	}
	if len(l.Path) > lim.MaxVertices {
		at(-1, "", fmt.Sprintf("line has %d vertices, over the limit of %d", len(l.Path), lim.MaxVertices))
		return
	}
	for i, p := range l.Path {
		if m := checkCoord(p[0], p[1]); m != "" {
			at(i, "", m)
		}
	}
}

// validateZone appends z's problems to ps.
func validateZone(ps *problems, feature int, z *Zone, lim Limits) {
	at := func(ring, vertex int, field, msg string) {
		ps.add(Problem{Feature: feature, ID: z.ID, Ring: ring, Vertex: vertex, Field: field, Message: msg})
	}
	if z.ID == "" {
		at(-1, -1, "id", "id is missing")
	}
	if !z.Kind.Valid() {
		at(-1, -1, "kind", fmt.Sprintf("unknown kind %s (want inclusion or exclusion)", quote(string(z.Kind))))
	}
	if !z.Jurisdiction.Valid() {
		at(-1, -1, "jurisdiction", fmt.Sprintf("unknown jurisdiction %s (want US, MX or JOINT)", quote(string(z.Jurisdiction))))
	}
	if !z.AltRef.Valid() {
		at(-1, -1, "alt_ref", fmt.Sprintf("unknown altitude reference %s (want home or amsl)", quote(string(z.AltRef))))
	}
	altOK := true
	for _, f := range []struct {
		name string
		v    float64
	}{{"floor_m", z.FloorM}, {"ceiling_m", z.CeilingM}} {
		if !finite(f.v) || math.Abs(f.v) > MaxAbsAltitudeM {
			at(-1, -1, f.name, fmt.Sprintf("altitude %g is not a finite number within ±%g m", f.v, MaxAbsAltitudeM))
			altOK = false
		}
	}
	if altOK && z.FloorM > z.Ceiling() {
		at(-1, -1, "floor_m", fmt.Sprintf("floor %g m is above ceiling %g m", z.FloorM, z.Ceiling()))
	}
	if !z.ValidFrom.IsZero() && !z.ValidUntil.IsZero() && !z.ValidFrom.Before(z.ValidUntil) {
		at(-1, -1, "valid_until", "validity window is empty: valid_until is not after valid_from")
	}
	if z.IsCircle() {
		if m := checkCoord(z.Center[0], z.Center[1]); m != "" {
			at(-1, -1, "", "circle centre: "+m)
		}
		if !finite(z.RadiusM) || z.RadiusM <= 0 || z.RadiusM > MaxRadiusM {
			at(-1, -1, "radius_m", fmt.Sprintf("radius %g m must be > 0 and ≤ %g m", z.RadiusM, MaxRadiusM))
		}
		return
	}
	validatePolygon(z, lim, at)
}

func validatePolygon(z *Zone, lim Limits, at func(ring, vertex int, field, msg string)) {
	pg := z.Polygon
	if len(pg) == 0 {
		at(-1, -1, "", "polygon has no rings")
		return
	}
	total := 0
	for _, r := range pg {
		total += len(r)
	}
	if total > lim.MaxVertices {
		at(-1, -1, "", fmt.Sprintf("zone has %d vertices, over the limit of %d", total, lim.MaxVertices))
		return
	}
	ok := true
	for ri, r := range pg {
		bad := false
		for vi, p := range r {
			if m := checkCoord(p[0], p[1]); m != "" {
				at(ri, vi, "", m)
				bad = true
			}
		}
		if bad {
			ok = false
			continue
		}
		if len(r) < 4 {
			at(ri, -1, "", fmt.Sprintf("ring has %d positions; a closed ring needs at least 4", len(r)))
			ok = false
			continue
		}
		if r[0] != r[len(r)-1] {
			at(ri, len(r)-1, "", "ring is not closed: last position differs from the first")
			ok = false
			continue
		}
		distinct := map[[2]float64]bool{}
		for _, p := range r[:len(r)-1] {
			distinct[[2]float64(p)] = true
			if len(distinct) >= 3 {
				break
			}
		}
		if len(distinct) < 3 {
			at(ri, -1, "", fmt.Sprintf("ring has fewer than 3 distinct points (%d)", len(distinct)))
			ok = false
			continue
		}
		if collinear(r) {
			at(ri, -1, "", "ring has zero area")
			ok = false
		}
	}
	if !ok {
		return
	}
	if ri, vi, rj, vj, found := crossing(pg); found {
		if ri == rj {
			at(ri, vi, "", fmt.Sprintf("ring is self-intersecting (edge %d crosses edge %d)", vi, vj))
		} else {
			at(rj, vj, "", fmt.Sprintf("ring %d edge %d crosses ring %d edge %d", rj, vj, ri, vi))
		}
		return
	}
	for ri, r := range pg {
		if math.Abs(ringAreaM2(newProj(r[0]), r)) < 1 {
			at(ri, -1, "", "ring has zero area (under 1 m²)")
			return
		}
	}
	for hi := 1; hi < len(pg); hi++ {
		if !ringContains(pg[0], pg[hi][0]) {
			at(hi, 0, "", "hole lies outside the outer ring")
			continue
		}
		for hj := 1; hj < len(pg); hj++ {
			if hj != hi && ringContains(pg[hj], pg[hi][0]) {
				at(hi, 0, "", fmt.Sprintf("hole lies inside hole %d", hj))
				break
			}
		}
	}
}

type edge struct {
	ring, i    int // ring index, original index of the first vertex
	k, n       int // index among the ring's deduplicated edges, their count
	a, b       vec
	minX, maxX float64
}

// crossing finds two edges of the polygon's rings that touch other than at
// the vertex shared by neighbours: a sweep over x, so rings of thousands of
// vertices are checked quickly in the usual case.
func crossing(pg orb.Polygon) (ri, vi, rj, vj int, found bool) {
	var es []edge
	for r, ring := range pg {
		start := len(es)
		for i := 0; i+1 < len(ring); i++ {
			if ring[i] == ring[i+1] {
				continue
			}
			a := vec{ring[i][0], ring[i][1]}
			b := vec{ring[i+1][0], ring[i+1][1]}
			es = append(es, edge{ring: r, i: i, k: len(es) - start, a: a, b: b,
				minX: math.Min(a.x, b.x), maxX: math.Max(a.x, b.x)})
		}
		for k := start; k < len(es); k++ {
			es[k].n = len(es) - start
		}
	}
	sort.Slice(es, func(x, y int) bool { return es[x].minX < es[y].minX })
	for x := range es {
		e := &es[x]
		for y := x + 1; y < len(es) && es[y].minX <= e.maxX; y++ {
			f := &es[y]
			if math.Max(e.a.y, e.b.y) < math.Min(f.a.y, f.b.y) || math.Max(f.a.y, f.b.y) < math.Min(e.a.y, e.b.y) {
				continue
			}
			if bad(e, f) {
				p, q := e, f
				if p.ring > q.ring || (p.ring == q.ring && p.i > q.i) {
					p, q = q, p
				}
				return p.ring, p.i, q.ring, q.i, true
			}
		}
	}
	return 0, 0, 0, 0, false
}

// bad reports whether two edges meet where they should not.
func bad(e, f *edge) bool {
	if e.ring == f.ring {
		d := e.k - f.k
		if d < 0 {
			d = -d
		}
		adjacent := d == 1 || d == e.n-1
		if adjacent && e.n > 2 {
			// Neighbours share one vertex; they are bad only if they overlap
			// along a line (a spike).
			return collinearOverlap(e, f)
		}
	}
	return segsTouch(e.a, e.b, f.a, f.b)
}

func collinearOverlap(e, f *edge) bool {
	if orient(e.a, e.b, f.a) != 0 || orient(e.a, e.b, f.b) != 0 {
		return false
	}
	// collinear: they overlap beyond the shared vertex if either's far end
	// lies strictly inside the other.
	in := func(a, b, p vec) bool { return onSeg(a, b, p) && p != a && p != b }
	return in(e.a, e.b, f.a) || in(e.a, e.b, f.b) || in(f.a, f.b, e.a) || in(f.a, f.b, e.b)
}

// collinear reports whether every vertex of r lies on one line.
func collinear(r orb.Ring) bool {
	a := vec{r[0][0], r[0][1]}
	var b vec
	found := false
	for _, p := range r[1:] {
		if q := (vec{p[0], p[1]}); q != a {
			b, found = q, true
			break
		}
	}
	if !found {
		return true
	}
	for _, p := range r {
		if orient(a, b, vec{p[0], p[1]}) != 0 {
			return false
		}
	}
	return true
}
