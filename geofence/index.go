package geofence

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// rtree is a static R-tree over bounds, bulk-loaded once with the
// Sort-Tile-Recursive method (Leutenegger et al., 1997). A Set is immutable,
// so the tree never changes after it is built; a new Set builds a new one.
type rtree struct {
	items []orb.Bound
	nodes []rnode
	root  int // -1 when empty
}

type rnode struct {
	b        orb.Bound
	leaf     bool
	children []int32 // node indices, or item indices in a leaf
}

const rtreeFan = 8

func buildRTree(bounds []orb.Bound) rtree {
	t := rtree{root: -1, items: bounds}
	if len(bounds) == 0 {
		return t
	}
	items := make([]int32, len(bounds))
	for i := range items {
		items[i] = int32(i)
	}
	// leaves
	level := t.pack(items, func(i int32) orb.Bound { return bounds[i] }, true)
	for len(level) > 1 {
		level = t.pack(level, func(i int32) orb.Bound { return t.nodes[i].b }, false)
	}
	t.root = int(level[0])
	return t
}

// pack groups entries into nodes of up to rtreeFan children, tiled by x then y,
// and returns the new nodes' indices.
func (t *rtree) pack(entries []int32, bf func(int32) orb.Bound, leaf bool) []int32 {
	cx := func(i int32) float64 { b := bf(i); return (b.Min[0] + b.Max[0]) / 2 }
	cy := func(i int32) float64 { b := bf(i); return (b.Min[1] + b.Max[1]) / 2 }
	sort.Slice(entries, func(a, b int) bool { return cx(entries[a]) < cx(entries[b]) })
	nNodes := (len(entries) + rtreeFan - 1) / rtreeFan
	slices := int(math.Ceil(math.Sqrt(float64(nNodes))))
	per := slices * rtreeFan
	var out []int32
	for s := 0; s < len(entries); s += per {
		strip := entries[s:min(s+per, len(entries))]
		sort.Slice(strip, func(a, b int) bool { return cy(strip[a]) < cy(strip[b]) })
		for k := 0; k < len(strip); k += rtreeFan {
			ch := append([]int32(nil), strip[k:min(k+rtreeFan, len(strip))]...)
			b := bf(ch[0])
			for _, c := range ch[1:] {
				b = b.Union(bf(c))
			}
			t.nodes = append(t.nodes, rnode{b: b, leaf: leaf, children: ch})
			out = append(out, int32(len(t.nodes)-1))
		}
	}
	return out
}

// search calls fn with every item whose bound intersects q, stopping when fn
// returns false.
func (t *rtree) search(q orb.Bound, fn func(i int) bool) {
	if t.root < 0 {
		return
	}
	t.searchNode(t.root, q, fn)
}

func (t *rtree) searchNode(n int, q orb.Bound, fn func(i int) bool) bool {
	nd := &t.nodes[n]
	if !meets(&nd.b, &q) {
		return true
	}
	for _, c := range nd.children {
		if nd.leaf {
			if !meets(&t.items[c], &q) {
				continue
			}
			if !fn(int(c)) {
				return false
			}
			continue
		}
		if !t.searchNode(int(c), q, fn) {
			return false
		}
	}
	return true
}

// meets is orb.Bound.Intersects without the copies: false if either bound
// is empty or they are apart.
func meets(a, b *orb.Bound) bool {
	if a.Min[0] > a.Max[0] || a.Min[1] > a.Max[1] || b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return false
	}
	return a.Max[0] >= b.Min[0] && a.Min[0] <= b.Max[0] && a.Max[1] >= b.Min[1] && a.Min[1] <= b.Max[1]
}
