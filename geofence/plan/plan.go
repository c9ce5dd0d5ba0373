package plan

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// LatLon is a WGS84 point in degrees, latitude first.
type LatLon = geofence.LatLon

// Kind is a patrol pattern.
type Kind string

// Patrol kinds.
const (
	// Perimeter flies the boundary of Area inset by the margin, Laps times.
	Perimeter Kind = "perimeter"
	// Coverage sweeps Area (with its holes) in a lawnmower pattern whose
	// lines are SwathM×(1−Overlap) apart.
	Coverage Kind = "coverage"
	// Corridor flies along Line at OffsetM on the drone's own side, out and
	// back Laps times.
	Corridor Kind = "corridor"
	// Transit flies the shortest safe path to To and back.
	Transit Kind = "transit"
	// Waypoints validates (and with Repair, repairs) the operator's
	// Waypoints.
	Waypoints Kind = "waypoints"
)

// Kinds lists every kind.
var Kinds = []Kind{Perimeter, Coverage, Corridor, Transit, Waypoints}

// Side is a side of a corridor's line, looking along it.
type Side string

// Sides. The zero Side chooses: the side inside the agency's allowed
// space, and when both are, the side of the drone's home.
const (
	SideAuto  Side = ""
	SideLeft  Side = "left"
	SideRight Side = "right"
)

// Drone is one drone a patrol is planned for.
type Drone struct {
	// ID identifies the drone (a fleet id).
	ID string
	// Home is where it takes off and lands.
	Home LatLon
	// HomeAMSL is the home altitude above mean sea level, used for zones
	// whose band is AMSL (optional; NaN or zero with HasHomeAMSL false
	// means unknown: such inclusion zones are not used, such exclusions
	// always apply).
	HomeAMSL    float64
	HasHomeAMSL bool
	// Position is where the drone is, when airborne away from home
	// (optional): the route starts there at the patrol altitude.
	Position *LatLon
	// BatteryPct is the charge left, 0–100 (optional, default 100): from
	// live telemetry, or full for planning ahead.
	BatteryPct float64
	// Endurance is the flight time of a full battery (optional, default
	// Request.Endurance).
	Endurance time.Duration
}

// Request is a patrol to plan. Zero fields take the defaults documented.
type Request struct {
	// Kind is the pattern (required).
	Kind Kind
	// Agency is the agency flying the drones (required): its allowed space
	// bounds every leg.
	Agency string
	// Drones are the drones to share the patrol among (at least one; more
	// than one only for Coverage and Corridor).
	Drones []Drone

	// Area is the polygon of Perimeter and Coverage ([lon, lat], with
	// holes), and optionally clips Corridor's Line.
	Area orb.Polygon
	// Line is Corridor's polyline ([lon, lat]).
	Line orb.LineString
	// Waypoints are the operator's waypoints (kind Waypoints), flown in
	// order at their altitude (AltM when zero).
	Waypoints []geofence.Position
	// To is Transit's destination.
	To LatLon

	// AltM is the patrol altitude above home (default 60 m).
	AltM float64
	// SpeedMPS is the patrol speed (default 10 m/s); TransitSpeedMPS that
	// of the transits to and from the pattern (default SpeedMPS).
	SpeedMPS, TransitSpeedMPS float64
	// ClimbMPS and DescentMPS are the vertical speeds for take-off and
	// landing (defaults 2.5 and 1.5 m/s, ArduCopter's WPNAV_SPEED_UP/DN).
	ClimbMPS, DescentMPS float64
	// SwathM is the sensor's swath width (Coverage, default 50 m); Overlap
	// the fraction of it neighbouring lines share (0–0.9, default 0.1).
	SwathM, Overlap float64
	// SweepDeg is the direction of Coverage's lines in degrees clockwise
	// from north; nil chooses the one that needs the fewest turns.
	SweepDeg *float64
	// ReturnNearStart makes Coverage end near where it started (every
	// other line out, the rest back).
	ReturnNearStart bool
	// MarginM is the horizontal safety margin to the edges of the allowed
	// space, exclusion zones and the area (default 30 m, at least 1 m).
	MarginM float64
	// OffsetM is Corridor's distance from its line (default 150 m).
	OffsetM float64
	// Side is Corridor's side of the line (default: the drone's own side).
	Side Side
	// Laps is how many times Perimeter goes round and Corridor goes out
	// and back (default 1).
	Laps int
	// Clockwise flies Perimeter clockwise (default counter-clockwise).
	Clockwise bool
	// Repair replaces the operator's legs that leave the allowed space by
	// detours (kind Waypoints); without it they are reported as an error.
	Repair bool

	// Endurance is a full battery's flight time (default 25 min) and
	// ReservePct the share of it kept in reserve (default 20).
	Endurance  time.Duration
	ReservePct float64
	// Sorties splits a patrol that does not fit one battery into sorties
	// that return home between them (on a fresh battery each); without it
	// such a patrol is refused (CodeEndurance).
	Sorties bool

	// MaxLegM splits legs longer than this (optional, 0 = no limit).
	MaxLegM float64
	// MaxTurnDeg refuses a route with a heading change above this at a
	// waypoint (optional, 0 = no limit).
	MaxTurnDeg float64

	// Start is the planned start (default now): zones are taken active at
	// Start, exclusions also if they become active within Window (default
	// 4 h) after it.
	Start  time.Time
	Window time.Duration
}

// Phase says which part of a route a waypoint belongs to.
type Phase string

// Phases.
const (
	PhaseTransit Phase = "transit" // from the start to the pattern
	PhasePatrol  Phase = "patrol"  // the pattern
	PhaseReturn  Phase = "return"  // from the pattern home
)

// Waypoint is one point of a route.
type Waypoint struct {
	LatLon
	// AltM is above home.
	AltM float64
	// SpeedMPS is the speed on the leg to this waypoint.
	SpeedMPS float64
	// ETA is the time from the route's start to arrival here.
	ETA time.Duration
	// Phase is the part of the route.
	Phase Phase
}

// Loop says that Waypoints[First..Last] is one lap, flown Laps times in
// a row (the list holds every lap unrolled); a mission may express the
// repeats with DO_JUMP.
type Loop struct {
	First, Last, Laps int
}

// Check is one constraint checked on a route and its result.
type Check struct {
	// Name is the check's stable code: "allowed space", "margin", "leg
	// length", "turn angle", "endurance", "balance".
	Name   string
	Passed bool
	// Detail says the result in English.
	Detail string
	// Params are Detail's values, language-neutral (numbers as Detail shows
	// them), for readers that say it in their own language (fleet/i18n):
	// legs, agency, alt_m (allowed space); margin_m (margin); longest_m,
	// limit_m (leg length); sharpest_deg, limit_deg (turn angle); flight,
	// battery_pct, endurance, usable_pct, charge_pct, reserve_pct
	// (endurance); from, to, drones, apart_pct (balance).
	Params map[string]string
}

// CheckNames lists every Check.Name.
var CheckNames = []string{"allowed space", "margin", "leg length", "turn angle", "endurance", "balance"}

// Route is what one drone flies in one sortie: from its start (home, or
// its airborne position) through the waypoints, back home.
type Route struct {
	DroneID string
	// Sortie numbers the sorties of one drone from 1.
	Sortie int
	// Home is the take-off and landing point; Airborne says that the route
	// starts in the air at Waypoints[0] (no take-off).
	Home     LatLon
	Airborne bool
	// Waypoints are in flight order, the last one above home.
	Waypoints []Waypoint
	// Loop is set when laps repeat (nil otherwise).
	Loop *Loop
	// DistanceM, Duration and BatteryPct are the route's length, flight
	// time (take-off and landing included) and share of a full battery.
	DistanceM  float64
	Duration   time.Duration
	BatteryPct float64
	// Checks are the constraints checked, all passed.
	Checks []Check
}

// Issue is one problem found in an operator's route (kind Waypoints).
type Issue struct {
	// Leg is the leg index (from waypoint Leg to Leg+1).
	Leg int
	// ZoneID is the zone concerned ("" when none).
	ZoneID string
	// At is where the leg leaves the allowed space.
	At LatLon
	// Message describes it.
	Message string
	// Repaired is true when a detour replaced the leg.
	Repaired bool
}

// Result is a planned patrol.
type Result struct {
	Kind   Kind
	Agency string
	// Routes has one route per drone and sortie.
	Routes []Route
	// DistanceM is the sum of the routes' lengths; Duration the longest
	// drone's flight time (its sorties added).
	DistanceM float64
	Duration  time.Duration
	// Side is the side Corridor flew on.
	Side Side
	// Issues lists the operator's legs that violated a zone (Waypoints).
	Issues []Issue
	// Checks are the constraints checked on the plan as a whole.
	Checks []Check
}

const (
	defaultAlt       = 60.0
	defaultSpeed     = 10.0
	defaultClimb     = 2.5
	defaultDescent   = 1.5
	defaultSwath     = 50.0
	defaultOverlap   = 0.1
	defaultMargin    = 30.0
	defaultOffset    = 150.0
	defaultEndurance = 25 * time.Minute
	defaultReserve   = 20.0
	defaultWindow    = 4 * time.Hour
	// MaxDrones bounds Request.Drones.
	MaxDrones = 64
	// MaxVertices bounds the vertices of Area, Line and Waypoints.
	MaxVertices = 20_000
)

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func validLL(l LatLon) bool {
	return finite(l.Lat) && finite(l.Lon) && math.Abs(l.Lat) <= 90 && math.Abs(l.Lon) <= 180
}

// normalise fills defaults and validates r.
func (r *Request) normalise(now time.Time) error {
	switch r.Kind {
	case Perimeter, Coverage, Corridor, Transit, Waypoints:
	default:
		return errorf(CodeInvalid, "unknown patrol kind %q (want perimeter, coverage, corridor, transit or waypoints)", r.Kind)
	}
	if r.Agency == "" {
		return errorf(CodeInvalid, "no agency")
	}
	if len(r.Drones) == 0 {
		return errorf(CodeInvalid, "no drone")
	}
	if len(r.Drones) > MaxDrones {
		return errorf(CodeInvalid, "%d drones: at most %d", len(r.Drones), MaxDrones)
	}
	if len(r.Drones) > 1 && r.Kind != Coverage && r.Kind != Corridor {
		return errorf(CodeInvalid, "a %s patrol is flown by one drone; only coverage and corridor patrols are shared", r.Kind)
	}
	def := func(p *float64, d float64) {
		if *p == 0 {
			*p = d
		}
	}
	def(&r.AltM, defaultAlt)
	def(&r.SpeedMPS, defaultSpeed)
	def(&r.TransitSpeedMPS, r.SpeedMPS)
	def(&r.ClimbMPS, defaultClimb)
	def(&r.DescentMPS, defaultDescent)
	def(&r.SwathM, defaultSwath)
	def(&r.MarginM, defaultMargin)
	def(&r.OffsetM, defaultOffset)
	def(&r.ReservePct, defaultReserve)
	if r.Overlap == 0 {
		r.Overlap = defaultOverlap
	}
	if r.Laps == 0 {
		r.Laps = 1
	}
	if r.Endurance == 0 {
		r.Endurance = defaultEndurance
	}
	if r.Window == 0 {
		r.Window = defaultWindow
	}
	if r.Start.IsZero() {
		r.Start = now
	}
	for _, c := range []struct {
		name     string
		v        float64
		min, max float64
	}{
		{"altitude", r.AltM, 1, geofence.MaxAbsAltitudeM},
		{"speed", r.SpeedMPS, 0.5, 100},
		{"transit speed", r.TransitSpeedMPS, 0.5, 100},
		{"climb rate", r.ClimbMPS, 0.1, 50},
		{"descent rate", r.DescentMPS, 0.1, 50},
		{"swath", r.SwathM, 1, 10_000},
		{"overlap", r.Overlap, 0, 0.9},
		{"margin", r.MarginM, 1, 10_000},
		{"offset", r.OffsetM, 1, 100_000},
		{"reserve", r.ReservePct, 0, 90},
		{"maximum leg", r.MaxLegM, 0, 1e7},
		{"maximum turn", r.MaxTurnDeg, 0, 180},
	} {
		if !finite(c.v) || c.v < c.min || c.v > c.max {
			return errorf(CodeInvalid, "%s %v out of range [%v, %v]", c.name, c.v, c.min, c.max)
		}
	}
	if r.MaxLegM > 0 && r.MaxLegM < 1 {
		return errorf(CodeInvalid, "maximum leg %v m: at least 1 m", r.MaxLegM)
	}
	if r.Laps < 1 || r.Laps > 1000 {
		return errorf(CodeInvalid, "laps %d out of range [1, 1000]", r.Laps)
	}
	if r.Endurance < time.Minute || r.Endurance > 48*time.Hour {
		return errorf(CodeInvalid, "endurance %v out of range [1m, 48h]", r.Endurance)
	}
	if r.Side != SideAuto && r.Side != SideLeft && r.Side != SideRight {
		return errorf(CodeInvalid, "unknown side %q (want left or right)", r.Side)
	}
	if r.SweepDeg != nil && !finite(*r.SweepDeg) {
		return errorf(CodeInvalid, "sweep direction is not a number")
	}
	seen := map[string]bool{}
	for i := range r.Drones {
		d := &r.Drones[i]
		if d.ID == "" {
			d.ID = fmt.Sprintf("drone-%d", i+1)
		}
		if seen[d.ID] {
			return errorf(CodeInvalid, "drone %q listed twice", d.ID)
		}
		seen[d.ID] = true
		if !validLL(d.Home) {
			return errorf(CodeInvalid, "drone %q: home %v,%v is not a WGS84 point", d.ID, d.Home.Lat, d.Home.Lon)
		}
		if d.Position != nil && !validLL(*d.Position) {
			return errorf(CodeInvalid, "drone %q: position is not a WGS84 point", d.ID)
		}
		if d.BatteryPct == 0 {
			d.BatteryPct = 100
		}
		if !finite(d.BatteryPct) || d.BatteryPct < 0 || d.BatteryPct > 100 {
			return errorf(CodeInvalid, "drone %q: battery %v %% out of range [0, 100]", d.ID, d.BatteryPct)
		}
		if d.Endurance == 0 {
			d.Endurance = r.Endurance
		}
		if !d.HasHomeAMSL {
			d.HomeAMSL = math.NaN()
		}
	}
	checkRing := func(what string, pts []orb.Point) error {
		if len(pts) > MaxVertices {
			return errorf(CodeInvalid, "%s has %d vertices: at most %d", what, len(pts), MaxVertices)
		}
		for i, p := range pts {
			if !validLL(LatLon{Lat: p[1], Lon: p[0]}) {
				return errorf(CodeInvalid, "%s: vertex %d is not a WGS84 point", what, i)
			}
		}
		return nil
	}
	switch r.Kind {
	case Perimeter, Coverage:
		if len(r.Area) == 0 || len(r.Area[0]) < 3 {
			return errorf(CodeInvalid, "a %s patrol needs an area polygon", r.Kind)
		}
	case Corridor:
		if len(r.Line) < 2 {
			return errorf(CodeInvalid, "a corridor patrol needs a line of at least two points")
		}
	case Transit:
		if !validLL(r.To) || (r.To == LatLon{}) {
			return errorf(CodeInvalid, "a transit needs a destination")
		}
	case Waypoints:
		if len(r.Waypoints) == 0 {
			return errorf(CodeInvalid, "no waypoints")
		}
		if len(r.Waypoints) > MaxVertices {
			return errorf(CodeInvalid, "%d waypoints: at most %d", len(r.Waypoints), MaxVertices)
		}
		for i, w := range r.Waypoints {
			if !validLL(LatLon{Lat: w.Lat, Lon: w.Lon}) || !finite(w.RelAlt) {
				return errorf(CodeInvalid, "waypoint %d is not a valid position", i)
			}
		}
	}
	n := 0
	for i, ring := range r.Area {
		n += len(ring)
		if err := checkRing(fmt.Sprintf("area ring %d", i), ring); err != nil {
			return err
		}
		if len(ring) < 3 {
			return errorf(CodeInvalid, "area ring %d has fewer than 3 points", i)
		}
	}
	if n > MaxVertices {
		return errorf(CodeInvalid, "area has %d vertices: at most %d", n, MaxVertices)
	}
	return checkRing("line", r.Line)
}

// region returns the lon/lat bound the plan may use.
func (r *Request) region() orb.Bound {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	ext := func(p orb.Point) { b = b.Extend(p) }
	for _, ring := range r.Area {
		for _, p := range ring {
			ext(p)
		}
	}
	for _, p := range r.Line {
		ext(p)
	}
	for _, w := range r.Waypoints {
		ext(orb.Point{w.Lon, w.Lat})
	}
	if r.Kind == Transit {
		ext(orb.Point{r.To.Lon, r.To.Lat})
	}
	for _, d := range r.Drones {
		ext(orb.Point{d.Home.Lon, d.Home.Lat})
		if d.Position != nil {
			ext(orb.Point{d.Position.Lon, d.Position.Lat})
		}
	}
	// Room to go around obstacles: 5 km or a third of the extent.
	pr := newProj(b.Center())
	diag := pr.fwd(b.Min).dist(pr.fwd(b.Max))
	pad := math.Max(5000, diag/3)
	dlat := pad / degToM
	dlon := pad / (degToM * math.Max(0.01, math.Cos(b.Center()[1]*math.Pi/180)))
	return orb.Bound{Min: orb.Point{b.Min[0] - dlon, b.Min[1] - dlat}, Max: orb.Point{b.Max[0] + dlon, b.Max[1] + dlat}}
}

// Plan plans the patrol r inside the allowed space of r.Agency in set. It is
// a pure function of its arguments (now is used when r.Start is zero) and
// safe for concurrent use. Returns CodeInvalid for a bad request,
// CodeNotFound for an unknown agency, CodeNoRoute when no valid route exists
// (saying why and where), CodeEndurance when the route does not fit the
// battery (with the numbers).
func Plan(set *geofence.Set, r Request, now time.Time) (*Result, error) {
	if set == nil {
		return nil, errorf(CodeInvalid, "no zone set")
	}
	if err := r.normalise(now); err != nil {
		return nil, err
	}
	ag, ok := set.Agency(r.Agency)
	if !ok {
		return nil, errorf(CodeNotFound, "unknown agency %q", r.Agency)
	}
	if r.Kind == Corridor {
		if err := r.clipLine(); err != nil {
			return nil, err
		}
	}
	p := &planner{req: r, set: set}
	p.sp = newSpace(spaceConfig{set: set, agency: ag, alt: r.AltM, homeAMSL: r.Drones[0].HomeAMSL,
		at: r.Start, window: r.Window, margin: r.MarginM, region: r.region()})
	// The operator's area is a constraint of the patterns flown in it,
	// not of the transits to it.
	if len(r.Area) > 0 && (r.Kind == Perimeter || r.Kind == Coverage) {
		p.ap = newSpace(spaceConfig{set: set, agency: ag, alt: r.AltM, homeAMSL: r.Drones[0].HomeAMSL,
			at: r.Start, window: r.Window, margin: r.MarginM, region: r.region(), area: r.Area})
	} else {
		p.ap = p.sp
	}
	return p.run()
}

// planner holds one planning run.
type planner struct {
	req Request
	set *geofence.Set
	sp  *space // allowed space
	ap  *space // allowed space within the area
	res Result
}

// vert converts a plane point to a geofence position at the plan altitude.
func (p *planner) geoPos(v vec, alt float64) geofence.Position {
	ll := p.sp.pr.toLL(v)
	return geofence.Pos(ll.Lat, ll.Lon, alt)
}

// explain says why a point is not usable.
func (p *planner) explain(sp *space, v vec, what string) *Error {
	ll := sp.pr.toLL(v)
	pos := geofence.Pos(ll.Lat, ll.Lon, p.req.AltM)
	if ok, viol, err := p.set.Allowed(p.req.Agency, pos, p.req.Start); err == nil && !ok && viol != nil {
		return errorf(CodeNoRoute, "%s %.5f,%.5f at %.0f m is not in agency %q's allowed space: %s", what, ll.Lat, ll.Lon, p.req.AltM, p.req.Agency, describe(viol))
	}
	if id := sp.blocker(v); id != "" && id != "outside" {
		if id == "area" {
			return errorf(CodeNoRoute, "%s %.5f,%.5f is outside the area (or within the %.0f m margin of its edge)", what, ll.Lat, ll.Lon, p.req.MarginM)
		}
		return errorf(CodeNoRoute, "%s %.5f,%.5f is within the %.0f m safety margin of zone %q", what, ll.Lat, ll.Lon, p.req.MarginM, id)
	}
	return errorf(CodeNoRoute, "%s %.5f,%.5f is not in agency %q's allowed space at %.0f m", what, ll.Lat, ll.Lon, p.req.Agency, p.req.AltM)
}

func describe(v *geofence.Violation) string {
	s := string(v.Reason)
	if v.ZoneID != "" {
		s += fmt.Sprintf(" (zone %q", v.ZoneID)
		if v.ZoneName != "" {
			s += " " + fmt.Sprintf("%q", v.ZoneName)
		}
		s += ")"
	}
	return s
}

func (p *planner) run() (*Result, error) {
	r := &p.req
	p.res = Result{Kind: r.Kind, Agency: r.Agency}
	var (
		lap     []vec // one lap of the pattern
		closed  bool  // the lap ends where it starts (perimeter)
		outBack bool  // the lap is flown out and back (corridor)
		err     error
	)
	start := p.startOf(r.Drones[0])
	switch r.Kind {
	case Perimeter:
		lap, err = p.perimeter(start)
		closed = true
	case Coverage:
		lap, err = p.coverage(start)
	case Corridor:
		lap, err = p.corridor(start)
		outBack = true
	case Transit:
		to := p.sp.pr.ll(r.To)
		if !p.sp.free(to) {
			return nil, p.explain(p.sp, to, "destination")
		}
		lap = []vec{to}
	case Waypoints:
		lap, err = p.waypoints(start)
	}
	if err != nil {
		return nil, err
	}
	if len(lap) == 0 {
		msg := fmt.Sprintf("the %s pattern is empty: no part of it lies in agency %q's allowed space", r.Kind, r.Agency)
		if len(r.Area) > 0 {
			c := p.sp.pr.fwd(r.Area.Bound().Center())
			msg += "; at the area's centre: " + p.explain(p.sp, c, "point").Message
		}
		return nil, errorf(CodeNoRoute, "%s", msg)
	}
	pieces := [][]vec{lap}
	var assign []int
	if len(r.Drones) > 1 {
		pieces, assign, err = p.share(lap, outBack)
		if err != nil {
			return nil, err
		}
	} else {
		assign = []int{0}
	}
	for j, piece := range pieces {
		d := r.Drones[assign[j]]
		lapPath := piece
		if outBack {
			lapPath = append(append([]vec(nil), piece...), reversed(piece)[1:]...)
		}
		routes, err := p.routes(d, lapPath, closed || outBack)
		if err != nil {
			return nil, err
		}
		p.res.Routes = append(p.res.Routes, routes...)
	}
	per := map[string]time.Duration{}
	for _, rt := range p.res.Routes {
		p.res.DistanceM += rt.DistanceM
		per[rt.DroneID] += rt.Duration
	}
	var lo, hi time.Duration = math.MaxInt64, 0
	for _, d := range per {
		lo, hi = min(lo, d), max(hi, d)
	}
	p.res.Duration = hi
	if len(r.Drones) > 1 {
		spread := float64(hi-lo) / float64(hi)
		p.res.Checks = append(p.res.Checks, Check{Name: "balance", Passed: spread <= 0.10,
			Detail: fmt.Sprintf("flight times %v to %v across %d drones (%.1f %% apart, limit 10 %%)", lo.Round(time.Second), hi.Round(time.Second), len(per), 100*spread),
			Params: map[string]string{"from": lo.Round(time.Second).String(), "to": hi.Round(time.Second).String(), "drones": strconv.Itoa(len(per)), "apart_pct": f1(100 * spread)}})
	}
	return &p.res, nil
}

// startOf returns where drone d's route starts in the plane.
func (p *planner) startOf(d Drone) vec {
	if d.Position != nil {
		return p.sp.pr.ll(*d.Position)
	}
	return p.sp.pr.ll(d.Home)
}

// clipLine clips a corridor's line to its area (the longest stretch
// inside), so that the plan's projection is local.
func (r *Request) clipLine() error {
	if len(r.Area) > 0 {
		pr := newProj(r.Area.Bound().Center())
		line := make([]vec, len(r.Line))
		for i, q := range r.Line {
			line[i] = pr.fwd(q)
		}
		line = clipToArea(line, pr.ring(r.Area[0]))
		if len(line) < 2 {
			return errorf(CodeNoRoute, "the corridor's line does not cross the area")
		}
		r.Line = make(orb.LineString, len(line))
		for i, v := range line {
			r.Line[i] = pr.inv(v)
		}
	}
	pr := newProj(r.Line.Bound().Center())
	if d := pr.fwd(r.Line.Bound().Min).dist(pr.fwd(r.Line.Bound().Max)); d > 300_000 {
		return errorf(CodeInvalid, "the corridor's line spans %.0f km: give an area to clip it to (at most 300 km)", d/1000)
	}
	return nil
}
