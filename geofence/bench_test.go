package geofence

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// synthetic returns n zones over a 10°×5° area along the border: 16-gon
// inclusion zones of 3–6 km radius in every jurisdiction and, every fourth
// zone, an exclusion circle of 0.5–3 km, with a fixed seed.
func synthetic(n int) []Zone {
	rng := rand.New(rand.NewPCG(1, 2))
	js := []Jurisdiction{US, MX, Joint}
	zones := make([]Zone, 0, n)
	for i := 0; i < n; i++ {
		c := orb.Point{-112 + rng.Float64()*10, 27 + rng.Float64()*5}
		id := fmt.Sprintf("z%05d", i)
		if i%4 == 3 {
			zones = append(zones, Zone{ID: id, Kind: Exclusion, Jurisdiction: US, Center: c,
				RadiusM: 500 + rng.Float64()*2500, FloorM: -100, CeilingM: 1000})
			continue
		}
		r := 3000 + rng.Float64()*3000
		ring := circleRing(c, r, 16)
		zones = append(zones, Zone{ID: id, Kind: Inclusion, Jurisdiction: js[i%3], Polygon: orb.Polygon{ring}})
	}
	return zones
}

func syntheticSet(tb testing.TB, n int) *Set {
	tb.Helper()
	s, err := NewSet(synthetic(n), []Agency{agencyUS, agencyAll}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestIndexMatchesLinearScan checks the index against a scan of every zone.
func TestIndexMatchesLinearScan(t *testing.T) {
	s := syntheticSet(t, 2000)
	lin := *s
	lin.linear = true
	rng := rand.New(rand.NewPCG(3, 4))
	allowed := 0
	for i := 0; i < 3000; i++ {
		p := Pos(27+rng.Float64()*5, -112+rng.Float64()*10, rng.Float64()*130)
		a1, v1, _ := s.Allowed("all", p, t0)
		a2, v2, _ := lin.Allowed("all", p, t0)
		if a1 != a2 || !sameViolation(v1, v2) {
			t.Fatalf("%v: index %v %v, scan %v %v", p, a1, v1, a2, v2)
		}
		if a1 {
			allowed++
		}
	}
	if allowed == 0 || allowed == 3000 {
		t.Fatalf("%d of 3000 points allowed: the test does not discriminate", allowed)
	}
	for i := 0; i < 300; i++ {
		a := Pos(27+rng.Float64()*5, -112+rng.Float64()*10, 50)
		b := Pos(a.Lat+rng.Float64()*0.1-0.05, a.Lon+rng.Float64()*0.1-0.05, 60)
		v1, _ := s.CheckSegment("all", a, b, t0)
		v2, _ := lin.CheckSegment("all", a, b, t0)
		if !sameViolation(v1, v2) {
			t.Fatalf("segment %v→%v: index %v, scan %v", a, b, v1, v2)
		}
	}
}

// points returns query points, half of them inside zones.
func benchPoints(s *Set, n int) []Position {
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([]Position, n)
	for i := range out {
		if i%2 == 0 {
			z := &s.zones[rng.IntN(len(s.zones))]
			c := z.b.Center()
			out[i] = Pos(c[1], c[0], 50)
			continue
		}
		out[i] = Pos(27+rng.Float64()*5, -112+rng.Float64()*10, 50)
	}
	return out
}

func BenchmarkAllowed(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		s := syntheticSet(b, n)
		pts := benchPoints(s, 1024)
		for _, mode := range []string{"index", "linear"} {
			q := *s
			q.linear = mode == "linear"
			b.Run(fmt.Sprintf("zones=%d/%s", n, mode), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					q.Allowed("all", pts[i%len(pts)], t0)
				}
			})
		}
	}
}

func BenchmarkCheckSegment(b *testing.B) {
	s := syntheticSet(b, 1000)
	pts := benchPoints(s, 1024)
	for _, mode := range []string{"index", "linear"} {
		q := *s
		q.linear = mode == "linear"
		b.Run("zones=1000/"+mode, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				a := pts[i%len(pts)]
				end := ahead(a, Velocity{VN: 10, VE: 10}, 200) // a 2.8 km leg
				q.CheckSegment("all", a, end, t0)
			}
		})
	}
}

func BenchmarkCheckPoint(b *testing.B) {
	s := syntheticSet(b, 1000)
	pts := benchPoints(s, 1024)
	b.Run("zones=1000", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			s.CheckPoint("all", pts[i%len(pts)], t0)
		}
	})
	d := MustDefault(b)
	b.Run("default/san-diego", func(b *testing.B) {
		for b.Loop() {
			d.CheckPoint("cbp", sdNorth, t0)
		}
	})
}

func BenchmarkWatch(b *testing.B) {
	d := MustDefault(b)
	m := Margin{HorizontalM: 100, VerticalM: 10, Time: 10 * time.Second}
	b.Run("default/san-diego", func(b *testing.B) {
		for b.Loop() {
			d.Watch("cbp", sdNorth, Velocity{VN: -10}, m, t0)
		}
	})
}

func BenchmarkNewSet(b *testing.B) {
	zones := synthetic(1000)
	for b.Loop() {
		if _, err := NewSet(zones, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func sameViolation(a, b *Violation) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.At.AltMSL, y.At.AltMSL = 0, 0 // NaN != NaN
	return x == y && math.IsNaN(a.At.AltMSL) == math.IsNaN(b.At.AltMSL)
}
