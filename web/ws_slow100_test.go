package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// TestWS100SlowClients: 100 clients that never read are all closed as slow
// consumers, publishing never waits for them, and a fast client keeps
// receiving; afterwards the server's goroutines are back where they were.
func TestWS100SlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("100 connections: skipped with -short")
	}
	h := newHarness(t, func(s *Server) {
		s.SendBuffer = 256 << 10
		s.WriteTimeout = 300 * time.Millisecond
	})
	h.addDrone(1, baseLat, baseLon, true)
	before := runtime.NumGoroutine()
	const n = 100
	slow := make([]*wsClient, n)
	for i := range slow {
		slow[i] = h.dial(h.Supervisor)
		slow[i].send(map[string]any{"type": "subscribe", "events": true})
	}
	fast := h.dial(h.Supervisor)
	fast.send(map[string]any{"type": "subscribe", "events": true})
	fast.next("snapshot", 5*time.Second)
	var mu sync.Mutex
	lastLat := 0.0
	var fastErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			fast.Conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			_, b, err := fast.Conn.ReadMessage()
			if err != nil {
				mu.Lock()
				fastErr = err
				mu.Unlock()
				return
			}
			var m struct{ Drones []struct{ Lat float64 } }
			if bytes.HasPrefix(b, []byte(`{"type":"states"`)) && json.Unmarshal(b, &m) == nil && len(m.Drones) > 0 {
				mu.Lock()
				lastLat = m.Drones[0].Lat
				mu.Unlock()
			}
		}
	}()
	defer wg.Wait()
	defer fast.Conn.Close()

	text := strings.Repeat("x", 2000)
	deadline := time.Now().Add(60 * time.Second)
	var slowest time.Duration
	for i := 0; h.Srv.Stats().SlowClosed < n; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s only %d of %d slow clients were closed", h.Srv.Stats().SlowClosed, n)
		}
		t0 := time.Now()
		h.Fleet.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", At: time.Now(), Severity: 6, Text: fmt.Sprint(i, text)})
		slowest = max(slowest, time.Since(t0))
		// About 2 MB/s: the stalled clients' buffers fill within seconds,
		// while the fast client, on a machine busy with CI's other
		// packages, still reads it all (at five events a millisecond it
		// was once closed as slow too).
		time.Sleep(time.Millisecond)
	}
	// Publishing never blocks on subscribers: a publisher held up by 100
	// stalled clients would wait for each to be closed.
	if slowest > time.Second {
		t.Errorf("a publish took %v", slowest)
	}
	h.move(1, baseLat+0.004, baseLon)
	waitFor(t, "the fast client to get the new position", 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if fastErr != nil {
			t.Fatalf("the fast client was closed too: %v", fastErr)
		}
		return lastLat == baseLat+0.004
	})
	for _, c := range slow {
		c.Conn.Close()
	}
	waitFor(t, "only the fast client left", 10*time.Second, func() bool { return h.Srv.Stats().Clients == 1 })
	waitFor(t, "the slow clients' goroutines gone", 10*time.Second, func() bool { return runtime.NumGoroutine() <= before+10 })
}
