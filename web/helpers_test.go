package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/gorilla/websocket"
)

// Agencies of the tests: one per country and a joint task force.
const (
	agencyUS    = "us-agency"
	agencyJoint = "joint-task-force"
)

// San Ysidro, inside the San Diego–Tijuana corridor.
const baseLat, baseLon = 32.5500, -117.0300

// harness is a web Server over a real app.Service, fleet.Fleet and
// geofence.Store, with fake vehicles fed by the test.
type harness struct {
	t     testing.TB
	Fleet *fleet.Fleet
	Zones *geofence.Store
	Store *app.MemStore
	Svc   *app.Service
	Srv   *Server
	// Bearer tokens by role.
	Operator, OperatorUS, Supervisor, Admin string
	// RevokedID is the id of a token revoked before the server started;
	// Revoked its bearer string.
	Revoked string

	mu       sync.Mutex
	vehicles map[uint8]*fleettest.Vehicle
	others   []*fleettest.Vehicle
}

// newHarness starts everything on 127.0.0.1:0; tune changes the Server's
// options before Initialize.
func newHarness(t testing.TB, tune func(*Server)) *harness {
	t.Helper()
	return newHarnessHistory(t, nil, tune)
}

// newHarnessHistory is newHarness with a History behind the Service.
func newHarnessHistory(t testing.TB, hist app.History, tune func(*Server)) *harness {
	t.Helper()
	set, err := geofence.Default(
		geofence.Agency{ID: agencyUS, Name: "US", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		geofence.Agency{ID: agencyJoint, Name: "Joint", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}},
	)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, Zones: geofence.NewStore(set), Store: app.NewMemStore(), vehicles: map[uint8]*fleettest.Vehicle{}}
	h.Fleet = &fleet.Fleet{DefaultAgency: agencyJoint, Guard: fleet.NewZoneGuard(h.Zones), LinkTimeout: time.Hour,
		DroneID: func(k fleet.VehicleKey) string {
			if k.Link == "test" {
				return fmt.Sprintf("sysid-%d", k.SysID)
			}
			return fmt.Sprintf("%s-%d", k.Link, k.SysID)
		}}
	if err := h.Fleet.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Fleet.Close)
	now := time.Now()
	tok := func(role app.Role, agency, label string) string {
		s, _, err := app.NewToken(h.Store, now, role, agency, label, "test")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	h.Operator = tok(app.RoleOperator, agencyJoint, "op-joint")
	h.OperatorUS = tok(app.RoleOperator, agencyUS, "op-us")
	h.Supervisor = tok(app.RoleSupervisor, "", "supervisor")
	h.Admin = tok(app.RoleAdmin, "", "admin")
	revoked, rt, err := app.NewToken(h.Store, now, app.RoleOperator, agencyJoint, "gone", "test")
	if err != nil {
		t.Fatal(err)
	}
	rt.Revoked = now
	if err := h.Store.PutToken(rt); err != nil {
		t.Fatal(err)
	}
	h.Revoked = revoked
	h.Svc = &app.Service{Fleet: h.Fleet, Zones: h.Zones, Store: h.Store, History: hist}
	if err := h.Svc.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Svc.Close)
	h.Srv = &Server{Addr: "127.0.0.1:0", App: h.Svc}
	if tune != nil {
		tune(h.Srv)
	}
	if err := h.Srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Srv.Close)
	return h
}

// addDrone makes drone sysid-N heard, armed or not, at lat, lon, 30 m up.
func (h *harness) addDrone(sys uint8, lat, lon float64, withFix bool) *fleettest.Vehicle {
	h.mu.Lock()
	v := h.vehicles[sys]
	if v == nil {
		v = fleettest.NewVehicle("test", sys)
		h.vehicles[sys] = v
	}
	h.mu.Unlock()
	fleettest.Feed(h.Fleet, v, fleettest.Copter(fleettest.Loiter, false, fleettest.StatusStandby))
	if withFix {
		fleettest.Feed(h.Fleet, v, fleettest.Position(time.Second, lat, lon, 30),
			fleet.Home{Lat: lat, Lon: lon, AltMSL: 20})
	} else {
		fleettest.Feed(h.Fleet, v, fleettest.NoFix(time.Second))
	}
	return v
}

// move feeds drone sys a new position.
func (h *harness) move(sys uint8, lat, lon float64) {
	h.mu.Lock()
	v := h.vehicles[sys]
	h.mu.Unlock()
	fleettest.Feed(h.Fleet, v, fleettest.Position(time.Second, lat, lon, 30))
}

// waitFor polls cond until true or the deadline.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// call makes an HTTP request with a bearer token (none if "") and returns
// the status and the body decoded as a generic JSON value.
func (h *harness) call(method, path, bearer, body string) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.Srv.URL()+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"_raw": string(b)}
	}
	return res.StatusCode, m
}

// wsClient is a test WebSocket client on gorilla's Dialer.
type wsClient struct {
	t    testing.TB
	Conn *websocket.Conn
}

// dial connects to /ws with the page's origin, offering no subprotocol
// (so protocol 1) and, if bearer is not "", authenticates with a first
// message.
func (h *harness) dial(bearer string) *wsClient {
	h.t.Helper()
	return h.dialProto(bearer, ProtocolV1)
}

// dialProto is dial for protocol version proto: for 2 it offers
// SubprotocolV2 and Subprotocol, as the page does.
func (h *harness) dialProto(bearer string, proto int) *wsClient {
	h.t.Helper()
	hdr := http.Header{"Origin": {strings.TrimSuffix(h.Srv.URL(), "/")}}
	d := *websocket.DefaultDialer
	if proto == ProtocolV2 {
		d.Subprotocols = []string{SubprotocolV2, Subprotocol}
	}
	conn, _, err := d.Dial("ws://"+h.Srv.ListenAddr().String()+"/ws", hdr)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &wsClient{t: h.t, Conn: conn}
	h.t.Cleanup(func() { conn.Close() })
	if bearer != "" {
		c.send(map[string]any{"type": "auth", "token": bearer})
		if m := c.next("hello", 5*time.Second); m["protocol"] != float64(proto) {
			h.t.Fatalf("hello %v, want protocol %d", m, proto)
		}
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.Conn.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message.
func (c *wsClient) read(d time.Duration) (map[string]any, error) {
	c.Conn.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.Conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message is not JSON: %q", b)
	}
	return m, nil
}

// next skips messages until one of type typ.
func (c *wsClient) next(typ string, d time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", typ, err)
		}
		if testing.Verbose() && m["type"] != "states" {
			c.t.Logf("got %v", m["type"])
		}
		if m["type"] == typ {
			return m
		}
	}
}

// dronesOf returns the drones of a snapshot or states message by id.
func dronesOf(m map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := m["drones"].([]any)
	for _, d := range list {
		dm := d.(map[string]any)
		out[dm["id"].(string)] = dm
	}
	return out
}

var _ = context.Background

// addDroneOnLink makes a drone heard on another link, with a fix.
func (h *harness) addDroneOnLink(link string, sys uint8, lat, lon float64) {
	v := fleettest.NewVehicle(link, sys)
	h.mu.Lock()
	h.others = append(h.others, v)
	h.mu.Unlock()
	fleettest.Feed(h.Fleet, v, fleettest.Copter(fleettest.Loiter, false, fleettest.StatusStandby),
		fleettest.Position(time.Second, lat, lon, 30))
}

// moveAll moves every drone to latitude lat.
func (h *harness) moveAll(lat float64) {
	h.mu.Lock()
	vs := append([]*fleettest.Vehicle(nil), h.others...)
	for _, v := range h.vehicles {
		vs = append(vs, v)
	}
	h.mu.Unlock()
	for _, v := range vs {
		fleettest.Feed(h.Fleet, v, fleettest.Position(2*time.Second, lat, baseLon, 30))
	}
}

// waitHub waits until the server's hub knows n drones.
func (h *harness) waitHub(n int) {
	h.t.Helper()
	waitFor(h.t, fmt.Sprint("the hub to know ", n, " drones"), 10*time.Second, func() bool {
		h.Srv.hub.mu.RLock()
		defer h.Srv.hub.mu.RUnlock()
		return len(h.Srv.hub.ids) == n
	})
}

// appAuditAll selects every audit entry.
var appAuditAll = app.AuditQuery{}

// fakeHistory is a stored past: one straight track per drone and its events.
type fakeHistory struct {
	tracks map[string][]app.TrackPoint
	events []app.EventRecord
}

var _ app.History = (*fakeHistory)(nil)

// newFakeHistory makes a two-minute eastward track for drone id, one point
// a second, ending at end, with a take-off and a breach event.
func newFakeHistory(id string, end time.Time) *fakeHistory {
	h := &fakeHistory{tracks: map[string][]app.TrackPoint{}}
	start := end.Add(-2 * time.Minute)
	for i := 0; i <= 120; i++ {
		h.tracks[id] = append(h.tracks[id], app.TrackPoint{At: start.Add(time.Duration(i) * time.Second),
			Lat: baseLat, Lon: baseLon + float64(i)*1e-4, RelAlt: 40, GroundSpeed: 9.4, Heading: 90,
			BatteryPct: 90 - i/10, Mode: "AUTO", Armed: true, LinkUp: true})
	}
	h.events = []app.EventRecord{
		{Seq: 1, At: start, DroneID: id, Kind: app.KindTookOff, Severity: app.SevInfo, Params: map[string]string{}},
		{Seq: 2, At: start.Add(time.Minute), DroneID: id, Kind: app.KindZoneBreached, Severity: app.SevCritical,
			Params: map[string]string{"zone_id": "apt-mmtj", "zone_name": "Tijuana airport"}},
	}
	return h
}

func (h *fakeHistory) Track(id string, from, to time.Time, max int) ([]app.TrackPoint, error) {
	var out []app.TrackPoint
	for _, p := range h.tracks[id] {
		if !p.At.Before(from) && p.At.Before(to) {
			out = append(out, p)
		}
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (h *fakeHistory) Events(q app.EventQuery) ([]app.EventRecord, error) {
	var out []app.EventRecord
	for _, e := range h.events {
		if !e.At.Before(q.From) && e.At.Before(q.To) && (q.DroneID == "" || e.DroneID == q.DroneID) {
			out = append(out, e)
		}
	}
	return out, nil
}
