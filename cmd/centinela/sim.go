package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/sim"
)

// simConfig is the configuration of "centinela sim".
type simConfig struct {
	Drones        int
	Connect       string
	Listen        string
	SysIDBase     int
	Speedup       float64
	Seed          int64
	Home          string
	BootDelay     time.Duration
	StreamUnasked bool
	WindSpeed     float64
	WindDir       float64
	WindGust      float64
	GPSNoise      bool
	LossOut       float64
	LossIn        float64
	Latency       time.Duration
	Jitter        time.Duration
	Drain         float64
	Faults        []string
	Signing       signingOptions
	Log           logOptions
}

func defaultSimConfig() simConfig {
	return simConfig{
		Drones:    1,
		SysIDBase: 1,
		Speedup:   1,
		Seed:      1,
		BootDelay: 6 * time.Second,
		Drain:     1,
		Signing:   signingOptions{all: true},
		Log:       logOptions{Level: "info", Format: "text"},
	}
}

func (c *simConfig) validate() error {
	if (c.Connect == "") == (c.Listen == "") {
		return msgErr("sim.connect_or_listen")
	}
	if c.Drones < 1 || c.Drones > 250 {
		return msgErr("cli.want", "flag", "--drones", "value", strconv.Itoa(c.Drones), "want", "1..250")
	}
	if c.SysIDBase < 1 || c.SysIDBase+c.Drones-1 > 254 {
		return msgErr("sim.bad_sysid_base", "value", strconv.Itoa(c.SysIDBase))
	}
	if c.Speedup <= 0 || c.Speedup > 1000 || math.IsNaN(c.Speedup) {
		return msgErr("cli.want_positive_max", "flag", "--speedup", "value", strconv.FormatFloat(c.Speedup, 'g', -1, 64), "max", "1000")
	}
	for name, p := range map[string]float64{"--loss-out": c.LossOut, "--loss-in": c.LossIn} {
		if p < 0 || p > 100 || math.IsNaN(p) {
			return msgErr("cli.want_percent", "flag", name, "value", strconv.FormatFloat(p, 'g', -1, 64))
		}
	}
	if c.Drain <= 0 || math.IsNaN(c.Drain) {
		return msgErr("cli.want_positive_factor", "flag", "--drain", "value", strconv.FormatFloat(c.Drain, 'g', -1, 64))
	}
	if c.Home != "" {
		if _, err := parseHome(c.Home); err != nil {
			return fmt.Errorf("--home: %w", err)
		}
	}
	if _, err := c.Signing.keys(); err != nil {
		return err
	}
	_, err := c.droneFaults()
	return err
}

// droneFaults parses the --fault flags.
func (c *simConfig) droneFaults() ([]droneFault, error) {
	var out []droneFault
	for _, spec := range c.Faults {
		f, err := parseFault(spec)
		if err != nil {
			return nil, err
		}
		if f.SysID < c.SysIDBase || f.SysID >= c.SysIDBase+c.Drones {
			return nil, msgErr("flagerr.fault_no_drone", "spec", strconv.Quote(spec), "sysid", strconv.Itoa(f.SysID))
		}
		out = append(out, f)
	}
	return out, nil
}

// simSwarmConfig turns the flags into the simulator's configuration.
func (c *simConfig) swarmConfig() sim.Config {
	sc := sim.Config{
		Drones:        c.Drones,
		Connect:       c.Connect,
		Listen:        c.Listen,
		SysIDBase:     uint8(c.SysIDBase),
		Speedup:       c.Speedup,
		Seed:          c.Seed,
		BootDelay:     c.BootDelay,
		StreamUnasked: c.StreamUnasked,
		Wind:          sim.Wind{Speed: c.WindSpeed, Direction: c.WindDir, Gust: c.WindGust},
		GPSNoise:      c.GPSNoise,
		Faults: sim.Faults{
			LossOut:     c.LossOut / 100,
			LossIn:      c.LossIn / 100,
			Latency:     c.Latency,
			Jitter:      c.Jitter,
			DrainFactor: c.Drain,
		},
	}
	if c.BootDelay == 0 {
		sc.BootDelay = -1
	}
	if c.Home != "" {
		h, _ := parseHome(c.Home)
		sc.Home = &h
	}
	sc.SigningKeys, _ = c.Signing.simKeys()
	return sc
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultSimConfig()
	cl := newCmdLine("sim", args, stderr)
	fs := cl.fs
	fs.IntVar(&cfg.Drones, "drones", cfg.Drones, "number of simulated drones, each with its own system id and socket")
	fs.StringVar(&cfg.Connect, "connect", cfg.Connect, "ground station `endpoint` every drone connects to: udpout:HOST:PORT or tcp:HOST:PORT")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "`endpoint` every drone listens on: tcpin:HOST:PORT (drone i on PORT+10·i, like ArduPilot SITL) or udp:HOST:PORT")
	fs.IntVar(&cfg.SysIDBase, "sysid-base", cfg.SysIDBase, "system id of the first drone; drone i gets BASE+i")
	fs.Float64Var(&cfg.Speedup, "speedup", cfg.Speedup, "simulated time speed-up factor (the link and failsafe timing stay in real time)")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed flies the same way")
	fs.StringVar(&cfg.Home, "home", cfg.Home, "home of every drone as `LAT,LON,ALT` (default: spread over the six border corridors)")
	fs.DurationVar(&cfg.BootDelay, "boot-delay", cfg.BootDelay, "simulated time from power-on to GPS fix and arming allowed (0: at once)")
	fs.BoolVar(&cfg.StreamUnasked, "stream-unasked", cfg.StreamUnasked, "stream telemetry without a request (real ArduCopter waits to be asked)")
	fs.Float64Var(&cfg.WindSpeed, "wind-speed", cfg.WindSpeed, "mean wind speed, m/s")
	fs.Float64Var(&cfg.WindDir, "wind-dir", cfg.WindDir, "direction the wind comes from, degrees")
	fs.Float64Var(&cfg.WindGust, "wind-gust", cfg.WindGust, "gust strength (standard deviation), m/s")
	fs.BoolVar(&cfg.GPSNoise, "gps-noise", cfg.GPSNoise, "add GPS noise to reported positions")
	fs.Float64Var(&cfg.LossOut, "loss-out", cfg.LossOut, "percentage of messages from the drones dropped")
	fs.Float64Var(&cfg.LossIn, "loss-in", cfg.LossIn, "percentage of messages to the drones dropped")
	fs.DurationVar(&cfg.Latency, "latency", cfg.Latency, "latency added to every message each way")
	fs.DurationVar(&cfg.Jitter, "jitter", cfg.Jitter, "random extra latency up to this much per message")
	fs.Float64Var(&cfg.Drain, "drain", cfg.Drain, "battery drain multiplier")
	fs.Var((*stringList)(&cfg.Faults), "fault", faultUsage)
	cfg.Signing.register(fs)
	cfg.Log.register(fs)
	cl.usage("[flags]", "Runs simulated ArduCopter multicopters that speak MAVLink like ArduPilot SITL.\n\n"+
		"Examples:\n"+
		"  centinela sim --drones 3 --connect udpout:127.0.0.1:14550 --speedup 10\n"+
		"  centinela sim --drones 2 --listen tcpin:127.0.0.1:5760\n"+
		"  centinela sim --drones 3 --connect udpout:127.0.0.1:14550 --fault 2:loss-out=30,loss-in=30 --fault 3:cut-at=60s,cut-for=10s")
	log, err := cl.parse(args, cfg.validate, &cfg.Log)
	if err != nil {
		return err
	}
	sc := cfg.swarmConfig()
	sc.Logger = log
	faults, _ := cfg.droneFaults()
	startFaults(&sc, faults)
	swarm := sim.New(sc)
	if err := swarm.Initialize(); err != nil {
		return err
	}
	defer swarm.Close()
	ctx, cancel := context.WithCancel(ctx)
	wait, err := scheduleFaults(ctx, swarm, faults, log)
	if err != nil {
		cancel()
		return err
	}
	defer wait()
	defer cancel()
	for _, d := range swarm.Drones() {
		fmt.Fprintln(stdout, cl.t("sim.drone", "sysid", strconv.Itoa(int(d.SysID())), "addr", d.Addr()))
	}
	<-ctx.Done()
	return nil
}
