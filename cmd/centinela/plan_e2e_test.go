package main

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	fpatrol "github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/centinela-gcs/centinela/sim"
	"github.com/paulmach/orb"
)

// A planned patrol dispatched to a simulated drone is flown to the end
// without a breach: a US drone at San Ysidro flies two laps (DO_JUMP) of
// the perimeter of a square that straddles the border, so the planner
// keeps it on the US side with its margin, and the zone guard accepts the
// mission.
func TestPlannedPatrolFlownWithoutBreach(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.DroneAgencies.BySysID = map[uint8]string{1: agencyUS}
	srv := mustServer(t, cfg)
	ev := record(t, srv.Fleet)
	home := sanYsidro
	mustSwarm(t, sim.Config{Drones: 1, Connect: "udpout:" + srv.MAVLinkAddr(0).String(), Home: &home, Seed: 11})
	id := waitDiscovered(t, srv.Fleet, 1)[0]
	var st fleet.DroneState
	eventually(t, 30*time.Second, "home position", func() bool {
		st = droneState(t, srv.Fleet, id)
		return st.HasHome
	})

	// A 700 m square centred 150 m north of the line, two laps.
	const d = 0.0035
	lat, lon := 32.5432, -117.0330
	area := orb.Polygon{{{lon - d, lat - d}, {lon + d, lat - d}, {lon + d, lat + d}, {lon - d, lat + d}, {lon - d, lat - d}}}
	res, err := fpatrol.Plan(srv.Zones, plan.Request{Kind: plan.Perimeter, Agency: st.Agency, Area: area, Laps: 2, AltM: 30, SpeedMPS: 10,
		Drones: []plan.Drone{{ID: id, Home: plan.LatLon{Lat: st.Home.Lat, Lon: st.Home.Lon}, HomeAMSL: st.Home.AltMSL, HasHomeAMSL: true}}})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	rt := res.Routes[0]
	if rt.Loop == nil {
		t.Fatal("no loop in a two-lap perimeter")
	}
	// The route really cuts the square along the line: some waypoints are
	// inside it near the line, none south of it.
	set := srv.Zones.Snapshot()
	for i, w := range rt.Waypoints {
		r, err := set.CheckPoint(agencyUS, geofence.Pos(w.Lat, w.Lon, w.AltM), time.Now())
		if err != nil || !r.Allowed {
			t.Fatalf("waypoint %d outside the US drone's allowed space: %+v %v", i, r, err)
		}
	}
	items := fpatrol.Mission(rt, fpatrol.Options{Jump: true, HomeAMSL: st.Home.AltMSL})
	ctx := opCtx(t, 60*time.Second)
	from := ev.mark()
	mid, err := srv.Fleet.UploadMission(ctx, id, fleet.MissionTypeMission, items, fleet.UploadOptions{})
	if err != nil {
		t.Fatalf("upload (zone guard on): %v", err)
	}
	if err := srv.Fleet.StartMission(ctx, id, fleet.StartOptions{ArmWait: 20 * time.Second}); err != nil {
		t.Fatalf("start: %v", err)
	}
	simFlight := rt.Duration/testSpeedup + 30*time.Second
	await(t, ev, simFlight, from, func(e fleet.MissionFinished) bool { return e.DroneID == id && e.MissionID == mid })
	if e, _, ok := find(ev, from, func(e fleet.MissionInterrupted) bool { return e.DroneID == id }); ok {
		t.Fatalf("mission interrupted: %+v", e)
	}
	for _, e := range all[fleet.ZoneStateChanged](ev, from) {
		if e.DroneID == id && e.To == fleet.ZoneBreached {
			t.Fatalf("breach during the planned patrol: %+v", e)
		}
	}
	// Both laps were flown: the lap's last waypoint was reached twice.
	var jumpSeq int
	for _, it := range items {
		if it.Command == fleet.CmdDoJump {
			jumpSeq = it.Seq
		}
	}
	lastOfLap := jumpSeq - 1
	n := 0
	for _, e := range all[fleet.MissionItemReachedEvent](ev, from) {
		if e.DroneID == id && e.Seq == lastOfLap {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the lap's last waypoint (seq %d) reached %d times, want 2", lastOfLap, n)
	}
	ev.checkComplete(t)
}
