package plan

import (
	"math"
)

// share cuts one lap of a pattern into one piece per drone, with flight
// times (transits, take-off and landing included) balanced, each drone
// given the piece nearest to it. It returns the pieces and, for each, the
// index of its drone.
func (p *planner) share(lap []vec, outBack bool) ([][]vec, []int, error) {
	r := &p.req
	n := len(r.Drones)
	cum := make([]float64, len(lap))
	for i := 1; i < len(lap); i++ {
		cum[i] = cum[i-1] + lap[i-1].dist(lap[i])
	}
	L := cum[len(cum)-1]
	if L <= 0 {
		return nil, nil, errorf(CodeNoRoute, "the pattern is too short to share among %d drones", n)
	}
	at := func(s float64) vec {
		s = math.Max(0, math.Min(L, s))
		for i := 1; i < len(cum); i++ {
			if cum[i] >= s {
				seg := cum[i] - cum[i-1]
				if seg == 0 {
					return lap[i]
				}
				return lerp(lap[i-1], lap[i], (s-cum[i-1])/seg)
			}
		}
		return lap[len(lap)-1]
	}
	w := float64(r.Laps) / r.SpeedMPS // seconds per metre of piece
	if outBack {
		w *= 2
	}
	starts := make([]vec, n)
	homes := make([]vec, n)
	fixed := make([]float64, n)
	for i, d := range r.Drones {
		starts[i] = p.startOf(d)
		homes[i] = p.sp.pr.ll(d.Home)
		fixed[i] = r.AltM / r.DescentMPS
		if d.Position == nil {
			fixed[i] += r.AltM / r.ClimbMPS
		}
	}
	factor := make([]float64, n)
	for i := range factor {
		factor[i] = 1
	}
	cuts := make([]float64, n+1)
	for j := range cuts {
		cuts[j] = L * float64(j) / float64(n)
	}
	assign := make([]int, n)
	for j := range assign {
		assign[j] = j
	}
	pieceTime := func(j int, a, b float64) float64 {
		d := assign[j]
		end := at(b)
		if outBack {
			end = at(a)
		}
		return fixed[d] + factor[d]*(starts[d].dist(at(a))+end.dist(homes[d]))/r.TransitSpeedMPS + w*(b-a)
	}
	for iter := 0; iter < 4; iter++ {
		// Assign: each piece to the drone nearest to it overall.
		cost := func(d, j int) float64 {
			mid := at((cuts[j] + cuts[j+1]) / 2)
			return starts[d].dist(mid) + homes[d].dist(mid)
		}
		assign = bestAssignment(n, cost)
		// Cut: the flight time T that the pieces all take.
		fill := func(T float64) float64 { // time of the last piece
			a := 0.0
			for j := 0; j < n-1; j++ {
				lo, hi := a, L
				for k := 0; k < 50; k++ {
					m := (lo + hi) / 2
					if pieceTime(j, a, m) <= T {
						lo = m
					} else {
						hi = m
					}
				}
				cuts[j+1] = lo
				a = lo
			}
			return pieceTime(n-1, a, L)
		}
		lo, hi := 0.0, pieceTime(0, 0, L)*float64(n)+1e6
		for k := 0; k < 60; k++ {
			T := (lo + hi) / 2
			if fill(T) > T {
				lo = T
			} else {
				hi = T
			}
		}
		fill(hi)
		cuts[0], cuts[n] = 0, L
		// Measure the real transits for the next round.
		for j := 0; j < n; j++ {
			d := assign[j]
			a, b := at(cuts[j]), at(cuts[j+1])
			end := b
			if outBack {
				end = a
			}
			euclid := starts[d].dist(a) + end.dist(homes[d])
			if euclid < 1 {
				continue
			}
			out, err1 := p.transitPath(starts[d], a, "transit")
			back, err2 := p.transitPath(end, homes[d], "return")
			if err1 != nil || err2 != nil {
				continue // the final routes report it
			}
			factor[d] = (pathLen(out) + pathLen(back)) / euclid
		}
	}
	pieces := make([][]vec, n)
	for j := 0; j < n; j++ {
		pieces[j] = subPath(lap, cum, cuts[j], cuts[j+1])
	}
	return pieces, assign, nil
}

// subPath returns the part of path between arc lengths a and b.
func subPath(path []vec, cum []float64, a, b float64) []vec {
	pt := func(s float64) vec {
		for i := 1; i < len(cum); i++ {
			if cum[i] >= s {
				seg := cum[i] - cum[i-1]
				if seg == 0 {
					return path[i]
				}
				return lerp(path[i-1], path[i], (s-cum[i-1])/seg)
			}
		}
		return path[len(path)-1]
	}
	out := []vec{pt(a)}
	for i := range path {
		if cum[i] > a && cum[i] < b {
			out = append(out, path[i])
		}
	}
	out = append(out, pt(b))
	return dedupe(out)
}

// bestAssignment returns, for each piece j, the drone d minimising the sum
// of cost(d, j): exhaustive up to 7 drones, greedy beyond.
func bestAssignment(n int, cost func(d, j int) float64) []int {
	best := make([]int, n)
	if n <= 7 {
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		bestCost := math.Inf(1)
		var rec func(k int, sum float64)
		rec = func(k int, sum float64) {
			if sum >= bestCost {
				return
			}
			if k == n {
				bestCost = sum
				copy(best, perm)
				return
			}
			for i := k; i < n; i++ {
				perm[k], perm[i] = perm[i], perm[k]
				rec(k+1, sum+cost(perm[k], k))
				perm[k], perm[i] = perm[i], perm[k]
			}
		}
		rec(0, 0)
		return best
	}
	used := make([]bool, n)
	for j := 0; j < n; j++ {
		bd, bc := -1, math.Inf(1)
		for d := 0; d < n; d++ {
			if !used[d] && cost(d, j) < bc {
				bd, bc = d, cost(d, j)
			}
		}
		used[bd] = true
		best[j] = bd
	}
	return best
}
