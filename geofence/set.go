package geofence

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
)

// Sentinel errors.
var (
	// ErrUnknownAgency is returned when a query names an agency the Set does
	// not hold (the fleet maps it to NotFound).
	ErrUnknownAgency = errors.New("unknown agency")
	// ErrUnknownZone is returned when an operation names a zone the Set does
	// not hold (the fleet maps it to NotFound).
	ErrUnknownZone = errors.New("unknown zone")
	// ErrBadPosition is returned when a query position has a latitude or
	// longitude that is not finite or out of range, or a non-finite RelAlt
	// (the fleet maps it to Invalid).
	ErrBadPosition = errors.New("position is not a valid WGS84 point")
)

// checkPos returns ErrBadPosition (wrapped) if p cannot be queried.
func checkPos(ps ...Position) error {
	for _, p := range ps {
		if m := checkCoord(p.Lon, p.Lat); m != "" || !finite(p.RelAlt) {
			return fmt.Errorf("%w: lat %g lon %g rel_alt %g", ErrBadPosition, p.Lat, p.Lon, p.RelAlt)
		}
	}
	return nil
}

// zone is a validated Zone with what queries need precomputed.
type zone struct {
	Zone
	b      orb.Bound // lon/lat bound
	areaM2 float64
	cproj  proj        // projection centred on a circle's centre
	shape  orb.Polygon // the polygon, or the circle as a polygon within 1 m
	pidx   polyIndex   // the polygon's rings by latitude band (ring_index.go)
}

func compileZone(z Zone) zone {
	c := zone{Zone: z}
	if z.IsCircle() {
		c.cproj = newProj(z.Center)
		c.b = degBox(z.Center, z.RadiusM*1.001+1)
		c.areaM2 = math.Pi * z.RadiusM * z.RadiusM
		c.shape = orb.Polygon{circleRing(z.Center, z.RadiusM, circleSides(z.RadiusM))}
		return c
	}
	c.b = z.Polygon.Bound()
	c.shape = z.Polygon
	c.pidx = newPolyIndex(z.Polygon)
	pr := newProj(c.b.Center())
	for i, r := range z.Polygon {
		a := math.Abs(ringAreaM2(pr, r))
		if i > 0 {
			a = -a
		}
		c.areaM2 += a
	}
	return c
}

// contains reports whether the zone's horizontal shape contains p.
func (z *zone) contains(p orb.Point) bool {
	if !z.b.Contains(p) {
		return false
	}
	if z.IsCircle() {
		return z.cproj.fwd(p).norm() <= z.RadiusM
	}
	return z.pidx.contains(p)
}

// Set is an immutable collection of zones, agencies and reference lines with
// a spatial index. All its methods are safe for concurrent use; changing a
// Set means building a new one (With, Without, WithAgency, Store).
type Set struct {
	zones    []zone // sorted by ID
	byID     map[string]int
	agencies []Agency // sorted by ID
	agByID   map[string]int
	lines    []Line
	tree     rtree
	grid     *zoneGrid // the zones by cell, for small queries (zone_grid.go)
	// cells cuts grid's cells into fine cells that answer a position's
	// queries (zone_cells.go).
	cells  *zoneCells
	linear bool // scan every zone instead of using tree (benchmarks)
	// bcache holds the boundary pieces by candidate zones (nil: always
	// scan); scanBoundary makes boundary scan and turns off every other
	// shortcut of the breach watch (the fine cells, the skipped look-ahead):
	// the reference of the property tests and benchmarks.
	bcache       *boundaryCache
	scanBoundary bool
}

// NewSet validates zones, agencies and lines and builds a Set. A zero
// CeilingM is kept as it is (it means DefaultCeilingM). Invalid input
// returns a *ValidationError listing every problem found (Feature -1).
func NewSet(zones []Zone, agencies []Agency, lines []Line) (*Set, error) {
	return newSet(zones, agencies, lines, DefaultLimits())
}

func newSet(zones []Zone, agencies []Agency, lines []Line, lim Limits) (*Set, error) {
	lim = lim.withDefaults()
	var probs problems
	probs.max = lim.MaxProblems
	seen := make(map[string]bool, len(zones))
	for i := range zones {
		z := &zones[i]
		validateZone(&probs, -1, z, lim)
		if z.ID != "" && seen[z.ID] {
			probs.add(Problem{Feature: -1, ID: z.ID, Ring: -1, Vertex: -1, Field: "id", Message: "duplicate zone id"})
		}
		seen[z.ID] = true
	}
	seenA := make(map[string]bool, len(agencies))
	for i := range agencies {
		a := &agencies[i]
		validateAgency(&probs, a)
		if a.ID != "" && seenA[a.ID] {
			probs.add(Problem{Feature: -1, ID: a.ID, Ring: -1, Vertex: -1, Field: "id", Message: "duplicate agency id"})
		}
		seenA[a.ID] = true
	}
	seenL := make(map[string]bool, len(lines))
	for i := range lines {
		l := &lines[i]
		validateLine(&probs, -1, l, lim)
		if l.ID != "" && seenL[l.ID] {
			probs.add(Problem{Feature: -1, ID: l.ID, Ring: -1, Vertex: -1, Field: "id", Message: "duplicate line id"})
		}
		seenL[l.ID] = true
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return build(zones, agencies, lines), nil
}

// build makes a Set from validated data, copying it.
func build(zones []Zone, agencies []Agency, lines []Line) *Set {
	s := &Set{
		zones:    make([]zone, len(zones)),
		byID:     make(map[string]int, len(zones)),
		agencies: make([]Agency, len(agencies)),
		agByID:   make(map[string]int, len(agencies)),
		lines:    make([]Line, len(lines)),
		bcache:   newBoundaryCache(),
	}
	for i, z := range zones {
		s.zones[i] = compileZone(z.clone())
	}
	slices.SortFunc(s.zones, func(a, b zone) int { return cmp.Compare(a.ID, b.ID) })
	bounds := make([]orb.Bound, len(s.zones))
	for i := range s.zones {
		s.byID[s.zones[i].ID] = i
		bounds[i] = s.zones[i].b
	}
	s.tree = buildRTree(bounds)
	s.grid = newZoneGrid(bounds, &s.tree)
	s.cells = newZoneCells(s.grid)
	for i, a := range agencies {
		a.Jurisdictions = slices.Clone(a.Jurisdictions)
		s.agencies[i] = a
	}
	slices.SortFunc(s.agencies, func(a, b Agency) int { return cmp.Compare(a.ID, b.ID) })
	for i := range s.agencies {
		s.agByID[s.agencies[i].ID] = i
	}
	for i, l := range lines {
		l.Path = slices.Clone(l.Path)
		s.lines[i] = l
	}
	slices.SortFunc(s.lines, func(a, b Line) int { return cmp.Compare(a.ID, b.ID) })
	return s
}

// Len returns the number of zones.
func (s *Set) Len() int { return len(s.zones) }

// Zones returns a copy of every zone, sorted by ID.
func (s *Set) Zones() []Zone {
	out := make([]Zone, len(s.zones))
	for i := range s.zones {
		out[i] = s.zones[i].Zone.clone()
	}
	return out
}

// Zone returns the zone with the given ID.
func (s *Set) Zone(id string) (Zone, bool) {
	i, ok := s.byID[id]
	if !ok {
		return Zone{}, false
	}
	return s.zones[i].Zone.clone(), true
}

// Agencies returns a copy of every agency, sorted by ID.
func (s *Set) Agencies() []Agency {
	out := make([]Agency, len(s.agencies))
	for i, a := range s.agencies {
		a.Jurisdictions = slices.Clone(a.Jurisdictions)
		out[i] = a
	}
	return out
}

// Agency returns the agency with the given ID.
func (s *Set) Agency(id string) (Agency, bool) {
	i, ok := s.agByID[id]
	if !ok {
		return Agency{}, false
	}
	a := s.agencies[i]
	a.Jurisdictions = slices.Clone(a.Jurisdictions)
	return a, true
}

// Lines returns a copy of every reference line, sorted by ID.
func (s *Set) Lines() []Line {
	out := make([]Line, len(s.lines))
	for i, l := range s.lines {
		l.Path = slices.Clone(l.Path)
		out[i] = l
	}
	return out
}

// Line returns the reference line with the given ID.
func (s *Set) Line(id string) (Line, bool) {
	for _, l := range s.lines {
		if l.ID == id {
			l.Path = slices.Clone(l.Path)
			return l, true
		}
	}
	return Line{}, false
}

// upsertZones returns all with zones added, each replacing the zone of the
// same ID in place.
func upsertZones(all, zones []Zone) []Zone {
	idx := make(map[string]int, len(all))
	for i, z := range all {
		idx[z.ID] = i
	}
	for _, z := range zones {
		if i, ok := idx[z.ID]; ok {
			all[i] = z
			continue
		}
		idx[z.ID] = len(all)
		all = append(all, z)
	}
	return all
}

// With returns a new Set with zones added, replacing zones of the same ID.
// It returns a *ValidationError if a zone is invalid; s is never changed.
func (s *Set) With(zones ...Zone) (*Set, error) {
	all := upsertZones(s.Zones(), zones)
	return NewSet(all, s.Agencies(), s.Lines())
}

// Without returns a new Set without the zones of the given IDs. It returns
// ErrUnknownZone (wrapped) if an ID is not in s.
func (s *Set) Without(ids ...string) (*Set, error) {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, ok := s.byID[id]; !ok {
			return nil, &zoneError{id: id}
		}
		drop[id] = true
	}
	var keep []Zone
	for _, z := range s.Zones() {
		if !drop[z.ID] {
			keep = append(keep, z)
		}
	}
	return build(keep, s.agencies, s.lines), nil
}

// WithAgency returns a new Set with agency a added or replaced.
func (s *Set) WithAgency(a Agency) (*Set, error) {
	all := s.Agencies()
	i := slices.IndexFunc(all, func(x Agency) bool { return x.ID == a.ID })
	if i >= 0 {
		all[i] = a
	} else {
		all = append(all, a)
	}
	var probs problems
	validateAgency(&probs, &a)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return build(s.Zones(), all, s.lines), nil
}

type zoneError struct{ id string }

func (e *zoneError) Error() string { return "zone " + quote(e.id) + ": " + ErrUnknownZone.Error() }
func (e *zoneError) Unwrap() error { return ErrUnknownZone }

// agency returns the agency or ErrUnknownAgency (wrapped).
func (s *Set) agency(id string) (*Agency, error) {
	i, ok := s.agByID[id]
	if !ok {
		return nil, &agencyError{id: id}
	}
	return &s.agencies[i], nil
}

type agencyError struct{ id string }

func (e *agencyError) Error() string {
	return "agency " + quote(e.id) + ": " + ErrUnknownAgency.Error()
}
func (e *agencyError) Unwrap() error { return ErrUnknownAgency }

// each calls fn with the index of every zone whose bound intersects b.
func (s *Set) each(b orb.Bound, fn func(i int) bool) {
	if s.linear {
		for i := range s.zones {
			if s.zones[i].b.Intersects(b) && !fn(i) {
				return
			}
		}
		return
	}
	if s.grid != nil {
		if c, ok := s.grid.cellOf(&b); ok {
			if c < 0 {
				return
			}
			for _, i := range s.grid.cell(c) {
				if meets(&s.zones[i].b, &b) && !fn(int(i)) {
					return
				}
			}
			return
		}
	}
	s.tree.search(b, fn)
}

// meeting appends to out the zones whose bound meets b, sorted, without
// repeats: from the grid's cells when b spans few, else from the tree.
func (s *Set) meeting(b orb.Bound, out []int) []int {
	g := s.grid
	if s.linear || g == nil {
		n := len(out)
		s.each(b, func(i int) bool { out = append(out, i); return true })
		slices.Sort(out[n:])
		return out
	}
	if b.Max[0] < g.b.Min[0] || b.Min[0] > g.b.Max[0] || b.Max[1] < g.b.Min[1] || b.Min[1] > g.b.Max[1] {
		return out
	}
	near, ok := g.nearBlock(&b)
	if !ok {
		n := len(out)
		s.tree.search(b, func(i int) bool { out = append(out, i); return true })
		slices.Sort(out[n:])
		return out
	}
	for _, z := range near {
		if meets(&s.zones[z].b, &b) {
			out = append(out, int(z))
		}
	}
	return out
}

// Store holds the current Set and swaps it atomically on every change
// (copy-on-write): readers take a Snapshot without locking and keep a
// consistent view for as long as they hold it. Writers are serialised.
// The zero Store holds an empty Set and uses time.Now.
type Store struct {
	// Now returns the current time for validity windows (optional; default
	// time.Now). Set it before first use.
	Now func() time.Time

	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[Set]
}

// NewStore returns a Store holding s (an empty Set when s is nil).
func NewStore(s *Set) *Store {
	st := &Store{}
	if s != nil {
		st.cur.Store(s)
	}
	return st
}

var emptySet = build(nil, nil, nil)

// Snapshot returns the current Set. It never blocks.
func (st *Store) Snapshot() *Set {
	if s := st.cur.Load(); s != nil {
		return s
	}
	return emptySet
}

// Time returns the Store's current time (Now, or time.Now).
func (st *Store) Time() time.Time {
	if st.Now != nil {
		return st.Now()
	}
	return time.Now()
}

// Update replaces the current Set with fn's result, atomically with respect
// to other writers. If fn returns an error nothing changes.
func (st *Store) Update(fn func(cur *Set) (*Set, error)) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	next, err := fn(st.Snapshot())
	if err != nil {
		return err
	}
	st.cur.Store(next)
	return nil
}

// Replace makes s the current Set.
func (st *Store) Replace(s *Set) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cur.Store(s)
}

// PutZone adds or replaces a zone. Returns a *ValidationError if it is invalid.
func (st *Store) PutZone(z Zone) error {
	return st.Update(func(cur *Set) (*Set, error) { return cur.With(z) })
}

// DeleteZone removes a zone. Returns ErrUnknownZone (wrapped) if absent.
func (st *Store) DeleteZone(id string) error {
	return st.Update(func(cur *Set) (*Set, error) { return cur.Without(id) })
}

// PutAgency adds or replaces an agency. Returns a *ValidationError if it is invalid.
func (st *Store) PutAgency(a Agency) error {
	return st.Update(func(cur *Set) (*Set, error) { return cur.WithAgency(a) })
}

// ImportGeoJSON parses data (see ParseGeoJSON) and, if it is valid, adds
// its zones and lines to the current Set (replacing those of the same IDs),
// or, with replace, makes them the only zones and lines (agencies are kept).
// Invalid input changes nothing and returns a *ValidationError.
func (st *Store) ImportGeoJSON(data []byte, lim Limits, replace bool) error {
	zones, lines, err := ParseGeoJSON(data, lim)
	if err != nil {
		return err
	}
	return st.Update(func(cur *Set) (*Set, error) {
		if replace {
			return newSet(zones, cur.Agencies(), lines, lim)
		}
		return cur.merge(zones, lines, lim)
	})
}

func (s *Set) merge(zones []Zone, lines []Line, lim Limits) (*Set, error) {
	all := upsertZones(s.Zones(), zones)
	ls := s.Lines()
	for _, l := range lines {
		i := slices.IndexFunc(ls, func(x Line) bool { return x.ID == l.ID })
		if i >= 0 {
			ls[i] = l
		} else {
			ls = append(ls, l)
		}
	}
	return newSet(all, s.Agencies(), ls, lim)
}
