package server

import (
	"fmt"

	"github.com/centinela-gcs/centinela/web"
	"github.com/centinela-gcs/centinela/web/metrics"
)

// startHTTP starts the operator map over the server's application layer.
func (s *Server) startHTTP() error {
	c := s.cfg.HTTP
	if c.Addr == "" || c.Addr == "off" {
		return nil
	}
	w := &web.Server{Addr: c.Addr, App: s.App, Logger: s.log, Tiles: c.Tiles,
		Planner: web.PatrolPlanner{Zones: s.Zones}}
	src := s.metricsSources()
	src.Extra = append(src.Extra, func() []metrics.Sample {
		st := w.Stats()
		return []metrics.Sample{
			{Name: "centinela_ws_clients", Help: "WebSocket clients of the operator map.", Value: float64(st.Clients)},
			{Name: "centinela_ws_slow_closed_total", Help: "Map clients closed as slow consumers.", Counter: true, Value: float64(st.SlowClosed)},
			{Name: "centinela_ws_dropped_total", Help: "Messages not queued to a map client whose buffer was full.", Counter: true, Value: float64(st.Dropped)},
		}
	})
	w.Metrics = metrics.Handler(src)
	if err := w.Initialize(); err != nil {
		return fmt.Errorf("start the operator map: %w", err)
	}
	s.Web = w
	return nil
}

// closeHTTP stops the operator map, if it runs.
func (s *Server) closeHTTP() {
	if s.Web != nil {
		s.Web.Close()
	}
}
