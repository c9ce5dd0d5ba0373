package qgcplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// MaxBytes is the largest .plan accepted (4 MiB); MaxItems the most mission
// items, fence shapes and rally points together.
const (
	MaxBytes = 4 << 20
	MaxItems = 10_000
)

// Plan is a .plan file. Field order follows QGC's alphabetical key order.
type Plan struct {
	FileType      string    `json:"fileType"`
	GeoFence      GeoFence  `json:"geoFence"`
	GroundStation string    `json:"groundStation"`
	Mission       Mission   `json:"mission"`
	RallyPoints   RallyList `json:"rallyPoints"`
	Version       int       `json:"version"`
}

// Mission is the mission section.
type Mission struct {
	CruiseSpeed            *float64   `json:"cruiseSpeed,omitempty"`
	FirmwareType           int        `json:"firmwareType"`
	GlobalPlanAltitudeMode *int       `json:"globalPlanAltitudeMode,omitempty"`
	HoverSpeed             *float64   `json:"hoverSpeed,omitempty"`
	Items                  []Item     `json:"items"`
	PlannedHomePosition    [3]float64 `json:"plannedHomePosition"`
	VehicleType            *int       `json:"vehicleType,omitempty"`
	Version                int        `json:"version"`
}

// Item is a SimpleItem, or a ComplexItem kept as raw JSON in Complex.
type Item struct {
	AMSLAltAboveTerrain *float64    `json:"AMSLAltAboveTerrain,omitempty"`
	Altitude            *float64    `json:"Altitude,omitempty"`
	AltitudeMode        *int        `json:"AltitudeMode,omitempty"`
	AutoContinue        bool        `json:"autoContinue"`
	Command             int         `json:"command"`
	DoJumpID            int         `json:"doJumpId"`
	Frame               int         `json:"frame"`
	Params              [7]*float64 `json:"params"`
	Type                string      `json:"type"`
	// Complex is the whole ComplexItem object (Type "ComplexItem").
	Complex json.RawMessage `json:"-"`
	// ComplexType is its complexItemType.
	ComplexType string `json:"-"`
}

type complexHead struct {
	Type            string `json:"type"`
	ComplexItemType string `json:"complexItemType"`
	Transect        *struct {
		Items []Item `json:"Items"`
	} `json:"TransectStyleComplexItem"`
}

// UnmarshalJSON reads a SimpleItem or keeps a ComplexItem raw.
func (it *Item) UnmarshalJSON(b []byte) error {
	var h complexHead
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	if h.Type == "ComplexItem" {
		*it = Item{Type: h.Type, Complex: append(json.RawMessage(nil), b...), ComplexType: h.ComplexItemType}
		return nil
	}
	type plain Item
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*it = Item(p)
	return nil
}

// MarshalJSON writes a SimpleItem, or a ComplexItem as it was read.
func (it Item) MarshalJSON() ([]byte, error) {
	if it.Type == "ComplexItem" {
		return it.Complex, nil
	}
	type plain Item
	return json.Marshal(plain(it))
}

// GeoFence is the geoFence section.
type GeoFence struct {
	BreachReturn *[3]float64    `json:"breachReturn,omitempty"`
	Circles      []FenceCircle  `json:"circles"`
	Polygons     []FencePolygon `json:"polygons"`
	Version      int            `json:"version"`
}

// FencePolygon is an inclusion or exclusion polygon, [lat, lon] vertices,
// not closed.
type FencePolygon struct {
	Inclusion bool         `json:"inclusion"`
	Polygon   [][2]float64 `json:"polygon"`
	Version   int          `json:"version"`
}

// FenceCircle is an inclusion or exclusion circle.
type FenceCircle struct {
	Circle struct {
		Center [2]float64 `json:"center"`
		Radius float64    `json:"radius"`
	} `json:"circle"`
	Inclusion bool `json:"inclusion"`
	Version   int  `json:"version"`
}

// RallyList is the rallyPoints section: [lat, lon, alt above home].
type RallyList struct {
	Points  [][3]float64 `json:"points"`
	Version int          `json:"version"`
}

// Decode parses a .plan file. Returns fleet Invalid with what is wrong.
func Decode(data []byte) (*Plan, error) {
	if len(data) > MaxBytes {
		return nil, fleet.Errorf(fleet.Invalid, ".plan of %d bytes: at most %d", len(data), MaxBytes)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fleet.Errorf(fleet.Invalid, "not a .plan file: %v", err)
	}
	if p.FileType != "Plan" {
		return nil, fleet.Errorf(fleet.Invalid, "fileType %q, want \"Plan\"", p.FileType)
	}
	if p.Version != 1 {
		return nil, fleet.Errorf(fleet.Invalid, "plan version %d not supported (want 1)", p.Version)
	}
	if p.Mission.Version != 2 {
		return nil, fleet.Errorf(fleet.Invalid, "mission version %d not supported (want 2)", p.Mission.Version)
	}
	if n := len(p.Mission.Items) + len(p.GeoFence.Polygons) + len(p.GeoFence.Circles) + len(p.RallyPoints.Points); n > MaxItems {
		return nil, fleet.Errorf(fleet.Invalid, ".plan has %d items: at most %d", n, MaxItems)
	}
	for i, it := range p.Mission.Items {
		if it.Type != "SimpleItem" && it.Type != "ComplexItem" {
			return nil, fleet.Errorf(fleet.Invalid, "mission item %d: unknown type %q", i, it.Type)
		}
	}
	return &p, nil
}

// Encode writes p as QGC does: 4-space indentation, keys in alphabetical
// order, lat/lon as full doubles.
func Encode(p *Plan) ([]byte, error) {
	q := *p
	if q.GeoFence.Circles == nil {
		q.GeoFence.Circles = []FenceCircle{}
	}
	if q.GeoFence.Polygons == nil {
		q.GeoFence.Polygons = []FencePolygon{}
	}
	if q.RallyPoints.Points == nil {
		q.RallyPoints.Points = [][3]float64{}
	}
	if q.Mission.Items == nil {
		q.Mission.Items = []Item{}
	}
	raw, err := json.Marshal(&q)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "    "); err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func num(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

// MissionItems converts the mission to fleet items for ArduPilot: seq 0
// is plannedHomePosition, then every simple item (survey and CorridorScan
// expanded into their generated items), DO_JUMP targets mapped from
// doJumpId to seq. Returns Invalid naming an item that cannot be converted.
func (p *Plan) MissionItems() ([]fleet.MissionItem, error) {
	h := p.Mission.PlannedHomePosition
	out := []fleet.MissionItem{{Seq: 0, Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Current: true, Autocontinue: true, Lat: h[0], Lon: h[1], Alt: h[2]}}
	seqOf := map[int]int{}
	var jumps []int
	var add func(i int, it Item) error
	add = func(i int, it Item) error {
		if it.Type == "ComplexItem" {
			var ch complexHead
			if err := json.Unmarshal(it.Complex, &ch); err != nil {
				return fleet.Errorf(fleet.Invalid, "mission item %d: %v", i, err)
			}
			if (ch.ComplexItemType != "survey" && ch.ComplexItemType != "CorridorScan") || ch.Transect == nil || len(ch.Transect.Items) == 0 {
				return fleet.Errorf(fleet.Invalid, "mission item %d: complex item %q is not supported (it stores no generated waypoints): convert it to simple items in QGroundControl first", i, ch.ComplexItemType)
			}
			for _, sub := range ch.Transect.Items {
				if err := add(i, sub); err != nil {
					return err
				}
			}
			return nil
		}
		m := fleet.MissionItem{Seq: len(out), Frame: fleet.Frame(it.Frame), Command: fleet.MissionCommand(it.Command), Autocontinue: it.AutoContinue,
			Param1: val(it.Params[0]), Param2: val(it.Params[1]), Param3: val(it.Params[2]), Param4: val(it.Params[3]),
			Lat: val(it.Params[4]), Lon: val(it.Params[5]), Alt: val(it.Params[6])}
		for _, f := range []*float64{&m.Param1, &m.Param2, &m.Param3, &m.Lat, &m.Lon} {
			if math.IsNaN(*f) {
				*f = 0
			}
		}
		if math.IsNaN(m.Alt) {
			if it.Altitude != nil {
				m.Alt = *it.Altitude // AltitudeMode 3 before terrain data: the entered altitude
			} else {
				m.Alt = 0
			}
		}
		if it.DoJumpID > 0 {
			seqOf[it.DoJumpID] = m.Seq
		}
		if m.Command == fleet.CmdDoJump {
			jumps = append(jumps, m.Seq)
		}
		out = append(out, m)
		return nil
	}
	for i, it := range p.Mission.Items {
		if err := add(i, it); err != nil {
			return nil, err
		}
	}
	for _, s := range jumps {
		seq, ok := seqOf[int(out[s].Param1)]
		if !ok {
			return nil, fleet.Errorf(fleet.Invalid, "mission item %d: DO_JUMP to doJumpId %v, which no item has", s, out[s].Param1)
		}
		out[s].Param1 = float64(seq)
	}
	return out, nil
}

// FromMission builds a plan from fleet items whose seq 0 is home (as
// patrol.Mission and ArduPilot downloads have it), with an ArduPilot
// multicopter as firmware and vehicle, and the given fences and rally
// points.
func FromMission(items []fleet.MissionItem, hoverSpeed float64, fences []geofence.FenceShape, rally [][3]float64) *Plan {
	p := &Plan{FileType: "Plan", GroundStation: "Centinela", Version: 1,
		GeoFence: GeoFence{Version: 2}, RallyPoints: RallyList{Version: 2, Points: rally}}
	fw, vt, mode := 3, 2, 1
	p.Mission = Mission{Version: 2, FirmwareType: fw, VehicleType: &vt, GlobalPlanAltitudeMode: &mode}
	if hoverSpeed > 0 {
		p.Mission.HoverSpeed = &hoverSpeed
	}
	if len(items) > 0 {
		p.Mission.PlannedHomePosition = [3]float64{items[0].Lat, items[0].Lon, items[0].Alt}
	}
	for i := 1; i < len(items); i++ {
		m := items[i]
		it := Item{Type: "SimpleItem", AutoContinue: m.Autocontinue, Command: int(m.Command), DoJumpID: i, Frame: int(m.Frame),
			Params: [7]*float64{num(m.Param1), num(m.Param2), num(m.Param3), num(m.Param4), num(m.Lat), num(m.Lon), num(m.Alt)}}
		if m.Command == fleet.CmdDoJump {
			it.Params[0] = num(m.Param1) // seq n is doJumpId n
		}
		if m.Frame != fleet.FrameMission {
			alt, am := m.Alt, 1
			switch m.Frame {
			case fleet.FrameGlobal:
				am = 2
			case fleet.FrameGlobalTerrainAlt:
				am = 4
			}
			it.Altitude, it.AltitudeMode = &alt, &am
		}
		p.Mission.Items = append(p.Mission.Items, it)
	}
	for _, f := range fences {
		inc := f.Kind == geofence.Inclusion
		if f.IsCircle() {
			var c FenceCircle
			c.Circle.Center, c.Circle.Radius, c.Inclusion, c.Version = [2]float64{f.Center.Lat, f.Center.Lon}, f.RadiusM, inc, 1
			p.GeoFence.Circles = append(p.GeoFence.Circles, c)
			continue
		}
		fp := FencePolygon{Inclusion: inc, Version: 1}
		for _, v := range f.Polygon {
			fp.Polygon = append(fp.Polygon, [2]float64{v.Lat, v.Lon})
		}
		p.GeoFence.Polygons = append(p.GeoFence.Polygons, fp)
	}
	return p
}

// Zones converts the plan's fence into geofence zones of jurisdiction j,
// named prefix-polygon-N and prefix-circle-N, validated. Returns Invalid
// with the problems of an invalid fence.
func (p *Plan) Zones(prefix string, j geofence.Jurisdiction) ([]geofence.Zone, error) {
	var zones []geofence.Zone
	kind := func(inc bool) geofence.Kind {
		if inc {
			return geofence.Inclusion
		}
		return geofence.Exclusion
	}
	for i, fp := range p.GeoFence.Polygons {
		var ring orb.Ring
		for _, v := range fp.Polygon {
			ring = append(ring, orb.Point{v[1], v[0]})
		}
		if len(ring) > 0 {
			ring = append(ring, ring[0])
		}
		zones = append(zones, geofence.Zone{ID: fmt.Sprintf("%s-polygon-%d", prefix, i+1), Kind: kind(fp.Inclusion), Jurisdiction: j,
			Polygon: orb.Polygon{ring}, Source: "QGroundControl .plan"})
	}
	for i, c := range p.GeoFence.Circles {
		zones = append(zones, geofence.Zone{ID: fmt.Sprintf("%s-circle-%d", prefix, i+1), Kind: kind(c.Inclusion), Jurisdiction: j,
			Center: orb.Point{c.Circle.Center[1], c.Circle.Center[0]}, RadiusM: c.Circle.Radius, Source: "QGroundControl .plan"})
	}
	if _, err := geofence.NewSet(zones, nil, nil); err != nil {
		return nil, fleet.Errorf(fleet.Invalid, "fence of the .plan: %v", err)
	}
	return zones, nil
}
