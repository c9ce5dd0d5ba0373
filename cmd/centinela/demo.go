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
)

// demoConfig is the configuration of "centinela demo": a server with
// simulated drones, one per border corridor, flying loops.
type demoConfig struct {
	Serve serveConfig
	// Altitude is the loop altitude above home, metres.
	Altitude float64
	// Radius is the loop's half side, metres.
	Radius float64
}

func defaultDemoConfig() demoConfig {
	c := demoConfig{Serve: defaultServeConfig(), Altitude: 40, Radius: 250}
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
	fs.Float64Var(&cfg.Radius, "radius", cfg.Radius, "half side of each drone's square loop, metres")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: centinela demo [flags]\n\n"+
			"Runs the server with simulated drones (six by default, one per border corridor:\n"+
			"San Diego–Tijuana, Calexico–Mexicali, Nogales, El Paso–Ciudad Juárez,\n"+
			"Laredo–Nuevo Laredo, McAllen–Reynosa) that arm, take off and fly square loops.\n"+
			"Prints a fleet status table every few seconds. Stops on SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Serve.Sim < 1 {
		return fmt.Errorf("--sim %d: the demo needs at least one simulated drone", cfg.Serve.Sim)
	}
	if cfg.Altitude < 5 || cfg.Altitude > 120 || cfg.Radius < 20 || cfg.Radius > 5000 {
		return fmt.Errorf("--altitude want 5..120 m, --radius 20..5000 m")
	}
	if err := cfg.Serve.validate(); err != nil {
		return err
	}
	log, err := cfg.Serve.Log.newLogger(stderr)
	if err != nil {
		return err
	}
	srv, err := startServer(cfg.Serve, log)
	if err != nil {
		return err
	}
	defer srv.Close()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		flyDemo(ctx, srv.Fleet, cfg, log)
	}()
	return srv.Run(ctx, stdout)
}

// flyDemo sends every drone it discovers around a square loop until ctx ends.
func flyDemo(ctx context.Context, f *fleet.Fleet, cfg demoConfig, log *slog.Logger) {
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
				if err := loop(ctx, f, id, cfg); err != nil && ctx.Err() == nil {
					log.Warn("demo flight stopped", "drone_id", id, "err", err)
				}
			}()
		}
	}
}

// loop arms and takes off drone id, then flies its square loop until ctx ends.
func loop(ctx context.Context, f *fleet.Fleet, id string, cfg demoConfig) error {
	if err := f.Arm(ctx, id, fleet.ArmOptions{Wait: 2 * time.Minute}); err != nil {
		return fmt.Errorf("arm: %w", err)
	}
	if err := f.Takeoff(ctx, id, cfg.Altitude); err != nil {
		return fmt.Errorf("takeoff: %w", err)
	}
	if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool { return d.Position.RelAlt > cfg.Altitude-2 }); err != nil {
		return err
	}
	d, err := f.Drone(id)
	if err != nil {
		return err
	}
	centre := d.Position
	corners := [][2]float64{{1, 1}, {1, -1}, {-1, -1}, {-1, 1}}
	for i := 0; ; i = (i + 1) % len(corners) {
		target := offset(centre, corners[i][0]*cfg.Radius, corners[i][1]*cfg.Radius)
		target.RelAlt = cfg.Altitude
		if err := f.GoTo(ctx, id, target, fleet.GoToOptions{}); err != nil {
			return fmt.Errorf("go-to: %w", err)
		}
		if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool {
			return d.HasPosition && distance(d.Position, target) < 5
		}); err != nil {
			return err
		}
	}
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
