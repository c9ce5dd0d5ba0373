package mavlink

import (
	"net/netip"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// channel is one connection the transport reads and writes: a TCP
// connection, a serial port, a udpout socket, or one source address of a
// UDP listener. Vehicles heard on it are its links.
//
// Reading is done by the goroutine that owns the connection (a stream's
// reader, the UDP listener's reader); the handling of what it reads, and
// every field marked "t.mu", is serialized by the transport's lock. Writing
// may happen from any goroutine, serialized by wmu.
type channel struct {
	t     *Transport
	label string // as logged: "udp:0.0.0.0:14550:127.0.0.1:5760"
	name  string // the fleet's link name (fleet.VehicleKey.Link)
	ep    int    // index of the endpoint in t.endpoints
	gc    *guardConn

	// write is the connection's write of one frame's bytes.
	write func(b []byte) error

	wmu     sync.Mutex
	fw      *frame.Writer // created on the first write
	capture *[]byte       // wmu: where Write appends instead of writing

	// udp is the listener of a UDP peer, nil for other channels.
	udp *udpListener

	// UDP listener peers (t.mu)
	addr   netip.AddrPort
	lastIn time.Time

	// t.mu
	links       int    // vehicles linked on the channel
	parseErrors uint64 // frames that failed to parse
	open        bool   // known to the transport (heartbeats go to it)
}

// String returns the channel's label.
func (c *channel) String() string { return c.label }

// Write writes one encoded frame; frame.Writer calls it once per frame.
// With capture set (wmu held), the frame is appended there instead, for a
// batch (udpListener.writeBatch).
func (c *channel) Write(b []byte) (int, error) {
	if c.capture != nil {
		*c.capture = append(*c.capture, b...)
		return len(b), nil
	}
	if err := c.write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// writer returns the channel's frame writer. Called with wmu held.
func (c *channel) writer() *frame.Writer {
	if c.fw == nil {
		c.fw = &frame.Writer{ByteWriter: c, DialectRW: c.t.drw, OutVersion: frame.V2,
			OutSystemID: c.t.SysID, OutComponentID: c.t.CompID}
		_ = c.fw.Initialize() // fails only without a ByteWriter
	}
	return c.fw
}

// writeMessage encodes m as a MAVLink 2 frame from the transport's ids and
// writes it.
func (c *channel) writeMessage(m message.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writer().WriteMessage(m)
}

// writeFrame writes a frame as it is (signed frames, see signing.go).
func (c *channel) writeFrame(fr frame.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writer().WriteFrame(fr)
}
