package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/gorilla/websocket"
)

func TestWSProtocol(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	h.addDrone(2, 0, 0, false) // no fix yet: never at 0,0
	h.waitHub(2)
	c := h.dial(h.Operator)
	c.send(map[string]any{"type": "subscribe", "zones": true, "routes": true, "events": true})
	z := c.next("zones", 5*time.Second)
	feats, _ := z["geojson"].(map[string]any)["features"].([]any)
	if len(feats) < 20 {
		t.Fatalf("zones: %d features", len(feats))
	}
	if a := c.next("alerts", 5*time.Second); a["alerts"] == nil {
		t.Fatalf("alerts message without a list: %v", a)
	}
	snap := dronesOf(c.next("snapshot", 5*time.Second))
	if len(snap) != 2 {
		t.Fatalf("snapshot has %d drones, want 2", len(snap))
	}
	if d := snap["sysid-1"]; d["lat"] != baseLat || d["has_position"] != true {
		t.Errorf("sysid-1 = %v", d)
	}
	if d := snap["sysid-2"]; d["has_position"] != false || d["lat"] != nil || d["lon"] != nil {
		t.Errorf("drone without a fix has a position: %v", d)
	}

	// A delta carries the new position.
	h.move(1, baseLat+0.001, baseLon)
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := c.next("states", time.Until(deadline))
		if d := dronesOf(m)["sysid-1"]; d != nil && d["lat"] == baseLat+0.001 {
			break
		}
	}
	// Application-level ping.
	c.send(map[string]any{"type": "ping", "id": 7})
	if p := c.next("pong", 5*time.Second); p["id"] != float64(7) {
		t.Errorf("pong %v", p)
	}
	// Bad messages get an error and leave the connection open.
	for _, bad := range []string{`{"type":`, `{"type":"dance"}`, `{"type":"subscribe","max_rate_hz":-1}`,
		`{"type":"subscribe","kinds":["nope"]}`, `{"type":"subscribe","drones":[""]}`, `{"type":"auth","token":"x"}`} {
		if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		e := c.next("error", 5*time.Second)
		if msg, _ := e["error"].(map[string]any)["message"].(string); msg == "" {
			t.Errorf("%s: error without a message: %v", bad, e)
		}
	}
	c.send(map[string]any{"type": "ping", "id": "still-open"})
	c.next("pong", 5*time.Second)

	// An event reaches subscribers with its stable kind and params.
	h.Fleet.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", At: time.Now(), Severity: 4, Text: "PreArm: test"})
	for {
		ev := c.next("event", 5*time.Second)["event"].(map[string]any)
		if ev["kind"] == "status_text" {
			if ev["params"].(map[string]any)["text"] != "PreArm: test" || ev["drone"] != "sysid-1" {
				t.Errorf("event %v", ev)
			}
			break
		}
	}
}

func TestWSSubscribeSome(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	h.addDrone(2, baseLat, baseLon+0.01, true)
	h.waitHub(2)
	c := h.dial(h.Supervisor)
	c.send(map[string]any{"type": "subscribe", "drones": []string{"sysid-2"}})
	snap := dronesOf(c.next("snapshot", 5*time.Second))
	if len(snap) != 1 || snap["sysid-2"] == nil {
		t.Fatalf("snapshot %v, want sysid-2 only", snap)
	}
	h.move(1, baseLat+0.002, baseLon)
	h.move(2, baseLat+0.002, baseLon+0.01)
	for {
		m := dronesOf(c.next("states", 5*time.Second))
		if m["sysid-1"] != nil {
			t.Fatal("a state of a drone not subscribed to")
		}
		if m["sysid-2"] != nil && m["sysid-2"]["lat"] == baseLat+0.002 {
			break
		}
	}
}

func TestWSAuth(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AuthTimeout = 300 * time.Millisecond })
	h.addDrone(1, baseLat, baseLon, true)
	url := "ws://" + h.Srv.ListenAddr().String() + "/ws"
	origin := http.Header{"Origin": {strings.TrimSuffix(h.Srv.URL(), "/")}}

	t.Run("subprotocol", func(t *testing.T) {
		d := websocket.Dialer{Subprotocols: []string{Subprotocol, "bearer." + h.Supervisor}}
		conn, res, err := d.Dial(url, origin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if got := res.Header.Get("Sec-WebSocket-Protocol"); got != Subprotocol {
			t.Errorf("subprotocol %q", got)
		}
		c := &wsClient{t: t, Conn: conn}
		if m := c.next("hello", 5*time.Second); m["principal"].(map[string]any)["role"] != "supervisor" {
			t.Errorf("hello %v", m)
		}
	})
	closeCode := func(t *testing.T, c *wsClient) int {
		for {
			_, err := c.read(5 * time.Second)
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			if err != nil {
				t.Fatalf("not a close frame: %v", err)
			}
		}
	}
	for name, first := range map[string]any{
		"revoked":   map[string]any{"type": "auth", "token": h.Revoked},
		"unknown":   map[string]any{"type": "auth", "token": "cnt_0000000000000000_nope"},
		"no token":  map[string]any{"type": "auth"},
		"not auth":  map[string]any{"type": "subscribe"},
		"malformed": "{",
	} {
		t.Run(name, func(t *testing.T) {
			c := h.dial("")
			if s, ok := first.(string); ok {
				c.Conn.WriteMessage(websocket.TextMessage, []byte(s))
			} else {
				c.send(first)
			}
			if code := closeCode(t, c); code != CloseUnauthenticated {
				t.Errorf("close code %d, want %d", code, CloseUnauthenticated)
			}
		})
	}
	t.Run("silent", func(t *testing.T) {
		c := h.dial("")
		if code := closeCode(t, c); code != CloseUnauthenticated {
			t.Errorf("close code %d", code)
		}
	})
	t.Run("cross-origin", func(t *testing.T) {
		_, res, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://evil.example"}})
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin upgrade: %v %v", err, res)
		}
	})
	t.Run("token in URL is ignored", func(t *testing.T) {
		c := h.dial("")
		c.Conn.Close()
		conn, _, err := websocket.DefaultDialer.Dial(url+"?token="+h.Operator, origin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		cc := &wsClient{t: t, Conn: conn}
		if code := closeCode(t, cc); code != CloseUnauthenticated {
			t.Errorf("close code %d", code)
		}
	})
}

// TestWSCoalescing: at 2 Hz a client gets a few states of a drone that
// moved hundreds of times, and the last one it gets is the latest.
func TestWSCoalescing(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	c := h.dial(h.Supervisor)
	c.send(map[string]any{"type": "subscribe", "max_rate_hz": 2})
	c.next("snapshot", 5*time.Second)
	const moves = 300
	start := time.Now()
	for i := 1; i <= moves; i++ {
		h.move(1, baseLat+float64(i)*1e-5, baseLon)
	}
	final := baseLat + moves*1e-5
	n := 0
	for {
		m := c.next("states", 5*time.Second)
		n++
		if d := dronesOf(m)["sysid-1"]; d != nil && d["lat"].(float64) > final-1e-9 {
			break
		}
	}
	elapsed := time.Since(start)
	if max := int(elapsed.Seconds()*2) + 2; n > max {
		t.Errorf("%d state messages in %v at 2 Hz (at most %d)", n, elapsed, max)
	}
}

// TestWSSlowClient: a client that stops reading is closed as a slow
// consumer while a fast one keeps receiving, and ingest never waits.
func TestWSSlowClient(t *testing.T) {
	h := newHarness(t, func(s *Server) {
		s.SendBuffer = 512 << 10
		s.WriteTimeout = 300 * time.Millisecond
	})
	h.addDrone(1, baseLat, baseLon, true)
	slow := h.dial(h.Supervisor)
	slow.send(map[string]any{"type": "subscribe", "events": true})
	fast := h.dial(h.Supervisor)
	fast.send(map[string]any{"type": "subscribe", "events": true})
	fast.next("snapshot", 5*time.Second)

	var mu sync.Mutex
	lastLat := 0.0
	var fastErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the fast client drains everything until it is closed
		defer wg.Done()
		for {
			fast.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, b, err := fast.Conn.ReadMessage()
			if err != nil {
				mu.Lock()
				fastErr = err
				mu.Unlock()
				return
			}
			if !bytes.HasPrefix(b, []byte(`{"type":"states"`)) {
				continue // events: just drain them
			}
			var m struct{ Drones []struct{ Lat float64 } }
			if json.Unmarshal(b, &m) == nil && len(m.Drones) > 0 {
				mu.Lock()
				lastLat = m.Drones[0].Lat
				mu.Unlock()
			}
		}
	}()
	defer wg.Wait()
	defer fast.Conn.Close()
	text := strings.Repeat("x", 2000)
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; h.Srv.Stats().SlowClosed == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("the slow client was never closed")
		}
		t0 := time.Now()
		h.Fleet.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", At: time.Now(), Severity: 6, Text: fmt.Sprint(i, text)})
		// Publish never waits for subscribers; a publisher held up by the
		// slow client would wait until it is closed.
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("publishing took %v: a slow client slowed ingest", d)
		}
		if i%5 == 0 {
			time.Sleep(time.Millisecond) // at most about 10 MB/s
		}
	}
	// The fast client still receives.
	h.move(1, baseLat+0.003, baseLon)
	waitFor(t, "the fast client to get the new position", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if fastErr != nil {
			t.Fatalf("the fast client was closed too: %v", fastErr)
		}
		return lastLat == baseLat+0.003
	})
	// The slow one's connection ends: with close code 4008 when the frame
	// got through, else dropped.
	for {
		_, err := slow.read(10 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != CloseSlowConsumer && ce.Code != websocket.CloseAbnormalClosure {
			t.Errorf("slow client closed with %d %q", ce.Code, ce.Text)
		}
		break
	}
	waitFor(t, "the slow client to be gone", 5*time.Second, func() bool { return h.Srv.Stats().Clients == 1 })
}

// TestWSFanout: 100 clients and 500 drones; every client gets every drone's
// latest position.
func TestWSFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("100 clients × 500 drones: skipped with -short")
	}
	h := newHarness(t, nil)
	const drones, clients = 500, 100
	// System ids are 1..250: 250 vehicles on each of two links.
	for i := 1; i <= 250; i++ {
		h.addDrone(uint8(i), baseLat, baseLon, true)
		h.addDroneOnLink("b", uint8(i), baseLat, baseLon)
	}
	h.waitHub(drones)
	cs := make([]*wsClient, clients)
	for i := range cs {
		cs[i] = h.dial(h.Supervisor)
		cs[i].send(map[string]any{"type": "subscribe", "max_rate_hz": 4})
	}
	for _, c := range cs {
		if n := len(dronesOf(c.next("snapshot", 10*time.Second))); n != drones {
			t.Fatalf("snapshot of %d drones", n)
		}
	}
	h.moveAll(baseLat + 0.01)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := map[string]bool{}
			deadline := time.Now().Add(60 * time.Second)
			for len(got) < drones {
				c.Conn.SetReadDeadline(deadline)
				var m struct {
					Drones []struct {
						ID  string   `json:"id"`
						Lat *float64 `json:"lat"`
					} `json:"drones"`
				}
				if err := c.Conn.ReadJSON(&m); err != nil {
					errs <- fmt.Errorf("after %d drones: %v", len(got), err)
					return
				}
				for _, d := range m.Drones {
					if d.Lat != nil && *d.Lat == baseLat+0.01 {
						got[d.ID] = true
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := h.Srv.Stats(); s.SlowClosed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestWSControl: the server says which drones each client may command.
func TestWSControl(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true) // joint-task-force
	for _, tc := range []struct {
		name, bearer string
		want         bool
	}{{"joint operator", h.Operator, true}, {"US operator", h.OperatorUS, false}, {"supervisor", h.Supervisor, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(tc.bearer)
			c.send(map[string]any{"type": "subscribe"})
			m := c.next("control", 5*time.Second)
			if got := m["commandable"].(map[string]any)["sysid-1"]; got != tc.want {
				t.Errorf("commandable %v, want %v", got, tc.want)
			}
		})
	}
	// A grant changes an operator's answer without a state of the drone:
	// the writer asks again every few seconds.
	t.Run("grant", func(t *testing.T) {
		c := h.dial(h.OperatorUS)
		c.send(map[string]any{"type": "subscribe"})
		if m := c.next("control", 5*time.Second); m["commandable"].(map[string]any)["sysid-1"] != false {
			t.Fatalf("before the grant: %v", m)
		}
		admin, err := h.Svc.Authenticate(t.Context(), h.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Svc.CreateGrant(t.Context(), admin, app.GrantRequest{From: agencyJoint, To: agencyUS, Until: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// The drone keeps flying (the writer asks when it has states to
		// send).
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				h.move(1, baseLat+float64(i%50)*1e-5, baseLon)
			}
		}()
		defer func() { close(stop); <-done }()
		if m := c.next("control", 10*time.Second); m["commandable"].(map[string]any)["sysid-1"] != true {
			t.Errorf("after the grant: %v", m)
		}
	})
}

// TestWSOversized: a message over the limit closes the connection with
// 1009 and nothing else changes.
func TestWSOversized(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxMessageBytes = 1024 })
	h.addDrone(1, baseLat, baseLon, true)
	c := h.dial(h.Supervisor)
	c.send(map[string]any{"type": "subscribe", "drones": []string{strings.Repeat("x", 2000)}})
	for {
		_, err := c.read(5 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
			t.Fatalf("after an oversized message: %v", err)
		}
		break
	}
	waitFor(t, "the client to be gone", 5*time.Second, func() bool { return h.Srv.Stats().Clients == 0 })
	// Others still connect and subscribe.
	c2 := h.dial(h.Supervisor)
	c2.send(map[string]any{"type": "subscribe"})
	c2.next("snapshot", 5*time.Second)
}

// TestCloseLeavesNoGoroutines: Close tells every WebSocket client the
// server is going away and waits for every goroutine it started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	base := runtime.NumGoroutine()
	var cs []*wsClient
	for i := 0; i < 5; i++ {
		c := h.dial(h.Supervisor)
		c.send(map[string]any{"type": "subscribe", "events": true})
		c.next("snapshot", 5*time.Second)
		cs = append(cs, c)
	}
	if n := runtime.NumGoroutine(); n < base+10 {
		t.Fatalf("%d goroutines with 5 clients, %d without: want a reader and a writer each", n, base)
	}
	h.Srv.Close()
	for _, c := range cs {
		for {
			_, err := c.read(5 * time.Second)
			if err == nil {
				continue
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("client closed with %v, want going away", err)
			}
			break
		}
	}
	// The hub, the alert poller and the HTTP server are gone too.
	waitFor(t, "the server's goroutines to end", 5*time.Second, func() bool { return runtime.NumGoroutine() <= base-3 })
	h.Srv.Close() // again: no effect
}
