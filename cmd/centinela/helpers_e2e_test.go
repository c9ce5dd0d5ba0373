package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// Helpers shared by the mission (issue 3) and ArduCopter-fidelity (issue 13)
// end-to-end tests.

// recorder keeps every discrete event of one fleet subscription, in order,
// so tests can check sequences after the fact. StateChanged is left out.
type recorder struct {
	sub  *fleet.Subscription
	mu   sync.Mutex
	evs  []fleet.Event
	done chan struct{}
}

// record subscribes to f (to the given drones, or all) until cleanup.
func record(t *testing.T, f *fleet.Fleet, ids ...string) *recorder {
	t.Helper()
	opts := fleet.SubscribeOptions{QueueSize: 1 << 16}
	if len(ids) > 0 {
		opts.Drones = ids
	}
	r := &recorder{sub: f.Subscribe(opts), done: make(chan struct{})}
	go r.run()
	t.Cleanup(func() {
		r.sub.Close()
		<-r.done
	})
	return r
}

func (r *recorder) run() {
	defer close(r.done)
	for ev := range r.sub.C {
		if _, ok := ev.(fleet.StateChanged); ok {
			continue
		}
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
	}
}

// mark returns the number of events recorded so far, to look only at later
// ones.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// events returns a copy of the events recorded from index from on.
func (r *recorder) events(from int) []fleet.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if from > len(r.evs) {
		from = len(r.evs)
	}
	return append([]fleet.Event(nil), r.evs[from:]...)
}

// checkComplete fails the test if the subscription dropped events, which
// would make sequence checks meaningless.
func (r *recorder) checkComplete(t *testing.T) {
	t.Helper()
	if n := r.sub.Missed(); n > 0 {
		t.Errorf("event subscription dropped %d events", n)
	}
}

// find returns the first event of type E at index from or later that
// matches (match nil matches any), with its index.
func find[E fleet.Event](r *recorder, from int, match func(E) bool) (E, int, bool) {
	for i, ev := range r.events(from) {
		if e, ok := ev.(E); ok && (match == nil || match(e)) {
			return e, from + i, true
		}
	}
	var zero E
	return zero, -1, false
}

// await polls until find succeeds or d passes.
func await[E fleet.Event](t *testing.T, r *recorder, d time.Duration, from int, match func(E) bool) (E, int) {
	t.Helper()
	var (
		e   E
		idx int
	)
	eventually(t, d, fmt.Sprintf("a %T event", e), func() bool {
		var ok bool
		e, idx, ok = find(r, from, match)
		return ok
	})
	return e, idx
}

// all returns every event of type E from index from on.
func all[E fleet.Event](r *recorder, from int) []E {
	var out []E
	for _, ev := range r.events(from) {
		if e, ok := ev.(E); ok {
			out = append(out, e)
		}
	}
	return out
}

// recordedTexts returns the status texts recorded from index from on.
func recordedTexts(r *recorder, from int) []string {
	var out []string
	for _, e := range all[fleet.StatusTextEvent](r, from) {
		out = append(out, e.Text)
	}
	return out
}

// simTimeAdvance waits until the drone's simulated clock has run for d
// more: an observation window measured in the drone's own time, not a
// sleep.
func simTimeAdvance(t *testing.T, d *sim.Drone, dur time.Duration) {
	t.Helper()
	start := d.State().SimTime
	eventually(t, 30*time.Second, fmt.Sprintf("%s of simulated time", dur), func() bool {
		return d.State().SimTime-start >= dur
	})
}

// simPosition returns a sim snapshot's position as a fleet.Position.
func simPosition(s sim.DroneSnapshot) fleet.Position {
	return fleet.Position{Lat: s.Lat, Lon: s.Lon, RelAlt: s.RelAlt}
}

// opCtx returns a context bounded by d, cancelled at cleanup.
func opCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// mustSetParam sets a parameter through the fleet, as an operator would,
// and checks the echo.
func mustSetParam(t *testing.T, f *fleet.Fleet, id, name string, v float64) fleet.Param {
	t.Helper()
	p, err := f.SetParam(opCtx(t, 10*time.Second), id, name, v)
	if err != nil {
		t.Fatalf("set %s = %v: %v", name, v, err)
	}
	if p.Name != name || p.Value != v {
		t.Fatalf("set %s = %v: vehicle echoed %s = %v", name, v, p.Name, p.Value)
	}
	return p
}

// ---- missions ----

// mission items in the frames a ground station plans with.

func homeItem(home fleet.Position, altMSL float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Autocontinue: true,
		Lat: home.Lat, Lon: home.Lon, Alt: altMSL}
}

func takeoffItem(alt float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Autocontinue: true, Alt: alt}
}

// waypoint at p (RelAlt above home) with a hold time (s) and an
// acceptance radius (m).
func waypoint(p fleet.Position, hold, radius float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true,
		Param1: hold, Param2: radius, Lat: p.Lat, Lon: p.Lon, Alt: p.RelAlt}
}

func loiterTime(p fleet.Position, secs float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavLoiterTime, Autocontinue: true,
		Param1: secs, Lat: p.Lat, Lon: p.Lon, Alt: p.RelAlt}
}

func loiterTurns(p fleet.Position, turns, radius float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavLoiterTurns, Autocontinue: true,
		Param1: turns, Param3: radius, Lat: p.Lat, Lon: p.Lon, Alt: p.RelAlt}
}

func changeSpeed(mps float64) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Autocontinue: true,
		Param1: 1, Param2: mps, Param3: -1}
}

func doJump(to, repeat int) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Autocontinue: true,
		Param1: float64(to), Param2: float64(repeat)}
}

func rtlItem() fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true}
}

// zigzag is a simple mission: takeoff to alt, then legs waypoints going
// north-east in steps of step metres, then RTL.
func zigzag(home fleet.Position, altMSL, alt, step float64, legs int) []fleet.MissionItem {
	items := []fleet.MissionItem{homeItem(home, altMSL), takeoffItem(alt)}
	for i := 1; i <= legs; i++ {
		p := offset(home, step*float64(i), step*float64(i%2))
		p.RelAlt = alt
		items = append(items, waypoint(p, 0, 2))
	}
	return append(items, rtlItem())
}

// navRoute unrolls a plan the way ArduCopter flies it (seq 0 is home and not
// flown; DO_JUMP repeats counted) and returns the navigation items visited.
func navRoute(items []fleet.MissionItem) []int {
	var route []int
	jumps := map[int]int{}
	for i := 1; i < len(items) && len(route) < 10000; {
		it := items[i]
		if it.Command == fleet.CmdDoJump {
			if jumps[i] < int(it.Param2) {
				jumps[i]++
				i = int(it.Param1)
			} else {
				i++
			}
			continue
		}
		if it.Command.IsNav() {
			route = append(route, i)
		}
		i++
	}
	return route
}

// comparePlans compares an uploaded plan with the one downloaded: seq
// 0 (home) is rewritten by ArduPilot and DO items come back in frame
// GLOBAL, so those are not compared; values travel as float32 and 1e7
// degrees.
func comparePlans(t *testing.T, up, down []fleet.MissionItem) {
	t.Helper()
	// ArduCopter keeps only what Copter uses (a waypoint's hold time, not
	// its acceptance radius): compare with what it stores.
	stored := make([]fleet.MissionItem, len(up))
	for i, it := range up {
		stored[i] = fleet.StoredItem(fleet.AutopilotArduPilot, it)
	}
	compareItems(t, stored, down, 1)
}

// compareItems compares items from index first on (fence and rally plans
// have no home item: compare from 0).
func compareItems(t *testing.T, up, down []fleet.MissionItem, first int) {
	t.Helper()
	if len(up) != len(down) {
		t.Fatalf("downloaded %d items, uploaded %d", len(down), len(up))
	}
	near := func(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
	for i := first; i < len(up); i++ {
		a, b := up[i], down[i]
		if b.Seq != i {
			t.Errorf("item %d: downloaded seq %d", i, b.Seq)
		}
		if a.Command != b.Command || a.Autocontinue != b.Autocontinue {
			t.Errorf("item %d: command %d autocontinue %t, downloaded %d %t", i, a.Command, a.Autocontinue, b.Command, b.Autocontinue)
			continue
		}
		if a.Command.IsNav() && a.Frame != b.Frame {
			t.Errorf("item %d: frame %d, downloaded %d", i, a.Frame, b.Frame)
		}
		if !near(a.Lat, b.Lat, 1e-7) || !near(a.Lon, b.Lon, 1e-7) || !near(a.Alt, b.Alt, 1e-4) ||
			!near(a.Param1, b.Param1, 1e-5) || !near(a.Param2, b.Param2, 1e-5) ||
			!near(a.Param3, b.Param3, 1e-5) || !near(a.Param4, b.Param4, 1e-5) {
			t.Errorf("item %d: uploaded %+v, downloaded %+v", i, a, b)
		}
	}
}

// ---- a UDP relay that sees the traffic ----

// udpProxy relays UDP datagrams between one client (whoever sends to Addr
// first) and a fixed target, and counts the MAVLink messages each way. It
// lets a test see what the server asked of a drone without touching either.
type udpProxy struct {
	front *net.UDPConn // the client sends here
	back  *net.UDPConn // connected to the target

	mu     sync.Mutex
	peer   *net.UDPAddr
	counts [2]map[uint32]int // [fromClient], [fromTarget]
	wg     sync.WaitGroup
}

// Directions of udpProxy counts: what the client sent (to the target), and
// what the target sent (to the client).
const (
	fromClient = 0
	fromTarget = 1
)

// mustProxy starts a relay to target (host:port) and closes it at cleanup.
func mustProxy(t *testing.T, target string) *udpProxy {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	ta, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatalf("proxy target: %v", err)
	}
	back, err := net.DialUDP("udp4", nil, ta)
	if err != nil {
		front.Close()
		t.Fatalf("proxy dial: %v", err)
	}
	p := &udpProxy{front: front, back: back, counts: [2]map[uint32]int{{}, {}}}
	p.wg.Add(2)
	go p.forward()
	go p.backward()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		p.wg.Wait()
	})
	return p
}

// Addr is where the client must send.
func (p *udpProxy) Addr() string { return p.front.LocalAddr().String() }

// Count returns how many messages with id msgID went in direction dir.
func (p *udpProxy) Count(dir int, msgID uint32) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[dir][msgID]
}

func (p *udpProxy) note(dir int, b []byte) {
	ids := mavlinkIDs(b)
	p.mu.Lock()
	for _, id := range ids {
		p.counts[dir][id]++
	}
	p.mu.Unlock()
}

func (p *udpProxy) forward() {
	defer p.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := p.front.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		p.peer = from
		p.mu.Unlock()
		p.note(fromClient, buf[:n])
		_, _ = p.back.Write(buf[:n])
	}
}

func (p *udpProxy) backward() {
	defer p.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, err := p.back.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable while the other side restarts
		}
		p.mu.Lock()
		peer := p.peer
		p.mu.Unlock()
		p.note(fromTarget, buf[:n])
		if peer != nil {
			_, _ = p.front.WriteToUDP(buf[:n], peer)
		}
	}
}

// mavlinkIDs returns the message ids of the MAVLink 1 and 2 frames in one
// datagram (several frames may share one).
func mavlinkIDs(b []byte) []uint32 {
	var ids []uint32
	for len(b) > 0 {
		switch {
		case b[0] == 0xfd && len(b) >= 12:
			n := 12 + int(b[1])
			if b[2]&1 != 0 {
				n += 13 // signature
			}
			ids = append(ids, uint32(b[7])|uint32(b[8])<<8|uint32(b[9])<<16)
			if n > len(b) {
				return ids
			}
			b = b[n:]
		case b[0] == 0xfe && len(b) >= 8:
			n := 8 + int(b[1])
			ids = append(ids, uint32(b[5]))
			if n > len(b) {
				return ids
			}
			b = b[n:]
		default:
			return ids
		}
	}
	return ids
}

// MAVLink message ids the tests count.
const (
	idHeartbeat          = 0
	idGlobalPositionInt  = 33
	idMissionCurrent     = 42
	idMissionRequestList = 43
	idMissionRequestInt  = 51
	idRequestDataStream  = 66
	idCommandLong        = 76
)

// hasPrefix reports whether any text starts with prefix.
func hasPrefix(ts []string, prefix string) bool {
	for _, s := range ts {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
