package geofence

import (
	_ "embed"
	"fmt"
)

//go:generate go run ./internal/gendata

// defaultGeoJSON is the bundled dataset; see data/SOURCES.md.
//
//go:embed data/default.geojson
var defaultGeoJSON []byte

// BoundaryLineID is the ID of the US–Mexico boundary line in the default dataset.
const BoundaryLineID = "us-mx-boundary"

// DefaultGeoJSON returns a copy of the bundled dataset as GeoJSON: the
// US–Mexico boundary (line "us-mx-boundary"), six sister-city corridors
// (zones "joint-…", "us-…", "mx-…" for sandiego-tijuana, calexico-mexicali,
// nogales-nogales, elpaso-juarez, laredo-nuevolaredo, mcallen-reynosa) and
// 5 km exclusion circles around 14 airports ("apt-" and the ICAO code in
// lower case, for example "apt-mmtj"). Sources and licences are in its
// "metadata" member, each feature's "source" property and data/SOURCES.md.
func DefaultGeoJSON() []byte {
	return append([]byte(nil), defaultGeoJSON...)
}

// Default returns the bundled dataset as a Set with the given agencies.
func Default(agencies ...Agency) (*Set, error) {
	zones, lines, err := ParseGeoJSON(defaultGeoJSON, Limits{})
	if err != nil {
		return nil, fmt.Errorf("bundled dataset: %w", err)
	}
	return NewSet(zones, agencies, lines)
}
