package geofence

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// The breach watch asks, for every position, which zones contain it and
// which zones' bounds meet the boundary search's boxes around it (2 km, then
// 8 km). Both answers are the same for every point of a small cell, except
// near a zone's edge (for containment) or where a zone's bound is about the
// search radius away (for the boxes). So each cell of the zone grid is cut,
// the first time a position falls in it, into zoneCellSub × zoneCellSub
// fine cells (about 300 m at the border), and each fine cell keeps, once
// asked:
//   - the zones of its grid cell whose shape meets it, in the grid cell's
//     order, each marked when its shape holds the whole fine cell: a point
//     then needs the point-in-zone test only for the others;
//   - for each search radius, the zones whose bound meets the search box
//     around every point of the fine cell, when no zone's bound meets the
//     box around only some of them: the box query's answer, sorted; and
//     the piece set (boundary_index.go) last used there.
//
// Every test is decided on the fine cell grown by cellEps degrees (a point
// can fall on either side of a cell edge by a rounding), with margins, and
// is conservative: when in doubt a zone is tested point by point, or the box
// query runs as before. The answers are the plain queries' (see the
// property tests).

// zoneCellSub is how many fine cells a zone grid cell is cut into along each
// side; zoneCellBlocks bounds the grid cells cut, per Set.
const (
	zoneCellSub    = 16
	zoneCellBlocks = 1024
	// cellEps grows a fine cell on every side, degrees (about 1 cm).
	cellEps = 1e-7
)

// cellRadii are the boundary search radii (Set.boundary's first two boxes)
// whose box queries the fine cells answer.
var cellRadii = [2]float64{2000, 8000}

// zoneCells is the lazily cut zone grid of a Set.
type zoneCells struct {
	blocks []atomic.Pointer[cellBlock] // by zone grid cell
	made   atomic.Int32
}

// cellBlock is one zone grid cell's fine cells.
type cellBlock struct {
	cells [zoneCellSub * zoneCellSub]atomic.Pointer[fineCell]
}

// fineCell is what a fine cell knows (see above).
type fineCell struct {
	in   []cellZone
	near [len(cellRadii)]nearZones
	// ps is, for each search radius, the piece set a query from the cell
	// last used, so that the next one need not look it up.
	ps [len(cellRadii)]atomic.Pointer[pieceSet]
}

// cellZone is a zone whose shape meets a fine cell; all when it holds the
// whole cell.
type cellZone struct {
	zone int32
	all  bool
}

// nearZones are the zones whose bound meets the search box around every
// point of a fine cell, sorted; ok false when some zone's bound meets the
// box around only some points (then the box query must run).
type nearZones struct {
	zones []int32
	ok    bool
}

func newZoneCells(g *zoneGrid) *zoneCells {
	if g == nil {
		return nil
	}
	return &zoneCells{blocks: make([]atomic.Pointer[cellBlock], g.nx*g.ny)}
}

// fineCell returns the fine cell holding ll, making it the first time; nil
// when ll is outside the zone grid, the Set has no grid, or the budget of
// cut grid cells is spent (then the plain queries answer).
func (s *Set) fineCell(ll orb.Point) *fineCell {
	g, zc := s.grid, s.cells
	if zc == nil || s.linear || s.scanBoundary {
		return nil
	}
	if !(ll[0] >= g.b.Min[0] && ll[0] <= g.b.Max[0] && ll[1] >= g.b.Min[1] && ll[1] <= g.b.Max[1]) {
		return nil
	}
	i, j, _ := g.index(ll)
	si, sj := 0, 0
	if g.dx > 0 {
		si = max(0, min(zoneCellSub-1, int(((ll[0]-g.b.Min[0])/g.dx-float64(i))*zoneCellSub)))
	}
	if g.dy > 0 {
		sj = max(0, min(zoneCellSub-1, int(((ll[1]-g.b.Min[1])/g.dy-float64(j))*zoneCellSub)))
	}
	c := j*g.nx + i
	blk := zc.blocks[c].Load()
	if blk == nil {
		if zc.made.Load() >= zoneCellBlocks {
			return nil
		}
		if zc.blocks[c].CompareAndSwap(nil, &cellBlock{}) {
			zc.made.Add(1)
		}
		blk = zc.blocks[c].Load()
	}
	k := sj*zoneCellSub + si
	if fc := blk.cells[k].Load(); fc != nil {
		return fc
	}
	// The fine cell's bound, grown by cellEps: ll lies in it.
	x0 := g.b.Min[0] + (float64(i)+float64(si)/zoneCellSub)*g.dx
	y0 := g.b.Min[1] + (float64(j)+float64(sj)/zoneCellSub)*g.dy
	x1 := g.b.Min[0] + (float64(i)+float64(si+1)/zoneCellSub)*g.dx
	y1 := g.b.Min[1] + (float64(j)+float64(sj+1)/zoneCellSub)*g.dy
	b := orb.Bound{Min: orb.Point{math.Min(x0, ll[0]) - cellEps, math.Min(y0, ll[1]) - cellEps},
		Max: orb.Point{math.Max(x1, ll[0]) + cellEps, math.Max(y1, ll[1]) + cellEps}}
	fc := s.makeFineCell(c, b)
	blk.cells[k].CompareAndSwap(nil, fc)
	return blk.cells[k].Load()
}

// makeFineCell classifies the zones for the fine cell of bound b in zone
// grid cell c.
func (s *Set) makeFineCell(c int, b orb.Bound) *fineCell {
	fc := &fineCell{}
	for _, z := range s.grid.cell(c) {
		switch s.zones[z].shapeOver(b) {
		case shapeAll:
			fc.in = append(fc.in, cellZone{zone: z, all: true})
		case shapeSome:
			fc.in = append(fc.in, cellZone{zone: z})
		}
	}
	// Latitude degrees and the extremes of longitude degrees of the search
	// boxes around the cell's points (degBox).
	cl0, cl1 := math.Cos(b.Min[1]*math.Pi/180), math.Cos(b.Max[1]*math.Pi/180)
	cmin, cmax := math.Max(math.Min(cl0, cl1), 1e-6), math.Max(math.Max(cl0, cl1), 1e-6)
	if b.Min[1] <= 0 && b.Max[1] >= 0 {
		cmax = 1
	}
	for k, R := range cellRadii {
		dlat := R / degToM
		dlonMin, dlonMax := R/(degToM*cmax), R/(degToM*cmin)
		// A margin for the rounding of degBox and of these bounds.
		e := cellEps + 1e-9*(dlonMax+math.Abs(b.Max[0])+math.Abs(b.Max[1]))
		outer := orb.Bound{Min: orb.Point{b.Min[0] - dlonMax - e, b.Min[1] - dlat - e},
			Max: orb.Point{b.Max[0] + dlonMax + e, b.Max[1] + dlat + e}}
		nz := nearZones{ok: true}
		s.tree.search(outer, func(i int) bool {
			zb := &s.zones[i].b
			every := zb.Max[0] >= b.Max[0]-dlonMin+e && zb.Min[0] <= b.Min[0]+dlonMin-e &&
				zb.Max[1] >= b.Max[1]-dlat+e && zb.Min[1] <= b.Min[1]+dlat-e
			none := zb.Max[0] < outer.Min[0] || zb.Min[0] > outer.Max[0] || zb.Max[1] < outer.Min[1] || zb.Min[1] > outer.Max[1]
			switch {
			case every:
				nz.zones = append(nz.zones, int32(i))
			case !none:
				nz.ok = false
				return false
			}
			return true
		})
		if nz.ok {
			slices.Sort(nz.zones)
		} else {
			nz.zones = nil
		}
		fc.near[k] = nz
	}
	return fc
}

// How a zone's shape meets a bound.
const (
	shapeNone = iota // holds no point of it
	shapeSome        // may hold some: test each point
	shapeAll         // holds every point of it
)

// shapeOver says whether zone.contains is false everywhere in b, true
// everywhere, or may be either.
func (z *zone) shapeOver(b orb.Bound) int {
	if !meets(&z.b, &b) {
		return shapeNone
	}
	inBound := z.b.Contains(b.Min) && z.b.Contains(b.Max)
	if z.IsCircle() {
		// In the circle's projection b is a box; the distance from the
		// centre is convex, so largest at a corner.
		lo, hi := z.cproj.fwd(b.Min), z.cproj.fwd(b.Max)
		far := math.Hypot(math.Max(math.Abs(lo.x), math.Abs(hi.x)), math.Max(math.Abs(lo.y), math.Abs(hi.y)))
		nx := math.Max(0, math.Max(lo.x, -hi.x))
		ny := math.Max(0, math.Max(lo.y, -hi.y))
		near := math.Hypot(nx, ny)
		tol := 1e-6 * math.Max(1, z.RadiusM)
		switch {
		case near > z.RadiusM+tol:
			return shapeNone
		case inBound && far < z.RadiusM-tol:
			return shapeAll
		}
		return shapeSome
	}
	for _, r := range z.shape {
		for k := 0; k+1 < len(r); k++ {
			if segMeetsBound(r[k], r[k+1], b) {
				return shapeSome
			}
		}
	}
	// No edge comes near b: the polygon holds all of b or none of it.
	if !z.pidx.contains(b.Center()) {
		return shapeNone
	}
	if inBound {
		return shapeAll
	}
	return shapeSome
}

// segMeetsBound reports whether segment ab may meet b grown by cellEps:
// true when it does, and for some segments that come within about cellEps.
func segMeetsBound(a, c orb.Point, b orb.Bound) bool {
	g := orb.Bound{Min: orb.Point{b.Min[0] - cellEps, b.Min[1] - cellEps}, Max: orb.Point{b.Max[0] + cellEps, b.Max[1] + cellEps}}
	sb := orb.Bound{Min: a, Max: a}.Extend(c)
	if !meets(&sb, &g) {
		return false
	}
	dx, dy := c[0]-a[0], c[1]-a[1]
	if math.Abs(dx)+math.Abs(dy) < 1e-6 {
		return true // too short to tell a side of it
	}
	pos, neg := false, false
	for _, k := range [4]orb.Point{g.Min, {g.Max[0], g.Min[1]}, g.Max, {g.Min[0], g.Max[1]}} {
		s := dx*(k[1]-a[1]) - dy*(k[0]-a[0])
		if s >= 0 {
			pos = true
		}
		if s <= 0 {
			neg = true
		}
	}
	return pos && neg
}
