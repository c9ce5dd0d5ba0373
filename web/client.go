package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/gorilla/websocket"
)

// Close codes the server sends (RFC 6455 §7.4.2 private range 4000–4999).
const (
	// CloseUnauthenticated: no valid token in time, or a revoked one.
	CloseUnauthenticated = 4001
	// CloseSlowConsumer: the client's send buffer passed its limit or a
	// write missed its deadline.
	CloseSlowConsumer = 4008
	// CloseProtocolError: a message that is not the protocol.
	CloseProtocolError = 4002
	// CloseGoingAway: the server shuts down (1001).
	CloseGoingAway = websocket.CloseGoingAway
)

// subscription is what a client asked for. It is immutable once made.
type subscription struct {
	drones map[string]bool // nil: every drone
	zones  bool
	routes bool
	events bool
	kinds  map[string]bool // nil: every kind
	rateHz float64
}

func (s *subscription) wantsDrone(id string) bool {
	return s.drones == nil || id == "" || s.drones[id]
}

func (s *subscription) wantsEvent(r app.EventRecord) bool {
	return s.events && s.wantsDrone(r.DroneID) && (s.kinds == nil || s.kinds[r.Kind])
}

// client is one WebSocket connection: a reader goroutine (the handler's)
// and one writer goroutine, which alone writes data frames.
type client struct {
	id   string
	srv  *Server
	conn *websocket.Conn
	p    app.Principal
	// proto is the protocol version the client chose (ProtocolV1 or
	// ProtocolV2), fixed at the upgrade.
	proto int

	mu     sync.Mutex
	sub    *subscription
	resub  bool // a new subscription waits for its snapshot
	queue  [][]byte
	qbytes int
	reason string
	code   int
	killed bool
	wake   chan struct{} // cap 1: the queue or subscription changed
	// frameSig (cap 1) says the hub has a new frame of states.
	frameSig chan struct{}
	doneV    atomic.Uint64 // the last frame the writer has taken
	dead     chan struct{} // closed by kill
	written  chan struct{} // closed when the writer has ended
}

func (c *client) subscriptionNow() *subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return nil
	}
	return c.sub
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// enqueue queues msg without blocking; past the byte limit the client is
// closed as a slow consumer.
func (c *client) enqueue(msg []byte) {
	c.mu.Lock()
	if c.killed {
		c.mu.Unlock()
		return
	}
	if c.qbytes+len(msg) > c.srv.SendBuffer {
		c.mu.Unlock()
		c.srv.hub.dropped.Add(1)
		c.kill(CloseSlowConsumer, "slow consumer: send buffer full")
		return
	}
	c.queue = append(c.queue, msg)
	c.qbytes += len(msg)
	c.mu.Unlock()
	c.signal()
}

// kill marks the client for closing with a code and reason; the writer
// sends the close frame. It never blocks.
func (c *client) kill(code int, reason string) {
	c.mu.Lock()
	if c.killed {
		c.mu.Unlock()
		return
	}
	c.killed, c.code, c.reason = true, code, reason
	c.queue, c.qbytes = nil, 0
	c.mu.Unlock()
	close(c.dead)
	if code == CloseSlowConsumer {
		c.srv.hub.noteSlow(c, reason)
	}
}

func (c *client) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	c.enqueue(b)
}

func (c *client) sendError(err error) {
	c.sendJSON(errorMsg{Type: "error", Error: errorOf(err)})
}

// serveWS upgrades, authenticates and runs one client until it goes.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	bearer := ""
	var versions []string // the centinela.vN offered
	proto := ProtocolV1
	for _, p := range websocket.Subprotocols(r) {
		if t, ok := strings.CutPrefix(p, "bearer."); ok {
			bearer = t
		}
		if strings.HasPrefix(p, "centinela.") {
			versions = append(versions, p)
			if p == SubprotocolV2 {
				proto = ProtocolV2
			}
		}
	}
	if len(versions) > 0 && !slices.Contains(versions, Subprotocol) && !slices.Contains(versions, SubprotocolV2) {
		// A client that asks only for versions this server does not speak
		// would misread what it gets.
		writeJSON(w, http.StatusBadRequest, errorBody{Error: errorJSON{Code: fleet.Invalid,
			Message: fmt.Sprintf("unsupported protocol %s: this server speaks %s and %s", strings.Join(versions, ", "), Subprotocol, SubprotocolV2)}})
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 16384,
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     []string{SubprotocolV2, Subprotocol},
		CheckOrigin:      s.sameOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			code := fleet.Invalid
			if status == http.StatusForbidden {
				code = fleet.Forbidden
			}
			writeJSON(w, status, errorBody{Error: errorJSON{Code: code, Message: reason.Error()}})
		},
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the Upgrader answered
	}
	s.wsWG.Add(1)
	defer s.wsWG.Done()
	c := &client{id: newClientID(), srv: s, conn: conn, proto: proto,
		wake: make(chan struct{}, 1), frameSig: make(chan struct{}, 1), dead: make(chan struct{}), written: make(chan struct{})}
	conn.SetReadLimit(s.MaxMessageBytes)
	s.hub.add(c)
	defer s.hub.remove(c)
	go c.writer()
	defer func() {
		c.kill(websocket.CloseNormalClosure, "")
		<-c.written
		conn.Close()
	}()
	stop := context.AfterFunc(s.ctx, func() { c.kill(CloseGoingAway, "server shutting down") })
	defer stop()

	// Authenticate: a bearer subprotocol, else the first message.
	conn.SetReadDeadline(time.Now().Add(s.AuthTimeout))
	if bearer == "" {
		var m clientMsg
		_, data, err := conn.ReadMessage()
		if err != nil {
			c.kill(CloseUnauthenticated, "no auth message")
			return
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "auth" || m.Token == "" {
			c.kill(CloseUnauthenticated, "first message must be auth with a token")
			return
		}
		bearer = m.Token
	}
	p, err := s.App.Authenticate(s.ctx, bearer)
	if err != nil {
		c.kill(CloseUnauthenticated, "unauthenticated: "+errorOf(err).Message)
		return
	}
	c.mu.Lock()
	c.p = p
	c.mu.Unlock()
	c.sendJSON(helloMsg{Type: "hello", Protocol: c.proto, Principal: principalOf(p),
		ServerTime: s.Now().UTC().Format(time.RFC3339Nano), MaxRateHz: s.MaxRateHz})

	conn.SetReadDeadline(time.Now().Add(s.PongTimeout))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(s.PongTimeout))
	})
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.SetReadDeadline(time.Now().Add(s.PongTimeout))
		c.handle(data)
	}
}

// handle answers one client message.
func (c *client) handle(data []byte) {
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		c.sendError(fleet.Errorf(fleet.Invalid, "malformed message: %v", err))
		return
	}
	switch m.Type {
	case "subscribe":
		s, err := c.srv.parseSubscription(m)
		if err != nil {
			c.sendError(err)
			return
		}
		c.mu.Lock()
		c.sub, c.resub = s, true
		c.mu.Unlock()
		c.signal()
	case "unsubscribe":
		c.mu.Lock()
		c.sub = nil
		c.mu.Unlock()
		c.signal() // the writer stops sending states now, not at its next wake
	case "ping":
		c.sendJSON(struct {
			Type string          `json:"type"`
			ID   json.RawMessage `json:"id,omitempty"`
			At   string          `json:"server_time"`
		}{"pong", m.ID, c.srv.Now().UTC().Format(time.RFC3339Nano)})
	case "auth":
		c.sendError(fleet.Errorf(fleet.Invalid, "already authenticated"))
	default:
		c.sendError(fleet.Errorf(fleet.Invalid, "unknown message type %q", m.Type))
	}
}

func (s *Server) parseSubscription(m clientMsg) (*subscription, error) {
	sub := &subscription{zones: m.Zones, routes: m.Routes, events: m.Events, rateHz: s.MaxRateHz}
	if m.Drones != nil {
		if len(*m.Drones) > 10000 {
			return nil, fleet.Errorf(fleet.Exhausted, "at most 10000 drones in a subscription")
		}
		sub.drones = map[string]bool{}
		for _, id := range *m.Drones {
			if id == "" || len(id) > 64 {
				return nil, fleet.Errorf(fleet.Invalid, "bad drone id %q", id)
			}
			sub.drones[id] = true
		}
	}
	if len(m.Kinds) > 0 {
		sub.kinds = map[string]bool{}
		for _, k := range m.Kinds {
			if !knownKind(k) {
				return nil, fleet.Errorf(fleet.Invalid, "unknown event kind %q", k)
			}
			sub.kinds[k] = true
		}
	}
	if m.MaxRateHz != 0 {
		if !(m.MaxRateHz > 0) || m.MaxRateHz > s.MaxRateHz {
			return nil, fleet.Errorf(fleet.Invalid, "max_rate_hz %v: want more than 0, at most %v", m.MaxRateHz, s.MaxRateHz)
		}
		sub.rateHz = m.MaxRateHz
	}
	return sub, nil
}

func knownKind(k string) bool {
	if k == app.KindLowBattery {
		return true
	}
	for _, x := range app.EventKinds {
		if x == k {
			return true
		}
	}
	return false
}

// writer is the client's one writer: queued messages as they come, drone
// states as the hub's frames come (at most at the subscription's rate),
// pings, and the close frame.
//
// States: a client watching every drone that is up to date with a frame's
// start writes the hub's shared frame as is; one that missed frames (a
// lower rate, or behind) writes the hub's catch-up message of every drone
// changed since the last state it sent, shared with the clients that
// missed the same frames; a client of some drones gets a message of its
// own.
func (c *client) writer() {
	defer close(c.written)
	s := c.srv
	ping := time.NewTicker(s.PingInterval)
	defer ping.Stop()
	// rateC fires when a frame came before the subscription's rate allowed
	// another message.
	rateT := time.NewTimer(time.Hour)
	rateT.Stop()
	defer rateT.Stop()
	rateArmed := false
	var next time.Time // the earliest time of the next states message
	var gap time.Duration
	var sent uint64 // the hub version the client's states are current to
	commandable := map[string]bool{}
	checkedAgency := map[string]string{}
	lastFull := time.Now()
	var buf []byte
	var own statesMsg // the states messages made for this client alone
	var sub *subscription

	fail := func(err error) {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			c.kill(CloseSlowConsumer, "slow consumer: write timeout")
		} else {
			c.kill(websocket.CloseAbnormalClosure, "")
		}
	}
	write := func(b []byte) bool {
		c.conn.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
		if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
			fail(err)
			return false
		}
		return true
	}
	changed := map[string]bool{}
	// A principal whose role commands nothing (a supervisor, an admin)
	// commands no drone whatever its agency or the grants: each drone is
	// answered once. (c.p is set before the client subscribes, and read
	// only once it has, as CanCommand reads it.)
	commands := func() bool { return c.p.Role.Commands() }
	check := func(d fleet.DroneState) {
		if checkedAgency[d.ID] == d.Agency || !commands() {
			if _, ok := commandable[d.ID]; ok {
				return
			}
		}
		checkedAgency[d.ID] = d.Agency
		can := s.App.CanCommand(c.p, d)
		if old, ok := commandable[d.ID]; !ok || old != can {
			commandable[d.ID] = can
			changed[d.ID] = can
		}
	}
	// control sends the commandable answers that changed; every 5 s it
	// asks again for every drone (grants change without a state).
	control := func() bool {
		if time.Since(lastFull) > 5*time.Second && commands() {
			lastFull = time.Now()
			clear(checkedAgency)
			s.hub.eachState(func(d fleet.DroneState) {
				if sub.wantsDrone(d.ID) {
					check(d)
				}
			})
		}
		if len(changed) == 0 {
			return true
		}
		b, _ := json.Marshal(controlMsg{Type: "control", Commandable: changed})
		clear(changed)
		return write(b)
	}
	flushStates := func(kind string) bool {
		if sub == nil {
			return true
		}
		now := time.Now()
		if kind != "snapshot" {
			f := s.hub.frame.Load()
			if f == nil || f.cur <= sent {
				return true // nothing new yet
			}
			if now.Before(next) {
				if !rateArmed {
					rateArmed = true
					rateT.Reset(next.Sub(now))
				}
				return true
			}
			// At most one message a gap on average; a message late by
			// scheduling lets the next come up to half a gap early.
			if early := now.Add(-gap / 2); next.Before(early) {
				next = early
			}
			next = next.Add(gap)
			if sub.drones == nil {
				count := &s.hub.sharedSent
				if sent < f.prev || f.msg[protoIx(c.proto)] == nil { // missed frames, or none in its protocol
					f, count = s.hub.catchUp(sent, c.proto), &s.hub.catchSent
				}
				for _, d := range f.recheck {
					check(d)
				}
				if !control() {
					return false
				}
				sent = f.cur
				if f.n == 0 {
					return true
				}
				c.conn.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
				if err := c.conn.WritePreparedMessage(f.msg[protoIx(c.proto)]); err != nil {
					fail(err)
					return false
				}
				count.Add(1)
				return true
			}
		}
		own.reset(c.proto)
		sent = s.hub.collect(&own, sub, sent, check)
		if !control() {
			return false
		}
		if own.n() == 0 && kind != "snapshot" {
			return true
		}
		buf = own.appendTo(buf[:0], kind)
		s.hub.ownSent.Add(1)
		return write(buf)
	}
	for {
		select {
		case <-c.dead:
			c.mu.Lock()
			code, reason := c.code, c.reason
			c.mu.Unlock()
			if code != websocket.CloseAbnormalClosure {
				c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
			}
			c.conn.Close()
			return
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.WriteTimeout)); err != nil {
				c.kill(websocket.CloseAbnormalClosure, "")
			}
		case <-c.frameSig:
			f := s.hub.frame.Load()
			flushStates("states")
			if f != nil {
				c.doneV.Store(f.cur)
			}
		case <-rateT.C:
			rateArmed = false
			flushStates("states")
		case <-c.wake:
			c.mu.Lock()
			q := c.queue
			c.queue, c.qbytes = nil, 0
			newSub := c.resub
			if newSub {
				sub, c.resub = c.sub, false
			} else if c.sub == nil {
				sub = nil
			}
			c.mu.Unlock()
			ok := true
			for _, b := range q {
				if ok = write(b); !ok {
					break
				}
			}
			if !ok {
				continue
			}
			if newSub && sub != nil {
				sent = 0
				for _, b := range s.hub.initial(sub) {
					if ok = write(b); !ok {
						break
					}
				}
				gap = time.Duration(float64(time.Second) / sub.rateHz)
				next = time.Now().Add(gap)
				if !ok || !flushStates("snapshot") {
					continue
				}
			}
		}
	}
}
