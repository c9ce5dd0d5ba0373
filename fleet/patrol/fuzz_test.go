package patrol

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/paulmach/orb"
)

// fuzzRoute decodes a route's waypoints from b: 32 bytes each, latitude,
// longitude, altitude and speed as little-endian float64 bits (NaN and
// infinities included), at most 512.
func fuzzRoute(b []byte) []plan.Waypoint {
	var out []plan.Waypoint
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])) }
	for len(b) >= 32 && len(out) < 512 {
		out = append(out, plan.Waypoint{LatLon: plan.LatLon{Lat: f(0), Lon: f(1)}, AltM: f(2), SpeedMPS: f(3),
			ETA: time.Duration(len(out)) * time.Second, Phase: plan.PhasePatrol})
		b = b[32:]
	}
	return out
}

func encodeRoute(wps []plan.Waypoint) []byte {
	var b []byte
	for _, w := range wps {
		for _, v := range []float64{w.Lat, w.Lon, w.AltM, w.SpeedMPS} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// sane reports whether a waypoint is one a planner could produce.
func sane(w plan.Waypoint) bool {
	return w.Lat >= -90 && w.Lat <= 90 && w.Lon >= -180 && w.Lon <= 180 &&
		w.AltM >= 0 && w.AltM <= 10_000 && w.SpeedMPS > 0 && w.SpeedMPS <= 100
}

// FuzzMission: no route, however malformed its laps (a route read back
// from the store, or a planner bug), makes Mission panic, loop or grow: the
// items are numbered from 0, start at home and end with RTL, hold at most
// one waypoint item per waypoint (plus take-off, speed changes, one jump),
// every DO_JUMP points back at a waypoint item and repeats at least once,
// and a route of sane waypoints gives items the fleet's own mission check
// accepts.
func FuzzMission(f *testing.F) {
	set, err := geofence.Default(geofence.Agency{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
	if err != nil {
		f.Fatal(err)
	}
	d := 0.006
	area := orb.Polygon{{{-117.06 - d, 32.55 - d}, {-117.06 + d, 32.55 - d}, {-117.06 + d, 32.55 + d}, {-117.06 - d, 32.55 + d}, {-117.06 - d, 32.55 - d}}}
	res, err := Plan(geofence.NewStore(set), plan.Request{Kind: plan.Perimeter, Agency: "us-agency",
		Drones: []plan.Drone{{ID: "d", Home: plan.LatLon{Lat: 32.5480, Lon: -117.0293}}}, Area: area, Laps: 3, Endurance: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	rt := res.Routes[0]
	// A planned route with its loop, as planned and with broken loops.
	f.Add(encodeRoute(rt.Waypoints), rt.Loop.First, rt.Loop.Last, rt.Loop.Laps, true, false, 40.0, 0.0)
	f.Add(encodeRoute(rt.Waypoints), rt.Loop.First, rt.Loop.Last, rt.Loop.Laps, false, true, 0.0, 2.0)
	f.Add(encodeRoute(rt.Waypoints), rt.Loop.Last, rt.Loop.First, rt.Loop.Laps, true, false, 40.0, 0.0)
	f.Add(encodeRoute(rt.Waypoints), rt.Loop.First, rt.Loop.Last, math.MaxInt, true, false, 40.0, 0.0)
	f.Add(encodeRoute(rt.Waypoints[:4]), 1, 2, 1000, true, false, 40.0, 0.0)
	f.Add(encodeRoute(rt.Waypoints[:4]), -3, 2, 3, true, false, 40.0, 0.0)
	f.Add([]byte{}, 0, 0, 0, true, false, math.NaN(), math.Inf(1))
	f.Add(encodeRoute([]plan.Waypoint{{LatLon: plan.LatLon{Lat: math.NaN(), Lon: 500}, AltM: math.Inf(1), SpeedMPS: -1}}), 0, 0, 2, true, true, 1e300, -5.0)
	f.Fuzz(func(t *testing.T, wpb []byte, first, last, laps int, jump, airborne bool, homeAMSL, radius float64) {
		r := plan.Route{DroneID: "d", Home: rt.Home, Airborne: airborne, Waypoints: fuzzRoute(wpb)}
		if laps != 0 {
			r.Loop = &plan.Loop{First: first, Last: last, Laps: laps}
		}
		items := Mission(r, Options{HomeAMSL: homeAMSL, Jump: jump, AcceptRadiusM: radius})
		n := len(r.Waypoints)
		if len(items) < 2 || len(items) > 2*n+4 {
			t.Fatalf("%d items for %d waypoints", len(items), n)
		}
		if items[0].Frame != fleet.FrameGlobal || items[len(items)-1].Command != fleet.CmdNavReturnToLaunch {
			t.Fatalf("mission starts %+v, ends %+v", items[0], items[len(items)-1])
		}
		wps, jumps := 0, 0
		for i, it := range items {
			if it.Seq != i {
				t.Fatalf("item %d has seq %d", i, it.Seq)
			}
			switch it.Command {
			case fleet.CmdNavWaypoint:
				if i > 0 {
					wps++
				}
			case fleet.CmdDoJump:
				jumps++
				to := int(it.Param1)
				if float64(to) != it.Param1 || to <= 0 || to >= i || items[to].Command != fleet.CmdNavWaypoint || !(it.Param2 >= 1) {
					t.Fatalf("item %d: DO_JUMP to %v, %v more times", i, it.Param1, it.Param2)
				}
			}
		}
		if wps > n || jumps > 1 || (!jump && jumps > 0) {
			t.Fatalf("%d waypoint items and %d jumps for %d waypoints (jump %v)", wps, jumps, n, jump)
		}
		if jumps == 0 && wps != n {
			t.Fatalf("%d waypoint items for %d waypoints without a jump", wps, n)
		}
		allSane := finite(homeAMSL) && math.Abs(homeAMSL) < fleet.MaxAltMSL && finite(radius)
		for _, w := range r.Waypoints {
			allSane = allSane && sane(w)
		}
		if !allSane {
			return
		}
		for _, it := range items {
			if err := fleet.CheckMissionItem(it); err != nil {
				t.Fatalf("a mission of sane waypoints fails the fleet's check: %v (%+v)", err, it)
			}
		}
	})
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
