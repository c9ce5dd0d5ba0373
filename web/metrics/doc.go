// Package metrics exposes Centinela's counters to Prometheus at /metrics.
//
// It is the only package that imports the Prometheus client. The components
// it reports on (the fleet, the breach watch, the MAVLink transport, later
// the web map, the gRPC streams and the store) know nothing of Prometheus:
// each exposes plain counters as a struct returned by a method, and the
// caller (cmd/centinela) hands those methods to this package as Sources.
// Nothing is pushed: the counters are read on each scrape, so an idle server
// pays nothing and a busy one pays one atomic add per counted event.
//
// # Main types
//
// Sources lists what to read; Handler returns the http.Handler that serves
// the Prometheus text format for them, with Go runtime and process metrics
// (CPU seconds, resident memory, goroutines). Both "serve --metrics ADDR" and
// the web server's /metrics use the same Handler.
//
// # Metrics
//
//   - centinela_drones{link_state}: drones known, by link state (up, lost,
//     unknown).
//   - centinela_drone_link_frames{kind}: frames received, lost (sequence
//     gaps) and malformed on the drones' current links, added up.
//   - centinela_bus_subscriptions, centinela_bus_missed_events_total: the
//     fleet's event bus.
//   - centinela_mavlink_frames_received_total{endpoint,message},
//     centinela_mavlink_frames_sent_total{endpoint,message}: frames by
//     configured endpoint and message name.
//   - centinela_mavlink_parse_errors_total, ..._unknown_messages_total,
//     ..._frames_ignored_total, ..._replies_dropped_total, ..._links,
//     centinela_frames_lost_total{where}: the transport's counters; where is
//     "sequence" (gaps in the vehicles' sequence numbers) or "socket"
//     (datagrams the kernel dropped, when a SocketDrops source is given).
//   - centinela_mavlink_operation_duration_seconds{op,result}: round-trip
//     times of commands (until COMMAND_ACK), mission and parameter
//     transfers, by result ("ok" or the fleet error code).
//   - centinela_zone_checks_total, centinela_zone_check_seconds_total,
//     centinela_zone_checks_unchanged_total,
//     centinela_zone_transitions_total{to}, centinela_zone_responses_total,
//     centinela_zone_responses_failed_total: the breach watch.
//   - Extra sources add their own samples (see Sample).
//
// # Caveats
//
// Labels are bounded on purpose: frames are counted by configured endpoint,
// not by remote peer, so 2,000 drones on one UDP port are one endpoint.
// Per-drone figures belong to the fleet's API, not to Prometheus.
package metrics
