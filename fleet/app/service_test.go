package app_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	for name, b := range e.bearer {
		p, err := e.s.Authenticate(c, b)
		if err != nil || p.Label != name {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
	good := e.bearer["op-us"]
	for _, bad := range []string{"", "Bearer ", "nonsense", "cnt_0011223344556677_x", flipLast(good), strings.Repeat("x", 500)} {
		if _, err := e.s.Authenticate(c, bad); fleet.ErrorCode(err) != fleet.Unauthenticated {
			t.Errorf("Authenticate(%q) = %v, want unauthenticated", bad, err)
		}
	}
	// Revoked: at once.
	if err := e.s.RevokeToken(c, e.who["admin"], e.who["op-us"].TokenID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(c, good); fleet.ErrorCode(err) != fleet.Unauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked token: %v", err)
	}
	// The store never holds the secret.
	toks, _ := e.st.Tokens()
	for _, tk := range toks {
		if strings.Contains(good, string(tk.Hash)) || len(tk.Hash) != 32 {
			t.Errorf("token %s stored badly", tk.ID)
		}
	}
}

// commandCase is one command RPC of the matrix.
type commandCase struct {
	name string
	run  func(c context.Context, s *app.Service, p app.Principal, id string) error
}

func commandCases() []commandCase {
	return []commandCase{
		{"Arm", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.Arm(c, p, id, app.ArmOptions{})
		}},
		{"Disarm", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.Disarm(c, p, id, false)
		}},
		{"Takeoff", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.Takeoff(c, p, id, 30)
		}},
		{"Land", func(c context.Context, s *app.Service, p app.Principal, id string) error { return s.Land(c, p, id) }},
		{"ReturnToLaunch", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.ReturnToLaunch(c, p, id)
		}},
		{"Hold", func(c context.Context, s *app.Service, p app.Principal, id string) error { return s.Hold(c, p, id) }},
		{"SetMode", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.SetMode(c, p, id, "LOITER")
		}},
		{"EnableFence", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.EnableFence(c, p, id, true)
		}},
		{"SetParam", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			_, err := s.SetParam(c, p, id, "FS_GCS_ENABLE", 1)
			return err
		}},
		{"ClearMission", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			return s.ClearMission(c, p, id, fleet.MissionTypeMission)
		}},
		{"GoTo", func(c context.Context, s *app.Service, p app.Principal, id string) error {
			st, _ := s.Fleet.Drone(id)
			to := st.Position
			to.Lat += 0.0005
			return s.GoTo(c, p, id, to, false)
		}},
	}
}

// TestPermissionMatrix runs every command as each role against a drone of
// the caller's agency, of another agency, granted, and after the grant's
// expiry, with the exact code expected.
func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	for _, v := range e.vehicles {
		v.SetParamFn = func(_ context.Context, name string, value float64) (fleet.Param, error) {
			return fleet.Param{Name: name, Value: value, Type: fleet.ParamInt8, Index: -1}, nil
		}
	}
	grant, err := e.s.CreateGrant(c, e.who["admin"], app.GrantRequest{From: agMX, To: agUS, Drones: []string{"mx-1"}, Until: epoch.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	type cell struct {
		who, drone string
		want       fleet.Code
	}
	phases := []struct {
		name  string
		cells []cell
	}{
		{"granted", []cell{
			{"sup", "us-1", fleet.Forbidden}, {"sup", "mx-1", fleet.Forbidden},
			{"admin", "us-1", fleet.Forbidden}, {"admin", "mx-1", fleet.Forbidden},
			{"op-us", "us-1", ""},              // own agency
			{"op-us", "mx-1", ""},              // granted
			{"op-mx", "us-1", fleet.Forbidden}, // other agency, not granted
			{"op-mx", "mx-1", ""},
			{"nobody", "us-1", fleet.Unauthenticated},
		}},
		{"expired", []cell{
			{"op-us", "us-1", ""},
			{"op-us", "mx-1", fleet.Forbidden}, // one second after expiry
			{"op-mx", "mx-1", ""},
		}},
	}
	for _, ph := range phases {
		if ph.name == "expired" {
			e.c.Advance(time.Hour + time.Second)
		}
		// CanCommand (the map's controls) answers as the commands do.
		for _, cl := range ph.cells {
			st, err := e.f.Drone(cl.drone)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.s.CanCommand(e.who[cl.who], st); got != (cl.want == "") {
				t.Errorf("%s: CanCommand(%s, %s) = %v, the commands answer %q", ph.name, cl.who, cl.drone, got, cl.want)
			}
		}
		for _, cc := range commandCases() {
			for _, cl := range ph.cells {
				t.Run(ph.name+"/"+cc.name+"/"+cl.who+"/"+cl.drone, func(t *testing.T) {
					before := userCommands(e.vehicles[cl.drone]) + e.vehicles[cl.drone].Calls("SetParam") + e.vehicles[cl.drone].Calls("ClearMission")
					err := cc.run(c, e.s, e.who[cl.who], cl.drone)
					if got := fleet.ErrorCode(err); got != cl.want {
						t.Fatalf("code %q (%v), want %q", got, err, cl.want)
					}
					after := userCommands(e.vehicles[cl.drone]) + e.vehicles[cl.drone].Calls("SetParam") + e.vehicles[cl.drone].Calls("ClearMission")
					if cl.want != "" && after != before {
						t.Errorf("refused call reached the vehicle (%d → %d)", before, after)
					}
					if cl.want == "" && after == before && cc.name != "Arm" && cc.name != "Disarm" {
						t.Errorf("allowed call did not reach the vehicle")
					}
				})
			}
		}
	}
	if ph := "expired"; ph != "" {
		err := e.s.Land(c, e.who["op-us"], "mx-1")
		if !strings.Contains(fleet.ErrorMessage(err), grant.ID) || !strings.Contains(fleet.ErrorMessage(err), "expired") {
			t.Errorf("expired grant message %q should name the grant and its expiry", fleet.ErrorMessage(err))
		}
	}
}

// TestAdminMatrix checks the admin-only operations by role.
func TestAdminMatrix(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	zone := geofence.Zone{ID: "tfr-1", Name: "TFR", Kind: geofence.Exclusion, Jurisdiction: geofence.US,
		Center: [2]float64{-117.02, 32.57}, RadiusM: 300}
	ops := []struct {
		name string
		run  func(p app.Principal) error
	}{
		{"CreateToken", func(p app.Principal) error {
			_, _, err := e.s.CreateToken(c, p, app.RoleSupervisor, "", "s2")
			return err
		}},
		{"ListTokens", func(p app.Principal) error { _, err := e.s.ListTokens(c, p); return err }},
		{"PutZone", func(p app.Principal) error { return e.s.PutZone(c, p, zone) }},
		{"PutAgency", func(p app.Principal) error {
			return e.s.PutAgency(c, p, geofence.Agency{ID: "cbp", Name: "CBP", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
		}},
		{"CreateGrant", func(p app.Principal) error {
			_, err := e.s.CreateGrant(c, p, app.GrantRequest{From: agUS, To: agMX, Until: epoch.Add(time.Minute)})
			return err
		}},
		{"UpdateDrone", func(p app.Principal) error {
			_, err := e.s.UpdateDrone(c, p, "us-2", app.DroneUpdate{Name: "Halcón 2"})
			return err
		}},
		{"ImportGeoJSON", func(p app.Principal) error {
			_, err := e.s.ImportGeoJSON(c, p, []byte(`{"type":"FeatureCollection","features":[]}`))
			return err
		}},
	}
	for _, op := range ops {
		for _, who := range []string{"sup", "op-us", "admin"} {
			err := op.run(e.who[who])
			want := fleet.Forbidden
			if who == "admin" {
				want = ""
			}
			if got := fleet.ErrorCode(err); got != want {
				t.Errorf("%s as %s: %q (%v), want %q", op.name, who, got, err, want)
			}
		}
	}
	// Reads are open to every role.
	for _, who := range []string{"sup", "op-us", "op-mx", "admin"} {
		p := e.who[who]
		if ds, err := e.s.ListDrones(c, p); err != nil || len(ds) != 3 {
			t.Errorf("ListDrones as %s: %d %v", who, len(ds), err)
		}
		if _, err := e.s.ListZones(c, p); err != nil {
			t.Errorf("ListZones as %s: %v", who, err)
		}
		if _, err := e.s.ListGrants(c, p, true); err != nil {
			t.Errorf("ListGrants as %s: %v", who, err)
		}
	}
	if _, err := e.s.ListDrones(c, app.Principal{}); fleet.ErrorCode(err) != fleet.Unauthenticated {
		t.Errorf("ListDrones without a principal: %v", err)
	}
	d, _ := e.f.Drone("us-2")
	if d.Name != "Halcón 2" {
		t.Errorf("UpdateDrone did not reach the fleet: %q", d.Name)
	}
}

func TestAuditRecordsCommandsAndRefusals(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	sub := e.f.Subscribe(fleet.SubscribeOptions{})
	defer sub.Close()
	_ = e.s.Land(c, e.who["op-us"], "us-1")
	_ = e.s.Land(c, e.who["op-mx"], "us-1")
	_ = e.s.GoTo(c, e.who["op-us"], "us-1", fleet.Position{Lat: math.NaN(), Lon: -117, RelAlt: 10}, false)
	entries, err := e.s.Audit(c, e.who["sup"], app.AuditQuery{DroneID: "us-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("audit entries %+v, want 3", entries)
	}
	want := []struct {
		label, action string
		code          fleet.Code
	}{{"op-us", "Control.Land", ""}, {"op-mx", "Control.Land", fleet.Forbidden}, {"op-us", "Control.GoTo", fleet.Invalid}}
	for i, w := range want {
		g := entries[i]
		if g.Label != w.label || g.Action != w.action || g.Code != w.code || g.At.IsZero() || g.Role != app.RoleOperator {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	// Operators read only their agency's entries; us-1 is us-agency's, so
	// op-mx sees its own refused attempt (as the caller) only.
	mine, err := e.s.Audit(c, e.who["op-mx"], app.AuditQuery{})
	if err != nil || len(mine) != 1 || mine[0].Label != "op-mx" {
		t.Errorf("op-mx audit %+v %v", mine, err)
	}
	if _, err := e.s.Audit(c, e.who["op-mx"], app.AuditQuery{Agency: agUS}); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("op-mx reading us audit: %v", err)
	}
	// Every action is on the bus, so others see it.
	seen := 0
	timeout := time.After(2 * time.Second)
	for seen < 3 {
		select {
		case ev := <-sub.C:
			if a, ok := ev.(fleet.OperatorAction); ok && a.DroneID == "us-1" {
				seen++
			}
		case <-timeout:
			t.Fatalf("saw %d OperatorAction events, want 3", seen)
		}
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	op := e.who["op-us"]
	for _, tc := range []struct {
		name  string
		err   error
		code  fleet.Code
		field string
	}{
		{"goto NaN", e.s.GoTo(c, op, "us-1", fleet.Position{Lat: math.NaN(), Lon: -117, RelAlt: 10}, false), fleet.Invalid, "lat"},
		{"goto lon", e.s.GoTo(c, op, "us-1", fleet.Position{Lat: 32, Lon: 190, RelAlt: 10}, false), fleet.Invalid, "lon"},
		{"goto alt", e.s.GoTo(c, op, "us-1", fleet.Position{Lat: 32, Lon: -117, RelAlt: math.Inf(1)}, false), fleet.Invalid, "alt_m"},
		{"takeoff alt", e.s.Takeoff(c, op, "us-1", -5), fleet.Invalid, "alt_m"},
		{"unknown drone", e.s.Land(c, op, "nope"), fleet.NotFound, ""},
		{"empty drone", e.s.Land(c, op, ""), fleet.Invalid, "drone_id"},
		{"param NaN", func() error { _, err := e.s.SetParam(c, op, "us-1", "X", math.NaN()); return err }(), fleet.Invalid, "value"},
		{"mission too big", func() error {
			_, err := e.s.UploadMission(c, op, "us-1", make([]fleet.MissionItem, 5000), app.UploadOptions{})
			return err
		}(), fleet.Exhausted, "items"},
		{"mission bad lat", func() error {
			_, err := e.s.UploadMission(c, op, "us-1", []fleet.MissionItem{{Command: fleet.CmdNavWaypoint, Frame: fleet.FrameGlobalRelativeAlt}, {Command: fleet.CmdNavWaypoint, Lat: 214, Lon: -117, Alt: 30}}, app.UploadOptions{})
			return err
		}(), fleet.Invalid, "items[1].lat"},
		{"geojson", func() error {
			_, err := e.s.ImportGeoJSON(c, e.who["admin"], []byte(`{"type":"FeatureCollection","features":[{"type":"Feature"`))
			return err
		}(), fleet.Invalid, ""},
		{"grant past", func() error {
			_, err := e.s.CreateGrant(c, e.who["admin"], app.GrantRequest{From: agMX, To: agUS, Until: epoch.Add(-time.Hour)})
			return err
		}(), fleet.Invalid, "until"},
		{"emergency polygon", func() error {
			_, err := e.s.Emergency(c, e.who["admin"], app.EmergencyRequest{Action: app.EmergencyRTL, Scope: app.Scope{Polygon: []geofence.LatLon{{Lat: 1, Lon: 1}, {Lat: math.NaN(), Lon: 2}, {Lat: 2, Lon: 2}}}})
			return err
		}(), fleet.Invalid, "polygon[1].lat"},
		{"watch rate", func() error {
			_, err := e.s.Watch(c, op, app.WatchOptions{MaxRateHz: math.NaN()})
			return err
		}(), fleet.Invalid, "max_rate_hz"},
	} {
		if got := fleet.ErrorCode(tc.err); got != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
		if tc.field != "" && !strings.HasPrefix(fleet.ErrorMessage(tc.err), tc.field+":") {
			t.Errorf("%s: message %q does not start with the field %q", tc.name, fleet.ErrorMessage(tc.err), tc.field)
		}
	}
	for id, v := range e.vehicles {
		if n := userCommands(v) + v.Calls("UploadMission") + v.Calls("SetParam"); n != 0 {
			t.Errorf("bad input reached %s: %d calls", id, n)
		}
	}
	if zs, _ := e.st.Zones(); len(zs) != 0 {
		t.Errorf("bad GeoJSON stored zones: %v", zs)
	}
	if gs, _ := e.st.Grants(); len(gs) != 0 {
		t.Errorf("bad grant stored: %v", gs)
	}
}

func TestEmergencyScopes(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	res, err := e.s.Emergency(c, e.who["op-us"], app.EmergencyRequest{Action: app.EmergencyRTL, Scope: app.Scope{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]app.EmergencyResult{}
	for _, r := range res {
		got[r.DroneID] = r
	}
	if len(got) != 3 || got["us-1"].Skipped || got["us-1"].Code != "" || got["us-2"].Skipped || !got["mx-1"].Skipped || !strings.Contains(got["mx-1"].Reason, agMX) {
		t.Errorf("operator emergency results %+v", res)
	}
	if n := userCommands(e.vehicles["mx-1"]); n != 0 {
		t.Errorf("operator's emergency reached mx-1: %d commands", n)
	}
	res, err = e.s.Emergency(c, e.who["admin"], app.EmergencyRequest{Action: app.EmergencyHold, Scope: app.Scope{Agency: agMX}})
	if err != nil || len(res) != 1 || res[0].DroneID != "mx-1" || res[0].Skipped || res[0].Code != "" {
		t.Errorf("admin emergency on mx-agency: %+v %v", res, err)
	}
	// A drawn polygon around the US point only.
	poly := []geofence.LatLon{{Lat: posUS.Lat - 0.01, Lon: posUS.Lon - 0.01}, {Lat: posUS.Lat - 0.01, Lon: posUS.Lon + 0.01}, {Lat: posUS.Lat + 0.01, Lon: posUS.Lon + 0.01}, {Lat: posUS.Lat + 0.01, Lon: posUS.Lon - 0.01}}
	res, err = e.s.Emergency(c, e.who["admin"], app.EmergencyRequest{Action: app.EmergencyLand, Scope: app.Scope{Polygon: poly}})
	if err != nil || len(res) != 2 || res[0].DroneID != "us-1" || res[1].DroneID != "us-2" {
		t.Errorf("polygon emergency: %+v %v", res, err)
	}
	if _, err := e.s.Emergency(c, e.who["sup"], app.EmergencyRequest{Action: app.EmergencyRTL, Scope: app.Scope{All: true}}); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("supervisor emergency: %v", err)
	}
	if _, err := e.s.Emergency(c, e.who["admin"], app.EmergencyRequest{Action: "explode", Scope: app.Scope{All: true}}); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("bad action: %v", err)
	}
}

func TestGrantLifecycleOnBus(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	sub := e.f.Subscribe(fleet.SubscribeOptions{})
	defer sub.Close()
	g, err := e.s.CreateGrant(c, e.who["admin"], app.GrantRequest{From: agMX, To: agUS, Until: epoch.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	next := func() fleet.GrantChanged {
		t.Helper()
		timeout := time.After(3 * time.Second)
		for {
			select {
			case ev := <-sub.C:
				if gc, ok := ev.(fleet.GrantChanged); ok {
					return gc
				}
			case <-timeout:
				t.Fatal("no GrantChanged")
			}
		}
	}
	if gc := next(); gc.GrantID != g.ID || !gc.Active || gc.By != "admin" {
		t.Errorf("created: %+v", gc)
	}
	if err := e.s.Land(c, e.who["op-us"], "mx-1"); err != nil {
		t.Errorf("granted (all drones of mx-agency): %v", err)
	}
	e.c.Advance(time.Minute)
	if gc := next(); gc.GrantID != g.ID || gc.Active {
		t.Errorf("expiry: %+v", gc)
	}
	if err := e.s.Land(c, e.who["op-us"], "mx-1"); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("after expiry: %v", err)
	}
	g2, _ := e.s.CreateGrant(c, e.who["admin"], app.GrantRequest{From: agMX, To: agUS, Until: e.c.Now().Add(time.Minute)})
	next()
	if err := e.s.RevokeGrant(c, e.who["admin"], g2.ID); err != nil {
		t.Fatal(err)
	}
	if gc := next(); gc.GrantID != g2.ID || gc.Active {
		t.Errorf("revoked: %+v", gc)
	}
	if err := e.s.Land(c, e.who["op-us"], "mx-1"); fleet.ErrorCode(err) != fleet.Forbidden || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("after revoke: %v", err)
	}
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
