package geofence

import (
	"math"

	"github.com/paulmach/orb"
)

// A point-in-polygon test (ringContains) looks at every edge of the ring,
// but only the edges whose latitude range holds the point's latitude can
// change its answer: the crossing rule counts an edge only when the point's
// latitude lies between its ends, and the on-edge rule needs the point in
// the edge's bound. So each ring of a polygon zone is cut into latitude
// bands, each listing the edges whose latitude range meets it, and a test
// runs ringContains's steps (onEdge, crossesEast) on the edges of the
// point's band alone: the same answer, edges and vertices included (see the
// property test, which checks both against a written-out reference).

// ringBands is the most bands a ring is cut into.
const ringBands = 64

// ringIndex is a ring's edges by latitude band.
type ringIndex struct {
	r          orb.Ring
	minY, maxY float64
	dy         float64
	bands      int
	start      []int32 // band k's edges are edges[start[k]:start[k+1]]
	edges      []int32 // edge i runs from r[i] to r[i-1] (r[n-1] for i 0)
}

// newRingIndex indexes r.
func newRingIndex(r orb.Ring) ringIndex {
	ix := ringIndex{r: r}
	n := len(r)
	if n == 0 {
		return ix
	}
	ix.minY, ix.maxY = r[0][1], r[0][1]
	for _, p := range r {
		ix.minY, ix.maxY = math.Min(ix.minY, p[1]), math.Max(ix.maxY, p[1])
	}
	bands := max(1, min(ringBands, n/2))
	ix.dy = (ix.maxY - ix.minY) / float64(bands)
	if !(ix.dy > 0) {
		bands, ix.dy = 1, 0
	}
	ix.bands = bands
	count := make([]int32, bands+1)
	each := func(fn func(k, i int)) {
		for i, j := 0, n-1; i < n; j, i = i, i+1 {
			a, b := r[i], r[j]
			if a == b {
				continue
			}
			k0, k1 := ix.band(math.Min(a[1], b[1])), ix.band(math.Max(a[1], b[1]))
			for k := k0; k <= k1; k++ {
				fn(k, i)
			}
		}
	}
	each(func(k, _ int) { count[k+1]++ })
	for k := 1; k <= bands; k++ {
		count[k] += count[k-1]
	}
	ix.start = append([]int32(nil), count...)
	ix.edges = make([]int32, count[bands])
	each(func(k, i int) { ix.edges[count[k]] = int32(i); count[k]++ })
	return ix
}

// band returns the band of latitude y, clamped. It is monotonic in y.
func (ix *ringIndex) band(y float64) int {
	if !(ix.dy > 0) {
		return 0
	}
	return max(0, min(ix.bands-1, int((y-ix.minY)/ix.dy)))
}

// contains is ringContains(ix.r, p).
func (ix *ringIndex) contains(p orb.Point) bool {
	if len(ix.start) == 0 || p[1] < ix.minY || p[1] > ix.maxY {
		return false // no edge spans p's latitude: no crossing, not on an edge
	}
	k := ix.band(p[1])
	in := false
	r, n := ix.r, len(ix.r)
	for _, e := range ix.edges[ix.start[k]:ix.start[k+1]] {
		i := int(e)
		j := i - 1
		if i == 0 {
			j = n - 1
		}
		a, b := r[i], r[j]
		if onEdge(p, a, b) {
			return true
		}
		if crossesEast(p, a, b) {
			in = !in
		}
	}
	return in
}

// onRing is onRing(ix.r, p): the edges from r[i-1] to r[i], in that
// direction as onRing computes them, without the closing one. (An edge of
// two equal vertices is not indexed; p on it is that vertex, which the
// ring's other edges hold.)
func (ix *ringIndex) onRing(p orb.Point) bool {
	if len(ix.start) == 0 || p[1] < ix.minY || p[1] > ix.maxY {
		return false
	}
	k := ix.band(p[1])
	r := ix.r
	for _, e := range ix.edges[ix.start[k]:ix.start[k+1]] {
		i := int(e)
		if i == 0 {
			continue
		}
		if onEdge(p, r[i-1], r[i]) {
			return true
		}
	}
	return false
}

// polyIndex is a polygon's rings indexed.
type polyIndex []ringIndex

func newPolyIndex(pg orb.Polygon) polyIndex {
	out := make(polyIndex, len(pg))
	for i, r := range pg {
		out[i] = newRingIndex(r)
	}
	return out
}

// contains is polygonContains on the indexed polygon.
func (px polyIndex) contains(p orb.Point) bool {
	if len(px) == 0 || !px[0].contains(p) {
		return false
	}
	for i := range px[1:] {
		h := &px[i+1]
		if h.contains(p) && !h.onRing(p) {
			return false
		}
	}
	return true
}
