// Command gendata builds geofence/data/default.geojson, the bundled default
// dataset, from the source files in geofence/internal/gendata/source (copies
// of the project's shared reference data; see source/SOURCES.md):
//
//	cd geofence && go run ./internal/gendata
//
// It simplifies the IBWC US–Mexico boundary with Douglas–Peucker to a
// tolerance in metres, checks the deviation, builds the six sister-city
// corridors (JOINT zones straddling the line, split along the simplified line
// into US-side and MX-side zones) and an exclusion circle around each airport,
// validates everything with package geofence and writes the file.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var c Config
	flag.StringVar(&c.SourceDir, "src", "internal/gendata/source", "directory of the source files")
	flag.StringVar(&c.Out, "out", "data/default.geojson", "output file")
	flag.Float64Var(&c.ToleranceM, "tolerance", DefaultToleranceM, "Douglas–Peucker tolerance in metres")
	flag.Parse()
	if err := Run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}
