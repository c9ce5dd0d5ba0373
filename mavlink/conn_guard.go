package mavlink

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/x25"

	"github.com/centinela-gcs/centinela/fleet"
)

// Connection guard
//
// Every network connection the transport reads (a TCP connection, a UDP
// peer read as a stream) passes through a guardConn before gomavlib sees
// its bytes. The guard follows MAVLink framing, enough to:
//
//   - drop bytes outside frames (junk) before gomavlib turns each one into
//     a parse-error event: lines of plain text (ArduPilot SITL's boot
//     console on its TCP port) count as Stats.ConsoleText, other bytes as
//     parse errors, both as Stats.JunkBytes, without one event per byte;
//   - bound the time a frame may take once started (FrameTimeout) and the
//     time without any complete frame (FrameIdle), so a sender trickling
//     bytes (slowloris) is disconnected (Stats.SlowClosed);
//   - limit the bytes a single peer may send per second (PeerRate), so one
//     flooding source is slowed down, not the others (Stats.Throttled);
//   - notice the first valid vehicle HEARTBEAT, which proves the peer is a
//     vehicle: unproven peers of a listener have a small budget
//     (MaxUnproven) and are evicted first when a listener is full.

// MAVLink framing constants.
const (
	magicV1      = 0xFE
	magicV2      = 0xFD
	maxFrameLen  = 280
	heartbeatCRC = 50 // CRC_EXTRA of HEARTBEAT
)

// guard is what a guardConn shares with its transport: options and
// counters.
type guard struct {
	frameTimeout time.Duration
	frameIdle    time.Duration
	rate         float64 // bytes per second, 0 unlimited
	burst        float64
	stats        *transportStats
	logLimit     *fleet.RateLog
	debug        func(msg string, args ...any) // optional
}

// guardConn is a net.Conn whose reads are filtered and bounded as the
// package doc says. Read and SetReadDeadline are called by gomavlib's
// reader goroutine only; Close and the proven flag from any goroutine.
type guardConn struct {
	net.Conn
	g       *guard
	remote  string
	opened  time.Time
	onProof func(*guardConn)
	onClose func(*guardConn)

	proven atomic.Bool
	closed atomic.Bool

	// reader goroutine only
	rb         []byte // read buffer
	out        []byte // filtered bytes not yet returned
	opos       int
	frame      [maxFrameLen]byte
	fn         int // bytes of the current frame held in frame
	need       int // total length of the current frame (0: between frames)
	frameStart time.Time
	lastFrame  time.Time
	deadline   time.Time // the deadline gomavlib asked for
	limitHit   bool      // the last deadline set was the guard's
	tokens     float64
	filled     time.Time
	line       []byte // plain text between frames, up to maxConsoleLine
}

func newGuardConn(c net.Conn, g *guard, onProof func(*guardConn)) *guardConn {
	now := time.Now()
	remote := ""
	if a := c.RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &guardConn{Conn: c, g: g, remote: remote, opened: now, onProof: onProof,
		lastFrame: now, tokens: g.burst, filled: now}
}

// Close closes the connection once.
func (c *guardConn) Close() error {
	if !c.closed.Swap(true) && c.onClose != nil {
		c.onClose(c)
	}
	return c.Conn.Close()
}

// SetReadDeadline records the deadline gomavlib asks for; Read applies it
// together with the guard's own.
func (c *guardConn) SetReadDeadline(t time.Time) error {
	c.deadline = t
	return nil
}

// Read returns filtered bytes: frame bytes only, junk dropped.
func (c *guardConn) Read(p []byte) (int, error) {
	if c.rb == nil {
		c.rb = make([]byte, 2048)
		c.out = make([]byte, 0, 2048+maxFrameLen)
	}
	for {
		if c.opos < len(c.out) {
			n := copy(p, c.out[c.opos:])
			c.opos += n
			if c.opos == len(c.out) {
				c.out, c.opos = c.out[:0], 0
			}
			return n, nil
		}
		c.throttle()
		if err := c.applyDeadline(); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(c.rb)
		if n > 0 {
			c.spend(n)
			c.filter(c.rb[:n])
		}
		if err != nil && n == 0 {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && c.limitHit {
				c.g.stats.slowClosed.Add(1)
				c.g.logLimit.Warn("slow peer disconnected: no whole frame in time", "link", c.remote)
			}
			return 0, err
		}
	}
}

// applyDeadline sets the earliest of gomavlib's deadline, the end of the
// current frame's time and the idle bound.
func (c *guardConn) applyDeadline() error {
	d := c.deadline
	c.limitHit = false
	limit := c.lastFrame.Add(c.g.frameIdle)
	if c.need > 0 {
		limit = c.frameStart.Add(c.g.frameTimeout)
	}
	if d.IsZero() || limit.Before(d) {
		d = limit
		c.limitHit = true
	}
	return c.Conn.SetReadDeadline(d)
}

// throttle sleeps while the peer has spent its byte budget.
func (c *guardConn) throttle() {
	if c.g.rate <= 0 {
		return
	}
	now := time.Now()
	c.tokens = min(c.g.burst, c.tokens+now.Sub(c.filled).Seconds()*c.g.rate)
	c.filled = now
	if c.tokens > 0 {
		return
	}
	c.g.stats.throttled.Add(1)
	c.g.logLimit.Warn("peer over its byte rate: throttled", "link", c.remote, "bytes_per_s", c.g.rate)
	for c.tokens <= 0 && !c.closed.Load() {
		wait := time.Duration(-c.tokens/c.g.rate*float64(time.Second)) + time.Millisecond
		time.Sleep(min(wait, 100*time.Millisecond))
		now = time.Now()
		c.tokens = min(c.g.burst, c.tokens+now.Sub(c.filled).Seconds()*c.g.rate)
		c.filled = now
	}
}

func (c *guardConn) spend(n int) {
	if c.g.rate > 0 {
		c.tokens -= float64(n)
	}
}

// filter moves the bytes of in that belong to frames to out; junk is
// counted and dropped. A header is held in frame until it is known good.
func (c *guardConn) filter(in []byte) {
	junk, binary := 0, 0
	for _, b := range in {
		if c.need == 0 {
			if c.fn == 0 {
				if b != magicV1 && b != magicV2 {
					junk++
					if !c.consoleByte(b) {
						binary++
					}
					continue
				}
				c.endLine()
				c.frameStart = time.Now()
			}
			c.frame[c.fn] = b
			c.fn++
			if c.fn < 3 {
				continue
			}
			if c.frame[0] == magicV2 {
				inc := c.frame[2]
				if inc > 1 {
					junk += c.fn
					binary += c.fn
					c.fn = 0
					continue
				}
				c.need = 12 + int(c.frame[1])
				if inc&1 != 0 {
					c.need += 13
				}
			} else {
				c.need = 8 + int(c.frame[1])
			}
			c.out = append(c.out, c.frame[:c.fn]...)
			continue
		}
		c.frame[c.fn] = b
		c.fn++
		c.out = append(c.out, b)
		if c.fn == c.need {
			c.frameDone()
		}
	}
	if junk > 0 {
		c.g.stats.junkBytes.Add(uint64(junk))
	}
	if binary > 0 {
		// Counted per byte, as gomavlib would, without an event each.
		c.g.stats.parseErrors.Add(uint64(binary))
	}
}

// consoleByte takes a byte outside frames: printable text (ASCII, tab, CR,
// LF) goes to the current console line, which a line end, maxConsoleLine
// bytes or anything else ends. It returns false for any other byte.
func (c *guardConn) consoleByte(b byte) bool {
	switch {
	case b == '\n' || b == '\r':
		c.endLine()
	case b == '\t' || (b >= 0x20 && b < 0x7f):
		c.line = append(c.line, b)
		if len(c.line) >= maxConsoleLine {
			c.endLine()
		}
	default:
		c.endLine()
		return false
	}
	return true
}

// endLine counts and logs the console line read so far, if any.
func (c *guardConn) endLine() {
	if len(c.line) == 0 {
		return
	}
	line := strings.TrimSpace(string(c.line))
	c.line = c.line[:0]
	if line == "" {
		return
	}
	c.g.stats.consoleText.Add(1)
	if c.g.debug != nil {
		c.g.debug("console text", "link", c.remote, "err", "not MAVLink: "+strconv.Quote(line))
	}
}

// frameDone ends a frame: it records the time and looks for the vehicle
// heartbeat that proves the peer.
func (c *guardConn) frameDone() {
	c.lastFrame = time.Now()
	n := c.fn
	c.need, c.fn = 0, 0
	if c.proven.Load() || n > maxFrameLen {
		return
	}
	f := c.frame[:n]
	var msgID uint32
	var payload []byte
	var hdr []byte
	switch f[0] {
	case magicV2:
		if n < 12 {
			return
		}
		msgID = uint32(f[7]) | uint32(f[8])<<8 | uint32(f[9])<<16
		hdr = f[1:10]
		payload = f[10 : 10+int(f[1])]
	case magicV1:
		if n < 8 {
			return
		}
		msgID = uint32(f[5])
		hdr = f[1:6]
		payload = f[6 : 6+int(f[1])]
	}
	if msgID != 0 {
		return
	}
	h := x25.New()
	h.Write(hdr)
	h.Write(payload)
	h.Write([]byte{heartbeatCRC})
	end := len(hdr) + 1 + len(payload)
	if binary.LittleEndian.Uint16(f[end:end+2]) != h.Sum16() {
		return
	}
	var pl [9]byte
	copy(pl[:], payload)
	if pl[4] == mavTypeGCS || pl[5] == mavAutopilotInvalid {
		return
	}
	if !c.proven.Swap(true) && c.onProof != nil {
		c.onProof(c)
	}
}
