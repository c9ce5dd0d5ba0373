package web

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// BenchmarkWSFanout: 1,000 drones' states, each changed once an operation,
// delivered to 100 clients watching every drone over loopback WebSockets.
// It reports the cost per delivered update (one drone's state reaching
// one client): wall time and the process's allocations, the hub's
// encoding, the clients' writers, the kernel's loopback and the readers
// (which count the states in a reused buffer) all included. States go
// out every 10 ms (the flush, or before it the per-client ticker at
// 100 Hz), so a round waits up to 10 ms for its first frame.
func BenchmarkWSFanout(b *testing.B) {
	const drones, clients = 1000, 100
	h := newHarness(b, func(s *Server) {
		s.FlushInterval = 10 * time.Millisecond
		s.MaxRateHz = 100
	})
	ctx := context.Background()
	states := make([]fleet.DroneState, drones)
	now := time.Now()
	for i := range states {
		states[i] = fleet.DroneState{ID: fmt.Sprintf("bench-%04d", i), Name: fmt.Sprintf("halcon-%d", i),
			Agency: agencyJoint, Link: "udp:127.0.0.1:14550", LinkState: fleet.LinkStateUp, Mode: "AUTO", Armed: true,
			HasPosition: true, Position: fleet.Position{Lat: baseLat, Lon: baseLon, RelAlt: 40}, AltMSL: 62,
			GroundSpeed: 9.8, Heading: 271.5, LastSeen: now}
		h.Srv.hub.onState(ctx, states[i])
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	cs := make([]*wsClient, clients)
	for i := range cs {
		cs[i] = h.dial(h.Supervisor)
		cs[i].send(map[string]any{"type": "subscribe"})
		cs[i].next("snapshot", 10*time.Second)
	}
	statesPrefix, droneStart := []byte(`{"type":"states"`), []byte(`{"id":"`)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for {
				_, r, err := c.Conn.NextReader()
				if err != nil {
					return
				}
				buf.Reset()
				if _, err := buf.ReadFrom(r); err != nil {
					return
				}
				if bytes.HasPrefix(buf.Bytes(), statesPrefix) {
					got.Add(int64(bytes.Count(buf.Bytes(), droneStart)))
				}
			}
		}()
	}
	b.Cleanup(func() { // before the harness's: the readers end first
		for _, c := range cs {
			c.Conn.Close()
		}
		wg.Wait()
	})
	time.Sleep(50 * time.Millisecond) // the snapshots' states are all sent
	base := got.Load()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range states {
			states[i].Position.Lat += 1e-7
			states[i].LastSeen = states[i].LastSeen.Add(100 * time.Millisecond)
			h.Srv.hub.onState(ctx, states[i])
		}
		want := base + int64(n+1)*drones*clients
		deadline := time.Now().Add(30 * time.Second)
		for got.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("round %d: %d of %d updates delivered", n, got.Load()-base, want-base)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	updates := float64(b.N) * drones * clients
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/updates, "ns/update")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/updates, "allocs/update")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/updates, "B/update")
}
