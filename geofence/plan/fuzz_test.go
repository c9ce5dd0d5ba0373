package plan

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// fuzzKinds are the kinds a fuzzed request picks from (one invalid).
var fuzzKinds = []Kind{Perimeter, Coverage, Corridor, Transit, Waypoints, "spiral"}

// fuzzPoints turns b into up to 64 points around (lat, lon): each 4 bytes
// are a signed offset east and north in units of scaleM metres.
func fuzzPoints(b []byte, lat, lon, scaleM float64) []LatLon {
	var out []LatLon
	for len(b) >= 4 && len(out) < 64 {
		dx := float64(int16(binary.LittleEndian.Uint16(b))) / 100
		dy := float64(int16(binary.LittleEndian.Uint16(b[2:]))) / 100
		b = b[4:]
		dl := dy * scaleM / degToM
		dn := dx * scaleM / (degToM * math.Cos(lat*math.Pi/180))
		out = append(out, LatLon{Lat: lat + dl, Lon: lon + dn})
	}
	return out
}

func wgs84(p LatLon) bool {
	return !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon) && p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180
}

func finiteF(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// FuzzPlan: no request makes the planner panic; every refusal is an *Error
// with a known code; every accepted route has finite WGS84 waypoints at a
// finite altitude and positive speed, non-negative ETAs, a finite distance
// and duration, and stays in the agency's allowed space (geofence's own
// check, independent of the planner's).
func FuzzPlan(f *testing.F) {
	set := mustDefault(f)
	sq := func(m float64) []byte { // a square of side m metres (at scale 15) around the centre
		h := int16(min(m/2/0.15, math.MaxInt16))
		var b []byte
		for _, c := range [][2]int16{{-h, -h}, {h, -h}, {h, h}, {-h, h}} {
			b = binary.LittleEndian.AppendUint16(b, uint16(c[0]))
			b = binary.LittleEndian.AppendUint16(b, uint16(c[1]))
		}
		return b
	}
	// kind, centre lat, lon, point scale, alt, speed, swath, overlap, margin,
	// offset, sweep (NaN: none), laps, battery, drones, points. The centre
	// is San Diego's side of the border; the drone's home is the centre.
	f.Add(uint8(0), 32.548, -117.06, 15.0, 60.0, 10.0, 50.0, 0.1, 30.0, 150.0, math.NaN(), int8(1), 100.0, uint8(1), sq(1500))
	f.Add(uint8(1), 32.548, -117.06, 15.0, 60.0, 12.0, 150.0, 0.2, 30.0, 150.0, 45.0, int8(1), 80.0, uint8(2), sq(1500))
	f.Add(uint8(2), 32.55, -117.06, 30.0, 60.0, 15.0, 50.0, 0.1, 30.0, 200.0, math.NaN(), int8(2), 100.0, uint8(1), sq(1500))
	f.Add(uint8(3), 32.548, -117.0293, 10.0, 60.0, 10.0, 0.0, 0.0, 0.0, 0.0, math.NaN(), int8(0), 100.0, uint8(1), sq(3000))
	f.Add(uint8(4), 32.548, -117.06, 10.0, 60.0, 10.0, 0.0, 0.0, 30.0, 0.0, math.NaN(), int8(0), 100.0, uint8(1), sq(1200))
	f.Add(uint8(1), 32.548, -117.06, 15.0, math.Inf(1), math.NaN(), -3.0, 2.0, 0.0, 0.0, math.Inf(-1), int8(-5), 300.0, uint8(0), []byte{1, 2, 3})
	f.Add(uint8(1), 95.0, 200.0, 1e9, 60.0, 10.0, 0.001, 0.9, 1.0, 1e12, 0.0, int8(127), 1.0, uint8(65), sq(30000))
	f.Fuzz(func(t *testing.T, kind uint8, lat, lon, scaleM, alt, speed, swath, overlap, margin, offset, sweep float64,
		laps int8, battery float64, drones uint8, pts []byte) {
		if !finiteF(scaleM) || math.Abs(scaleM) > 1e4 {
			scaleM = 15 // keep the area's size where planning stays quick
		}
		req := Request{Kind: fuzzKinds[int(kind)%len(fuzzKinds)], Agency: "us-agency", AltM: alt, SpeedMPS: speed,
			SwathM: swath, Overlap: overlap, MarginM: margin, OffsetM: offset, Laps: int(laps), Endurance: time.Hour,
			Start: t0}
		if kind >= 128 {
			req.Agency = "joint-task-force"
		}
		if !math.IsNaN(sweep) {
			req.SweepDeg = &sweep
		}
		for i := 0; i < int(drones%8); i++ {
			req.Drones = append(req.Drones, Drone{ID: string(rune('a' + i)), Home: LatLon{Lat: lat, Lon: lon}, BatteryPct: battery})
		}
		ps := fuzzPoints(pts, lat, lon, scaleM)
		switch req.Kind {
		case Corridor:
			for _, p := range ps {
				req.Line = append(req.Line, orb.Point{p.Lon, p.Lat})
			}
		case Transit:
			if len(ps) > 0 {
				req.To = ps[len(ps)-1]
			}
		case Waypoints:
			for _, p := range ps {
				req.Waypoints = append(req.Waypoints, geofence.Pos(p.Lat, p.Lon, alt))
			}
		default:
			var ring orb.Ring
			for _, p := range ps {
				ring = append(ring, orb.Point{p.Lon, p.Lat})
			}
			if len(ring) > 0 {
				ring = append(ring, ring[0])
			}
			req.Area = orb.Polygon{ring}
		}
		res, err := Plan(set, req, t0)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *plan.Error", err, err)
			}
			switch pe.Code {
			case CodeInvalid, CodeNotFound, CodeNoRoute, CodeEndurance:
			default:
				t.Fatalf("error code %q: %v", pe.Code, err)
			}
			if pe.Message == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if len(res.Routes) == 0 {
			t.Fatal("accepted without a route")
		}
		for _, rt := range res.Routes {
			if !finiteF(rt.DistanceM, rt.BatteryPct) || rt.DistanceM < 0 || rt.Duration < 0 || len(rt.Waypoints) == 0 {
				t.Fatalf("route %s: distance %v, duration %v, battery %v, %d waypoints", rt.DroneID, rt.DistanceM, rt.Duration, rt.BatteryPct, len(rt.Waypoints))
			}
			route := make([]geofence.Position, len(rt.Waypoints))
			for i, w := range rt.Waypoints {
				if !wgs84(w.LatLon) || !finiteF(w.AltM, w.SpeedMPS) || w.SpeedMPS <= 0 || w.ETA < 0 {
					t.Fatalf("route %s waypoint %d: %+v", rt.DroneID, i, w)
				}
				route[i] = geofence.Pos(w.Lat, w.Lon, w.AltM)
			}
			if v, err := set.CheckRoute(req.Agency, route, t0); err != nil || v != nil {
				t.Fatalf("route %s leaves the allowed space: %v %v", rt.DroneID, v, err)
			}
		}
	})
}

// FuzzRegistry: no volume makes the registry panic; a refused volume
// changes nothing; an accepted one is held as asked (or at the layer or
// start it was moved to) and never meets another held volume.
func FuzzRegistry(f *testing.F) {
	f.Add(32.5, -117.0, 50.0, 60.0, 5.0, int64(0), int64(1800), uint8(2), []byte{0, 0, 0, 0, 100, 0, 100, 0}, true)
	f.Add(32.5, -117.0, 20.0, 60.0, 10.0, int64(600), int64(600), uint8(3), []byte{0, 0, 0, 0, 10, 0, 10, 0, 20, 0, 0, 0}, false)
	f.Add(math.NaN(), 500.0, -1.0, math.Inf(1), math.NaN(), int64(-1), int64(-100), uint8(1), []byte{1}, true)
	f.Add(32.5, -117.0, 1e300, 1e300, 1e300, int64(math.MaxInt64/2), int64(math.MaxInt64/2), uint8(1), []byte{0, 0, 0, 0, 1, 0, 1, 0}, true)
	f.Fuzz(func(t *testing.T, lat, lon, buffer, alt, vertical float64, startS, lenS int64, n uint8, pts []byte, resolve bool) {
		var r Registry
		r.Now = func() time.Time { return t0 }
		// Two volumes held already, crossing the area.
		for i, path := range [][]LatLon{
			{{Lat: 32.49, Lon: -117.01}, {Lat: 32.51, Lon: -116.99}},
			{{Lat: 32.51, Lon: -117.01}, {Lat: 32.49, Lon: -116.99}},
		} {
			v := Volume{PatrolID: string(rune('A' + i)), DroneID: "held", Path: path, BufferM: 30, AltM: 60, VerticalM: 5,
				Start: t0, End: t0.Add(time.Hour)}
			if _, err := r.Reserve(v, Resolve{}); err != nil && i == 0 {
				t.Fatal(err)
			}
		}
		before := r.List()
		start := t0.Add(time.Duration(startS%(1<<40)) * time.Second)
		v := Volume{PatrolID: "new", DroneID: "d", Path: fuzzPoints(pts, lat, lon, 10), BufferM: buffer, AltM: alt, VerticalM: vertical,
			Start: start, End: start.Add(time.Duration(lenS%(1<<40)) * time.Second)}
		opt := Resolve{}
		if resolve {
			opt.Layers = []float64{alt + 20, alt + 40}
			opt.MaxDelay = time.Duration(n) * time.Minute
		}
		if _, err := r.Check(v); err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != CodeInvalid {
				t.Fatalf("check: %v", err)
			}
		}
		res, err := r.Reserve(v, opt)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || (pe.Code != CodeInvalid && pe.Code != CodeConflict) {
				t.Fatalf("reserve: %T %v", err, err)
			}
			if pe.Code == CodeConflict && pe.Conflict == nil {
				t.Fatal("conflict without the volume met")
			}
			if after := r.List(); len(after) != len(before) {
				t.Fatalf("a refused volume changed the registry: %d → %d volumes", len(before), len(after))
			}
			return
		}
		held, ok := r.Get("new")
		if !ok {
			t.Fatalf("reserved %+v but not held", res)
		}
		if !finiteF(held.AltM, held.BufferM, held.VerticalM) || !held.End.After(held.Start) || held.Start.Before(v.Start) {
			t.Fatalf("held volume %+v from %+v", held, v)
		}
		for _, o := range before {
			a, b := held, o
			if intersectSampled(a, b, -1) {
				t.Fatalf("held volume meets %s: %+v", o.PatrolID, held)
			}
		}
		if len(r.List()) != len(before)+1 {
			t.Fatalf("%d volumes after one reservation over %d", len(r.List()), len(before))
		}
	})
}
