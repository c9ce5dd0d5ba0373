package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// demoConfig is the configuration of "centinela demo": a server with
// simulated drones, one per border corridor, flying loops.
type demoConfig struct {
	Serve serveConfig
	// Altitude is the loop altitude above home, metres.
	Altitude float64
	// Radius is the loop's half side, metres.
	Radius float64
	// Laps is the number of laps of each patrol sortie.
	Laps int
}

func defaultDemoConfig() demoConfig {
	c := demoConfig{Serve: defaultServeConfig(), Altitude: 40, Radius: 250, Laps: 3}
	c.Serve.Sim = 6
	c.Serve.SimSpeedup = 2
	c.Serve.StatusInterval = 5 * time.Second
	return c
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultDemoConfig()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serveFlags(fs, &cfg.Serve)
	fs.Float64Var(&cfg.Altitude, "altitude", cfg.Altitude, "loop altitude above home, metres")
	fs.Float64Var(&cfg.Radius, "radius", cfg.Radius, "half side of each drone's square patrol, metres")
	fs.IntVar(&cfg.Laps, "laps", cfg.Laps, "laps of the square in each patrol sortie")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: centinela demo [flags]\n\n"+
			"Runs the server with simulated drones (six by default, one per border corridor:\n"+
			"San Diego–Tijuana, Calexico–Mexicali, Nogales, El Paso–Ciudad Juárez,\n"+
			"Laredo–Nuevo Laredo, McAllen–Reynosa) that fly square patrols around their homes\n"+
			"as autopilot missions (takeoff, laps, return and land), get a fresh battery on\n"+
			"the ground and go again. Prints a fleet status table every few seconds.\n"+
			"Stops on SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Serve.Sim < 1 {
		return fmt.Errorf("--sim %d: the demo needs at least one simulated drone", cfg.Serve.Sim)
	}
	if cfg.Altitude < 5 || cfg.Altitude > 120 || cfg.Radius < 20 || cfg.Radius > 5000 || cfg.Laps < 1 || cfg.Laps > 100 {
		return fmt.Errorf("want --altitude 5..120 m, --radius 20..5000 m, --laps 1..100")
	}
	if err := cfg.Serve.validate(); err != nil {
		return err
	}
	log, err := cfg.Serve.Log.newLogger(stderr)
	if err != nil {
		return err
	}
	removeDB, err := cfg.Serve.Store.useTempDB()
	if err != nil {
		return err
	}
	defer removeDB()
	srv, err := startServer(cfg.Serve, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := printDemoTokens(srv, stdout); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		flyDemo(ctx, srv.Fleet, srv.Swarm, cfg, log)
	}()
	return srv.Run(ctx, stdout)
}

// flyDemo sends every drone it discovers on patrol until ctx ends.
func flyDemo(ctx context.Context, f *fleet.Fleet, swarm *sim.Swarm, cfg demoConfig, log *slog.Logger) {
	sub := f.Subscribe(fleet.SubscribeOptions{Snapshot: true})
	defer sub.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	started := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				return
			}
			var id string
			switch e := ev.(type) {
			case fleet.DroneDiscovered:
				id = e.Drone.ID
			case fleet.StateChanged:
				id = e.Drone.ID
			}
			if id == "" || started[id] {
				continue
			}
			started[id] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := loop(ctx, f, swarm, id, cfg, log); err != nil && ctx.Err() == nil {
					log.Warn("demo flight stopped", "drone_id", id, "err", err)
				}
			}()
		}
	}
}

// loop flies drone id's patrol again and again until ctx ends: a square
// around its home flown as an autopilot mission (takeoff, four waypoints,
// DO_JUMP for the laps, RTL), then a battery swap on the ground.
func loop(ctx context.Context, f *fleet.Fleet, swarm *sim.Swarm, id string, cfg demoConfig, log *slog.Logger) error {
	for sortie := 1; ; sortie++ {
		d, err := f.Drone(id)
		if err != nil {
			return err
		}
		if !d.HasHome {
			if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool { return d.HasHome }); err != nil {
				return err
			}
			d, _ = f.Drone(id)
		}
		plan := patrol(d.Home, cfg)
		if _, err := f.UploadMission(ctx, id, fleet.MissionTypeMission, plan, fleet.UploadOptions{}); err != nil {
			return fmt.Errorf("upload patrol: %w", err)
		}
		if err := f.StartMission(ctx, id, fleet.StartOptions{ArmWait: 2 * time.Minute}); err != nil {
			return fmt.Errorf("start patrol: %w", err)
		}
		log.Info("patrol started", "drone_id", id, "sortie", sortie, "laps", cfg.Laps)
		// Back on the ground and disarmed: the patrol is over (or a failsafe
		// brought the drone home).
		if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool {
			return !d.Armed && d.Mission.State != fleet.MissionStateRunning
		}); err != nil {
			return err
		}
		d, _ = f.Drone(id)
		log.Info("patrol ended", "drone_id", id, "sortie", sortie, "mission", d.Mission.State.String(), "battery", d.Battery.RemainingPct)
		// A fresh battery, as the ground crew would fit one.
		if sd := swarm.Drone(d.SysID); sd != nil {
			sd.SetBatteryRemaining(1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// patrol is a square patrol around home: seq 0 home, takeoff, the four
// corners, a DO_JUMP back to the first corner for the remaining laps, RTL.
func patrol(home fleet.Home, cfg demoConfig) []fleet.MissionItem {
	c := fleet.Position{Lat: home.Lat, Lon: home.Lon}
	items := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: home.Lat, Lon: home.Lon, Alt: home.AltMSL, Autocontinue: true},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Alt: cfg.Altitude, Autocontinue: true},
	}
	for _, k := range [][2]float64{{1, 1}, {1, -1}, {-1, -1}, {-1, 1}} {
		p := offset(c, k[0]*cfg.Radius, k[1]*cfg.Radius)
		items = append(items, fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint,
			Lat: p.Lat, Lon: p.Lon, Alt: cfg.Altitude, Autocontinue: true})
	}
	if cfg.Laps > 1 {
		items = append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoJump,
			Param1: 2, Param2: float64(cfg.Laps - 1), Autocontinue: true})
	}
	items = append(items, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true})
	for i := range items {
		items[i].Seq = i
	}
	return items
}

// waitFor polls drone id's state until ok or ctx ends.
func waitFor(ctx context.Context, f *fleet.Fleet, id string, ok func(fleet.DroneState) bool) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if d, err := f.Drone(id); err == nil && ok(d) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

const earthRadius = 6371008.8

// offset moves p by north and east metres.
func offset(p fleet.Position, north, east float64) fleet.Position {
	p.Lat += north / earthRadius * 180 / math.Pi
	p.Lon += east / (earthRadius * math.Cos(p.Lat*math.Pi/180)) * 180 / math.Pi
	return p
}

// distance is the horizontal distance between a and b in metres.
func distance(a, b fleet.Position) float64 {
	dn := (b.Lat - a.Lat) * math.Pi / 180 * earthRadius
	de := (b.Lon - a.Lon) * math.Pi / 180 * earthRadius * math.Cos(a.Lat*math.Pi/180)
	return math.Hypot(dn, de)
}
