package plan

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// Agencies as cmd/centinela builds them.
var testAgencies = []geofence.Agency{
	{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
	{ID: "mx-agency", Jurisdictions: []geofence.Jurisdiction{geofence.MX}},
	{ID: "joint-task-force", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}},
}

var t0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

func mustDefault(tb testing.TB) *geofence.Set {
	tb.Helper()
	s, err := geofence.Default(testAgencies...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// square returns a square of side m metres centred on lat, lon.
func square(lat, lon, m float64) orb.Polygon {
	dl := m / 2 / degToM
	dn := dl / math.Cos(lat*math.Pi/180)
	return orb.Polygon{{{lon - dn, lat - dl}, {lon + dn, lat - dl}, {lon + dn, lat + dl}, {lon - dn, lat + dl}, {lon - dn, lat - dl}}}
}

// local is an independent local projection for checks.
type local struct{ lat0, lon0, kx, ky float64 }

func newLocal(lat, lon float64) local {
	return local{lat, lon, degToM * math.Cos(lat*math.Pi/180), degToM}
}
func (l local) xy(lat, lon float64) [2]float64 {
	return [2]float64{(lon - l.lon0) * l.kx, (lat - l.lat0) * l.ky}
}
func (l local) ll(x, y float64) (lat, lon float64) { return l.lat0 + y/l.ky, l.lon0 + x/l.kx }

func ptSegDist(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

func inRing(r [][2]float64, p [2]float64) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

func ringDist(r [][2]float64, p [2]float64) float64 {
	d := math.Inf(1)
	for i := range r {
		d = math.Min(d, ptSegDist(p, r[i], r[(i+1)%len(r)]))
	}
	return d
}

// randomWorld is a random area with holes and exclusion zones inside one
// big inclusion zone of agency "a".
type randomWorld struct {
	set    *geofence.Set
	area   orb.Polygon
	home   LatLon
	lc     local
	rings  [][][2]float64 // area rings in the local projection
	excl   []geofence.Zone
	exclXY [][][2]float64 // exclusion polygons (circles as dense polygons)
	circ   [][3]float64   // circles x, y, r
}

func starRing(rng *rand.Rand, lc local, cx, cy, rmin, rmax float64, n int) ([][2]float64, orb.Ring) {
	var xy [][2]float64
	var ring orb.Ring
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * (float64(i) + 0.3*rng.Float64()) / float64(n)
		r := rmin + (rmax-rmin)*rng.Float64()
		x, y := cx+r*math.Cos(a), cy+r*math.Sin(a)
		xy = append(xy, [2]float64{x, y})
		lat, lon := lc.ll(x, y)
		ring = append(ring, orb.Point{lon, lat})
	}
	ring = append(ring, ring[0])
	return xy, ring
}

func newRandomWorld(t testing.TB, rng *rand.Rand, holes, excl int, R float64) *randomWorld {
	t.Helper()
	w := &randomWorld{lc: newLocal(32.0, -110.0)}
	outerXY, outer := starRing(rng, w.lc, 0, 0, 0.75*R, R, 10+rng.Intn(6))
	w.area = orb.Polygon{outer}
	w.rings = [][][2]float64{outerXY}
	type disk struct{ x, y, r float64 }
	var placed []disk
	fits := func(x, y, r float64) bool {
		if math.Hypot(x, y)+r > 0.6*R {
			return false
		}
		for _, d := range placed {
			if math.Hypot(x-d.x, y-d.y) < r+d.r+80 {
				return false
			}
		}
		return true
	}
	place := func(rmin, rmax float64) (float64, float64, float64, bool) {
		for k := 0; k < 200; k++ {
			r := rmin + (rmax-rmin)*rng.Float64()
			x, y := (2*rng.Float64()-1)*R, (2*rng.Float64()-1)*R
			if fits(x, y, r) {
				placed = append(placed, disk{x, y, r})
				return x, y, r, true
			}
		}
		return 0, 0, 0, false
	}
	for i := 0; i < holes; i++ {
		if x, y, r, ok := place(0.05*R, 0.12*R); ok {
			xy, ring := starRing(rng, w.lc, x, y, 0.6*r, r, 6+rng.Intn(4))
			w.area = append(w.area, ring)
			w.rings = append(w.rings, xy)
		}
	}
	zones := []geofence.Zone{{ID: "big", Kind: geofence.Inclusion, Jurisdiction: geofence.US, Polygon: square(32, -110, 8*R)}}
	for i := 0; i < excl; i++ {
		x, y, r, ok := place(0.05*R, 0.12*R)
		if !ok {
			continue
		}
		if rng.Intn(2) == 0 {
			lat, lon := w.lc.ll(x, y)
			zones = append(zones, geofence.Zone{ID: "x" + string(rune('a'+i)), Kind: geofence.Exclusion, Jurisdiction: geofence.US, Center: orb.Point{lon, lat}, RadiusM: r})
			w.circ = append(w.circ, [3]float64{x, y, r})
		} else {
			xy, ring := starRing(rng, w.lc, x, y, 0.6*r, r, 5+rng.Intn(4))
			zones = append(zones, geofence.Zone{ID: "x" + string(rune('a'+i)), Kind: geofence.Exclusion, Jurisdiction: geofence.US, Polygon: orb.Polygon{ring}})
			w.exclXY = append(w.exclXY, xy)
		}
	}
	set, err := geofence.NewSet(zones, []geofence.Agency{{ID: "a", Jurisdictions: []geofence.Jurisdiction{geofence.US}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.set = set
	lat, lon := w.lc.ll(-1.3*R, -1.3*R)
	w.home = LatLon{Lat: lat, Lon: lon}
	return w
}

// freeXY says whether a local point is in the area's free space with the
// margin (computed independently of the planner).
func (w *randomWorld) freeXY(p [2]float64, margin float64) bool {
	if !inRing(w.rings[0], p) || ringDist(w.rings[0], p) < margin {
		return false
	}
	for _, h := range w.rings[1:] {
		if inRing(h, p) || ringDist(h, p) < margin {
			return false
		}
	}
	for _, e := range w.exclXY {
		if inRing(e, p) || ringDist(e, p) < margin {
			return false
		}
	}
	for _, c := range w.circ {
		if math.Hypot(p[0]-c[0], p[1]-c[1]) < c[2]+margin {
			return false
		}
	}
	return true
}

// legs returns a route's legs in the world's projection, with phases.
func (w *randomWorld) legs(rt Route) ([][2][2]float64, []Phase) {
	var out [][2][2]float64
	var ph []Phase
	for i := 1; i < len(rt.Waypoints); i++ {
		a, b := rt.Waypoints[i-1], rt.Waypoints[i]
		out = append(out, [2][2]float64{w.lc.xy(a.Lat, a.Lon), w.lc.xy(b.Lat, b.Lon)})
		ph = append(ph, b.Phase)
	}
	return out, ph
}

// checkAllowed fails if any leg of rt (take-off and landing included) leaves
// the agency's allowed space, checked leg by leg with package geofence.
func checkAllowed(t *testing.T, set *geofence.Set, agency string, rt Route) {
	t.Helper()
	var pos []geofence.Position
	if !rt.Airborne {
		pos = append(pos, geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0))
	}
	for _, w := range rt.Waypoints {
		pos = append(pos, geofence.Pos(w.Lat, w.Lon, w.AltM))
	}
	pos = append(pos, geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0))
	for i := 1; i < len(pos); i++ {
		v, err := set.CheckSegment(agency, pos[i-1], pos[i], t0)
		if err != nil || v != nil {
			t.Fatalf("drone %s leg %d leaves the allowed space: %v %v", rt.DroneID, i-1, v, err)
		}
	}
}
