package mavlink

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/centinela-gcs/centinela/fleet"
)

// nopIngest takes updates without keeping them (no allocation of its own).
type nopIngest struct{ n int }

func (i *nopIngest) Handle(fleet.Vehicle, fleet.Update) { i.n++ }

// telemetryDatagram is one datagram as ArduPilot packs them at 10 Hz:
// position, attitude and VFR_HUD from sysid 1.
func telemetryDatagram(tb testing.TB, enc *frameEncoder, i int) []byte {
	return bytes.Join([][]byte{
		enc.encode(tb, &common.MessageGlobalPositionInt{TimeBootMs: uint32(i * 100), Lat: 325480000 + int32(i), Lon: -1170293000,
			Alt: 40000, RelativeAlt: 20000, Hdg: 9000}),
		enc.encode(tb, &common.MessageAttitude{TimeBootMs: uint32(i * 100), Roll: 0.01, Pitch: 0.02, Yaw: 1}),
		enc.encode(tb, &common.MessageVfrHud{Groundspeed: 5, Alt: 40, Heading: 90, Throttle: 40}),
	}, nil)
}

// udpPeerTransport returns a transport on UDP with sysid 1 linked from a
// peer that is never a socket: datagrams are handed to the listener's
// handling as its reader would, so that the test measures the handling
// alone.
func udpPeerTransport(tb testing.TB, ing fleet.Ingest) (*Transport, *udpListener, netip.AddrPort) {
	tr := testTransport(tb, "udp:127.0.0.1:0", ing, func(tr *Transport) { tr.PeerRate = -1 })
	u := tr.udp[0]
	ap := netip.MustParseAddrPort("127.0.0.1:9") // discard: replies go nowhere
	enc := newFrameEncoder(tb, 1, 1)
	tr.mu.Lock()
	u.datagram(ap, enc.encode(tb, vehicleHB()), time.Now())
	tr.mu.Unlock()
	if tr.Stats().Links != 1 {
		tb.Fatalf("stats %+v: the vehicle is not linked", tr.Stats())
	}
	return tr, u, ap
}

// The UDP listener's handling of one datagram of three telemetry frames,
// from the socket's bytes to Ingest.Handle, allocates only the fleet.Update
// each frame hands the fleet (a struct in an interface: fleet.Ingest's API).
// The framer parses and decodes them without allocating
// (TestFramerHotAllocs); gomavlib's reader took 6.3 allocations a frame, the
// Node-based path about 15 (issue 21).
func TestUDPDatagramAllocs(t *testing.T) {
	ing := &nopIngest{}
	tr, u, ap := udpPeerTransport(t, ing)
	enc := newFrameEncoder(t, 1, 1)
	var grams [][]byte
	for i := range 64 {
		grams = append(grams, telemetryDatagram(t, enc, i))
	}
	frames0 := tr.Stats().Frames
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		tr.mu.Lock()
		u.datagram(ap, grams[i%len(grams)], time.Now())
		tr.mu.Unlock()
		i++
	})
	if got := tr.Stats().Frames - frames0; got < 3*200 {
		t.Fatalf("%d frames handled, want at least 600", got)
	}
	perFrame := allocs / 3
	t.Logf("%.1f allocations per datagram, %.1f per frame", allocs, perFrame)
	if perFrame > 1 {
		t.Errorf("%.1f allocations per frame, want at most 1 (the update handed to Ingest)", perFrame)
	}
}

// BenchmarkDatagramToIngest is the transport's handling of one UDP
// datagram of three telemetry frames (parsing with gomavlib included, the
// socket's read and the fleet excluded): per op, one datagram; cpu-ns/frame
// is the thread's CPU time per frame. Compare with the floor's decode cost
// (DecodeCost, about 1.2–1.9 µs a frame of this mix).
func BenchmarkDatagramToIngest(b *testing.B) {
	ing := &nopIngest{}
	tr, u, ap := udpPeerTransport(b, ing)
	enc := newFrameEncoder(b, 1, 1)
	var grams [][]byte
	for i := range 64 {
		grams = append(grams, telemetryDatagram(b, enc, i))
	}
	b.ReportAllocs()
	runtime.LockOSThread() // the thread's CPU time, steadier than wall time on a busy machine
	defer runtime.UnlockOSThread()
	cpu0 := ThreadCPU()
	i := 0
	for b.Loop() {
		tr.mu.Lock()
		u.datagram(ap, grams[i%len(grams)], time.Now())
		tr.mu.Unlock()
		i++
	}
	b.ReportMetric(float64((ThreadCPU()-cpu0).Nanoseconds())/float64(3*i), "cpu-ns/frame")
}

// A UDP listener reads every peer with the same goroutines: 60 vehicles,
// each on its own source port, add no goroutine. A tcpin listener has one
// reader per connection.
func TestGoroutinesPerLink(t *testing.T) {
	for _, c := range []struct {
		name    string
		listen  string
		perLink int
	}{
		{"udp", "udp:127.0.0.1:0", 0},
		{"tcp", "tcpin:127.0.0.1:0", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder()
			tr := testTransport(t, c.listen, rec)
			base := runtime.NumGoroutine()
			const vehicles = 60
			network := c.name
			enc := newFrameEncoder(t, 1, 1) // one dialect for all: slow to make under -race
			for sys := 1; sys <= vehicles; sys++ {
				conn, err := net.Dial(network, tr.Addrs()[0].String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				enc.sw.SystemID = uint8(sys)
				conn.Write(enc.encode(t, vehicleHB()))
			}
			waitFor(t, 5*time.Second, "every vehicle linked", func() bool { return tr.Stats().Links == vehicles })
			got := runtime.NumGoroutine() - base
			t.Logf("%d goroutines for %d links", got, vehicles)
			if got > c.perLink*vehicles+2 {
				t.Errorf("%d more goroutines for %d links, want at most %d per link", got, vehicles, c.perLink)
			}
		})
	}
}

// A UDP listener on every interface (a dual-stack socket) or on IPv6 names
// its IPv4 peers as an IPv4 listener does and answers them on the same
// socket: the transport's heartbeat reaches the vehicle.
func TestUDPListenerAddressFamilies(t *testing.T) {
	for _, c := range []struct{ listen, dial string }{
		{"udp:0.0.0.0:0", "127.0.0.1"},
		{"udp:[::1]:0", "::1"},
	} {
		t.Run(c.listen, func(t *testing.T) {
			if c.dial == "::1" {
				if ln, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					ln.Close()
				}
			}
			rec := newRecorder()
			tr := testTransport(t, c.listen, rec)
			port := tr.Addrs()[0].(*net.UDPAddr).Port
			conn, err := net.Dial("udp", net.JoinHostPort(c.dial, fmt.Sprint(port)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write(newFrameEncoder(t, 3, 1).encode(t, vehicleHB()))
			waitFor(t, 3*time.Second, "the vehicle linked", func() bool { return rec.vehicle(3) != nil })
			want := "/" + conn.LocalAddr().String()
			if got := rec.vehicle(3).Key().Link; !strings.HasSuffix(got, want) {
				t.Errorf("link %q, want one ending in %q", got, want)
			}
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 512)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("no heartbeat from the transport: %v", err)
			}
			if n < 12 || buf[0] != magicV2 || buf[5] != DefaultSysID || buf[7] != 0 {
				t.Errorf("got % x, want a MAVLink 2 HEARTBEAT from sysid %d", buf[:n], DefaultSysID)
			}
		})
	}
}

// The GCS heartbeat goes to every peer of a UDP listener through one
// WriteBatch (sendmmsg) per round, not a sendto each, and every peer gets
// its own frames, with its own sequence numbers: on an IPv4 socket and on
// a dual-stack one with IPv4 peers.
func TestUDPHeartbeatBatch(t *testing.T) {
	for _, listen := range []string{"udp:127.0.0.1:0", "udp:0.0.0.0:0"} {
		t.Run(listen, func(t *testing.T) {
			rec := newRecorder()
			tr := testTransport(t, listen, rec, func(tr *Transport) { tr.HeartbeatPeriod = 20 * time.Millisecond })
			u := tr.udp[0]
			to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tr.Addrs()[0].(*net.UDPAddr).Port}
			const peers = 4
			enc := newFrameEncoder(t, 1, 1)
			var conns []*net.UDPConn
			for sys := 1; sys <= peers; sys++ {
				c, err := net.DialUDP("udp", nil, to)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				enc.sw.SystemID = uint8(sys)
				if _, err := c.Write(enc.encode(t, vehicleHB())); err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			waitFor(t, 5*time.Second, "every peer linked", func() bool { return tr.Stats().Links == peers })
			calls0, frames0 := u.batches.Load(), u.batched.Load()
			drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
			if err := drw.Initialize(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			for i, c := range conns {
				// Two heartbeats in a row, from the server's ids, with
				// consecutive sequence numbers.
				var seqs []uint8
				for len(seqs) < 2 {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, err := c.Read(buf)
					if err != nil {
						t.Fatalf("peer %d: %v", i+1, err)
					}
					r := &frame.Reader{BufByteReader: bufio.NewReader(bytes.NewReader(buf[:n])), DialectRW: drw}
					fr, err := r.Read()
					if err != nil {
						t.Fatalf("peer %d: %v", i+1, err)
					}
					hb, ok := fr.GetMessage().(*common.MessageHeartbeat)
					if !ok {
						seqs = seqs[:0] // another frame took a sequence number
						continue
					}
					if hb.Type != mavTypeGCS || fr.GetSystemID() != tr.SysID || fr.GetComponentID() != tr.CompID {
						t.Fatalf("peer %d: heartbeat %+v from %d/%d", i+1, hb, fr.GetSystemID(), fr.GetComponentID())
					}
					seqs = append(seqs, fr.GetSequenceNumber())
				}
				if seqs[1] != seqs[0]+1 {
					t.Fatalf("peer %d: heartbeats with sequence numbers %v, want consecutive", i+1, seqs)
				}
			}
			calls, frames := u.batches.Load()-calls0, u.batched.Load()-frames0
			t.Logf("%d frames in %d WriteBatch calls", frames, calls)
			if frames < peers || calls*2 > frames {
				t.Fatalf("%d frames in %d WriteBatch calls: want at least %d frames, about %d per call", frames, calls, peers, peers)
			}
		})
	}
}

// TestUDPReadCoalesce: with ReadCoalesce, a steady stream of datagrams a
// millisecond apart is read many datagrams a system call, not one, and
// every frame still arrives.
func TestUDPReadCoalesce(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) { tr.ReadCoalesce = 25 * time.Millisecond })
	u := tr.udp[0]
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tr.Addrs()[0].(*net.UDPAddr).Port}
	c, err := net.DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc := newFrameEncoder(t, 7, 1)
	if _, err := c.Write(enc.encode(t, vehicleHB())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the vehicle linked", func() bool { return tr.Stats().Links == 1 })
	before := rec.count(func(r recorded) bool { _, ok := r.u.(fleet.Attitude); return ok })
	reads0 := u.reads.Load()
	const sent = 100
	for i := range sent {
		if _, err := c.Write(enc.encode(t, &common.MessageAttitude{TimeBootMs: uint32(i + 1)})); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, 5*time.Second, "every frame handled", func() bool {
		return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.Attitude); return ok })-before == sent
	})
	// Without coalescing the reader wakes for each datagram (about 100
	// reads); waiting 25 ms after a short read leaves a handful.
	if reads := u.reads.Load() - reads0; reads > sent/3 {
		t.Errorf("%d datagrams took %d reads, want at most %d", sent, reads, sent/3)
	}
}
