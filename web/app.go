package web

import (
	"context"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

// App is what the web server needs of the application layer: the same
// calls, tokens, roles, grants and audit as the gRPC control plane. The
// server never reaches package fleet directly. An adapter over app.Service
// implements it (see ServiceApp); tests use one over a real fleet.Fleet.
//
// Every method that takes a Principal checks it (role, agency, grants) and
// audits what it carries out or refuses. Methods return *fleet.Error; the
// server maps its Code to an HTTP status (see Status). They may be called
// from any goroutine; commands block until the vehicle answers or ctx ends.
type App interface {
	// Authenticate returns the holder of a bearer token. Returns
	// Unauthenticated for a missing, unknown or revoked token.
	Authenticate(ctx context.Context, bearer string) (app.Principal, error)
	// CanCommand reports whether p may command drone d now (role, agency,
	// active grants). It is for hiding controls; commands check again.
	CanCommand(p app.Principal, d fleet.DroneState) bool

	// ListDrones returns every drone p may see, sorted by id.
	ListDrones(ctx context.Context, p app.Principal) ([]fleet.DroneState, error)
	// GetDrone returns drone id. Returns NotFound.
	GetDrone(ctx context.Context, p app.Principal, id string) (fleet.DroneState, error)
	// MissionPlan returns the mission plan the fleet tracks for drone id
	// (nil if none). Returns NotFound.
	MissionPlan(ctx context.Context, p app.Principal, id string) ([]fleet.MissionItem, error)

	// Arm arms drone id, waiting up to wait for pre-arm checks. Returns
	// Forbidden, NotFound, NoDrone and the vehicle's errors.
	Arm(ctx context.Context, p app.Principal, id string, wait time.Duration) error
	// Takeoff climbs drone id to altM metres above home.
	Takeoff(ctx context.Context, p app.Principal, id string, altM float64) error
	// Land lands drone id where it is.
	Land(ctx context.Context, p app.Principal, id string) error
	// ReturnToLaunch flies drone id home.
	ReturnToLaunch(ctx context.Context, p app.Principal, id string) error
	// Hold stops drone id where it is.
	Hold(ctx context.Context, p app.Principal, id string) error
	// GoTo flies drone id to target; override skips the geofence guard
	// (only for callers allowed to). Returns Invalid, Conflict (naming the
	// zone), Forbidden, NotFound, NoDrone and the vehicle's errors.
	GoTo(ctx context.Context, p app.Principal, id string, target fleet.Position, override bool) error
	// UploadMission replaces drone id's mission with items and returns the
	// mission id. Returns Invalid, Conflict, Forbidden, NotFound, NoDrone,
	// Busy and the vehicle's errors.
	UploadMission(ctx context.Context, p app.Principal, id string, items []fleet.MissionItem) (string, error)
	// StartMission flies drone id's mission from its first item.
	StartMission(ctx context.Context, p app.Principal, id string) error
	// CheckRoute says whether drone id may fly route (altitudes above
	// home): nil, or Conflict naming the zone and the leg.
	CheckRoute(ctx context.Context, p app.Principal, id string, route []fleet.Position) error
	// EmergencyRTL returns home every drone p may command whose position
	// lies inside area, and returns each one's result (nil for success).
	// Returns Forbidden when p may command nothing, Invalid for a bad area.
	EmergencyRTL(ctx context.Context, p app.Principal, area []geofence.LatLon) (map[string]error, error)

	// ZonesGeoJSON returns every zone and reference line as GeoJSON in
	// geofence's property schema.
	ZonesGeoJSON(ctx context.Context, p app.Principal) ([]byte, error)
	// AckAlert records that p acknowledged alert id (audited, and published
	// as an OperatorAction with Action AckAction so every operator sees it).
	// Returns Forbidden for a role that may not, Invalid for a bad id.
	AckAlert(ctx context.Context, p app.Principal, id string) error

	// Track returns drone id's stored samples in [from, to), at most max.
	Track(ctx context.Context, p app.Principal, id string, from, to time.Time, max int) ([]app.TrackPoint, error)
	// Events returns the stored event records q selects.
	Events(ctx context.Context, p app.Principal, q app.EventQuery) ([]app.EventRecord, error)

	// Feed starts the one stream of the fleet's state and events the map's
	// hub reads on behalf of every client, with a snapshot of every drone
	// first. Close it when done.
	Feed(ctx context.Context) (Feed, error)
}

// AckAction is the OperatorAction.Action of an alert acknowledgement; its
// Summary is the alert's id.
const AckAction = "Alerts.Ack"

// Feed is a stream of FeedItems: drone state, coalesced per drone (a slow
// reader gets the latest state of each drone, not a backlog), and event
// records in order.
type Feed interface {
	// Next blocks until the next item, ctx's end or Close. It is called
	// from one goroutine.
	Next(ctx context.Context) (FeedItem, error)
	// Close ends the feed; Next then returns an error.
	Close()
}

// FeedItem is either a drone's latest state or an event record.
type FeedItem struct {
	// State is set for a drone's state.
	State *fleet.DroneState
	// Event is set for an event.
	Event *app.EventRecord
}
