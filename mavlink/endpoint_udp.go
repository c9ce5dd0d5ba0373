package mavlink

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// UDP
//
// A udp endpoint has one socket and one reader goroutine. The reader reads
// datagrams in batches (recvmmsg through x/net's ReadBatch) into buffers it
// reuses, finds each datagram's source in a map of peers, and handles the
// frames in place, under the transport's lock: no goroutine per peer, no
// copy of a datagram, no channel hop. Replies are written to the source
// address on the same socket; the once-a-second GCS heartbeat goes to all
// peers in batches (sendmmsg through x/net's WriteBatch, writeBatch).
//
// A peer is dropped after udpPeerTimeout without a datagram, or FrameIdle
// without a whole frame (counted as SlowClosed), like a closed connection.

// Defaults of the UDP reader.
const (
	// DefaultReadBuffer is the socket receive buffer asked for a UDP
	// listener (Transport.ReadBuffer), so that bursts (a parameter list,
	// many vehicles) are not dropped by the kernel. The system may grant
	// less (net.core.rmem_max on Linux).
	DefaultReadBuffer = 4 << 20

	// udpBatch is the number of datagrams one ReadBatch may return.
	udpBatch = 32

	// DefaultReadCoalesce is Transport.ReadCoalesce's default: at 1,000
	// drones a reader that woke for every datagram spent more in waking
	// (epoll, futex, one recvmmsg a datagram) than in handling frames.
	DefaultReadCoalesce = time.Millisecond

	// coalesceBelow is the batch below which the reader waits
	// ReadCoalesce before reading again.
	coalesceBelow = udpBatch / 4
	// maxDatagram is the largest datagram read; MAVLink frames are at most
	// 280 bytes and autopilots pack a few of them into one datagram, within
	// an Ethernet MTU. A larger datagram is cut (its tail counts as a parse
	// error).
	maxDatagram = 8192
	// udpPeerTimeout is how long a UDP peer may stay silent.
	udpPeerTimeout = 10 * time.Second
)

// batchConn is ipv4.PacketConn or ipv6.PacketConn.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpListener is a udp endpoint's socket and its peers.
type udpListener struct {
	t     *Transport
	st    *endpointState
	epIdx int
	conn  *net.UDPConn
	batch batchConn

	// reader goroutine only
	msgs []ipv4.Message
	out  []byte
	fr   *framer

	// t.mu
	peers map[netip.AddrPort]*channel

	// writeBatch's, on the transport's run goroutine
	wbuf  []byte
	wmsgs []ipv4.Message
	// batches counts WriteBatch calls, batched the frames they sent.
	batches, batched atomic.Uint64
	// reads counts ReadBatch calls that returned datagrams.
	reads atomic.Uint64
}

func (t *Transport) listenUDP(st *endpointState, idx int) (*udpListener, error) {
	addr, err := net.ResolveUDPAddr("udp", st.ep.Address)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(t.ReadBuffer) // the system may grant less
	u := &udpListener{t: t, st: st, epIdx: idx, conn: conn, peers: make(map[netip.AddrPort]*channel)}
	// A specific IPv4 address makes an IPv4 socket; 0.0.0.0 and IPv6
	// addresses a dual-stack IPv6 one.
	if la := conn.LocalAddr().(*net.UDPAddr); la.IP.To4() != nil && !la.IP.IsUnspecified() {
		u.batch = ipv4.NewPacketConn(conn)
	} else {
		u.batch = ipv6.NewPacketConn(conn)
	}
	u.msgs = make([]ipv4.Message, udpBatch)
	for i := range u.msgs {
		u.msgs[i].Buffers = [][]byte{make([]byte, maxDatagram)}
	}
	u.out = make([]byte, 0, maxDatagram)
	u.fr = newDatagramFramer(t.mt)
	st.setAddr(conn.LocalAddr())
	return u, nil
}

// run reads until the socket is closed.
func (u *udpListener) run() {
	t := u.t
	for {
		n, err := u.batch.ReadBatch(u.msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.closing.Load() {
				return
			}
			var se syscall.Errno
			if errors.As(err, &se) && se.Temporary() {
				continue
			}
			t.log.Warn("udp read failed", "link", u.st.ep.String(), "err", err)
			time.Sleep(10 * time.Millisecond) // never spin on a failing socket
			continue
		}
		u.reads.Add(1)
		now := time.Now()
		t.mu.Lock()
		t.rxNow = t.Now()
		for i := range n {
			m := &u.msgs[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			// Unmapped, a v4 peer of a dual-stack socket is named as on
			// an IPv4 one.
			ap := ua.AddrPort()
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			u.datagram(ap, m.Buffers[0][:m.N], now)
		}
		t.mu.Unlock()
		if n < coalesceBelow && t.ReadCoalesce > 0 && !t.closing.Load() {
			time.Sleep(t.ReadCoalesce)
		}
	}
}

// datagram handles one datagram from ap. Called with t.mu held.
func (u *udpListener) datagram(ap netip.AddrPort, b []byte, now time.Time) {
	t := u.t
	ch := u.peers[ap]
	if ch == nil {
		// A new peer's first datagram must start a MAVLink frame.
		if len(b) == 0 || (b[0] != magicV1 && b[0] != magicV2) {
			return
		}
		ch = u.newPeer(ap)
		if ch == nil {
			return
		}
	}
	ch.lastIn = now
	if !ch.gc.allowBytes(len(b), now) {
		return
	}
	u.fr.parse(t, ch, ch.gc.datagram(b, u.out, now))
}

// newPeer admits a new source, or returns nil if the listener refuses it.
// Called with t.mu held.
func (u *udpListener) newPeer(ap netip.AddrPort) *channel {
	t := u.t
	remote := ap.String()
	ch := &channel{t: t, ep: u.epIdx, addr: ap, udp: u,
		label: u.st.label + ":" + remote,
		name:  u.st.peerName(remote),
	}
	conn := u.conn
	ch.write = func(b []byte) error {
		_, err := conn.WriteToUDPAddrPort(b, ap)
		return err
	}
	gc := newGuardConn(nil, t.guard, remote, nil)
	gc.onClose = func(c *guardConn) {
		// Evicted (by admit) or timed out (by sweep), with t.mu held.
		u.st.forget(c)
		if u.peers[ap] == ch {
			delete(u.peers, ap)
			t.closeChannel(ch, nil)
		}
	}
	ch.gc = gc
	if !u.st.admit(gc) {
		return nil
	}
	u.peers[ap] = ch
	t.openChannel(ch)
	return ch
}

// sweep drops the peers silent for udpPeerTimeout or without a whole
// frame for FrameIdle. Called with t.mu held, from the ticker.
func (u *udpListener) sweep(now time.Time) {
	for _, ch := range u.peers {
		switch {
		case now.Sub(ch.lastIn) > udpPeerTimeout:
			ch.gc.Close()
		case now.Sub(ch.gc.lastFrame) > u.t.FrameIdle:
			u.t.stats.slowClosed.Add(1)
			u.t.srcLog.Warn(u.t.log, ch.gc.remote, "slow peer disconnected: no whole frame in time", "link", ch.gc.remote)
			ch.gc.Close()
		}
	}
}

// closePeers forgets the peers. Called by Close with t.mu held, after the
// reader returned.
func (u *udpListener) closePeers() {
	for _, ch := range u.peers {
		ch.gc.Close()
	}
}

// writeBatch writes m to every peer of chs, each frame with the peer's own
// sequence number, in as few sendmmsg calls as the system takes (through
// x/net's WriteBatch). A peer the system refuses is skipped, as a failed
// write to it alone would be. Called by the transport's run goroutine only,
// without t.mu.
func (u *udpListener) writeBatch(chs []*channel, m message.Message) {
	u.wbuf = u.wbuf[:0]
	ends := make([]int, 0, len(chs))
	sent := chs[:0:0]
	for _, ch := range chs {
		ch.wmu.Lock()
		ch.capture = &u.wbuf
		err := ch.writer().WriteMessage(m)
		ch.capture = nil
		ch.wmu.Unlock()
		if err == nil {
			ends = append(ends, len(u.wbuf))
			sent = append(sent, ch)
		}
	}
	u.wmsgs = u.wmsgs[:0]
	start := 0
	for i, ch := range sent {
		u.wmsgs = append(u.wmsgs, ipv4.Message{
			Buffers: [][]byte{u.wbuf[start:ends[i]]},
			Addr:    net.UDPAddrFromAddrPort(ch.addr),
		})
		start = ends[i]
	}
	for ms := u.wmsgs; len(ms) > 0; {
		n, err := u.batch.WriteBatch(ms, 0)
		u.batches.Add(1)
		u.batched.Add(uint64(max(n, 0)))
		if err != nil || n <= 0 {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			n = max(n, 0) + 1 // skip the peer that failed
		}
		ms = ms[min(n, len(ms)):]
	}
}
