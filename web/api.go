package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

// Limits of the HTTP API.
const (
	maxDispatchDrones = 50
	maxAreaPoints     = 200
	maxHistoryPoints  = 10000
	maxHistoryRange   = 7 * 24 * time.Hour
	defaultArmWait    = 30 * time.Second
)

func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/config", s.getConfig)
	mux.HandleFunc("GET /api/session", s.authed(s.getSession))
	mux.HandleFunc("GET /api/drones", s.authed(s.getDrones))
	mux.HandleFunc("GET /api/drones/{id}", s.authed(s.getDrone))
	mux.HandleFunc("POST /api/drones/{id}/{command}", s.authed(s.postCommand))
	mux.HandleFunc("POST /api/plan/preview", s.authed(s.postPreview))
	mux.HandleFunc("POST /api/plan/dispatch", s.authed(s.postDispatch))
	mux.HandleFunc("POST /api/emergency/rtl", s.authed(s.postEmergency))
	mux.HandleFunc("POST /api/alerts/{id}/ack", s.authed(s.postAck))
	mux.HandleFunc("GET /api/zones", s.authed(s.getZones))
	mux.HandleFunc("GET /api/history/track", s.authed(s.getTrack))
	mux.HandleFunc("GET /api/history/events", s.authed(s.getEvents))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, fleet.Errorf(fleet.NotFound, "no such call: %s %s", r.Method, r.URL.Path))
	})
}

type handler func(w http.ResponseWriter, r *http.Request, p app.Principal)

// authed reads the bearer token of the Authorization header (never the
// URL) and hands the principal to h.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		bearer, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(bearer) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="centinela"`)
			writeError(w, r, s.Logger, fleet.Errorf(fleet.Unauthenticated, "missing bearer token: send Authorization: Bearer TOKEN"))
			return
		}
		p, err := s.App.Authenticate(r.Context(), strings.TrimSpace(bearer))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="centinela", error="invalid_token"`)
			writeError(w, r, s.Logger, err)
			return
		}
		h(w, r, p)
	}
}

// decode reads a JSON body of at most MaxBodyBytes into v, rejecting
// unknown fields and trailing data.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fleet.Errorf(fleet.Invalid, "want Content-Type application/json, not %q", ct)
	}
	body := http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &fleet.Error{Code: fleet.Exhausted, Message: "request body larger than " + strconv.FormatInt(s.MaxBodyBytes, 10) + " bytes"}
		}
		if errors.Is(err, io.EOF) {
			return fleet.Errorf(fleet.Invalid, "empty body: want a JSON object")
		}
		return fleet.Errorf(fleet.Invalid, "malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &fleet.Error{Code: fleet.Exhausted, Message: "request body larger than " + strconv.FormatInt(s.MaxBodyBytes, 10) + " bytes"}
		}
		return fleet.Errorf(fleet.Invalid, "malformed JSON: data after the object")
	}
	return nil
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"tiles": s.Tiles, "protocol": ProtocolVersion, "max_rate_hz": s.MaxRateHz,
		"patterns": s.Planner.Patterns(),
	})
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, p app.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"principal": principalOf(p)})
}

func (s *Server) getDrones(w http.ResponseWriter, r *http.Request, p app.Principal) {
	ds, err := s.App.ListDrones(r.Context(), p)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	out := make([]droneJSON, len(ds))
	for i, d := range ds {
		out[i] = droneOf(d.State)
	}
	writeJSON(w, http.StatusOK, map[string]any{"drones": out})
}

func (s *Server) getDrone(w http.ResponseWriter, r *http.Request, p app.Principal) {
	d, err := s.App.GetDrone(r.Context(), p, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	plan, _ := s.App.MissionPlan(r.Context(), p, d.State.ID)
	writeJSON(w, http.StatusOK, map[string]any{"drone": droneOf(d.State), "can_command": d.CanCommand, "route": routeOf(plan)})
}

// commandBody is the body of POST /api/drones/{id}/{command}.
type commandBody struct {
	AltM     *float64 `json:"alt_m,omitempty"`
	Lat      *float64 `json:"lat,omitempty"`
	Lon      *float64 `json:"lon,omitempty"`
	Override bool     `json:"override,omitempty"`
	WaitS    *float64 `json:"wait_s,omitempty"`
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func checkLatLon(lat, lon float64) error {
	if !finite(lat) || !finite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fleet.Errorf(fleet.Invalid, "coordinates %v,%v: want latitude -90..90 and longitude -180..180", lat, lon)
	}
	return nil
}

func (s *Server) postCommand(w http.ResponseWriter, r *http.Request, p app.Principal) {
	id, cmd := r.PathValue("id"), r.PathValue("command")
	var b commandBody
	if r.ContentLength != 0 {
		if err := s.decode(w, r, &b); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
	}
	ctx := r.Context()
	var err error
	switch cmd {
	case "arm":
		wait := defaultArmWait
		if b.WaitS != nil {
			if !finite(*b.WaitS) || *b.WaitS < 0 || *b.WaitS > 300 {
				writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "wait_s: want 0..300"))
				return
			}
			wait = time.Duration(*b.WaitS * float64(time.Second))
		}
		err = s.App.Arm(ctx, p, id, app.ArmOptions{Wait: wait})
	case "takeoff":
		if b.AltM == nil || !finite(*b.AltM) {
			writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "takeoff: want alt_m, a number of metres"))
			return
		}
		err = s.App.Takeoff(ctx, p, id, *b.AltM)
	case "land":
		err = s.App.Land(ctx, p, id)
	case "rtl":
		err = s.App.ReturnToLaunch(ctx, p, id)
	case "hold":
		err = s.App.Hold(ctx, p, id)
	case "goto":
		if b.Lat == nil || b.Lon == nil || b.AltM == nil {
			writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "goto: want lat, lon and alt_m"))
			return
		}
		if err := checkLatLon(*b.Lat, *b.Lon); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		if !finite(*b.AltM) {
			writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "goto: alt_m is not a number"))
			return
		}
		err = s.App.GoTo(ctx, p, id, fleet.Position{Lat: *b.Lat, Lon: *b.Lon, RelAlt: *b.AltM}, b.Override)
	default:
		err = fleet.Errorf(fleet.NotFound, "no such command %q: want arm, takeoff, land, rtl, hold or goto", cmd)
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// planBody is the body of the plan calls.
type planBody struct {
	Drones   []string     `json:"drones"`
	Shape    string       `json:"shape"`
	Points   [][2]float64 `json:"points"` // [lat, lon]
	Pattern  string       `json:"pattern"`
	SpacingM float64      `json:"spacing_m,omitempty"`
	AltM     float64      `json:"alt_m,omitempty"`
	SpeedMS  float64      `json:"speed_ms,omitempty"`
	Laps     int          `json:"laps,omitempty"`
}

func (s *Server) planRequest(ctx context.Context, p app.Principal, b planBody) (PlanRequest, []fleet.DroneState, error) {
	req := PlanRequest{Shape: b.Shape, Pattern: b.Pattern, SpacingM: b.SpacingM, AltM: b.AltM, SpeedMS: b.SpeedMS, Laps: b.Laps}
	if len(b.Drones) == 0 {
		return req, nil, fleet.Errorf(fleet.Invalid, "no drones: choose one or more")
	}
	if len(b.Drones) > maxDispatchDrones {
		return req, nil, fleet.Errorf(fleet.Exhausted, "at most %d drones at once", maxDispatchDrones)
	}
	if len(b.Points) > maxAreaPoints {
		return req, nil, fleet.Errorf(fleet.Exhausted, "at most %d points in a shape", maxAreaPoints)
	}
	for _, pt := range b.Points {
		if err := checkLatLon(pt[0], pt[1]); err != nil {
			return req, nil, err
		}
		req.Points = append(req.Points, geofence.LatLon{Lat: pt[0], Lon: pt[1]})
	}
	var drones []fleet.DroneState
	seen := map[string]bool{}
	for _, id := range b.Drones {
		if seen[id] {
			return req, nil, fleet.Errorf(fleet.Invalid, "drone %q listed twice", id)
		}
		seen[id] = true
		d, err := s.App.GetDrone(ctx, p, id)
		if err != nil {
			return req, nil, err
		}
		drones = append(drones, d.State)
	}
	return req, drones, nil
}

// routeJSON is one drone's planned route in a preview or dispatch answer.
type routeJSON struct {
	Drone      string     `json:"drone"`
	Points     []routePt  `json:"points"`
	DistanceM  num        `json:"distance_m"`
	DurationS  num        `json:"duration_s"`
	BatteryPct num        `json:"battery_pct"`
	Check      *errorJSON `json:"check,omitempty"`
	Zone       string     `json:"zone,omitempty"`
	MissionID  string     `json:"mission_id,omitempty"`
	Error      *errorJSON `json:"error,omitempty"`
}

func (s *Server) preview(ctx context.Context, p app.Principal, b planBody) ([]PlanRoute, []routeJSON, error) {
	req, drones, err := s.planRequest(ctx, p, b)
	if err != nil {
		return nil, nil, err
	}
	if len(drones) == 0 {
		return nil, nil, fleet.Errorf(fleet.Invalid, "no drones")
	}
	routes, err := s.Planner.Preview(ctx, req, drones)
	if err != nil {
		return nil, nil, err
	}
	out := make([]routeJSON, len(routes))
	for i, rt := range routes {
		out[i] = routeJSON{Drone: rt.Drone, Points: routeOf(rt.Items), DistanceM: round(rt.DistanceM, 0),
			DurationS: round(rt.Duration.Seconds(), 0), BatteryPct: round(rt.BatteryPct, 1)}
		route := make([]geofence.Position, len(rt.Waypoints))
		for k, w := range rt.Waypoints {
			route[k] = geofence.Position{Lat: w.Lat, Lon: w.Lon, RelAlt: w.RelAlt}
		}
		v, err := s.App.CheckRoute(ctx, p, drones[i].Agency, route)
		switch {
		case err != nil:
			e := errorOf(err)
			out[i].Check = &e
		case v != nil:
			out[i].Check = &errorJSON{Code: fleet.Conflict, Message: v.String(), Reason: string(v.Reason)}
			out[i].Zone = v.ZoneID
		}
	}
	return routes, out, nil
}

func (s *Server) postPreview(w http.ResponseWriter, r *http.Request, p app.Principal) {
	var b planBody
	if err := s.decode(w, r, &b); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	_, out, err := s.preview(r.Context(), p, b)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": out})
}

// postDispatch previews, then uploads and starts each drone's route as a
// mission, all drones at once. Every drone's result is in the answer; the
// status is that of the first error when every drone failed.
func (s *Server) postDispatch(w http.ResponseWriter, r *http.Request, p app.Principal) {
	var b planBody
	if err := s.decode(w, r, &b); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	routes, out, err := s.preview(r.Context(), p, b)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	ctx := r.Context()
	var wg sync.WaitGroup
	errs := make([]error, len(routes))
	for i, rt := range routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.App.UploadMission(ctx, p, rt.Drone, rt.Items, app.UploadOptions{})
			if err == nil {
				out[i].MissionID = id
				err = s.App.StartMission(ctx, p, rt.Drone, false)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	failed := 0
	var first error
	for i, err := range errs {
		if err != nil {
			e := errorOf(err)
			if e.Code == fleet.Internal {
				s.Logger.Error("dispatch", "drone_id", routes[i].Drone, "err", err)
			}
			out[i].Error = &e
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed == len(routes) && first != nil {
		e := errorOf(first)
		writeJSON(w, Status(e.Code), map[string]any{"error": e, "routes": out})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": out})
}

type emergencyBody struct {
	Area [][2]float64 `json:"area"`
}

func (s *Server) postEmergency(w http.ResponseWriter, r *http.Request, p app.Principal) {
	var b emergencyBody
	if err := s.decode(w, r, &b); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if len(b.Area) < 3 {
		writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "area: want a polygon of at least 3 points"))
		return
	}
	if len(b.Area) > maxAreaPoints {
		writeError(w, r, s.Logger, fleet.Errorf(fleet.Exhausted, "area: at most %d points", maxAreaPoints))
		return
	}
	area := make([]geofence.LatLon, len(b.Area))
	for i, pt := range b.Area {
		if err := checkLatLon(pt[0], pt[1]); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		area[i] = geofence.LatLon{Lat: pt[0], Lon: pt[1]}
	}
	res, err := s.App.Emergency(r.Context(), p, app.EmergencyRequest{Action: app.EmergencyRTL, Scope: app.Scope{Polygon: area}})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	type result struct {
		Drone   string     `json:"drone"`
		Skipped bool       `json:"skipped,omitempty"`
		Reason  string     `json:"reason,omitempty"`
		Error   *errorJSON `json:"error,omitempty"`
	}
	out := []result{}
	for _, rr := range res {
		x := result{Drone: rr.DroneID, Skipped: rr.Skipped, Reason: rr.Reason}
		if rr.Code != "" {
			x.Error = &errorJSON{Code: rr.Code, Message: rr.Message}
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func (s *Server) postAck(w http.ResponseWriter, r *http.Request, p app.Principal) {
	a, err := s.App.AckAlert(r.Context(), p, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	// Every client, this one included, gets the acknowledged alert pushed
	// through the hub's watch.
	writeJSON(w, http.StatusOK, map[string]any{"alert": alertOf(a)})
}

func (s *Server) getZones(w http.ResponseWriter, r *http.Request, p app.Principal) {
	gj, err := s.App.ExportGeoJSON(r.Context(), p)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(gj)
}

// timeRange reads from and to (RFC 3339; defaults: the last 10 minutes).
func (s *Server) timeRange(r *http.Request) (time.Time, time.Time, error) {
	now := s.Now()
	from, to := now.Add(-10*time.Minute), now
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return from, to, fleet.Errorf(fleet.Invalid, "%s %q: want an RFC 3339 time", f.name, v)
			}
			*f.t = t
		}
	}
	if !to.After(from) {
		return from, to, fleet.Errorf(fleet.Invalid, "from must be before to")
	}
	if to.Sub(from) > maxHistoryRange {
		return from, to, fleet.Errorf(fleet.Exhausted, "at most %s of history at once", maxHistoryRange)
	}
	return from, to, nil
}

func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fleet.Errorf(fleet.Invalid, "%s %q: want a positive whole number", name, v)
	}
	if n > max {
		return 0, fleet.Errorf(fleet.Exhausted, "%s %d: at most %d", name, n, max)
	}
	return n, nil
}

type trackPt struct {
	At      string `json:"at"`
	Lat     num    `json:"lat"`
	Lon     num    `json:"lon"`
	AltM    num    `json:"alt_m"`
	Speed   num    `json:"speed_ms"`
	Heading num    `json:"heading_deg"`
	Battery int    `json:"battery_pct"`
	Mode    string `json:"mode"`
	Armed   bool   `json:"armed"`
	LinkUp  bool   `json:"link_up"`
}

func (s *Server) getTrack(w http.ResponseWriter, r *http.Request, p app.Principal) {
	from, to, err := s.timeRange(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	max, err := intParam(r, "max", 2000, maxHistoryPoints)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	ids := strings.Split(r.URL.Query().Get("drones"), ",")
	if len(ids) == 1 && ids[0] == "" {
		writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "drones: want one or more drone ids, comma-separated"))
		return
	}
	if len(ids) > maxDispatchDrones {
		writeError(w, r, s.Logger, fleet.Errorf(fleet.Exhausted, "at most %d drones at once", maxDispatchDrones))
		return
	}
	tracks := map[string][]trackPt{}
	for _, id := range ids {
		pts, err := s.App.GetTrack(r.Context(), p, id, from, to, max)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		out := make([]trackPt, len(pts))
		for i, t := range pts {
			out[i] = trackPt{At: t.At.UTC().Format(time.RFC3339Nano), Lat: round(t.Lat, 7), Lon: round(t.Lon, 7),
				AltM: round(t.RelAlt, 1), Speed: round(t.GroundSpeed, 2), Heading: round(t.Heading, 1),
				Battery: t.BatteryPct, Mode: t.Mode, Armed: t.Armed, LinkUp: t.LinkUp}
		}
		tracks[id] = out
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from.UTC().Format(time.RFC3339Nano), "to": to.UTC().Format(time.RFC3339Nano), "tracks": tracks})
}

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, p app.Principal) {
	from, to, err := s.timeRange(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	limit, err := intParam(r, "limit", 1000, maxHistoryPoints)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	q := app.EventQuery{From: from, To: to, Limit: limit, DroneID: r.URL.Query().Get("drone")}
	if k := r.URL.Query().Get("kinds"); k != "" {
		for _, kind := range strings.Split(k, ",") {
			if !knownKind(kind) {
				writeError(w, r, s.Logger, fleet.Errorf(fleet.Invalid, "unknown event kind %q", kind))
				return
			}
			q.Kinds = append(q.Kinds, kind)
		}
	}
	recs, err := s.App.ListEvents(r.Context(), p, q)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	out := make([]eventJSON, len(recs))
	for i, rec := range recs {
		out[i] = eventOf(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}
