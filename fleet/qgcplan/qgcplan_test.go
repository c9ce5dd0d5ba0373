package qgcplan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// Every real QGC file imports; complex items are handled or refused
// clearly; the plan round-trips field by field.
func TestRealPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.plan")
	if len(files) != 5 {
		t.Fatalf("%d .plan files in testdata", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			items, err := p.MissionItems()
			switch {
			case strings.Contains(f, "structured_scan"):
				if fleet.ErrorCode(err) != fleet.Invalid || !strings.Contains(err.Error(), "StructureScan") {
					t.Fatalf("structure scan: %v, want a refusal naming it", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if items[0].Lat != p.Mission.PlannedHomePosition[0] || len(items) < len(p.Mission.Items)+1 {
					t.Fatalf("items %d from %d", len(items), len(p.Mission.Items))
				}
				if strings.Contains(f, "survey") && len(items) < len(p.Mission.Items)+10 {
					t.Fatalf("survey expanded to only %d items", len(items))
				}
			}
			zones, err := p.Zones("f", geofence.US)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(f, "geofence_avoid") {
				kinds := map[geofence.Kind]int{}
				for _, z := range zones {
					kinds[z.Kind]++
				}
				if len(zones) != 3 || kinds[geofence.Exclusion] != 2 || kinds[geofence.Inclusion] != 1 {
					t.Fatalf("fence zones %v", kinds)
				}
			}
			out, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p.Mission.Items {
				a, b := p.Mission.Items[i], q.Mission.Items[i]
				if compact(a.Complex) != compact(b.Complex) {
					t.Fatalf("item %d: complex item changed", i)
				}
				a.Complex, b.Complex = nil, nil
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("item %d: %+v → %+v", i, a, b)
				}
			}
			p.Mission.Items, q.Mission.Items = nil, nil
			if !reflect.DeepEqual(p, q) {
				t.Fatalf("plan changed:\n%+v\n%+v", p, q)
			}
		})
	}
}

// Exported missions (with fences and rally points) round-trip field by
// field.
func TestExportRoundTrip(t *testing.T) {
	items := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Current: true, Autocontinue: true, Lat: 32.548, Lon: -117.0293, Alt: 40},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Autocontinue: true, Alt: 60},
		{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Autocontinue: true, Param1: 1, Param2: 12, Param3: -1},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true, Lat: 32.55, Lon: -117.03, Alt: 60},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true, Param2: 3, Lat: 32.551, Lon: -117.04, Alt: 60},
		{Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Autocontinue: true, Param1: 3, Param2: 2},
		{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true},
	}
	for i := range items {
		items[i].Seq = i
	}
	fences := []geofence.FenceShape{
		{Kind: geofence.Inclusion, Polygon: []geofence.LatLon{{Lat: 32.5, Lon: -117.1}, {Lat: 32.6, Lon: -117.1}, {Lat: 32.6, Lon: -117.0}}},
		{Kind: geofence.Exclusion, Center: geofence.LatLon{Lat: 32.541, Lon: -116.97}, RadiusM: 5000},
	}
	rally := [][3]float64{{32.549, -117.03, 30}}
	p := FromMission(items, 10, fences, rally)
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("plan changed in the round trip")
	}
	back, err := q.MissionItems()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, items) {
		for i := range items {
			if i < len(back) && back[i] != items[i] {
				t.Errorf("item %d: %+v → %+v", i, items[i], back[i])
			}
		}
		t.Fatalf("%d items back from %d", len(back), len(items))
	}
	if len(q.GeoFence.Polygons) != 1 || len(q.GeoFence.Circles) != 1 || q.RallyPoints.Points[0] != rally[0] {
		t.Fatalf("fence %+v rally %+v", q.GeoFence, q.RallyPoints)
	}
}

func TestDecodeRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"not json":   "{",
		"file type":  `{"fileType":"Mission","version":1,"mission":{"version":2}}`,
		"version":    `{"fileType":"Plan","version":2,"mission":{"version":2}}`,
		"mission v1": `{"fileType":"Plan","version":1,"mission":{"version":1}}`,
		"item type":  `{"fileType":"Plan","version":1,"mission":{"version":2,"items":[{"type":"Odd"}]}}`,
	} {
		if _, err := Decode([]byte(in)); fleet.ErrorCode(err) != fleet.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An imported .plan is validated like any route: its fence becomes zones,
// and the zone guard refuses its mission, whose return to launch crosses
// the exclusion circle (what PX4's test is about), accepts it up to its
// last waypoint, and refuses that with a waypoint moved into the
// exclusion polygon.
func TestImportedPlanValidated(t *testing.T) {
	data, err := os.ReadFile("testdata/PX4-Autopilot_multicopter_mission_geofence_avoid.plan")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	zones, err := p.Zones("px4", geofence.US)
	if err != nil {
		t.Fatal(err)
	}
	set, err := geofence.NewSet(zones, []geofence.Agency{{ID: "a", Jurisdictions: []geofence.Jurisdiction{geofence.US}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	items, err := p.MissionItems()
	if err != nil {
		t.Fatal(err)
	}
	h := p.Mission.PlannedHomePosition
	d := fleet.DroneState{ID: "d", Agency: "a", Autopilot: fleet.AutopilotArduPilot, HasHome: true, Home: fleet.Home{Lat: h[0], Lon: h[1], AltMSL: h[2]}}
	guard := fleet.NewZoneGuard(geofence.NewStore(set))
	err = guard.CheckMission(d, fleet.MissionTypeMission, items)
	if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "px4-circle-1") || items[len(items)-1].Command != fleet.CmdNavReturnToLaunch {
		t.Fatalf("the plan's mission against its own fence: %v, want the RTL refused for px4-circle-1", err)
	}
	items = items[:len(items)-1]
	if err := guard.CheckMission(d, fleet.MissionTypeMission, items); err != nil {
		t.Fatalf("the mission without its RTL: %v", err)
	}
	// Into the exclusion polygon.
	var c [2]float64
	for _, v := range p.GeoFence.Polygons[0].Polygon {
		c[0], c[1] = c[0]+v[0]/4, c[1]+v[1]/4
	}
	bad := append([]fleet.MissionItem(nil), items...)
	bad[2].Lat, bad[2].Lon = c[0], c[1]
	err = guard.CheckMission(d, fleet.MissionTypeMission, bad)
	if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "px4-polygon-1") {
		t.Fatalf("waypoint in the exclusion: %v", err)
	}
}
