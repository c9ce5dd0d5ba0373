package geofence

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
)

// The nearest boundary of the allowed space (Set.boundary) is asked for
// every position of every drone. Which edge pieces make up that boundary
// depends only on the zones that matter around the position (the candidate
// zones: active, in band at the drone's altitude, of an authorised
// jurisdiction or an exclusion), and drones fly for hours among the same
// few zones. So the pieces are computed once per set of candidate zones, as
// in the scan (split every edge where others cross it, keep the pieces with
// the allowed status differing half a metre to either side), kept in lon/lat
// in an R-tree, and each query is a nearest-piece search in that tree.
//
// The local projection is affine in lon/lat, so a piece's split parameters
// do not depend on where the projection is centred: the indexed answer is
// the scan's, up to floating-point rounding (see the property test).

// boundaryCacheMax and boundaryCachePieces bound the piece sets kept per
// Set and the pieces in them; past either, the cache starts again.
const (
	boundaryCacheMax    = 4096
	boundaryCachePieces = 1 << 20
)

// boundaryCache holds the piece sets of a Set by candidate zones.
type boundaryCache struct {
	seed uint64
	mu   sync.RWMutex
	m    map[uint64]*pieceSet
	n    int // pieces in m
	// gridCells counts the cells of the grids of the piece sets in m.
	gridCells atomic.Int64
	// gen changes whenever a piece set leaves m (the cache starts again,
	// or a hash collision replaces one): a piece set remembered elsewhere
	// (fineCell.ps) is m's only while its gen is the cache's.
	gen atomic.Uint64
	// seen holds the keys asked for once: pieces are built on the second
	// ask, so that a Set queried all over (never twice in one place) does
	// not pay for building pieces it will not use again.
	seen map[uint64]struct{}
}

func newBoundaryCache() *boundaryCache {
	return &boundaryCache{seed: rand.Uint64(), m: make(map[uint64]*pieceSet), seen: make(map[uint64]struct{})}
}

// bpiece is one piece of the allowed space's boundary, in lon/lat.
type bpiece struct {
	a, b orb.Point
	zone int
}

// pieceSet is the boundary made by one set of candidate zones.
type pieceSet struct {
	cand   []int
	pieces []bpiece
	tree   rtree
	// area is where queries with these candidates come from; grid, once
	// made, answers them there (boundary_grid.go).
	area orb.Bound
	uses atomic.Int32
	gen  uint64 // the cache's gen when it was put in m
	grid atomic.Pointer[pieceGrid]
}

// boundaryCand returns the zones that matter for the boundary at p within
// box, sorted (as the scan picks them).
func (s *Set) boundaryCand(ag *Agency, p Position, at time.Time, box orb.Bound, cand []int) []int {
	n := len(cand)
	cand = s.meeting(box, cand)
	out := cand[:n]
	for _, i := range cand[n:] {
		if s.boundaryZone(ag, p, at, i) {
			out = append(out, i)
		}
	}
	return out
}

// boundaryZone reports whether zone i, active at at, matters for the
// boundary at p's altitude: an exclusion in whose band p is, or an
// inclusion of an authorised jurisdiction in whose band p is.
func (s *Set) boundaryZone(ag *Agency, p Position, at time.Time, i int) bool {
	z := &s.zones[i]
	if !z.ActiveAt(at) {
		return false
	}
	alt := z.altOf(p.RelAlt, p.AltMSL)
	if z.Kind == Exclusion {
		return !(alt < z.FloorM || alt > z.Ceiling())
	}
	return ag.Authorised(z.Jurisdiction) && z.inBand(alt)
}

// boundary returns the horizontal distance from p to the nearest boundary
// of the agency's allowed space at p's altitude, and the zone owning that
// boundary (-1 when none lies within MaxSearchM). See boundaryScan for the
// definition; this is the same answer from cached, indexed pieces.
func (s *Set) boundary(ag *Agency, p Position, at time.Time) (float64, int) {
	return s.boundaryIn(ag, p, at, s.fineCell(p.orb()))
}

// boundaryIn is boundary with the fine cell holding p (nil: none), whose
// lists of zones near stand for the first search boxes' queries.
func (s *Set) boundaryIn(ag *Agency, p Position, at time.Time, fc *fineCell) (float64, int) {
	if s.bcache == nil || s.scanBoundary {
		return s.boundaryScan(ag, p, at)
	}
	ll := p.orb()
	pr := newProj(ll)
	var buf [16]int
	for k, R := 0, 2000.0; ; k, R = k+1, R*4 {
		R = math.Min(R, MaxSearchM)
		var cand []int
		if fc != nil && k < len(cellRadii) && cellRadii[k] == R && fc.near[k].ok {
			cand = buf[:0]
			for _, i := range fc.near[k].zones {
				if s.boundaryZone(ag, p, at, int(i)) {
					cand = append(cand, int(i))
				}
			}
		} else {
			cand = s.boundaryCand(ag, p, at, degBox(ll, R), buf[:0])
		}
		if k == 0 && !s.anyInclusion(cand) && !s.anyUsableInclusion(ag, p, at) {
			// No usable inclusion zone anywhere (a drone above every
			// ceiling, say): nothing is allowed, so no status changes
			// anywhere; the search would grow its box to MaxSearchM and
			// answer the same.
			return math.Inf(1), -1
		}
		var ps *pieceSet
		if fc != nil && k < len(fc.ps) {
			// The piece set last used in this fine cell, if it is still
			// the cache's for these candidates.
			if m := fc.ps[k].Load(); m != nil && m.gen == s.bcache.gen.Load() && slices.Equal(m.cand, cand) {
				ps = m
			} else if ps = s.pieceSetFor(cand, pr); ps != nil {
				fc.ps[k].Store(ps)
			}
		} else {
			ps = s.pieceSetFor(cand, pr)
		}
		if ps == nil {
			return s.boundaryScan(ag, p, at)
		}
		best, bestZ := ps.nearest(pr, R, ps.gridFor(s.bcache))
		if best <= R {
			return best, bestZ
		}
		if R >= MaxSearchM {
			if !s.anyInclusion(cand) {
				// No usable inclusion zone within MaxSearchM (a drone
				// above every ceiling, say): nothing is allowed, so no
				// status changes anywhere, as the scan would find after
				// intersecting every edge of the exclusions around.
				return math.Inf(1), -1
			}
			// The scan only looks at edges within MaxSearchM: let it
			// answer this far-away case exactly.
			return s.boundaryScan(ag, p, at)
		}
	}
}

// anyInclusion reports whether cand holds an inclusion zone.
func (s *Set) anyInclusion(cand []int) bool {
	for _, i := range cand {
		if s.zones[i].Kind == Inclusion {
			return true
		}
	}
	return false
}

// anyUsableInclusion reports whether any inclusion zone of the Set matters
// for the boundary at p (boundaryZone).
func (s *Set) anyUsableInclusion(ag *Agency, p Position, at time.Time) bool {
	for i := range s.zones {
		if s.zones[i].Kind == Inclusion && s.boundaryZone(ag, p, at, i) {
			return true
		}
	}
	return false
}

// pieceSetFor returns the cached pieces of cand, building them the second
// time they are asked for; nil the first time.
func (s *Set) pieceSetFor(cand []int, pr proj) *pieceSet {
	c := s.bcache
	// A seeded multiply-xorshift hash of the indexes: cheaper than a
	// maphash.Hash written 8 bytes at a time, and a collision only costs
	// a rebuild (the entry's cand is compared).
	key := c.seed
	for _, i := range cand {
		key = (key ^ uint64(i)) * 0x9e3779b97f4a7c15
		key ^= key >> 29
	}
	c.mu.RLock()
	ps := c.m[key]
	c.mu.RUnlock()
	if ps != nil && slices.Equal(ps.cand, cand) {
		return ps
	}
	c.mu.Lock()
	if _, ok := c.seen[key]; !ok {
		if len(c.seen) >= boundaryCacheMax*4 {
			clear(c.seen)
		}
		c.seen[key] = struct{}{}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	ps = s.buildPieces(slices.Clone(cand), pr)
	c.mu.Lock()
	if len(c.m) >= boundaryCacheMax || c.n+len(ps.pieces) > boundaryCachePieces {
		clear(c.m)
		c.n = 0
		c.gridCells.Store(0)
		c.gen.Add(1)
	}
	if old := c.m[key]; old != nil {
		c.n -= len(old.pieces)
		c.gen.Add(1)
	}
	ps.gen = c.gen.Load()
	c.m[key] = ps
	c.n += len(ps.pieces)
	c.mu.Unlock()
	return ps
}

// buildPieces computes the boundary pieces of the candidate zones, as
// boundaryScan does for the edges it looks at, but for every edge.
func (s *Set) buildPieces(cand []int, pr proj) *pieceSet {
	type edge struct {
		bedge
		la, lb orb.Point
	}
	var es []edge
	for _, i := range cand {
		for _, r := range s.zones[i].shape {
			for k := 0; k+1 < len(r); k++ {
				a, b := pr.fwd(r[k]), pr.fwd(r[k+1])
				if a == b {
					continue
				}
				es = append(es, edge{bedge: bedge{a: a, b: b, zone: i,
					minX: math.Min(a.x, b.x), maxX: math.Max(a.x, b.x),
					minY: math.Min(a.y, b.y), maxY: math.Max(a.y, b.y)}, la: r[k], lb: r[k+1]})
			}
		}
	}
	allowed := func(q vec) bool {
		ql := pr.inv(q)
		in := false
		for _, i := range cand {
			z := &s.zones[i]
			if !z.b.Contains(ql) || !polygonContains(z.shape, ql) {
				continue
			}
			if z.Kind == Exclusion {
				return false
			}
			in = true
		}
		return in
	}
	ps := &pieceSet{cand: cand}
	var ts []float64
	for ei := range es {
		e := &es[ei]
		ts = append(ts[:0], 0, 1)
		for fi := range es {
			f := &es[fi]
			if fi == ei || f.maxX < e.minX || f.minX > e.maxX || f.maxY < e.minY || f.minY > e.maxY {
				continue
			}
			if t, _, ok := segIntersect(e.a, e.b, f.a, f.b); ok {
				ts = append(ts, t)
			}
		}
		sort.Float64s(ts)
		dir := e.b.sub(e.a)
		l := dir.norm()
		n := vec{-dir.y / l, dir.x / l}.scale(0.5)
		for k := 0; k+1 < len(ts); k++ {
			t0, t1 := ts[k], ts[k+1]
			if (t1-t0)*l < 1e-3 {
				continue
			}
			m := lerpVec(lerpVec(e.a, e.b, t0), lerpVec(e.a, e.b, t1), 0.5)
			if allowed(m.add(n)) != allowed(m.sub(n)) {
				ps.pieces = append(ps.pieces, bpiece{a: lerpPoint(e.la, e.lb, t0), b: lerpPoint(e.la, e.lb, t1), zone: e.zone})
			}
		}
	}
	bounds := make([]orb.Bound, len(ps.pieces))
	for i, pc := range ps.pieces {
		bounds[i] = orb.Bound{Min: pc.a, Max: pc.a}.Extend(pc.b)
	}
	ps.tree = buildRTree(bounds)
	if len(ps.pieces) > 0 {
		// The grid covers where queries with these candidates come from:
		// within the first search box (2 km) of the zones' bounds.
		var zb orb.Bound
		for k, i := range cand {
			if k == 0 {
				zb = s.zones[i].b
			} else {
				zb = zb.Union(s.zones[i].b)
			}
		}
		lo, hi := degBox(zb.Min, 2500), degBox(zb.Max, 2500)
		ps.area = orb.Bound{Min: lo.Min, Max: hi.Max}
	}
	return ps
}

func lerpPoint(a, b orb.Point, t float64) orb.Point {
	return orb.Point{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
}

// nearest returns the distance from pr's centre to the nearest piece
// within limit metres and its zone (+Inf, -1 when there is none). Equal
// distances go to the lower zone index. The search compares squared
// distances, pruning everything beyond limit, and measures the winner as
// the scan does.
func (ps *pieceSet) nearest(pr proj, limit float64, g *pieceGrid) (float64, int) {
	q := nnQuery{pr: pr, best2: limit * limit * slack, piece: -1, bestD: -1}
	if c := gridCell(g, pr); c >= 0 {
		cp := ps.candidates(g, c)
		if cp.lo2 > q.best2 {
			return math.Inf(1), -1 // every piece is beyond limit
		}
		for _, i := range cp.ids {
			ps.consider(&q, i)
		}
	} else if ps.tree.root >= 0 {
		ps.nearestNode(&q, ps.tree.root)
	}
	if q.piece < 0 {
		return math.Inf(1), -1
	}
	pc := &ps.pieces[q.piece]
	d := q.bestD
	if d < 0 {
		d, _ = segDist(pr.fwd(pc.a), pr.fwd(pc.b), vec{})
	}
	if d > limit {
		return math.Inf(1), -1
	}
	return d, pc.zone
}

type nnQuery struct {
	pr    proj
	best2 float64
	piece int
	// bestD is the exact distance to piece once a tie measured it, -1
	// before.
	bestD float64
}

// boxDist2 is the squared distance from pr's centre to a lon/lat bound, in
// square metres.
func boxDist2(pr proj, b orb.Bound) float64 {
	var dx, dy float64
	if v := (b.Min[0] - pr.lon0) * pr.kx; v > 0 {
		dx = v
	} else if v := (pr.lon0 - b.Max[0]) * pr.kx; v > 0 {
		dx = v
	}
	if v := (b.Min[1] - pr.lat0) * pr.ky; v > 0 {
		dy = v
	} else if v := (pr.lat0 - b.Max[1]) * pr.ky; v > 0 {
		dy = v
	}
	return dx*dx + dy*dy
}

// segDist2 is the squared distance from the origin to segment ab.
func segDist2(a, b vec) float64 {
	d := b.sub(a)
	l2 := d.dot(d)
	// Clamped with comparisons rather than math.Min and math.Max (not
	// inlined): t is never NaN here and a signed zero changes nothing.
	t := 0.0
	if l2 > 0 {
		t = -a.dot(d) / l2
		if t < 0 {
			t = 0
		} else if t > 1 {
			t = 1
		}
	}
	p := lerpVec(a, b, t)
	return p.dot(p)
}

// slack keeps pieces whose squared distance ties the best within rounding.
const slack = 1 + 1e-9

// gridCell returns the cell of g holding pr's centre, -1 when there is no grid
// or the centre is outside it.
func gridCell(g *pieceGrid, pr proj) int {
	if g == nil {
		return -1
	}
	return g.cell(pr.lon0, pr.lat0)
}

// consider measures piece c and keeps it in q if it is the nearest so far.
func (ps *pieceSet) consider(q *nnQuery, c int32) {
	pc := &ps.pieces[c]
	d2 := segDist2(q.pr.fwd(pc.a), q.pr.fwd(pc.b))
	switch {
	case d2 < q.best2/slack || (q.piece < 0 && d2 <= q.best2):
		q.best2, q.piece, q.bestD = d2, int(c), -1
	case q.piece >= 0 && d2 <= q.best2*slack:
		// A tie within rounding: decide on the exact distances.
		bp := &ps.pieces[q.piece]
		db := q.bestD
		if db < 0 {
			db, _ = segDist(q.pr.fwd(bp.a), q.pr.fwd(bp.b), vec{})
			q.bestD = db
		}
		dc, _ := segDist(q.pr.fwd(pc.a), q.pr.fwd(pc.b), vec{})
		if dc < db || (dc == db && pc.zone < bp.zone) {
			q.best2, q.piece, q.bestD = math.Min(d2, q.best2), int(c), dc
		}
	}
}

func (ps *pieceSet) nearestNode(q *nnQuery, n int) {
	nd := &ps.tree.nodes[n]
	if nd.leaf {
		for _, c := range nd.children {
			if boxDist2(q.pr, ps.tree.items[c]) > q.best2*slack {
				continue
			}
			ps.consider(q, c)
		}
		return
	}
	// Children nearest first, so that far ones are pruned.
	var order [rtreeFan]struct {
		d float64
		c int32
	}
	k := 0
	for _, c := range nd.children {
		order[k].d, order[k].c = boxDist2(q.pr, ps.tree.nodes[c].b), c
		for j := k; j > 0 && order[j].d < order[j-1].d; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
		k++
	}
	for _, o := range order[:k] {
		if o.d > q.best2*slack {
			break
		}
		ps.nearestNode(q, int(o.c))
	}
}
