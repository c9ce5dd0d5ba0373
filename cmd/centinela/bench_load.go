package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
	"github.com/centinela-gcs/centinela/web"
	"github.com/centinela-gcs/centinela/web/wsload"
)

// benchServeConfig is the server a bench runs: MAVLink on loopback UDP
// ports (one per 500 drones, benchEndpoints), breach warnings only, and, as the bench asks, the operator map's
// HTTP/WebSocket server and the gRPC API on loopback ports and a bbolt
// database in dir. All of the bench's server configuration is here.
func benchServeConfig(cfg benchConfig, dir string) server.Config {
	scfg := server.DefaultConfig()
	scfg.MAVLink = nil
	for range benchEndpoints(cfg.Drones) {
		scfg.MAVLink = append(scfg.MAVLink, "udp:127.0.0.1:0")
	}
	scfg.StreamHz = cfg.StreamHz
	scfg.PositionHz = cfg.Rate
	scfg.BreachAction = fleet.ZoneWarn
	if cfg.Drones > fleet.DefaultMaxDrones {
		scfg.MaxDrones = cfg.Drones
	}
	scfg.Debug.Pprof = cfg.Pprof
	if cfg.WSClients > 0 {
		scfg.HTTP.Addr = "127.0.0.1:0"
	}
	if cfg.GRPCStream {
		scfg.GRPC.Addr = "127.0.0.1:0"
	}
	if cfg.Record {
		scfg.Store.DB = filepath.Join(dir, "bench.db")
	}
	return scfg
}

// benchServerStats reads what the bench measures of the server's web
// server and recorder (zero for those it does not run).
func benchServerStats(srv *server.Server) (web.Stats, store.RecorderStats) {
	var ws web.Stats
	var rs store.RecorderStats
	if srv.Web != nil {
		ws = srv.Web.Stats()
	}
	if srv.Recorder != nil {
		rs = srv.Recorder.Stats()
	}
	return ws, rs
}

// loadTargets is what the bench's clients connect to: the operator map's
// WebSocket server (WSClients clients of protocol WSProtocol, none if 0)
// and the gRPC API (one telemetry stream at Rate Hz, none if GRPCAddr is
// empty), as the supervisor whose token is Token, timing the positions of
// drone Probe.
type loadTargets struct {
	WSURL      string  `json:"ws_url"`
	WSClients  int     `json:"ws_clients"`
	WSProtocol int     `json:"ws_protocol"`
	GRPCAddr   string  `json:"grpc_addr"`
	Rate       float64 `json:"rate"`
	Token      string  `json:"token"`
	Probe      string  `json:"probe"`
	// OwnThread runs each WebSocket client's reader on a thread of its own,
	// whose CPU the bench subtracts from its process's (clients in the
	// server's process).
	OwnThread bool `json:"own_thread"`
}

// benchTargets creates the bench's supervisor token and returns what its
// clients connect to on srv.
func benchTargets(ctx context.Context, cfg benchConfig, srv *server.Server, probe string) (loadTargets, error) {
	t := loadTargets{WSClients: cfg.WSClients, WSProtocol: cfg.WSProtocol, Rate: cfg.Rate, Probe: probe, OwnThread: !cfg.SimProcess}
	if cfg.WSClients == 0 && !cfg.GRPCStream {
		return t, nil
	}
	root := app.Principal{Role: app.RoleAdmin, Label: "bench"}
	token, _, err := srv.App.CreateToken(ctx, root, app.RoleSupervisor, "", "bench")
	if err != nil {
		return t, fmt.Errorf("bench token: %w", err)
	}
	t.Token = token
	if cfg.WSClients > 0 {
		t.WSURL = srv.Web.URL()
	}
	if cfg.GRPCStream {
		t.GRPCAddr = srv.GRPC.Address().String()
	}
	return t, nil
}

// probeRecorder receives the probe's positions as a client received them:
// ws is false for the gRPC stream, else client is the WebSocket client's
// index.
type probeRecorder func(ws bool, client int, lat float64, at time.Time)

// loadStats is what the bench reads of its clients: the WebSocket clients'
// summed counts, the fewest drones any of them received a position of, how
// many the server closed, the gRPC stream's samples, and the clients' CPU
// time so far.
type loadStats struct {
	WS          wsload.Stats  `json:"ws"`
	MinDrones   int           `json:"min_drones"`
	Closed      int           `json:"closed"`
	GRPCSamples uint64        `json:"grpc_samples"`
	CPU         time.Duration `json:"cpu"`
}

// benchClients is the bench's clients of the server, in the bench's
// process (benchLoad) or in a child process of their own (childLoad).
type benchClients interface {
	stats() loadStats
	close()
}

// benchLoad is the bench's clients of the server: WebSocket clients
// watching every drone and a gRPC telemetry stream of every drone, each
// timing the probe's positions.
type benchLoad struct {
	ws     []*wsload.Client
	grpc   *proto.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	grpcSamples atomic.Uint64
}

// startBenchLoad connects the clients t asks for, handing the probe's
// positions they receive to record.
func startBenchLoad(ctx context.Context, t loadTargets, record probeRecorder, log *slog.Logger) (*benchLoad, error) {
	l := &benchLoad{}
	for i := range t.WSClients {
		c := &wsload.Client{URL: t.WSURL, Token: t.Token, Probe: t.Probe, OwnThread: t.OwnThread, Protocol: t.WSProtocol,
			OnProbe: func(lat float64, at time.Time) { record(true, i, lat, at) }}
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := c.Dial(dctx)
		cancel()
		if err != nil {
			l.close()
			return nil, fmt.Errorf("websocket client %d: %w", i+1, err)
		}
		l.ws = append(l.ws, c)
	}
	if t.GRPCAddr != "" {
		cl, err := proto.Dial(proto.DialOptions{Addr: t.GRPCAddr, Token: t.Token, Plaintext: true})
		if err != nil {
			l.close()
			return nil, err
		}
		l.grpc = cl
		sctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		st, err := cl.Telemetry.StreamTelemetry(sctx, &pb.StreamTelemetryRequest{
			Fields: []pb.TelemetryField{pb.TelemetryField_TELEMETRY_FIELD_POSITION}, MaxRateHz: t.Rate})
		if err != nil {
			l.close()
			return nil, fmt.Errorf("gRPC telemetry stream: %w", err)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				s, err := st.Recv()
				if err != nil {
					if sctx.Err() == nil && !errors.Is(err, io.EOF) {
						log.Warn("bench telemetry stream ended", "err", err)
					}
					return
				}
				l.grpcSamples.Add(1)
				if s.GetDroneId() == t.Probe && s.GetPosition() != nil {
					record(false, 0, s.GetPosition().GetLatDeg(), time.Now())
				}
			}
		}()
	}
	return l, nil
}

// stats sums the clients' counts. Their CPU is that of the WebSocket
// clients' reading threads (OwnThread): the gRPC client's is not told
// apart from the process's.
func (l *benchLoad) stats() loadStats {
	st := loadStats{GRPCSamples: l.grpcSamples.Load()}
	for i, c := range l.ws {
		cs := c.Stats()
		st.WS.Messages += cs.Messages
		st.WS.States += cs.States
		st.WS.Compact += cs.Compact
		st.WS.Tel += cs.Tel
		st.WS.Full += cs.Full
		st.WS.Bytes += cs.Bytes
		if i == 0 || cs.Drones < st.MinDrones {
			st.MinDrones = cs.Drones
		}
		if cs.Closed != "" {
			st.Closed++
		}
		st.CPU += c.CPU()
	}
	return st
}

// close stops the clients and waits for their goroutines.
func (l *benchLoad) close() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	if l.grpc != nil {
		l.grpc.Close()
		l.grpc = nil
	}
	for _, c := range l.ws {
		c.Close()
	}
	l.ws = nil
}
