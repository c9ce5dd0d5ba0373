package geofence

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// zoneGrid is a uniform grid over a Set's zones: each cell lists the zones
// whose bound meets it, in the order the R-tree's search yields them, so a
// point query (each with a point, every position of every drone, several
// times) reads one short list instead of walking the tree, and gets the
// same zones in the same order.
type zoneGrid struct {
	b      orb.Bound
	nx, ny int
	dx, dy float64
	start  []int32 // cell c's zones are items[start[c]:start[c+1]]
	items  []int32
	// nearStart and near list, sorted and without repeats, the zones of
	// each cell's block of 3×3 cells (for box queries: Set.meeting).
	nearStart []int32
	near      []int32
}

// zoneGridCells bounds a grid's cells; zoneGridEntries bounds its entries
// (a grid that would hold more, of many large overlapping zones, is made
// coarser).
const (
	zoneGridCells   = 1 << 16
	zoneGridEntries = 1 << 21
)

// newZoneGrid builds the grid of zones with bounds zb indexed by t (nil
// when there are no zones).
func newZoneGrid(zb []orb.Bound, t *rtree) *zoneGrid {
	if len(zb) == 0 || t.root < 0 {
		return nil
	}
	// The R-tree's order: a depth-first walk of its leaves.
	var order []int32
	var walk func(n int)
	walk = func(n int) {
		nd := &t.nodes[n]
		if nd.leaf {
			order = append(order, nd.children...)
			return
		}
		for _, c := range nd.children {
			walk(int(c))
		}
	}
	walk(t.root)
	b := zb[0]
	for _, x := range zb[1:] {
		b = b.Union(x)
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	// Square cells in metres, at the bound's middle latitude.
	kx := math.Max(math.Cos(b.Center()[1]*math.Pi/180), 1e-6)
	side := math.Sqrt(math.Max(w*kx*h, 1e-18) / zoneGridCells) // degrees of latitude
	nx := max(1, min(zoneGridCells, int(math.Ceil(w*kx/side))))
	ny := max(1, min(zoneGridCells/nx, int(math.Ceil(h/side))))
	for {
		g := &zoneGrid{b: b, nx: nx, ny: ny, dx: w / float64(nx), dy: h / float64(ny)}
		if g.fill(zb, order) && g.fillNear() {
			return g
		}
		if nx == 1 && ny == 1 {
			return nil
		}
		nx, ny = max(1, nx/2), max(1, ny/2)
	}
}

// fill lists the zones of every cell, false past zoneGridEntries.
func (g *zoneGrid) fill(zb []orb.Bound, order []int32) bool {
	count := make([]int32, g.nx*g.ny+1)
	total := 0
	for _, z := range order {
		i0, j0, _ := g.index(zb[z].Min)
		i1, j1, _ := g.index(zb[z].Max)
		total += (i1 - i0 + 1) * (j1 - j0 + 1)
		if total > zoneGridEntries {
			return false
		}
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				count[j*g.nx+i+1]++
			}
		}
	}
	for c := 1; c < len(count); c++ {
		count[c] += count[c-1]
	}
	g.start = slices.Clone(count)
	g.items = make([]int32, total)
	for _, z := range order {
		i0, j0, _ := g.index(zb[z].Min)
		i1, j1, _ := g.index(zb[z].Max)
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				c := j*g.nx + i
				g.items[count[c]] = z
				count[c]++
			}
		}
	}
	return true
}

// fillNear lists the zones of every cell's 3×3 block, false past
// zoneGridEntries.
func (g *zoneGrid) fillNear() bool {
	g.nearStart = make([]int32, 1, g.nx*g.ny+1)
	var block []int32
	for j := range g.ny {
		for i := range g.nx {
			block = block[:0]
			for jj := max(0, j-1); jj <= min(g.ny-1, j+1); jj++ {
				for ii := max(0, i-1); ii <= min(g.nx-1, i+1); ii++ {
					block = append(block, g.cell(jj*g.nx+ii)...)
				}
			}
			slices.Sort(block)
			block = slices.Compact(block)
			if len(g.near)+len(block) > zoneGridEntries {
				return false
			}
			g.near = append(g.near, block...)
			g.nearStart = append(g.nearStart, int32(len(g.near)))
		}
	}
	return true
}

// nearBlock returns the zones of a 3×3 block of cells holding all of q,
// sorted, ok false when q spans more.
func (g *zoneGrid) nearBlock(q *orb.Bound) ([]int32, bool) {
	i0, j0, _ := g.index(q.Min)
	i1, j1, _ := g.index(q.Max)
	if i1-i0 > 2 || j1-j0 > 2 {
		return nil, false
	}
	ci, cj := min(i0+1, g.nx-1), min(j0+1, g.ny-1)
	c := cj*g.nx + ci
	return g.near[g.nearStart[c]:g.nearStart[c+1]], true
}

// index returns the cell column and row of p, clamped to the grid, and
// whether p lies in the grid's bound (edges included). It is monotonic in
// each coordinate, so a point in a bound has indexes within the bound's.
func (g *zoneGrid) index(p orb.Point) (int, int, bool) {
	in := p[0] >= g.b.Min[0] && p[0] <= g.b.Max[0] && p[1] >= g.b.Min[1] && p[1] <= g.b.Max[1]
	i := max(0, min(g.nx-1, int((p[0]-g.b.Min[0])/g.dx)))
	j := max(0, min(g.ny-1, int((p[1]-g.b.Min[1])/g.dy)))
	if !(g.dx > 0) {
		i = 0
	}
	if !(g.dy > 0) {
		j = 0
	}
	return i, j, in
}

// cellOf returns the cell holding all of q, ok false when q spans cells;
// cell -1 (ok true) when q lies wholly outside the grid, where no zone is.
func (g *zoneGrid) cellOf(q *orb.Bound) (int, bool) {
	if q.Max[0] < g.b.Min[0] || q.Min[0] > g.b.Max[0] || q.Max[1] < g.b.Min[1] || q.Min[1] > g.b.Max[1] {
		return -1, true
	}
	i0, j0, _ := g.index(q.Min)
	i1, j1, _ := g.index(q.Max)
	if i0 != i1 || j0 != j1 {
		return 0, false
	}
	return j0*g.nx + i0, true
}

// cell returns the zones listed in cell c.
func (g *zoneGrid) cell(c int) []int32 { return g.items[g.start[c]:g.start[c+1]] }
