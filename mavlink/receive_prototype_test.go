package mavlink

import (
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// The reading the UDP listener does (endpoint_udp.go: datagrams in batches,
// recvmmsg through x/net/ipv4's ReadBatch, into reused buffers,
// demultiplexed by source), alone, against one read per datagram.
// BenchmarkReceive reports the reading thread's CPU per datagram for both on
// loopback.

// receiveCost sends count datagrams of size bytes to a fresh socket from
// senders sockets and returns the reader's thread CPU per datagram read.
func receiveCost(tb testing.TB, batch, count, size, senders int) time.Duration {
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	_ = rc.SetReadBuffer(16 << 20)
	var outs []*net.UDPConn
	for range senders {
		c, err := net.DialUDP("udp4", nil, rc.LocalAddr().(*net.UDPAddr))
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		outs = append(outs, c)
	}
	type result struct {
		cpu time.Duration
		n   int
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var r result
		bySource := map[netip4]int{} // the demultiplexing a shared reader does
		t0 := ThreadCPU()
		if batch <= 1 {
			buf := make([]byte, 65536)
			for r.n < count {
				_ = rc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				_, from, err := rc.ReadFromUDPAddrPort(buf)
				if err != nil {
					break
				}
				bySource[netip4{from.Addr().As4(), from.Port()}]++
				r.n++
			}
		} else {
			pc := ipv4.NewPacketConn(rc)
			ms := make([]ipv4.Message, batch)
			for i := range ms {
				ms[i].Buffers = [][]byte{make([]byte, 2048)}
			}
			_ = rc.SetReadDeadline(time.Now().Add(2 * time.Second))
			for r.n < count {
				k, err := pc.ReadBatch(ms, 0)
				if err != nil {
					break
				}
				for _, m := range ms[:k] {
					if ua, ok := m.Addr.(*net.UDPAddr); ok {
						bySource[netip4{[4]byte(ua.IP.To4()), uint16(ua.Port)}]++
					}
				}
				r.n += k
			}
		}
		r.cpu = ThreadCPU() - t0
		done <- r
	}()
	payload := make([]byte, size)
	for i := range count {
		if _, err := outs[i%len(outs)].Write(payload); err != nil {
			tb.Fatal(err)
		}
		if i%256 == 255 {
			time.Sleep(200 * time.Microsecond) // a steady stream, not one burst
		}
	}
	r := <-done
	if r.n == 0 {
		tb.Fatal("nothing received")
	}
	return r.cpu / time.Duration(r.n)
}

type netip4 struct {
	a [4]byte
	p uint16
}

func BenchmarkReceive(b *testing.B) {
	for _, c := range []struct {
		name  string
		batch int
	}{{"read-per-datagram", 1}, {"read-batch-64", 64}} {
		b.Run(c.name, func(b *testing.B) {
			var cpu time.Duration
			n := 0
			for b.Loop() {
				cpu += receiveCost(b, c.batch, 20000, 120, 100)
				n++
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/datagram")
		})
	}
}
