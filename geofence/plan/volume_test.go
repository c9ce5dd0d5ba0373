package plan

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"
)

func randomVolume(rng *rand.Rand, id string) Volume {
	lc := newLocal(32.5, -117.0)
	x, y := rng.Float64()*5000, rng.Float64()*5000
	v := Volume{PatrolID: id, DroneID: "d-" + id, BufferM: 20 + rng.Float64()*80, AltM: 30 + rng.Float64()*80, VerticalM: 5 + rng.Float64()*10}
	for k := 0; k < 2+rng.Intn(6); k++ {
		lat, lon := lc.ll(x, y)
		v.Path = append(v.Path, LatLon{Lat: lat, Lon: lon})
		x += (rng.Float64() - 0.5) * 1500
		y += (rng.Float64() - 0.5) * 1500
	}
	v.Start = t0.Add(time.Duration(rng.Intn(7200)) * time.Second)
	v.End = v.Start.Add(time.Duration(300+rng.Intn(1800)) * time.Second)
	return v
}

// intersectSampled tells, independently of the registry, whether two
// volumes intersect: time windows, bands, and the horizontal distance
// between densely sampled paths.
func intersectSampled(a, b Volume, slack float64) bool {
	if !a.Start.Before(b.End) || !b.Start.Before(a.End) {
		return false
	}
	if a.AltM+a.VerticalM < b.AltM-b.VerticalM || b.AltM+b.VerticalM < a.AltM-a.VerticalM {
		return false
	}
	lc := newLocal(32.5, -117.0)
	sample := func(v Volume) [][2]float64 {
		var out [][2]float64
		for i := 1; i < len(v.Path); i++ {
			p, q := lc.xy(v.Path[i-1].Lat, v.Path[i-1].Lon), lc.xy(v.Path[i].Lat, v.Path[i].Lon)
			n := int(math.Hypot(q[0]-p[0], q[1]-p[1])/2) + 1
			for k := 0; k <= n; k++ {
				f := float64(k) / float64(n)
				out = append(out, [2]float64{p[0] + f*(q[0]-p[0]), p[1] + f*(q[1]-p[1])})
			}
		}
		return out
	}
	// Sample a densely and measure to b's segments (and b to a's).
	near := func(x, y Volume) bool {
		var segs [][2][2]float64
		for i := 1; i < len(y.Path); i++ {
			segs = append(segs, [2][2]float64{lc.xy(y.Path[i-1].Lat, y.Path[i-1].Lon), lc.xy(y.Path[i].Lat, y.Path[i].Lon)})
		}
		for _, p := range sample(x) {
			for _, sg := range segs {
				if ptSegDist(p, sg[0], sg[1]) < a.BufferM+b.BufferM+slack {
					return true
				}
			}
		}
		return false
	}
	if near(a, b) || near(b, a) {
		return true
	}
	return false
}

// Property: over random plans, no two accepted volumes ever intersect, and
// every refusal names a volume it really meets.
func TestPropertyNoTwoVolumesIntersect(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	reg := &Registry{Now: func() time.Time { return t0 }}
	refused := 0
	for i := 0; i < 300; i++ {
		v := randomVolume(rng, fmt.Sprintf("p%03d", i))
		opt := Resolve{}
		if i%3 == 0 {
			opt.Layers = []float64{v.AltM + 40, v.AltM - 25}
		}
		if i%5 == 0 {
			opt.MaxDelay = time.Hour
		}
		_, err := reg.Reserve(v, opt)
		var pe *Error
		if err != nil {
			if !errors.As(err, &pe) || pe.Code != CodeConflict || pe.Conflict == nil {
				t.Fatalf("reserve %s: %v", v.PatrolID, err)
			}
			other, ok := reg.Get(pe.Conflict.PatrolID)
			if !ok || !intersectSampled(v, other, 2) {
				t.Fatalf("%s refused for %s, which it does not meet", v.PatrolID, pe.Conflict.PatrolID)
			}
			refused++
		}
	}
	vols := reg.List()
	for i := range vols {
		for j := i + 1; j < len(vols); j++ {
			if intersectSampled(vols[i], vols[j], -2) {
				t.Fatalf("accepted volumes %s and %s intersect", vols[i].PatrolID, vols[j].PatrolID)
			}
		}
	}
	if refused == 0 || len(vols) < 20 {
		t.Fatalf("%d accepted, %d refused: the property was not exercised", len(vols), refused)
	}
}

func TestRegistryResolveReleaseExtendConform(t *testing.T) {
	reg := &Registry{Now: func() time.Time { return t0 }}
	a := Volume{PatrolID: "a", DroneID: "d1", Path: []LatLon{{Lat: 32.5, Lon: -117.0}, {Lat: 32.51, Lon: -117.0}}, BufferM: 50, AltM: 60, VerticalM: 10, Start: t0, End: t0.Add(30 * time.Minute)}
	if _, err := reg.Reserve(a, Resolve{}); err != nil {
		t.Fatal(err)
	}
	b := a
	b.PatrolID, b.DroneID = "b", "d2"
	b.Path = []LatLon{{Lat: 32.505, Lon: -117.01}, {Lat: 32.505, Lon: -116.99}}
	_, err := reg.Reserve(b, Resolve{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeConflict || pe.Conflict.PatrolID != "a" || math.Abs(pe.Conflict.At.Lat-32.505) > 0.001 || !pe.Conflict.From.Equal(t0) {
		t.Fatalf("overlapping patrol: %v, want a conflict with a near 32.505 from %v", err, t0)
	}
	if c, _ := reg.Check(b); c == nil || c.PatrolID != "a" {
		t.Fatalf("check: %v", c)
	}
	res, err := reg.Reserve(b, Resolve{Layers: []float64{65, 90}})
	if err != nil || res.Resolved != "altitude" || res.AltM != 90 {
		t.Fatalf("altitude layers: %+v %v, want 90 m (65 m still overlaps)", res, err)
	}
	c := b
	c.PatrolID = "c"
	res, err = reg.Reserve(c, Resolve{MaxDelay: time.Hour})
	if err != nil || res.Resolved != "delay" || res.Volume.Start.Before(a.End) {
		t.Fatalf("delay: %+v %v", res, err)
	}
	// Extending a into c's window is refused; releasing c lets it.
	if err := reg.Extend("a", c.End.Add(time.Hour)); !errors.As(err, &pe) || pe.Code != CodeConflict {
		t.Fatalf("extend into c: %v", err)
	}
	if err := reg.Release("c"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Extend("a", a.End.Add(20*time.Minute)); err != nil {
		t.Fatalf("extend: %v", err)
	}
	if err := reg.Release("c"); !errors.As(err, &pe) || pe.Code != CodeNotFound {
		t.Fatalf("release twice: %v", err)
	}
	// Conformance: inside, beside, above, late.
	for _, tc := range []struct {
		p      LatLon
		alt    float64
		at     time.Time
		reason string
	}{
		{LatLon{Lat: 32.505, Lon: -117.0}, 60, t0.Add(time.Minute), ""},
		{LatLon{Lat: 32.505, Lon: -116.998}, 60, t0.Add(time.Minute), "horizontal"},
		{LatLon{Lat: 32.505, Lon: -117.0}, 75, t0.Add(time.Minute), "vertical"},
		{LatLon{Lat: 32.505, Lon: -117.0}, 60, t0.Add(2 * time.Hour), "late"},
	} {
		d, err := reg.Conform("a", tc.p, tc.alt, tc.at)
		if err != nil || (d == nil) != (tc.reason == "") || (d != nil && d.Reason != tc.reason) {
			t.Errorf("conform %+v: %+v %v, want %q", tc, d, err, tc.reason)
		}
	}
	bad := a
	bad.PatrolID, bad.End = "bad", a.Start
	if _, err := reg.Reserve(bad, Resolve{}); !errors.As(err, &pe) || pe.Code != CodeInvalid {
		t.Fatalf("bad window: %v", err)
	}
}

// Two operators dispatching overlapping patrols at the same moment: exactly
// one wins, the other gets the conflict naming it.
func TestRegistryRace(t *testing.T) {
	for round := 0; round < 200; round++ {
		reg := &Registry{Now: func() time.Time { return t0 }}
		v := Volume{Path: []LatLon{{Lat: 32.5, Lon: -117.0}, {Lat: 32.51, Lon: -117.0}}, BufferM: 50, AltM: 60, VerticalM: 10, Start: t0, End: t0.Add(time.Hour)}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := v
				w.PatrolID = fmt.Sprintf("op%d", i)
				<-start
				_, errs[i] = reg.Reserve(w, Resolve{})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			var pe *Error
			switch {
			case err == nil:
				won++
			case errors.As(err, &pe) && pe.Code == CodeConflict && pe.Conflict.PatrolID == fmt.Sprintf("op%d", 1-i):
			default:
				t.Fatalf("round %d: operator %d: %v", round, i, err)
			}
		}
		if won != 1 || len(reg.List()) != 1 {
			t.Fatalf("round %d: %d winners, %d reserved", round, won, len(reg.List()))
		}
	}
}

// A patrol that meets a reserved one is resolved by an altitude layer
// inside the zones' band: the layers offered stay under the 120 m ceiling.
func TestResolveWithAltitudeLayers(t *testing.T) {
	set := mustDefault(t)
	home := LatLon{Lat: 32.5480, Lon: -117.0293}
	req := Request{Kind: Perimeter, Agency: "us-agency", Drones: []Drone{{ID: "d", Home: home}}, Area: square(32.552, -117.05, 1200), Start: t0}
	res, err := Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	layers := AltitudeLayers(set, "us-agency", res.Routes, 20, 150, 20, t0)
	if len(layers) == 0 || layers[0] != 40 && layers[0] != 80 {
		t.Fatalf("layers %v: want the nearest to 60 m first", layers)
	}
	for _, a := range layers {
		if a > 120 {
			t.Fatalf("layer %v above the 120 m ceiling", a)
		}
	}
	reg := &Registry{Now: func() time.Time { return t0 }}
	first := VolumeOf("first", res.Routes, t0, 30, 10, 5*time.Minute)
	if _, err := reg.Reserve(first, Resolve{}); err != nil {
		t.Fatal(err)
	}
	second := VolumeOf("second", res.Routes, t0.Add(time.Minute), 30, 10, 5*time.Minute)
	got, err := reg.Reserve(second, Resolve{Layers: layers})
	if err != nil || got.Resolved != "altitude" || got.AltM == 60 {
		t.Fatalf("resolution: %+v %v", got, err)
	}
	moved := res.Routes[0].WithAltitude(got.AltM, 0, 0)
	checkAllowed(t, set, "us-agency", moved)
	if moved.Waypoints[0].AltM != got.AltM || moved.Duration == res.Routes[0].Duration {
		t.Fatalf("route at the new layer: %+v", moved.Waypoints[0])
	}
}
