package geofence

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// Check points on the true boundary (see data/SOURCES.md): the embedded,
// simplified line must pass within 1 km of each (it is within about 200 m).
func TestBoundaryCheckPoints(t *testing.T) {
	s := MustDefault(t)
	line, ok := s.Line(BoundaryLineID)
	if !ok {
		t.Fatal("no boundary line")
	}
	for _, c := range []struct {
		name     string
		lat, lon float64
	}{
		{"San Ysidro port", 32.5427, -117.0293},
		{"Nogales port", 31.3326, -110.9420},
		{"El Paso bridge", 31.7467, -106.4869},
		{"Laredo bridge", 27.4995, -99.5075},
		{"Pacific end", 32.5340, -117.1240},
		{"Rio Grande mouth", 25.9560, -97.1460},
	} {
		d := distToLine(line.Path, orb.Point{c.lon, c.lat})
		t.Logf("%-18s %6.0f m", c.name, d)
		if d > 1000 {
			t.Errorf("%s: %.0f m from the line, want ≤ 1 km", c.name, d)
		}
	}
	first, last := line.Path[0], line.Path[len(line.Path)-1]
	if first[0] > -117.1 || last[0] < -97.2 {
		t.Errorf("line runs from %v to %v, want Pacific to Gulf", first, last)
	}
	if n := len(line.Path); n < 500 || n > 5000 {
		t.Errorf("line has %d vertices", n)
	}
}

// TestCorridorsSplitAlongTheLine checks each corridor: its JOINT zone holds
// the port; a point 500 m to the US side of the line (left of its
// west-to-east direction) is in the US zone only, and one 500 m to the MX side
// in the MX zone only; the two sides add up to the JOINT zone.
func TestCorridorsSplitAlongTheLine(t *testing.T) {
	s := MustDefault(t)
	line, _ := s.Line(BoundaryLineID)
	ports := map[string]orb.Point{
		"sandiego-tijuana":   {-117.02972, 32.54333},
		"calexico-mexicali":  {-115.496349, 32.665106},
		"nogales-nogales":    {-110.942, 31.3326},
		"elpaso-juarez":      {-106.48698, 31.74765},
		"laredo-nuevolaredo": {-99.50742, 27.4994},
		"mcallen-reynosa":    {-98.2714, 26.095},
	}
	for slug, port := range ports {
		t.Run(slug, func(t *testing.T) {
			joint, ok1 := s.Zone("joint-" + slug)
			us, ok2 := s.Zone("us-" + slug)
			mx, ok3 := s.Zone("mx-" + slug)
			if !ok1 || !ok2 || !ok3 {
				t.Fatal("missing zone")
			}
			if joint.Jurisdiction != Joint || us.Jurisdiction != US || mx.Jurisdiction != MX {
				t.Fatal("jurisdictions")
			}
			if !polygonContains(joint.Polygon, port) {
				t.Fatal("JOINT zone does not contain the port")
			}
			pr := newProj(port)
			best, dir := math.Inf(1), vec{}
			for i := 0; i+1 < len(line.Path); i++ {
				a, b := pr.fwd(line.Path[i]), pr.fwd(line.Path[i+1])
				if d, _ := segDist(a, b, vec{}); d < best {
					best, dir = d, b.sub(a).scale(1/b.sub(a).norm())
				}
			}
			onLine := func(side float64) orb.Point {
				// from the nearest point of the line, 500 m to the left (US) or right
				var near vec
				bd := math.Inf(1)
				for i := 0; i+1 < len(line.Path); i++ {
					a, b := pr.fwd(line.Path[i]), pr.fwd(line.Path[i+1])
					if d, tt := segDist(a, b, vec{}); d < bd {
						bd, near = d, lerpVec(a, b, tt)
					}
				}
				return pr.inv(near.add(vec{-dir.y, dir.x}.scale(side)))
			}
			north, south := onLine(500), onLine(-500)
			if !polygonContains(us.Polygon, north) || polygonContains(mx.Polygon, north) {
				t.Errorf("US-side point %v: in US zone %v, in MX zone %v", north, polygonContains(us.Polygon, north), polygonContains(mx.Polygon, north))
			}
			if !polygonContains(mx.Polygon, south) || polygonContains(us.Polygon, south) {
				t.Errorf("MX-side point %v: in MX zone %v, in US zone %v", south, polygonContains(mx.Polygon, south), polygonContains(us.Polygon, south))
			}
			// areas in one projection, so that they add up exactly
			a := func(id string) float64 { z, _ := s.Zone(id); return math.Abs(ringAreaM2(pr, z.Polygon[0])) }
			if sum, j := a(us.ID)+a(mx.ID), a(joint.ID); math.Abs(sum-j) > 1e-9*j {
				t.Errorf("US %.0f + MX %.0f = %.0f m², JOINT %.0f m²", a(us.ID), a(mx.ID), sum, j)
			}
			if j := a(joint.ID); j < 2e8 || j > 4e8 {
				t.Errorf("JOINT area %.0f km²", j/1e6)
			}
		})
	}
}

func TestAirports(t *testing.T) {
	s := MustDefault(t)
	want := map[string]orb.Point{ // OurAirports coordinates
		"ksan": {-117.190002, 32.733601}, "mmtj": {-116.969976, 32.541043},
		"kcxl": {-115.513000488, 32.6694984436}, "mmml": {-115.242805, 32.630629},
		"kols": {-110.848, 31.4177}, "mmng": {-110.976934, 31.225756},
		"kelp": {-106.375607, 31.809908}, "mmcs": {-106.428533, 31.636673},
		"klrd": {-99.461601, 27.5438}, "mmnl": {-99.570503, 27.443899},
		"kmfe": {-98.237965, 26.176141}, "mmrx": {-98.2285, 26.0089},
		"kbro": {-97.425235, 25.907238}, "mmma": {-97.5252990723, 25.7698993683},
	}
	n := 0
	for _, z := range s.Zones() {
		if z.Kind != Exclusion {
			continue
		}
		n++
		icao := z.ID[len("apt-"):]
		c, ok := want[icao]
		if !ok || !z.IsCircle() || z.Center != c || z.RadiusM != 5000 {
			t.Errorf("%s: centre %v radius %v", z.ID, z.Center, z.RadiusM)
		}
		if wantJ := map[bool]Jurisdiction{true: US, false: MX}[icao[0] == 'k']; z.Jurisdiction != wantJ {
			t.Errorf("%s: jurisdiction %s", z.ID, z.Jurisdiction)
		}
	}
	if n != len(want) {
		t.Fatalf("%d exclusion zones, want %d", n, len(want))
	}
}
