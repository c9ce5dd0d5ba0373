package mavlink

import (
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

func vehicleHB() *common.MessageHeartbeat {
	return &common.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 0x51, SystemStatus: 3, MavlinkVersion: 3}
}

func heartbeatsFrom(rec *recorder, sys uint8) int {
	return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.Heartbeat); return ok && r.key.SysID == sys })
}

// Junk on a TCP link is dropped by the guard in runs: a megabyte of it costs
// a few parse errors, not a million events, and the vehicle on the same
// connection stays tracked.
func TestJunkOnTCPIsCheap(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "tcpin:127.0.0.1:0", rec, func(tr *Transport) { tr.PeerRate = -1 })
	c, err := net.Dial("tcp", tr.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc := newFrameEncoder(t, 4, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.IntN(0xFD)) // never a magic byte
	}
	start := time.Now()
	cpu0 := cpuTime(t)
	for range 16 {
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(enc.encode(t, vehicleHB())); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "16 heartbeats through the junk", func() bool { return heartbeatsFrom(rec, 4) == 16 })
	st := tr.Stats()
	if st.JunkBytes != 16*64<<10 {
		t.Errorf("JunkBytes = %d, want %d", st.JunkBytes, 16*64<<10)
	}
	if st.ParseErrors+st.ConsoleText == 0 || st.ParseErrors > st.JunkBytes {
		t.Errorf("ParseErrors %d, ConsoleText %d for %d junk bytes", st.ParseErrors, st.ConsoleText, st.JunkBytes)
	}
	// One event per junk byte cost about 2 µs of CPU (0.7 MB/s of junk took
	// 134 % of a core): a megabyte would take 2 s. The guard takes a few ms.
	cpu := cpuTime(t) - cpu0
	if cpu > 700*time.Millisecond {
		t.Errorf("1 MiB of junk cost %v of CPU", cpu)
	}
	t.Logf("1 MiB of junk in %v (%v CPU), %d parse errors, %d console lines", time.Since(start), cpu, st.ParseErrors, st.ConsoleText)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A TCP peer trickling a frame byte by byte is disconnected after
// FrameTimeout; one sending nothing but junk after FrameIdle.
func TestSlowlorisDisconnected(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "tcpin:127.0.0.1:0", rec, func(tr *Transport) {
		tr.FrameTimeout = 300 * time.Millisecond
		tr.FrameIdle = 600 * time.Millisecond
	})
	enc := newFrameEncoder(t, 4, 1)
	frame := enc.encode(t, vehicleHB())
	for _, c := range []struct {
		name string
		next func(i int) byte
	}{
		{"trickled frame", func(i int) byte { return frame[i%len(frame)] }},
		{"trickled junk", func(int) byte { return 'x' }},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tr.Stats().SlowClosed
			conn, err := net.Dial("tcp", tr.Addrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				io.Copy(io.Discard, conn)
			}()
			start := time.Now()
			for i := 0; ; i++ {
				select {
				case <-closed:
					if d := time.Since(start); d > 3*time.Second {
						t.Errorf("closed after %v", d)
					}
					if tr.Stats().SlowClosed <= before {
						t.Errorf("SlowClosed not counted")
					}
					return
				case <-time.After(50 * time.Millisecond):
				}
				if time.Since(start) > 5*time.Second {
					t.Fatal("slow peer never disconnected")
				}
				conn.Write([]byte{c.next(i)})
			}
		})
	}
}

// A listener holds at most MaxPeers connections: unproven ones are evicted
// for newcomers, proven vehicles are never evicted and further connections
// are refused.
func TestTCPPeerLimit(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "tcpin:127.0.0.1:0", rec, func(tr *Transport) { tr.MaxPeers = 3; tr.MaxUnproven = 2 })
	addr := tr.Addrs()[0].String()
	var vehicles []net.Conn
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		enc := newFrameEncoder(t, uint8(10+i), 1)
		c.Write(enc.encode(t, vehicleHB()))
		vehicles = append(vehicles, c)
		waitFor(t, 2*time.Second, "vehicle proven", func() bool { return heartbeatsFrom(rec, uint8(10+i)) == 1 })
	}
	for range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitFor(t, 2*time.Second, "refusals counted", func() bool { return tr.Stats().PeersRefused == 10 })
	// The vehicles are still linked.
	for i, c := range vehicles {
		enc := newFrameEncoder(t, uint8(10+i), 1)
		c.Write(enc.encode(t, vehicleHB()))
	}
	waitFor(t, 2*time.Second, "vehicles heard again", func() bool {
		return heartbeatsFrom(rec, 10) == 2 && heartbeatsFrom(rec, 11) == 2 && heartbeatsFrom(rec, 12) == 2
	})
}

// Thousands of forged UDP source ports that never send a vehicle heartbeat
// hold a small budget (the rest refused, the oldest evicted once their
// grace is over); a real vehicle keeps being tracked within a second, and
// memory stays bounded.
func TestUDPUnprovenFlood(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) { tr.MaxUnproven = 8 })
	addr := tr.Addrs()[0].(*net.UDPAddr)
	real, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	renc := newFrameEncoder(t, 1, 1)
	real.Write(renc.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "real vehicle", func() bool { return heartbeatsFrom(rec, 1) == 1 })

	fenc := newFrameEncoder(t, 50, 1)
	forged := fenc.encode(t, &common.MessageAttitude{Roll: 1})
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	const sources = 2000
	for i := range sources {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(forged)
		c.Close()
		if i%200 == 0 {
			n := heartbeatsFrom(rec, 1)
			real.Write(renc.encode(t, vehicleHB()))
			waitFor(t, time.Second, "real vehicle tracked during the flood", func() bool { return heartbeatsFrom(rec, 1) > n })
		}
	}
	// The kernel reuses some closed ports and drops datagrams under load:
	// not every source makes a peer.
	// Within their 2 s of grace the forged peers are refused, not evicted.
	waitFor(t, 3*time.Second, "refusals", func() bool {
		st := tr.Stats()
		return st.UnprovenEvicted+st.PeersRefused >= sources/5
	})
	var m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grow := int64(m1.HeapInuse) - int64(m0.HeapInuse); grow > 8<<20 {
		t.Errorf("heap grew %d KiB for %d forged sources", grow>>10, sources)
	}
	var peers int
	for _, st := range tr.endpoints {
		peers += st.peerCount()
	}
	if peers > 8+1 {
		t.Errorf("%d peers held, budget 8 unproven + 1 vehicle", peers)
	}

	// A new peer whose first datagram is not a MAVLink frame makes no peer
	// at all: its bytes never reach the guard.
	junk0 := tr.Stats().JunkBytes
	// The kernel may give a junk socket the port of a forged peer still
	// held: its datagram is then that peer's, not a new one's.
	held := func(port int) bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, u := range tr.udp {
			for ap := range u.peers {
				if int(ap.Port()) == port {
					return true
				}
			}
		}
		return false
	}
	for range 50 {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			t.Fatal(err)
		}
		if held(c.LocalAddr().(*net.UDPAddr).Port) {
			c.Close()
			continue
		}
		c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		c.Close()
	}
	// The listener reads datagrams in order: once the vehicle's next
	// heartbeat is heard, the junk before it has been looked at.
	n := heartbeatsFrom(rec, 1)
	real.Write(renc.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "the vehicle after the junk", func() bool { return heartbeatsFrom(rec, 1) > n })
	if j := tr.Stats().JunkBytes; j != junk0 {
		t.Errorf("junk-first datagrams made peers: %d junk bytes read", j-junk0)
	}
}

// One connection announcing many system ids links at most
// MaxLinksPerChannel of them; the server's own system id is never linked.
func TestLinksPerChannel(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) { tr.MaxLinksPerChannel = 4 })
	c, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for sys := 1; sys <= 20; sys++ {
		enc := newFrameEncoder(t, uint8(sys), 1)
		c.Write(enc.encode(t, vehicleHB()))
	}
	own := newFrameEncoder(t, DefaultSysID, 1)
	c.Write(own.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "refusals", func() bool { return tr.Stats().LinksRefused == 16 })
	if n := tr.Stats().Links; n != 4 {
		t.Errorf("%d links, want 4", n)
	}
	if heartbeatsFrom(rec, DefaultSysID) != 0 {
		t.Errorf("the server's own sysid was taken as a vehicle")
	}
}

// A STATUSTEXT whose chunk sequence never ends is cut at fleet.MaxStatusText.
func TestStatusTextWrapBounded(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec)
	c, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc := newFrameEncoder(t, 3, 1)
	c.Write(enc.encode(t, vehicleHB()))
	chunk := strings.Repeat("y", 50)
	for i := range 600 {
		c.Write(enc.encode(t, &common.MessageStatustext{Severity: 6, Text: chunk, Id: 9, ChunkSeq: uint8(i)}))
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(t, 3*time.Second, "texts cut", func() bool { return tr.Stats().TextsCut >= 20 })
	for _, r := range rec.snapshot() {
		if st, ok := r.u.(fleet.StatusText); ok && len(st.Text) > fleet.MaxStatusText {
			t.Fatalf("a text of %d bytes", len(st.Text))
		}
	}
}

// A vehicle announcing 65,535 mission items is refused before any is read.
func TestMissionDownloadTooLarge(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 5, func(tr *Transport) { tr.MaxMissionItems = 100 })
	items := make([]*common.MessageMissionItemInt, 101)
	for i := range items {
		items[i] = &common.MessageMissionItemInt{Seq: uint16(i), Command: common.MAV_CMD_NAV_WAYPOINT, X: 325000000, Y: -1170000000, Z: 20}
	}
	fv.mu.Lock()
	fv.missions[common.MAV_MISSION_TYPE_MISSION] = items
	fv.mu.Unlock()
	_, err := v.DownloadMission(t.Context(), fleet.MissionTypeMission, nil)
	wantCode(t, err, fleet.Invalid)

	// An item off the globe is refused too.
	items = items[:3]
	items[2] = &common.MessageMissionItemInt{Seq: 2, Command: common.MAV_CMD_NAV_WAYPOINT, X: 2140000000, Y: -1170000000, Z: 20}
	fv.mu.Lock()
	fv.missions[common.MAV_MISSION_TYPE_MISSION] = items
	fv.mu.Unlock()
	_, err = v.DownloadMission(t.Context(), fleet.MissionTypeMission, nil)
	wantCode(t, err, fleet.Invalid)
}

// A vehicle flooding its link is slowed to PeerRate; another vehicle on the
// same listener is still heard within a second.
func TestFloodDoesNotStarveOthers(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) { tr.PeerRate = 64 << 10 })
	addr := tr.Addrs()[0].(*net.UDPAddr)
	flood, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	calm, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer calm.Close()
	fenc, cenc := newFrameEncoder(t, 20, 1), newFrameEncoder(t, 21, 1)
	flood.Write(fenc.encode(t, vehicleHB()))
	att := fenc.encode(t, &common.MessageAttitude{Roll: 0.1})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// About 50,000 frames (2 MB) a second: 30 times the rate allowed.
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			for range 50 {
				flood.Write(att)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for range 5 {
		n := heartbeatsFrom(rec, 21)
		calm.Write(cenc.encode(t, vehicleHB()))
		waitFor(t, time.Second, "the calm vehicle heard within 1 s", func() bool { return heartbeatsFrom(rec, 21) > n })
		time.Sleep(100 * time.Millisecond)
	}
	if tr.Stats().Throttled == 0 {
		t.Errorf("the flood was never throttled")
	}
}

// A peer going away closes its links with a LinkClosed (a TCP reconnect is
// then taken at once); the transport shutting down sends none, so a
// restarting server does not mark its drones lost (and their missions
// interrupted) on the way out.
func TestLinkClosedOnlyWhenThePeerGoes(t *testing.T) {
	closed := func(rec *recorder) int {
		return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.LinkClosed); return ok })
	}
	rec := newRecorder()
	tr := testTransport(t, "tcpin:127.0.0.1:0", rec)
	c, err := net.Dial("tcp", tr.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	enc := newFrameEncoder(t, 6, 1)
	c.Write(enc.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "linked", func() bool { return heartbeatsFrom(rec, 6) == 1 })
	c.Close()
	waitFor(t, 2*time.Second, "LinkClosed when the peer goes", func() bool { return closed(rec) == 1 })

	c2, err := net.Dial("tcp", tr.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write(enc.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "linked again", func() bool { return heartbeatsFrom(rec, 6) == 2 })
	tr.Close()
	if n := closed(rec); n != 1 {
		t.Errorf("%d LinkClosed after shutdown, want only the peer's", n)
	}
}
