package geofence

import (
	"math"
	"sort"
	"time"
)

// circleSides returns how many sides approximate a circle of radius r
// within 1 m (sagitta), between 16 and 512.
func circleSides(r float64) int {
	if r <= 1 {
		return 16
	}
	n := int(math.Ceil(math.Pi / math.Acos(1-1/r)))
	return max(16, min(512, n))
}

type bedge struct {
	a, b                   vec
	zone                   int
	d                      float64 // distance to the query point
	minX, maxX, minY, maxY float64
}

// boundaryScan returns the horizontal distance from p to the nearest
// boundary of the agency's allowed space at p's altitude, and the zone
// owning that boundary (-1 when none lies within MaxSearchM), computing the
// boundary anew around p: the reference for boundary, which gives the same
// answer from cached pieces (boundary_index.go).
//
// The boundary is where the allowed status changes: every edge of the
// zones that matter at this altitude is split where other edges cross it,
// and a piece counts if the status differs half a metre to either side of
// its middle. Circles are taken as polygons within 1 m of them. The search
// grows a box around p until the nearest piece found lies inside it.
func (s *Set) boundaryScan(ag *Agency, p Position, at time.Time) (float64, int) {
	ll := p.orb()
	pr := newProj(ll)
	var origin vec
	for R := 2000.0; ; R *= 4 {
		R = math.Min(R, MaxSearchM)
		box := degBox(ll, R)
		var cand []int
		s.each(box, func(i int) bool {
			z := &s.zones[i]
			if !z.ActiveAt(at) {
				return true
			}
			alt := z.altOf(p.RelAlt, p.AltMSL)
			if z.Kind == Exclusion {
				if alt < z.FloorM || alt > z.Ceiling() {
					return true
				}
			} else if !ag.Authorised(z.Jurisdiction) || !z.inBand(alt) {
				return true
			}
			cand = append(cand, i)
			return true
		})
		sort.Ints(cand)
		var es []bedge
		for _, i := range cand {
			for _, r := range s.zones[i].shape {
				for k := 0; k+1 < len(r); k++ {
					a, b := pr.fwd(r[k]), pr.fwd(r[k+1])
					if a == b {
						continue
					}
					d, _ := segDist(a, b, origin)
					es = append(es, bedge{a: a, b: b, zone: i, d: d,
						minX: math.Min(a.x, b.x), maxX: math.Max(a.x, b.x),
						minY: math.Min(a.y, b.y), maxY: math.Max(a.y, b.y)})
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
		order := make([]int, len(es))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(x, y int) bool { return es[order[x]].d < es[order[y]].d })
		best, bestZ := math.Inf(1), -1
		var ts []float64
		for _, ei := range order {
			e := &es[ei]
			if e.d >= best || e.d > R {
				break
			}
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
				pa, pb := lerpVec(e.a, e.b, t0), lerpVec(e.a, e.b, t1)
				d, _ := segDist(pa, pb, origin)
				if d >= best {
					continue
				}
				m := lerpVec(pa, pb, 0.5)
				if allowed(m.add(n)) != allowed(m.sub(n)) {
					best, bestZ = d, e.zone
				}
			}
		}
		if best <= R || R >= MaxSearchM {
			return best, bestZ
		}
	}
}
