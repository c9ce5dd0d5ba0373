package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/internal/procstat"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/sim"
	"github.com/centinela-gcs/centinela/web"
)

// benchConfig is the configuration of "centinela bench".
type benchConfig struct {
	// Drones is the number of simulated drones; groups of up to 250 reuse
	// system ids 1..250, each drone on a socket (a link) of its own, and a
	// separate drone of the fleet (identity is bound to the link).
	Drones int
	// Rate is the GLOBAL_POSITION_INT rate asked of every drone, Hz; the
	// other streams are asked at StreamHz.
	Rate     float64
	StreamHz float64
	// WSClients is the number of WebSocket clients watching every drone
	// (the operator map's server on a loopback port).
	WSClients int
	// WSProtocol is the WebSocket protocol version they ask for (1: every
	// state a full object; 2: compact position entries).
	WSProtocol int
	// GRPCStream opens one gRPC telemetry stream of every drone's position.
	GRPCStream bool
	// Record records the fleet's history to a bbolt database in a
	// temporary directory.
	Record bool
	// AllowLoss reports, without failing, a run with problems
	// (benchResult.problems: drones not discovered, frames lost, …).
	AllowLoss bool
	// Duration is the measured window, after the warm-up.
	Duration time.Duration
	// Warmup bounds the wait for discovery and streams.
	Warmup time.Duration
	// SimProcess runs the simulated drones in child "centinela sim"
	// processes, so that their CPU is not the server's.
	SimProcess bool
	// SimNice is the scheduling niceness of the simulator processes (0:
	// the bench's own): drones are machines of their own, and the
	// simulators then take the CPU the server leaves rather than a fair
	// share of it.
	SimNice int
	// JSON prints one JSON object; Markdown a Markdown table.
	JSON, Markdown bool
	// Sweep runs the bench once for each of these drone counts (instead of
	// Drones) and prints one table.
	Sweep []int
	// Pprof serves /debug/pprof/ on this address during the run.
	Pprof string
	Log   logOptions
}

func defaultBenchConfig() benchConfig {
	return benchConfig{Drones: 100, Rate: 10, StreamHz: 3, WSProtocol: web.ProtocolVersion, Duration: 10 * time.Second, Warmup: 20 * time.Second,
		GRPCStream: true, Record: true, SimNice: 19, Log: logOptions{Level: "error", Format: "text"}}
}

// simGroup is the most drones one "centinela sim" (one sim.Swarm) runs;
// groupsPerEndpoint groups send to each of the server's UDP endpoints, so
// that an endpoint has at most 500 drones and the probe, under the
// transport's bound of peers per endpoint (mavlink.DefaultMaxPeers, 512).
const (
	simGroup          = 250
	groupsPerEndpoint = 2
)

// benchEndpoints is how many UDP endpoints the server listens on for n
// drones.
func benchEndpoints(n int) int {
	groups := (n + simGroup - 1) / simGroup
	return max(1, (groups+groupsPerEndpoint-1)/groupsPerEndpoint)
}

func (c *benchConfig) validate() error {
	switch {
	case c.Drones < 1 || c.Drones > 10000:
		return msgErr("cli.want", "flag", "--drones", "value", strconv.Itoa(c.Drones), "want", "1..10000")
	case c.Rate <= 0 || c.Rate > 50 || math.IsNaN(c.Rate):
		return msgErr("cli.want_positive_max", "flag", "--rate", "value", fmt.Sprintf("%g", c.Rate), "max", "50 Hz")
	case c.StreamHz < 0 || c.StreamHz > 50 || math.IsNaN(c.StreamHz):
		return msgErr("cli.want", "flag", "--stream-hz", "value", fmt.Sprintf("%g", c.StreamHz), "want", "0..50")
	case c.Duration <= 0:
		return msgErr("flagerr.positive_duration", "flag", "--duration", "value", c.Duration.String())
	case c.Warmup <= 0:
		return msgErr("flagerr.positive_duration", "flag", "--warmup", "value", c.Warmup.String())
	case c.WSClients < 0 || c.WSClients > 1000:
		return msgErr("cli.want", "flag", "--ws-clients", "value", strconv.Itoa(c.WSClients), "want", "0..1000")
	case c.WSProtocol != web.ProtocolV1 && c.WSProtocol != web.ProtocolV2:
		return msgErr("cli.want", "flag", "--ws-protocol", "value", strconv.Itoa(c.WSProtocol), "want", "1 or 2")
	case slices.ContainsFunc(c.Sweep, func(n int) bool { return n < 1 || n > 10000 }):
		return msgErr("flagerr.sweep", "flag", "--sweep", "value", fmt.Sprint(c.Sweep))
	case c.SimNice < 0 || c.SimNice > 19:
		return msgErr("cli.want", "flag", "--sim-nice", "value", strconv.Itoa(c.SimNice), "want", "0..19")
	case c.JSON && c.Markdown:
		return msgErr("flagerr.json_markdown")
	}
	return nil
}

// benchResult is what one bench run measured. JSON names are stable.
type benchResult struct {
	Drones     int     `json:"drones"`
	Discovered int     `json:"discovered"`
	SysIDs     int     `json:"distinct_sysids"`
	RateHz     float64 `json:"rate_hz"`
	DurationS  float64 `json:"duration_s"`
	SimProcess bool    `json:"sim_process"`
	// SimNice is the simulator processes' niceness (--sim-nice).
	SimNice    int `json:"sim_nice,omitempty"`
	WSClients  int `json:"ws_clients"`
	WSProtocol int `json:"ws_protocol,omitempty"`

	Frames      uint64  `json:"frames"`
	FramesPerS  float64 `json:"frames_per_s"`
	FramesLost  uint64  `json:"frames_lost"`
	LostSocket  uint64  `json:"frames_lost_socket"`
	LostSeq     uint64  `json:"frames_lost_sequence"`
	BusMissed   uint64  `json:"bus_missed"`
	ParseErrors uint64  `json:"parse_errors"`
	LinkSwitch  uint64  `json:"-"`
	ServerCPUUs float64 `json:"server_cpu_us_per_frame"`
	ServerCores float64 `json:"server_cores"`
	SimCPUUs    float64 `json:"sim_cpu_us_per_frame"`
	SimCores    float64 `json:"sim_cores"`

	FloorUs   float64 `json:"floor_us_per_frame"`
	DecodeUs  float64 `json:"decode_us_per_frame"`
	RecvUs    float64 `json:"socket_recv_us_per_frame"`
	OverFloor float64 `json:"server_over_floor"`

	// The latency of the probe's positions: LatencyTo says to what (the
	// WebSocket clients when there are some, else a fleet bus
	// subscriber); Bus, WS and GRPC are each receiver's.
	LatencyTo  string     `json:"latency_to"`
	LatSamples int        `json:"latency_samples"`
	P50ms      float64    `json:"p50_latency_ms"`
	P99ms      float64    `json:"p99_latency_ms"`
	MaxMs      float64    `json:"max_latency_ms"`
	Bus        latencyRes `json:"bus_latency"`
	WS         latencyRes `json:"ws_latency"`
	GRPC       latencyRes `json:"grpc_latency"`

	// The WebSocket clients: messages and drone states received in the
	// window (all clients), the fewest drones any client received a
	// position of (the probe included), clients closed by the server,
	// and the server's counts of messages dropped and clients closed as
	// slow consumers in the window.
	WSMessages uint64 `json:"ws_messages"`
	WSStates   uint64 `json:"ws_states"`
	// WSCompact counts the states of WSStates that came as compact
	// entries (protocol 2), the others as full objects.
	WSCompact uint64 `json:"ws_compact_states"`
	// WSTel counts the status entries (protocol 2) that came with compact
	// ones.
	WSTel        uint64  `json:"ws_tel_entries"`
	WSMiB        float64 `json:"ws_mib"`
	WSDronesMin  int     `json:"ws_drones_seen_min"`
	WSClosed     int     `json:"ws_clients_closed"`
	WSDropped    uint64  `json:"ws_dropped"`
	WSSlowClosed uint64  `json:"ws_slow_closed"`
	// WSClientCores is the CPU the bench's clients used, in cores, never
	// counted as the server's: with --sim-process their own process's (the
	// WebSocket clients and the gRPC stream), else the WebSocket clients'
	// reading threads in the server's process.
	WSClientCores float64 `json:"ws_client_cores"`
	// SchedP99ms and SchedP999ms are the 99th and 99.9th percentiles of the
	// time the server's goroutines waited to run once runnable (the Go
	// runtime's /sched/latencies:seconds, upper bounds of its buckets): the
	// share of a latency that is the server's own scheduler's.
	SchedP99ms  float64 `json:"sched_p99_ms"`
	SchedP999ms float64 `json:"sched_p999_ms"`
	// GRPCSamples counts the telemetry stream's samples in the window.
	GRPCSamples uint64 `json:"grpc_samples"`
	// The recorder (bbolt): points committed and dropped in the window,
	// bus events it missed, and whether recording stopped.
	RecPoints  uint64 `json:"record_points"`
	RecDropped uint64 `json:"record_dropped"`
	RecMissed  uint64 `json:"record_missed"`
	RecStopped bool   `json:"record_stopped"`

	RSSPerDroneKiB float64 `json:"rss_per_drone_kib"`
	RSSMiB         float64 `json:"rss_mib"`
	Goroutines     int     `json:"goroutines"`
	SimMemKiB      float64 `json:"sim_rss_per_drone_kib"`
	// ZoneCheckUs is the zone watch's wall-clock time per position checked
	// in the server during the run (preemption included); ZoneCheckCPUUs
	// is the check's CPU per position, measured after the run on the
	// positions the watch last checked (measureBreachCPU).
	ZoneCheckUs    float64 `json:"zone_check_us"`
	ZoneCheckCPUUs float64 `json:"zone_check_cpu_us"`
	ZoneCheckN     int     `json:"zone_check_positions"`

	Machine string `json:"machine"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultBenchConfig()
	cl := newCmdLine("bench", args, stderr)
	fs := cl.fs
	fs.IntVar(&cfg.Drones, "drones", cfg.Drones, "number of simulated drones (up to 10,000; groups of 250 reuse system ids, each drone on its own socket and a drone of its own)")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "GLOBAL_POSITION_INT rate asked of every drone, Hz")
	fs.Float64Var(&cfg.StreamHz, "stream-hz", cfg.StreamHz, "rate of the other telemetry streams (attitude, status, …), Hz")
	fs.IntVar(&cfg.WSClients, "ws-clients", cfg.WSClients, "WebSocket clients of the operator map watching every drone (0: no web server); latency is then measured to them")
	fs.IntVar(&cfg.WSProtocol, "ws-protocol", cfg.WSProtocol, "WebSocket protocol version the clients ask for (1: full drone objects; 2: compact position entries)")
	fs.BoolVar(&cfg.GRPCStream, "grpc-stream", cfg.GRPCStream, "open one gRPC telemetry stream of every drone's position")
	fs.BoolVar(&cfg.Record, "record", cfg.Record, "record the fleet's history to a bbolt database in a temporary directory")
	fs.BoolVar(&cfg.AllowLoss, "allow-loss", cfg.AllowLoss, "exit 0 even when a run did not discover every drone, lost frames, had a WebSocket client miss a drone or be closed, or stopped recording")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured window, after the warm-up")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "longest wait for the drones to be discovered and streaming")
	fs.BoolVar(&cfg.SimProcess, "sim-process", cfg.SimProcess, "run the simulated drones in child 'centinela sim' processes and the WebSocket and gRPC clients in one more, so their CPU is not the server's")
	fs.IntVar(&cfg.SimNice, "sim-nice", cfg.SimNice, "scheduling niceness of the simulator processes with --sim-process (0..19; 0: the bench's own), so that they take the CPU the server leaves, as drones of their own would")
	fs.BoolVar(&cfg.JSON, "json", cfg.JSON, "print one JSON object (one a line with --sweep)")
	fs.BoolVar(&cfg.Markdown, "markdown", cfg.Markdown, "print a Markdown table (docs/PERFORMANCE.md)")
	fs.Func("sweep", "run once for each drone count of this comma-separated `LIST` (for example 100,500,1000,2000) and print one table", func(v string) error {
		cfg.Sweep = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return msgErr("flagerr.drone_count", "value", strconv.Quote(f))
			}
			cfg.Sweep = append(cfg.Sweep, n)
		}
		return nil
	})
	fs.StringVar(&cfg.Pprof, "pprof", cfg.Pprof, "serve Go profiles of the server at http://`ADDR`/debug/pprof/ during the run")
	cfg.Log.register(fs)
	cl.usage("[flags]", "Starts the server and a simulated fleet over loopback UDP, measures ingest for\n"+
		"--duration and prints frames per second, losses and where, server CPU per frame\n"+
		"against the floor (gomavlib's decode plus one socket receive, measured in the\n"+
		"same run), latency, and memory per drone. It fails (exit status 1, after\n"+
		"printing the results) when fewer drones are discovered than simulated or\n"+
		"frames are lost, unless --allow-loss.\n\n"+
		"Example: centinela bench --drones 1000 --rate 10 --duration 20s --sim-process")
	log, err := cl.parse(args, cfg.validate, &cfg.Log)
	if err != nil {
		return err
	}
	if os.Getenv(benchClientsEnv) == "1" {
		return runBenchClients(ctx, os.Stdin, stdout, log)
	}
	counts := cfg.Sweep
	if len(counts) == 0 {
		counts = []int{cfg.Drones}
	}
	var results []benchResult
	var failed []string
	for _, n := range counts {
		c := cfg
		c.Drones = n
		res, err := bench(ctx, c, log)
		if err != nil {
			return fmt.Errorf("%d drones: %w", n, err)
		}
		results = append(results, res)
		if p := res.problems(); len(p) > 0 {
			failed = append(failed, fmt.Sprintf("%d drones: %s", n, strings.Join(p, "; ")))
		}
	}
	switch {
	case cfg.JSON:
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	case cfg.Markdown:
		printBenchMarkdown(stdout, results)
	default:
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printBench(stdout, r)
		}
	}
	if len(failed) > 0 && !cfg.AllowLoss {
		return fmt.Errorf("bench failed (--allow-loss to accept): %s", strings.Join(failed, "; "))
	}
	return nil
}

// problems lists what makes a run fail: drones not discovered, frames
// lost, a WebSocket client that did not receive every drone's position or
// was closed by the server, recording stopped.
func (r benchResult) problems() []string {
	var p []string
	if r.Discovered < r.Drones {
		p = append(p, fmt.Sprintf("discovered %d of %d drones", r.Discovered, r.Drones))
	}
	if r.FramesLost > 0 {
		p = append(p, fmt.Sprintf("%d frames lost (socket %d, sequence gaps %d)", r.FramesLost, r.LostSocket, r.LostSeq))
	}
	if r.WSClients > 0 && r.WSDronesMin < r.Drones+1 {
		p = append(p, fmt.Sprintf("a WebSocket client received positions of only %d of the %d drones (the probe included)", r.WSDronesMin, r.Drones+1))
	}
	if r.WSClosed > 0 {
		p = append(p, fmt.Sprintf("%d of %d WebSocket clients closed by the server", r.WSClosed, r.WSClients))
	}
	if r.RecStopped {
		p = append(p, "recording stopped")
	}
	return p
}

// bench runs one measurement.
func bench(ctx context.Context, cfg benchConfig, log *slog.Logger) (benchResult, error) {
	res := benchResult{Drones: cfg.Drones, RateHz: cfg.Rate, DurationS: cfg.Duration.Seconds(),
		SimProcess: cfg.SimProcess, Machine: machineDescription(), SysIDs: min(cfg.Drones, simGroup),
		WSClients: cfg.WSClients}
	if cfg.SimProcess {
		res.SimNice = cfg.SimNice
	}
	if cfg.WSClients > 0 {
		res.WSProtocol = cfg.WSProtocol
	}
	runtime.GC()
	rss0 := readRSS(os.Getpid())

	dir, err := os.MkdirTemp("", "centinela-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	srv, err := server.Start(benchServeConfig(cfg, dir), log)
	if err != nil {
		return res, err
	}
	serverUp := true
	defer func() {
		if serverUp {
			srv.Close()
		}
	}()
	var addrs []string
	var udp []net.Addr
	for i := range benchEndpoints(cfg.Drones) {
		addrs = append(addrs, srv.MAVLinkAddr(i).String())
		udp = append(udp, srv.MAVLinkAddr(i))
	}
	addr := addrs[0]
	ports := udpPorts(udp)

	// The simulated fleet.
	fleetSims, err := startBenchFleet(cfg, addrs, log)
	if err != nil {
		return res, err
	}
	defer fleetSims.close()

	// The latency probe: one more vehicle on a socket of its own, sending
	// positions that a fleet bus subscriber, the WebSocket clients and
	// the gRPC stream time.
	probe := &latencyProbe{}
	if err := probe.start(srv.Fleet, addr); err != nil {
		return res, err
	}
	defer probe.close()
	load, err := startBenchClients(ctx, cfg, srv, probe, log)
	if err != nil {
		return res, err
	}
	defer load.close()

	// Warm-up: every drone (and the probe) discovered and streaming.
	want := cfg.Drones + 1
	deadline := time.Now().Add(cfg.Warmup)
	lastN, lastChange := -1, time.Now()
	for time.Now().Before(deadline) {
		n := srv.Fleet.Stats().Drones
		if n != lastN {
			lastN, lastChange = n, time.Now()
		}
		// Done when all are there, or when discovery stalls after it began.
		if (n >= want && time.Since(lastChange) > 2*time.Second) || (n > 1 && time.Since(lastChange) > 5*time.Second) {
			break
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return res, err
		}
	}
	if err := sleepCtx(ctx, 2*time.Second); err != nil { // streams ramp up after discovery
		return res, err
	}

	// The measured window.
	type snap struct {
		frames, lost, parse, missed uint64
		sock                        udpSocketStats
		cpu, simCPU                 time.Duration
		load                        loadStats
		checks                      uint64
		checkTime                   time.Duration
		web                         web.Stats
		sched                       schedHist
		rec                         store.RecorderStats
		at                          time.Time
	}
	take := func() snap {
		st, tr, fs, zw := srv.Transport.Stats(), srv.Transport.Traffic(), srv.Fleet.Stats(), srv.Watch.Stats()
		ws, rs := benchServerStats(srv)
		return snap{frames: st.Frames, lost: tr.FramesLost, parse: st.ParseErrors, missed: fs.SubscriptionMissed,
			sock: readUDPSocketStats(ports), cpu: processCPU(), simCPU: fleetSims.cpu(), load: load.stats(),
			checks: zw.Checks, checkTime: zw.CheckTime, web: ws, rec: rs, sched: readSchedHist(), at: time.Now()}
	}
	probe.reset()
	a := take()
	if err := sleepCtx(ctx, cfg.Duration); err != nil {
		return res, err
	}
	b := take()
	ws0, ws1 := a.load.WS, b.load.WS
	wsMin, wsClosed := b.load.MinDrones, b.load.Closed
	res.Bus, res.WS, res.GRPC = probe.bus.result(), probe.ws.result(), probe.grpc.result()
	dt := b.at.Sub(a.at).Seconds()
	res.WSMessages, res.WSStates, res.WSCompact, res.WSTel = ws1.Messages-ws0.Messages, ws1.States-ws0.States, ws1.Compact-ws0.Compact, ws1.Tel-ws0.Tel
	res.WSMiB = float64(ws1.Bytes-ws0.Bytes) / (1 << 20)
	res.WSDronesMin, res.WSClosed = wsMin, wsClosed
	res.WSDropped, res.WSSlowClosed = b.web.Dropped-a.web.Dropped, b.web.SlowClosed-a.web.SlowClosed
	res.GRPCSamples = b.load.GRPCSamples - a.load.GRPCSamples
	res.SchedP99ms = b.sched.quantileSince(a.sched, 0.99) * 1000
	res.SchedP999ms = b.sched.quantileSince(a.sched, 0.999) * 1000
	res.RecPoints, res.RecDropped = b.rec.Points-a.rec.Points, b.rec.DroppedPoints-a.rec.DroppedPoints
	res.RecMissed, res.RecStopped = b.rec.Missed-a.rec.Missed, b.rec.Stopped

	res.Discovered = srv.Fleet.Stats().Drones - 1 // less the probe
	res.Frames = b.frames - a.frames
	res.FramesPerS = float64(res.Frames) / dt
	res.LostSocket = b.sock.Drops - a.sock.Drops
	res.LostSeq = b.lost - a.lost
	res.BusMissed = b.missed - a.missed
	res.FramesLost = res.LostSocket + res.LostSeq
	res.ParseErrors = b.parse - a.parse
	// The clients' CPU is not the server's: in a process of their own with
	// --sim-process, else the WebSocket clients' reading threads in this
	// one.
	clientCPU := b.load.CPU - a.load.CPU
	res.WSClientCores = clientCPU.Seconds() / dt
	serverCPU := b.cpu - a.cpu
	if !cfg.SimProcess {
		serverCPU -= clientCPU
	}
	if res.Frames > 0 {
		res.ServerCPUUs = float64(serverCPU.Microseconds()) / float64(res.Frames)
		res.SimCPUUs = float64((b.simCPU - a.simCPU).Microseconds()) / float64(res.Frames)
	}
	res.ServerCores = serverCPU.Seconds() / dt
	res.SimCores = (b.simCPU - a.simCPU).Seconds() / dt
	if n := b.checks - a.checks; n > 0 {
		res.ZoneCheckUs = float64((b.checkTime - a.checkTime).Nanoseconds()) / float64(n) / 1000
	}
	main := res.Bus
	res.LatencyTo = "fleet bus subscriber"
	if cfg.WSClients > 0 {
		main = res.WS
		res.LatencyTo = fmt.Sprintf("%d WebSocket clients", cfg.WSClients)
	}
	res.LatSamples, res.P50ms, res.P99ms, res.MaxMs = main.Samples, main.P50ms, main.P99ms, main.MaxMs
	runtime.GC()
	rss := readRSS(os.Getpid())
	res.RSSMiB = float64(rss) / (1 << 20)
	res.RSSPerDroneKiB = float64(max(rss-rss0, 0)) / 1024 / float64(cfg.Drones)
	res.Goroutines = runtime.NumGoroutine()
	if cfg.SimProcess {
		res.SimMemKiB = float64(fleetSims.rss()) / 1024 / float64(cfg.Drones)
	}

	// The floor, on the simulator's frames, with the fleet stopped.
	breach := takeBreachRun(srv)
	load.close()
	fleetSims.close()
	probe.close()
	srv.Close()
	serverUp = false
	decode, recv, err := measureFloor(ctx, log)
	if err != nil {
		return res, fmt.Errorf("floor: %w", err)
	}
	res.DecodeUs, res.RecvUs = us(decode), us(recv)
	res.ZoneCheckCPUUs, res.ZoneCheckN = us(measureBreachCPU(breach)), len(breach.in)
	res.FloorUs = res.DecodeUs + res.RecvUs
	if res.FloorUs > 0 && cfg.SimProcess {
		res.OverFloor = res.ServerCPUUs / res.FloorUs
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// benchFleet is the simulated fleet: swarms in this process, or child
// "centinela sim" processes.
type benchFleet struct {
	swarms []*sim.Swarm
	procs  []*exec.Cmd
	once   sync.Once
}

// startBenchFleet starts the simulated drones, two groups of simGroup to
// each of the server's UDP endpoints addrs. Their GPS positions wander by
// a few decimetres (sim --gps-noise), as a real receiver's do: every
// position a drone sends is a change of its state.
func startBenchFleet(cfg benchConfig, addrs []string, log *slog.Logger) (*benchFleet, error) {
	f := &benchFleet{}
	for g := 0; g*simGroup < cfg.Drones; g++ {
		n := min(simGroup, cfg.Drones-g*simGroup)
		addr := addrs[(g/groupsPerEndpoint)%len(addrs)]
		if cfg.SimProcess {
			exe, err := os.Executable()
			if err != nil {
				f.close()
				return nil, err
			}
			args := []string{exe, "sim", "--drones", strconv.Itoa(n), "--connect", "udpout:" + addr,
				"--seed", strconv.Itoa(g + 1), "--boot-delay", "2s", "--gps-noise", "--log-level", "error"}
			if cfg.SimNice != 0 {
				// nice(1) sets the priority before the simulator's first
				// thread starts; every thread it makes inherits it.
				niceExe, err := exec.LookPath("nice")
				if err != nil {
					f.close()
					return nil, fmt.Errorf("--sim-nice: %w", err)
				}
				args = append([]string{niceExe, "-n", strconv.Itoa(cfg.SimNice)}, args...)
			}
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
			if err := cmd.Start(); err != nil {
				f.close()
				return nil, fmt.Errorf("start centinela sim: %w", err)
			}
			f.procs = append(f.procs, cmd)
			continue
		}
		sw := sim.New(sim.Config{Drones: n, Connect: "udpout:" + addr, Seed: int64(g + 1), BootDelay: 2 * time.Second, GPSNoise: true, Logger: log})
		if err := sw.Initialize(); err != nil {
			f.close()
			return nil, err
		}
		f.swarms = append(f.swarms, sw)
	}
	return f, nil
}

// cpu returns the CPU time of the child processes so far (0 in-process).
func (f *benchFleet) cpu() time.Duration {
	var total time.Duration
	for _, c := range f.procs {
		total += procstat.Process(c.Process.Pid)
	}
	return total
}

// rss returns the children's resident memory, bytes.
func (f *benchFleet) rss() int64 {
	var total int64
	for _, c := range f.procs {
		total += readRSS(c.Process.Pid)
	}
	return total
}

func (f *benchFleet) close() {
	f.once.Do(func() {
		for i := len(f.swarms) - 1; i >= 0; i-- {
			f.swarms[i].Close()
		}
		for _, c := range f.procs {
			_ = c.Process.Signal(os.Interrupt)
		}
		for _, c := range f.procs {
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = c.Process.Kill()
				<-done
			}
		}
	})
}

// latencyProbe times positions from a probe vehicle to their receivers: a
// fleet bus subscriber, the WebSocket clients and the gRPC stream, each
// with a latencySink.
type latencyProbe struct {
	id   string
	p    *sim.Probe
	sub  *fleet.Subscription
	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	sent map[int]time.Time

	bus, ws, grpc latencySink
}

const (
	probeSysID   = 254
	probeLat     = 32.60
	probeLon     = -117.00
	probeStep    = 1e-6 // degrees per sequence number (10 units of 1e-7)
	probePeriod  = 100 * time.Millisecond
	probeMaxKeep = 4096
)

func (l *latencyProbe) start(f *fleet.Fleet, addr string) error {
	l.id = sysIDName(probeSysID)
	l.p = &sim.Probe{Connect: "udpout:" + addr, SysID: probeSysID}
	if err := l.p.Initialize(); err != nil {
		return err
	}
	l.sent = map[int]time.Time{}
	l.sub = f.Subscribe(fleet.SubscribeOptions{Drones: []string{l.id}})
	l.stop = make(chan struct{})
	l.wg.Add(2)
	go l.send()
	go l.receive()
	return nil
}

func (l *latencyProbe) send() {
	defer l.wg.Done()
	t := time.NewTicker(probePeriod)
	defer t.Stop()
	for seq := 1; ; seq++ {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		l.sent[seq] = time.Now()
		if len(l.sent) > probeMaxKeep {
			delete(l.sent, seq-probeMaxKeep)
		}
		l.mu.Unlock()
		_ = l.p.SendPosition(probeLat+float64(seq%100000)*probeStep, probeLon, 50)
	}
}

func (l *latencyProbe) receive() {
	defer l.wg.Done()
	last := 0
	for ev := range l.sub.C {
		sc, ok := ev.(fleet.StateChanged)
		if !ok || !sc.Drone.HasPosition {
			continue
		}
		l.record(&l.bus, &last, sc.Drone.Position.Lat, time.Now())
	}
}

// record times the probe position of latitude lat received at at by the
// receiver whose last position was *last: positions skipped since it
// count as coalesced (or lost).
func (l *latencyProbe) record(s *latencySink, last *int, lat float64, at time.Time) {
	seq := int(math.Round((lat - probeLat) / probeStep))
	l.mu.Lock()
	sent, ok := l.sent[seq]
	l.mu.Unlock()
	if !ok || seq <= *last {
		return
	}
	skipped := 0
	if *last > 0 {
		skipped = seq - *last - 1
	}
	*last = seq
	s.add(at.Sub(sent), skipped)
}

// reset forgets the latencies measured so far (the warm-up's).
func (l *latencyProbe) reset() {
	l.bus.reset()
	l.ws.reset()
	l.grpc.reset()
}

func (l *latencyProbe) close() {
	if l.stop == nil {
		return
	}
	select {
	case <-l.stop:
		return
	default:
	}
	close(l.stop)
	l.sub.Close()
	l.wg.Wait()
	l.p.Close()
}

// latencySink collects one kind of receiver's latencies.
type latencySink struct {
	mu      sync.Mutex
	got     []time.Duration
	skipped int
}

func (s *latencySink) add(d time.Duration, skipped int) {
	s.mu.Lock()
	if len(s.got) < 1<<20 {
		s.got = append(s.got, d)
	}
	s.skipped += skipped
	s.mu.Unlock()
}

func (s *latencySink) reset() {
	s.mu.Lock()
	s.got, s.skipped = s.got[:0], 0
	s.mu.Unlock()
}

// latencyRes is a latencySink's summary: the samples and their p50, p99
// and max, and the probe positions its receivers skipped (coalesced by
// the server, or lost).
type latencyRes struct {
	Samples int     `json:"samples"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
	Skipped int     `json:"skipped"`
}

func (s *latencySink) result() latencyRes {
	s.mu.Lock()
	lat := slices.Clone(s.got)
	r := latencyRes{Samples: len(lat), Skipped: s.skipped}
	s.mu.Unlock()
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50ms = ms(quantile(lat, 0.50))
		r.P99ms = ms(quantile(lat, 0.99))
		r.MaxMs = ms(lat[len(lat)-1])
	}
	return r
}

// measureFloor captures the frames a few simulated drones stream and
// measures, on them, gomavlib's decode cost per frame and a bare loopback
// socket's receive cost per datagram (one frame each, as the simulator
// sends them).
func measureFloor(ctx context.Context, log *slog.Logger) (decode, recv time.Duration, err error) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, 0, err
	}
	defer pc.Close()
	sw := sim.New(sim.Config{Drones: 6, Connect: "udpout:" + pc.LocalAddr().String(), StreamUnasked: true, BootDelay: -1, Logger: log})
	if err := sw.Initialize(); err != nil {
		return 0, 0, err
	}
	var grams [][]byte
	buf := make([]byte, 65536)
	end := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(end) && len(grams) < 20000 {
		_ = pc.SetReadDeadline(end)
		n, err := pc.Read(buf)
		if err != nil {
			break
		}
		grams = append(grams, slices.Clone(buf[:n]))
	}
	sw.Close()
	if len(grams) < 50 {
		return 0, 0, fmt.Errorf("captured only %d datagrams from the simulator", len(grams))
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	decode, frames, err := mavlink.DecodeCost(grams, 300*time.Millisecond)
	if err != nil {
		return 0, 0, err
	}
	if frames == 0 {
		return 0, 0, errors.New("no frames decoded")
	}
	recv, err = socketRecvCost(grams)
	if err != nil {
		return 0, 0, err
	}
	recv = recv * time.Duration(len(grams)) / time.Duration(frames)
	return decode, recv, nil
}

// socketRecvCost sends grams over loopback and returns the receiving
// thread's CPU time per datagram read.
func socketRecvCost(grams [][]byte) (time.Duration, error) {
	rc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	_ = rc.SetReadBuffer(8 << 20)
	sc, err := net.DialUDP("udp", nil, rc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	// Enough datagrams for the reading thread's CPU time to be well above
	// the clock's granularity.
	rounds := max(5, 40000/len(grams))
	total := len(grams) * rounds
	type out struct {
		cpu time.Duration
		n   int
	}
	done := make(chan out, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, 65536)
		n := 0
		t0 := mavlink.ThreadCPU()
		for n < total {
			_ = rc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := rc.Read(buf); err != nil {
				break
			}
			n++
		}
		done <- out{mavlink.ThreadCPU() - t0, n}
	}()
	for r := 0; r < rounds; r++ {
		for i, g := range grams {
			if _, err := sc.Write(g); err != nil {
				return 0, err
			}
			if i%64 == 0 {
				time.Sleep(50 * time.Microsecond) // let the reader keep up
			}
		}
	}
	o := <-done
	if o.n == 0 {
		return 0, errors.New("bare socket received nothing")
	}
	return o.cpu / time.Duration(o.n), nil
}

// processCPU returns this process's CPU time (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readRSS returns a process's resident memory in bytes (0 if unknown).
func readRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// machineDescription says what ran the bench: CPU model, cores, memory, Go.
func machineDescription() string {
	model := runtime.GOARCH
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(data), "\n", 2)[0]); len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf(", %.0f GiB", kb/(1<<20))
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			load = ", load " + f[0]
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s %s/%s%s", model, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

func printBench(w io.Writer, r benchResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, v ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, v...)...) }
	row("machine", "%s", r.Machine)
	where := "simulator in this process"
	if r.SimProcess {
		where = fmt.Sprintf("simulator in child processes at nice %d", r.SimNice)
		if r.WSClients > 0 || r.GRPC.Samples > 0 || r.GRPCSamples > 0 {
			where += ", clients in one more"
		}
	}
	row("drones", "%d (%d distinct system ids, %s)", r.Drones, r.SysIDs, where)
	row("discovered", "%d%s", r.Discovered, discoveredNote(r))
	row("frames ingested", "%d in %.1f s, %.0f/s", r.Frames, r.DurationS, r.FramesPerS)
	row("frames lost", "%d (socket %d, sequence gaps %d); bus events missed %d; parse errors %d", r.FramesLost, r.LostSocket, r.LostSeq, r.BusMissed, r.ParseErrors)
	cpuNote := ""
	if !r.SimProcess {
		cpuNote = " (includes the in-process simulator: use --sim-process)"
	}
	row("server CPU", "%.2f µs/frame, %.2f cores%s", r.ServerCPUUs, r.ServerCores, cpuNote)
	row("floor", "%.2f µs/frame (gomavlib decode %.2f + socket receive %.2f)", r.FloorUs, r.DecodeUs, r.RecvUs)
	if r.OverFloor > 0 {
		row("server / floor", "%.1f×", r.OverFloor)
	}
	if r.SimProcess {
		row("simulator CPU", "%.2f µs/frame, %.2f cores, %.0f KiB/drone", r.SimCPUUs, r.SimCores, r.SimMemKiB)
	}
	row("breach check", "%.2f µs/position CPU (geofence Watch with the watch's margin on the run's %d positions, after the run); %.2f µs/position wall in the server's zone watch (preemption included)", r.ZoneCheckCPUUs, r.ZoneCheckN, r.ZoneCheckUs)
	lat := func(k string, l latencyRes) {
		row(k, "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples, %d probe positions skipped)", l.P50ms, l.P99ms, l.MaxMs, l.Samples, l.Skipped)
	}
	lat("latency to bus", r.Bus)
	row("Go scheduler", "p99 %.2f ms, p99.9 %.2f ms from runnable to running, in the server's process", r.SchedP99ms, r.SchedP999ms)
	if r.WSClients > 0 {
		lat("latency to WebSocket", r.WS)
		row("WebSocket clients", "%d of protocol %d: %d messages, %d drone states (%d compact, with %d status entries), %.1f MiB; fewest drones seen %d; closed %d; server dropped %d, slow closed %d; the clients %.2f cores (not counted as the server's)",
			r.WSClients, r.WSProtocol, r.WSMessages, r.WSStates, r.WSCompact, r.WSTel, r.WSMiB, r.WSDronesMin, r.WSClosed, r.WSDropped, r.WSSlowClosed, r.WSClientCores)
	}
	if r.GRPC.Samples > 0 || r.GRPCSamples > 0 {
		lat("latency to gRPC", r.GRPC)
		row("gRPC stream", "%d samples", r.GRPCSamples)
	}
	if r.RecPoints > 0 || r.RecDropped > 0 || r.RecStopped {
		row("recording (bbolt)", "%d points, %d dropped, %d bus events missed%s", r.RecPoints, r.RecDropped, r.RecMissed, map[bool]string{true: ", STOPPED"}[r.RecStopped])
	}
	row("memory", "%.0f KiB/drone resident (%.0f MiB total), %d goroutines", r.RSSPerDroneKiB, r.RSSMiB, r.Goroutines)
	tw.Flush()
}

func discoveredNote(r benchResult) string {
	if r.Discovered < r.Drones {
		return fmt.Sprintf(" of %d: NOT ALL DISCOVERED", r.Drones)
	}
	return ""
}

// printBenchMarkdown prints results as a Markdown table.
func printBenchMarkdown(w io.Writer, rs []benchResult) {
	fmt.Fprintln(w, "| drones | discovered | frames/s | lost (socket / seq) | server µs/frame | server cores | floor µs/frame | × floor | sim µs/frame | sim cores | sim KiB/drone | bus p50 / p99 / max ms | WS p50 / p99 / max ms | WS msgs / skipped / dropped / slow closed | clients' cores | gRPC samples | recorded / dropped | server KiB/drone | breach µs CPU / wall |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		wsLat, wsCnt, wsCPU := "–", "–", "–"
		if r.WSClients > 0 {
			wsLat = fmt.Sprintf("%.1f / %.1f / %.1f", r.WS.P50ms, r.WS.P99ms, r.WS.MaxMs)
			wsCnt = fmt.Sprintf("%d / %d / %d / %d", r.WSMessages, r.WS.Skipped, r.WSDropped, r.WSSlowClosed)
			wsCPU = fmt.Sprintf("%.2f", r.WSClientCores)
		}
		fmt.Fprintf(w, "| %d | %d | %.0f | %d / %d | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %.0f | %.1f / %.1f / %.1f | %s | %s | %s | %d | %d / %d | %.0f | %.2f / %.2f |\n",
			r.Drones, r.Discovered, r.FramesPerS, r.LostSocket, r.LostSeq, r.ServerCPUUs, r.ServerCores, r.FloorUs, r.OverFloor,
			r.SimCPUUs, r.SimCores, r.SimMemKiB, r.Bus.P50ms, r.Bus.P99ms, r.Bus.MaxMs, wsLat, wsCnt, wsCPU, r.GRPCSamples,
			r.RecPoints, r.RecDropped, r.RSSPerDroneKiB, r.ZoneCheckCPUUs, r.ZoneCheckUs)
	}
	if len(rs) > 0 {
		clients := "No WebSocket clients"
		if rs[0].WSClients > 0 {
			clients = fmt.Sprintf("WebSocket clients: %d, each watching every drone (the clients' CPU, \"clients' cores\", is not counted as the server's: with --sim-process they and the gRPC stream run in a process of their own)", rs[0].WSClients)
		}
		fmt.Fprintf(w, "\nMachine: %s. %s. Breach: the check's CPU per position, re-run after the run on the positions the watch checked, and its wall time in the running server (preemption included).\n", rs[0].Machine, clients)
	}
}
