package geofence

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

var (
	agencyUS    = Agency{ID: "cbp", Name: "US agency", Jurisdictions: []Jurisdiction{US}}
	agencyMX    = Agency{ID: "gn", Name: "Mexican agency", Jurisdictions: []Jurisdiction{MX}}
	agencyJoint = Agency{ID: "jtf", Name: "Joint task force", Jurisdictions: []Jurisdiction{Joint}}
	agencyAll   = Agency{ID: "all", Name: "Everything", Jurisdictions: []Jurisdiction{US, MX, Joint}}
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// MustDefault returns the bundled dataset with the test agencies.
func MustDefault(tb testing.TB) *Set {
	tb.Helper()
	s, err := Default(agencyUS, agencyMX, agencyJoint, agencyAll)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Points in the San Diego–Tijuana corridor, clear of the airports.
var (
	sdNorth = Pos(32.560, -117.060, 50) // Otay Mesa West / San Ysidro, US
	sdSouth = Pos(32.515, -117.060, 50) // Tijuana, MX
)

func TestUSAgencySouthOfBoundaryIsRefused(t *testing.T) {
	s := MustDefault(t)
	ok, v, err := s.Allowed("cbp", sdSouth, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ok || v == nil {
		t.Fatalf("US agency south of the line: allowed=%v, want refused", ok)
	}
	if v.Reason != ReasonUnauthorised || v.ZoneID != "mx-sandiego-tijuana" || v.Jurisdiction != MX {
		t.Fatalf("violation = %+v, want unauthorised in mx-sandiego-tijuana", v)
	}
	if !strings.Contains(v.String(), `"mx-sandiego-tijuana"`) {
		t.Errorf("message %q does not name the zone", v.String())
	}
	// North of the line the US agency may fly.
	if ok, v, _ := s.Allowed("cbp", sdNorth, t0); !ok {
		t.Fatalf("US agency north of the line refused: %v", v)
	}
}

func TestJointAgencyMayCross(t *testing.T) {
	s := MustDefault(t)
	for _, p := range []Position{sdSouth, sdNorth} {
		if ok, v, err := s.Allowed("jtf", p, t0); err != nil || !ok {
			t.Fatalf("joint agency at %v: allowed=%v violation=%v err=%v", p, ok, v, err)
		}
	}
	// and a route across the line
	if v, err := s.CheckRoute("jtf", []Position{sdNorth, sdSouth}, t0); err != nil || v != nil {
		t.Fatalf("joint route across the line: %v %v", v, err)
	}
	// the US agency's route is refused where it crosses the boundary
	v, err := s.CheckRoute("cbp", []Position{sdNorth, sdSouth}, t0)
	if err != nil || v == nil {
		t.Fatalf("US route across the line: %v %v, want a violation", v, err)
	}
	if v.ZoneID != "mx-sandiego-tijuana" || v.Leg != 0 {
		t.Fatalf("violation %+v", v)
	}
	line, _ := s.Line(BoundaryLineID)
	if d := distToLine(line.Path, v.At.orb()); d > 5 {
		t.Errorf("violation at %v is %.1f m from the boundary, want on it", v.At, d)
	}
	// MX agency: the mirror image
	if ok, _, _ := s.Allowed("gn", sdSouth, t0); !ok {
		t.Error("MX agency refused south of the line")
	}
	if ok, v, _ := s.Allowed("gn", sdNorth, t0); ok || v.ZoneID != "us-sandiego-tijuana" {
		t.Errorf("MX agency north of the line: ok=%v v=%v", ok, v)
	}
}

func TestUnknownAgency(t *testing.T) {
	s := MustDefault(t)
	_, _, err := s.Allowed("nobody", sdNorth, t0)
	if !errors.Is(err, ErrUnknownAgency) {
		t.Fatalf("err = %v, want ErrUnknownAgency", err)
	}
}

func TestPointOutsideEveryZone(t *testing.T) {
	s := MustDefault(t)
	ok, v, _ := s.Allowed("all", Pos(35, -110, 10), t0)
	if ok || v.Reason != ReasonOutside || v.ZoneID != "" {
		t.Fatalf("ok=%v v=%+v, want outside with no zone", ok, v)
	}
}

func TestRouteThroughAirportIsRejected(t *testing.T) {
	s := MustDefault(t)
	// East–west across Tijuana airport (MMTJ 32.541043,-116.969976), south of the line.
	a := Pos(32.525, -117.040, 60)
	b := Pos(32.525, -116.915, 60)
	mid := Pos(32.500, -117.060, 60)
	route := []Position{mid, a, b}
	v, err := s.CheckRoute("gn", route, t0)
	if err != nil || v == nil {
		t.Fatalf("route across TIJ: %v %v, want violation", v, err)
	}
	if v.Reason != ReasonExclusion || v.ZoneID != "apt-mmtj" || v.Leg != 1 {
		t.Fatalf("violation %+v, want exclusion apt-mmtj on leg 1", v)
	}
	// The violation starts on the circle: 5 km from the airport.
	d := newProj(orb.Point{-116.969976, 32.541043}).fwd(v.At.orb()).norm()
	if math.Abs(d-5000) > 5 {
		t.Errorf("violation at %.1f m from the airport, want 5000", d)
	}
	if v.Fraction <= 0 || v.Fraction >= 1 {
		t.Errorf("fraction %v", v.Fraction)
	}
	if !strings.Contains(v.String(), "apt-mmtj") {
		t.Errorf("message %q", v.String())
	}
}

func TestAltitudeBand(t *testing.T) {
	s := MustDefault(t)
	high := sdNorth
	high.RelAlt = 150
	ok, v, _ := s.Allowed("cbp", high, t0)
	if ok || v.Reason != ReasonAboveCeiling || v.ZoneID != "us-sandiego-tijuana" {
		t.Fatalf("150 m: ok=%v v=%+v, want above ceiling", ok, v)
	}
	low := sdNorth
	low.RelAlt = -5
	if ok, v, _ := s.Allowed("cbp", low, t0); ok || v.Reason != ReasonBelowFloor {
		t.Fatalf("-5 m: ok=%v v=%+v, want below floor", ok, v)
	}
	// A climb through the ceiling is located where it crosses 120 m.
	a, b := sdNorth, sdNorth
	a.RelAlt, b.RelAlt = 100, 140
	b.Lon += 0.01
	v, _ = s.CheckSegment("cbp", a, b, t0)
	if v == nil || v.Reason != ReasonAboveCeiling {
		t.Fatalf("climb: %+v", v)
	}
	if math.Abs(v.Fraction-0.5) > 1e-9 || math.Abs(v.At.RelAlt-120) > 1e-6 {
		t.Errorf("climb violation at fraction %v alt %v, want 0.5, 120", v.Fraction, v.At.RelAlt)
	}
}

func TestAMSLBand(t *testing.T) {
	sq := square("amsl", Inclusion, US, 32.0, -111.0, 0.1)
	sq.AltRef, sq.FloorM, sq.CeilingM = AltAMSL, 1000, 1200
	s, err := NewSet([]Zone{sq}, []Agency{agencyUS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := Pos(32.05, -110.95, 50)
	if ok, v, _ := s.Allowed("cbp", p, t0); ok || v.Reason != ReasonAltitudeUnknown {
		t.Fatalf("unknown AMSL: ok=%v v=%v", ok, v)
	}
	p.AltMSL = 1100
	if ok, v, _ := s.Allowed("cbp", p, t0); !ok {
		t.Fatalf("1100 m AMSL refused: %v", v)
	}
	p.AltMSL = 1300
	if ok, v, _ := s.Allowed("cbp", p, t0); ok || v.Reason != ReasonAboveCeiling {
		t.Fatalf("1300 m AMSL: ok=%v v=%v", ok, v)
	}
}

func TestValidityWindow(t *testing.T) {
	base := MustDefault(t)
	tfr := Zone{ID: "tfr-1", Name: "Temporary restriction", Kind: Exclusion, Jurisdiction: US,
		Center: sdNorth.orb(), RadiusM: 500, CeilingM: 1000,
		ValidFrom: t0, ValidUntil: t0.Add(2 * time.Hour), Reason: "stadium event"}
	s, err := base.With(tfr)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"before", t0.Add(-time.Second), true},
		{"at start", t0, false},
		{"during", t0.Add(time.Hour), false},
		{"at end", t0.Add(2 * time.Hour), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, v, _ := s.Allowed("cbp", sdNorth, c.at)
			if ok != c.want {
				t.Fatalf("allowed=%v (%v), want %v", ok, v, c.want)
			}
			if !ok && v.ZoneID != "tfr-1" {
				t.Fatalf("violation names %q", v.ZoneID)
			}
		})
	}
	// The Store applies its injected clock.
	now := t0.Add(-time.Hour)
	st := NewStore(s)
	st.Now = func() time.Time { return now }
	if ok, _, _ := st.Snapshot().Allowed("cbp", sdNorth, st.Time()); !ok {
		t.Fatal("before the window: refused")
	}
	now = t0.Add(time.Minute)
	if ok, _, _ := st.Snapshot().Allowed("cbp", sdNorth, st.Time()); ok {
		t.Fatal("in the window: allowed")
	}
}

func TestCheckPointZonesAndDistance(t *testing.T) {
	s := MustDefault(t)
	res, err := s.CheckPoint("cbp", sdNorth, t0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, z := range res.Zones {
		ids = append(ids, z.ID)
	}
	if got := strings.Join(ids, ","); got != "joint-sandiego-tijuana,us-sandiego-tijuana" {
		t.Fatalf("zones = %s", got)
	}
	line, _ := s.Line(BoundaryLineID)
	want := distToLine(line.Path, sdNorth.orb())
	// The nearest boundary of the US agency's space here is the border.
	if !res.Allowed || math.Abs(res.BoundaryM-want) > 2 {
		t.Fatalf("allowed=%v boundary=%.1f m, want %.1f (distance to the line)", res.Allowed, res.BoundaryM, want)
	}
	// For the joint agency the border is not a boundary: the corridor edge is.
	// Here that is Tijuana airport's circle.
	rj, _ := s.CheckPoint("jtf", sdNorth, t0)
	wantJ := newProj(orb.Point{-116.969976, 32.541043}).fwd(sdNorth.orb()).norm() - 5000
	if rj.BoundaryZoneID != "apt-mmtj" || math.Abs(rj.BoundaryM-wantJ) > 2 || wantJ <= want {
		t.Fatalf("joint: boundary %.1f m of %q, want %.1f m of apt-mmtj (beyond the border at %.1f m)", rj.BoundaryM, rj.BoundaryZoneID, wantJ, want)
	}
	// Outside: distance to get back in.
	rs, _ := s.CheckPoint("cbp", sdSouth, t0)
	wantS := distToLine(line.Path, sdSouth.orb())
	if rs.Allowed || math.Abs(rs.BoundaryM-wantS) > 2 {
		t.Fatalf("south: allowed=%v boundary=%.1f, want %.1f", rs.Allowed, rs.BoundaryM, wantS)
	}
}

func TestBoundaryDistanceToExclusion(t *testing.T) {
	s := MustDefault(t)
	// 5.3 km west of Tijuana airport, south of the line: 300 m from its circle.
	c := orb.Point{-116.969976, 32.541043}
	pr := newProj(c)
	p := pr.inv(vec{-5300, -200})
	res, _ := s.CheckPoint("gn", Pos(p[1], p[0], 50), t0)
	want := math.Hypot(5300, 200) - 5000
	if !res.Allowed || res.BoundaryZoneID != "apt-mmtj" || math.Abs(res.BoundaryM-want) > 2 {
		t.Fatalf("allowed=%v boundary %.1f m of %q, want %.1f of apt-mmtj", res.Allowed, res.BoundaryM, res.BoundaryZoneID, want)
	}
}

// square returns a square zone with its south-west corner at lat, lon.
func square(id string, k Kind, j Jurisdiction, lat, lon, side float64) Zone {
	return Zone{ID: id, Name: id, Kind: k, Jurisdiction: j, Polygon: orb.Polygon{{
		{lon, lat}, {lon + side, lat}, {lon + side, lat + side}, {lon, lat + side}, {lon, lat}}}}
}

func distToLine(ls orb.LineString, p orb.Point) float64 {
	pr := newProj(p)
	best := math.Inf(1)
	for i := 0; i+1 < len(ls); i++ {
		d, _ := segDist(pr.fwd(ls[i]), pr.fwd(ls[i+1]), vec{})
		best = math.Min(best, d)
	}
	return best
}

func TestBadPosition(t *testing.T) {
	s := MustDefault(t)
	bad := []Position{Pos(math.NaN(), -117, 10), Pos(32, 181, 10), Pos(91, 0, 10), Pos(32, -117, math.Inf(1))}
	for _, p := range bad {
		if _, _, err := s.Allowed("cbp", p, t0); !errors.Is(err, ErrBadPosition) {
			t.Errorf("Allowed(%v): %v", p, err)
		}
		if _, err := s.CheckPoint("cbp", p, t0); !errors.Is(err, ErrBadPosition) {
			t.Errorf("CheckPoint(%v): %v", p, err)
		}
		if _, err := s.CheckRoute("cbp", []Position{sdNorth, p}, t0); !errors.Is(err, ErrBadPosition) {
			t.Errorf("CheckRoute(%v): %v", p, err)
		}
		if _, err := s.Watch("cbp", p, Velocity{}, Margin{}, t0); !errors.Is(err, ErrBadPosition) {
			t.Errorf("Watch(%v): %v", p, err)
		}
		if _, err := s.Fences("cbp", p, 1000, t0, FenceLimits{}); !errors.Is(err, ErrBadPosition) {
			t.Errorf("Fences(%v): %v", p, err)
		}
	}
	if v, err := s.CheckRoute("cbp", nil, t0); v != nil || err != nil {
		t.Errorf("empty route: %v %v", v, err)
	}
}
