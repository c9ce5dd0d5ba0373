//go:build unix

package store

import (
	"fmt"
	"math"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// BenchmarkRecorderTraffic records the traffic of `centinela bench
// --drones 1000`: 1,000 drones' positions at 16 Hz (16,000 points a second
// of simulated time) through the Recorder's reader and writer, committed
// every 200 ms of simulated time (3,200 points a commit, fsynced), with the
// store's own compaction (the trimmer's goroutine, kicked by each commit)
// and retention: history older than 10 s (simulated) is removed every 5 s,
// so that in the steady state every point is written, compacted and
// removed. One op is one point: ns/op and allocs/op are per point. It
// reports the process's CPU time (user and system, every goroutine) per
// point, which is what the server pays, and the bytes the stored points
// use on disk (pages in use over points kept, after a final compaction).
// The benchmark's own conversion of each update into a fleet.Event (one
// allocation of about 600 bytes, as the fleet's bus makes) is counted.
// Run with a fixed count, e.g. -benchtime=320000x.
func BenchmarkRecorderTraffic(b *testing.B) {
	const (
		drones = 1000
		hz     = 16
		commit = 200 * time.Millisecond
		step   = time.Second / hz
	)
	var simNow atomic.Int64
	start := t0
	simNow.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, simNow.Load()).UTC() }
	db := mustOpen(b, "", Options{Now: now, MaxAge: 10 * time.Second, TrimInterval: time.Hour})
	r := &Recorder{DB: db, Now: now}
	r.init()
	events := make(chan fleet.Event, 4096)
	tick := make(chan time.Time)
	r.start(events, tick)
	ids := make([]string, drones)
	for i := range ids {
		ids[i] = fmt.Sprintf("drone-%04d", i)
	}
	state := func(i, n int, at time.Time) fleet.DroneState {
		f := float64(n)
		return fleet.DroneState{ID: ids[i], Agency: "us-cbp", Mode: "AUTO", Armed: true, HasPosition: true,
			Position: fleet.Position{Lat: 32.5 + float64(i)*1e-3 + f*1e-6, Lon: -117 + f*2e-6, RelAlt: 40 + math.Mod(f, 7)},
			AltMSL:   90 + math.Mod(f, 7), VelN: 3.2, VelE: -1.5, VelD: 0.1, GroundSpeed: 3.5, Heading: math.Mod(f, 360),
			Battery:   fleet.Battery{RemainingPct: 90 - n/1000},
			LinkState: fleet.LinkStateUp, LastSeen: at}
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	at, nextCommit, nextTrim := start, start.Add(commit), start.Add(5*time.Second)
	for fed, frame := 0, 0; fed < b.N; frame++ {
		for i := 0; i < drones && fed < b.N; i++ {
			events <- fleet.StateChanged{Drone: state(i, frame, at)}
			fed++
		}
		at = at.Add(step)
		simNow.Store(at.UnixNano())
		if !at.Before(nextCommit) || fed == b.N {
			nextCommit = nextCommit.Add(commit)
			// Commit what was fed, as the 200 ms between real ticks would
			// let the writer do.
			for len(events) > 0 {
				time.Sleep(20 * time.Microsecond)
			}
			for r.points.Load() < uint64(fed) {
				select {
				case tick <- at:
				default:
					time.Sleep(20 * time.Microsecond)
				}
			}
		}
		if !at.Before(nextTrim) {
			nextTrim = nextTrim.Add(5 * time.Second)
			if err := db.Trim(); err != nil {
				b.Fatal(err)
			}
		}
	}
	close(events)
	r.wg.Wait()
	db.trimMu.Lock() // wait for a compaction under way
	db.trimMu.Unlock()
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	s := r.Stats()
	if s.DroppedPoints != 0 || s.Stopped || s.Points != uint64(b.N) {
		b.Fatalf("stats %+v after %d points", s, b.N)
	}
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) +
		syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime))
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/point")
	if err := db.compact(true); err != nil {
		b.Fatal(err)
	}
	kept := uint64(b.N) - db.TrimStats().Points
	sz, err := db.Size()
	if err != nil {
		b.Fatal(err)
	}
	if kept > 0 {
		b.ReportMetric(float64(sz.UsedBytes)/float64(kept), "disk-B/point")
	}
}

// BenchmarkRecorderTrafficFloor is BenchmarkRecorderTraffic's own cost:
// the same updates made, boxed as events and sent to a goroutine that
// only counts them, so that the store's share is the difference.
func BenchmarkRecorderTrafficFloor(b *testing.B) {
	const drones, hz = 1000, 16
	ids := make([]string, drones)
	for i := range ids {
		ids[i] = fmt.Sprintf("drone-%04d", i)
	}
	events := make(chan fleet.Event, 4096)
	done := make(chan int)
	go func() {
		n := 0
		for ev := range events {
			if _, ok := ev.(fleet.StateChanged); ok {
				n++
			}
		}
		done <- n
	}()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	at := t0
	for fed, frame := 0, 0; fed < b.N; frame++ {
		for i := 0; i < drones && fed < b.N; i++ {
			f := float64(frame)
			events <- fleet.StateChanged{Drone: fleet.DroneState{ID: ids[i], Agency: "us-cbp", Mode: "AUTO", Armed: true, HasPosition: true,
				Position: fleet.Position{Lat: 32.5 + float64(i)*1e-3 + f*1e-6, Lon: -117 + f*2e-6, RelAlt: 40 + math.Mod(f, 7)},
				AltMSL:   90 + math.Mod(f, 7), VelN: 3.2, VelE: -1.5, VelD: 0.1, GroundSpeed: 3.5, Heading: math.Mod(f, 360),
				Battery:   fleet.Battery{RemainingPct: 90 - frame/1000},
				LinkState: fleet.LinkStateUp, LastSeen: at}}
			fed++
		}
		at = at.Add(time.Second / hz)
	}
	close(events)
	if n := <-done; n != b.N {
		b.Fatalf("%d events received of %d", n, b.N)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) +
		syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime)
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/point")
}
