package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	fpatrol "github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/paulmach/orb"
)

// planConfig is the configuration of "centinela plan".
type planConfig struct {
	Kind      string
	Area      string
	Line      string
	Homes     []string
	To        string
	Agency    string
	Zones     string
	Alt       float64
	Swath     float64
	Overlap   float64
	Speed     float64
	Transit   float64
	Margin    float64
	Offset    float64
	Laps      int
	Clockwise bool
	Back      bool
	Side      string
	Sweep     float64
	Drones    int
	Battery   float64
	Endurance time.Duration
	Reserve   float64
	Sorties   bool
	MaxLeg    float64
	Range     float64
	Format    string
	Out       string
	Jump      bool
}

func defaultPlanConfig() planConfig {
	return planConfig{Agency: agencyJoint, Format: "text", Drones: 1, Sweep: math.NaN(), Range: 10_000, Endurance: 25 * time.Minute, Jump: true}
}

// request builds the planning request, or a usage error.
func (c *planConfig) request() (plan.Request, error) {
	r := plan.Request{Kind: plan.Kind(c.Kind), Agency: c.Agency, AltM: c.Alt, SwathM: c.Swath, Overlap: c.Overlap,
		SpeedMPS: c.Speed, TransitSpeedMPS: c.Transit, MarginM: c.Margin, OffsetM: c.Offset, Laps: c.Laps,
		Clockwise: c.Clockwise, ReturnNearStart: c.Back, Side: plan.Side(c.Side), Endurance: c.Endurance,
		ReservePct: c.Reserve, Sorties: c.Sorties, MaxLegM: c.MaxLeg}
	if !isKind(r.Kind) {
		return r, msgErr("plan.bad_kind", "kind", strconv.Quote(c.Kind))
	}
	if !math.IsNaN(c.Sweep) {
		s := c.Sweep
		r.SweepDeg = &s
	}
	if len(c.Homes) == 0 {
		return r, msgErr("plan.need_home")
	}
	var homes []plan.LatLon
	for _, h := range c.Homes {
		ll, err := parseLatLon(h)
		if err != nil {
			return r, fmt.Errorf("--home %q: %v", h, err)
		}
		homes = append(homes, ll)
	}
	n := max(c.Drones, len(homes))
	if c.Drones < 1 || n > plan.MaxDrones {
		return r, msgErr("plan.bad_drones", "drones", strconv.Itoa(c.Drones), "max", strconv.Itoa(plan.MaxDrones))
	}
	for i := 0; i < n; i++ {
		r.Drones = append(r.Drones, plan.Drone{ID: fmt.Sprintf("drone-%d", i+1), Home: homes[min(i, len(homes)-1)], BatteryPct: c.Battery})
	}
	switch c.Format {
	case "text", "geojson", "plan":
	default:
		return r, msgErr("plan.bad_format", "format", strconv.Quote(c.Format))
	}
	if c.Area != "" {
		pg, err := readGeometry[orb.Polygon](c.Area)
		if err != nil {
			return r, fmt.Errorf("--area %s: %v", c.Area, err)
		}
		r.Area = pg
	}
	if c.Line != "" {
		ls, err := readGeometry[orb.LineString](c.Line)
		if err != nil {
			return r, fmt.Errorf("--line %s: %v", c.Line, err)
		}
		r.Line = ls
	}
	switch r.Kind {
	case plan.Perimeter, plan.Coverage:
		if c.Area == "" {
			return r, msgErr("plan.need_area", "kind", c.Kind)
		}
	case plan.Transit:
		if c.To == "" {
			return r, msgErr("plan.need_to")
		}
		to, err := parseLatLon(c.To)
		if err != nil {
			return r, fmt.Errorf("--to %q: %v", c.To, err)
		}
		r.To = to
	case plan.Corridor:
		if r.Area == nil && c.Line == "" {
			// The bundled boundary within --range of the first home.
			h := homes[0]
			d := c.Range / 111_195
			dl := d / math.Cos(h.Lat*math.Pi/180)
			r.Area = orb.Polygon{{{h.Lon - dl, h.Lat - d}, {h.Lon + dl, h.Lat - d}, {h.Lon + dl, h.Lat + d}, {h.Lon - dl, h.Lat + d}, {h.Lon - dl, h.Lat - d}}}
		}
	}
	return r, nil
}

func isKind(k plan.Kind) bool {
	return k == plan.Perimeter || k == plan.Coverage || k == plan.Corridor || k == plan.Transit
}

func parseLatLon(s string) (plan.LatLon, error) {
	a, b, ok := strings.Cut(s, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 || math.IsNaN(lat) || math.IsNaN(lon) {
		return plan.LatLon{}, errors.New("want LAT,LON in degrees")
	}
	return plan.LatLon{Lat: lat, Lon: lon}, nil
}

// gjObject is the part of a GeoJSON object plan reads: a
// FeatureCollection, a Feature or a geometry.
type gjObject struct {
	Type        string          `json:"type"`
	Features    []gjObject      `json:"features"`
	Geometry    *gjObject       `json:"geometry"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// readGeometry reads the first geometry of type G (a Polygon, or the first
// of a MultiPolygon; a LineString, or the first of a MultiLineString) from
// a GeoJSON FeatureCollection, Feature or geometry.
func readGeometry[G orb.Polygon | orb.LineString](path string) (G, error) {
	var zero G
	data, err := os.ReadFile(path)
	if err != nil {
		return zero, err
	}
	if len(data) > 16<<20 {
		return zero, errors.New("file over 16 MiB")
	}
	var root gjObject
	if err := json.Unmarshal(data, &root); err != nil {
		return zero, fmt.Errorf("not GeoJSON: %v", err)
	}
	var geoms []gjObject
	var walk func(o gjObject)
	walk = func(o gjObject) {
		switch o.Type {
		case "FeatureCollection":
			for _, f := range o.Features {
				walk(f)
			}
		case "Feature":
			if o.Geometry != nil {
				walk(*o.Geometry)
			}
		default:
			geoms = append(geoms, o)
		}
	}
	walk(root)
	_, wantPolygon := any(zero).(orb.Polygon)
	for _, g := range geoms {
		switch {
		case wantPolygon && g.Type == "Polygon":
			var c [][][2]float64
			if json.Unmarshal(g.Coordinates, &c) == nil && len(c) > 0 {
				return any(toPolygon(c)).(G), nil
			}
		case wantPolygon && g.Type == "MultiPolygon":
			var c [][][][2]float64
			if json.Unmarshal(g.Coordinates, &c) == nil && len(c) > 0 && len(c[0]) > 0 {
				return any(toPolygon(c[0])).(G), nil
			}
		case !wantPolygon && g.Type == "LineString":
			var c [][2]float64
			if json.Unmarshal(g.Coordinates, &c) == nil && len(c) > 1 {
				return any(toLine(c)).(G), nil
			}
		case !wantPolygon && g.Type == "MultiLineString":
			var c [][][2]float64
			if json.Unmarshal(g.Coordinates, &c) == nil && len(c) > 0 && len(c[0]) > 1 {
				return any(toLine(c[0])).(G), nil
			}
		}
	}
	if wantPolygon {
		return zero, errors.New("no Polygon in the file")
	}
	return zero, errors.New("no LineString in the file")
}

func toLine(c [][2]float64) orb.LineString {
	out := make(orb.LineString, len(c))
	for i, p := range c {
		out[i] = orb.Point(p)
	}
	return out
}

func toPolygon(c [][][2]float64) orb.Polygon {
	out := make(orb.Polygon, len(c))
	for i, r := range c {
		out[i] = orb.Ring(toLine(r))
	}
	return out
}

func runPlan(_ context.Context, args []string, stdout, stderr io.Writer) error {
	c := defaultPlanConfig()
	cl := newCmdLine("plan", args, stderr)
	fs := cl.fs
	fs.StringVar(&c.Kind, "kind", c.Kind, "patrol `kind`: perimeter, coverage, corridor or transit")
	fs.StringVar(&c.Area, "area", c.Area, "GeoJSON `file` with the area polygon (perimeter, coverage; clips a corridor's line)")
	fs.StringVar(&c.Line, "line", c.Line, "GeoJSON `file` with the corridor's line (default: the bundled US–Mexico boundary)")
	fs.Var((*stringList)(&c.Homes), "home", "home of the drones as `LAT,LON`, repeatable: one per drone, the last for the rest")
	fs.StringVar(&c.To, "to", c.To, "transit destination as `LAT,LON`")
	fs.StringVar(&c.Agency, "agency", c.Agency, "agency flying the patrol: us-agency, mx-agency or joint-task-force")
	fs.StringVar(&c.Zones, "zones", c.Zones, "GeoJSON `file` of zones to import over the bundled border dataset")
	fs.Float64Var(&c.Alt, "alt", c.Alt, "patrol altitude above home, metres (default 60)")
	fs.Float64Var(&c.Swath, "swath", c.Swath, "sensor swath width for coverage, metres (default 50)")
	fs.Float64Var(&c.Overlap, "overlap", c.Overlap, "overlap of neighbouring coverage lines, 0–0.9 (default 0.1)")
	fs.Float64Var(&c.Speed, "speed", c.Speed, "patrol speed, m/s (default 10)")
	fs.Float64Var(&c.Transit, "transit-speed", c.Transit, "speed to and from the patrol, m/s (default --speed)")
	fs.Float64Var(&c.Margin, "margin", c.Margin, "safety margin to zone edges and exclusions, metres (default 30)")
	fs.Float64Var(&c.Offset, "offset", c.Offset, "corridor distance from the line, metres (default 150)")
	fs.IntVar(&c.Laps, "laps", c.Laps, "laps of a perimeter, out-and-backs of a corridor (default 1)")
	fs.BoolVar(&c.Clockwise, "cw", c.Clockwise, "fly a perimeter clockwise")
	fs.BoolVar(&c.Back, "end-near-start", c.Back, "end a coverage near where it started")
	fs.StringVar(&c.Side, "side", c.Side, "corridor side of the line, left or right (default: the agency's own side)")
	fs.Float64Var(&c.Sweep, "sweep", c.Sweep, "coverage line direction, degrees clockwise from north (default: fewest turns)")
	fs.IntVar(&c.Drones, "drones", c.Drones, "share the patrol among `N` drones (coverage, corridor)")
	fs.Float64Var(&c.Battery, "battery", c.Battery, "battery charge at start, percent (default 100)")
	fs.DurationVar(&c.Endurance, "endurance", c.Endurance, "flight time of a full battery")
	fs.Float64Var(&c.Reserve, "reserve", c.Reserve, "battery reserve, percent (default 20)")
	fs.BoolVar(&c.Sorties, "sorties", c.Sorties, "split a patrol that does not fit one battery into sorties")
	fs.Float64Var(&c.MaxLeg, "max-leg", c.MaxLeg, "split legs longer than this, metres (0: no limit)")
	fs.Float64Var(&c.Range, "range", c.Range, "corridor without --area or --line: the boundary within this many metres of home")
	fs.StringVar(&c.Format, "format", c.Format, "output: text, geojson or plan (QGroundControl)")
	fs.StringVar(&c.Out, "out", c.Out, "with --format plan and several routes: write `PREFIX`-DRONE-SORTIE.plan files")
	fs.BoolVar(&c.Jump, "jump", c.Jump, "express laps with DO_JUMP in .plan missions")
	cl.usage("--kind KIND --home LAT,LON [flags]", "Plans a patrol offline inside the agency's allowed space (bundled border zones,\n"+
		"plus --zones) and prints the route and its checks. Exit status 1 with the\n"+
		"reason when no valid route exists, 2 for usage errors.\n\n"+
		"Example: centinela plan --kind coverage --area area.geojson --home 32.548,-117.029 --agency us-agency --swath 80")
	if _, err := cl.parse(args, nil, nil); err != nil {
		return err
	}
	req, err := c.request()
	if err != nil {
		fmt.Fprintln(stderr, "centinela plan:", localizeError(err, cl.lang))
		return errUsage
	}
	set, err := geofence.Default(builtinAgencies()...)
	if err != nil {
		return err
	}
	store := geofence.NewStore(set)
	if c.Zones != "" {
		data, err := os.ReadFile(c.Zones)
		if err != nil {
			return fmt.Errorf("--zones: %w", err)
		}
		if err := store.ImportGeoJSON(data, geofence.Limits{}, false); err != nil {
			return fmt.Errorf("--zones %s: %w", c.Zones, err)
		}
	}
	if req.Kind == plan.Corridor && req.Line == nil {
		line, _ := store.Snapshot().Line(geofence.BoundaryLineID)
		req.Line = line.Path
	}
	res, err := fpatrol.Plan(store, req)
	if err != nil {
		if fleet.ErrorCode(err) == fleet.Invalid {
			fmt.Fprintln(stderr, "centinela plan:", fleet.ErrorMessage(err))
			return errUsage
		}
		return errors.New(fleet.ErrorMessage(err))
	}
	switch c.Format {
	case "geojson":
		return writeRoutesGeoJSON(stdout, res)
	case "plan":
		return writeQGCPlans(stdout, cl.lang, c, store.Snapshot(), res)
	}
	writeRoutesText(stdout, cl.lang, res)
	return nil
}

// writeRoutesText prints the plan for people, in lang; the codes (kind,
// side, phase, check names) and the checks' details stay as the planner
// gives them.
func writeRoutesText(w io.Writer, lang i18n.Lang, res *plan.Result) {
	t := func(key string, kv ...string) string { return i18n.T(lang, key, kv...) }
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	fmt.Fprint(w, t("plan.summary", "kind", string(res.Kind), "agency", res.Agency, "routes", strconv.Itoa(len(res.Routes)),
		"km", f(res.DistanceM/1000, 2), "duration", res.Duration.Round(time.Second).String()))
	if res.Side != "" {
		fmt.Fprint(w, t("plan.side", "side", string(res.Side)))
	}
	fmt.Fprintln(w)
	for _, rt := range res.Routes {
		fmt.Fprintf(w, "\n%s\n", t("plan.route", "drone", rt.DroneID, "sortie", strconv.Itoa(rt.Sortie), "waypoints", strconv.Itoa(len(rt.Waypoints)),
			"km", f(rt.DistanceM/1000, 2), "duration", rt.Duration.Round(time.Second).String(), "battery", f(rt.BatteryPct, 0)))
		fmt.Fprintf(w, "  %4s  %10s  %11s  %5s  %5s  %8s  %s\n", "#", t("plan.col.lat"), t("plan.col.lon"), t("plan.col.alt"), t("plan.col.speed"), t("plan.col.eta"), t("plan.col.phase"))
		for i, wp := range rt.Waypoints {
			fmt.Fprintf(w, "  %4d  %10.6f  %11.6f  %5.0f  %5.1f  %8s  %s\n", i, wp.Lat, wp.Lon, wp.AltM, wp.SpeedMPS, wp.ETA.Round(time.Second), wp.Phase)
		}
		if rt.Loop != nil {
			fmt.Fprintf(w, "  %s\n", t("plan.laps", "first", strconv.Itoa(rt.Loop.First), "last", strconv.Itoa(rt.Loop.Last), "laps", strconv.Itoa(rt.Loop.Laps)))
		}
		for _, ch := range rt.Checks {
			fmt.Fprintf(w, "  %s\n", checkLine(lang, ch))
		}
	}
	for _, ch := range res.Checks {
		fmt.Fprintln(w, checkLine(lang, ch))
	}
}

// checkLine is one check of a plan: its name, passed or not, its detail.
func checkLine(lang i18n.Lang, ch plan.Check) string {
	result := i18n.T(lang, "plan.passed")
	if !ch.Passed {
		result = i18n.T(lang, "plan.failed")
	}
	return i18n.T(lang, "plan.check", "name", fmt.Sprintf("%-14s", ch.Name), "result", result, "detail", i18n.PlanCheck(lang, ch.Name, ch.Params, ch.Detail))
}

func writeRoutesGeoJSON(w io.Writer, res *plan.Result) error {
	type feature struct {
		Type       string         `json:"type"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection"}
	for _, rt := range res.Routes {
		coords := [][3]float64{{rt.Home.Lon, rt.Home.Lat, 0}}
		for _, wp := range rt.Waypoints {
			coords = append(coords, [3]float64{wp.Lon, wp.Lat, wp.AltM})
		}
		var checks []string
		for _, ch := range rt.Checks {
			checks = append(checks, ch.Name+": "+ch.Detail)
		}
		fc.Features = append(fc.Features, feature{Type: "Feature",
			Geometry: map[string]any{"type": "LineString", "coordinates": coords},
			Properties: map[string]any{"kind": string(res.Kind), "agency": res.Agency, "drone": rt.DroneID, "sortie": rt.Sortie,
				"distance_m": math.Round(rt.DistanceM), "duration_s": math.Round(rt.Duration.Seconds()),
				"battery_pct": math.Round(rt.BatteryPct*10) / 10, "checks": checks}})
	}
	data, err := json.MarshalIndent(fc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

func writeQGCPlans(w io.Writer, lang i18n.Lang, c planConfig, set *geofence.Set, res *plan.Result) error {
	if len(res.Routes) > 1 && c.Out == "" {
		writeRoutesText(w, lang, res)
		return fmt.Errorf("%d routes: give --out PREFIX to write one .plan file each", len(res.Routes))
	}
	for _, rt := range res.Routes {
		items := fpatrol.Mission(rt, fpatrol.Options{Jump: c.Jump})
		home := geofence.Pos(rt.Home.Lat, rt.Home.Lon, 0)
		fences, err := set.Fences(res.Agency, home, math.Max(2000, rt.DistanceM/2), time.Now(), geofence.FenceLimits{})
		if err != nil {
			return err
		}
		p := qgcplan.FromMission(items, rt.Waypoints[0].SpeedMPS, fences.Shapes, nil)
		data, err := qgcplan.Encode(p)
		if err != nil {
			return err
		}
		if c.Out == "" {
			_, err = w.Write(data)
			return err
		}
		name := fmt.Sprintf("%s-%s-%d.plan", c.Out, rt.DroneID, rt.Sortie)
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, i18n.T(lang, "plan.wrote", "file", name, "items", strconv.Itoa(len(items)), "fences", strconv.Itoa(len(fences.Shapes))))
	}
	return nil
}
