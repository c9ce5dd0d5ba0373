package patrol

import (
	"math"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/paulmach/orb"
)

func TestMissionFromPlannedPerimeterPassesTheGuard(t *testing.T) {
	set, err := geofence.Default(geofence.Agency{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
	if err != nil {
		t.Fatal(err)
	}
	store := geofence.NewStore(set)
	home := plan.LatLon{Lat: 32.5480, Lon: -117.0293}
	d := 0.006
	area := orb.Polygon{{{-117.06 - d, 32.55 - d}, {-117.06 + d, 32.55 - d}, {-117.06 + d, 32.55 + d}, {-117.06 - d, 32.55 + d}, {-117.06 - d, 32.55 - d}}}
	res, err := Plan(store, plan.Request{Kind: plan.Perimeter, Agency: "us-agency", Drones: []plan.Drone{{ID: "d", Home: home}}, Area: area,
		Laps: 3, SpeedMPS: 8, TransitSpeedMPS: 12, Endurance: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rt := res.Routes[0]
	if rt.Loop == nil || rt.Loop.Laps != 3 {
		t.Fatalf("loop %+v", rt.Loop)
	}
	ds := fleet.DroneState{ID: "d", Agency: "us-agency", Autopilot: fleet.AutopilotArduPilot, HasHome: true,
		Home: fleet.Home{Lat: home.Lat, Lon: home.Lon, AltMSL: 40}}
	for _, jump := range []bool{false, true} {
		items := Mission(rt, Options{Jump: jump, HomeAMSL: 40})
		if items[0].Frame != fleet.FrameGlobal || items[0].Lat != home.Lat || items[1].Command != fleet.CmdNavTakeoff ||
			items[2].Command != fleet.CmdDoChangeSpeed || items[2].Param2 != 12 || items[len(items)-1].Command != fleet.CmdNavReturnToLaunch {
			t.Fatalf("jump %v: mission starts %+v %+v %+v, ends %+v", jump, items[0], items[1], items[2], items[len(items)-1])
		}
		speeds, wps, jumps := 0, 0, 0
		for i, it := range items {
			if it.Seq != i {
				t.Fatalf("item %d has seq %d", i, it.Seq)
			}
			switch it.Command {
			case fleet.CmdDoChangeSpeed:
				speeds++
			case fleet.CmdNavWaypoint:
				wps++
			case fleet.CmdDoJump:
				jumps++
				target := items[int(it.Param1)]
				first := rt.Waypoints[rt.Loop.First]
				if target.Command != fleet.CmdNavWaypoint || math.Abs(target.Lat-first.Lat) > 1e-12 || it.Param2 != 2 {
					t.Fatalf("DO_JUMP %+v → %+v, want the lap's first waypoint, repeated 2 more times", it, target)
				}
			}
		}
		if speeds != 3 { // transit 12, patrol 8, return 12
			t.Errorf("jump %v: %d speed changes, want 3", jump, speeds)
		}
		want := len(rt.Waypoints) + 1
		if jump {
			want -= 2 * (rt.Loop.Last - rt.Loop.First + 1)
			if jumps != 1 {
				t.Errorf("%d DO_JUMPs", jumps)
			}
		}
		if wps != want {
			t.Errorf("jump %v: %d waypoint items, want %d", jump, wps, want)
		}
		if err := Check(store, ds, items); err != nil {
			t.Fatalf("jump %v: the zone guard refuses the planned mission: %v", jump, err)
		}
	}
	// The guard refuses the same mission for an MX-only drone.
	set2, _ := set.WithAgency(geofence.Agency{ID: "mx-agency", Jurisdictions: []geofence.Jurisdiction{geofence.MX}})
	ds.Agency = "mx-agency"
	if err := Check(geofence.NewStore(set2), ds, Mission(rt, Options{})); fleet.ErrorCode(err) != fleet.Conflict {
		t.Fatalf("MX drone on a US patrol: %v, want conflict", err)
	}
}

func TestErr(t *testing.T) {
	for _, c := range []struct {
		in   plan.Code
		want fleet.Code
	}{{plan.CodeInvalid, fleet.Invalid}, {plan.CodeNotFound, fleet.NotFound}, {plan.CodeNoRoute, fleet.Conflict}, {plan.CodeEndurance, fleet.Conflict}, {plan.CodeConflict, fleet.Conflict}} {
		err := Err(&plan.Error{Code: c.in, Message: "m"})
		if fleet.ErrorCode(err) != c.want || fleet.ErrorMessage(err) != "m" {
			t.Errorf("%s → %v", c.in, err)
		}
	}
	if Err(nil) != nil {
		t.Error("nil")
	}
}

func TestDroneOf(t *testing.T) {
	st := fleet.DroneState{ID: "d", HasHome: true, Home: fleet.Home{Lat: 32.5, Lon: -117, AltMSL: 40}, HasPosition: true,
		Position: fleet.Position{Lat: 32.51, Lon: -117.01, RelAlt: 50}, Armed: true, Landed: fleet.LandedInAir,
		Battery: fleet.Battery{RemainingPct: 64}}
	d := DroneOf(st, 30*time.Minute)
	if d.ID != "d" || d.Home.Lat != 32.5 || !d.HasHomeAMSL || d.HomeAMSL != 40 || d.Position == nil || d.Position.Lat != 32.51 ||
		d.BatteryPct != 64 || d.Endurance != 30*time.Minute {
		t.Fatalf("%+v", d)
	}
	st.Armed, st.Battery.RemainingPct, st.Home.AltMSL = false, -1, math.NaN()
	if d := DroneOf(st, 0); d.Position != nil || d.BatteryPct != 0 || d.HasHomeAMSL {
		t.Fatalf("on the ground, battery and altitude unknown: %+v", d)
	}
}
