package web

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

// TestStatusTable runs every fleet code through the one table.
func TestStatusTable(t *testing.T) {
	want := map[fleet.Code]int{
		fleet.Invalid: 400, fleet.NotFound: 404, fleet.Conflict: 409, fleet.Unauthenticated: 401,
		fleet.Forbidden: 403, fleet.Exhausted: 413, fleet.NoDrone: 503, fleet.Busy: 503,
		fleet.Denied: 422, fleet.Timeout: 504, fleet.Unsupported: 501, fleet.Internal: 500,
	}
	for _, c := range fleet.Codes {
		t.Run(string(c), func(t *testing.T) {
			if _, ok := statusOf[c]; !ok {
				t.Fatalf("code %q is not in the table", c)
			}
			if got := Status(c); got != want[c] {
				t.Errorf("Status(%q) = %d, want %d", c, got, want[c])
			}
		})
	}
	if len(statusOf) != len(fleet.Codes) {
		t.Errorf("the table maps %d codes, fleet has %d", len(statusOf), len(fleet.Codes))
	}
	if e := errorOf(context.Canceled); e.Code != fleet.Internal || e.Message != "internal error" {
		t.Errorf("a foreign error shows as %+v", e)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.Tiles = "https://tiles.example/{z}/{x}/{y}.png" })
	for _, path := range []string{"/", "/js/main.js", "/api/config", "/api/drones"} {
		res, err := http.Get(h.Srv.URL() + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "https://tiles.example") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	for name, s := range map[string]*Server{
		"no app":        {Addr: "127.0.0.1:0"},
		"bad tiles":     {Addr: "127.0.0.1:0", App: newHarness(t, nil).Svc, Tiles: "javascript:alert(1)"},
		"tiles no {z}":  {Addr: "127.0.0.1:0", App: newHarness(t, nil).Svc, Tiles: "https://t.example/{x}/{y}"},
		"port in use":   {Addr: newHarness(t, nil).Srv.ListenAddr().String(), App: newHarness(t, nil).Svc},
		"bad addr text": {Addr: "nonsense:xx", App: newHarness(t, nil).Svc},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Initialize(); err == nil {
				s.Close()
				t.Fatal("Initialize accepted a bad configuration")
			}
		})
	}
}

// addResponsiveDrone is addDrone with a vehicle that answers mode changes
// and arming with a heartbeat, as an autopilot would.
func (h *harness) addResponsiveDrone(sys uint8, lat, lon float64) *fleettest.Vehicle {
	v := fleettest.NewVehicle("test", sys)
	var mu sync.Mutex
	var mode uint32 = fleettest.Loiter
	armed := false
	v.CommandFn = func(ctx context.Context, cmd fleet.Command) error {
		mu.Lock()
		switch cmd.Kind {
		case fleet.CommandSetMode:
			mode = cmd.Mode
		case fleet.CommandArm:
			armed = true
		case fleet.CommandMissionStart:
			mode = fleettest.Auto
		}
		hb := fleettest.Copter(mode, armed, fleettest.StatusActive)
		mu.Unlock()
		fleettest.Feed(h.Fleet, v, hb)
		return nil
	}
	h.mu.Lock()
	h.vehicles[sys] = v
	h.mu.Unlock()
	return h.addDrone(sys, lat, lon, true)
}

func TestHTTPCommands(t *testing.T) {
	h := newHarness(t, nil)
	v := h.addResponsiveDrone(1, baseLat, baseLon)
	st, body := h.call("POST", "/api/drones/sysid-1/arm", h.Operator, `{"wait_s":1}`)
	if st != 200 {
		t.Fatalf("arm: %d %v", st, body)
	}
	if k := v.CommandKinds(); len(k) == 0 || k[len(k)-1] != fleet.CommandArm {
		t.Errorf("commands sent %v", k)
	}
	st, body = h.call("GET", "/api/drones/sysid-1", h.Operator, "")
	if st != 200 || body["can_command"] != true {
		t.Errorf("get drone as operator: %d %v", st, body)
	}
	st, body = h.call("GET", "/api/drones/sysid-1", h.Supervisor, "")
	if st != 200 || body["can_command"] != false {
		t.Errorf("get drone as supervisor: %d %v", st, body)
	}
	st, body = h.call("GET", "/api/drones", h.Supervisor, "")
	if list, _ := body["drones"].([]any); st != 200 || len(list) != 1 {
		t.Errorf("list drones: %d %v", st, body)
	}
	st, body = h.call("GET", "/api/session", h.OperatorUS, "")
	if p, _ := body["principal"].(map[string]any); st != 200 || p["agency"] != agencyUS || p["role"] != "operator" {
		t.Errorf("session: %d %v", st, body)
	}
	st, body = h.call("GET", "/api/zones", h.Supervisor, "")
	if feats, _ := body["features"].([]any); st != 200 || len(feats) < 20 {
		t.Errorf("zones: %d, %d features", st, len(feats))
	}
}

// TestPlanDispatch: preview plans without touching the vehicle; dispatch
// uploads the route as a mission and starts it.
func TestPlanDispatch(t *testing.T) {
	h := newHarness(t, nil)
	v := h.addResponsiveDrone(1, baseLat, baseLon)
	plan := `{"drones":["sysid-1"],"shape":"polygon","pattern":"lawnmower","spacing_m":50,"alt_m":40,
		"points":[[32.551,-117.031],[32.551,-117.027],[32.548,-117.027],[32.548,-117.031]]}`
	st, body := h.call("POST", "/api/plan/preview", h.Operator, plan)
	routes, _ := body["routes"].([]any)
	if st != 200 || len(routes) != 1 {
		t.Fatalf("preview: %d %v", st, body)
	}
	r := routes[0].(map[string]any)
	if r["distance_m"].(float64) < 500 || r["duration_s"].(float64) <= 0 || r["battery_pct"].(float64) <= 0 || r["check"] != nil {
		t.Errorf("preview route %v", r)
	}
	if n := v.Calls("UploadMission"); n != 0 {
		t.Fatalf("preview uploaded %d missions", n)
	}
	st, body = h.call("POST", "/api/plan/dispatch", h.Operator, plan)
	if st != 200 {
		t.Fatalf("dispatch: %d %v", st, body)
	}
	r = body["routes"].([]any)[0].(map[string]any)
	if r["error"] != nil || r["mission_id"] == "" {
		t.Fatalf("dispatch route %v", r)
	}
	if v.Calls("UploadMission") != 1 {
		t.Errorf("%d uploads", v.Calls("UploadMission"))
	}
	kinds := v.CommandKinds()
	if kinds[len(kinds)-1] != fleet.CommandMissionStart {
		t.Errorf("last command %v, want mission start", kinds)
	}
	// The route reaches map clients.
	c := h.dial(h.Supervisor)
	c.send(map[string]any{"type": "subscribe", "routes": true})
	rt := c.next("route", 5*time.Second)
	if pts, _ := rt["points"].([]any); rt["drone"] != "sysid-1" || len(pts) < 4 {
		t.Errorf("route message %v", rt)
	}
	// A route through the Tijuana airport's no-fly circle is refused by
	// the geofence in the preview.
	bad := `{"drones":["sysid-1"],"shape":"line","pattern":"line","points":[[32.55,-117.03],[32.541,-116.97]]}`
	st, body = h.call("POST", "/api/plan/preview", h.Operator, bad)
	r = body["routes"].([]any)[0].(map[string]any)
	if st != 200 || r["check"] == nil || r["zone"] != "apt-mmtj" {
		t.Errorf("preview through an airport: %d %v", st, r)
	}
}

// TestBadInput: every call, given bad input, answers 4xx with a message
// and changes nothing on the vehicle.
func TestBadInput(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxBodyBytes = 4096 })
	v := h.addDrone(1, baseLat, baseLon, true)
	big := `{"drones":["sysid-1"],"points":[` + strings.Repeat(`[32.5,-117.0],`, 500) + `[32.5,-117.0]]}`
	goodPlan := `{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","points":[[32.551,-117.031],[32.551,-117.027],[32.548,-117.027]]}`
	type call struct{ method, path, body string }
	calls := map[string]call{
		"arm":       {"POST", "/api/drones/sysid-1/arm", `{}`},
		"takeoff":   {"POST", "/api/drones/sysid-1/takeoff", `{"alt_m":30}`},
		"land":      {"POST", "/api/drones/sysid-1/land", `{}`},
		"rtl":       {"POST", "/api/drones/sysid-1/rtl", `{}`},
		"hold":      {"POST", "/api/drones/sysid-1/hold", `{}`},
		"goto":      {"POST", "/api/drones/sysid-1/goto", `{"lat":32.551,"lon":-117.03,"alt_m":30}`},
		"preview":   {"POST", "/api/plan/preview", goodPlan},
		"dispatch":  {"POST", "/api/plan/dispatch", goodPlan},
		"emergency": {"POST", "/api/emergency/rtl", `{"area":[[32.56,-117.04],[32.56,-117.02],[32.54,-117.02]]}`},
		"ack":       {"POST", "/api/alerts/sysid-1.link_lost.1/ack", ``},
		"drones":    {"GET", "/api/drones", ``},
		"drone":     {"GET", "/api/drones/sysid-1", ``},
		"zones":     {"GET", "/api/zones", ``},
		"session":   {"GET", "/api/session", ``},
		"track":     {"GET", "/api/history/track?drones=sysid-1", ``},
		"events":    {"GET", "/api/history/events", ``},
	}
	check := func(t *testing.T, c call, bearer string, wantStatus int, wantCode fleet.Code) {
		t.Helper()
		st, body := h.call(c.method, c.path, bearer, c.body)
		e, _ := body["error"].(map[string]any)
		if st != wantStatus || e == nil || e["code"] != string(wantCode) || e["message"] == "" {
			t.Errorf("%s %s: %d %v, want %d %s with a message", c.method, c.path, st, body, wantStatus, wantCode)
		}
	}
	for name, c := range calls {
		t.Run(name+"/no token", func(t *testing.T) { check(t, c, "", 401, fleet.Unauthenticated) })
		t.Run(name+"/revoked token", func(t *testing.T) { check(t, c, h.Revoked, 401, fleet.Unauthenticated) })
		t.Run(name+"/garbage token", func(t *testing.T) { check(t, c, "cnt_zz", 401, fleet.Unauthenticated) })
		if c.method == "POST" && c.body != "" {
			t.Run(name+"/malformed JSON", func(t *testing.T) { check(t, call{c.method, c.path, `{"lat":`}, h.Operator, 400, fleet.Invalid) })
			t.Run(name+"/unknown field", func(t *testing.T) { check(t, call{c.method, c.path, `{"nope":1}`}, h.Operator, 400, fleet.Invalid) })
			t.Run(name+"/oversized", func(t *testing.T) { check(t, call{c.method, c.path, big}, h.Operator, 413, fleet.Exhausted) })
			t.Run(name+"/trailing data", func(t *testing.T) { check(t, call{c.method, c.path, c.body + `{}`}, h.Operator, 400, fleet.Invalid) })
		}
	}
	for name, tc := range map[string]struct {
		c      call
		bearer string
		status int
		code   fleet.Code
	}{
		"goto NaN":             {call{"POST", "/api/drones/sysid-1/goto", `{"lat":NaN,"lon":-117,"alt_m":30}`}, h.Operator, 400, fleet.Invalid},
		"goto out of range":    {call{"POST", "/api/drones/sysid-1/goto", `{"lat":95,"lon":-117,"alt_m":30}`}, h.Operator, 400, fleet.Invalid},
		"goto huge":            {call{"POST", "/api/drones/sysid-1/goto", `{"lat":1e999,"lon":-117,"alt_m":30}`}, h.Operator, 400, fleet.Invalid},
		"goto no alt":          {call{"POST", "/api/drones/sysid-1/goto", `{"lat":32.5,"lon":-117}`}, h.Operator, 400, fleet.Invalid},
		"goto unknown drone":   {call{"POST", "/api/drones/nope/goto", `{"lat":32.5,"lon":-117,"alt_m":30}`}, h.Operator, 404, fleet.NotFound},
		"goto as supervisor":   {call{"POST", "/api/drones/sysid-1/goto", `{"lat":32.551,"lon":-117.03,"alt_m":30}`}, h.Supervisor, 403, fleet.Forbidden},
		"goto other agency":    {call{"POST", "/api/drones/sysid-1/goto", `{"lat":32.551,"lon":-117.03,"alt_m":30}`}, h.OperatorUS, 403, fleet.Forbidden},
		"goto into no-fly":     {call{"POST", "/api/drones/sysid-1/goto", `{"lat":32.541,"lon":-116.97,"alt_m":30}`}, h.Operator, 409, fleet.Conflict},
		"rtl as supervisor":    {call{"POST", "/api/drones/sysid-1/rtl", ``}, h.Supervisor, 403, fleet.Forbidden},
		"arm as admin":         {call{"POST", "/api/drones/sysid-1/arm", `{}`}, h.Admin, 403, fleet.Forbidden},
		"arm bad wait":         {call{"POST", "/api/drones/sysid-1/arm", `{"wait_s":-1}`}, h.Operator, 400, fleet.Invalid},
		"takeoff no alt":       {call{"POST", "/api/drones/sysid-1/takeoff", `{}`}, h.Operator, 400, fleet.Invalid},
		"takeoff too high":     {call{"POST", "/api/drones/sysid-1/takeoff", `{"alt_m":1e6}`}, h.Operator, 400, fleet.Invalid},
		"unknown command":      {call{"POST", "/api/drones/sysid-1/selfdestruct", `{}`}, h.Operator, 404, fleet.NotFound},
		"unknown drone":        {call{"GET", "/api/drones/nope", ``}, h.Operator, 404, fleet.NotFound},
		"unknown call":         {call{"GET", "/api/nope", ``}, h.Operator, 404, fleet.NotFound},
		"wrong content type":   {call{"POST", "/api/plan/preview", ``}, h.Operator, 400, fleet.Invalid},
		"plan no drones":       {call{"POST", "/api/plan/preview", `{"drones":[],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2],[2,2]]}`}, h.Operator, 400, fleet.Invalid},
		"plan unknown drone":   {call{"POST", "/api/plan/preview", `{"drones":["nope"],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2],[2,2]]}`}, h.Operator, 404, fleet.NotFound},
		"plan duplicate drone": {call{"POST", "/api/plan/preview", `{"drones":["sysid-1","sysid-1"],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2],[2,2]]}`}, h.Operator, 400, fleet.Invalid},
		"plan bad pattern":     {call{"POST", "/api/plan/preview", `{"drones":["sysid-1"],"shape":"polygon","pattern":"spiral","points":[[1,1],[1,2],[2,2]]}`}, h.Operator, 400, fleet.Invalid},
		"plan two points":      {call{"POST", "/api/plan/preview", `{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2]]}`}, h.Operator, 400, fleet.Invalid},
		"plan bad point":       {call{"POST", "/api/plan/preview", `{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2],[200,2]]}`}, h.Operator, 400, fleet.Invalid},
		"plan bad altitude":    {call{"POST", "/api/plan/preview", `{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","alt_m":500,"points":[[32.551,-117.031],[32.551,-117.027],[32.548,-117.027]]}`}, h.Operator, 400, fleet.Invalid},
		"dispatch supervisor":  {call{"POST", "/api/plan/dispatch", goodPlan}, h.Supervisor, 403, fleet.Forbidden},
		"dispatch other agcy":  {call{"POST", "/api/plan/dispatch", goodPlan}, h.OperatorUS, 403, fleet.Forbidden},
		"emergency supervisor": {call{"POST", "/api/emergency/rtl", `{"area":[[32.56,-117.04],[32.56,-117.02],[32.54,-117.02]]}`}, h.Supervisor, 403, fleet.Forbidden},
		"emergency two points": {call{"POST", "/api/emergency/rtl", `{"area":[[32.56,-117.04],[32.56,-117.02]]}`}, h.Operator, 400, fleet.Invalid},
		"emergency bad point":  {call{"POST", "/api/emergency/rtl", `{"area":[[32.56,-117.04],[32.56,-217.02],[32.54,-117.02]]}`}, h.Operator, 400, fleet.Invalid},
		"ack unknown":          {call{"POST", "/api/alerts/nope/ack", ``}, h.Operator, 404, fleet.NotFound},
		"ack as supervisor":    {call{"POST", "/api/alerts/nope/ack", ``}, h.Supervisor, 403, fleet.Forbidden},
		"track no drones":      {call{"GET", "/api/history/track", ``}, h.Operator, 400, fleet.Invalid},
		"track bad time":       {call{"GET", "/api/history/track?drones=sysid-1&from=yesterday", ``}, h.Operator, 400, fleet.Invalid},
		"track reversed":       {call{"GET", "/api/history/track?drones=sysid-1&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", ``}, h.Operator, 400, fleet.Invalid},
		"track too long":       {call{"GET", "/api/history/track?drones=sysid-1&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", ``}, h.Operator, 413, fleet.Exhausted},
		"track bad max":        {call{"GET", "/api/history/track?drones=sysid-1&max=-3", ``}, h.Operator, 400, fleet.Invalid},
		"events bad kind":      {call{"GET", "/api/history/events?kinds=nope", ``}, h.Operator, 400, fleet.Invalid},
		"history unsupported":  {call{"GET", "/api/history/events", ``}, h.Operator, 501, fleet.Unsupported},
		"page wrong method":    {call{"POST", "/index.html", `{}`}, h.Operator, 405, fleet.Invalid},
	} {
		t.Run(name, func(t *testing.T) { check(t, tc.c, tc.bearer, tc.status, tc.code) })
	}
	for _, k := range v.CommandKinds() {
		// The fleet's own discovery requests (AUTOPILOT_VERSION, streams)
		// are not the callers'.
		if k != fleet.CommandRequestMessage && k != fleet.CommandSetMessageInterval {
			t.Errorf("bad input sent a command to the vehicle: %v", v.CommandKinds())
		}
	}
	if n := v.Calls("UploadMission"); n != 0 {
		t.Errorf("bad input uploaded %d missions", n)
	}
	// The audit log recorded the refused commands, and only refusals.
	entries, err := h.Store.Audit(appAuditAll)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Code == "" {
			t.Errorf("a bad call succeeded: %+v", e)
		}
	}
	if len(entries) == 0 {
		t.Error("no refusal was audited")
	}
}

func TestHistory(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Second)
	h := newHarnessHistory(t, newFakeHistory("sysid-1", end), nil)
	from, to := end.Add(-3*time.Minute).Format(time.RFC3339), end.Add(time.Second).Format(time.RFC3339)
	st, body := h.call("GET", "/api/history/track?drones=sysid-1&from="+from+"&to="+to+"&max=50", h.Supervisor, "")
	pts, _ := body["tracks"].(map[string]any)["sysid-1"].([]any)
	if st != 200 || len(pts) != 50 {
		t.Fatalf("track: %d, %d points", st, len(pts))
	}
	if p := pts[0].(map[string]any); p["alt_m"] != 40.0 || p["mode"] != "AUTO" || p["at"] == "" {
		t.Errorf("first point %v", p)
	}
	st, body = h.call("GET", "/api/history/events?drone=sysid-1&from="+from+"&to="+to, h.Supervisor, "")
	evs, _ := body["events"].([]any)
	if st != 200 || len(evs) != 2 || evs[1].(map[string]any)["kind"] != "zone_breached" {
		t.Errorf("events: %d %v", st, body)
	}
}

// TestPatrolPlanner: the map's plan calls with the patrol planner behind
// them: a perimeter, a coverage shared by two drones, and a line.
func TestPatrolPlanner(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.Planner = PatrolPlanner{Zones: s.App.(*app.Service).Zones} })
	for i := uint8(1); i <= 2; i++ {
		h.addResponsiveDrone(i, baseLat, baseLon+float64(i)*0.001)
	}
	area := `[[32.556,-117.034],[32.556,-117.024],[32.548,-117.024],[32.548,-117.034]]`
	for name, tc := range map[string]struct {
		body   string
		routes int
	}{
		"perimeter": {`{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","alt_m":40,"points":` + area + `}`, 1},
		"coverage":  {`{"drones":["sysid-1","sysid-2"],"shape":"polygon","pattern":"lawnmower","spacing_m":80,"points":` + area + `}`, 2},
		"line":      {`{"drones":["sysid-2"],"shape":"line","pattern":"line","points":[[32.552,-117.033],[32.553,-117.026]]}`, 1},
	} {
		t.Run(name, func(t *testing.T) {
			st, body := h.call("POST", "/api/plan/preview", h.Operator, tc.body)
			routes, _ := body["routes"].([]any)
			if st != 200 || len(routes) != tc.routes {
				t.Fatalf("preview: %d %v", st, body)
			}
			for _, r := range routes {
				r := r.(map[string]any)
				if pts, _ := r["points"].([]any); len(pts) < 2 || r["distance_m"].(float64) <= 0 || r["check"] != nil {
					t.Errorf("route %v", r)
				}
			}
		})
	}
	st, body := h.call("POST", "/api/plan/dispatch", h.Operator, `{"drones":["sysid-1"],"shape":"polygon","pattern":"perimeter","points":`+area+`}`)
	if r := body["routes"].([]any)[0].(map[string]any); st != 200 || r["mission_id"] == "" || r["error"] != nil {
		t.Fatalf("dispatch: %d %v", st, body)
	}
	if d, _ := h.Fleet.Drone("sysid-1"); d.Mission.State != fleet.MissionStateRunning && d.Mission.State != fleet.MissionStateReady {
		t.Errorf("mission %v after dispatch", d.Mission.State)
	}
}

// TestEmergencyRTL: an operator's emergency RTL in a drawn area reaches
// the drones it may command inside it, and lists the others as skipped.
func TestEmergencyRTL(t *testing.T) {
	h := newHarness(t, nil)
	in := h.addResponsiveDrone(1, baseLat, baseLon)
	out := h.addResponsiveDrone(2, baseLat+0.05, baseLon)
	st, body := h.call("POST", "/api/emergency/rtl", h.Operator, `{"area":[[32.56,-117.04],[32.56,-117.02],[32.54,-117.02],[32.54,-117.04]]}`)
	if st != 200 {
		t.Fatalf("emergency: %d %v", st, body)
	}
	res, _ := body["results"].([]any)
	sent := map[string]bool{}
	for _, r := range res {
		r := r.(map[string]any)
		sent[r["drone"].(string)] = r["skipped"] != true && r["error"] == nil
	}
	if !sent["sysid-1"] || sent["sysid-2"] {
		t.Errorf("results %v", res)
	}
	rtl := func(v *fleettest.Vehicle) bool {
		for _, c := range v.Commands() {
			if c.Kind == fleet.CommandReturnToLaunch || (c.Kind == fleet.CommandSetMode && c.Mode == fleettest.RTL) {
				return true
			}
		}
		return false
	}
	if !rtl(in) || rtl(out) {
		t.Errorf("RTL sent: inside %v, outside %v", rtl(in), rtl(out))
	}
}

func TestMetricsMount(t *testing.T) {
	h := newHarness(t, func(s *Server) {
		s.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("centinela_up 1\n")) })
	})
	res, err := http.Get(h.Srv.URL() + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "centinela_up 1\n" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("/metrics: %d %q", res.StatusCode, b)
	}
	if res, _ := http.Get(newHarness(t, nil).Srv.URL() + "metrics"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without a handler: %d", res.StatusCode)
	}
}
