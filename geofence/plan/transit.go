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
	if p, ok := s.cache[[2]vec{b, a}]; ok {
		return reversed(p), true // the way back
	}
	p, ok := s.search(a, b)
	if ok {
		if s.cache == nil {
			s.cache = map[[2]vec][]vec{}
		}
		s.cache[[2]vec{a, b}] = p
	}
	return p, ok
}

func (s *space) search(a, b vec) ([]vec, bool) {
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
	hb := make([]float64, n) // heuristic: straight distance to b
	for i, v := range nodes {
		hb[i] = v.dist(b)
	}
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
			if nv+hb[v] >= g[1] {
				continue // cannot beat the best path to the goal found so far
			}
			if !s.segClear(pu, nodes[v]) { // every node is free
				continue
			}
			g[v] = nv
			parent[v] = int32(u)
			heap.Push(h, astarItem{f: nv + hb[v], node: int32(v)})
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

// tangent reports whether the line from o through node i leaves the
// obstacle corner the node stands off on one side.
func (s *space) tangent(i int, o vec) bool {
	v, nb := s.nodes[i], s.nb[i]
	a, b := orient(o, v, nb[0]), orient(o, v, nb[1])
	const eps = 1e-6
	return (a >= -eps && b >= -eps) || (a <= eps && b <= eps)
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
