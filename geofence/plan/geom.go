package plan

import (
	"math"

	"github.com/paulmach/orb"
)

// Planar geometry in a local projection: metres east (x) and north (y).

const degToM = orb.EarthRadius * math.Pi / 180

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec       { return vec{a.x + b.x, a.y + b.y} }
func (a vec) scale(k float64) vec { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64 { return a.x*b.y - a.y*b.x }
func (a vec) norm() float64       { return math.Hypot(a.x, a.y) }
func (a vec) dist(b vec) float64  { return math.Hypot(a.x-b.x, a.y-b.y) }
func (a vec) unit() vec {
	n := a.norm()
	if n == 0 {
		return vec{}
	}
	return vec{a.x / n, a.y / n}
}
func (a vec) right() vec           { return vec{a.y, -a.x} }
func lerp(a, b vec, t float64) vec { return vec{a.x + (b.x-a.x)*t, a.y + (b.y-a.y)*t} }

// proj is a local equirectangular projection around a centre. It is affine
// in longitude/latitude, so a straight leg in the plane is the straight leg
// in longitude/latitude that package geofence checks.
type proj struct {
	lon0, lat0 float64
	kx, ky     float64
}

func newProj(c orb.Point) proj {
	return proj{lon0: c[0], lat0: c[1], kx: degToM * math.Cos(c[1]*math.Pi/180), ky: degToM}
}

func (p proj) fwd(q orb.Point) vec { return vec{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky} }
func (p proj) inv(v vec) orb.Point { return orb.Point{p.lon0 + v.x/p.kx, p.lat0 + v.y/p.ky} }
func (p proj) ll(l LatLon) vec     { return p.fwd(orb.Point{l.Lon, l.Lat}) }
func (p proj) toLL(v vec) LatLon {
	q := p.inv(v)
	return LatLon{Lat: q[1], Lon: q[0]}
}

func (p proj) ring(r orb.Ring) []vec {
	out := make([]vec, 0, len(r))
	for i, q := range r {
		if i == len(r)-1 && len(r) > 1 && q == r[0] {
			break // closed: drop the repeated first point
		}
		out = append(out, p.fwd(q))
	}
	return out
}

// box is an axis-aligned bound in the plane.
type box struct{ min, max vec }

func emptyBox() box {
	return box{vec{math.Inf(1), math.Inf(1)}, vec{math.Inf(-1), math.Inf(-1)}}
}
func (b box) extend(p vec) box {
	return box{vec{math.Min(b.min.x, p.x), math.Min(b.min.y, p.y)}, vec{math.Max(b.max.x, p.x), math.Max(b.max.y, p.y)}}
}
func (b box) union(c box) box { return b.extend(c.min).extend(c.max) }
func (b box) pad(m float64) box {
	return box{vec{b.min.x - m, b.min.y - m}, vec{b.max.x + m, b.max.y + m}}
}
func (b box) contains(p vec) bool {
	return p.x >= b.min.x && p.x <= b.max.x && p.y >= b.min.y && p.y <= b.max.y
}
func (b box) overlaps(c box) bool {
	return b.min.x <= c.max.x && c.min.x <= b.max.x && b.min.y <= c.max.y && c.min.y <= b.max.y
}
func (b box) empty() bool { return b.min.x > b.max.x }

func ringBox(r []vec) box {
	b := emptyBox()
	for _, p := range r {
		b = b.extend(p)
	}
	return b
}

// segDist returns the distance from p to segment ab.
func segDist(a, b, p vec) float64 {
	d := b.sub(a)
	l2 := d.dot(d)
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, p.sub(a).dot(d)/l2))
	}
	return p.dist(lerp(a, b, t))
}

// segDist2 returns the squared distance from p to segment ab.
func segDist2(a, b, p vec) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p.x-a.x)*dx + (p.y-a.y)*dy) / l2
		if t < 0 {
			t = 0
		} else if t > 1 {
			t = 1
		}
	}
	ex, ey := p.x-a.x-t*dx, p.y-a.y-t*dy
	return ex*ex + ey*ey
}

// segSegDist2 returns the squared distance between segments ab and cd.
func segSegDist2(a, b, c, d vec) float64 {
	if segsCross(a, b, c, d) {
		return 0
	}
	return min(segDist2(a, b, c), segDist2(a, b, d), segDist2(c, d, a), segDist2(c, d, b))
}

// segSegDist returns the distance between segments ab and cd.
func segSegDist(a, b, c, d vec) float64 {
	if segsCross(a, b, c, d) {
		return 0
	}
	return math.Min(math.Min(segDist(a, b, c), segDist(a, b, d)), math.Min(segDist(c, d, a), segDist(c, d, b)))
}

func orient(a, b, c vec) float64 { return b.sub(a).cross(c.sub(a)) }

// segsCross reports whether segments ab and cd share a point.
func segsCross(a, b, c, d vec) bool {
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(a, b, p vec) bool {
		return math.Min(a.x, b.x) <= p.x && p.x <= math.Max(a.x, b.x) && math.Min(a.y, b.y) <= p.y && p.y <= math.Max(a.y, b.y)
	}
	return (d1 == 0 && on(c, d, a)) || (d2 == 0 && on(c, d, b)) || (d3 == 0 && on(a, b, c)) || (d4 == 0 && on(a, b, d))
}

// lineCross returns the parameter t on ab where it crosses cd, ok false if
// they do not cross.
func lineCross(a, b, c, d vec) (float64, bool) {
	r, s := b.sub(a), d.sub(c)
	den := r.cross(s)
	if den == 0 {
		return 0, false
	}
	ca := c.sub(a)
	t, u := ca.cross(s)/den, ca.cross(r)/den
	if t < 0 || t > 1 || u < 0 || u > 1 {
		return 0, false
	}
	return t, true
}

// ringContains reports whether p is inside ring r (even-odd).
func ringContains(r []vec, p vec) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

// signedArea is positive for a counter-clockwise ring.
func signedArea(r []vec) float64 {
	s := 0.0
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		s += r[j].cross(r[i])
	}
	return s / 2
}

func reversed(r []vec) []vec {
	out := make([]vec, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// oriented returns r counter-clockwise (ccw true) or clockwise.
func oriented(r []vec, ccw bool) []vec {
	if (signedArea(r) > 0) != ccw {
		return reversed(r)
	}
	return append([]vec(nil), r...)
}

// pathLen returns the length of a polyline.
func pathLen(p []vec) float64 {
	s := 0.0
	for i := 1; i < len(p); i++ {
		s += p[i-1].dist(p[i])
	}
	return s
}

// circleInterval returns the parameters t (unbounded) where a+t(b-a) is
// within r of c, ok false when never.
func circleInterval(a, b, c vec, r float64) (float64, float64, bool) {
	d := b.sub(a)
	A := d.dot(d)
	if A == 0 {
		return 0, 0, false
	}
	f := a.sub(c)
	B := 2 * f.dot(d)
	C := f.dot(f) - r*r
	disc := B*B - 4*A*C
	if disc <= 0 {
		return 0, 0, false
	}
	sq := math.Sqrt(disc)
	return (-B - sq) / (2 * A), (-B + sq) / (2 * A), true
}

// capsuleInterval returns the parameters t (unbounded) where a+t(b-a) is
// within r of segment uv: the capsule is convex, so it is one interval.
func capsuleInterval(a, b, u, v vec, r float64) (float64, float64, bool) {
	lo, hi := math.Inf(1), math.Inf(-1)
	take := func(l, h float64, ok bool) {
		if ok && l < h {
			lo, hi = math.Min(lo, l), math.Max(hi, h)
		}
	}
	take(circleInterval(a, b, u, r))
	take(circleInterval(a, b, v, r))
	// The rectangle: 0 ≤ s ≤ L and |w| ≤ r in the segment's frame.
	e := v.sub(u)
	L := e.norm()
	if L > 0 {
		e = e.scale(1 / L)
		n := vec{-e.y, e.x}
		d := b.sub(a)
		s0, s1 := a.sub(u).dot(e), d.dot(e)
		w0, w1 := a.sub(u).dot(n), d.dot(n)
		tl, th := math.Inf(-1), math.Inf(1)
		clip := func(p0, p1, min, max float64) {
			// min ≤ p0 + t p1 ≤ max
			if p1 == 0 {
				if p0 < min || p0 > max {
					tl, th = 1, 0
				}
				return
			}
			t0, t1 := (min-p0)/p1, (max-p0)/p1
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			tl, th = math.Max(tl, t0), math.Min(th, t1)
		}
		clip(s0, s1, 0, L)
		clip(w0, w1, -r, r)
		take(tl, th, tl < th)
	}
	return lo, hi, lo < hi
}

// simplify is Douglas–Peucker on a polyline with tolerance tol metres.
func simplify(p []vec, tol float64) []vec {
	if len(p) < 3 {
		return append([]vec(nil), p...)
	}
	keep := make([]bool, len(p))
	keep[0], keep[len(p)-1] = true, true
	var rec func(i, j int)
	rec = func(i, j int) {
		best, at := -1.0, -1
		for k := i + 1; k < j; k++ {
			if d := segDist(p[i], p[j], p[k]); d > best {
				best, at = d, k
			}
		}
		if at >= 0 && best > tol {
			keep[at] = true
			rec(i, at)
			rec(at, j)
		}
	}
	rec(0, len(p)-1)
	var out []vec
	for i, k := range keep {
		if k {
			out = append(out, p[i])
		}
	}
	return out
}

// offsetPolyline offsets an open polyline by d metres to its left (d > 0)
// or right (d < 0), with mitred joins (bevelled when sharp) and loops on the
// inner side of bends removed.
func offsetPolyline(p []vec, d float64) []vec {
	if len(p) < 2 {
		return nil
	}
	n := len(p)
	normal := func(i int) vec { // left normal of segment i → i+1
		u := p[i+1].sub(p[i]).unit()
		return vec{-u.y, u.x}
	}
	var out []vec
	out = append(out, p[0].add(normal(0).scale(d)))
	for i := 1; i < n-1; i++ {
		n1, n2 := normal(i-1), normal(i)
		den := 1 + n1.dot(n2)
		if den > 0.5 {
			out = append(out, p[i].add(n1.add(n2).scale(d/den)))
		} else {
			out = append(out, p[i].add(n1.scale(d)), p[i].add(n2.scale(d)))
		}
	}
	out = append(out, p[n-1].add(normal(n-2).scale(d)))
	return removeLoops(out)
}

// removeLoops cuts out the loops of a polyline where it crosses itself.
func removeLoops(p []vec) []vec {
	for changed := true; changed; {
		changed = false
	outer:
		for i := 0; i+1 < len(p); i++ {
			for j := len(p) - 2; j > i+1; j-- {
				if t, ok := lineCross(p[i], p[i+1], p[j], p[j+1]); ok {
					x := lerp(p[i], p[i+1], t)
					q := append([]vec(nil), p[:i+1]...)
					q = append(q, x)
					q = append(q, p[j+1:]...)
					p = q
					changed = true
					break outer
				}
			}
		}
	}
	return p
}

// insetRing offsets a closed ring inwards by d metres (mitred), dropping
// edges that collapse. It returns nil when nothing is left.
func insetRing(r []vec, d float64) []vec {
	ring := oriented(r, true) // interior on the left
	type line struct{ p, dir vec }
	var lines []line
	for i := range ring {
		a, b := ring[i], ring[(i+1)%len(ring)]
		if a.dist(b) < 1e-9 {
			continue
		}
		u := b.sub(a).unit()
		lines = append(lines, line{a.add(vec{-u.y, u.x}.scale(d)), u})
	}
	for len(lines) >= 3 {
		n := len(lines)
		out := make([]vec, n)
		for i := range lines {
			l1, l2 := lines[(i+n-1)%n], lines[i]
			den := l1.dir.cross(l2.dir)
			if math.Abs(den) < 1e-9 {
				out[i] = l2.p
				continue
			}
			t := l2.p.sub(l1.p).cross(l2.dir) / den
			out[i] = l1.p.add(l1.dir.scale(t))
		}
		// An edge collapsed when its inset runs backwards: drop the worst.
		drop, worst := -1, 0.0
		for i := range out {
			a, b := out[i], out[(i+1)%n]
			if v := b.sub(a).dot(lines[i].dir); v < worst || (v <= 0 && drop < 0) {
				drop, worst = i, v
			}
		}
		if drop < 0 {
			if signedArea(out) <= 0 {
				return nil
			}
			return out
		}
		lines = append(lines[:drop:drop], lines[drop+1:]...)
	}
	return nil
}
