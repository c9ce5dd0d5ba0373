//go:build linux

package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"golang.org/x/sys/unix"
)

// hubSupported says whether udpout drones share a hub on this system.
const hubSupported = true

// packSize is the most bytes packed into one datagram. ArduPilot writes a
// loop's worth of frames to its UDP port at once, so one datagram often
// carries several frames; the server must read them all.
const packSize = 1200

// hub is the swarm's shared UDP machinery for udpout drones. Every drone
// has a socket of its own (its own source port: its own link, as the server
// sees it), but no goroutine and no gomavlib Node of its own: one goroutine
// waits on every socket with epoll and hands each frame to its drone, and
// frames are encoded with gomavlib's frame writer into a buffer per drone,
// several to a datagram, by whichever goroutine has them to send (the
// scheduler for telemetry, the reader for replies).
//
// open and closeLink may be called from any goroutine; close stops the
// reader and waits for it.
type hub struct {
	raddr unix.Sockaddr
	laddr unix.Sockaddr
	fam   int
	log   *slog.Logger
	rw    *dialect.ReadWriter

	epfd    int
	wakeFD  int // eventfd that stops run
	mu      sync.Mutex
	byFD    map[int]*Drone
	done    chan struct{}
	closeMu sync.Once
}

// udpLink is one drone's socket and frame encoder. mu serialises writes
// from the scheduler and the reader.
type udpLink struct {
	h     *hub
	fd    int
	local string

	sig *droneSigning // the drone's, which signs what it sends

	mu  sync.Mutex
	w   *frame.Writer
	buf []byte
}

func newHub(address string, log *slog.Logger) (*hub, error) {
	ua, err := net.ResolveUDPAddr("udp", address)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	h := &hub{log: log, byFD: map[int]*Drone{}, done: make(chan struct{})}
	if ip4 := ua.IP.To4(); ip4 != nil {
		h.fam = unix.AF_INET
		h.raddr = &unix.SockaddrInet4{Port: ua.Port, Addr: [4]byte(ip4)}
		local := [4]byte{}
		if ip4.IsLoopback() {
			local = [4]byte{127, 0, 0, 1}
		}
		h.laddr = &unix.SockaddrInet4{Addr: local}
	} else {
		h.fam = unix.AF_INET6
		h.raddr = &unix.SockaddrInet6{Port: ua.Port, Addr: [16]byte(ua.IP.To16())}
		h.laddr = &unix.SockaddrInet6{}
	}
	if h.rw, err = dialect.NewReadWriter(ardupilotmega.Dialect); err != nil {
		return nil, err
	}
	if h.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("sim: epoll: %w", err)
	}
	if h.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		unix.Close(h.epfd)
		return nil, fmt.Errorf("sim: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(h.wakeFD)}
	if err := unix.EpollCtl(h.epfd, unix.EPOLL_CTL_ADD, h.wakeFD, &ev); err != nil {
		unix.Close(h.wakeFD)
		unix.Close(h.epfd)
		return nil, fmt.Errorf("sim: epoll: %w", err)
	}
	go h.run()
	return h, nil
}

// open makes d's socket, sending as sysid.
func (h *hub) open(d *Drone, sysid uint8) (*udpLink, error) {
	fd, err := unix.Socket(h.fam, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sim: drone %d: socket: %w", d.index, err)
	}
	fail := func(what string, err error) (*udpLink, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("sim: drone %d: %s: %w", d.index, what, err)
	}
	if err := unix.Bind(fd, h.laddr); err != nil {
		return fail("bind", err)
	}
	if err := unix.Connect(fd, h.raddr); err != nil {
		return fail("connect", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	l := &udpLink{h: h, fd: fd, local: sockaddrString(sa), buf: make([]byte, 0, packSize+512), sig: &d.sig}
	l.w = &frame.Writer{ByteWriter: l, DialectRW: h.rw, OutVersion: frame.V2, OutSystemID: sysid, OutComponentID: 1}
	if err := l.w.Initialize(); err != nil {
		return fail("frame writer", err)
	}
	h.mu.Lock()
	h.byFD[fd] = d
	h.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(h.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		h.mu.Lock()
		delete(h.byFD, fd)
		h.mu.Unlock()
		return fail("epoll", err)
	}
	return l, nil
}

// closeLink closes a drone's socket; no frame reaches the drone after it.
func (h *hub) closeLink(l *udpLink) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return
	}
	_ = unix.EpollCtl(h.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
	h.mu.Lock()
	delete(h.byFD, l.fd)
	h.mu.Unlock()
	unix.Close(l.fd)
	l.fd = -1
}

// close stops the reader and waits for it. Links must be closed first.
func (h *hub) close() {
	h.closeMu.Do(func() {
		var one [8]byte
		one[0] = 1
		_, _ = unix.Write(h.wakeFD, one[:])
		<-h.done
		unix.Close(h.wakeFD)
		unix.Close(h.epfd)
	})
}

// run waits on every socket and hands each frame to its drone.
func (h *hub) run() {
	defer close(h.done)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 65536)
	src := bytes.NewReader(nil)
	br := bufio.NewReaderSize(src, 4096)
	rd := &frame.Reader{BufByteReader: br, DialectRW: h.rw}
	if err := rd.Initialize(); err != nil {
		h.log.Error("frame reader", "err", err)
		return
	}
	for {
		n, err := unix.EpollWait(h.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			h.log.Error("epoll wait", "err", err)
			return
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			if fd == h.wakeFD {
				return
			}
			h.mu.Lock()
			d := h.byFD[fd]
			h.mu.Unlock()
			if d == nil {
				continue
			}
			for {
				m, err := unix.Read(fd, buf)
				if err != nil || m < 0 {
					break // EAGAIN: drained; other errors (ECONNREFUSED): try later
				}
				now := time.Now()
				src.Reset(buf[:m])
				br.Reset(src)
				rd.ResetBuffer()
				for {
					fr, err := rd.Read()
					if err != nil {
						var perr frame.ReadError
						if errors.As(err, &perr) {
							continue
						}
						break
					}
					if !d.sig.accept(fr) {
						d.rejected.Add(1)
						continue
					}
					d.receive(now, fr.GetSystemID(), fr.GetComponentID(), fr.GetMessage())
				}
			}
		}
	}
}

// Write implements io.Writer for the frame writer: it appends one frame.
func (l *udpLink) Write(p []byte) (int, error) {
	if len(l.buf)+len(p) > packSize {
		l.flush()
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *udpLink) flush() {
	if len(l.buf) == 0 {
		return
	}
	if l.fd >= 0 {
		// A full socket buffer or a server not listening loses the
		// datagram, as on a radio link.
		_, _ = unix.Write(l.fd, l.buf)
	}
	l.buf = l.buf[:0]
}

// writeMessages encodes msgs and sends them, several frames to a datagram.
func (l *udpLink) writeMessages(msgs []message.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return
	}
	for _, m := range msgs {
		if fr := l.sig.sign(l.w.OutSystemID, m); fr != nil {
			_ = l.w.WriteFrame(fr)
			continue
		}
		_ = l.w.WriteMessage(m)
	}
	l.flush()
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return ""
}

var _ io.Writer = (*udpLink)(nil)
