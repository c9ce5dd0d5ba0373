package plan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// benchWorld is one inclusion zone of agency "a" with exclusion hexagons.
func benchWorld(b *testing.B, n int, R float64, seed int64) (*geofence.Set, local, [][3]float64) {
	b.Helper()
	rng := rand.New(rand.NewSource(seed))
	lc := newLocal(32, -110)
	zones := []geofence.Zone{{ID: "big", Kind: geofence.Inclusion, Jurisdiction: geofence.US, Polygon: square(32, -110, 4*R)}}
	var placed [][3]float64
	for len(placed) < n {
		x, y, r := (2*rng.Float64()-1)*R*0.9, (2*rng.Float64()-1)*R*0.9, 100+150*rng.Float64()
		ok := true
		for _, p := range placed {
			if math.Hypot(x-p[0], y-p[1]) < r+p[2]+100 {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		placed = append(placed, [3]float64{x, y, r})
		var ring orb.Ring
		for k := 0; k < 6; k++ {
			a := 2 * math.Pi * float64(k) / 6
			lat, lon := lc.ll(x+r*math.Cos(a), y+r*math.Sin(a))
			ring = append(ring, orb.Point{lon, lat})
		}
		ring = append(ring, ring[0])
		zones = append(zones, geofence.Zone{ID: fmt.Sprintf("x%d", len(placed)), Kind: geofence.Exclusion, Jurisdiction: geofence.US, Polygon: orb.Polygon{ring}})
	}
	set, err := geofence.NewSet(zones, []geofence.Agency{{ID: "a", Jurisdictions: []geofence.Jurisdiction{geofence.US}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return set, lc, placed
}

// Coverage of a 10 km² square with 20 holes (swath 50 m, 10 % overlap).
func BenchmarkCoverage10km2Holes20(b *testing.B) {
	set, lc, _ := benchWorld(b, 0, 5000, 1)
	rng := rand.New(rand.NewSource(2))
	side := math.Sqrt(10e6)
	area := square(32, -110, side)
	for len(area) < 21 {
		x, y := (rng.Float64()-0.5)*side*0.8, (rng.Float64()-0.5)*side*0.8
		ok := true
		for _, h := range area[1:] {
			c := lc.xy(h[0][1], h[0][0])
			if math.Hypot(c[0]-x, c[1]-y) < 300 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		lat, lon := lc.ll(x, y)
		h := square(lat, lon, 100+rng.Float64()*100)[0]
		area = append(area, h)
	}
	lat, lon := lc.ll(-side, -side)
	req := Request{Kind: Coverage, Agency: "a", Drones: []Drone{{ID: "d", Home: LatLon{Lat: lat, Lon: lon}}}, Area: area, SwathM: 50, Endurance: 48 * time.Hour, Start: t0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Plan(set, req, t0)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(len(res.Routes[0].Waypoints)), "waypoints")
		}
	}
}

// Transit across a field of 100 exclusion hexagons.
func BenchmarkTransit100Polygons(b *testing.B) {
	set, lc, _ := benchWorld(b, 100, 5000, 3)
	la, lo := lc.ll(-5200, -5200)
	lt, ln := lc.ll(5200, 5200)
	req := Request{Kind: Transit, Agency: "a", Drones: []Drone{{ID: "d", Home: LatLon{Lat: la, Lon: lo}}}, To: LatLon{Lat: lt, Lon: ln}, Endurance: 10 * time.Hour, Start: t0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Plan(set, req, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// Checking a new patrol against 1,000 reserved volumes.
func BenchmarkCheck1000Volumes(b *testing.B) {
	rng := rand.New(rand.NewSource(9))
	reg := &Registry{Now: func() time.Time { return t0 }}
	for len(reg.List()) < 1000 {
		v := randomVolume(rng, fmt.Sprintf("p%04d", len(reg.List())+rng.Intn(1<<20)*10000))
		v.Start = t0.Add(time.Duration(rng.Intn(86400*7)) * time.Second)
		v.End = v.Start.Add(time.Hour)
		for k := range v.Path {
			v.Path[k].Lat += rng.Float64() * 0.5
			v.Path[k].Lon += rng.Float64() * 0.5
		}
		reg.Reserve(v, Resolve{})
	}
	v := randomVolume(rng, "new")
	// A coverage-sized path of 200 points.
	for k := 0; k < 200; k++ {
		v.Path = append(v.Path, LatLon{Lat: 32.5 + 0.0005*float64(k%20), Lon: -117.0 + 0.01*float64(k/20)})
	}
	v.Start, v.End = t0, t0.Add(7*24*time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Check(v); err != nil {
			b.Fatal(err)
		}
	}
}
