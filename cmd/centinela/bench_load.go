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

// benchLoad is the bench's clients of the server: WebSocket clients
// watching every drone and a gRPC telemetry stream of every drone, each
// timing the probe's positions.
type benchLoad struct {
	ws     []*wsload.Client
	grpc   *proto.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	grpcSamples atomic.Uint64
	grpcErr     atomic.Pointer[error]
}

// startBenchLoad connects the clients the bench asks for, timing the
// probe's positions into probe's ws and grpc sinks.
func startBenchLoad(ctx context.Context, cfg benchConfig, srv *server.Server, probe *latencyProbe, log *slog.Logger) (*benchLoad, error) {
	l := &benchLoad{}
	if cfg.WSClients == 0 && !cfg.GRPCStream {
		return l, nil
	}
	root := app.Principal{Role: app.RoleAdmin, Label: "bench"}
	token, _, err := srv.App.CreateToken(ctx, root, app.RoleSupervisor, "", "bench")
	if err != nil {
		return nil, fmt.Errorf("bench token: %w", err)
	}
	for i := range cfg.WSClients {
		last := new(int)
		c := &wsload.Client{URL: srv.Web.URL(), Token: token, Probe: probe.id, OwnThread: true, Protocol: cfg.WSProtocol,
			OnProbe: func(lat float64, at time.Time) { probe.record(&probe.ws, last, lat, at) }}
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := c.Dial(dctx)
		cancel()
		if err != nil {
			l.close()
			return nil, fmt.Errorf("websocket client %d: %w", i+1, err)
		}
		l.ws = append(l.ws, c)
	}
	if cfg.GRPCStream {
		cl, err := proto.Dial(proto.DialOptions{Addr: srv.GRPC.Address().String(), Token: token, Plaintext: true})
		if err != nil {
			l.close()
			return nil, err
		}
		l.grpc = cl
		sctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		st, err := cl.Telemetry.StreamTelemetry(sctx, &pb.StreamTelemetryRequest{
			Fields: []pb.TelemetryField{pb.TelemetryField_TELEMETRY_FIELD_POSITION}, MaxRateHz: cfg.Rate})
		if err != nil {
			l.close()
			return nil, fmt.Errorf("gRPC telemetry stream: %w", err)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			last := new(int)
			for {
				s, err := st.Recv()
				if err != nil {
					if sctx.Err() == nil && !errors.Is(err, io.EOF) {
						log.Warn("bench telemetry stream ended", "err", err)
						l.grpcErr.Store(&err)
					}
					return
				}
				l.grpcSamples.Add(1)
				if s.GetDroneId() == probe.id && s.GetPosition() != nil {
					probe.record(&probe.grpc, last, s.GetPosition().GetLatDeg(), time.Now())
				}
			}
		}()
	}
	return l, nil
}

// wsCPU returns the CPU time the WebSocket clients' readers used so far
// (each on a thread of its own): the bench's process runs them, and they
// are not the server.
func (l *benchLoad) wsCPU() time.Duration {
	var d time.Duration
	for _, c := range l.ws {
		d += c.CPU()
	}
	return d
}

// wsStats sums the WebSocket clients' counts; minDrones is the fewest
// drones any client received a position of.
func (l *benchLoad) wsStats() (sum wsload.Stats, minDrones, closed int) {
	for i, c := range l.ws {
		st := c.Stats()
		sum.Messages += st.Messages
		sum.States += st.States
		sum.Compact += st.Compact
		sum.Full += st.Full
		sum.Bytes += st.Bytes
		if i == 0 || st.Drones < minDrones {
			minDrones = st.Drones
		}
		if st.Closed != "" {
			closed++
		}
	}
	return sum, minDrones, closed
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
