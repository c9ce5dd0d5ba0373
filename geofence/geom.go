package geofence

import (
	"math"

	"github.com/paulmach/orb"
)

// earthRadius matches orb's (and so orb/geo's) spherical model.
const earthRadius = orb.EarthRadius

const degToM = earthRadius * math.Pi / 180

// vec is a point in a local projection, metres east (x) and north (y).
type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec           { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec           { return vec{a.x + b.x, a.y + b.y} }
func (a vec) scale(k float64) vec     { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64       { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64     { return a.x*b.y - a.y*b.x }
func (a vec) norm() float64           { return math.Hypot(a.x, a.y) }
func (a vec) dist(b vec) float64      { return a.sub(b).norm() }
func lerpVec(a, b vec, t float64) vec { return vec{a.x + (b.x-a.x)*t, a.y + (b.y-a.y)*t} }

// proj is a local equirectangular projection centred at a point: metres east
// and north. It is affine in longitude/latitude, so straight lines in lon/lat
// (polygon edges) stay straight and keep their parameters; it is accurate to
// about 0.1 % over tens of kilometres, which is all a local query needs.
type proj struct {
	lon0, lat0 float64
	kx, ky     float64
}

func newProj(c orb.Point) proj {
	return proj{lon0: c[0], lat0: c[1], kx: degToM * math.Cos(c[1]*math.Pi/180), ky: degToM}
}

func (p proj) fwd(q orb.Point) vec {
	return vec{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky}
}

func (p proj) inv(v vec) orb.Point {
	return orb.Point{p.lon0 + v.x/p.kx, p.lat0 + v.y/p.ky}
}

// degBox returns the lon/lat bound of a square of half-side m metres around c.
func degBox(c orb.Point, m float64) orb.Bound {
	dlat := m / degToM
	cl := math.Cos(c[1] * math.Pi / 180)
	if cl < 1e-6 {
		cl = 1e-6
	}
	dlon := m / (degToM * cl)
	return orb.Bound{Min: orb.Point{c[0] - dlon, c[1] - dlat}, Max: orb.Point{c[0] + dlon, c[1] + dlat}}
}

// segDist returns the distance from p to segment ab and the parameter of the
// nearest point.
func segDist(a, b, p vec) (float64, float64) {
	d := b.sub(a)
	l2 := d.dot(d)
	t := 0.0
	if l2 > 0 {
		t = p.sub(a).dot(d) / l2
		t = math.Max(0, math.Min(1, t))
	}
	return p.dist(lerpVec(a, b, t)), t
}

// segIntersect returns the parameters (t on ab, u on cd) where segments ab and
// cd cross, ok false when they do not meet or are parallel.
func segIntersect(a, b, c, d vec) (t, u float64, ok bool) {
	r := b.sub(a)
	s := d.sub(c)
	den := r.cross(s)
	if den == 0 {
		return 0, 0, false
	}
	ca := c.sub(a)
	t = ca.cross(s) / den
	u = ca.cross(r) / den
	const eps = 1e-12
	if t < -eps || t > 1+eps || u < -eps || u > 1+eps {
		return 0, 0, false
	}
	return math.Max(0, math.Min(1, t)), math.Max(0, math.Min(1, u)), true
}

// segIntersectsProper reports whether segments ab and cd share any point,
// collinear overlaps included (used by validation).
func segsTouch(a, b, c, d vec) bool {
	d1 := orient(c, d, a)
	d2 := orient(c, d, b)
	d3 := orient(a, b, c)
	d4 := orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSeg(c, d, a)) || (d2 == 0 && onSeg(c, d, b)) ||
		(d3 == 0 && onSeg(a, b, c)) || (d4 == 0 && onSeg(a, b, d))
}

func orient(a, b, c vec) float64 { return b.sub(a).cross(c.sub(a)) }

func onSeg(a, b, p vec) bool {
	return math.Min(a.x, b.x) <= p.x && p.x <= math.Max(a.x, b.x) &&
		math.Min(a.y, b.y) <= p.y && p.y <= math.Max(a.y, b.y)
}

// circleHits returns the parameters in [0,1] where segment ab crosses the
// circle of radius r around the origin.
func circleHits(a, b vec, r float64, out []float64) []float64 {
	d := b.sub(a)
	A := d.dot(d)
	if A == 0 {
		return out
	}
	B := 2 * a.dot(d)
	C := a.dot(a) - r*r
	disc := B*B - 4*A*C
	if disc < 0 {
		return out
	}
	sq := math.Sqrt(disc)
	for _, t := range [2]float64{(-B - sq) / (2 * A), (-B + sq) / (2 * A)} {
		if t >= 0 && t <= 1 {
			out = append(out, t)
		}
	}
	return out
}

// onEdge reports whether p lies on the edge from a to b: a zero cross
// product, p within the edge's bound. It and crossesEast are the two steps
// of every point-in-ring test (ringContains, onRing, ringIndex), written
// once and small enough to be inlined (builtin min and max, not math.Min:
// the same results, NaN and signed zeros included).
func onEdge(p, a, b orb.Point) bool {
	ax, ay, bx, by := a[0], a[1], b[0], b[1]
	return (p[0]-ax)*(by-ay)-(p[1]-ay)*(bx-ax) == 0 &&
		min(ax, bx) <= p[0] && p[0] <= max(ax, bx) && min(ay, by) <= p[1] && p[1] <= max(ay, by)
}

// crossesEast reports whether the ray east of p crosses the edge from a to
// b, counting an edge only when p's latitude lies between its ends (the
// even-odd rule's step).
func crossesEast(p, a, b orb.Point) bool {
	if (a[1] > p[1]) == (b[1] > p[1]) {
		return false
	}
	return p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
}

// ringContains reports whether p lies inside ring r (even-odd rule), boundary
// counting as inside.
func ringContains(r orb.Ring, p orb.Point) bool {
	in := false
	n := len(r)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r[i], r[j]
		if a == b {
			continue
		}
		if onEdge(p, a, b) {
			return true
		}
		if crossesEast(p, a, b) {
			in = !in
		}
	}
	return in
}

// polygonContains reports whether p is in the outer ring and in no hole.
func polygonContains(pg orb.Polygon, p orb.Point) bool {
	if len(pg) == 0 || !ringContains(pg[0], p) {
		return false
	}
	for _, h := range pg[1:] {
		if ringContains(h, p) && !onRing(h, p) {
			return false
		}
	}
	return true
}

func onRing(r orb.Ring, p orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		if onEdge(p, r[i], r[i+1]) {
			return true
		}
	}
	return false
}

// ringAreaM2 returns the signed area of r in square metres in projection pr
// (positive counter-clockwise).
func ringAreaM2(pr proj, r orb.Ring) float64 {
	s := 0.0
	for i := 0; i+1 < len(r); i++ {
		a, b := pr.fwd(r[i]), pr.fwd(r[i+1])
		s += a.cross(b)
	}
	return s / 2
}

// circleRing approximates a circle by an n-gon in lon/lat whose vertices lie
// on the circle (a conservative inclusion, a slightly small exclusion).
func circleRing(c orb.Point, r float64, n int) orb.Ring {
	pr := newProj(c)
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		ring = append(ring, pr.inv(vec{r * math.Cos(a), r * math.Sin(a)}))
	}
	return append(ring, ring[0])
}
