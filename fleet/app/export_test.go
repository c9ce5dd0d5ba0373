package app

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var exportT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("PST", -8*3600))

func exportTrack() []TrackPoint {
	return []TrackPoint{
		{At: exportT0, Lat: 32.5421, Lon: -117.0291, AltMSL: 60.5, RelAlt: 40.5, GroundSpeed: 5.25, Heading: 90, BatteryPct: 88, Mode: "AUTO", Armed: true, LinkUp: true},
		{At: exportT0.Add(100 * time.Millisecond), Lat: 32.5422, Lon: -117.0290, AltMSL: 61, RelAlt: 41, GroundSpeed: 5.5, Heading: math.NaN(), BatteryPct: -1, Mode: "RTL", Armed: true},
		{At: exportT0.Add(time.Second), Lat: 32.5425, Lon: -117.0288, AltMSL: 20, RelAlt: 0, Mode: "LAND"},
	}
}

func TestTrackGeoJSON(t *testing.T) {
	pts := exportTrack()
	data, err := TrackGeoJSON("alpha", pts)
	if err != nil {
		t.Fatal(err)
	}
	if typ := checkRFC7946Feature(t, data); typ != "LineString" {
		t.Fatalf("geometry %s, want a LineString", typ)
	}
	var raw struct {
		Type     string
		Geometry struct {
			Type        string
			Coordinates [][]float64
		}
		Properties struct {
			DroneID string    `json:"drone_id"`
			Times   []string  `json:"times"`
			RelAlt  []float64 `json:"rel_alt_m"`
			Start   string
			End     string
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Type != "Feature" || raw.Geometry.Type != "LineString" || raw.Properties.DroneID != "alpha" {
		t.Fatalf("feature %+v", raw)
	}
	for i, p := range pts {
		if c := raw.Geometry.Coordinates[i]; !reflect.DeepEqual(c, []float64{p.Lon, p.Lat, p.AltMSL}) {
			t.Errorf("position %d = %v, want [lon %v, lat %v, alt %v]", i, c, p.Lon, p.Lat, p.AltMSL)
		}
		tm, err := time.Parse(time.RFC3339Nano, raw.Properties.Times[i])
		if err != nil || !tm.Equal(p.At) || !strings.HasSuffix(raw.Properties.Times[i], "Z") {
			t.Errorf("time %d = %q, want %v in UTC", i, raw.Properties.Times[i], p.At)
		}
		if raw.Properties.RelAlt[i] != p.RelAlt {
			t.Errorf("rel_alt_m %d = %v, want %v", i, raw.Properties.RelAlt[i], p.RelAlt)
		}
	}
	if raw.Properties.Start != "2026-03-01T20:00:00Z" || raw.Properties.End != "2026-03-01T20:00:01Z" {
		t.Errorf("start %q end %q", raw.Properties.Start, raw.Properties.End)
	}
}

// checkRFC7946Feature checks data is an RFC 7946 Feature: members "type",
// "geometry" (null, or a Point or LineString of 2 or 3 element positions,
// two or more for a LineString, longitude first within ±180 and latitude
// within ±90) and "properties" (an object or null). It returns the geometry
// type ("" for null).
func checkRFC7946Feature(t *testing.T, data []byte) string {
	t.Helper()
	var f map[string]json.RawMessage
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var typ string
	json.Unmarshal(f["type"], &typ)
	_, hasGeom := f["geometry"]
	_, hasProps := f["properties"]
	if typ != "Feature" || !hasGeom || !hasProps {
		t.Fatalf("not a Feature (type %q, geometry %v, properties %v)", typ, hasGeom, hasProps)
	}
	if string(f["geometry"]) == "null" {
		return ""
	}
	var g struct {
		Type        string
		Coordinates json.RawMessage
	}
	if err := json.Unmarshal(f["geometry"], &g); err != nil {
		t.Fatalf("geometry: %v", err)
	}
	var positions [][]float64
	switch g.Type {
	case "Point":
		var p []float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			t.Fatalf("Point coordinates: %v", err)
		}
		positions = [][]float64{p}
	case "LineString":
		if err := json.Unmarshal(g.Coordinates, &positions); err != nil || len(positions) < 2 {
			t.Fatalf("LineString coordinates (%v): want two or more positions", err)
		}
	default:
		t.Fatalf("geometry type %q", g.Type)
	}
	for i, p := range positions {
		if len(p) < 2 || len(p) > 3 || math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
			t.Fatalf("position %d = %v: want [lon, lat(, alt)]", i, p)
		}
	}
	return g.Type
}

func TestTrackGeoJSONShortAndBad(t *testing.T) {
	one, err := TrackGeoJSON("a", exportTrack()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if typ := checkRFC7946Feature(t, one); typ != "Point" {
		t.Errorf("one sample: %s, want a Point", typ)
	}
	none, err := TrackGeoJSON("a", nil)
	if err != nil || checkRFC7946Feature(t, none) != "" {
		t.Errorf("no samples: %s %v, want a null geometry", none, err)
	}
	bad := exportTrack()
	bad[1].Lat = math.NaN()
	if _, err := TrackGeoJSON("a", bad); err == nil {
		t.Error("a NaN latitude was exported")
	}
}

func TestWriteTrackCSV(t *testing.T) {
	var b strings.Builder
	if err := WriteTrackCSV(&b, "alpha", exportTrack()); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(b.String(), "\n"); first != "time,drone_id,lat,lon,alt_m,rel_alt_m,speed_m_s,heading_deg,battery_pct,mode,armed" {
		t.Errorf("header %q", first)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		TrackCSVHeader,
		{"2026-03-01T20:00:00Z", "alpha", "32.5421", "-117.0291", "60.5", "40.5", "5.25", "90", "88", "AUTO", "true"},
		{"2026-03-01T20:00:00.1Z", "alpha", "32.5422", "-117.029", "61", "41", "5.5", "", "", "RTL", "true"},
		{"2026-03-01T20:00:01Z", "alpha", "32.5425", "-117.0288", "20", "0", "0", "0", "0", "LAND", "false"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n%v\nwant:\n%v", rows, want)
	}
	for _, r := range rows[1:] {
		if _, err := time.Parse(time.RFC3339, r[0]); err != nil {
			t.Errorf("time %q is not RFC 3339: %v", r[0], err)
		}
	}
}
