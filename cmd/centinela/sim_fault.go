package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/sim"
)

// droneFault is one --fault flag: fault knobs for one simulated drone, some
// set at start and some at a time after start.
type droneFault struct {
	// SysID names the drone by its starting system id.
	SysID int
	// Faults replace the drone's starting knobs; set marks which were given.
	Faults sim.Faults
	set    map[string]bool
	// Wind, when windSet, replaces the drone's wind.
	Wind    sim.Wind
	windSet bool
	// CutAt and CutFor cut the drone's link CutAt after start for CutFor.
	CutAt, CutFor time.Duration
	// GPSLostAt and GPSLostFor lose the GPS fix GPSLostAt after start for
	// GPSLostFor (0: for good).
	GPSLostAt, GPSLostFor time.Duration
	gpsTimed              bool
}

const faultUsage = "fault knobs of one drone as `SYSID:KEY=VALUE,…`, repeatable. Keys: loss-out, loss-in (%), latency, jitter (durations), drain (factor), wind-speed (m/s), wind-dir (deg), sysid (new system id), gps-lost (true/false), cut-at and cut-for (cut the link at a time after start, for a duration), gps-lost-at and gps-lost-for"

// parseFault parses "SYSID:KEY=VALUE,…".
func parseFault(spec string) (droneFault, error) {
	qs := strconv.Quote(spec)
	sys, rest, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(sys)
	if !ok || err != nil || n < 1 || n > 254 {
		return droneFault{}, msgErr("flagerr.fault_form", "spec", qs)
	}
	f := droneFault{SysID: n, set: map[string]bool{}}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return droneFault{}, msgErr("flagerr.fault_kv", "spec", qs, "kv", strconv.Quote(kv))
		}
		num := func(lo, hi float64) (float64, error) {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || x < lo || x > hi {
				return 0, msgErr("flagerr.fault_number", "spec", qs, "key", k, "value", v,
					"lo", fmt.Sprintf("%g", lo), "hi", fmt.Sprintf("%g", hi))
			}
			return x, nil
		}
		dur := func() (time.Duration, error) {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return 0, msgErr("flagerr.fault_duration", "spec", qs, "key", k, "value", v)
			}
			return d, nil
		}
		var err error
		switch k {
		case "loss-out":
			var x float64
			x, err = num(0, 100)
			f.Faults.LossOut = x / 100
		case "loss-in":
			var x float64
			x, err = num(0, 100)
			f.Faults.LossIn = x / 100
		case "latency":
			f.Faults.Latency, err = dur()
		case "jitter":
			f.Faults.Jitter, err = dur()
		case "drain":
			f.Faults.DrainFactor, err = num(0.01, 1000)
		case "sysid":
			var x float64
			x, err = num(1, 254)
			f.Faults.SysID = uint8(x)
		case "gps-lost":
			var perr error
			f.Faults.GPSLost, perr = strconv.ParseBool(v)
			if perr != nil {
				err = msgErr("flagerr.fault_bool", "spec", qs, "key", k, "value", v)
			}
		case "wind-speed":
			f.Wind.Speed, err = num(0, 60)
			f.windSet = true
		case "wind-dir":
			f.Wind.Direction, err = num(0, 360)
			f.windSet = true
		case "cut-at":
			f.CutAt, err = dur()
		case "cut-for":
			f.CutFor, err = dur()
		case "gps-lost-at":
			f.GPSLostAt, err = dur()
			f.gpsTimed = true
		case "gps-lost-for":
			f.GPSLostFor, err = dur()
			f.gpsTimed = true
		default:
			return droneFault{}, msgErr("flagerr.fault_key", "spec", qs, "key", strconv.Quote(k))
		}
		if err != nil {
			return droneFault{}, err
		}
		f.set[k] = true
	}
	if f.set["cut-at"] != f.set["cut-for"] || (f.set["cut-for"] && f.CutFor == 0) {
		return droneFault{}, msgErr("flagerr.fault_cut", "spec", qs)
	}
	return f, nil
}

// merge returns base with the knobs this flag gives.
func (f droneFault) merge(base sim.Faults) sim.Faults {
	cur := base
	for k := range f.set {
		switch k {
		case "loss-out":
			cur.LossOut = f.Faults.LossOut
		case "loss-in":
			cur.LossIn = f.Faults.LossIn
		case "latency":
			cur.Latency = f.Faults.Latency
		case "jitter":
			cur.Jitter = f.Faults.Jitter
		case "drain":
			cur.DrainFactor = f.Faults.DrainFactor
		case "sysid":
			cur.SysID = f.Faults.SysID
		case "gps-lost":
			cur.GPSLost = f.Faults.GPSLost
		}
	}
	return cur
}

// faultEvent is a fault that happens at a time after start.
type faultEvent struct {
	at   time.Duration
	what string
	do   func()
}

// startFaults fills cfg.DroneFaults with the knobs the flags give from the
// start, so that they hold from each drone's first message.
func startFaults(cfg *sim.Config, faults []droneFault) {
	for _, f := range faults {
		if cfg.DroneFaults == nil {
			cfg.DroneFaults = map[uint8]sim.Faults{}
		}
		base, ok := cfg.DroneFaults[uint8(f.SysID)]
		if !ok {
			base = cfg.Faults
		}
		cfg.DroneFaults[uint8(f.SysID)] = f.merge(base)
	}
}

// scheduleFaults sets the flags' winds and runs the timed faults until ctx
// ends. It returns a wait function for the goroutine it started.
func scheduleFaults(ctx context.Context, swarm *sim.Swarm, faults []droneFault, log *slog.Logger) (wait func(), err error) {
	var events []faultEvent
	for _, f := range faults {
		d := swarm.Drone(uint8(f.SysID))
		if d == nil {
			return nil, fmt.Errorf("--fault: no drone with system id %d", f.SysID)
		}
		if f.windSet {
			d.SetWind(f.Wind)
		}
		if f.CutFor > 0 {
			events = append(events, faultEvent{f.CutAt, fmt.Sprintf("drone %d link cut for %s", f.SysID, f.CutFor), func() { d.CutLink(f.CutFor) }})
		}
		if f.gpsTimed {
			events = append(events, faultEvent{f.GPSLostAt, fmt.Sprintf("drone %d GPS lost", f.SysID), func() { d.SetGPSLost(true) }})
			if f.GPSLostFor > 0 {
				events = append(events, faultEvent{f.GPSLostAt + f.GPSLostFor, fmt.Sprintf("drone %d GPS back", f.SysID), func() { d.SetGPSLost(false) }})
			}
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		timer := time.NewTimer(0)
		defer timer.Stop()
		<-timer.C
		for _, e := range events {
			timer.Reset(time.Until(start.Add(e.at)))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			log.Info("fault injected", "fault", e.what)
			e.do()
		}
	}()
	return wg.Wait, nil
}
