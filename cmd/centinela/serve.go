package main

import (
	"context"
	"flag"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/sim"
)

// The built-in agencies (server.BuiltinAgencies).
const (
	agencyUS    = server.AgencyUS
	agencyMX    = server.AgencyMX
	agencyJoint = server.AgencyJoint
)

func builtinAgencies() []geofence.Agency { return server.BuiltinAgencies() }

// serveFlags registers the flags of serve (and demo) on fs, filling c. The
// flags of plain values fill c as fs parses them; the function it returns
// parses the others into c after fs.Parse, with an error naming the flag
// (and never showing a signing key).
func serveFlags(fs *flag.FlagSet, c *server.Config) (finish func() error) {
	r := &serveText{}
	fs.Var((*stringList)(&c.MAVLink), "mavlink", "MAVLink `endpoint` to reach drones on, repeatable: udp:HOST:PORT listens, udpout:HOST:PORT sends, tcp:HOST:PORT connects, tcpin:HOST:PORT listens, serial:DEVICE:BAUD")
	fs.IntVar(&c.SysID, "sysid", c.SysID, "MAVLink system id of the server (ArduPilot's GCS failsafe counts only MAV_GCS_SYSID, 255 by default)")
	fs.IntVar(&c.CompID, "compid", c.CompID, "MAVLink component id of the server")
	fs.DurationVar(&c.LinkTimeout, "link-timeout", c.LinkTimeout, "a drone without heartbeat for this long is LOST")
	fs.IntVar(&c.MaxDrones, "max-drones", c.MaxDrones, "most drones tracked and vehicles linked; more are refused and logged (0: 4096; each --mavlink endpoint still takes at most --max-peers peers)")
	fs.IntVar(&c.MaxPeers, "max-peers", c.MaxPeers, "most peers of each listening --mavlink endpoint (remote addresses of udp:, connections of tcpin:); more are refused and counted (0: 512; a fleet sending to one port needs its size)")
	fs.IntVar(&c.MissionRetries, "mission-retries", c.MissionRetries, "times a mission, fence or rally transfer step is sent again before the transfer fails (0: 5; raise it on very lossy radio links)")
	fs.Float64Var(&c.StreamHz, "stream-hz", c.StreamHz, "telemetry rate asked of every drone, Hz")
	fs.IntVar(&c.Sim, "sim", c.Sim, "also start `N` simulated drones, connected over loopback UDP")
	fs.Float64Var(&c.SimSpeedup, "sim-speedup", c.SimSpeedup, "simulated time speed-up of the simulated drones")
	fs.Int64Var(&c.SimSeed, "sim-seed", c.SimSeed, "random seed of the simulated drones")
	fs.DurationVar(&c.SimBootDelay, "sim-boot-delay", c.SimBootDelay, "simulated time until a simulated drone has a GPS fix and can arm")
	fs.StringVar(&r.SimHome, "sim-home", r.SimHome, "home of every simulated drone as `LAT,LON,ALT` (default: spread over the border corridors)")
	fs.DurationVar(&c.StatusInterval, "status", c.StatusInterval, "print a fleet status table this often (0: never)")
	fs.Var((*stringList)(&r.Agencies), "agency", "define an agency as `ID=JURISDICTION,…` (US, MX, JOINT), repeatable; built in: us-agency=US, mx-agency=MX, joint-task-force=US,MX,JOINT")
	fs.Var((*stringList)(&r.DroneNames), "drone-name", "name a drone as `KEY=NAME`, repeatable; its id becomes the name. KEY is a system id (SYSID), a link and system id (LINK/SYSID, the link as the fleet shows it: tcp:10.0.0.5:5760/1, udp:0.0.0.0:14550/10.0.0.7:14550/1) or an AUTOPILOT_VERSION uid (uid:HEX, as the server logs it); a link key wins over a uid, a uid over a system id")
	fs.Var((*stringList)(&r.DroneAgencies), "drone-agency", "assign a drone to an agency as `KEY=AGENCY`, repeatable; KEY as for --drone-name")
	fs.StringVar(&c.DefaultAgency, "default-agency", c.DefaultAgency, "agency of drones not assigned with --drone-agency")
	fs.StringVar(&c.Zones, "zones", c.Zones, "GeoJSON `file` of zones to import over the bundled border dataset (all or nothing)")
	fs.StringVar((*string)(&c.BreachAction), "breach-action", string(c.BreachAction), "response to a drone leaving its allowed space: warn, hold, rtl or land")
	keys := signingFlags(fs, &c.Signing)
	r.RetentionSize = formatSize(c.Store.RetentionSize)
	storeFlags(fs, &c.Store, &r.RetentionSize)
	grpcFlags(fs, &c.GRPC)
	httpFlags(fs, &c.HTTP)
	debugFlags(fs, &c.Debug)
	return func() error {
		if err := r.apply(c); err != nil {
			return err
		}
		return keys()
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	if path, err := defaultDBPath(); err == nil {
		cfg.Store.DB = path
	}
	logOpts := defaultLogOptions()
	cl := newCmdLine("serve", args, stderr)
	finish := serveFlags(cl.fs, &cfg)
	logOpts.register(cl.fs)
	cl.usage("[flags]", "Runs the ground-control server: links to drones over MAVLink, keeps the fleet\n"+
		"picture and commands it. Stops gracefully on SIGINT or SIGTERM.\n\n"+
		"Example: centinela serve --mavlink udp:0.0.0.0:14550 --mavlink tcp:127.0.0.1:5760")
	log, err := cl.parse(args, func() error {
		if err := finish(); err != nil {
			return err
		}
		return validateServe(&cfg)
	}, &logOpts)
	if err != nil {
		return err
	}
	cfg.Lang = cl.lang
	srv, err := server.Start(cfg, log)
	if err != nil {
		return flagError(err)
	}
	defer srv.Close()
	return srv.Run(ctx, stdout)
}

// validateServe checks cfg, naming flags in its errors.
func validateServe(cfg *server.Config) error {
	if len(cfg.MAVLink) == 0 && cfg.Sim == 0 {
		return msgErr("flagerr.nothing_to_serve")
	}
	return flagError(cfg.Validate())
}

// configFlags names the flag of each server.Config field.
var configFlags = map[string]string{
	"MAVLink": "--mavlink", "SysID": "--sysid", "CompID": "--compid", "LinkTimeout": "--link-timeout",
	"MaxDrones": "--max-drones", "MaxPeers": "--max-peers", "MissionRetries": "--mission-retries", "StreamHz": "--stream-hz", "Sim": "--sim",
	"SimSpeedup": "--sim-speedup", "SimBootDelay": "--sim-boot-delay", "SimHome": "--sim-home",
	"StatusInterval": "--status", "Agencies": "--agency", "DroneNames": "--drone-name",
	"DroneAgencies": "--drone-agency", "DefaultAgency": "--default-agency", "Zones": "--zones",
	"BreachAction": "--breach-action", "Signing.Keys": "--signing-key", "Signing.File": "--signing-key-file",
	"Store.DB": "--db", "Store.RetentionAge": "--retention-age", "Store.RetentionSize": "--retention-size",
	"GRPC.Addr": "--grpc", "GRPC.TLSCert": "--tls-cert", "GRPC.TLSKey": "--tls-key",
	"GRPC.TLSSelfSigned": "--tls-self-signed", "GRPC.AllowPlaintext": "--allow-plaintext",
	"HTTP.Addr": "--http", "HTTP.Tiles": "--tiles", "Debug.Metrics": "--metrics", "Debug.Pprof": "--pprof",
}

// flagError rewrites a configuration error of the server package (a
// *server.ConfigError, not wrapped) in the flags' terms and in the
// reader's language: "--sysid 0: want 1..255" for "SysID 0: want 1..255",
// "--tls-cert and --tls-key go together" for "GRPC.TLSCert and GRPC.TLSKey
// go together". Other errors pass unchanged.
func flagError(err error) error {
	ce, ok := err.(*server.ConfigError)
	if !ok || configFlags[ce.Field] == "" {
		return err
	}
	kv := []string{"field", configFlags[ce.Field]}
	for k, v := range ce.Params {
		if f, ok := configFlags[v]; ok && k == "other" {
			v = f
		}
		kv = append(kv, k, v)
	}
	me := msgErr("config."+ce.Code, kv...).(*msgError)
	if ce.Cause != nil {
		me.errs = map[string]error{"err": ce.Cause}
	}
	return me
}

// parseHome parses "LAT,LON,ALT" (degrees, degrees, metres AMSL).
func parseHome(s string) (sim.Home, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return sim.Home{}, msgErr("flagerr.home_form", "value", strconv.Quote(s))
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return sim.Home{}, msgErr("flagerr.home_number", "value", strconv.Quote(s), "part", strconv.Quote(p))
		}
		v[i] = f
	}
	if v[0] < -90 || v[0] > 90 || v[1] < -180 || v[1] > 180 {
		return sim.Home{}, msgErr("flagerr.home_range", "value", strconv.Quote(s))
	}
	return sim.Home{Lat: v[0], Lon: v[1], Alt: v[2]}, nil
}
