package geofence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// GeoJSON property names of the zone schema (see the package documentation).
const (
	PropID           = "id"
	PropName         = "name"
	PropKind         = "kind"
	PropJurisdiction = "jurisdiction"
	PropFloorM       = "floor_m"
	PropCeilingM     = "ceiling_m"
	PropAltRef       = "alt_ref"
	PropValidFrom    = "valid_from"
	PropValidUntil   = "valid_until"
	PropReason       = "reason"
	PropSource       = "source"
	PropRadiusM      = "radius_m"
)

// KindLine is the "kind" property of a LineString feature: a reference line
// (Line), not a zone.
const KindLine = "line"

type docHead struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
}

type featDoc struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Geometry   *geomDoc                   `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type geomDoc struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// ParseGeoJSON decodes an RFC 7946 FeatureCollection (or a single Feature)
// of zones and reference lines and validates it all: Polygon features are
// polygon zones, Point features with radius_m are circle zones, LineString
// features with kind "line" are reference lines. Other members and
// properties are ignored. Any problem anywhere returns a *ValidationError
// listing the problems, located by feature index and id, ring and vertex,
// and no zones; duplicate ids are problems too.
func ParseGeoJSON(data []byte, lim Limits) ([]Zone, []Line, error) {
	lim = lim.withDefaults()
	var ps problems
	ps.max = lim.MaxProblems
	doc := func(msg string) error {
		ps.add(Problem{Feature: -1, Ring: -1, Vertex: -1, Message: msg})
		return ps.err()
	}
	if len(data) > lim.MaxBytes {
		return nil, nil, doc(fmt.Sprintf("document is %d bytes, over the limit of %d", len(data), lim.MaxBytes))
	}
	var head docHead
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, nil, doc("malformed JSON: " + err.Error())
	}
	feats := head.Features
	switch head.Type {
	case "FeatureCollection":
	case "Feature":
		feats = []json.RawMessage{json.RawMessage(bytes.TrimSpace(data))}
	default:
		return nil, nil, doc(fmt.Sprintf("document type %s is not FeatureCollection or Feature", quote(head.Type)))
	}
	if len(feats) > lim.MaxFeatures {
		return nil, nil, doc(fmt.Sprintf("document has %d features, over the limit of %d", len(feats), lim.MaxFeatures))
	}
	var zones []Zone
	var lines []Line
	ids := map[string]int{}
	lineIDs := map[string]int{}
	for fi, raw := range feats {
		if ps.full {
			break
		}
		z, l, ok := parseFeature(&ps, fi, raw, lim)
		if !ok {
			continue
		}
		if l != nil {
			validateLine(&ps, fi, l, lim)
			if j, dup := lineIDs[l.ID]; dup && l.ID != "" {
				ps.add(Problem{Feature: fi, ID: l.ID, Ring: -1, Vertex: -1, Field: PropID, Message: fmt.Sprintf("duplicate line id (also feature %d)", j)})
			}
			lineIDs[l.ID] = fi
			lines = append(lines, *l)
			continue
		}
		validateZone(&ps, fi, z, lim)
		if j, dup := ids[z.ID]; dup && z.ID != "" {
			ps.add(Problem{Feature: fi, ID: z.ID, Ring: -1, Vertex: -1, Field: PropID, Message: fmt.Sprintf("duplicate zone id (also feature %d)", j)})
		}
		ids[z.ID] = fi
		zones = append(zones, *z)
	}
	if err := ps.err(); err != nil {
		return nil, nil, err
	}
	return zones, lines, nil
}

// parseFeature decodes one feature; ok is false if it had problems that
// stop further checks.
func parseFeature(ps *problems, fi int, raw json.RawMessage, lim Limits) (*Zone, *Line, bool) {
	var f featDoc
	var id string
	at := func(ring, vertex int, field, msg string) {
		ps.add(Problem{Feature: fi, ID: id, Ring: ring, Vertex: vertex, Field: field, Message: msg})
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		at(-1, -1, "", "malformed feature: "+err.Error())
		return nil, nil, false
	}
	pr := propReader{props: f.Properties, bad: func(field, msg string) { at(-1, -1, field, msg) }}
	id = pr.str(PropID)
	if id == "" && len(f.ID) > 0 {
		var s string
		var n json.Number
		if json.Unmarshal(f.ID, &s) == nil {
			id = s
		} else if json.Unmarshal(f.ID, &n) == nil {
			id = n.String()
		}
	}
	if f.Type != "Feature" {
		at(-1, -1, "", fmt.Sprintf("type %s is not Feature", quote(f.Type)))
		return nil, nil, false
	}
	if f.Geometry == nil {
		at(-1, -1, "", "feature has no geometry")
		return nil, nil, false
	}
	kind := pr.str(PropKind)
	g := f.Geometry
	if g.Type == "LineString" {
		if kind != "" && kind != KindLine {
			at(-1, -1, PropKind, fmt.Sprintf("a LineString is a reference line: kind must be %s, not %s", quote(KindLine), quote(kind)))
		}
		var coords [][]float64
		if err := json.Unmarshal(g.Coordinates, &coords); err != nil {
			at(-1, -1, "", "coordinates are not an array of positions")
			return nil, nil, false
		}
		if len(coords) > lim.MaxVertices {
			at(-1, -1, "", fmt.Sprintf("line has %d vertices, over the limit of %d", len(coords), lim.MaxVertices))
			return nil, nil, false
		}
		l := &Line{ID: id, Name: pr.str(PropName), Source: pr.str(PropSource)}
		for vi, c := range coords {
			if len(c) < 2 {
				at(-1, vi, "", fmt.Sprintf("position has %d number(s); want longitude and latitude", len(c)))
				return nil, nil, false
			}
			l.Path = append(l.Path, orb.Point{c[0], c[1]})
		}
		return nil, l, true
	}
	z := &Zone{
		ID:           id,
		Name:         pr.str(PropName),
		Kind:         Kind(kind),
		Jurisdiction: Jurisdiction(pr.str(PropJurisdiction)),
		AltRef:       AltRef(pr.str(PropAltRef)),
		Reason:       pr.str(PropReason),
		Source:       pr.str(PropSource),
		FloorM:       pr.num(PropFloorM, 0),
		CeilingM:     pr.num(PropCeilingM, DefaultCeilingM),
		ValidFrom:    pr.time(PropValidFrom),
		ValidUntil:   pr.time(PropValidUntil),
	}
	if _, given := f.Properties[PropCeilingM]; given && z.CeilingM == 0 {
		at(-1, -1, PropCeilingM, "ceiling_m 0 is not allowed (omit it for the default 120 m)")
	}
	if z.AltRef == "" {
		z.AltRef = AltHome
	}
	switch g.Type {
	case "Polygon":
		var coords [][][]float64
		if err := json.Unmarshal(g.Coordinates, &coords); err != nil {
			at(-1, -1, "", "coordinates are not an array of rings of positions")
			return nil, nil, false
		}
		n := 0
		for _, r := range coords {
			n += len(r)
		}
		if n > lim.MaxVertices {
			at(-1, -1, "", fmt.Sprintf("zone has %d vertices, over the limit of %d", n, lim.MaxVertices))
			return nil, nil, false
		}
		z.Polygon = make(orb.Polygon, 0, len(coords))
		for ri, r := range coords {
			ring := make(orb.Ring, 0, len(r))
			for vi, c := range r {
				if len(c) < 2 {
					at(ri, vi, "", fmt.Sprintf("position has %d number(s); want longitude and latitude", len(c)))
					return nil, nil, false
				}
				ring = append(ring, orb.Point{c[0], c[1]})
			}
			z.Polygon = append(z.Polygon, ring)
		}
		if len(z.Polygon) == 0 {
			at(-1, -1, "", "polygon has no rings")
			return nil, nil, false
		}
	case "Point":
		var c []float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 {
			at(-1, -1, "", "coordinates are not a position [longitude, latitude]")
			return nil, nil, false
		}
		z.Center = orb.Point{c[0], c[1]}
		if _, ok := f.Properties[PropRadiusM]; !ok {
			at(-1, -1, PropRadiusM, "a Point zone is a circle and needs radius_m")
			return nil, nil, false
		}
		z.RadiusM = pr.num(PropRadiusM, 0)
	default:
		at(-1, -1, "", fmt.Sprintf("geometry type %s is not supported (want Polygon, Point with radius_m, or LineString with kind %s)", quote(g.Type), quote(KindLine)))
		return nil, nil, false
	}
	return z, nil, true
}

type propReader struct {
	props map[string]json.RawMessage
	bad   func(field, msg string)
}

func (p propReader) raw(name string) (json.RawMessage, bool) {
	r, ok := p.props[name]
	if !ok || string(bytes.TrimSpace(r)) == "null" {
		return nil, false
	}
	return r, true
}

func (p propReader) str(name string) string {
	r, ok := p.raw(name)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		p.bad(name, "must be a string")
	}
	return s
}

func (p propReader) num(name string, def float64) float64 {
	r, ok := p.raw(name)
	if !ok {
		return def
	}
	var f float64
	if err := json.Unmarshal(r, &f); err != nil {
		p.bad(name, "must be a number")
		return def
	}
	return f
}

func (p propReader) time(name string) time.Time {
	s := p.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.bad(name, fmt.Sprintf("%s is not an RFC 3339 time", quote(s)))
		return time.Time{}
	}
	return t.UTC()
}

// Encoding.

type zoneProps struct {
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	Kind         string   `json:"kind"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	FloorM       *float64 `json:"floor_m,omitempty"`
	CeilingM     *float64 `json:"ceiling_m,omitempty"`
	AltRef       string   `json:"alt_ref,omitempty"`
	RadiusM      *float64 `json:"radius_m,omitempty"`
	ValidFrom    string   `json:"valid_from,omitempty"`
	ValidUntil   string   `json:"valid_until,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Source       string   `json:"source,omitempty"`
}

type geomOut struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

type featOut struct {
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Geometry   geomOut   `json:"geometry"`
	Properties zoneProps `json:"properties"`
}

// EncodeGeoJSON encodes lines and zones as an RFC 7946 FeatureCollection in
// the package's property schema: lines first, then zones, in the order given.
// Polygon rings are written counter-clockwise (outer) and clockwise (holes)
// as RFC 7946 recommends. metadata, if not nil, is written as a foreign
// member "metadata" of the collection (ParseGeoJSON ignores it). One feature
// per line of output.
func EncodeGeoJSON(zones []Zone, lines []Line, metadata any) ([]byte, error) {
	var feats []featOut
	for _, l := range lines {
		cs := make([][2]float64, len(l.Path))
		for i, p := range l.Path {
			cs[i] = p
		}
		feats = append(feats, featOut{Type: "Feature", ID: l.ID,
			Geometry:   geomOut{Type: "LineString", Coordinates: cs},
			Properties: zoneProps{ID: l.ID, Name: l.Name, Kind: KindLine, Source: l.Source}})
	}
	for i := range zones {
		z := &zones[i]
		floor, ceil := z.FloorM, z.Ceiling()
		p := zoneProps{ID: z.ID, Name: z.Name, Kind: string(z.Kind), Jurisdiction: string(z.Jurisdiction),
			FloorM: &floor, CeilingM: &ceil, AltRef: string(z.Ref()), Reason: z.Reason, Source: z.Source}
		if !z.ValidFrom.IsZero() {
			p.ValidFrom = z.ValidFrom.UTC().Format(time.RFC3339Nano)
		}
		if !z.ValidUntil.IsZero() {
			p.ValidUntil = z.ValidUntil.UTC().Format(time.RFC3339Nano)
		}
		var g geomOut
		if z.IsCircle() {
			r := z.RadiusM
			p.RadiusM = &r
			g = geomOut{Type: "Point", Coordinates: [2]float64(z.Center)}
		} else {
			rings := make([][][2]float64, len(z.Polygon))
			for ri, r := range z.Polygon {
				r = rightHand(r, ri == 0)
				cs := make([][2]float64, len(r))
				for k, q := range r {
					cs[k] = q
				}
				rings[ri] = cs
			}
			g = geomOut{Type: "Polygon", Coordinates: rings}
		}
		feats = append(feats, featOut{Type: "Feature", ID: z.ID, Geometry: g, Properties: p})
	}
	// One feature per line keeps the file diffable.
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection",`)
	if metadata != nil {
		m, err := marshal(metadata, " ")
		if err != nil {
			return nil, fmt.Errorf("encode metadata: %w", err)
		}
		buf.WriteString("\n\"metadata\":")
		buf.Write(m)
		buf.WriteString(",")
	}
	buf.WriteString("\n\"features\":[")
	for i, f := range feats {
		b, err := marshal(f, "")
		if err != nil {
			return nil, fmt.Errorf("encode feature %d: %w", i, err)
		}
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
		buf.Write(b)
	}
	buf.WriteString("\n]}\n")
	return buf.Bytes(), nil
}

// marshal encodes v without HTML escaping and without a trailing newline.
func marshal(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// rightHand returns r oriented counter-clockwise (ccw) or clockwise.
func rightHand(r orb.Ring, ccw bool) orb.Ring {
	if len(r) < 4 {
		return r
	}
	if (ringAreaM2(newProj(r[0]), r) > 0) == ccw {
		return r
	}
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// MarshalGeoJSON encodes the Set's lines and zones (not its agencies) with
// EncodeGeoJSON, without metadata.
func (s *Set) MarshalGeoJSON() ([]byte, error) {
	return EncodeGeoJSON(s.Zones(), s.Lines(), nil)
}
