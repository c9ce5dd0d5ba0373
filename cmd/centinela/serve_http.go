package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/web"
)

// httpFlags registers --http and --tiles on fs. The flag's default is
// web.DefaultAddr; a server.Config built in code without flags serves no
// map.
func httpFlags(fs *flag.FlagSet, c *server.HTTPConfig) {
	if c.Addr == "" {
		c.Addr = web.DefaultAddr
	}
	fs.StringVar(&c.Addr, "http", c.Addr, "`address` of the operator map (HTTP and WebSocket); \"off\" serves none")
	fs.StringVar(&c.Tiles, "tiles", c.Tiles, "optional raster tile `URL` template with {z}, {x} and {y} under the map (default none: the bundled vector basemap only, works offline)")
}

// demoTokens makes, for the map, an operator token of each agency the
// demo's drones belong to and a supervisor token, and prints the map's URL
// with each (in the URL's fragment, which browsers never send to the
// server).
func demoTokens(ctx context.Context, s *server.Server, stdout io.Writer) error {
	if s.Web == nil {
		return nil
	}
	admin := app.Principal{Label: "demo", Role: app.RoleAdmin}
	cfg := s.Config()
	agencies := append(cfg.DroneAgencies.Values(), cfg.DefaultAgency)
	slices.Sort(agencies)
	agencies = slices.Compact(agencies)
	fmt.Fprintln(stdout, i18n.T(cfg.Lang, "demo.map", "url", s.Web.URL()))
	for _, ag := range agencies {
		tok, _, err := s.App.CreateToken(ctx, admin, app.RoleOperator, ag, "demo-operator-"+ag)
		if err != nil {
			return fmt.Errorf("demo operator token: %w", err)
		}
		fmt.Fprintln(stdout, i18n.T(cfg.Lang, "demo.map_operator", "agency", ag, "url", s.Web.URL()+"#token="+tok))
	}
	sup, _, err := s.App.CreateToken(ctx, admin, app.RoleSupervisor, "", "demo-supervisor")
	if err != nil {
		return fmt.Errorf("demo supervisor token: %w", err)
	}
	fmt.Fprintln(stdout, i18n.T(cfg.Lang, "demo.map_supervisor", "url", s.Web.URL()+"#token="+sup))
	return nil
}
