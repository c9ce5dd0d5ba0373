package server

import (
	"log/slog"
	"strings"

	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/web/metrics"
)

// metricsSources are the counters of a running server, for web/metrics.
// The web server's /metrics uses the same.
func (s *Server) metricsSources() metrics.Sources {
	ports := UDPPorts(s.Transport.Addrs())
	var recording func() metrics.Recording
	if s.DB != nil {
		recording = func() metrics.Recording {
			rec := s.Recorder
			if rec == nil { // not started yet
				return metrics.Recording{}
			}
			st := rec.Stats()
			return metrics.Recording{Stopped: st.Stopped, Points: st.Points, Events: st.Events,
				DroppedPoints: st.DroppedPoints, DroppedEvents: st.DroppedEvents}
		}
	}
	return metrics.Sources{
		Recording:   recording,
		Fleet:       s.Fleet.Stats,
		ZoneWatch:   s.Watch.Stats,
		Transport:   func() metrics.Transport { return transportMetrics(s.Transport) },
		SocketDrops: func() uint64 { return ReadUDPSocketStats(ports).Drops },
		Extra:       []func() []metrics.Sample{limitSamples(s.Transport, s.Fleet)},
	}
}

// transportMetrics converts the transport's counters.
func transportMetrics(t *mavlink.Transport) metrics.Transport {
	st, tr := t.Stats(), t.Traffic()
	out := metrics.Transport{
		Frames: st.Frames, ParseErrors: st.ParseErrors, UnknownMessages: st.UnknownMessages,
		Ignored: st.Ignored, Dropped: st.Dropped, Links: st.Links,
		FramesLost: tr.FramesLost, Buckets: mavlink.OperationBuckets,
	}
	for _, m := range tr.Messages {
		out.Messages = append(out.Messages, metrics.Message{Endpoint: m.Endpoint, Name: m.Message, In: m.In, Out: m.Out})
	}
	for _, op := range tr.Operations {
		out.Operations = append(out.Operations, metrics.Operation{Op: op.Op, Result: op.Result, Count: op.Count, Sum: op.Sum, Buckets: op.Buckets})
	}
	return out
}

// debugServers are the running metrics and pprof servers.
type debugServers []*metrics.Server

// startDebug starts the servers of c for s: one per distinct address.
func startDebug(c DebugConfig, s *Server, log *slog.Logger) (debugServers, error) {
	var out debugServers
	// One server for both when they name the same fixed address.
	shared := c.Pprof != "" && c.Pprof == c.Metrics && !strings.HasSuffix(c.Metrics, ":0")
	start := func(srv *metrics.Server, field string) error {
		srv.Logger = log
		if err := srv.Initialize(); err != nil {
			out.Close()
			return invalid(field, "listen", "addr", srv.Addr, "err", err.Error())
		}
		out = append(out, srv)
		return nil
	}
	if c.Metrics != "" {
		src := s.metricsSources()
		if err := start(&metrics.Server{Addr: c.Metrics, Sources: &src, Pprof: shared}, "Debug.Metrics"); err != nil {
			return nil, err
		}
	}
	if c.Pprof != "" && !shared {
		if err := start(&metrics.Server{Addr: c.Pprof, Pprof: true}, "Debug.Pprof"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Close stops every server.
func (d debugServers) Close() {
	for i := len(d) - 1; i >= 0; i-- {
		d[i].Close()
	}
}
