package geofence

import (
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// Kind says whether a zone is an operating area or a no-fly area.
type Kind string

// Zone kinds.
const (
	// Inclusion is an operating area: a drone may fly inside it if its agency
	// is authorised for the zone's jurisdiction.
	Inclusion Kind = "inclusion"
	// Exclusion is a no-fly area for every drone, whatever its agency.
	Exclusion Kind = "exclusion"
)

// Valid reports whether k is Inclusion or Exclusion.
func (k Kind) Valid() bool { return k == Inclusion || k == Exclusion }

// Jurisdiction is the authority whose airspace an inclusion zone belongs to.
type Jurisdiction string

// Jurisdictions.
const (
	// US is United States airspace.
	US Jurisdiction = "US"
	// MX is Mexican airspace.
	MX Jurisdiction = "MX"
	// Joint is a binational area that only agencies authorised for JOINT
	// operations may use (authorisation for US and MX alone does not cover it).
	Joint Jurisdiction = "JOINT"
)

// Valid reports whether j is US, MX or JOINT.
func (j Jurisdiction) Valid() bool { return j == US || j == MX || j == Joint }

// AltRef is the reference of a zone's altitude band.
type AltRef string

// Altitude references.
const (
	// AltHome measures altitude above the drone's home (take-off) position,
	// as GLOBAL_POSITION_INT.relative_alt. The zero AltRef means AltHome.
	AltHome AltRef = "home"
	// AltAMSL measures altitude above mean sea level.
	AltAMSL AltRef = "amsl"
)

// Valid reports whether r is AltHome, AltAMSL or empty (AltHome).
func (r AltRef) Valid() bool { return r == "" || r == AltHome || r == AltAMSL }

// DefaultCeilingM is the ceiling of a zone that states none: 120 m (about
// 400 ft, the usual small-UAS limit).
const DefaultCeilingM = 120.0

// Limits of altitudes and circle radii accepted by validation.
const (
	// MaxAbsAltitudeM bounds floors and ceilings: |alt| ≤ 100 km.
	MaxAbsAltitudeM = 100_000.0
	// MaxRadiusM bounds circle radii: 1,000 km.
	MaxRadiusM = 1_000_000.0
)

// Zone is one geofence zone: a polygon (with holes) or a circle, with an
// altitude band and an optional validity window.
//
// The shape is a polygon when Polygon is not nil, and otherwise a circle of
// RadiusM metres around Center. Polygon coordinates are orb points, that is
// [longitude, latitude] in WGS84 degrees (RFC 7946 order); ring 0 is the outer
// ring and the others are holes. Polygon edges are straight lines in
// longitude/latitude (as RFC 7946 says); circles are measured in metres.
type Zone struct {
	// ID identifies the zone; unique within a Set.
	ID string
	// Name is for people.
	Name string
	// Kind is Inclusion or Exclusion.
	Kind Kind
	// Jurisdiction is US, MX or JOINT. Exclusions apply to every agency
	// whatever their jurisdiction.
	Jurisdiction Jurisdiction

	// Polygon is the polygon shape, nil for a circle.
	Polygon orb.Polygon
	// Center is the circle's centre ([lon, lat]).
	Center orb.Point
	// RadiusM is the circle's radius in metres.
	RadiusM float64

	// FloorM and CeilingM bound the zone's altitude band in metres, both
	// inclusive, measured from AltRef. A zero CeilingM means DefaultCeilingM.
	FloorM, CeilingM float64
	// AltRef is the reference of FloorM and CeilingM (zero means AltHome).
	AltRef AltRef

	// ValidFrom and ValidUntil bound when the zone is active: from ValidFrom
	// (inclusive) until ValidUntil (exclusive). A zero time leaves that side open.
	ValidFrom, ValidUntil time.Time

	// Reason says why the zone exists (for example "airport").
	Reason string
	// Source says where the zone's data comes from.
	Source string
}

// IsCircle reports whether the zone is a circle.
func (z *Zone) IsCircle() bool { return z.Polygon == nil }

// Ceiling returns the zone's ceiling, DefaultCeilingM when CeilingM is zero.
func (z *Zone) Ceiling() float64 {
	if z.CeilingM == 0 {
		return DefaultCeilingM
	}
	return z.CeilingM
}

// Ref returns the zone's altitude reference, AltHome when AltRef is empty.
func (z *Zone) Ref() AltRef {
	if z.AltRef == "" {
		return AltHome
	}
	return z.AltRef
}

// ActiveAt reports whether t lies in the zone's validity window.
func (z *Zone) ActiveAt(t time.Time) bool {
	if !z.ValidFrom.IsZero() && t.Before(z.ValidFrom) {
		return false
	}
	if !z.ValidUntil.IsZero() && !t.Before(z.ValidUntil) {
		return false
	}
	return true
}

// altOf returns p's altitude in the zone's reference (NaN when unknown).
func (z *Zone) altOf(relAlt, amsl float64) float64 {
	if z.Ref() == AltAMSL {
		return amsl
	}
	return relAlt
}

// inBand reports whether alt lies within the zone's band; an unknown (NaN)
// altitude is in no band.
func (z *Zone) inBand(alt float64) bool {
	return alt >= z.FloorM && alt <= z.Ceiling()
}

// clone returns a deep copy of z.
func (z Zone) clone() Zone {
	if z.Polygon != nil {
		z.Polygon = z.Polygon.Clone()
	}
	return z
}

// Agency is an organisation operating drones, authorised for a set of
// jurisdictions. A drone's allowed space is the union of the active inclusion
// zones whose jurisdiction its agency is authorised for, minus every active
// exclusion zone, each within its altitude band.
type Agency struct {
	// ID identifies the agency; unique within a Set.
	ID string
	// Name is for people.
	Name string
	// Jurisdictions lists the jurisdictions the agency may fly in. JOINT
	// zones need JOINT explicitly.
	Jurisdictions []Jurisdiction
}

// Authorised reports whether the agency is authorised for j.
func (a *Agency) Authorised(j Jurisdiction) bool {
	return slices.Contains(a.Jurisdictions, j)
}

// Line is a reference polyline carried with the zones, such as the
// international boundary. It takes no part in allowed-space queries.
type Line struct {
	// ID identifies the line; unique among the Set's lines.
	ID string
	// Name is for people.
	Name string
	// Source says where the data comes from.
	Source string
	// Path is the line, [lon, lat] points.
	Path orb.LineString
}

// LatLon is a WGS84 point in degrees, latitude first.
type LatLon struct {
	Lat, Lon float64
}

func (p LatLon) orb() orb.Point { return orb.Point{p.Lon, p.Lat} }

// Position is a point in space: WGS84 degrees and the two altitudes a drone
// reports (GLOBAL_POSITION_INT relative_alt and alt).
type Position struct {
	// Lat and Lon are degrees.
	Lat, Lon float64
	// RelAlt is metres above home.
	RelAlt float64
	// AltMSL is metres above mean sea level; NaN when unknown. A zone whose
	// band is AMSL then counts as not containing the altitude: inclusion
	// zones do not allow the point, and exclusion zones are treated as
	// containing it (fail closed).
	AltMSL float64
}

func (p Position) orb() orb.Point { return orb.Point{p.Lon, p.Lat} }

// Pos returns a Position at lat, lon and relAlt metres above home, with an
// unknown AMSL altitude.
func Pos(lat, lon, relAlt float64) Position {
	return Position{Lat: lat, Lon: lon, RelAlt: relAlt, AltMSL: math.NaN()}
}
