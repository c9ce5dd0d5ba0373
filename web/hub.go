package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// hubPrincipal is who the hub is when it reads plans and zones for every
// client: a reader, never a commander.
var hubPrincipal = app.Principal{Label: "web-hub", Role: app.RoleSupervisor}

// Alert thresholds on battery: an alert below lowBatteryPct, cleared above
// lowBatteryClearPct.
const (
	lowBatteryPct      = 20
	lowBatteryClearPct = 30
)

// KindLowBattery is the kind of the alert the map raises when a drone's
// battery falls below 20 %; its params are "pct".
const KindLowBattery = "low_battery"

// maxAlerts bounds the alerts the hub keeps (oldest dropped first).
const maxAlerts = 500

// droneEntry is a drone's latest state, encoded once for every client.
type droneEntry struct {
	version uint64
	state   fleet.DroneState
	json    []byte
}

// alert is an alert the hub keeps until it falls out of the window.
type alert struct {
	alertJSON
	msg []byte // the encoded "alert" message
}

// hub reads the application's feed once and fans it out to every client:
// states are encoded once per change and read by each client at its own
// rate (latest wins); events are encoded once and queued to each client.
// It never blocks on a client.
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
	alerts  []*alert
	alertID map[string]*alert
	lowBatt map[string]bool
	clients map[*client]struct{}
	nextAl  uint64
	prefix  string

	// stats
	slowClosed atomic.Uint64
	dropped    atomic.Uint64
	lastDrop   atomic.Int64
}

func newHub(a App, log *slog.Logger, now func() time.Time) *hub {
	return &hub{
		app: a, log: log, now: now,
		drones: map[string]*droneEntry{}, routes: map[string][]byte{},
		alertID: map[string]*alert{}, lowBatt: map[string]bool{}, clients: map[*client]struct{}{},
		prefix: strconv.FormatInt(now().Unix(), 36),
	}
}

// run reads feed until ctx ends or the feed fails.
func (h *hub) run(ctx context.Context, feed Feed) {
	h.loadZones(ctx)
	for {
		it, err := feed.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("feed ended", "err", err)
			}
			return
		}
		switch {
		case it.State != nil:
			h.onState(ctx, *it.State)
		case it.Event != nil:
			h.onEvent(ctx, *it.Event)
		}
	}
}

func (h *hub) loadZones(ctx context.Context) {
	gj, err := h.app.ZonesGeoJSON(ctx, hubPrincipal)
	if err != nil {
		h.log.Warn("zones unavailable", "err", err)
		return
	}
	msg := append([]byte(`{"type":"zones","geojson":`), gj...)
	msg = append(msg, '}')
	h.mu.Lock()
	h.zones = msg
	h.mu.Unlock()
	h.broadcast(msg, func(c *client, s *subscription) bool { return s.zones })
}

func (h *hub) onState(ctx context.Context, d fleet.DroneState) {
	b, err := json.Marshal(droneOf(d))
	if err != nil {
		h.log.Error("encode drone", "drone_id", d.ID, "err", err)
		return
	}
	h.mu.Lock()
	e := h.drones[d.ID]
	isNew := e == nil
	if isNew {
		e = &droneEntry{}
		h.drones[d.ID] = e
		h.ids = append(h.ids, d.ID)
	}
	h.version++
	e.version, e.state, e.json = h.version, d, b
	low := d.Battery.RemainingPct >= 0 && d.Battery.RemainingPct < lowBatteryPct
	raise := low && !h.lowBatt[d.ID]
	if low {
		h.lowBatt[d.ID] = true
	} else if d.Battery.RemainingPct > lowBatteryClearPct {
		delete(h.lowBatt, d.ID)
	}
	h.mu.Unlock()
	if isNew && d.Mission.State != fleet.MissionStateNone {
		h.loadRoute(ctx, d.ID)
	}
	if raise {
		h.onEvent(ctx, app.EventRecord{At: h.now(), DroneID: d.ID, Agency: d.Agency, Kind: KindLowBattery,
			Severity: app.SevWarning, Params: map[string]string{"pct": strconv.Itoa(d.Battery.RemainingPct)}})
	}
}

func (h *hub) loadRoute(ctx context.Context, id string) {
	items, err := h.app.MissionPlan(ctx, hubPrincipal, id)
	if err != nil {
		return
	}
	m := routeMsg{Type: "route", Drone: id, Points: routeOf(items)}
	if d, err := h.app.GetDrone(ctx, hubPrincipal, id); err == nil {
		m.MissionID = d.Mission.MissionID
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

// routeOf lists a plan's positioned navigation items.
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

// isAlert says whether people must see and acknowledge an event.
func isAlert(r app.EventRecord) bool {
	switch r.Kind {
	case app.KindLinkLost, app.KindZoneApproaching, app.KindZoneBreached, app.KindFailsafe,
		app.KindZoneResponse, KindLowBattery, app.KindMissionInterrupted:
		return true
	case app.KindCommandResult, app.KindOperatorAction:
		return r.Params["code"] != ""
	case app.KindVehicleFence:
		return r.Params["breached"] == "true"
	case app.KindSystemStatus:
		return r.Severity <= app.SevCritical
	}
	return false
}

func (h *hub) onEvent(ctx context.Context, r app.EventRecord) {
	if r.At.IsZero() {
		r.At = h.now()
	}
	ev := eventOf(r)
	b, err := json.Marshal(struct {
		Type  string    `json:"type"`
		Event eventJSON `json:"event"`
	}{"event", ev})
	if err != nil {
		h.log.Error("encode event", "err", err)
		return
	}
	h.broadcast(b, func(c *client, s *subscription) bool { return s.wantsEvent(r) })

	switch {
	case r.Kind == app.KindOperatorAction && r.Params["action"] == AckAction && r.Params["code"] == "":
		h.ack(r.Params["summary"], r.Params["actor"], r.At)
	case r.Kind == app.KindOperatorAction && len(r.Params["action"]) > 9 && r.Params["action"][:9] == "Geofence." && r.Params["code"] == "":
		h.loadZones(ctx)
	case r.Kind == app.KindMissionUploaded && r.Params["type"] == fleet.MissionTypeMission.String():
		h.loadRoute(ctx, r.DroneID)
	}
	if isAlert(r) {
		h.raise(ev)
	}
}

func (h *hub) raise(ev eventJSON) {
	h.mu.Lock()
	h.nextAl++
	a := &alert{alertJSON: alertJSON{ID: fmt.Sprintf("%s-%d", h.prefix, h.nextAl), Event: ev}}
	a.msg = alertMsg(a.alertJSON)
	h.alerts = append(h.alerts, a)
	h.alertID[a.ID] = a
	if len(h.alerts) > maxAlerts {
		delete(h.alertID, h.alerts[0].ID)
		h.alerts = h.alerts[1:]
	}
	msg := a.msg
	h.mu.Unlock()
	h.broadcast(msg, func(c *client, s *subscription) bool { return s.events && s.wantsDrone(ev.Drone) })
}

func (h *hub) ack(id, by string, at time.Time) {
	h.mu.Lock()
	a := h.alertID[id]
	if a == nil || a.Acked {
		h.mu.Unlock()
		return
	}
	a.Acked, a.By, a.AckAt = true, by, at.UTC().Format(time.RFC3339Nano)
	a.msg = alertMsg(a.alertJSON)
	msg, drone := a.msg, a.Event.Drone
	h.mu.Unlock()
	h.broadcast(msg, func(c *client, s *subscription) bool { return s.events && s.wantsDrone(drone) })
}

// hasAlert reports whether the hub knows alert id.
func (h *hub) hasAlert(id string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.alertID[id] != nil
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
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
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

// collect appends to buf the encoded states of the drones s selects that
// changed since seen (updating seen), and calls check for each.
func (h *hub) collect(buf []byte, s *subscription, seen map[string]uint64, check func(fleet.DroneState)) ([]byte, int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, id := range h.ids {
		if !s.wantsDrone(id) {
			continue
		}
		e := h.drones[id]
		if e.version <= seen[id] {
			continue
		}
		seen[id] = e.version
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.json...)
		n++
		if check != nil {
			check(e.state)
		}
	}
	return buf, n
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
		list := make([]alertJSON, 0, len(h.alerts))
		for _, a := range h.alerts {
			if s.wantsDrone(a.Event.Drone) {
				list = append(list, a.alertJSON)
			}
		}
		b, _ := json.Marshal(struct {
			Type   string      `json:"type"`
			Alerts []alertJSON `json:"alerts"`
		}{"alerts", list})
		out = append(out, b)
	}
	return out
}
