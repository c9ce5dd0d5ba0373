package mavlink

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"go.bug.st/serial"
)

// Streams and clients
//
// A TCP connection (accepted by a tcpin endpoint, or dialed by a tcp one)
// and a serial port are streams: one reader goroutine each reads through
// the connection guard, parses frames with the transport's framer, and
// handles them under the transport's lock. A tcpin endpoint has one more
// goroutine accepting connections; a client endpoint (tcp, serial) dials
// again reconnectPeriod after its connection ends. A udpout endpoint is
// one connected UDP socket read like a listener's single peer.

const (
	// reconnectPeriod is the wait before a client endpoint dials again.
	reconnectPeriod = 2 * time.Second
	// writeTimeout bounds one write to a stream; a peer that does not
	// read for that long is disconnected.
	writeTimeout = 5 * time.Second
)

// openSerial opens a serial port (a variable for tests).
var openSerial = func(device string, baud int) (io.ReadWriteCloser, error) {
	return serial.Open(device, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
}

// track registers a connection for Close; false if the transport is
// closing (the caller closes it).
func (t *Transport) track(c io.Closer) bool {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if t.closing.Load() {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Transport) untrack(c io.Closer) {
	t.connMu.Lock()
	delete(t.conns, c)
	t.connMu.Unlock()
}

// streamChannel returns the channel of a stream connection.
func (t *Transport) streamChannel(idx int, label, name string, gc *guardConn) *channel {
	ch := &channel{t: t, ep: idx, label: label, name: name, gc: gc}
	rw := gc.rw
	wd, _ := rw.(interface{ SetWriteDeadline(time.Time) error })
	ch.write = func(b []byte) error {
		if wd != nil {
			_ = wd.SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		_, err := rw.Write(b)
		if err != nil {
			gc.Close() // broken or stuck: its reader ends the channel
		}
		return err
	}
	return ch
}

// runStream reads ch's connection until it ends, then closes ch.
func (t *Transport) runStream(ch *channel) {
	gc := ch.gc
	fr := newStreamFramer(gc, t.mt)
	t.mu.Lock()
	t.openChannel(ch)
	t.mu.Unlock()
	var err error
	for {
		var f frame.Frame
		var ferr error
		if f, ferr, err = fr.next(); err != nil {
			break
		}
		t.mu.Lock()
		if ferr != nil {
			t.parseError(ch, ferr)
		} else {
			t.rxNow = t.Now()
			t.handleFrame(ch, f)
		}
		t.mu.Unlock()
	}
	gc.Close()
	t.mu.Lock()
	t.closeChannel(ch, err)
	t.mu.Unlock()
}

// serveTCP accepts the connections of a tcpin endpoint until ln closes.
func (t *Transport) serveTCP(st *endpointState, idx int, ln net.Listener) {
	defer t.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.closing.Load() {
				return
			}
			t.log.Warn("accept failed", "link", st.ep.String(), "err", err)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		remote := c.RemoteAddr().String()
		gc := newGuardConn(c, t.guard, remote, nil)
		gc.onClose = st.forget
		if !st.admit(gc) {
			c.Close()
			continue
		}
		if !t.track(gc) {
			gc.Close()
			return
		}
		ch := t.streamChannel(idx, st.label+":"+remote, st.peerName(remote), gc)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(gc)
			t.runStream(ch)
		}()
	}
}

// runClient dials a tcp or serial endpoint and reads it, again and again
// until the transport closes.
func (t *Transport) runClient(st *endpointState, idx int) {
	defer t.wg.Done()
	for {
		rw, err := t.dial(t.ctx, st.ep)
		if err == nil {
			gc := newGuardConn(rw, t.guard, st.ep.Address, nil)
			if !t.track(gc) {
				gc.Close()
				return
			}
			t.runStream(t.streamChannel(idx, st.label, st.ep.String(), gc))
			t.untrack(gc)
		} else {
			t.log.Debug("connect failed", "link", st.ep.String(), "err", err)
		}
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(reconnectPeriod):
		}
	}
}

func (t *Transport) dial(ctx context.Context, ep Endpoint) (io.ReadWriteCloser, error) {
	if ep.Kind == EndpointSerial {
		return openSerial(ep.Address, ep.Baud)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return (&net.Dialer{}).DialContext(ctx, "tcp", ep.Address)
}

// runUDPOut reads a udpout endpoint's socket until the transport closes.
func (t *Transport) runUDPOut(st *endpointState, idx int, conn *net.UDPConn) {
	defer t.wg.Done()
	gc := newGuardConn(nil, t.guard, st.ep.Address, nil)
	ch := &channel{t: t, ep: idx, label: st.label, name: st.ep.String(), gc: gc}
	ch.write = func(b []byte) error {
		_, err := conn.Write(b)
		return err
	}
	t.mu.Lock()
	t.openChannel(ch)
	t.mu.Unlock()
	buf := make([]byte, maxDatagram)
	out := make([]byte, 0, maxDatagram)
	fr := newDatagramFramer(t.mt)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.closing.Load() {
				break
			}
			// Nothing listening there yet (ICMP port unreachable).
			select {
			case <-t.ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		now := time.Now()
		t.mu.Lock()
		t.rxNow = t.Now()
		ch.lastIn = now
		if gc.allowBytes(n, now) {
			fr.parse(t, ch, gc.datagram(buf[:n], out, now))
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.closeChannel(ch, nil)
	t.mu.Unlock()
}
