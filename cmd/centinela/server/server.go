package server

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/proto"
	"github.com/centinela-gcs/centinela/sim"
	"github.com/centinela-gcs/centinela/web"
)

// Server is a running server: the fleet, its MAVLink transport, the zones
// and breach watch, the application layer and, as configured, the
// database, the simulated drones, the gRPC API, the operator map and the
// metrics. Start makes one; Close stops it.
//
// Its fields are set by Start and not changed after; callers use the
// components (each safe for concurrent use) but must not close them: Close
// does, in the reverse order of their start.
type Server struct {
	cfg Config
	log *slog.Logger
	// Fleet is the domain core: drones, links, commands, events.
	Fleet *fleet.Fleet
	// Zones is where each drone may fly; Watch checks every position
	// against them and answers breaches.
	Zones *geofence.Store
	Watch *fleet.ZoneWatch
	// App is the application layer every API (gRPC, the web map) calls.
	App *app.Service
	// Store is the App's durable state: DB, or a memory store without one.
	Store app.Store
	// DB is the database and Recorder writes the fleet's history into it
	// (both nil without Config.Store.DB).
	DB       *store.DB
	Recorder *store.Recorder
	// Transport is the MAVLink transport; its first len(Config.MAVLink)
	// endpoints are the configured ones, then the simulated drones' one.
	Transport *mavlink.Transport
	// Swarm is the simulated drones (nil without Config.Sim).
	Swarm *sim.Swarm
	// GRPC is the gRPC API (nil without one); GRPCFingerprint the SHA-256
	// of its self-signed certificate (Config.GRPC.TLSSelfSigned).
	GRPC            *proto.Server
	GRPCFingerprint string
	// Web is the operator map (nil without Config.HTTP.Addr).
	Web *web.Server

	// drones watches discovery to keep drones' setup in DB; dronesDone is
	// closed when keepDrones returns.
	drones     *fleet.Subscription
	dronesDone chan struct{}

	events  *fleet.Subscription
	wg      sync.WaitGroup
	closers []func()
	debug   debugServers
}

// Start validates cfg and starts every component of the server, failing
// fast (a port in use, a bad endpoint, a bad zones file) and closing what it
// started if one fails. log receives every component's logs (nil: none).
// Call Close when done.
func Start(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start starts the components in order, each registering its Close.
func (s *Server) start() error {
	cfg, log := s.cfg, s.log
	zones, err := cfg.zoneStore()
	if err != nil {
		return err
	}
	names, byDrone := cfg.DroneNames.BySysID, cfg.DroneAgencies.BySysID
	names, byDrone, err = s.openStore(names, byDrone)
	s.onClose(s.closeDB)
	if err != nil {
		return err
	}
	s.Zones = zones
	s.Fleet = &fleet.Fleet{
		KnownMission:  s.knownMission(), // restart.go
		Logger:        log,
		LinkTimeout:   cfg.LinkTimeout,
		Agencies:      byDrone,
		AgenciesByKey: cfg.DroneAgencies.ByKey,
		AgenciesByUID: cfg.DroneAgencies.ByUID,
		Names:         names,
		NamesByKey:    cfg.DroneNames.ByKey,
		NamesByUID:    cfg.DroneNames.ByUID,
		DefaultAgency: cfg.DefaultAgency,
		MaxDrones:     cfg.MaxDrones, // 0: the fleet's default
		Guard:         fleet.NewZoneGuard(zones),
		StreamRates: &fleet.StreamRates{Hz: cfg.StreamHz, PerMessage: map[string]float64{
			"GLOBAL_POSITION_INT": cmp.Or(cfg.PositionHz, math.Max(cfg.StreamHz, 10)),
		}},
	}
	if err := s.Fleet.Initialize(); err != nil {
		return fmt.Errorf("start fleet: %w", err)
	}
	s.onClose(s.Fleet.Close)
	s.Watch = &fleet.ZoneWatch{
		Fleet:  s.Fleet,
		Zones:  zones,
		Policy: fleet.ZonePolicy{Default: cfg.BreachAction},
		Logger: log,
	}
	if err := s.Watch.Initialize(); err != nil {
		return fmt.Errorf("start breach watch: %w", err)
	}
	s.onClose(s.Watch.Close)
	s.Store = app.NewMemStore()
	var history app.History
	if s.DB != nil {
		s.Store, history = s.DB, s.DB
	}
	// Signing keys: the config's, and with a store the ones admins made
	// (loaded by the App, which manages them from then on).
	keys, _ := cfg.Signing.keyStore()
	if keys == nil && s.DB != nil {
		keys = &fleet.MemKeyStore{}
	}
	s.App = &app.Service{Fleet: s.Fleet, Zones: zones, Store: s.Store, History: history, Logger: log, Keys: keys}
	if err := s.App.Initialize(); err != nil {
		return fmt.Errorf("start application layer: %w", err)
	}
	s.onClose(s.App.Close)
	if err := s.startRecorder(); err != nil {
		return fmt.Errorf("start recorder: %w", err)
	}
	s.onClose(s.closeRecorder)
	endpoints := append([]string(nil), cfg.MAVLink...)
	if cfg.Sim > 0 {
		endpoints = append(endpoints, "udp:127.0.0.1:0")
	}
	s.Transport = &mavlink.Transport{
		Endpoints: endpoints,
		Ingest:    s.Fleet,
		SysID:     uint8(cfg.SysID),
		CompID:    uint8(cfg.CompID),
		// MissionRetries 0 is the transport's default.
		MissionRetries: cfg.MissionRetries,
		ParamRetries:   cfg.ParamRetries, // 0: the transport's default
		MaxLinks:       cfg.MaxDrones,    // 0: the transport's default
		MaxPeers:       cfg.MaxPeers,     // 0: the transport's default
		Logger:         log,
	}
	if keys != nil {
		s.Transport.Keys = keys
	}
	if s.DB != nil {
		// Replay marks outlive a restart (docs/SECURITY.md).
		s.Transport.SigningMarks = s.DB
	}
	if err := s.Transport.Initialize(); err != nil {
		return fmt.Errorf("start mavlink: %w", err)
	}
	s.onClose(s.Transport.Close)
	// The application layer stops before the links close, so that the
	// server's own shutdown is not taken for lost links (patrols marked
	// interrupted and saved so, alerts).
	s.onClose(s.App.Close)
	s.events = s.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 4096, Batch: true, Linger: 100 * time.Millisecond})
	s.wg.Add(1)
	go s.logEvents()
	s.onClose(func() {
		s.events.Close()
		s.wg.Wait()
	})

	if cfg.Sim > 0 {
		addr := s.Transport.Addrs()[len(endpoints)-1]
		simCfg := sim.Config{
			Drones:    cfg.Sim,
			Connect:   "udpout:" + addr.String(),
			Speedup:   cfg.SimSpeedup,
			Seed:      cfg.SimSeed,
			BootDelay: cfg.SimBootDelay,
			Home:      cfg.SimHome,
			Logger:    log,
		}
		simCfg.SigningKeys, _ = cfg.Signing.simKeys()
		if cfg.SimBootDelay == 0 {
			simCfg.BootDelay = -1
		}
		s.Swarm = sim.New(simCfg)
		if err := s.Swarm.Initialize(); err != nil {
			return fmt.Errorf("start simulated drones: %w", err)
		}
		s.onClose(s.Swarm.Close)
	}
	if err := s.startGRPC(); err != nil {
		return err
	}
	s.onClose(s.closeGRPC)
	if err := s.startHTTP(); err != nil {
		return err
	}
	s.onClose(s.closeHTTP)
	if s.debug, err = startDebug(cfg.Debug, s, log); err != nil {
		return err
	}
	s.onClose(s.debug.Close)
	log.Info("serving", "mavlink", strings.Join(endpoints, " "), "sim", cfg.Sim)
	return nil
}

// onClose registers a component's Close; Close calls them in reverse order.
func (s *Server) onClose(f func()) { s.closers = append(s.closers, f) }

// Config returns the configuration the server was started with.
func (s *Server) Config() Config { return s.cfg }

// MAVLinkAddr returns the address of the i-th transport endpoint: the i-th
// of Config.MAVLink (the port taken, for a listener on port 0), and at
// len(Config.MAVLink) the simulated drones' one. It panics if there is no
// such endpoint.
func (s *Server) MAVLinkAddr(i int) net.Addr { return s.Transport.Addrs()[i] }

// GRPCAddr returns the address the gRPC API listens on, nil without one.
func (s *Server) GRPCAddr() net.Addr {
	if s.GRPC == nil {
		return nil
	}
	return s.GRPC.Address()
}

// HTTPAddr returns the address the operator map listens on, nil without
// one.
func (s *Server) HTTPAddr() net.Addr {
	if s.Web == nil {
		return nil
	}
	// The URL is http://IP:PORT/ of the listener: no lookup.
	a, err := net.ResolveTCPAddr("tcp", strings.TrimSuffix(strings.TrimPrefix(s.Web.URL(), "http://"), "/"))
	if err != nil {
		return nil
	}
	return a
}

// Run blocks until ctx ends, printing a fleet status table to stdout every
// Config.StatusInterval. It returns nil; the server keeps running until
// Close.
func (s *Server) Run(ctx context.Context, stdout io.Writer) error {
	var tick <-chan time.Time
	if s.cfg.StatusInterval > 0 {
		t := time.NewTicker(s.cfg.StatusInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			s.log.Info("shutting down")
			return nil
		case <-tick:
			PrintStatus(stdout, s.cfg.Lang, s.Fleet.Drones())
		}
	}
}

// Close stops every component, in the reverse order of their start (the
// APIs first, the application layer before the MAVLink transport, the
// database last). It may be called more than once, not concurrently.
func (s *Server) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// logEvents logs the fleet's events that the fleet does not log itself
// (vehicle texts, mode changes, geofence approaches, the uid a drone
// reports, which Config.DroneNames can key it by) until the subscription
// closes.
func (s *Server) logEvents() {
	defer s.wg.Done()
	uids := map[string]uint64{} // the uid logged of each drone id
	logEvent := func(d *fleet.DroneState, ev fleet.Event) {
		if d != nil {
			if uid := d.Version.UID; uid != 0 && uids[d.ID] != uid {
				if len(uids) >= 2*max(s.cfg.MaxDrones, fleet.DefaultMaxDrones) {
					clear(uids) // drones come and go; log again rather than grow
				}
				uids[d.ID] = uid
				s.log.Info("autopilot uid", "drone_id", d.ID, "sys_id", d.SysID, "link", d.Link, "uid", fmt.Sprintf("%016x", uid))
			}
			return
		}
		switch e := ev.(type) {
		case fleet.StatusTextEvent:
			s.log.Info("status text", "drone_id", e.DroneID, "severity", e.Severity, "text", e.Text)
		case fleet.ModeChanged:
			s.log.Info("mode changed", "drone_id", e.DroneID, "from", e.From, "to", e.To)
		case fleet.ZoneStateChanged:
			if e.To == fleet.ZoneApproaching {
				s.log.Warn("approaching the edge of allowed space", "drone_id", e.DroneID, "zone_id", e.ZoneID, "boundary_m", e.BoundaryM)
			}
		case fleet.Missed:
			s.log.Warn("event log fell behind", "missed", e.N)
		}
	}
	for range s.events.Ready() {
		if !s.events.Take(logEvent) {
			return
		}
	}
}

// PrintStatus writes a table of drones to w in lang, one line per drone
// sorted by id: link, mode, armed, position, speed, battery and mission. It
// sorts drones in place.
func PrintStatus(w io.Writer, lang i18n.Lang, drones []fleet.DroneState) {
	t := func(key string) string { return i18n.T(lang, key) }
	state := func(code string) string {
		if i18n.Has(i18n.En, "ctl.state."+code) {
			return t("ctl.state." + code)
		}
		return code
	}
	sort.Slice(drones, func(i, j int) bool { return drones[i].ID < drones[j].ID })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	cols := []string{"drone", "link", "mode", "armed", "lat", "lon", "alt", "speed", "battery", "mission"}
	for i, k := range cols {
		cols[i] = t("ctl.col." + k)
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, d := range drones {
		lat, lon := "-", "-"
		if d.HasPosition {
			lat, lon = strconv.FormatFloat(d.Position.Lat, 'f', 5, 64), strconv.FormatFloat(d.Position.Lon, 'f', 5, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%s\n", d.ID, state(d.LinkState.String()), d.Mode, t("serve.armed."+strconv.FormatBool(d.Armed)),
			lat, lon, d.Position.RelAlt, d.GroundSpeed, d.Battery.RemainingPct, missionSummary(lang, d.Mission))
	}
	tw.Flush()
}

// missionSummary is one short cell about a drone's mission, in lang:
// state, item and progress.
func missionSummary(lang i18n.Lang, m fleet.MissionStatus) string {
	state := m.State.String()
	if i18n.Has(i18n.En, "ctl.state."+state) {
		state = i18n.T(lang, "ctl.state."+state)
	}
	switch m.State {
	case fleet.MissionStateRunning, fleet.MissionStatePaused:
		s := i18n.T(lang, "serve.mission", "state", state, "seq", strconv.Itoa(m.CurrentSeq), "last", strconv.Itoa(m.Items-1),
			"percent", strconv.FormatFloat(m.Percent, 'f', 0, 64))
		if m.ETA >= 0 {
			s += " " + i18n.T(lang, "serve.eta", "eta", m.ETA.Round(time.Second).String())
		}
		return s
	case fleet.MissionStateNone:
		return "-"
	}
	return state
}
