package geofence

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// The nearest-piece search of the R-tree walks a few nodes and measures the
// pieces of each leaf it reaches, for every position. A drone stays in the
// same few hundred metres for many positions, so each piece set also has a
// grid over the area it answers for, and each cell keeps, once asked, the
// few pieces that can be the nearest to any point of the cell: those whose
// distance to the cell is at most the largest distance from the cell to the
// piece nearest its centre. A query measures only those, as the R-tree's
// leaves are measured, and gets the R-tree's answer (see the property test).
//
// The bounds hold for every projection centred inside the cell: east-west
// metres per degree are taken at the cell's widest (for upper bounds) and
// narrowest (for lower bounds) latitude.

// pieceGridCells bounds a grid's cells; pieceGridCellM is the cell side
// aimed at, metres. pieceGridUses is how many queries a piece set answers
// with its R-tree before it gets a grid (so that sets asked rarely cost no
// grid), and pieceGridBudget bounds the cells of all grids of a cache.
const (
	pieceGridCells  = 1 << 14
	pieceGridCellM  = 100.0
	pieceGridUses   = 32
	pieceGridBudget = 1 << 22
)

// pieceGrid is the lazily filled grid of a pieceSet.
type pieceGrid struct {
	b      orb.Bound // covered lon/lat
	nx, ny int
	dx, dy float64 // cell size, degrees
	cells  []atomic.Pointer[cellPieces]
}

// cellPieces are the pieces that may be nearest to a point of a cell.
type cellPieces struct {
	// lo2 is a lower bound of the squared distance, m², from any point of
	// the cell to any piece (+Inf when there are none).
	lo2 float64
	ids []int32 // sorted
}

// newPieceGrid returns a grid over b (nil when b is empty).
func newPieceGrid(b orb.Bound) *pieceGrid {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	if !(w > 0 && h > 0) {
		return nil
	}
	kx := degToM * math.Cos(math.Min(math.Abs(b.Min[1]), math.Abs(b.Max[1]))*math.Pi/180)
	wm, hm := w*kx, h*degToM
	nx := max(1, int(math.Ceil(wm/pieceGridCellM)))
	ny := max(1, int(math.Ceil(hm/pieceGridCellM)))
	if float64(nx)*float64(ny) > pieceGridCells {
		// Square-ish cells within the budget.
		f := math.Sqrt(float64(nx) * float64(ny) / pieceGridCells)
		nx = max(1, int(float64(nx)/f))
		ny = max(1, int(float64(ny)/f))
		for nx*ny > pieceGridCells {
			if nx > ny {
				nx--
			} else {
				ny--
			}
		}
	}
	return &pieceGrid{b: b, nx: nx, ny: ny, dx: w / float64(nx), dy: h / float64(ny),
		cells: make([]atomic.Pointer[cellPieces], nx*ny)}
}

// cell returns the index of the cell holding (lon, lat), -1 outside.
func (g *pieceGrid) cell(lon, lat float64) int {
	if !(lon >= g.b.Min[0] && lon < g.b.Max[0] && lat >= g.b.Min[1] && lat < g.b.Max[1]) {
		return -1
	}
	i := min(g.nx-1, int((lon-g.b.Min[0])/g.dx))
	j := min(g.ny-1, int((lat-g.b.Min[1])/g.dy))
	return j*g.nx + i
}

// cellBound returns cell c's lon/lat bound.
func (g *pieceGrid) cellBound(c int) orb.Bound {
	i, j := c%g.nx, c/g.nx
	lon0, lat0 := g.b.Min[0]+float64(i)*g.dx, g.b.Min[1]+float64(j)*g.dy
	lon1, lat1 := g.b.Min[0]+float64(i+1)*g.dx, g.b.Min[1]+float64(j+1)*g.dy
	if i == g.nx-1 {
		lon1 = g.b.Max[0]
	}
	if j == g.ny-1 {
		lat1 = g.b.Max[1]
	}
	return orb.Bound{Min: orb.Point{lon0, lat0}, Max: orb.Point{lon1, lat1}}
}

// gridFor returns the piece set's grid, making it on the pieceGridUses-th
// query while the cache's budget allows; nil before.
func (ps *pieceSet) gridFor(c *boundaryCache) *pieceGrid {
	if g := ps.grid.Load(); g != nil {
		return g
	}
	if ps.uses.Add(1) != pieceGridUses || len(ps.pieces) == 0 {
		return nil
	}
	g := newPieceGrid(ps.area)
	if g == nil || c.gridCells.Add(int64(len(g.cells))) > pieceGridBudget {
		return nil
	}
	ps.grid.Store(g)
	return g
}

// candidates returns the pieces that may be nearest to a point of cell c,
// computing them the first time.
func (ps *pieceSet) candidates(g *pieceGrid, c int) *cellPieces {
	if p := g.cells[c].Load(); p != nil {
		return p
	}
	cb := g.cellBound(c)
	// Metres per degree east at the cell's narrowest and widest latitude:
	// any projection centred in the cell measures between the two.
	aLo, aHi := math.Abs(cb.Min[1]), math.Abs(cb.Max[1])
	kxMin := degToM * math.Cos(math.Max(aLo, aHi)*math.Pi/180)
	kxMax := degToM * math.Cos(math.Min(aLo, aHi)*math.Pi/180)
	if cb.Min[1] <= 0 && cb.Max[1] >= 0 {
		kxMax = degToM
	}
	corners := [4]orb.Point{cb.Min, {cb.Max[0], cb.Min[1]}, cb.Max, {cb.Min[0], cb.Max[1]}}
	// An upper bound of the nearest distance anywhere in the cell: the
	// distance to the piece nearest the centre from the farthest corner
	// (distance to a segment is convex, so a box's farthest point is a
	// corner), measured at the widest metric.
	out := &cellPieces{lo2: math.Inf(1)}
	q := nnQuery{pr: newProj(cb.Center()), best2: math.Inf(1), piece: -1, bestD: -1}
	ps.nearestNode(&q, ps.tree.root)
	if q.piece >= 0 {
		pc := &ps.pieces[q.piece]
		upper := 0.0
		for _, k := range corners {
			pr := proj{lon0: k[0], lat0: k[1], kx: kxMax, ky: degToM}
			upper = math.Max(upper, math.Sqrt(segDist2(pr.fwd(pc.a), pr.fwd(pc.b))))
		}
		upper = upper*(1+1e-6) + 1e-6
		// Lower bounds at the narrowest metric, in a frame centred on the
		// cell: the cell is the box [-hx, hx] × [-hy, hy].
		ctr := proj{lon0: cb.Center()[0], lat0: cb.Center()[1], kx: kxMin, ky: degToM}
		hx, hy := (cb.Max[0]-cb.Min[0])/2*kxMin, (cb.Max[1]-cb.Min[1])/2*degToM
		dlon, dlat := upper/kxMin, upper/degToM
		box := orb.Bound{Min: orb.Point{cb.Min[0] - dlon, cb.Min[1] - dlat}, Max: orb.Point{cb.Max[0] + dlon, cb.Max[1] + dlat}}
		ps.tree.search(box, func(i int) bool {
			pc := &ps.pieces[i]
			lo := segBoxDist(ctr.fwd(pc.a), ctr.fwd(pc.b), hx, hy) * (1 - 1e-6)
			if lo <= upper {
				out.ids = append(out.ids, int32(i))
				out.lo2 = math.Min(out.lo2, lo*lo)
			}
			return true
		})
		slices.Sort(out.ids)
	}
	g.cells[c].CompareAndSwap(nil, out)
	return g.cells[c].Load()
}

// segBoxDist returns the distance from segment ab to the box [-hx, hx] ×
// [-hy, hy]: 0 when they meet, else the least of the endpoints' distances
// to the box and the corners' distances to the segment.
func segBoxDist(a, b vec, hx, hy float64) float64 {
	inBox := func(p vec) bool { return math.Abs(p.x) <= hx && math.Abs(p.y) <= hy }
	if inBox(a) || inBox(b) {
		return 0
	}
	c := [4]vec{{-hx, -hy}, {hx, -hy}, {hx, hy}, {-hx, hy}}
	for k := range c {
		if segsTouch(a, b, c[k], c[(k+1)%4]) {
			return 0
		}
	}
	boxDist := func(p vec) float64 {
		dx := math.Max(0, math.Abs(p.x)-hx)
		dy := math.Max(0, math.Abs(p.y)-hy)
		return math.Hypot(dx, dy)
	}
	d := math.Min(boxDist(a), boxDist(b))
	for _, k := range c {
		e, _ := segDist(a, b, k)
		d = math.Min(d, e)
	}
	return d
}
