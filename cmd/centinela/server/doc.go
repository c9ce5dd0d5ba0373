// Package server is the Centinela server assembled as a library: what
// "centinela serve" runs, for a Go program that wants the server in its
// own process (a test rig, an integration with another system, a custom
// command) without copying its wiring.
//
// Start builds every component from a Config, in order, and Close stops
// them in reverse: the optional database (fleet/store), the fleet
// (fleet.Fleet) with its zone guard, the breach watch (fleet.ZoneWatch)
// over the zones (geofence.Store: the bundled border dataset, the
// Config's agencies and an optional GeoJSON file), the application layer
// (fleet/app.Service) and the recorder of history, the MAVLink transport
// (mavlink.Transport), simulated drones (sim.Swarm) on a loopback socket of
// their own, the gRPC API (proto.Server), the operator map (web.Server) and
// the metrics and pprof servers (web/metrics). The components are the
// Server's fields.
//
//	cfg := server.DefaultConfig()
//	cfg.MAVLink = []string{"udp:0.0.0.0:14550"}
//	cfg.GRPC.Addr = "127.0.0.1:50051"
//	srv, err := server.Start(cfg, logger)
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//	d, err := srv.Fleet.WaitState(ctx, "sysid-1", func(d fleet.DroneState) bool { return d.HasPosition })
//
// # Configuration
//
// Config holds plain values: no flags, no environment. DefaultConfig gives
// the defaults of "centinela serve" except those that make it reach outside
// the process: no database, no gRPC API, no map and no metrics until their
// fields are set. Validate reports the first bad field as an Invalid
// *fleet.Error whose Reason is the field's name ("SysID",
// "GRPC.TLSCert"); the command maps those names to its flags.
//
// Drones are named and assigned to agencies by system id, by link and
// system id (for fleets that reuse system ids across links) or by their
// AUTOPILOT_VERSION uid: see DroneMap.
//
// # Shutdown
//
// Close stops the APIs first, and the application layer before the MAVLink
// transport, so that the server's own shutdown is not taken for lost links
// (patrols would be marked interrupted and alerts raised); the database
// closes last.
//
// # Caveats
//
// One server per database file: a second Start on the same file fails at
// once. Listening addresses with port 0 take a free port; MAVLinkAddr,
// GRPCAddr and HTTPAddr say which.
package server
