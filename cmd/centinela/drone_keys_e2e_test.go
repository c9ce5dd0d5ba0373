package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// TestEndToEndDroneKeys: two simulated drones share system id 1, each on
// a link of its own, and a third (system id 2) is known by its
// AUTOPILOT_VERSION uid. Named and assigned to agencies with --drone-name
// and --drone-agency by link key and by uid (issue 20), each gets its own
// name and agency. The simulators listen on TCP so that a first server can
// learn the third drone's uid and a second one, started from the flags,
// connect to the same vehicles.
func TestEndToEndDroneKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	var links []string
	for _, sys := range []uint8{1, 1, 2} {
		sw := mustSwarm(t, sim.Config{Drones: 1, SysIDBase: sys, Listen: "tcpin:127.0.0.1:0", BootDelay: -1, Seed: int64(40 + len(links))})
		links = append(links, "tcp:"+sw.Drones()[0].Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The uid, as a first server shows it.
	first := mustServer(t, testServeConfig(links[2]))
	d, err := first.Fleet.WaitState(ctx, "sysid-2", func(d fleet.DroneState) bool { return d.Version.UID != 0 })
	if err != nil {
		t.Fatalf("uid of the third drone: %v", err)
	}
	uid := d.Version.UID
	first.Close()

	cfg, err := parseServe(t, "--mavlink", links[0], "--mavlink", links[1], "--mavlink", links[2],
		"--drone-name", links[0]+"/1=alfa", "--drone-agency", links[0]+"/1="+agencyUS,
		"--drone-name", links[1]+"/1=bravo", "--drone-agency", links[1]+"/1="+agencyMX,
		"--drone-name", fmt.Sprintf("uid:%016x=charlie", uid), "--drone-agency", fmt.Sprintf("uid:%x=%s", uid, agencyUS),
		"--drone-name", "2=not-by-sysid", // the uid wins over the system id
		"--db", "", "--grpc", "off", "--http", "off")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateServe(&cfg); err != nil {
		t.Fatal(err)
	}
	cfg.LinkTimeout, cfg.StreamHz = 1500*time.Millisecond, 10
	srv := mustServer(t, cfg)
	for _, want := range []struct {
		id, agency, link string
		sys              uint8
	}{
		{"alfa", agencyUS, links[0], 1},
		{"bravo", agencyMX, links[1], 1},
		{"charlie", agencyUS, links[2], 2},
	} {
		d, err := srv.Fleet.WaitState(ctx, want.id, func(d fleet.DroneState) bool { return d.LinkState == fleet.LinkStateUp && d.HasPosition })
		if err != nil {
			t.Fatalf("%s: %v (drones %v)", want.id, err, droneIDs(srv))
		}
		if d.Agency != want.agency || d.Link != want.link || d.SysID != want.sys || d.Name != want.id {
			t.Errorf("%s: agency %s, link %s, sysid %d, name %q; want %s, %s, %d", want.id, d.Agency, d.Link, d.SysID, d.Name, want.agency, want.link, want.sys)
		}
	}
	if ids := droneIDs(srv); len(ids) != 3 {
		t.Errorf("drones %v, want alfa, bravo and charlie only", ids)
	}
}

func droneIDs(srv *server.Server) []string {
	var ids []string
	for _, d := range srv.Fleet.Drones() {
		ids = append(ids, d.ID)
	}
	return ids
}
