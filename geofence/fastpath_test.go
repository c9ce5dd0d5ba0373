package geofence

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// The fast paths of the breach check (ring_index.go, zone_grid.go,
// boundary_grid.go) promise the straightforward computation's answer
// exactly. These property tests compare them on many random points, and on
// the points where a shortcut goes wrong first: on vertices, on edges, at a
// vertex's latitude (the crossing rule's degenerate case), on cell and band
// edges.

// trickyPoints returns points on and around the rings of pg: every vertex,
// points on every edge, at vertex latitudes, just off the edges, and random
// points in and around its bound.
func trickyPoints(rng *rand.Rand, pg orb.Polygon, n int) []orb.Point {
	var out []orb.Point
	b := pg.Bound()
	for _, r := range pg {
		for k := 0; k+1 < len(r); k++ {
			a, c := r[k], r[k+1]
			out = append(out, a,
				lerpPoint(a, c, 0.5), lerpPoint(a, c, rng.Float64()),
				orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), a[1]}, // at the vertex's latitude
				orb.Point{a[0] - 1e-9, a[1]}, orb.Point{a[0] + 1e-9, a[1]},
				orb.Point{a[0], a[1] + 1e-12}, orb.Point{math.Nextafter(a[0], 0), a[1]})
		}
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	for range n {
		out = append(out, orb.Point{b.Min[0] - w/4 + rng.Float64()*w*1.5, b.Min[1] - h/4 + rng.Float64()*h*1.5})
	}
	return out
}

// randomPolygon returns a star-shaped polygon around c with a hole, some
// edges axis-aligned and some vertices sharing latitudes.
func randomPolygon(rng *rand.Rand, c orb.Point) orb.Polygon {
	n := 5 + rng.IntN(60)
	var outer, hole orb.Ring
	for k := range n {
		a := 2 * math.Pi * float64(k) / float64(n)
		r := 0.05 + rng.Float64()*0.1
		p := orb.Point{c[0] + r*math.Cos(a), c[1] + r*math.Sin(a)}
		if k > 0 && rng.IntN(4) == 0 {
			p[1] = outer[k-1][1] // a horizontal edge
		}
		outer = append(outer, p)
		hole = append(hole, orb.Point{c[0] + 0.02*math.Cos(-a), c[1] + 0.02*math.Sin(-a)})
	}
	outer = append(outer, outer[0])
	hole = append(hole, hole[0])
	return orb.Polygon{outer, hole}
}

// refRingContains, refOnRing and refPolygonContains are the point-in-ring
// tests written out, as geom.go had them before onEdge and crossesEast: the
// reference both geom.go's and the ring index's tests are checked against.
func refRingContains(r orb.Ring, p orb.Point) bool {
	in := false
	n := len(r)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r[i], r[j]
		if a == b {
			continue
		}
		if (p[0]-a[0])*(b[1]-a[1])-(p[1]-a[1])*(b[0]-a[0]) == 0 &&
			math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
			math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1]) {
			return true
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in
}

func refOnRing(r orb.Ring, p orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if (p[0]-a[0])*(b[1]-a[1])-(p[1]-a[1])*(b[0]-a[0]) == 0 &&
			math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
			math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1]) {
			return true
		}
	}
	return false
}

func refPolygonContains(pg orb.Polygon, p orb.Point) bool {
	if len(pg) == 0 || !refRingContains(pg[0], p) {
		return false
	}
	for _, h := range pg[1:] {
		if refRingContains(h, p) && !refOnRing(h, p) {
			return false
		}
	}
	return true
}

func TestRingIndexMatchesPolygonContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var polys []orb.Polygon
	for _, z := range MustDefault(t).zones {
		polys = append(polys, z.shape) // circles too, as their polygons
	}
	for range 200 {
		polys = append(polys, randomPolygon(rng, orb.Point{-110 + rng.Float64()*10, 27 + rng.Float64()*5}))
	}
	in, out := 0, 0
	for pi, pg := range polys {
		px := newPolyIndex(pg)
		for _, p := range trickyPoints(rng, pg, 300) {
			want := refPolygonContains(pg, p)
			if got := px.contains(p); got != want {
				t.Fatalf("polygon %d point %v: indexed %v, reference %v", pi, p, got, want)
			}
			if got := polygonContains(pg, p); got != want {
				t.Fatalf("polygon %d point %v: polygonContains %v, reference %v", pi, p, got, want)
			}
			for ri, r := range pg {
				want := refOnRing(r, p)
				if got := px[ri].onRing(p); got != want {
					t.Fatalf("polygon %d ring %d point %v: indexed onRing %v, reference %v", pi, ri, p, got, want)
				}
				if got := onRing(r, p); got != want {
					t.Fatalf("polygon %d ring %d point %v: onRing %v, reference %v", pi, ri, p, got, want)
				}
				if got, want := ringContains(r, p), refRingContains(r, p); got != want {
					t.Fatalf("polygon %d ring %d point %v: ringContains %v, reference %v", pi, ri, p, got, want)
				}
			}
			if want {
				in++
			} else {
				out++
			}
		}
	}
	if in < 1000 || out < 1000 {
		t.Fatalf("%d points in, %d out: the test does not discriminate", in, out)
	}
}

// TestZoneGridMatchesTree checks each (the grid for points and boxes in
// one cell) and meeting against the R-tree's search.
func TestZoneGridMatchesTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for name, s := range map[string]*Set{"bundled": MustDefault(t), "synthetic": syntheticSet(t, 300)} {
		if s.grid == nil {
			t.Fatalf("%s: no grid", name)
		}
		var pts []orb.Point
		for k := range min(len(s.zones), 40) {
			i := k * len(s.zones) / min(len(s.zones), 40)
			pts = append(pts, trickyPoints(rng, s.zones[i].shape, 5)...)
			b := s.zones[i].b
			pts = append(pts, b.Min, b.Max, orb.Point{b.Min[0], b.Max[1]})
		}
		if raceEnabled || testing.Short() {
			rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
			pts = pts[:min(len(pts), 1500)]
		}
		g := s.grid
		for range 1000 { // on cell edges
			i, j := rng.IntN(g.nx+1), rng.IntN(g.ny+1)
			pts = append(pts, orb.Point{g.b.Min[0] + float64(i)*g.dx, g.b.Min[1] + float64(j)*g.dy})
		}
		nonEmpty := 0
		for _, p := range pts {
			for _, m := range []float64{0, 50, 2000, 8000, 40000} {
				b := orb.Bound{Min: p, Max: p}
				if m > 0 {
					b = degBox(p, m)
				}
				var want, got []int
				s.tree.search(b, func(i int) bool { want = append(want, i); return true })
				s.each(b, func(i int) bool { got = append(got, i); return true })
				if !slices.Equal(got, want) {
					t.Fatalf("%s each %v: grid %v, tree %v", name, b, got, want)
				}
				slices.Sort(want)
				if got := s.meeting(b, nil); !slices.Equal(got, want) {
					t.Fatalf("%s meeting %v: %v, tree %v", name, b, got, want)
				}
				if len(want) > 0 {
					nonEmpty++
				}
			}
		}
		if nonEmpty < len(pts) {
			t.Fatalf("%s: %d of %d queries found zones: the test does not discriminate", name, nonEmpty, 5*len(pts))
		}
	}
}

// TestPieceGridMatchesTree checks the nearest piece from the grid's cell
// candidates against the R-tree's nearest-piece search and a scan of every
// piece, for every piece set the bundled zones make around the corridors,
// at points on pieces, at their ends, on cell edges and at random.
func TestPieceGridMatchesTree(t *testing.T) {
	s := MustDefault(t)
	rng := rand.New(rand.NewPCG(25, 26))
	n := 500
	if testing.Short() || raceEnabled {
		n = 100
	}
	sets := map[*pieceSet]bool{}
	for _, ag := range s.agencies {
		for _, p := range corridorPoints(200, 9) {
			for _, alt := range []float64{0, 50, 130} {
				p.RelAlt = alt
				ll := p.orb()
				for R := 2000.0; R <= 32000; R *= 4 {
					cand := s.boundaryCand(&ag, p, t0, degBox(ll, R), nil)
					ps := s.pieceSetFor(cand, newProj(ll))
					if ps == nil {
						ps = s.pieceSetFor(cand, newProj(ll))
					}
					sets[ps] = true
				}
			}
		}
	}
	gridded := 0
	for ps := range sets {
		g := newPieceGrid(ps.area)
		if g == nil || len(ps.pieces) == 0 {
			continue
		}
		gridded++
		var pts []orb.Point
		for _, pc := range ps.pieces {
			pts = append(pts, pc.a, pc.b, lerpPoint(pc.a, pc.b, rng.Float64()))
		}
		for range n {
			pts = append(pts, orb.Point{ps.area.Min[0] + rng.Float64()*(ps.area.Max[0]-ps.area.Min[0]),
				ps.area.Min[1] + rng.Float64()*(ps.area.Max[1]-ps.area.Min[1])})
		}
		for range n / 10 {
			i, j := rng.IntN(g.nx), rng.IntN(g.ny)
			pts = append(pts, orb.Point{g.b.Min[0] + float64(i)*g.dx, g.b.Min[1] + float64(j)*g.dy})
		}
		for _, p := range pts {
			pr := newProj(p)
			// The straightforward reference: every piece.
			all := math.Inf(1)
			for _, pc := range ps.pieces {
				if d, _ := segDist(pr.fwd(pc.a), pr.fwd(pc.b), vec{}); d < all {
					all = d
				}
			}
			for _, limit := range []float64{2000, 8000, MaxSearchM} {
				d1, z1 := ps.nearest(pr, limit, g)
				d2, z2 := ps.nearest(pr, limit, nil)
				d3 := all
				if d3 > limit {
					d3 = math.Inf(1)
				}
				if d1 != d2 || (z1 != z2 && !coincident(ps, pr, d1, z1, z2)) {
					t.Fatalf("point %v limit %g: grid %.12f m (zone %d), tree %.12f m (zone %d)", p, limit, d1, z1, d2, z2)
				}
				if !(d1 == d3 || math.Abs(d1-d3) <= 1e-9*math.Max(1, d3)) {
					t.Fatalf("point %v limit %g: grid %.12f m, scan of every piece %.12f m", p, limit, d1, d3)
				}
			}
		}
	}
	if gridded < 5 {
		t.Fatalf("only %d piece sets with a grid: the test does not cover them", gridded)
	}
}

// coincident reports whether zones z1 and z2 both have a piece at distance
// d (a tie between coincident edges, where either zone is right).
func coincident(ps *pieceSet, pr proj, d float64, z1, z2 int) bool {
	has := func(z int) bool {
		for _, pc := range ps.pieces {
			if e, _ := segDist(pr.fwd(pc.a), pr.fwd(pc.b), vec{}); pc.zone == z && math.Abs(e-d) <= 1e-9*math.Max(1, d) {
				return true
			}
		}
		return false
	}
	return has(z1) && has(z2)
}

// TestFineCellsMatchPlainQueries checks the fine cells (zone_cells.go)
// against the queries they stand for: the zones containing a point (the
// same zones in the same order), the zones whose bound meets each search
// box, and the boundary found with them, at points on and around every
// zone's edges and vertices, on fine cell edges and at random, for the
// bundled zones and a synthetic set of many overlapping ones.
func TestFineCellsMatchPlainQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for name, s := range map[string]*Set{"bundled": MustDefault(t), "synthetic": syntheticSet(t, 300)} {
		plain := *s
		plain.cells = nil
		var pts []orb.Point
		step := max(1, len(s.zones)/40)
		for i := 0; i < len(s.zones); i += step {
			z := &s.zones[i]
			pts = append(pts, trickyPoints(rng, z.shape, 20)...)
			if z.IsCircle() { // on and around the circle itself
				for range 40 {
					a, r := rng.Float64()*2*math.Pi, z.RadiusM*(1+(rng.Float64()*2-1)*1e-3)
					if rng.IntN(4) == 0 {
						r = z.RadiusM
					}
					pts = append(pts, z.cproj.inv(vec{r * math.Cos(a), r * math.Sin(a)}))
				}
			}
		}
		for _, p := range corridorPoints(500, 13) {
			pts = append(pts, p.orb())
		}
		g := s.grid
		for range 2000 { // on fine cell edges and corners
			i := float64(rng.IntN(g.nx*zoneCellSub+1)) / zoneCellSub
			j := float64(rng.IntN(g.ny*zoneCellSub+1)) / zoneCellSub
			pts = append(pts, orb.Point{g.b.Min[0] + i*g.dx, g.b.Min[1] + j*g.dy})
		}
		keep := 6000
		if raceEnabled || testing.Short() {
			keep = 1500
		}
		rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
		pts = pts[:min(len(pts), keep)]
		ag, _ := s.agency("all")
		var cells, partial, inside, near, nearOK int
		for _, ll := range pts {
			fc := s.fineCell(ll)
			if fc == nil {
				continue
			}
			cells++
			got := s.containing(ll, t0, nil)
			want := plain.containing(ll, t0, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s containing %v: fine cell %v, plain %v", name, ll, got, want)
			}
			if len(want) > 0 {
				inside++
			}
			for _, e := range fc.in {
				if !e.all {
					partial++
					break
				}
			}
			for k, R := range cellRadii {
				near++
				if !fc.near[k].ok {
					continue
				}
				nearOK++
				var got []int
				for _, z := range fc.near[k].zones {
					got = append(got, int(z))
				}
				if want := s.meeting(degBox(ll, R), nil); !slices.Equal(got, want) {
					t.Fatalf("%s zones near %v within %g m: fine cell %v, meeting %v", name, ll, R, got, want)
				}
			}
			if cells%4 != 0 {
				continue
			}
			p := Pos(ll[1], ll[0], 50)
			s.boundaryIn(ag, p, t0, nil) // the first ask of a piece set scans
			s.boundaryIn(ag, p, t0, nil)
			d1, z1 := s.boundaryIn(ag, p, t0, fc)
			d2, z2 := s.boundaryIn(ag, p, t0, nil)
			// A tie between coincident edges of two zones may name either
			// (as the piece grid and the R-tree may).
			if d1 != d2 || (z1 != z2 && secondBest(s, ag, p, t0, z1) != d1) {
				t.Fatalf("%s boundary at %v: with the fine cell %v m (zone %d), without %v m (zone %d)", name, ll, d1, z1, d2, z2)
			}
		}
		if cells < len(pts)/2 || partial == 0 || inside == 0 || nearOK < near/2 {
			t.Fatalf("%s: %d of %d points in fine cells, %d with zones to test, %d inside zones, %d of %d box queries answered: the test does not discriminate",
				name, cells, len(pts), partial, inside, nearOK, near)
		}
	}
}
