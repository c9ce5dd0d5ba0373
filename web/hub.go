package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/gorilla/websocket"
)

// hubPrincipal is who the hub is when it watches the fleet and reads
// plans, zones and alerts for every client: a reader, never a commander.
var hubPrincipal = app.Principal{Label: "web-map", Role: app.RoleSupervisor}

// DefaultAlertPoll is how often the hub reads the application's alerts in
// full by default. Alerts raised or acknowledged come at once through the
// watch; the poll catches what a full watch queue dropped.
const DefaultAlertPoll = 5 * time.Second

// droneEntry is a drone's latest state, encoded once for every client.
// The hub's mu guards it; encMu too guards the full objects, which are
// encoded when first needed, also under mu's read lock.
type droneEntry struct {
	ix      int // its index in hub.ids, the "ix" of protocol 2
	version uint64
	state   fleet.DroneState
	// slow is the part of the state neither a compact entry nor a status
	// entry carries, and fullVer the version at which it last changed (or
	// the drone was new, or had no compact form): a client current to
	// fullVer or later may get the compact entry pos, with the status
	// entry tel if that changed after the client's version.
	slow    slowKey
	fullVer uint64
	pos     []byte // the compact entry of version (protocol 2), if compactable
	// telK is the part of the state a status entry carries, telVer the
	// version at which it last changed (or the drone was new), tel the
	// status entry of version (protocol 2).
	telK   telKey
	telVer uint64
	tel    []byte
	// json and jsonIx are the full object (protocols 1 and 2), current to
	// jsonVer.
	encMu        sync.Mutex
	json, jsonIx []byte
	jsonVer      uint64
	// checkVer is the version at which the drone was new or its agency
	// changed: clients must ask again whether they may command it.
	checkVer uint64
	dirty    bool // in hub.dirty: changed since the last frame
}

// encoded returns e's full object, protocol 1's and 2's, current to
// e.version, encoding it if it is not. The hub's mu must be held (read or
// write).
func (e *droneEntry) encoded(log *slog.Logger) (v1, v2 []byte) {
	e.encMu.Lock()
	defer e.encMu.Unlock()
	if e.json == nil || e.jsonVer != e.version {
		b, err := json.Marshal(droneOf(e.state))
		if err != nil {
			log.Error("encode drone", "drone_id", e.state.ID, "err", err)
			b = []byte(`{"id":` + strconv.Quote(e.state.ID) + `}`)
		}
		e.json, e.jsonIx, e.jsonVer = b, appendIx(nil, b, e.ix), e.version
	}
	return e.json, e.jsonIx
}

// statesMsg builds a "snapshot" or "states" message in one protocol
// version; its memory is reused from one message to the next.
type statesMsg struct {
	proto             int
	full, pos, tel    []byte // full objects, compact and status entries, comma-separated
	nFull, nPos, nTel int
}

func (m *statesMsg) reset(proto int) {
	m.proto, m.full, m.pos, m.tel = proto, m.full[:0], m.pos[:0], m.tel[:0]
	m.nFull, m.nPos, m.nTel = 0, 0, 0
}

// add adds e for a client whose states are current to version since:
// with protocol 2 its compact entry if only its position part and its
// status telemetry changed since (and its status entry if that did), else
// its full object.
func (m *statesMsg) add(e *droneEntry, since uint64, log *slog.Logger) {
	if m.proto >= ProtocolV2 && e.fullVer <= since && e.pos != nil {
		if m.nPos > 0 {
			m.pos = append(m.pos, ',')
		}
		m.pos = append(m.pos, e.pos...)
		m.nPos++
		if e.telVer > since {
			if m.nTel > 0 {
				m.tel = append(m.tel, ',')
			}
			m.tel = append(m.tel, e.tel...)
			m.nTel++
		}
		return
	}
	v1, v2 := e.encoded(log)
	if m.nFull > 0 {
		m.full = append(m.full, ',')
	}
	if m.proto >= ProtocolV2 {
		m.full = append(m.full, v2...)
	} else {
		m.full = append(m.full, v1...)
	}
	m.nFull++
}

// n returns the drone states in the message (a status entry goes with a
// compact entry: one state).
func (m *statesMsg) n() int { return m.nFull + m.nPos }

// appendTo appends the message of type kind to b.
func (m *statesMsg) appendTo(b []byte, kind string) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, kind...)
	b = append(b, `","drones":[`...)
	b = append(b, m.full...)
	b = append(b, ']')
	if m.proto >= ProtocolV2 {
		b = append(b, `,"pos":[`...)
		b = append(b, m.pos...)
		b = append(b, `],"tel":[`...)
		b = append(b, m.tel...)
		b = append(b, ']')
	}
	return append(b, '}')
}

// protoIx is the index of protocol version proto in a stateFrame's msg.
func protoIx(proto int) int { return proto - 1 }

// stateFrame is one "states" message of every drone that changed in the
// versions (prev, cur], encoded once per protocol version and written as
// is to every client that watches every drone and is up to date with prev.
type stateFrame struct {
	prev, cur uint64
	// msg is the message by protocol (protoIx); protocol 1's is nil when
	// no client of it was connected.
	msg     [2]*websocket.PreparedMessage
	n       int                // drone states in msg
	recheck []fleet.DroneState // drones new or of a new agency in the frame
}

// catchKey names a shared catch-up message: the version its clients are
// current to and their protocol.
type catchKey struct {
	since uint64
	proto int
}

// hub reads the application's watch once and fans it out to every client:
// states are encoded once per change and read by each client at its own
// rate (latest wins); events and alerts are encoded once and queued to each
// client. It never blocks on a client.
type hub struct {
	app App
	log *slog.Logger
	now func() time.Time

	mu      sync.RWMutex
	version uint64
	drones  map[string]*droneEntry
	ids     []string // drone ids in discovery order
	routes  map[string][]byte
	zones   []byte
	alerts  map[string]alertJSON
	alertMs map[string][]byte // encoded "alert" messages by id
	alertIx []string          // alert ids, oldest first
	clients map[*client]struct{}
	v1      int           // clients of protocol 1
	dirty   []*droneEntry // changed since the last frame, in order of change
	frameV  uint64        // the last frame's cur
	frame   atomic.Pointer[stateFrame]

	// The catch-up messages of the current frame (catchV) by the version
	// their clients were at: clients watching every drone that missed
	// frames mostly missed the same ones.
	catchMu sync.Mutex
	catchV  uint64
	catch   map[catchKey]*stateFrame

	pollNow chan struct{} // cap 1: read the alerts now
	posBuf  []byte        // onState's scratch compact entry (under mu)

	// sharedSent counts the shared frames written to clients, catchSent
	// the shared catch-up messages, ownSent the states messages made for
	// one client.
	sharedSent, ownSent atomic.Uint64
	catchSent           atomic.Uint64 // catch-up messages written

	slowClosed atomic.Uint64
	dropped    atomic.Uint64
	lastDrop   atomic.Int64
}

func newHub(a App, log *slog.Logger, now func() time.Time) *hub {
	return &hub{
		app: a, log: log, now: now,
		drones: map[string]*droneEntry{}, routes: map[string][]byte{},
		alerts: map[string]alertJSON{}, alertMs: map[string][]byte{}, clients: map[*client]struct{}{},
		pollNow: make(chan struct{}, 1),
	}
}

// prime loads the zones, the alerts and every drone, so that the first
// clients get a whole picture.
func (h *hub) prime(ctx context.Context) {
	h.loadZones(ctx)
	h.pollAlerts(ctx)
	if ds, err := h.app.ListDrones(ctx, hubPrincipal); err == nil {
		for _, d := range ds {
			h.onState(ctx, d.State)
		}
	}
}

// run reads w until ctx ends or the watch fails.
func (h *hub) run(ctx context.Context, w *app.Watcher) {
	for {
		it, err := w.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("watch ended", "err", err)
			}
			return
		}
		switch {
		case it.State != nil:
			h.onState(ctx, *it.State)
		case it.Event != nil:
			h.onEvent(ctx, *it.Event)
		case it.Alert != nil:
			h.onAlerts([]app.Alert{*it.Alert}, false)
		case it.Missed > 0:
			// Alert changes may be among the missed: read them again.
			select {
			case h.pollNow <- struct{}{}:
			default:
			}
			b, _ := json.Marshal(struct {
				Type string `json:"type"`
				N    uint64 `json:"n"`
			}{"missed", it.Missed})
			h.broadcast(b, func(c *client, s *subscription) bool { return s.events })
		}
	}
}

// runAlerts reads the application's alerts every interval (and when the
// watch missed events) and sends each new or changed one to clients.
func (h *hub) runAlerts(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.pollNow:
		}
		h.pollAlerts(ctx)
	}
}

func (h *hub) pollAlerts(ctx context.Context) {
	list, err := h.app.Alerts(ctx, hubPrincipal)
	if err != nil {
		return
	}
	h.onAlerts(list, true)
}

// onAlerts sends the alerts of list that are new or changed to clients;
// with all, list is every alert kept, and the others are forgotten.
func (h *hub) onAlerts(list []app.Alert, all bool) {
	var send [][]byte
	keep := make(map[string]bool, len(list))
	h.mu.Lock()
	for _, a := range list {
		keep[a.ID] = true
		j := alertOf(a)
		if old, ok := h.alerts[a.ID]; ok && old.Acked == j.Acked {
			continue
		} else if !ok {
			h.alertIx = append(h.alertIx, a.ID)
		}
		h.alerts[a.ID] = j
		b := alertMsg(j)
		h.alertMs[a.ID] = b
		send = append(send, b)
	}
	if all {
		ix := h.alertIx[:0]
		for _, id := range h.alertIx {
			if keep[id] {
				ix = append(ix, id)
			} else {
				delete(h.alerts, id)
				delete(h.alertMs, id)
			}
		}
		h.alertIx = ix
	}
	h.mu.Unlock()
	for _, b := range send {
		h.broadcast(b, func(c *client, s *subscription) bool { return s.events })
	}
}

func alertOf(a app.Alert) alertJSON {
	j := alertJSON{ID: a.ID, Event: eventOf(a.EventRecord), Acked: a.Acked, By: a.AckedBy}
	if !a.AckedAt.IsZero() {
		j.AckAt = a.AckedAt.UTC().Format(time.RFC3339Nano)
	}
	return j
}

func (h *hub) loadZones(ctx context.Context) {
	gj, err := h.app.ExportGeoJSON(ctx, hubPrincipal)
	if err != nil {
		h.log.Warn("zones unavailable", "err", err)
		return
	}
	msg := append([]byte(`{"type":"zones","geojson":`), bytes.TrimSpace(gj)...)
	msg = append(msg, '}')
	h.mu.Lock()
	h.zones = msg
	h.mu.Unlock()
	h.broadcast(msg, func(c *client, s *subscription) bool { return s.zones })
}

// onState takes a drone's new state. Its full object is encoded when a
// message first needs it; its compact entry now, and its status entry when
// that changed (they are cheap).
func (h *hub) onState(ctx context.Context, d fleet.DroneState) {
	slow, tel := slowOf(d), telOf(d)
	h.mu.Lock()
	e := h.drones[d.ID]
	isNew := e == nil
	var pos []byte
	if compactable(d) {
		ix := len(h.ids)
		if e != nil {
			ix = e.ix
		}
		pos = appendPos(h.posBuf[:0], ix, d)
		// A state that moves only last_seen (attitude, heartbeats and other
		// messages the map does not show: about a third of a fleet's
		// states) waits until last_seen is lastSeenEvery ahead of what the
		// clients have.
		if e != nil && e.pos != nil && slow == e.slow && tel == e.telK &&
			lastSeenOnly(d.LastSeen.Sub(e.state.LastSeen)) && samePosButTime(pos, e.pos) {
			h.posBuf = pos
			h.mu.Unlock()
			return
		}
	}
	if isNew {
		e = &droneEntry{ix: len(h.ids)}
		h.drones[d.ID] = e
		h.ids = append(h.ids, d.ID)
	}
	h.version++
	if isNew || e.state.Agency != d.Agency {
		e.checkVer = h.version
	}
	e.version, e.state = h.version, d
	if isNew || slow != e.slow || !compactable(d) {
		e.slow, e.fullVer = slow, h.version
	}
	if isNew || tel != e.telK {
		e.telK, e.telVer = tel, h.version
		e.tel = appendTel(e.tel[:0], e.ix, d)
	}
	if pos != nil {
		// The entry's memory and the scratch buffer change places.
		e.pos, h.posBuf = pos, e.pos
	} else {
		e.pos = nil
	}
	if !e.dirty {
		e.dirty = true
		h.dirty = append(h.dirty, e)
	}
	h.mu.Unlock()
	if isNew && d.Mission.State != fleet.MissionStateNone {
		h.loadRoute(ctx, d.ID)
	}
}

func (h *hub) loadRoute(ctx context.Context, id string) {
	items, err := h.app.MissionPlan(ctx, hubPrincipal, id)
	if err != nil {
		return
	}
	m := routeMsg{Type: "route", Drone: id, Points: routeOf(items)}
	if d, err := h.app.GetDrone(ctx, hubPrincipal, id); err == nil {
		m.MissionID = d.State.Mission.MissionID
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	h.mu.Lock()
	h.routes[id] = b
	h.mu.Unlock()
	h.broadcast(b, func(c *client, s *subscription) bool { return s.routes && s.wantsDrone(id) })
}

// routeOf lists a plan's positioned navigation items, home (seq 0) left out.
func routeOf(items []fleet.MissionItem) []routePt {
	out := []routePt{}
	for _, it := range items {
		if it.Seq == 0 || !it.Command.IsNav() || (it.Lat == 0 && it.Lon == 0) {
			continue
		}
		out = append(out, routePt{round(it.Lat, 7), round(it.Lon, 7), round(it.Alt, 1), num(it.Seq)})
	}
	return out
}

func (h *hub) onEvent(ctx context.Context, r app.EventRecord) {
	b, err := json.Marshal(struct {
		Type  string    `json:"type"`
		Event eventJSON `json:"event"`
	}{"event", eventOf(r)})
	if err != nil {
		h.log.Error("encode event", "err", err)
		return
	}
	h.broadcast(b, func(c *client, s *subscription) bool { return s.wantsEvent(r) })

	action := r.Params["action"]
	switch {
	case r.Kind == app.KindOperatorAction && strings.HasPrefix(action, "Geofence.") && r.Params["code"] == "":
		h.loadZones(ctx)
	case r.Kind == app.KindMissionUploaded && r.Params["type"] == fleet.MissionTypeMission.String():
		h.loadRoute(ctx, r.DroneID)
	}
}

func alertMsg(a alertJSON) []byte {
	b, _ := json.Marshal(struct {
		Type  string    `json:"type"`
		Alert alertJSON `json:"alert"`
	}{"alert", a})
	return b
}

// broadcast queues msg to every client that wants it. It never blocks.
func (h *hub) broadcast(msg []byte, wants func(*client, *subscription) bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		if s := c.subscriptionNow(); s != nil && wants(c, s) {
			c.enqueue(msg)
		}
	}
}

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	if c.proto == ProtocolV1 {
		h.v1++
	}
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok && c.proto == ProtocolV1 {
		h.v1--
	}
	delete(h.clients, c)
	h.mu.Unlock()
}

// clientCount returns the number of connected clients.
func (h *hub) clientCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// noteDrop counts a slow client closed, logging at most once a second.
func (h *hub) noteSlow(c *client, reason string) {
	n := h.slowClosed.Add(1)
	now := time.Now().UnixNano()
	if last := h.lastDrop.Load(); now-last > int64(time.Second) && h.lastDrop.CompareAndSwap(last, now) {
		h.log.Warn("slow consumer closed", "client", c.id, "reason", reason, "slow_closed", n, "dropped", h.dropped.Load())
	}
}

// runFrames builds a shared frame of the drones that changed every
// interval, and wakes the clients to send it, until ctx ends. It paces
// itself: the next frame waits until the clients have written this one
// (at most maxFanoutWait) and starts no earlier than fanoutPace times
// that after it, so that fanning states out does not starve the fleet's
// ingest; states then coalesce in fewer, larger frames.
func (h *hub) runFrames(ctx context.Context, interval time.Duration) {
	var buf frameBufs
	next := time.Now().Add(interval)
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var f *stateFrame
		f = h.makeFrame(&buf)
		if f == nil {
			next = time.Now().Add(interval)
			t.Reset(interval)
			continue
		}
		start := time.Now()
		h.frame.Store(f)
		h.mu.RLock()
		for c := range h.clients {
			select {
			case c.frameSig <- struct{}{}:
			default:
			}
		}
		h.mu.RUnlock()
		poll := time.NewTicker(time.Millisecond)
		for !h.taken(f.prev, f.cur) && time.Since(start) < maxFanoutWait {
			select {
			case <-ctx.Done():
				poll.Stop()
				return
			case <-poll.C:
			}
		}
		poll.Stop()
		fanout := time.Since(start)
		next = next.Add(interval)
		if paced := start.Add(fanoutPace * fanout); next.Before(paced) {
			next = paced
		}
		if now := time.Now(); next.Before(now) {
			next = now // late: one frame now, not a burst to catch up
		}
		t.Reset(max(time.Until(next), 0))
	}
}

// fanoutPace is how many times a frame's fan-out time the next frame
// waits, from the start of this one: the fan-out's share of the machine is
// at most about 1/fanoutPace when it is the bottleneck.
const fanoutPace = 2

// maxFanoutWait bounds how long a frame waits for the clients to write
// the last one (a stalled client is closed by its write deadline).
const maxFanoutWait = 500 * time.Millisecond

// taken reports whether every client that had taken the frame current to
// version prev has taken (written or skipped) the one current to v. A
// client still on an older frame (stalled, or slow) is not waited for: it
// catches up on its own, and one stalled client must not slow the others.
func (h *hub) taken(prev, v uint64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		if d := c.doneV.Load(); d < v && d >= prev && c.subscriptionNow() != nil {
			return false
		}
	}
	return true
}

// frameBufs is the memory runFrames reuses from frame to frame.
type frameBufs struct {
	m   [2]statesMsg // by protoIx
	out []byte
}

// makeFrame encodes the drones changed since the last frame (nil if none)
// in each protocol (protocol 1 only while a client of it is connected),
// using buf's memory for the messages' text.
func (h *hub) makeFrame(buf *frameBufs) *stateFrame {
	h.mu.Lock()
	if len(h.dirty) == 0 {
		h.mu.Unlock()
		return nil
	}
	f := &stateFrame{prev: h.frameV, cur: h.version, n: len(h.dirty)}
	v1 := h.v1 > 0
	buf.m[protoIx(ProtocolV1)].reset(ProtocolV1)
	buf.m[protoIx(ProtocolV2)].reset(ProtocolV2)
	for i, e := range h.dirty {
		buf.m[protoIx(ProtocolV2)].add(e, f.prev, h.log)
		if v1 {
			buf.m[protoIx(ProtocolV1)].add(e, f.prev, h.log)
		}
		e.dirty = false
		if e.checkVer > f.prev {
			f.recheck = append(f.recheck, e.state)
		}
		h.dirty[i] = nil
	}
	h.dirty = h.dirty[:0]
	h.frameV = f.cur
	h.mu.Unlock()
	for p := ProtocolV1; p <= ProtocolV2; p++ {
		if p == ProtocolV1 && !v1 {
			continue
		}
		buf.out = buf.m[protoIx(p)].appendTo(buf.out[:0], "states")
		// PreparedMessage keeps the data it is given and builds its one
		// frame from it on first use: it gets a copy, buf is reused.
		msg, err := websocket.NewPreparedMessage(websocket.TextMessage, bytes.Clone(buf.out))
		if err != nil {
			h.log.Error("prepare states", "err", err)
			return nil
		}
		f.msg[protoIx(p)] = msg
	}
	return f
}

// maxCatchUps bounds the catch-up messages kept for one frame.
const maxCatchUps = 16

// catchUp returns a "states" message in protocol proto of every drone
// changed after version since, for clients watching every drone that
// missed frames; cur is the version it is current to, recheck its drones
// new or of a new agency.
func (h *hub) catchUp(since uint64, proto int) *stateFrame {
	h.catchMu.Lock()
	defer h.catchMu.Unlock()
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.catchV != h.frameV || h.catch == nil {
		h.catch, h.catchV = map[catchKey]*stateFrame{}, h.frameV
	}
	key := catchKey{since, proto}
	if f := h.catch[key]; f != nil {
		return f
	}
	f := &stateFrame{prev: since, cur: h.version}
	var m statesMsg
	m.reset(proto)
	for _, id := range h.ids {
		e := h.drones[id]
		if e.version <= since {
			continue
		}
		m.add(e, since, h.log)
		if e.checkVer > since {
			f.recheck = append(f.recheck, e.state)
		}
	}
	f.n = m.n()
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, m.appendTo(nil, "states"))
	if err != nil {
		h.log.Error("prepare states", "err", err)
		f.n = 0
		return f
	}
	f.msg[protoIx(proto)] = msg
	if len(h.catch) < maxCatchUps {
		h.catch[key] = f
	}
	return f
}

// eachState calls fn with every drone's latest state.
func (h *hub) eachState(fn func(fleet.DroneState)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range h.ids {
		fn(h.drones[id].state)
	}
}

// collect adds to m (reset to its protocol) the states of the drones s
// selects that changed after version since, and calls check for each. It
// returns the hub's version they are current to.
func (h *hub) collect(m *statesMsg, s *subscription, since uint64, check func(fleet.DroneState)) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range h.ids {
		if !s.wantsDrone(id) {
			continue
		}
		e := h.drones[id]
		if e.version <= since {
			continue
		}
		m.add(e, since, h.log)
		if check != nil {
			check(e.state)
		}
	}
	return h.version
}

// initial returns what a new subscription gets before the drones'
// snapshot: zones, routes and alerts, as it asked.
func (h *hub) initial(s *subscription) [][]byte {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out [][]byte
	if s.zones && h.zones != nil {
		out = append(out, h.zones)
	}
	if s.routes {
		for _, id := range h.ids {
			if r := h.routes[id]; r != nil && s.wantsDrone(id) {
				out = append(out, r)
			}
		}
	}
	if s.events {
		list := make([]alertJSON, 0, len(h.alertIx))
		for _, id := range h.alertIx {
			list = append(list, h.alerts[id])
		}
		b, _ := json.Marshal(struct {
			Type   string      `json:"type"`
			Alerts []alertJSON `json:"alerts"`
		}{"alerts", list})
		out = append(out, b)
	}
	return out
}
