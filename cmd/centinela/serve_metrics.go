package main

import (
	"flag"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
)

// debugFlags adds --metrics and --pprof to fs: the operations side of
// serve, Prometheus metrics and pprof, each off unless given an address.
func debugFlags(fs *flag.FlagSet, c *server.DebugConfig) {
	fs.StringVar(&c.Metrics, "metrics", c.Metrics, "serve Prometheus metrics at http://`ADDR`/metrics, for example 127.0.0.1:9100 (default off)")
	fs.StringVar(&c.Pprof, "pprof", c.Pprof, "serve Go profiles at http://`ADDR`/debug/pprof/ (default off; keep it on loopback)")
}
