package mavlink

import (
	"encoding/binary"
	"io"
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
// Every connection the transport reads (a TCP connection, a serial port, a
// UDP peer) passes through a guardConn before gomavlib sees its bytes. The
// guard follows MAVLink framing, enough to:
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

// guardConn is one connection's or UDP peer's guard state. For a stream
// (TCP, serial) rw is the connection and Read returns its filtered bytes;
// Read is called by the connection's reader goroutine only. For a UDP peer
// rw is nil and the listener's reader calls datagram and allowBytes, under
// the transport's lock. Close and the proven flag may be used from any
// goroutine.
type guardConn struct {
	rw       io.ReadWriteCloser // nil for a UDP peer
	deadline deadliner          // rw's read deadline; nil if it has none
	g        *guard
	remote   string
	opened   time.Time
	onProof  func(*guardConn)
	onClose  func(*guardConn)

	proven atomic.Bool
	closed atomic.Bool

	// reader only
	rb         []byte // read buffer (streams)
	out        []byte // filtered bytes not yet returned
	opos       int
	frame      [maxFrameLen]byte
	fn         int // bytes of the current frame held in frame
	need       int // total length of the current frame (0: between frames)
	now        time.Time
	frameStart time.Time
	lastFrame  time.Time
	setDL      time.Time // the read deadline set on rw (zero: none yet)
	tokens     float64
	filled     time.Time
	line       []byte // plain text between frames, up to maxConsoleLine
}

// deadliner is a connection with a read deadline.
type deadliner interface{ SetReadDeadline(time.Time) error }

// streamReadBuf is the read buffer of a stream connection.
const streamReadBuf = 2048

func newGuardConn(rw io.ReadWriteCloser, g *guard, remote string, onProof func(*guardConn)) *guardConn {
	now := time.Now()
	c := &guardConn{rw: rw, g: g, remote: remote, opened: now, onProof: onProof,
		lastFrame: now, tokens: g.burst, filled: now}
	if d, ok := rw.(deadliner); ok {
		c.deadline = d
	}
	return c
}

// Close closes the connection once; onClose runs once.
func (c *guardConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.onClose != nil {
		c.onClose(c)
	}
	if c.rw != nil {
		return c.rw.Close()
	}
	return nil
}

// Read returns filtered bytes of a stream: frame bytes only, junk dropped.
// A frame that takes longer than FrameTimeout, or no whole frame for
// FrameIdle, ends the connection with a timeout error. The read deadline
// is set only when the limit comes earlier than the one set, or when the
// one set passed before the limit did: not on every read.
func (c *guardConn) Read(p []byte) (int, error) {
	if c.rb == nil {
		c.rb = make([]byte, streamReadBuf)
		c.out = make([]byte, 0, streamReadBuf+maxFrameLen)
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
		if err := c.armDeadline(false); err != nil {
			return 0, err
		}
		n, err := c.rw.Read(c.rb)
		if n > 0 {
			c.spend(n)
			c.filter(c.rb[:n])
		}
		if err != nil && n == 0 {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && c.deadline != nil && !c.closed.Load() {
				if time.Now().Before(c.limit()) {
					// An earlier limit since passed: set the current one.
					if err := c.armDeadline(true); err != nil {
						return 0, err
					}
					continue
				}
				c.g.stats.slowClosed.Add(1)
				c.g.logLimit.Warn("slow peer disconnected: no whole frame in time", "link", c.remote)
			}
			return 0, err
		}
	}
}

// limit is when the connection times out: the end of the current frame's
// time, or of the idle bound between frames.
func (c *guardConn) limit() time.Time {
	if c.need > 0 || c.fn > 0 {
		return c.frameStart.Add(c.g.frameTimeout)
	}
	return c.lastFrame.Add(c.g.frameIdle)
}

// armDeadline sets the read deadline to the limit if it comes before the
// one set (or always, with force).
func (c *guardConn) armDeadline(force bool) error {
	if c.deadline == nil {
		return nil
	}
	l := c.limit()
	if !force && !c.setDL.IsZero() && !l.Before(c.setDL) {
		return nil
	}
	c.setDL = l
	return c.deadline.SetReadDeadline(l)
}

// throttle sleeps while the peer has spent its byte budget (streams).
func (c *guardConn) throttle() {
	if c.g.rate <= 0 {
		return
	}
	now := time.Now()
	c.refill(now)
	if c.tokens > 0 {
		return
	}
	c.g.stats.throttled.Add(1)
	c.g.logLimit.Warn("peer over its byte rate: throttled", "link", c.remote, "bytes_per_s", c.g.rate)
	for c.tokens <= 0 && !c.closed.Load() {
		wait := time.Duration(-c.tokens/c.g.rate*float64(time.Second)) + time.Millisecond
		time.Sleep(min(wait, 100*time.Millisecond))
		c.refill(time.Now())
	}
}

func (c *guardConn) refill(now time.Time) {
	c.tokens = min(c.g.burst, c.tokens+now.Sub(c.filled).Seconds()*c.g.rate)
	c.filled = now
}

func (c *guardConn) spend(n int) {
	if c.g.rate > 0 {
		c.tokens -= float64(n)
	}
}

// allowBytes spends n bytes of a UDP peer's budget; false means the peer
// is over PeerRate and its datagram is dropped (a shared reader cannot
// wait for one peer).
func (c *guardConn) allowBytes(n int, now time.Time) bool {
	if c.g.rate <= 0 {
		return true
	}
	c.refill(now)
	if c.tokens <= 0 {
		c.g.stats.throttled.Add(1)
		c.g.logLimit.Warn("peer over its byte rate: throttled", "link", c.remote, "bytes_per_s", c.g.rate)
		return false
	}
	c.tokens -= float64(n)
	return true
}

// datagram filters one UDP datagram into buf and returns the frame bytes.
// Frames do not span datagrams: the start of a frame cut short at the end
// is junk (its bytes already in the output fail to parse).
func (c *guardConn) datagram(b, buf []byte, now time.Time) []byte {
	c.out = buf[:0]
	c.filterAt(b, now)
	if c.need == 0 && c.fn > 0 {
		c.g.stats.junkBytes.Add(uint64(c.fn))
		c.g.stats.parseErrors.Add(uint64(c.fn))
	}
	c.need, c.fn = 0, 0
	out := c.out
	c.out = nil
	return out
}

// filter moves the bytes of in that belong to frames to out; junk is
// counted and dropped. A header is held in frame until it is known good.
func (c *guardConn) filter(in []byte) { c.filterAt(in, time.Now()) }

// filterAt is filter for bytes read at now.
func (c *guardConn) filterAt(in []byte, now time.Time) {
	c.now = now
	junk, binary := 0, 0
	for i := 0; i < len(in); i++ {
		b := in[i]
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
				c.frameStart = c.now
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
		// Inside a frame: the rest of it, or of in, at once.
		k := min(c.need-c.fn, len(in)-i)
		copy(c.frame[c.fn:], in[i:i+k])
		c.fn += k
		c.out = append(c.out, in[i:i+k]...)
		i += k - 1
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
	c.lastFrame = c.now
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
