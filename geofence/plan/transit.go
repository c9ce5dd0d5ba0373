package plan

import (
	"container/heap"
	"math"
)

// shortest returns the shortest path from a to b in the free space, as a
// polyline from a to b: the straight leg when it is free, else A* over the
// visibility graph of the obstacle corners (an edge is checked only when it
// would improve a node's best distance). ok is false when a or b is not
// free or no path exists.
func (s *space) shortest(a, b vec) ([]vec, bool) {
	if !s.free(a) || !s.free(b) {
		return nil, false
	}
	if s.segFree(a, b) {
		return []vec{a, b}, true
	}
	// Node 0 is a, 1 is b, then the corners.
	nodes := make([]vec, 0, len(s.nodes)+2)
	nodes = append(nodes, a, b)
	nodes = append(nodes, s.nodes...)
	n := len(nodes)
	g := make([]float64, n)
	parent := make([]int32, n)
	closed := make([]bool, n)
	for i := range g {
		g[i] = math.Inf(1)
		parent[i] = -1
	}
	g[0] = 0
	h := &astarHeap{}
	heap.Push(h, astarItem{f: a.dist(b), node: 0})
	for h.Len() > 0 {
		it := heap.Pop(h).(astarItem)
		u := int(it.node)
		if closed[u] {
			continue
		}
		closed[u] = true
		if u == 1 {
			break
		}
		pu := nodes[u]
		for v := 1; v < n; v++ {
			if closed[v] {
				continue
			}
			nv := g[u] + pu.dist(nodes[v])
			if nv >= g[v] {
				continue
			}
			if !s.segFree(pu, nodes[v]) {
				continue
			}
			g[v] = nv
			parent[v] = int32(u)
			heap.Push(h, astarItem{f: nv + nodes[v].dist(b), node: int32(v)})
		}
	}
	if !closed[1] {
		return nil, false
	}
	var rev []vec
	for v := int32(1); v >= 0; v = parent[v] {
		rev = append(rev, nodes[v])
		if v == 0 {
			break
		}
	}
	return reversed(rev), true
}

type astarItem struct {
	f    float64
	node int32
}

type astarHeap []astarItem

func (h astarHeap) Len() int           { return len(h) }
func (h astarHeap) Less(i, j int) bool { return h[i].f < h[j].f }
func (h astarHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *astarHeap) Push(x any)        { *h = append(*h, x.(astarItem)) }
func (h *astarHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// connect returns a free path from a to b: straight when free, else the
// shortest detour.
func (s *space) connect(a, b vec) ([]vec, bool) {
	if s.segFree(a, b) {
		return []vec{a, b}, true
	}
	return s.shortest(a, b)
}
