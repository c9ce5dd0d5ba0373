package plan

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
)

// Operator waypoints: a leg through the Tijuana airport is reported (leg,
// zone, where) and, on request, repaired with a detour.
func TestOperatorWaypoints(t *testing.T) {
	set := mustDefault(t)
	home := LatLon{Lat: 32.5480, Lon: -117.0293}
	wps := []geofence.Position{geofence.Pos(32.55, -117.04, 60), geofence.Pos(32.56, -117.035, 60), geofence.Pos(32.55, -116.915, 60)}
	req := Request{Kind: Waypoints, Agency: "joint-task-force", Drones: []Drone{{ID: "d", Home: home}}, Waypoints: wps, Endurance: 2 * time.Hour, Start: t0}
	_, err := Plan(set, req, t0)
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeNoRoute || !strings.Contains(err.Error(), "leg 1") || !strings.Contains(err.Error(), "apt-mmtj") {
		t.Fatalf("got %v, want leg 1 through apt-mmtj", err)
	}
	req.Repair = true
	res, err := Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 1 || !res.Issues[0].Repaired || res.Issues[0].ZoneID != "apt-mmtj" || res.Issues[0].Leg != 1 {
		t.Fatalf("issues %+v", res.Issues)
	}
	checkAllowed(t, set, "joint-task-force", res.Routes[0])
	// The detour is longer than the straight leg but not absurdly.
	lc := newLocal(32.55, -117.0)
	a, b := lc.xy(wps[1].Lat, wps[1].Lon), lc.xy(wps[2].Lat, wps[2].Lon)
	if d := res.Routes[0].DistanceM; d < math.Hypot(a[0]-b[0], a[1]-b[1]) {
		t.Fatalf("repaired route %.0f m shorter than the straight leg", d)
	}
	// A waypoint inside the airport cannot be repaired.
	req.Waypoints = append(req.Waypoints, geofence.Pos(32.541, -116.97, 60))
	if _, err := Plan(set, req, t0); !errors.As(err, &pe) || !strings.Contains(err.Error(), "waypoint 3") {
		t.Fatalf("waypoint in the airport: %v", err)
	}
}

// Perimeter direction and coverage ending near its start.
func TestPerimeterDirectionAndReturnNearStart(t *testing.T) {
	set := mustDefault(t)
	home := LatLon{Lat: 32.5480, Lon: -117.0293}
	area := square(32.556, -117.06, 1500)
	for _, cw := range []bool{false, true} {
		res, err := Plan(set, Request{Kind: Perimeter, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: area, Clockwise: cw, Start: t0}, t0)
		if err != nil {
			t.Fatal(err)
		}
		lc := newLocal(32.556, -117.06)
		var ring [][2]float64
		for _, w := range res.Routes[0].Waypoints {
			if w.Phase == PhasePatrol {
				ring = append(ring, lc.xy(w.Lat, w.Lon))
			}
		}
		a := 0.0
		for i := range ring {
			p, q := ring[i], ring[(i+1)%len(ring)]
			a += p[0]*q[1] - q[0]*p[1]
		}
		if (a < 0) != cw {
			t.Errorf("clockwise %v: signed area %.0f", cw, a)
		}
	}
	for _, back := range []bool{false, true} {
		res, err := Plan(set, Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: area, SwathM: 150, ReturnNearStart: back, Endurance: time.Hour, Start: t0}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var first, last *Waypoint
		for i := range res.Routes[0].Waypoints {
			w := &res.Routes[0].Waypoints[i]
			if w.Phase == PhasePatrol {
				if first == nil {
					first = w
				}
				last = w
			}
		}
		lc := newLocal(first.Lat, first.Lon)
		e := lc.xy(last.Lat, last.Lon)
		d := math.Hypot(e[0], e[1])
		if back && d > 400 || !back && d < 800 {
			t.Errorf("return near start %v: ends %.0f m from where it started", back, d)
		}
	}
}

// Shared among drones, each gets the piece nearest to it: no other
// assignment of the pieces is closer overall.
func TestSharingNearest(t *testing.T) {
	set := mustDefault(t)
	area := square(32.565, -117.07, 3000)
	homes := []LatLon{{Lat: 32.555, Lon: -117.095}, {Lat: 32.58, Lon: -117.07}, {Lat: 32.552, Lon: -117.045}}
	req := Request{Kind: Coverage, Agency: "us-agency", Area: area, SwathM: 100, SpeedMPS: 15, Endurance: 2 * time.Hour, Start: t0}
	for i, h := range homes {
		req.Drones = append(req.Drones, Drone{ID: string(rune('a' + i)), Home: h})
	}
	res, err := Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	lc := newLocal(32.565, -117.07)
	cent := map[string][2]float64{}
	for _, rt := range res.Routes {
		var sx, sy float64
		n := 0
		for _, w := range rt.Waypoints {
			if w.Phase == PhasePatrol {
				p := lc.xy(w.Lat, w.Lon)
				sx, sy, n = sx+p[0], sy+p[1], n+1
			}
		}
		cent[rt.DroneID] = [2]float64{sx / float64(n), sy / float64(n)}
	}
	cost := func(perm []int) float64 {
		s := 0.0
		for i, j := range perm {
			h := lc.xy(homes[i].Lat, homes[i].Lon)
			c := cent[string(rune('a'+j))]
			s += math.Hypot(h[0]-c[0], h[1]-c[1])
		}
		return s
	}
	own := cost([]int{0, 1, 2})
	for _, p := range [][]int{{0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		if c := cost(p); c < own-1 {
			t.Errorf("assignment %v (%.0f m) is nearer than the planned one (%.0f m)", p, c, own)
		}
	}
}

// A border corridor shared between two MX drones: balanced within 10 %,
// each on its own stretch, both on the MX side.
func TestCorridorShared(t *testing.T) {
	set := mustDefault(t)
	boundary, _ := set.Line(geofence.BoundaryLineID)
	jz, _ := set.Zone("joint-nogales-nogales")
	req := Request{Kind: Corridor, Agency: "mx-agency", Line: boundary.Path, Area: jz.Polygon, SpeedMPS: 15, Endurance: 2 * time.Hour, Start: t0,
		Drones: []Drone{{ID: "east", Home: LatLon{Lat: 31.30, Lon: -110.87}}, {ID: "west", Home: LatLon{Lat: 31.30, Lon: -111.02}}}}
	res, err := Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Routes) != 2 || len(res.Checks) != 1 || !res.Checks[0].Passed {
		t.Fatalf("%d routes, checks %+v", len(res.Routes), res.Checks)
	}
	for _, rt := range res.Routes {
		checkAllowed(t, set, "mx-agency", rt)
		var lon float64
		n := 0
		for _, w := range rt.Waypoints {
			if w.Phase == PhasePatrol {
				lon += w.Lon
				n++
			}
		}
		lon /= float64(n)
		if (rt.DroneID == "east") != (lon > -110.94) {
			t.Errorf("drone %s patrols around longitude %.3f: not its nearer half", rt.DroneID, lon)
		}
	}
}
