package web

import (
	"context"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

// App is what the web server needs of the application layer: the calls of
// *app.Service it uses, so that the map goes through the same tokens,
// roles, grants and audit as the gRPC control plane and never reaches
// package fleet directly. *app.Service implements it.
//
// Methods return *fleet.Error; the server maps its Code to an HTTP status
// (see Status). See package app for what each returns.
type App interface {
	Authenticate(ctx context.Context, bearer string) (app.Principal, error)
	CanCommand(p app.Principal, d fleet.DroneState) bool

	ListDrones(ctx context.Context, p app.Principal) ([]app.Drone, error)
	GetDrone(ctx context.Context, p app.Principal, id string) (app.Drone, error)
	MissionPlan(ctx context.Context, p app.Principal, id string) ([]fleet.MissionItem, error)

	Arm(ctx context.Context, p app.Principal, id string, o app.ArmOptions) error
	Takeoff(ctx context.Context, p app.Principal, id string, alt float64) error
	Land(ctx context.Context, p app.Principal, id string) error
	ReturnToLaunch(ctx context.Context, p app.Principal, id string) error
	Hold(ctx context.Context, p app.Principal, id string) error
	GoTo(ctx context.Context, p app.Principal, id string, target fleet.Position, override bool) error
	UploadMission(ctx context.Context, p app.Principal, id string, items []fleet.MissionItem, o app.UploadOptions) (string, error)
	StartMission(ctx context.Context, p app.Principal, id string, override bool) error
	Emergency(ctx context.Context, p app.Principal, req app.EmergencyRequest) ([]app.EmergencyResult, error)

	CheckRoute(ctx context.Context, p app.Principal, agency string, route []geofence.Position) (*geofence.Violation, error)
	ExportGeoJSON(ctx context.Context, p app.Principal) ([]byte, error)

	Alerts(ctx context.Context, p app.Principal) ([]app.Alert, error)
	AckAlert(ctx context.Context, p app.Principal, id string) (app.Alert, error)

	GetTrack(ctx context.Context, p app.Principal, id string, from, to time.Time, max int) ([]app.TrackPoint, error)
	ListEvents(ctx context.Context, p app.Principal, q app.EventQuery) ([]app.EventRecord, error)

	Watch(ctx context.Context, p app.Principal, o app.WatchOptions) (*app.Watcher, error)
}

var _ App = (*app.Service)(nil)

// AckAction is the OperatorAction.Action of an alert acknowledgement.
const AckAction = "Alerts.Ack"
