package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/proto"
	"github.com/centinela-gcs/centinela/sim"
	"github.com/centinela-gcs/centinela/web"
)

// serveConfig is the configuration of "centinela serve".
type serveConfig struct {
	// MAVLink lists the endpoints to reach drones on (MAVProxy convention).
	MAVLink []string
	// SysID and CompID identify the server on MAVLink.
	SysID, CompID int
	// LinkTimeout is how long without a heartbeat before a drone is LOST.
	LinkTimeout time.Duration
	// MissionRetries is how many times a mission transfer step is sent
	// again before the transfer fails (0: the transport's default, 5).
	MissionRetries int
	// StreamHz is the telemetry rate asked of every drone.
	StreamHz float64
	// PositionHz is the GLOBAL_POSITION_INT rate asked (0: the larger of
	// StreamHz and 10 Hz).
	PositionHz float64
	// Sim starts this many simulated drones in-process, connected over a
	// loopback UDP socket of their own.
	Sim int
	// SimSpeedup, SimSeed, SimBootDelay and SimHome configure them.
	SimSpeedup   float64
	SimSeed      int64
	SimBootDelay time.Duration
	SimHome      string
	// StatusInterval prints a fleet status table this often (0: never).
	StatusInterval time.Duration
	// Agencies defines agencies as "ID=JURISDICTION,…" (added to the
	// built-in ones, replacing one of the same id).
	Agencies []string
	// DroneAgencies assigns drones to agencies as "SYSID=AGENCY".
	DroneAgencies []string
	// DroneNames names drones as "SYSID=NAME"; a named drone's id is its name.
	DroneNames []string
	// DefaultAgency is the agency of drones not in DroneAgencies.
	DefaultAgency string
	// Zones is a GeoJSON file of zones imported over the bundled dataset.
	Zones string
	// BreachAction is the default response to a geofence breach.
	BreachAction string
	// Signing gives drones MAVLink 2 signing keys (serve_signing.go).
	Signing signingOptions
	// Store configures the database (serve_store.go).
	Store storeOptions
	// GRPC configures the gRPC API (serve_grpc.go).
	GRPC grpcOptions
	// HTTP configures the operator map (serve_http.go).
	HTTP httpConfig
	// Log configures logging.
	Log logOptions
	// Debug serves metrics and profiles (serve_metrics.go).
	Debug debugConfig
	// Lang is the language of what serve and demo print for people on
	// the terminal (the status table, demo's tokens); logs stay English.
	Lang i18n.Lang
}

func defaultServeConfig() serveConfig {
	return serveConfig{
		SysID:         mavlink.DefaultSysID,
		CompID:        mavlink.DefaultCompID,
		LinkTimeout:   3 * time.Second,
		StreamHz:      4,
		SimSpeedup:    1,
		SimSeed:       1,
		SimBootDelay:  6 * time.Second,
		DefaultAgency: agencyJoint,
		BreachAction:  string(fleet.ZoneRTL),
		Store:         defaultStoreOptions(),
		Log:           logOptions{Level: "info", Format: "text"},
	}
}

// The built-in agencies: one of each country and a binational task force.
const (
	agencyUS    = "us-agency"
	agencyMX    = "mx-agency"
	agencyJoint = "joint-task-force"
)

func builtinAgencies() []geofence.Agency {
	return []geofence.Agency{
		{ID: agencyUS, Name: "US agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		{ID: agencyMX, Name: "Mexican agency", Jurisdictions: []geofence.Jurisdiction{geofence.MX}},
		{ID: agencyJoint, Name: "Binational joint task force", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}},
	}
}

// agencies returns the built-in agencies with --agency applied.
func (c *serveConfig) agencies() ([]geofence.Agency, error) {
	out := builtinAgencies()
	for _, spec := range c.Agencies {
		id, list, ok := strings.Cut(spec, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" || list == "" {
			return nil, fmt.Errorf("--agency %q: want ID=JURISDICTION[,JURISDICTION…] with US, MX or JOINT", spec)
		}
		a := geofence.Agency{ID: id, Name: id}
		for _, j := range strings.Split(list, ",") {
			jj := geofence.Jurisdiction(strings.ToUpper(strings.TrimSpace(j)))
			if !jj.Valid() {
				return nil, fmt.Errorf("--agency %q: unknown jurisdiction %q (want US, MX or JOINT)", spec, j)
			}
			a.Jurisdictions = append(a.Jurisdictions, jj)
		}
		out = slices.DeleteFunc(out, func(b geofence.Agency) bool { return b.ID == id })
		out = append(out, a)
	}
	return out, nil
}

// droneAgencies parses --drone-agency into agency ids by system id.
func (c *serveConfig) droneAgencies(known []geofence.Agency) (map[uint8]string, error) {
	isKnown := func(id string) bool {
		return slices.ContainsFunc(known, func(a geofence.Agency) bool { return a.ID == id })
	}
	if !isKnown(c.DefaultAgency) {
		return nil, fmt.Errorf("--default-agency %q: no such agency", c.DefaultAgency)
	}
	out := map[uint8]string{}
	for _, spec := range c.DroneAgencies {
		sys, agency, ok := strings.Cut(spec, "=")
		n, err := strconv.Atoi(strings.TrimSpace(sys))
		if !ok || err != nil || n < 1 || n > 255 {
			return nil, fmt.Errorf("--drone-agency %q: want SYSID=AGENCY with SYSID 1..255", spec)
		}
		if !isKnown(agency) {
			return nil, fmt.Errorf("--drone-agency %q: no such agency %q", spec, agency)
		}
		out[uint8(n)] = agency
	}
	return out, nil
}

// zoneStore builds the zone store: the bundled dataset, the agencies and
// the zones of --zones.
func (c *serveConfig) zoneStore() (*geofence.Store, error) {
	agencies, err := c.agencies()
	if err != nil {
		return nil, err
	}
	set, err := geofence.Default(agencies...)
	if err != nil {
		return nil, err
	}
	store := geofence.NewStore(set)
	if c.Zones != "" {
		data, err := os.ReadFile(c.Zones)
		if err != nil {
			return nil, fmt.Errorf("--zones: %w", err)
		}
		if err := store.ImportGeoJSON(data, geofence.DefaultLimits(), false); err != nil {
			return nil, fmt.Errorf("--zones %s: %w", c.Zones, err)
		}
	}
	return store, nil
}

func (c *serveConfig) validate() error {
	if c.MissionRetries < 0 || c.MissionRetries > 100 {
		return fmt.Errorf("--mission-retries %d: want 0..100", c.MissionRetries)
	}
	if len(c.MAVLink) == 0 && c.Sim == 0 {
		return errors.New("nothing to serve: give --mavlink ENDPOINT (repeatable) or --sim N")
	}
	for _, e := range c.MAVLink {
		if _, err := mavlink.ParseEndpoint(e); err != nil {
			return fmt.Errorf("--mavlink: %w", err)
		}
	}
	if c.SysID < 1 || c.SysID > 255 {
		return fmt.Errorf("--sysid %d: want 1..255", c.SysID)
	}
	if c.CompID < 1 || c.CompID > 255 {
		return fmt.Errorf("--compid %d: want 1..255", c.CompID)
	}
	if c.LinkTimeout <= 0 {
		return fmt.Errorf("--link-timeout %s: want a positive duration", c.LinkTimeout)
	}
	if c.StreamHz < 0 || c.StreamHz > 50 || math.IsNaN(c.StreamHz) {
		return fmt.Errorf("--stream-hz %g: want 0..50", c.StreamHz)
	}
	if c.Sim < 0 || c.Sim > 250 {
		return fmt.Errorf("--sim %d: want 0..250", c.Sim)
	}
	if c.SimSpeedup <= 0 || c.SimSpeedup > 1000 || math.IsNaN(c.SimSpeedup) {
		return fmt.Errorf("--sim-speedup %g: want more than 0, at most 1000", c.SimSpeedup)
	}
	if c.SimHome != "" {
		if _, err := parseHome(c.SimHome); err != nil {
			return fmt.Errorf("--sim-home: %w", err)
		}
	}
	if !fleet.ZoneAction(c.BreachAction).Valid() {
		return fmt.Errorf("--breach-action %q: want warn, hold, rtl or land", c.BreachAction)
	}
	agencies, err := c.agencies()
	if err != nil {
		return err
	}
	if _, err := c.droneAgencies(agencies); err != nil {
		return err
	}
	if _, err = c.droneNames(); err != nil {
		return err
	}
	if _, err := c.Signing.keys(); err != nil {
		return err
	}
	if err := c.GRPC.validate(); err != nil {
		return err
	}
	return c.Store.validate()
}

// droneNames parses --drone-name.
func (c *serveConfig) droneNames() (map[uint8]string, error) {
	out := map[uint8]string{}
	seen := map[string]bool{}
	for _, spec := range c.DroneNames {
		sys, name, ok := strings.Cut(spec, "=")
		n, err := strconv.Atoi(strings.TrimSpace(sys))
		name = strings.TrimSpace(name)
		if !ok || err != nil || n < 1 || n > 255 || name == "" || len(name) > 64 {
			return nil, fmt.Errorf("--drone-name %q: want SYSID=NAME with SYSID 1..255 and a name of 1 to 64 characters", spec)
		}
		if seen[name] || strings.HasPrefix(name, "sysid-") {
			return nil, fmt.Errorf("--drone-name %q: name %q is taken", spec, name)
		}
		seen[name] = true
		out[uint8(n)] = name
	}
	return out, nil
}

// serveFlags registers the flags of serve (and demo) on fs.
func serveFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.Var((*stringList)(&c.MAVLink), "mavlink", "MAVLink `endpoint` to reach drones on, repeatable: udp:HOST:PORT listens, udpout:HOST:PORT sends, tcp:HOST:PORT connects, tcpin:HOST:PORT listens, serial:DEVICE:BAUD")
	fs.IntVar(&c.SysID, "sysid", c.SysID, "MAVLink system id of the server (ArduPilot's GCS failsafe counts only MAV_GCS_SYSID, 255 by default)")
	fs.IntVar(&c.CompID, "compid", c.CompID, "MAVLink component id of the server")
	fs.DurationVar(&c.LinkTimeout, "link-timeout", c.LinkTimeout, "a drone without heartbeat for this long is LOST")
	fs.IntVar(&c.MissionRetries, "mission-retries", c.MissionRetries, "times a mission, fence or rally transfer step is sent again before the transfer fails (0: 5; raise it on very lossy radio links)")
	fs.Float64Var(&c.StreamHz, "stream-hz", c.StreamHz, "telemetry rate asked of every drone, Hz")
	fs.IntVar(&c.Sim, "sim", c.Sim, "also start `N` simulated drones, connected over loopback UDP")
	fs.Float64Var(&c.SimSpeedup, "sim-speedup", c.SimSpeedup, "simulated time speed-up of the simulated drones")
	fs.Int64Var(&c.SimSeed, "sim-seed", c.SimSeed, "random seed of the simulated drones")
	fs.DurationVar(&c.SimBootDelay, "sim-boot-delay", c.SimBootDelay, "simulated time until a simulated drone has a GPS fix and can arm")
	fs.StringVar(&c.SimHome, "sim-home", c.SimHome, "home of every simulated drone as `LAT,LON,ALT` (default: spread over the border corridors)")
	fs.DurationVar(&c.StatusInterval, "status", c.StatusInterval, "print a fleet status table this often (0: never)")
	fs.Var((*stringList)(&c.Agencies), "agency", "define an agency as `ID=JURISDICTION,…` (US, MX, JOINT), repeatable; built in: us-agency=US, mx-agency=MX, joint-task-force=US,MX,JOINT")
	fs.Var((*stringList)(&c.DroneNames), "drone-name", "name a drone as `SYSID=NAME`, repeatable; its id becomes the name")
	fs.Var((*stringList)(&c.DroneAgencies), "drone-agency", "assign a drone to an agency as `SYSID=AGENCY`, repeatable")
	fs.StringVar(&c.DefaultAgency, "default-agency", c.DefaultAgency, "agency of drones not assigned with --drone-agency")
	fs.StringVar(&c.Zones, "zones", c.Zones, "GeoJSON `file` of zones to import over the bundled border dataset (all or nothing)")
	fs.StringVar(&c.BreachAction, "breach-action", c.BreachAction, "response to a drone leaving its allowed space: warn, hold, rtl or land")
	c.Signing.register(fs)
	c.Store.register(fs)
	c.GRPC.register(fs)
	httpFlags(fs, &c.HTTP)
	c.Log.register(fs)
	c.Debug.register(fs)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultServeConfig()
	if path, err := defaultDBPath(); err == nil {
		cfg.Store.DB = path
	}
	cl := newCmdLine("serve", args, stderr)
	serveFlags(cl.fs, &cfg)
	cl.usage("[flags]", "Runs the ground-control server: links to drones over MAVLink, keeps the fleet\n"+
		"picture and commands it. Stops gracefully on SIGINT or SIGTERM.\n\n"+
		"Example: centinela serve --mavlink udp:0.0.0.0:14550 --mavlink tcp:127.0.0.1:5760")
	log, err := cl.parse(args, cfg.validate, &cfg.Log)
	if err != nil {
		return err
	}
	cfg.Lang = cl.lang
	srv, err := startServer(cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.Run(ctx, stdout)
}

// server is a running "serve": the fleet, its MAVLink transport and, with
// --sim, simulated drones.
type server struct {
	cfg   serveConfig
	log   *slog.Logger
	Fleet *fleet.Fleet
	// Zones is where each drone may fly; Watch checks every position.
	Zones *geofence.Store
	Watch *fleet.ZoneWatch
	// App is the application layer every API (gRPC, the web map) calls.
	App *app.Service
	// Store is the App's durable state.
	Store app.Store
	// Transport is the MAVLink transport; its first len(cfg.MAVLink)
	// endpoints are the configured ones.
	Transport *mavlink.Transport
	// Swarm is the simulated drones (nil without --sim).
	Swarm *sim.Swarm
	// GRPC is the gRPC API (nil without one); GRPCFingerprint the SHA-256
	// of its --tls-self-signed certificate.
	GRPC            *proto.Server
	GRPCFingerprint string
	// Web is the operator map (nil without --http).
	Web *web.Server

	// store is the database and its recorder (nil without --db).
	store *storage

	events  *fleet.Subscription
	wg      sync.WaitGroup
	closers []func()
	debug   debugServers
}

// startServer starts every component of serve, failing fast (a port in use,
// a bad endpoint) and closing what it started if one fails.
func startServer(cfg serveConfig, log *slog.Logger) (*server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start starts the components in order, each registering its Close.
func (s *server) start() error {
	cfg, log := s.cfg, s.log
	zones, err := cfg.zoneStore()
	if err != nil {
		return err
	}
	agencies, _ := cfg.agencies()
	byDrone, _ := cfg.droneAgencies(agencies)
	names, _ := cfg.droneNames()
	names, byDrone, err = s.openStore(zones, names, byDrone)
	s.onClose(s.closeDB)
	if err != nil {
		return err
	}
	s.Zones = zones
	s.Fleet = &fleet.Fleet{
		KnownMission:  s.knownMission(), // serve_restart.go
		Logger:        log,
		LinkTimeout:   cfg.LinkTimeout,
		Agencies:      byDrone,
		Names:         names,
		DefaultAgency: cfg.DefaultAgency,
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
		Policy: fleet.ZonePolicy{Default: fleet.ZoneAction(cfg.BreachAction)},
		Logger: log,
	}
	if err := s.Watch.Initialize(); err != nil {
		return fmt.Errorf("start breach watch: %w", err)
	}
	s.onClose(s.Watch.Close)
	s.Store = app.NewMemStore()
	var history app.History
	if s.store != nil {
		s.Store, history = s.store.DB, s.store.DB
	}
	// Signing keys: the flags' ones, and with a store the ones admins made
	// (loaded by the App, which manages them from then on).
	keys, _ := cfg.Signing.keyStore()
	if keys == nil && s.store != nil {
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
		Logger:         log,
	}
	if keys != nil {
		s.Transport.Keys = keys
	}
	if s.store != nil {
		// Replay marks outlive a restart (docs/SECURITY.md).
		s.Transport.SigningMarks = s.store.DB
	}
	if err := s.Transport.Initialize(); err != nil {
		return fmt.Errorf("start mavlink: %w", err)
	}
	s.onClose(s.Transport.Close)
	// The application layer stops before the links close, so that the
	// server's own shutdown is not taken for lost links (patrols marked
	// interrupted and saved so, alerts).
	s.onClose(s.App.Close)
	s.events = s.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 4096})
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
			Logger:    log,
		}
		simCfg.SigningKeys, _ = cfg.Signing.simKeys()
		if cfg.SimBootDelay == 0 {
			simCfg.BootDelay = -1
		}
		if cfg.SimHome != "" {
			h, _ := parseHome(cfg.SimHome)
			simCfg.Home = &h
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
func (s *server) onClose(f func()) { s.closers = append(s.closers, f) }

// MAVLinkAddr returns the address the i-th configured endpoint listens on.
func (s *server) MAVLinkAddr(i int) net.Addr { return s.Transport.Addrs()[i] }

// Run waits for ctx to end, printing a status table every StatusInterval.
func (s *server) Run(ctx context.Context, stdout io.Writer) error {
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
			printStatus(stdout, s.cfg.Lang, s.Fleet.Drones())
		}
	}
}

// Close stops every component, in the reverse order of their start. It
// may be called more than once.
func (s *server) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// logEvents logs the fleet's events that the fleet does not log itself
// (vehicle texts, mode changes, geofence approaches) until the subscription
// closes.
func (s *server) logEvents() {
	defer s.wg.Done()
	for ev := range s.events.C {
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
}

// printStatus writes one line per drone, in lang.
func printStatus(w io.Writer, lang i18n.Lang, drones []fleet.DroneState) {
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

// parseHome parses "LAT,LON,ALT" (degrees, degrees, metres AMSL).
func parseHome(s string) (sim.Home, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return sim.Home{}, fmt.Errorf("%q: want LAT,LON,ALT", s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return sim.Home{}, fmt.Errorf("%q: %q is not a number", s, p)
		}
		v[i] = f
	}
	if v[0] < -90 || v[0] > 90 || v[1] < -180 || v[1] > 180 {
		return sim.Home{}, fmt.Errorf("%q: latitude or longitude out of range", s)
	}
	return sim.Home{Lat: v[0], Lon: v[1], Alt: v[2]}, nil
}
