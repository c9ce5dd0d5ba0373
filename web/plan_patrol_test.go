package web

import (
	"context"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// A drone already flying gets a route from where it is (no take-off, the
// speed change first): fleet.StartMission starts it at its first waypoint
// with that speed applied (see its doc), so the planner no longer plans
// such a drone from home.
func TestPatrolPlannerFromTheAir(t *testing.T) {
	set, err := geofence.Default(geofence.Agency{ID: agencyUS, Name: "US", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
	if err != nil {
		t.Fatal(err)
	}
	p := PatrolPlanner{Zones: geofence.NewStore(set)}
	home := fleet.Home{Lat: baseLat, Lon: baseLon, AltMSL: 20}
	flying := fleet.DroneState{ID: "sysid-1", Agency: agencyUS, HasHome: true, Home: home, HasPosition: true,
		Position: fleet.Position{Lat: baseLat + 0.004, Lon: baseLon - 0.002, RelAlt: 40}, Armed: true, Landed: fleet.LandedInAir}
	req := PlanRequest{Shape: "polygon", Pattern: PatternPerimeter, AltM: 40, SpeedMS: 8,
		Points: []geofence.LatLon{{Lat: 32.556, Lon: -117.034}, {Lat: 32.556, Lon: -117.024}, {Lat: 32.548, Lon: -117.024}, {Lat: 32.548, Lon: -117.034}}}
	routes, err := p.Preview(context.Background(), req, []fleet.DroneState{flying})
	if err != nil || len(routes) != 1 {
		t.Fatalf("preview: %v, %v", routes, err)
	}
	items := routes[0].Items
	for _, it := range items {
		if it.Command == fleet.CmdNavTakeoff {
			t.Fatalf("a flying drone's route takes off: %+v", items)
		}
	}
	if len(items) < 3 || items[1].Command != fleet.CmdDoChangeSpeed || items[1].Param2 != 8 || items[2].Command != fleet.CmdNavWaypoint {
		t.Fatalf("items %+v, want home, the speed change, then waypoints", items)
	}
	if d := distanceM(geofence.LatLon{Lat: items[2].Lat, Lon: items[2].Lon}, geofence.LatLon{Lat: flying.Position.Lat, Lon: flying.Position.Lon}); d > 1 {
		t.Errorf("the route starts %.0f m from the flying drone, want where it is", d)
	}

	// On the ground, the same drone takes off from home.
	grounded := flying
	grounded.Armed, grounded.Landed, grounded.Position = false, fleet.LandedOnGround, fleet.Position{Lat: baseLat, Lon: baseLon}
	routes, err = p.Preview(context.Background(), req, []fleet.DroneState{grounded})
	if err != nil || len(routes) != 1 || len(routes[0].Items) < 2 || routes[0].Items[1].Command != fleet.CmdNavTakeoff {
		t.Fatalf("a drone on the ground: %v, %v; want a take-off first", routes, err)
	}
}
