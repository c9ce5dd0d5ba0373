package sim

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Swarm runs simulated drones in one process: one socket per drone (so
// that each is a link of its own at the ground station) and one scheduler
// goroutine for all of them. Drones that send to a UDP ground station
// (udpout) share a hub: one goroutine reads every socket, and frames are
// encoded into reused buffers, several to a datagram, with no gomavlib
// Node and no goroutine per drone. Other endpoints get a gomavlib Node per
// drone.
//
// Build it with New, call Initialize, then Close. Methods are safe for
// concurrent use after Initialize.
type Swarm struct {
	cfg Config

	log    *slog.Logger
	drones []*Drone
	hub    *hub
	// nodePerDrone gives udpout drones a gomavlib Node each, as before the
	// hub (benchmarks compare both).
	nodePerDrone bool

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// New returns a Swarm for cfg; call Initialize to start it.
func New(cfg Config) *Swarm { return &Swarm{cfg: cfg} }

// Config returns the configuration, with defaults applied after Initialize.
func (s *Swarm) Config() Config { return s.cfg }

// Initialize validates the configuration, applies defaults, opens every
// drone's socket and starts the scheduler. A socket that cannot be opened
// (a port in use) fails it, and nothing is left running.
func (s *Swarm) Initialize() error {
	c := &s.cfg
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Drones == 0 {
		c.Drones = DefaultDrones
	}
	if c.SysIDBase == 0 {
		c.SysIDBase = DefaultSysIDBase
	}
	if c.Speedup == 0 {
		c.Speedup = DefaultSpeedup
	}
	if c.BootDelay == 0 {
		c.BootDelay = DefaultBootDelay
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	s.log = c.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.log = s.log.With("component", "sim")

	epStr := c.Connect
	if epStr == "" {
		epStr = c.Listen
	}
	spec, err := parseEndpoint(epStr)
	if err != nil {
		return err // unreachable after Validate
	}
	if spec.kind == epUDPOut && hubSupported && !s.nodePerDrone {
		if s.hub, err = newHub(spec.address(), s.log); err != nil {
			return err
		}
	}
	for i := 0; i < c.Drones; i++ {
		ds := spec
		if spec.isServer() && spec.port != 0 {
			ds = spec.withPort(spec.port + TCPPortStep*i)
			if ds.port > 65535 {
				s.closeDrones()
				return fmt.Errorf("sim: drone %d: port %d out of range", i, ds.port)
			}
		}
		d := &Drone{swarm: s, index: i, spec: ds}
		d.sig.key = c.signingKey(c.SysIDBase + uint8(i))
		d.v = newVehicle(d, c, i)
		d.log = s.log.With("drone_id", i, "sys_id", d.v.sysid)
		if err := d.Start(); err != nil {
			s.closeDrones()
			return err
		}
		s.drones = append(s.drones, d)
	}
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.run()
	s.log.Info("swarm started", "link", epStr)
	return nil
}

// Close stops the scheduler and closes every drone's socket, waiting for
// all goroutines the swarm started.
func (s *Swarm) Close() {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
		s.closeDrones()
	})
}

func (s *Swarm) closeDrones() {
	for i := len(s.drones) - 1; i >= 0; i-- {
		s.drones[i].Stop()
	}
	if s.hub != nil {
		s.hub.close()
	}
}

// Drones returns the drones, in sysid order.
func (s *Swarm) Drones() []*Drone { return s.drones }

// Drone returns the drone with system id sysid, or nil.
func (s *Swarm) Drone(sysid uint8) *Drone {
	for _, d := range s.drones {
		if d.SysID() == sysid {
			return d
		}
	}
	return nil
}

// run is the scheduler: every tick it advances each drone to the wall time.
func (s *Swarm) run() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		now := time.Now()
		for _, d := range s.drones {
			d.tick(now)
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}
