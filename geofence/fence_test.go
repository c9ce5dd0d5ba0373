package geofence

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func notesOf(p FencePlan) string {
	var b strings.Builder
	for _, n := range p.Notes {
		b.WriteString(n.ZoneID + ": " + n.Message + "\n")
	}
	return b.String()
}

func TestFencesUSAgencySanDiego(t *testing.T) {
	s := MustDefault(t)
	plan, err := s.Fences("cbp", sdNorth, 15000, t0, FenceLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Shapes) < 2 {
		t.Fatalf("shapes: %+v", plan.Shapes)
	}
	inc := plan.Shapes[0]
	if inc.Kind != Inclusion || inc.ZoneID != "us-sandiego-tijuana" || inc.IsCircle() {
		t.Fatalf("first shape %+v, want the US corridor polygon", inc)
	}
	z, _ := s.Zone("us-sandiego-tijuana")
	if len(inc.Polygon) != len(z.Polygon[0])-1 {
		t.Fatalf("polygon has %d vertices, zone ring %d", len(inc.Polygon), len(z.Polygon[0]))
	}
	for i, v := range inc.Polygon {
		if (orb.Point{v.Lon, v.Lat}) != z.Polygon[0][i] {
			t.Fatalf("vertex %d differs", i)
		}
	}
	ex := plan.Shapes[1]
	if ex.Kind != Exclusion || ex.ZoneID != "apt-mmtj" || !ex.IsCircle() || ex.RadiusM != 5000 ||
		ex.Center != (LatLon{Lat: 32.541043, Lon: -116.969976}) {
		t.Fatalf("nearest exclusion %+v, want the TIJ circle", ex)
	}
	if plan.AltMaxM != 120 {
		t.Fatalf("AltMaxM = %v", plan.AltMaxM)
	}
	if plan.Items() != len(inc.Polygon)+len(plan.Shapes)-1 {
		t.Fatalf("items %d", plan.Items())
	}
	// Only the zone containing the drone is sent; none of the other agency's.
	for _, sh := range plan.Shapes {
		if strings.HasPrefix(sh.ZoneID, "mx-") || strings.HasPrefix(sh.ZoneID, "joint-") {
			t.Fatalf("unusable zone sent: %s", sh.ZoneID)
		}
	}
}

func TestFencesSingleInclusionByDefault(t *testing.T) {
	s := MustDefault(t)
	plan, _ := s.Fences("all", sdNorth, 15000, t0, FenceLimits{})
	var incl []string
	for _, sh := range plan.Shapes {
		if sh.Kind == Inclusion {
			incl = append(incl, sh.ZoneID)
		}
	}
	if len(incl) != 1 || incl[0] != "joint-sandiego-tijuana" {
		t.Fatalf("inclusions %v, want only the largest containing zone", incl)
	}
	if !strings.Contains(notesOf(plan), "us-sandiego-tijuana: inclusion zone not sent") {
		t.Fatalf("notes:\n%s", notesOf(plan))
	}
	union, _ := s.Fences("all", sdNorth, 15000, t0, FenceLimits{UnionInclusions: true})
	n := 0
	for _, sh := range union.Shapes {
		if sh.Kind == Inclusion {
			n++
		}
	}
	if n != 3 || !strings.Contains(notesOf(union), "union") {
		t.Fatalf("union: %d inclusions, notes:\n%s", n, notesOf(union))
	}
}

func TestFencesLimits(t *testing.T) {
	s := MustDefault(t)
	// McAllen's US side follows the Rio Grande: 60-odd vertices.
	p := Pos(26.12, -98.25, 30)
	ok, v, _ := s.Allowed("cbp", p, t0)
	if !ok {
		t.Fatalf("test point not allowed: %v", v)
	}
	z, _ := s.Zone("us-mcallen-reynosa")
	plan, _ := s.Fences("cbp", p, 20000, t0, FenceLimits{MaxPolygonVertices: 12})
	inc := plan.Shapes[0]
	if inc.ZoneID != z.ID || len(inc.Polygon) > 12 || len(inc.Polygon) < 3 {
		t.Fatalf("simplified inclusion: %s with %d vertices", inc.ZoneID, len(inc.Polygon))
	}
	if !strings.Contains(notesOf(plan), "polygon simplified from "+itoa(len(z.Polygon[0])-1)+" to "+itoa(len(inc.Polygon))) {
		t.Fatalf("notes:\n%s", notesOf(plan))
	}
	// A tight budget drops the exclusions and says so.
	tight, _ := s.Fences("cbp", p, 20000, t0, FenceLimits{MaxPolygonVertices: 12, MaxItems: len(inc.Polygon)})
	if len(tight.Shapes) != 1 || !strings.Contains(notesOf(tight), "over the remaining budget of 0") {
		t.Fatalf("tight: %d shapes, notes:\n%s", len(tight.Shapes), notesOf(tight))
	}
}

func TestFencesHoles(t *testing.T) {
	outer := square("donut", Inclusion, US, 32, -111, 0.1)
	outer.Polygon = append(outer.Polygon, orb.Ring{{-110.98, 32.02}, {-110.98, 32.08}, {-110.92, 32.08}, {-110.92, 32.02}, {-110.98, 32.02}})
	nfz := square("nfz", Exclusion, US, 32.01, -110.99, 0.005)
	nfz.FloorM, nfz.CeilingM = 50, 120
	s, err := NewSet([]Zone{outer, nfz}, []Agency{agencyUS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := s.Fences("cbp", Pos(32.01, -110.995, 20), 50000, t0, FenceLimits{})
	if len(plan.Shapes) != 3 || plan.Shapes[1].Kind != Exclusion || plan.Shapes[1].ZoneID != "donut" || len(plan.Shapes[1].Polygon) != 4 {
		t.Fatalf("shapes %+v", plan.Shapes)
	}
	notes := notesOf(plan)
	if !strings.Contains(notes, "donut: hole 1 sent as an exclusion polygon") ||
		!strings.Contains(notes, "nfz: exclusion applies only from 50 to 120 m (home)") {
		t.Fatalf("notes:\n%s", notes)
	}
	if math.IsNaN(plan.AltMaxM) {
		t.Fatal("AltMaxM unset")
	}
}
