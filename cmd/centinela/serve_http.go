package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/web"
	"github.com/centinela-gcs/centinela/web/metrics"
)

// httpConfig is the configuration of the operator map (serve and demo).
type httpConfig struct {
	// Addr is where the map listens ("" or "off": no map).
	Addr string
	// Tiles is an optional raster tile URL template with {z}, {x}, {y}.
	Tiles string
}

// httpFlags registers --http and --tiles on fs. The flag's default is
// web.DefaultAddr; a config built in code without flags serves no map.
func httpFlags(fs *flag.FlagSet, c *httpConfig) {
	if c.Addr == "" {
		c.Addr = web.DefaultAddr
	}
	fs.StringVar(&c.Addr, "http", c.Addr, "`address` of the operator map (HTTP and WebSocket); \"off\" serves none")
	fs.StringVar(&c.Tiles, "tiles", c.Tiles, "optional raster tile `URL` template with {z}, {x} and {y} under the map (default none: the bundled vector basemap only, works offline)")
}

// startHTTP starts the operator map over the server's application layer.
func (s *server) startHTTP() error {
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
func (s *server) closeHTTP() {
	if s.Web != nil {
		s.Web.Close()
	}
}

// demoTokens makes, for the map, an operator token of each agency the
// demo's drones belong to and a supervisor token, and prints the map's URL
// with each (in the URL's fragment, which browsers never send to the
// server).
func demoTokens(ctx context.Context, s *server, stdout io.Writer) error {
	if s.Web == nil {
		return nil
	}
	admin := app.Principal{Label: "demo", Role: app.RoleAdmin}
	var agencies []string
	for _, a := range append([]string{s.cfg.DefaultAgency}, s.cfg.DroneAgencies...) {
		if _, ag, ok := strings.Cut(a, "="); ok {
			a = ag
		}
		if !slices.Contains(agencies, a) {
			agencies = append(agencies, a)
		}
	}
	slices.Sort(agencies)
	fmt.Fprintln(stdout, i18n.T(s.cfg.Lang, "demo.map", "url", s.Web.URL()))
	for _, ag := range agencies {
		tok, _, err := s.App.CreateToken(ctx, admin, app.RoleOperator, ag, "demo-operator-"+ag)
		if err != nil {
			return fmt.Errorf("demo operator token: %w", err)
		}
		fmt.Fprintln(stdout, i18n.T(s.cfg.Lang, "demo.map_operator", "agency", ag, "url", s.Web.URL()+"#token="+tok))
	}
	sup, _, err := s.App.CreateToken(ctx, admin, app.RoleSupervisor, "", "demo-supervisor")
	if err != nil {
		return fmt.Errorf("demo supervisor token: %w", err)
	}
	fmt.Fprintln(stdout, i18n.T(s.cfg.Lang, "demo.map_supervisor", "url", s.Web.URL()+"#token="+sup))
	return nil
}
