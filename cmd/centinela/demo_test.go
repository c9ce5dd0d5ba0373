package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/centinela-gcs/centinela/sim"
)

// The demo's drones fly their patrols as missions to the end, land, get a
// fresh battery and go again.
func TestDemoFliesPatrols(t *testing.T) {
	if testing.Short() {
		t.Skip("flies the demo: skipped with -short")
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--grpc", "127.0.0.1:0", "--sim", "2", "--sim-speedup", "40", "--sim-boot-delay", "0",
			"--laps", "2", "--radius", "80", "--altitude", "30", "--status", "0", "--log-format", "json", "--http", "127.0.0.1:0"}, io.Discard, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	}()

	type rec struct {
		Msg     string `json:"msg"`
		DroneID string `json:"drone_id"`
		Sortie  int    `json:"sortie"`
		Mission string `json:"mission"`
		Err     string `json:"err"`
	}
	lines := make(chan rec, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var r rec
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				select {
				case lines <- r:
				default: // the test stopped reading; keep draining the pipe
				}
			}
		}
	}()

	ended := map[string]bool{}
	second := map[string]bool{}
	timeout := time.After(60 * time.Second)
	for len(second) < 2 {
		select {
		case r, ok := <-lines:
			if !ok {
				t.Fatal("demo stopped logging")
			}
			switch r.Msg {
			case "demo flight stopped":
				t.Fatalf("%s: demo flight stopped: %s", r.DroneID, r.Err)
			case "patrol ended":
				if r.Mission != "finished" {
					t.Errorf("%s: sortie %d ended with mission %s", r.DroneID, r.Sortie, r.Mission)
				}
				ended[r.DroneID] = true
			case "patrol started":
				if r.Sortie == 2 && ended[r.DroneID] {
					second[r.DroneID] = true
				}
			}
		case <-timeout:
			t.Fatalf("after 60 s: patrols ended %v, second sorties %v", ended, second)
		}
	}
}

// The demo's default patrols fit the simulated battery for every corridor
// drone, US, joint and Mexican, both sorties: a default that does not plan
// leaves the demo standing on the ground.
func TestDemoDefaultPatrolsPlan(t *testing.T) {
	cfg := defaultDemoConfig()
	set, err := geofence.Default(server.BuiltinAgencies()...)
	if err != nil {
		t.Fatal(err)
	}
	zones := geofence.NewStore(set)
	line, ok := set.Line(geofence.BoundaryLineID)
	if !ok {
		t.Fatal("no boundary line")
	}
	type drone struct {
		agency string
		home   sim.Home
	}
	var drones []drone
	for i, c := range sim.Corridors {
		ag := agencyUS
		if (i+1)%2 == 0 {
			ag = agencyJoint
		}
		drones = append(drones, drone{ag, c.Home})
		mx, err := mexicanHome(set, c.Home)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		drones = append(drones, drone{agencyMX, mx})
	}
	for i, d := range drones {
		st := fleet.DroneState{ID: fmt.Sprintf("d%d", i), Agency: d.agency, HasHome: true, HasPosition: true,
			Home:     fleet.Home{Lat: d.home.Lat, Lon: d.home.Lon, AltMSL: d.home.Alt},
			Position: fleet.Position{Lat: d.home.Lat, Lon: d.home.Lon}, AltMSL: d.home.Alt,
			Battery: fleet.Battery{RemainingPct: 100, VoltageV: math.NaN(), CurrentA: math.NaN(), ConsumedMAh: math.NaN()}}
		for sortie := 1; sortie <= 2; sortie++ {
			r := demoRequest(st, line.Path, sortie, cfg)
			r.Plan.Drones = []plan.Drone{patrol.DroneOf(st, demoEndurance)}
			r.Plan.Agency = st.Agency
			if _, err := patrol.Plan(zones, r.Plan); err != nil {
				t.Errorf("%s drone at %.4f,%.4f, sortie %d (%s): %v", d.agency, d.home.Lat, d.home.Lon, sortie, r.Plan.Kind, err)
			}
		}
	}
}
