package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// xy is a point in a local equirectangular projection, metres.
type xy struct{ x, y float64 }

type proj struct{ lon0, lat0, kx, ky float64 }

const degM = orb.EarthRadius * math.Pi / 180

func newProj(c orb.Point) proj {
	return proj{c[0], c[1], degM * math.Cos(c[1]*math.Pi/180), degM}
}
func (p proj) fwd(q orb.Point) xy { return xy{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky} }
func (p proj) inv(v xy) orb.Point { return orb.Point{p.lon0 + v.x/p.kx, p.lat0 + v.y/p.ky} }

// distToSeg returns the distance in metres from p to the segment ab
// (straight in lon/lat), measured in a projection centred on p.
func distToSeg(p, a, b orb.Point) float64 {
	pr := newProj(p)
	av, bv := pr.fwd(a), pr.fwd(b)
	dx, dy := bv.x-av.x, bv.y-av.y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, (-av.x*dx-av.y*dy)/l2))
	}
	return math.Hypot(av.x+t*dx, av.y+t*dy)
}

// Simplify runs Douglas–Peucker on ls with a tolerance in metres; the
// result is a subsequence of ls that keeps its ends.
func Simplify(ls orb.LineString, tolM float64) orb.LineString {
	if len(ls) < 3 {
		return ls.Clone()
	}
	keep := make([]bool, len(ls))
	keep[0], keep[len(ls)-1] = true, true
	type span struct{ i, j int }
	stack := []span{{0, len(ls) - 1}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		far, fk := -1.0, -1
		for k := s.i + 1; k < s.j; k++ {
			if d := distToSeg(ls[k], ls[s.i], ls[s.j]); d > far {
				far, fk = d, k
			}
		}
		if far > tolM {
			keep[fk] = true
			stack = append(stack, span{s.i, fk}, span{fk, s.j})
		}
	}
	var out orb.LineString
	for i, k := range keep {
		if k {
			out = append(out, ls[i])
		}
	}
	return out
}

// MaxDeviation returns the largest distance in metres from a vertex of full
// to the segment of simple that spans it (simple must be a subsequence of
// full, as Simplify returns).
func MaxDeviation(full, simple orb.LineString) float64 {
	j, worst := 0, 0.0
	for i, p := range full {
		if j+1 < len(simple) && p == simple[j+1] && i > 0 {
			j++
		}
		if j+1 >= len(simple) {
			break
		}
		worst = math.Max(worst, distToSeg(p, simple[j], simple[j+1]))
	}
	return worst
}

// DistanceToLine returns the distance in metres from p to the nearest
// segment of ls.
func DistanceToLine(ls orb.LineString, p orb.Point) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(ls); i++ {
		best = math.Min(best, distToSeg(p, ls[i], ls[i+1]))
	}
	return best
}

// nearest returns the segment index and parameter of the point of ls
// nearest p.
func nearest(ls orb.LineString, p orb.Point) (int, float64) {
	best, bk, bt := math.Inf(1), 0, 0.0
	pr := newProj(p)
	for i := 0; i+1 < len(ls); i++ {
		a, b := pr.fwd(ls[i]), pr.fwd(ls[i+1])
		dx, dy := b.x-a.x, b.y-a.y
		l2 := dx*dx + dy*dy
		t := 0.0
		if l2 > 0 {
			t = math.Max(0, math.Min(1, (-a.x*dx-a.y*dy)/l2))
		}
		if d := math.Hypot(a.x+t*dx, a.y+t*dy); d < best {
			best, bk, bt = d, i, t
		}
	}
	return bk, bt
}

// arcTo returns the length in metres of ls up to segment k, parameter t.
func arcTo(ls orb.LineString, k int, t float64) float64 {
	s := 0.0
	for i := 0; i < k; i++ {
		s += geo.Distance(ls[i], ls[i+1])
	}
	return s + geo.Distance(ls[k], lerp(ls[k], ls[k+1], t))
}

func lerp(a, b orb.Point, t float64) orb.Point {
	return orb.Point{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
}

// pointAlong returns the point at arc distance d (metres, may be negative)
// from the point at segment k, parameter t.
func pointAlong(ls orb.LineString, k int, t, d float64) orb.Point {
	cur := lerp(ls[k], ls[k+1], t)
	if d >= 0 {
		for i := k; i+1 < len(ls); i++ {
			next := ls[i+1]
			l := geo.Distance(cur, next)
			if l >= d {
				return lerp(cur, next, d/l)
			}
			d -= l
			cur = next
		}
		return ls[len(ls)-1]
	}
	d = -d
	for i := k; i >= 0; i-- {
		prev := ls[i]
		l := geo.Distance(cur, prev)
		if l >= d {
			return lerp(cur, prev, d/l)
		}
		d -= l
		cur = prev
	}
	return ls[0]
}

// clipParams returns the parameter interval of segment pq inside the box
// |u| ≤ A, |n| ≤ W (Liang–Barsky); ok false when they do not meet.
func clipParams(p, q xy, A, W float64) (t0, t1 float64, ok bool) {
	t0, t1 = 0, 1
	d := xy{q.x - p.x, q.y - p.y}
	for _, c := range [4][2]float64{{-d.x, p.x + A}, {d.x, A - p.x}, {-d.y, p.y + W}, {d.y, W - p.y}} {
		pp, qq := c[0], c[1]
		if pp == 0 {
			if qq < 0 {
				return 0, 0, false
			}
			continue
		}
		r := qq / pp
		if pp < 0 {
			t0 = math.Max(t0, r)
		} else {
			t1 = math.Min(t1, r)
		}
	}
	return t0, t1, t0 <= t1
}

// Corridor builds a rectangle 2A long and 2W wide, centred on the point of
// the boundary nearest port and aligned with the boundary's chord over that
// length, and splits it along the boundary: us is north (left of the
// west-to-east line), mx south, joint the whole rectangle. It fails unless
// the boundary crosses the rectangle once, from its west end to its east end.
func Corridor(line orb.LineString, port orb.Point, A, W float64) (us, mx, joint orb.Ring, err error) {
	k, t := nearest(line, port)
	c := lerp(line[k], line[k+1], t)
	// Near an end of the line (San Diego is 9 km from the Pacific) the
	// corridor starts at the end instead of running past it.
	if s := arcTo(line, k, t); s < A {
		c = pointAlong(line, 0, 0, A)
		k, t = nearest(line, c)
	} else if s2 := arcTo(line, len(line)-2, 1) - s; s2 < A {
		c = pointAlong(line, len(line)-2, 1, -A)
		k, t = nearest(line, c)
	}
	pr := newProj(c)
	w, e := pr.fwd(pointAlong(line, k, t, -A)), pr.fwd(pointAlong(line, k, t, A))
	ux, uy := e.x-w.x, e.y-w.y
	l := math.Hypot(ux, uy)
	ux, uy = ux/l, uy/l
	// (u, n) frame: u along the border eastwards, n to the left (US side).
	toUN := func(p orb.Point) xy { v := pr.fwd(p); return xy{v.x*ux + v.y*uy, -v.x*uy + v.y*ux} }
	fromUN := func(u, n float64) orb.Point { return pr.inv(xy{u*ux - n*uy, u*uy + n*ux}) }
	const eps = 1e-6
	// Walk forward from c to where the line leaves the box.
	var interior []orb.Point
	var east orb.Point
	kf := -1
	for i := k; i+1 < len(line); i++ {
		p, q := toUN(line[i]), toUN(line[i+1])
		if i == k {
			p = toUN(c)
		}
		_, t1, ok := clipParams(p, q, A, W)
		if !ok {
			return nil, nil, nil, errors.New("boundary leaves the corridor unexpectedly")
		}
		if t1 < 1 {
			x := xy{p.x + (q.x-p.x)*t1, p.y + (q.y-p.y)*t1}
			if math.Abs(x.x-A) > eps {
				return nil, nil, nil, fmt.Errorf("boundary leaves the corridor through a long side at u=%.0f n=%.0f", x.x, x.y)
			}
			east, kf = fromUN(x.x, x.y), i
			break
		}
		interior = append(interior, line[i+1])
	}
	var west orb.Point
	var back []orb.Point
	kb := -1
	for i := k; i >= 0; i-- {
		p, q := toUN(line[i+1]), toUN(line[i])
		if i == k {
			p = toUN(c)
		}
		_, t1, ok := clipParams(p, q, A, W)
		if !ok {
			return nil, nil, nil, errors.New("boundary leaves the corridor unexpectedly")
		}
		if t1 < 1 {
			x := xy{p.x + (q.x-p.x)*t1, p.y + (q.y-p.y)*t1}
			if math.Abs(x.x+A) > eps {
				return nil, nil, nil, fmt.Errorf("boundary leaves the corridor through a long side at u=%.0f n=%.0f", x.x, x.y)
			}
			west, kb = fromUN(x.x, x.y), i
			break
		}
		back = append(back, line[i])
	}
	if kb < 0 && len(back) > 0 && math.Abs(toUN(back[len(back)-1]).x+A) < 1 {
		west, back, kb = back[len(back)-1], back[:len(back)-1], 0
	}
	if kf < 0 && len(interior) > 0 && math.Abs(toUN(interior[len(interior)-1]).x-A) < 1 {
		east, interior, kf = interior[len(interior)-1], interior[:len(interior)-1], len(line)-2
	}
	if kf < 0 || kb < 0 {
		return nil, nil, nil, errors.New("boundary ends inside the corridor")
	}
	// No other part of the line may enter the box.
	for i := 0; i+1 < len(line); i++ {
		if i >= kb && i <= kf {
			continue
		}
		if _, _, ok := clipParams(toUN(line[i]), toUN(line[i+1]), A, W); ok {
			return nil, nil, nil, fmt.Errorf("boundary segment %d re-enters the corridor", i)
		}
	}
	piece := []orb.Point{west}
	for i := len(back) - 1; i >= 0; i-- {
		piece = append(piece, back[i])
	}
	piece = append(piece, interior...)
	piece = append(piece, east)
	sw, se, ne, nw := fromUN(-A, -W), fromUN(A, -W), fromUN(A, W), fromUN(-A, W)
	us = append(orb.Ring{}, piece...)
	us = append(us, ne, nw, west)
	mx = orb.Ring{west, sw, se}
	for i := len(piece) - 1; i >= 0; i-- {
		mx = append(mx, piece[i])
	}
	joint = orb.Ring{sw, se, ne, nw, sw}
	return us, mx, joint, nil
}
