// Package wsload is a light WebSocket client of the operator map (the
// protocol of web/PROTOCOL.md) for load tests and centinela bench: it
// authenticates with a bearer subprotocol, subscribes to every drone and
// counts what it receives, timing one probe drone's positions, without
// decoding whole messages (a bench runs many of these next to the server).
//
// It speaks protocol 2 by default (compact position entries, counted and
// searched for the probe's index without parsing them, and status entries,
// counted) or protocol 1.
package wsload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/web"
	"github.com/gorilla/websocket"
)

// Client is one WebSocket client watching every drone. Set the fields,
// then Dial; Close ends it. Its methods are safe for concurrent use.
type Client struct {
	// URL is the server's base URL, as web.Server.URL returns it
	// ("http://127.0.0.1:8080/"); the client connects to its /ws.
	URL string
	// Token is the bearer token to authenticate with.
	Token string
	// Probe is the id of a drone whose positions OnProbe receives
	// (optional).
	Probe string
	// OnProbe is called, from the client's reader goroutine, with the
	// latitude of every state of Probe with a position and the time its
	// message arrived (optional). It must not block.
	OnProbe func(lat float64, at time.Time)
	// OwnThread runs the reader on an OS thread of its own, so that CPU
	// can report what reading costs (a bench subtracts it from the
	// server's process; Linux only, elsewhere CPU is 0).
	OwnThread bool
	// Protocol is the protocol version to ask for, web.ProtocolV1 or
	// web.ProtocolV2 (optional, default web.ProtocolV2).
	Protocol int

	conn *websocket.Conn
	done chan struct{}
	once sync.Once

	messages, full, compact, tel, bytes atomic.Uint64
	tid, cpu                            atomic.Int64 // the reader's thread, its CPU time last read
	// probeEntry is the start of the probe's compact entries, "[IX,"
	// (reader goroutine only).
	probeEntry []byte

	mu     sync.Mutex
	seen   map[string]bool // drones received with a position
	closed string          // why the server closed the connection
}

// Stats is what a Client received.
type Stats struct {
	// Messages counts the "snapshot" and "states" messages, States the
	// drone states in them, Bytes all messages' bytes.
	Messages, States, Bytes uint64
	// Full and Compact split States into full drone objects and compact
	// entries (protocol 2).
	Full, Compact uint64
	// Tel counts protocol 2's status entries (battery, GPS and link
	// quality of a drone also in the message's compact entries, so not
	// counted again in States).
	Tel uint64
	// Drones counts the distinct drones received with a position.
	Drones int
	// Closed is how the server closed the connection ("" while open, or
	// after Close): the close code and reason, such as "4008 slow
	// consumer: send buffer full".
	Closed string
}

// Dial connects, authenticates, subscribes to every drone and starts
// reading. It fails if the server refuses or does not say hello.
func (c *Client) Dial(ctx context.Context) error {
	protos := []string{web.SubprotocolV2, web.Subprotocol}
	switch c.Protocol {
	case 0:
		c.Protocol = web.ProtocolV2
	case web.ProtocolV1:
		protos = []string{web.Subprotocol}
	case web.ProtocolV2:
	default:
		return fmt.Errorf("websocket: protocol %d, want %d or %d", c.Protocol, web.ProtocolV1, web.ProtocolV2)
	}
	u := strings.TrimSuffix(c.URL, "/")
	u = strings.Replace(u, "http://", "ws://", 1)
	u = strings.Replace(u, "https://", "wss://", 1)
	d := websocket.Dialer{
		Subprotocols:     append(protos, "bearer."+c.Token),
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   64 << 10,
	}
	conn, resp, err := d.DialContext(ctx, u+"/ws", nil)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("websocket %s: %w (HTTP %d)", u, err, resp.StatusCode)
		}
		return fmt.Errorf("websocket %s: %w", u, err)
	}
	conn.SetReadLimit(256 << 20)
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	} else {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	var hello struct {
		Type     string `json:"type"`
		Protocol int    `json:"protocol"`
	}
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" || hello.Protocol != c.Protocol {
		conn.Close()
		if err == nil {
			err = fmt.Errorf("first message %q of protocol %d, want hello of protocol %d", hello.Type, hello.Protocol, c.Protocol)
		}
		return fmt.Errorf("websocket hello: %w", err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe"}`)); err != nil {
		conn.Close()
		return fmt.Errorf("websocket subscribe: %w", err)
	}
	conn.SetReadDeadline(time.Time{})
	c.conn, c.done, c.seen = conn, make(chan struct{}), map[string]bool{}
	go c.read()
	return nil
}

// read counts messages until the connection ends.
func (c *Client) read() {
	defer close(c.done)
	if c.OwnThread {
		// Never unlocked: the thread ends with the reader, after its last
		// CPU time is kept.
		runtime.LockOSThread()
		c.tid.Store(int64(gettid()))
		defer c.CPU()
	}
	var buf bytes.Buffer // reused: a states message of 2,000 drones is about 1.4 MB
	for {
		msg, err := c.next(&buf)
		at := time.Now()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.mu.Lock()
				c.closed = strconv.Itoa(ce.Code) + " " + ce.Text
				c.mu.Unlock()
			}
			return
		}
		c.bytes.Add(uint64(len(msg)))
		c.take(msg, at)
	}
}

// next reads one message into buf (its memory reused) and returns its bytes,
// valid until the next call.
func (c *Client) next(buf *bytes.Buffer) ([]byte, error) {
	_, r, err := c.conn.NextReader()
	if err != nil {
		return nil, err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if buf.Cap() > 8<<20 && buf.Len() < buf.Cap()/4 {
		*buf = bytes.Buffer{} // do not keep a huge buffer for small messages
	}
	return buf.Bytes(), nil
}

// The server encodes each drone of a "snapshot" or "states" message as an
// object starting {"id":"…", with "has_position":true,"lat": when it has a
// position (web's droneJSON field order), and in protocol 2 ending
// ,"ix":N}; protocol 2's compact entries follow in "pos", arrays of
// numbers (and null) starting [IX, that are the only '[' of that list,
// and its status entries in "tel" after it, arrays too. In a JSON string a
// quote is escaped, so these byte sequences occur nowhere else.
var (
	statesPrefix   = []byte(`{"type":"states",`)
	snapshotPrefix = []byte(`{"type":"snapshot",`)
	droneStart     = []byte(`{"id":"`)
	posMark        = []byte(`"has_position":true,"lat":`)
	ixMark         = []byte(`,"ix":`)
	posList        = []byte(`],"pos":[`)
	telList        = []byte(`],"tel":[`)
)

// maxSeen bounds the drone ids a client remembers (the server tracks at
// most a few thousand drones).
const maxSeen = 1 << 16

// take counts one message's drone states and times the probe's.
func (c *Client) take(msg []byte, at time.Time) {
	if !bytes.HasPrefix(msg, statesPrefix) && !bytes.HasPrefix(msg, snapshotPrefix) {
		return
	}
	c.messages.Add(1)
	var pos, tel []byte
	if c.Protocol == web.ProtocolV2 {
		if k := bytes.Index(msg, posList); k >= 0 {
			msg, pos = msg[:k], msg[k+len(posList):]
		}
		if k := bytes.Index(pos, telList); k >= 0 {
			pos, tel = pos[:k], pos[k+len(telList):]
		}
	}
	c.takeFull(msg, at)
	if len(pos) > 0 {
		c.takeCompact(pos, at)
	}
	if n := bytes.Count(tel, []byte{'['}); n > 0 {
		c.tel.Add(uint64(n))
	}
}

// takeCompact counts protocol 2's compact entries, the list pos (from its
// first entry to the end of the list), and times the probe's.
func (c *Client) takeCompact(pos []byte, at time.Time) {
	c.compact.Add(uint64(bytes.Count(pos, []byte{'['})))
	if c.OnProbe == nil || c.probeEntry == nil {
		return
	}
	i := bytes.Index(pos, c.probeEntry)
	if i < 0 {
		return
	}
	v := pos[i+len(c.probeEntry):]
	if k := bytes.IndexByte(v, ','); k >= 0 {
		v = v[:k]
	}
	if lat, err := strconv.ParseFloat(string(v), 64); err == nil {
		c.OnProbe(lat, at)
	}
}

// takeFull counts the full drone objects of msg and times the probe's.
func (c *Client) takeFull(msg []byte, at time.Time) {
	n := 0
	i := bytes.Index(msg, droneStart)
	for i >= 0 {
		obj := msg[i+len(droneStart):]
		i = -1
		if j := bytes.Index(obj, droneStart); j >= 0 {
			i = len(msg) - len(obj) + j
			obj = obj[:j]
		}
		n++
		q := bytes.IndexByte(obj, '"')
		if q < 0 {
			continue
		}
		id := obj[:q]
		p := bytes.Index(obj, posMark)
		if p < 0 {
			continue
		}
		c.mu.Lock()
		if !c.seen[string(id)] && len(c.seen) < maxSeen {
			c.seen[string(id)] = true
		}
		c.mu.Unlock()
		if c.OnProbe == nil || string(id) != c.Probe {
			continue
		}
		if x := bytes.LastIndex(obj, ixMark); x >= 0 && c.probeEntry == nil {
			ix := obj[x+len(ixMark):]
			if k := bytes.IndexByte(ix, '}'); k >= 0 {
				c.probeEntry = append(append([]byte{'['}, ix[:k]...), ',')
			}
		}
		v := obj[p+len(posMark):]
		if k := bytes.IndexAny(v, ",}"); k >= 0 {
			v = v[:k]
		}
		if lat, err := strconv.ParseFloat(string(v), 64); err == nil {
			c.OnProbe(lat, at)
		}
	}
	c.full.Add(uint64(n))
}

// Stats returns what the client received so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	full, compact := c.full.Load(), c.compact.Load()
	return Stats{Messages: c.messages.Load(), States: full + compact, Full: full, Compact: compact, Tel: c.tel.Load(),
		Bytes: c.bytes.Load(), Drones: len(c.seen), Closed: c.closed}
}

// CPU returns the CPU time of the reader's thread so far (0 without
// OwnThread; after the reader ended, its last figure).
func (c *Client) CPU() time.Duration {
	if tid := c.tid.Load(); tid > 0 {
		if d := threadCPU(int(tid)); int64(d) > c.cpu.Load() {
			c.cpu.Store(int64(d))
		}
	}
	return time.Duration(c.cpu.Load())
}

// Seen reports whether the client received a position of drone id.
func (c *Client) Seen(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

// Close closes the connection and waits for the reader to end.
func (c *Client) Close() {
	if c.conn == nil {
		return
	}
	c.once.Do(func() {
		c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.conn.Close()
		<-c.done
	})
}
