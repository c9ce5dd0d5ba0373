package geofence

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseValidFixture(t *testing.T) {
	zones, lines, err := ParseGeoJSON(readFixture(t, "valid.geojson"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Zone{
		{ID: "ok-1", Name: "ok-1", Kind: Inclusion, Jurisdiction: US, FloorM: 0, CeilingM: 100, AltRef: AltHome,
			Reason: "test", Source: "hand-made fixture",
			Polygon: orb.Polygon{{{-111, 32}, {-110.9, 32}, {-110.9, 32.1}, {-111, 32.1}, {-111, 32}}}},
		{ID: "ok-circle", Kind: Exclusion, Jurisdiction: US, CeilingM: DefaultCeilingM, AltRef: AltHome,
			Center: orb.Point{-110.95, 32.05}, RadiusM: 500,
			ValidFrom:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			ValidUntil: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
		{ID: "ok-hole", Name: "ok-hole", Kind: Inclusion, Jurisdiction: MX, CeilingM: DefaultCeilingM, AltRef: AltHome,
			Polygon: orb.Polygon{
				{{-111, 32}, {-110.9, 32}, {-110.9, 32.1}, {-111, 32.1}, {-111, 32}},
				{{-110.98, 32.02}, {-110.98, 32.08}, {-110.92, 32.08}, {-110.92, 32.02}, {-110.98, 32.02}}}},
	}
	if !reflect.DeepEqual(zones, want) {
		t.Fatalf("zones:\n got %+v\nwant %+v", zones, want)
	}
	wantL := []Line{{ID: "ref-line", Name: "a line", Path: orb.LineString{{-111, 32}, {-110, 31.5}}}}
	if !reflect.DeepEqual(lines, wantL) {
		t.Fatalf("lines: got %+v", lines)
	}
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		file string
		lim  Limits
		want string // the first problem, located
	}{
		{"unclosed.geojson", Limits{}, `feature 0 (id "unclosed") ring 0 vertex 4: ring is not closed: last position differs from the first`},
		{"self_intersecting.geojson", Limits{}, `feature 0 (id "bowtie") ring 0 vertex 0: ring is self-intersecting (edge 0 crosses edge 2)`},
		{"two_points.geojson", Limits{}, `feature 0 (id "thin") ring 0: ring has fewer than 3 distinct points (2)`},
		{"out_of_range.geojson", Limits{}, `feature 0 (id "far") ring 0 vertex 1: longitude 200 out of range [-180, 180]`},
		{"zero_area.geojson", Limits{}, `feature 0 (id "flat") ring 0: ring has zero area`},
		{"floor_above_ceiling.geojson", Limits{}, `feature 0 (id "upside") floor_m: floor 150 m is above ceiling 120 m`},
		{"unknown_jurisdiction.geojson", Limits{}, `feature 0 (id "canada") jurisdiction: unknown jurisdiction "CA" (want US, MX or JOINT)`},
		{"unknown_kind.geojson", Limits{}, `feature 0 (id "maybe") kind: unknown kind "sometimes" (want inclusion or exclusion)`},
		{"circle_no_radius.geojson", Limits{}, `feature 0 (id "dot") radius_m: a Point zone is a circle and needs radius_m`},
		{"bad_radius.geojson", Limits{}, `feature 0 (id "neg") radius_m: radius -5 m must be > 0 and ≤ 1e+06 m`},
		{"duplicate_id.geojson", Limits{}, `feature 1 (id "twice") id: duplicate zone id (also feature 0)`},
		{"hole_outside.geojson", Limits{}, `feature 0 (id "stray-hole") ring 1 vertex 0: hole lies outside the outer ring`},
		{"bad_time.geojson", Limits{}, `feature 0 (id "when") valid_from: "tomorrow" is not an RFC 3339 time`},
		{"multipolygon.geojson", Limits{}, `feature 0 (id "multi"): geometry type "MultiPolygon" is not supported (want Polygon, Point with radius_m, or LineString with kind "line")`},
		{"short_position.geojson", Limits{}, `feature 0 (id "short") ring 0 vertex 1: position has 1 number(s); want longitude and latitude`},
		{"half_valid.geojson", Limits{}, `feature 1 (id "broken") jurisdiction: unknown jurisdiction "XX" (want US, MX or JOINT)`},
		{"many_vertices.geojson", Limits{MaxVertices: 10}, `feature 0 (id "busy"): zone has 14 vertices, over the limit of 10`},
		{"valid.geojson", Limits{MaxBytes: 100}, `document is 2090 bytes, over the limit of 100`},
		{"valid.geojson", Limits{MaxFeatures: 2}, `document has 4 features, over the limit of 2`},
		{"not_geojson.geojson", Limits{}, `malformed JSON: unexpected end of JSON input`},
		{"wrong_type.geojson", Limits{}, `document type "Topology" is not FeatureCollection or Feature`},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".geojson"), func(t *testing.T) {
			data := readFixture(t, c.file)
			if c.lim.MaxBytes == 100 {
				c.want = strings.Replace(c.want, "2090", itoa(len(data)), 1)
			}
			zones, lines, err := ParseGeoJSON(data, c.lim)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if zones != nil || lines != nil {
				t.Fatal("invalid input returned zones")
			}
			if got := ve.Problems[0].String(); got != c.want {
				t.Fatalf("problem:\n got %s\nwant %s", got, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Error() %q lacks the problem", err.Error())
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestValidationOfGoValues(t *testing.T) {
	nan := square("nan", Inclusion, US, 32, -111, 0.1)
	nan.Polygon[0][2][1] = math.NaN()
	_, err := NewSet([]Zone{nan}, nil, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].String() != `id "nan" ring 0 vertex 2: coordinate is not a finite number` {
		t.Fatalf("NaN: %v", err)
	}
	_, err = NewSet(nil, []Agency{{ID: "x", Jurisdictions: []Jurisdiction{"US", "EU"}}}, nil)
	if !errors.As(err, &ve) || ve.Problems[0].String() != `id "x" jurisdictions: unknown jurisdiction "EU" (want US, MX or JOINT)` {
		t.Fatalf("agency: %v", err)
	}
	crossHole := square("crossing-hole", Inclusion, US, 32, -111, 0.1)
	crossHole.Polygon = append(crossHole.Polygon, orb.Ring{{-110.95, 32.05}, {-110.85, 32.05}, {-110.85, 32.06}, {-110.95, 32.06}, {-110.95, 32.05}})
	_, err = NewSet([]Zone{crossHole}, nil, nil)
	if !errors.As(err, &ve) || !strings.Contains(ve.Problems[0].String(), "ring 1 edge 0 crosses ring 0 edge 1") {
		t.Fatalf("crossing hole: %v", err)
	}
	window := square("window", Exclusion, MX, 32, -111, 0.1)
	window.ValidFrom, window.ValidUntil = t0, t0
	_, err = NewSet([]Zone{window}, nil, nil)
	if !errors.As(err, &ve) || !strings.Contains(ve.Problems[0].Message, "validity window is empty") {
		t.Fatalf("window: %v", err)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	st := NewStore(MustDefault(t))
	before := st.Snapshot()
	err := st.ImportGeoJSON(readFixture(t, "half_valid.geojson"), Limits{}, false)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if st.Snapshot() != before {
		t.Fatal("a failed import changed the store")
	}
	if _, ok := st.Snapshot().Zone("fine"); ok {
		t.Fatal("the valid half was imported")
	}
	// A valid import adds to the store; replace swaps the zones out.
	if err := st.ImportGeoJSON(readFixture(t, "valid.geojson"), Limits{}, false); err != nil {
		t.Fatal(err)
	}
	if got := st.Snapshot().Len(); got != before.Len()+3 {
		t.Fatalf("after merge: %d zones, want %d", got, before.Len()+3)
	}
	if err := st.ImportGeoJSON(readFixture(t, "valid.geojson"), Limits{}, true); err != nil {
		t.Fatal(err)
	}
	if got := st.Snapshot().Len(); got != 3 {
		t.Fatalf("after replace: %d zones, want 3", got)
	}
	if _, ok := st.Snapshot().Agency("cbp"); !ok {
		t.Fatal("replace dropped the agencies")
	}
	if err := st.DeleteZone("nope"); !errors.Is(err, ErrUnknownZone) {
		t.Fatalf("delete unknown: %v", err)
	}
	if err := st.DeleteZone("ok-1"); err != nil {
		t.Fatal(err)
	}
	if st.Snapshot().Len() != 2 {
		t.Fatal("delete did not remove the zone")
	}
}

func TestBundledDatasetRoundTrip(t *testing.T) {
	zones, lines, err := ParseGeoJSON(defaultGeoJSON, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 32 || len(lines) != 1 {
		t.Fatalf("%d zones %d lines, want 32 and 1", len(zones), len(lines))
	}
	s, err := NewSet(zones, nil, lines)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.MarshalGeoJSON()
	if err != nil {
		t.Fatal(err)
	}
	zones2, lines2, err := ParseGeoJSON(out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewSet(zones2, nil, lines2)
	if !reflect.DeepEqual(s.Zones(), s2.Zones()) || !reflect.DeepEqual(s.Lines(), s2.Lines()) {
		t.Fatal("export then import changed the data")
	}
	// Re-encoding in the file's own order with its metadata gives the file back.
	var head struct {
		Metadata map[string]any `json:"metadata"`
	}
	if err := jsonUnmarshal(defaultGeoJSON, &head); err != nil || head.Metadata == nil {
		t.Fatalf("metadata: %v", err)
	}
	again, err := EncodeGeoJSON(zones, lines, head.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, defaultGeoJSON) {
		t.Fatal("re-encoding the bundled dataset does not reproduce it byte for byte")
	}
	// Every feature says where it comes from.
	for _, z := range zones {
		if z.Source == "" {
			t.Errorf("zone %s has no source", z.ID)
		}
	}
}

func FuzzParseGeoJSON(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".geojson") {
			f.Add(readFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"id":"a","kind":"exclusion","jurisdiction":"MX","radius_m":10}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxBytes: 1 << 16, MaxVertices: 500}
		zones, lines, err := ParseGeoJSON(data, lim)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a *ValidationError with problems", err)
			}
			return
		}
		s, err := newSet(zones, nil, lines, lim)
		if err != nil {
			t.Fatalf("parsed zones fail NewSet: %v", err)
		}
		out, err := s.MarshalGeoJSON()
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		z2, l2, err := ParseGeoJSON(out, Limits{})
		if err != nil {
			t.Fatalf("re-import of export: %v", err)
		}
		if len(z2) != len(zones) || len(l2) != len(lines) {
			t.Fatalf("round trip: %d/%d zones, %d/%d lines", len(z2), len(zones), len(l2), len(lines))
		}
	})
}
