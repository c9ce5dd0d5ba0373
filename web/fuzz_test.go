package web

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
)

// FuzzClientMessage: no WebSocket message makes the server panic, and an
// accepted subscription is within the limits.
func FuzzClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"auth","token":"cnt_0123456789abcdef_x"}`,
		`{"type":"subscribe","zones":true,"routes":true,"events":true,"max_rate_hz":4}`,
		`{"type":"subscribe","drones":["sysid-1"],"kinds":["zone_breached","low_battery"]}`,
		`{"type":"subscribe","max_rate_hz":1e308}`, `{"type":"subscribe","drones":[""]}`,
		`{"type":"ping","id":{"a":[1,2]}}`, `{"type":"unsubscribe"}`, `{"type":`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	srv := &Server{MaxRateHz: DefaultMaxRateHz}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m clientMsg
		if json.Unmarshal(data, &m) != nil || m.Type != "subscribe" {
			return
		}
		sub, err := srv.parseSubscription(m)
		if err != nil {
			if fleet.ErrorCode(err) != fleet.Invalid && fleet.ErrorCode(err) != fleet.Exhausted {
				t.Fatalf("error code %q", fleet.ErrorCode(err))
			}
			return
		}
		if !(sub.rateHz > 0) || sub.rateHz > DefaultMaxRateHz || len(sub.drones) > 10000 {
			t.Fatalf("accepted subscription %+v", sub)
		}
	})
}

// FuzzPlan: no plan request makes the built-in planner panic or plan more
// than its limit.
func FuzzPlan(f *testing.F) {
	for _, s := range []string{
		`{"drones":["d"],"shape":"polygon","pattern":"lawnmower","spacing_m":50,"points":[[32.551,-117.031],[32.551,-117.027],[32.548,-117.027]]}`,
		`{"drones":["d"],"shape":"polygon","pattern":"perimeter","points":[[1,1],[1,2],[2,2],[2,1]],"laps":3}`,
		`{"drones":["d"],"shape":"line","pattern":"line","points":[[0,0],[0,0]]}`,
		`{"drones":["d"],"shape":"polygon","pattern":"lawnmower","spacing_m":10,"points":[[-80,-170],[80,-170],[80,170]]}`,
	} {
		f.Add([]byte(s))
	}
	d := fleet.DroneState{ID: "d", HasPosition: true, Position: fleet.Position{Lat: 32.55, Lon: -117.03}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b planBody
		if json.Unmarshal(data, &b) != nil || len(b.Points) > maxAreaPoints {
			return
		}
		req := PlanRequest{Shape: b.Shape, Pattern: b.Pattern, SpacingM: b.SpacingM, AltM: b.AltM, SpeedMS: b.SpeedMS, Laps: b.Laps}
		for _, p := range b.Points {
			if checkLatLon(p[0], p[1]) != nil {
				return
			}
			req.Points = append(req.Points, latLon(p))
		}
		routes, err := PatternPlanner{}.Preview(context.Background(), req, []fleet.DroneState{d})
		if err != nil {
			return
		}
		for _, r := range routes {
			if len(r.Items) > 3*maxWaypoints || !finite(r.DistanceM) {
				t.Fatalf("route of %d items, %v m", len(r.Items), r.DistanceM)
			}
		}
	})
}
