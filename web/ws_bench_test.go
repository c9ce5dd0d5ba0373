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
// (which count the states in a reused buffer) all included, and the bytes
// the clients read per update (wire-B/update). States go out every 10 ms
// (the flush, or before it the per-client ticker at 100 Hz), so a round
// waits up to 10 ms for its first frame. Sub-benchmarks: the clients speak
// protocol 1 (full objects) or 2 (compact entries: every update here is a
// move).
func BenchmarkWSFanout(b *testing.B) {
	for _, proto := range []int{ProtocolV1, ProtocolV2} {
		b.Run(fmt.Sprintf("v%d", proto), func(b *testing.B) { benchmarkWSFanout(b, proto) })
	}
}

func benchmarkWSFanout(b *testing.B, proto int) {
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
	var got, wire atomic.Int64
	var wg sync.WaitGroup
	cs := make([]*wsClient, clients)
	for i := range cs {
		cs[i] = h.dialProto(h.Supervisor, proto)
		cs[i].send(map[string]any{"type": "subscribe"})
		cs[i].next("snapshot", 10*time.Second)
	}
	statesPrefix, droneStart, posList, telList := []byte(`{"type":"states"`), []byte(`{"id":"`), []byte(`],"pos":[`), []byte(`],"tel":[`)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// next left a read deadline: dialling 100 clients on a loaded
			// machine can take longer than it.
			c.Conn.SetReadDeadline(time.Time{})
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
				msg := buf.Bytes()
				wire.Add(int64(len(msg)))
				if !bytes.HasPrefix(msg, statesPrefix) {
					continue
				}
				n := 0
				if k := bytes.Index(msg, posList); k >= 0 {
					pos := msg[k+len(posList):]
					if j := bytes.Index(pos, telList); j >= 0 {
						pos = pos[:j] // status entries go with compact ones: not states of their own
					}
					n, msg = bytes.Count(pos, []byte{'['}), msg[:k]
				}
				got.Add(int64(n + bytes.Count(msg, droneStart)))
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
	base, wire0 := got.Load(), wire.Load()
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
				b.Fatalf("round %d: %d of %d updates delivered (server %+v; frames shared %d, catch-up %d, own %d)", n, got.Load()-base, want-base,
					h.Srv.Stats(), h.Srv.hub.sharedSent.Load(), h.Srv.hub.catchSent.Load(), h.Srv.hub.ownSent.Load())
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
	b.ReportMetric(float64(wire.Load()-wire0)/updates, "wire-B/update")
}
