package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/centinela-gcs/centinela/sim"
)

// demoConfig is the configuration of "centinela demo": a server with
// simulated drones, one per border corridor, flying planned patrols.
type demoConfig struct {
	Serve server.Config
	Log   logOptions
	// Altitude is the patrol altitude above home, metres.
	Altitude float64
	// Radius sets the patrols' size, metres: the coverage square's half
	// side, and the half length of the corridor flown along the boundary
	// (twice it, plus the corridor's offset).
	Radius float64
	// Laps is the number of out-and-backs of each corridor patrol.
	Laps int
	// MX is the number of Mexican-agency drones added on the Mexican side
	// of the first corridors.
	MX int
}

func defaultDemoConfig() demoConfig {
	c := demoConfig{Serve: server.DefaultConfig(), Log: defaultLogOptions(), Altitude: 40, Radius: 120, Laps: 1, MX: 1}
	c.Serve.Sim = 6
	c.Serve.SimSpeedup = 2
	c.Serve.StatusInterval = 5 * time.Second
	return c
}

// Demo patrol parameters.
const (
	demoOffsetM   = 100 // corridor offset from the boundary
	demoSwathM    = 50
	demoSpeedMPS  = 10
	demoMXSysBase = 101 // system ids of the MX drones
	// demoEndurance is the simulator's flight time: 3.3 Ah at about 20 A.
	demoEndurance = 10 * time.Minute
)

// prepare checks the flags and assigns the demo's drones to agencies: the
// corridor drones alternately US and joint, the added ones Mexican (flags
// given for the same drones win).
func (cfg *demoConfig) prepare() error {
	if cfg.Serve.Sim < 1 {
		return msgErr("demo.need_sim", "sim", strconv.Itoa(cfg.Serve.Sim))
	}
	if cfg.Altitude < 5 || cfg.Altitude > 120 || cfg.Radius < 20 || cfg.Radius > 5000 || cfg.Laps < 1 || cfg.Laps > 100 || cfg.MX < 0 || cfg.MX > len(sim.Corridors) {
		return msgErr("demo.bad_flags", "mx", strconv.Itoa(len(sim.Corridors)))
	}
	if cfg.Serve.Sim+demoMXSysBase > 250 && cfg.MX > 0 {
		return msgErr("demo.too_many", "sim", strconv.Itoa(cfg.Serve.Sim), "max", strconv.Itoa(demoMXSysBase-1))
	}
	agencies := map[uint8]string{}
	for i := 1; i <= min(cfg.Serve.Sim, demoMXSysBase-1); i++ {
		ag := agencyUS
		if i%2 == 0 {
			ag = agencyJoint
		}
		agencies[uint8(i)] = ag
	}
	for k := 0; k < cfg.MX; k++ {
		agencies[uint8(demoMXSysBase+k)] = agencyMX
	}
	for sys, ag := range cfg.Serve.DroneAgencies.BySysID {
		agencies[sys] = ag
	}
	cfg.Serve.DroneAgencies.BySysID = agencies
	return validateServe(&cfg.Serve)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultDemoConfig()
	cl := newCmdLine("demo", args, stderr)
	fs := cl.fs
	finish := serveFlags(fs, &cfg.Serve)
	cfg.Log.register(fs)
	fs.Float64Var(&cfg.Altitude, "altitude", cfg.Altitude, "patrol altitude above home, metres")
	fs.Float64Var(&cfg.Radius, "radius", cfg.Radius, "patrol size, metres: half side of the coverage square, half length of the corridor")
	fs.IntVar(&cfg.Laps, "laps", cfg.Laps, "out-and-backs of each corridor patrol")
	fs.IntVar(&cfg.MX, "mx", cfg.MX, "Mexican-agency drones added on the Mexican side of the first corridors (0..6)")
	cl.usage("[flags]", "Runs the server with simulated drones (six by default, one per border corridor:\n"+
		"San Diego–Tijuana, Calexico–Mexicali, Nogales, El Paso–Ciudad Juárez,\n"+
		"Laredo–Nuevo Laredo, McAllen–Reynosa, on the US side, alternately of the US agency\n"+
		"and of the binational joint task force), plus --mx drones of the Mexican agency on\n"+
		"the Mexican side of the first corridors. Each flies planned patrols dispatched through\n"+
		"the application layer, as an operator of its agency: a corridor patrol along the\n"+
		"international boundary on its own side, then a coverage patrol of the square around\n"+
		"its home inside its allowed space, each reserving its airspace (conflicts resolved by\n"+
		"altitude or a later start); it gets a fresh battery on the ground and goes again.\n"+
		"Prints a fleet status table every few seconds. Stops on SIGINT or SIGTERM.")
	log, err := cl.parse(args, func() error {
		if err := finish(); err != nil {
			return err
		}
		return cfg.prepare()
	}, &cfg.Log)
	if err != nil {
		return err
	}
	cfg.Serve.Lang = cl.lang
	removeDB, err := useTempDB(&cfg.Serve.Store)
	if err != nil {
		return err
	}
	defer removeDB()
	srv, err := server.Start(cfg.Serve, log)
	if err != nil {
		return flagError(err)
	}
	defer srv.Close()
	if err := printDemoTokens(srv, stdout); err != nil {
		return err
	}
	if err := demoTokens(ctx, srv, stdout); err != nil {
		return err
	}
	if srv.GRPC != nil {
		fmt.Fprintln(stdout, cl.t("demo.patrols", "addr", srv.GRPC.Address().String()))
	}
	swarms := []*sim.Swarm{srv.Swarm}
	for k := 0; k < cfg.MX; k++ {
		home, err := mexicanHome(srv.Zones.Snapshot(), sim.Corridors[k].Home)
		if err != nil {
			return err
		}
		sc := sim.Config{Drones: 1, Connect: "udpout:" + srv.MAVLinkAddr(len(cfg.Serve.MAVLink)).String(), Speedup: cfg.Serve.SimSpeedup,
			Seed: cfg.Serve.SimSeed + int64(demoMXSysBase+k), BootDelay: cfg.Serve.SimBootDelay, SysIDBase: uint8(demoMXSysBase + k), Home: &home, Logger: log}
		if cfg.Serve.SimBootDelay == 0 {
			sc.BootDelay = -1
		}
		sw := sim.New(sc)
		if err := sw.Initialize(); err != nil {
			return fmt.Errorf("start the Mexican drones: %w", err)
		}
		defer sw.Close()
		swarms = append(swarms, sw)
	}
	simDrone := func(sysID uint8) *sim.Drone {
		for _, sw := range swarms {
			if d := sw.Drone(sysID); d != nil {
				return d
			}
		}
		return nil
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
		flyDemo(ctx, srv, simDrone, cfg, log)
	}()
	return srv.Run(ctx, stdout)
}

// mexicanHome is a home on the Mexican side of the boundary facing the US
// home h: across the nearest point of the line, 500 m (or more, until a
// Mexican drone may fly there) past it.
func mexicanHome(set *geofence.Set, h sim.Home) (sim.Home, error) {
	line, ok := set.Line(geofence.BoundaryLineID)
	if !ok {
		return sim.Home{}, errors.New("the zone set has no international boundary")
	}
	home := fleet.Position{Lat: h.Lat, Lon: h.Lon}
	p := nearestOnLine(home, line.Path)
	d := distance(home, p)
	if d < 1 {
		return sim.Home{}, errors.New("corridor home on the boundary")
	}
	north, east := (p.Lat-home.Lat)/d, (p.Lon-home.Lon)/d
	for _, past := range []float64{500, 800, 1200, 2000} {
		q := fleet.Position{Lat: p.Lat + north*past, Lon: p.Lon + east*past}
		r, err := set.CheckPoint(agencyMX, geofence.Pos(q.Lat, q.Lon, 60), time.Now())
		if err == nil && r.Allowed && r.BoundaryM > 200 {
			return sim.Home{Lat: q.Lat, Lon: q.Lon, Alt: h.Alt}, nil
		}
	}
	return sim.Home{}, fmt.Errorf("no Mexican home across from %.4f,%.4f", h.Lat, h.Lon)
}

// nearestOnLine is the point of path ([lon, lat]) nearest to p (planar,
// fine over a few kilometres).
func nearestOnLine(p fleet.Position, path orb.LineString) fleet.Position {
	best, bestD := fleet.Position{}, math.Inf(1)
	k := math.Cos(p.Lat * math.Pi / 180)
	for i := 1; i < len(path); i++ {
		ax, ay := (path[i-1][0]-p.Lon)*k, path[i-1][1]-p.Lat
		bx, by := (path[i][0]-p.Lon)*k, path[i][1]-p.Lat
		dx, dy := bx-ax, by-ay
		t := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
		}
		x, y := ax+t*dx, ay+t*dy
		if d := x*x + y*y; d < bestD {
			bestD = d
			best = fleet.Position{Lat: p.Lat + y, Lon: p.Lon + x/k}
		}
	}
	return best
}

// flyDemo sends every drone it discovers on patrol until ctx ends.
func flyDemo(ctx context.Context, srv *server.Server, simDrone func(uint8) *sim.Drone, cfg demoConfig, log *slog.Logger) {
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{Snapshot: true})
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
				if err := loop(ctx, srv, simDrone, id, cfg, log); err != nil && ctx.Err() == nil {
					log.Warn("demo flight stopped", "drone_id", id, "err", err)
				}
			}()
		}
	}
}

// demoPrincipal is the operator the demo dispatches drone d's patrols as:
// a server-internal operator of d's agency (no token), audited under the
// label "demo-AGENCY".
func demoPrincipal(d fleet.DroneState) app.Principal {
	return app.Principal{Role: app.RoleOperator, Agency: d.Agency, Label: "demo-" + d.Agency}
}

// demoRequest is sortie's patrol for drone d: odd sorties a corridor along
// the boundary on the drone's side, even ones a coverage of the square
// around its home.
func demoRequest(d fleet.DroneState, line orb.LineString, sortie int, cfg demoConfig) app.PatrolRequest {
	r := app.PatrolRequest{DroneIDs: []string{d.ID}, ResolveAltitude: true, MaxDelay: 30 * time.Minute,
		Plan: plan.Request{AltM: cfg.Altitude, SpeedMPS: demoSpeedMPS, Endurance: demoEndurance}}
	home := fleet.Position{Lat: d.Home.Lat, Lon: d.Home.Lon}
	box := func(a, b fleet.Position, pad float64) orb.Polygon {
		sw := offset(fleet.Position{Lat: math.Min(a.Lat, b.Lat), Lon: math.Min(a.Lon, b.Lon)}, -pad, -pad)
		ne := offset(fleet.Position{Lat: math.Max(a.Lat, b.Lat), Lon: math.Max(a.Lon, b.Lon)}, pad, pad)
		return orb.Polygon{{{sw.Lon, sw.Lat}, {ne.Lon, sw.Lat}, {ne.Lon, ne.Lat}, {sw.Lon, ne.Lat}, {sw.Lon, sw.Lat}}}
	}
	if sortie%2 == 1 {
		// The boundary's stretch nearest home, on the drone's own side.
		p := nearestOnLine(home, line)
		r.Plan.Kind, r.Plan.OffsetM, r.Plan.Laps, r.Plan.Line = plan.Corridor, demoOffsetM, cfg.Laps, line
		r.Plan.Area = box(home, p, 2*cfg.Radius+demoOffsetM)
		return r
	}
	r.Plan.Kind, r.Plan.SwathM = plan.Coverage, demoSwathM
	r.Plan.Area = box(home, home, cfg.Radius)
	return r
}

// loop flies drone id's patrols again and again until ctx ends: each a
// planned patrol dispatched through the application layer (reserving its
// airspace, uploaded through the zone guard, started), then a battery swap
// on the ground.
func loop(ctx context.Context, srv *server.Server, simDrone func(uint8) *sim.Drone, id string, cfg demoConfig, log *slog.Logger) error {
	f := srv.Fleet
	line, ok := srv.Zones.Snapshot().Line(geofence.BoundaryLineID)
	if !ok {
		return errors.New("the zone set has no international boundary")
	}
	for sortie := 1; ; sortie++ {
		if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool { return d.HasHome && d.HasPosition && !d.Armed }); err != nil {
			return err
		}
		d, err := f.Drone(id)
		if err != nil {
			return err
		}
		pt, err := dispatchDemo(ctx, srv, d, line.Path, sortie, cfg)
		if err != nil {
			return err
		}
		log.Info("patrol started", "drone_id", id, "sortie", sortie, "patrol_id", pt.ID, "kind", string(pt.Kind),
			"mission_id", pt.MissionID, "resolved", pt.Resolved)
		// Back on the ground and disarmed, the patrol over (or a failsafe
		// brought the drone home).
		p := demoPrincipal(d)
		if err := waitFor(ctx, f, id, func(d fleet.DroneState) bool {
			g, err := srv.App.GetPatrol(ctx, p, pt.ID)
			return err == nil && !g.State.Active() && !d.Armed && d.Mission.State != fleet.MissionStateRunning
		}); err != nil {
			return err
		}
		d, _ = f.Drone(id)
		log.Info("patrol ended", "drone_id", id, "sortie", sortie, "patrol_id", pt.ID, "mission", d.Mission.State.String(), "battery", d.Battery.RemainingPct)
		// A fresh battery, as the ground crew would fit one.
		if sd := simDrone(d.SysID); sd != nil {
			sd.SetBatteryRemaining(1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// dispatchDemo dispatches sortie's patrol for d, retrying for up to two
// minutes while the vehicle refuses to arm (still booting), and flying the
// other pattern when this one has no valid route.
func dispatchDemo(ctx context.Context, srv *server.Server, d fleet.DroneState, line orb.LineString, sortie int, cfg demoConfig) (app.Patrol, error) {
	p := demoPrincipal(d)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ps, err := srv.App.DispatchPatrol(ctx, p, demoRequest(d, line, sortie, cfg))
		if err == nil && len(ps) == 1 {
			return ps[0], nil
		}
		var fe *fleet.Error
		if errors.As(err, &fe) && (fe.Reason == "no_route" || fe.Reason == "endurance") {
			ps, err2 := srv.App.DispatchPatrol(ctx, p, demoRequest(d, line, sortie+1, cfg))
			if err2 == nil && len(ps) == 1 {
				return ps[0], nil
			}
			return app.Patrol{}, fmt.Errorf("dispatch patrol: %w (and the other pattern: %v)", err, err2)
		}
		if fleet.ErrorCode(err) != fleet.Denied || time.Now().After(deadline) {
			return app.Patrol{}, fmt.Errorf("dispatch patrol: %w", err)
		}
		select {
		case <-ctx.Done():
			return app.Patrol{}, ctx.Err()
		case <-time.After(2 * time.Second):
		}
		if nd, err := srv.Fleet.Drone(d.ID); err == nil {
			d = nd
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
