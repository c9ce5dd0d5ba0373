// Package geofence is the authority on where each drone may fly: zones,
// jurisdictions, agencies and the geometry of points and routes, built on
// github.com/paulmach/orb. It imports no transport, store or fleet package;
// package fleet uses it.
//
// # Model
//
// A Zone is a polygon (with holes) or a circle, of Kind Inclusion (an
// operating area) or Exclusion (no-fly), in a Jurisdiction (US, MX or
// JOINT), with an altitude band (FloorM to CeilingM, inclusive, relative to
// home or AMSL; the default ceiling is DefaultCeilingM, 120 m) and an
// optional validity window [ValidFrom, ValidUntil). An Agency is authorised
// for a set of jurisdictions. A drone's allowed space is the union of the
// active inclusion zones of its agency's jurisdictions, each within its
// band, minus every active exclusion zone's volume, whatever its
// jurisdiction. JOINT zones need JOINT authorisation: US and MX alone do not
// cover them.
//
// A Set holds zones, agencies and reference lines (such as the boundary)
// with a spatial index. It is immutable and safe for concurrent use; With,
// Without and WithAgency return new Sets. A Store holds the current Set and
// swaps it atomically on each change (copy-on-write), so readers never lock;
// its Now field injects the clock used for validity windows.
//
// # Queries
//
//   - Set.Allowed: allowed or not, and the Violation (reason and zone).
//   - Set.CheckPoint: the same, plus the zones containing the point and the
//     distance to the nearest boundary of the allowed space.
//   - Set.CheckSegment, Set.CheckRoute: the first violation of a leg or
//     route (leg index, fraction, position, zone), altitude included.
//   - Set.Watch: inside, approaching (within a margin in metres or seconds
//     of flight at the current velocity) or breached, with the zone concerned.
//   - Set.Fences: the allowed space near a point as fences a vehicle can
//     hold (MAVLink fence polygons and circles), with notes on what they
//     cannot express.
//
// Unknown agencies return ErrUnknownAgency; invalid input returns a
// *ValidationError. Package fleet maps them to NotFound and Invalid.
//
// # Geometry
//
// Coordinates are WGS84 degrees; orb points are [longitude, latitude].
// Polygon edges are straight lines in longitude/latitude, as in RFC 7946.
// Distances are metres in a local equirectangular projection centred on the
// query point (or on a circle's centre), on orb's sphere (orb.EarthRadius):
// within about 0.1 % over tens of kilometres. For boundary distances,
// circles are taken as polygons within 1 m of them. Zones must not cross
// the antimeridian or contain a pole.
//
// # GeoJSON schema
//
// ParseGeoJSON reads, and EncodeGeoJSON and Set.MarshalGeoJSON write, an
// RFC 7946 FeatureCollection. A Polygon feature is a polygon zone; a Point
// feature with radius_m is a circle zone; a LineString feature with kind
// "line" is a reference Line. Properties:
//
//	id            string   required, unique (the feature's "id" member is used if absent)
//	name          string
//	kind          string   "inclusion" | "exclusion" (zones), "line" (lines)
//	jurisdiction  string   "US" | "MX" | "JOINT" (zones, required)
//	floor_m       number   default 0
//	ceiling_m     number   default 120; must not be 0
//	alt_ref       string   "home" (default) | "amsl"
//	valid_from    string   RFC 3339, inclusive; absent = always
//	valid_until   string   RFC 3339, exclusive; absent = forever
//	reason        string   why the zone exists
//	source        string   where its data comes from
//	radius_m      number   circle radius in metres (Point features)
//
// Other properties and foreign members are ignored. Validation rejects,
// each with its feature index, id, ring and vertex: unclosed rings, fewer
// than 3 distinct points, self-intersecting or crossing rings, holes
// outside the outer ring, zero area, NaN or out-of-range coordinates, floor
// above ceiling, unknown kind, jurisdiction or altitude reference, bad
// times, empty validity windows, bad radii, duplicate ids, unsupported
// geometries, and input over Limits (bytes, features, vertices). Import is
// all or nothing.
//
// # Bundled dataset
//
// Default and DefaultGeoJSON give the embedded data/default.geojson: the
// US–Mexico boundary (IBWC, public domain) simplified with Douglas–Peucker
// at 100 m (2,632 of 39,665 vertices, max deviation 99.9 m), the six
// sister-city corridors (JOINT rectangles 20 km along the line and 9 km into
// each country, split along the line into US and MX zones) and 5 km
// exclusion circles around 14 airports (OurAirports, public domain). See
// data/SOURCES.md; internal/gendata regenerates it (go generate).
//
// # Performance
//
// The index is a static R-tree bulk-loaded with Sort-Tile-Recursive; a Set
// is immutable, so it is built once (1,000 zones: about 6 ms with
// validation). Figures from go test -bench . on the 2-core AMD EPYC
// development machine, with synthetic 16-gon zones and circles scattered
// over 10°×5° of the border (bench_test.go):
//
//	Allowed, 100 zones        index   0.29 µs   linear scan    1.0 µs
//	Allowed, 1,000 zones      index   0.61 µs   linear scan   11.9 µs
//	Allowed, 10,000 zones     index   1.9 µs    linear scan  131 µs
//	CheckSegment (2.8 km leg), 1,000 zones
//	                          index   1.5 µs    linear scan   24 µs
//	CheckPoint (with boundary distance), 1,000 zones      92 µs
//	CheckPoint, bundled dataset, San Diego                29 µs
//	Watch (distance + 10 s look-ahead), bundled, San Diego 38 µs
//
// Allowed, CheckSegment and CheckRoute do not allocate per zone. The
// boundary distance (CheckPoint, Watch) is, the second time the same zones
// matter, a nearest-piece search among cached boundary pieces (first time:
// the edges near the point split against each other, tens of microseconds).
//
// The breach watch (Watch, every position of every drone) reads per ~300 m
// fine cell (zone_cells.go) the zones that can contain the position and
// those whose bound meets its first search boxes, and the piece set its
// last query used; a look-ahead that cannot reach the nearest boundary nor
// cross a floor or ceiling is skipped. Process CPU per position with the
// bundled zones, the server's margin (50 m, 10 m, 10 s), median of runs on
// the loaded development machine (load 10–18; BenchmarkWatchBench, before →
// after): the bench's 1,000 drones at their homes 1.4–2.2 → 0.8–1.1 µs;
// patrol points 1.9–3.7 → 1.2–2.5 µs; above the ceiling 12 ms → 1.1 µs.
// Property tests compare every shortcut with the plain computation
// (fastpath_test.go, boundary_index_test.go).
package geofence
