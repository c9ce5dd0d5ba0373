package geofence

import (
	"math"
	"math/rand"
	"syscall"
	"testing"
	"time"
)

// corridorHomes are the simulator's six corridor homes (sim.Corridors).
var corridorHomes = [][2]float64{
	{32.5480, -117.0293}, {32.6780, -115.4350}, {31.3370, -110.9420},
	{31.7580, -106.4869}, {27.5050, -99.5075}, {26.1000, -98.2700},
}

// corridorPoints are n positions within about 3 km of the corridor homes,
// where patrol drones fly, at 20 to 110 m.
func corridorPoints(n int, seed int64) []Position {
	r := rand.New(rand.NewSource(seed))
	out := make([]Position, n)
	for i := range out {
		h := corridorHomes[i%len(corridorHomes)]
		dn, de := (r.Float64()*2-1)*3000, (r.Float64()*2-1)*3000
		lat := h[0] + dn/degToM
		lon := h[1] + de/(degToM*math.Cos(h[0]*math.Pi/180))
		out[i] = Pos(lat, lon, 20+r.Float64()*90)
	}
	return out
}

// BenchmarkBoundary is the breach watch's cost per position with the
// bundled zones: the nearest boundary alone, and the whole Watch.
func BenchmarkBoundary(b *testing.B) {
	d := MustDefault(b)
	pts := corridorPoints(4096, 1)
	ag, _ := d.agency("all")
	scan := *d
	scan.scanBoundary = true
	for _, mode := range []struct {
		name string
		s    *Set
	}{{"index", d}, {"scan", &scan}} {
		b.Run("boundary/bundled/"+mode.name, func(b *testing.B) {
			cpuPerOp(b, func(i int) { mode.s.boundary(ag, pts[i%len(pts)], t0) })
		})
	}
	m := Margin{HorizontalM: 50, VerticalM: 10, Time: 10 * time.Second}
	for _, agency := range []string{"all", "cbp"} {
		for _, mode := range []struct {
			name string
			s    *Set
		}{{"index", d}, {"scan", &scan}} {
			b.Run("watch/bundled/"+agency+"/"+mode.name, func(b *testing.B) {
				cpuPerOp(b, func(i int) { mode.s.Watch(agency, pts[i%len(pts)], Velocity{VN: 5, VE: 3}, m, t0) })
			})
		}
	}
	s := syntheticSet(b, 1000)
	spts := benchPoints(s, 1024)
	sag, _ := s.agency("all")
	sscan := *s
	sscan.scanBoundary = true
	for _, mode := range []struct {
		name string
		s    *Set
	}{{"index", s}, {"scan", &sscan}} {
		b.Run("boundary/zones=1000/"+mode.name, func(b *testing.B) {
			cpuPerOp(b, func(i int) { mode.s.boundary(sag, spts[i%len(spts)], t0) })
		})
	}
}

// cpuPerOp reports the process CPU time per operation, steadier than wall
// time on a shared machine.
func cpuPerOp(b *testing.B, fn func(i int)) {
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	n := 0
	for i := 0; b.Loop(); i++ {
		fn(i)
		n++
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkWatchAtHomes is the breach watch on simulated drones waiting at
// their homes (on the ground, 60 m apart along each corridor), as in
// centinela bench.
func BenchmarkWatchAtHomes(b *testing.B) {
	d := MustDefault(b)
	var pts []Position
	for i := range 250 {
		h := corridorHomes[i%len(corridorHomes)]
		k := float64(i / len(corridorHomes))
		pts = append(pts, Pos(h[0], h[1]+k*60/(degToM*math.Cos(h[0]*math.Pi/180)), 0))
	}
	m := Margin{HorizontalM: 50, VerticalM: 10, Time: 10 * time.Second}
	scan := *d
	scan.scanBoundary = true
	for _, mode := range []struct {
		name string
		s    *Set
	}{{"index", d}, {"scan", &scan}} {
		b.Run(mode.name, func(b *testing.B) {
			cpuPerOp(b, func(i int) { mode.s.Watch("all", pts[i%len(pts)], Velocity{}, m, t0) })
		})
	}
}
