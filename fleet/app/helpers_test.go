package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
)

var epoch = time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)

// Agencies of the tests: the built-in three.
const (
	agUS    = "us-agency"
	agMX    = "mx-agency"
	agJoint = "joint-task-force"
)

// env is a Service over a real fleet of fake vehicles: us-1 and us-2
// (us-agency), mx-1 (mx-agency). The fleet's clock stands still (links
// never time out); the Service's clock is c.
type env struct {
	t        testing.TB
	f        *fleet.Fleet
	s        *app.Service
	c        *ft.Clock
	st       *app.MemStore
	vehicles map[string]*ft.Vehicle
	// Bearer tokens and principals by name: "sup", "op-us", "op-mx", "admin".
	bearer map[string]string
	who    map[string]app.Principal
}

// Tijuana–San Diego: a point inside the US half of the corridor and one
// inside the MX half.
var (
	posUS = fleet.Position{Lat: 32.5600, Lon: -117.0300, RelAlt: 50}
	posMX = fleet.Position{Lat: 32.5250, Lon: -117.0300, RelAlt: 50}
)

func newEnv(t testing.TB) *env {
	t.Helper()
	fclock := ft.NewClock(epoch)
	f := &fleet.Fleet{Now: fclock.Now, TickInterval: 2 * time.Millisecond,
		Names:    map[uint8]string{1: "us-1", 2: "us-2", 3: "mx-1"},
		Agencies: map[uint8]string{1: agUS, 2: agUS, 3: agMX}, DefaultAgency: agJoint}
	if err := f.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	set, err := geofence.Default(
		geofence.Agency{ID: agUS, Name: "US", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		geofence.Agency{ID: agMX, Name: "MX", Jurisdictions: []geofence.Jurisdiction{geofence.MX}},
		geofence.Agency{ID: agJoint, Name: "Joint", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}},
	)
	if err != nil {
		t.Fatal(err)
	}
	zones := geofence.NewStore(set)
	e := &env{t: t, f: f, c: ft.NewClock(epoch), st: app.NewMemStore(), vehicles: map[string]*ft.Vehicle{},
		bearer: map[string]string{}, who: map[string]app.Principal{}}
	e.s = &app.Service{Fleet: f, Zones: zones, Store: e.st, Now: e.c.Now}
	if err := e.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.s.Close)
	for _, tok := range []struct {
		name   string
		role   app.Role
		agency string
	}{{"sup", app.RoleSupervisor, ""}, {"op-us", app.RoleOperator, agUS}, {"op-mx", app.RoleOperator, agMX}, {"admin", app.RoleAdmin, ""}} {
		b, _, err := app.NewToken(e.st, epoch, tok.role, tok.agency, tok.name, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.bearer[tok.name] = b
	}
	// Tokens made in the Store after Initialize are loaded by a new Service;
	// make one that sees them.
	e.s.Close()
	e.s = &app.Service{Fleet: f, Zones: zones, Store: e.st, Now: e.c.Now}
	if err := e.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.s.Close)
	for name, b := range e.bearer {
		p, err := e.s.Authenticate(context.Background(), "Bearer "+b)
		if err != nil {
			t.Fatal(err)
		}
		e.who[name] = p
	}
	e.addDrone(1, "us-1", posUS)
	e.addDrone(2, "us-2", posUS)
	e.addDrone(3, "mx-1", posMX)
	return e
}

// addDrone feeds a flying ArduCopter in GUIDED at pos.
func (e *env) addDrone(sys uint8, id string, pos fleet.Position) {
	v := ft.NewVehicle("test:link", sys)
	e.vehicles[id] = v
	ft.Feed(e.f, v, ft.Copter(ft.Guided, true, ft.StatusActive),
		fleet.Home{Lat: pos.Lat, Lon: pos.Lon, AltMSL: 20},
		ft.Position(time.Second, pos.Lat, pos.Lon, pos.RelAlt))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := e.f.Drone(id)
		if err == nil && st.HasPosition && st.HasHome {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("drone %s not ready: %+v %v", id, st, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// userCommands counts the commands v received that a user asked for (not
// the fleet's own stream and message requests).
func userCommands(v *ft.Vehicle) int {
	n := 0
	for _, k := range v.CommandKinds() {
		if k != fleet.CommandRequestMessage && k != fleet.CommandSetMessageInterval {
			n++
		}
	}
	return n
}
