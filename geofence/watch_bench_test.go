package geofence

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The breach watch as `centinela bench` exercises it, and as patrols do.
// The bench's drones (sim: homeFor) wait on the ground at their homes: the
// six corridor homes in turn, drones of one corridor 60 m apart along a line
// east of it, each simulator group of 250 drones starting again at drone 0,
// reporting GPS noise of about half a metre and no velocity. The server's
// watch checks them with its default margin (fleet.DefaultZoneMargin*).

// serverMargin is the fleet.ZoneWatch's default margin.
var serverMargin = Margin{HorizontalM: 50, VerticalM: 10, Time: 10 * time.Second}

// corridorAlts are the corridor homes' altitudes AMSL (sim.Corridors).
var corridorAlts = []float64{40, 2, 1180, 1130, 130, 40}

// watchCase is one position and velocity of a drone.
type watchCase struct {
	p Position
	v Velocity
}

// benchHomes returns the bench's n drones at their homes, variants positions
// each (GPS noise), drone by drone as the server sees them: variant k of
// every drone, then variant k+1.
func benchHomes(n, variants int) []watchCase {
	rng := rand.New(rand.NewPCG(31, 32))
	out := make([]watchCase, 0, n*variants)
	for k := range variants {
		_ = k
		for d := range n {
			i := d % 250 // each sim group starts again at drone 0
			c := i % len(corridorHomes)
			h := corridorHomes[c]
			kx := degToM * math.Cos(h[0]*math.Pi/180)
			east := float64(i/len(corridorHomes))*60 + rng.NormFloat64()*0.5
			north := rng.NormFloat64() * 0.5
			p := Pos(h[0]+north/degToM, h[1]+east/kx, 0)
			p.AltMSL = corridorAlts[c]
			out = append(out, watchCase{p: p})
		}
	}
	return out
}

// patrolCases returns n positions within about 3 km of the corridor homes
// at 20 to 110 m, flying at up to 15 m/s, a third of them climbing or
// descending at up to 3 m/s.
func patrolCases(n int, seed uint64) []watchCase {
	rng := rand.New(rand.NewPCG(seed, 33))
	pts := corridorPoints(n, int64(seed))
	out := make([]watchCase, n)
	for i, p := range pts {
		sp, dir := rng.Float64()*15, rng.Float64()*2*math.Pi
		v := Velocity{VN: sp * math.Cos(dir), VE: sp * math.Sin(dir)}
		if i%3 == 0 {
			v.VD = (rng.Float64()*2 - 1) * 3
		}
		out[i] = watchCase{p: p, v: v}
	}
	return out
}

// aboveCeiling returns cs at 130 m, above every inclusion zone's ceiling
// (120 m) of the bundled set.
func aboveCeiling(cs []watchCase) []watchCase {
	for i := range cs {
		cs[i].p.RelAlt = 130
	}
	return cs
}

// BenchmarkWatchBench is Set.Watch per position with the bundled zones, for
// each test agency (cbp: US, gn: MX, jtf: JOINT, all: every jurisdiction,
// as the server's default agency), at the bench's drones ("homes", 1,000 of
// them), at random patrol points ("patrol") and at patrol points above the
// ceiling ("above"), with the server's default margin and with none. cpu-ns/op is the process's CPU per position.
func BenchmarkWatchBench(b *testing.B) {
	d := MustDefault(b)
	sets := []struct {
		name string
		pts  []watchCase
	}{{"homes", benchHomes(1000, 8)}, {"patrol", patrolCases(4096, 1)}, {"above", aboveCeiling(patrolCases(64, 2))}}
	for _, set := range sets {
		for _, agency := range []string{"cbp", "gn", "jtf", "all"} {
			for _, m := range []struct {
				name string
				m    Margin
			}{{"margin", serverMargin}, {"nomargin", Margin{}}} {
				b.Run(set.name+"/"+agency+"/"+m.name, func(b *testing.B) {
					pts := set.pts
					// Warm the caches as a running server has.
					for i := range 2 * len(pts) {
						c := &pts[i%len(pts)]
						d.Watch(agency, c.p, c.v, m.m, t0)
					}
					b.ReportAllocs()
					cpuPerOp(b, func(i int) {
						c := &pts[i%len(pts)]
						d.Watch(agency, c.p, c.v, m.m, t0)
					})
				})
			}
		}
	}
}
