package fleet_test

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
)

// mustZoneWatch starts a watch on f; it is closed before the fleet.
func mustZoneWatch(tb testing.TB, f *fleet.Fleet, zones *geofence.Store, opts ...func(*fleet.ZoneWatch)) *fleet.ZoneWatch {
	tb.Helper()
	w := &fleet.ZoneWatch{Fleet: f, Zones: zones}
	for _, o := range opts {
		o(w)
	}
	if err := w.Initialize(); err != nil {
		tb.Fatalf("ZoneWatch.Initialize: %v", err)
	}
	tb.Cleanup(w.Close)
	return w
}

// zoneMoving is a GLOBAL_POSITION_INT at p flying at vn, ve m/s.
func zoneMoving(boot time.Duration, p fleet.Position, vn, ve float64) fleet.GlobalPosition {
	return fleet.GlobalPosition{TimeBoot: boot, Lat: p.Lat, Lon: p.Lon, AltMSL: zoneHome.AltMSL + p.RelAlt, RelAlt: p.RelAlt,
		VN: vn, VE: ve, HeadingDeg: math.NaN()}
}

// zoneChecked waits until the watch has checked drone id at p.
func zoneChecked(tb testing.TB, w *fleet.ZoneWatch, id string, p fleet.Position) fleet.ZoneDroneStatus {
	tb.Helper()
	var s fleet.ZoneDroneStatus
	poll(tb, "watch to check "+id, func() bool {
		var ok bool
		s, ok = w.Status(id)
		return ok && s.Position == p
	})
	return s
}

// zoneCommandClock records the injected time of each command a fake vehicle gets.
type zoneCommandClock struct {
	mu    sync.Mutex
	clock *ft.Clock
	at    map[fleet.CommandKind][]time.Time
}

func (c *zoneCommandClock) record(_ context.Context, cmd fleet.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = make(map[fleet.CommandKind][]time.Time)
	}
	c.at[cmd.Kind] = append(c.at[cmd.Kind], c.clock.Now())
	return nil
}

func (c *zoneCommandClock) times(k fleet.CommandKind) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at[k])
}

// TestZoneWatchBreachRTL flies a US drone south across the boundary at
// 10 m/s, 10 positions a second of simulated time: the watch sees it
// approach, breach (and orders RTL within 1 s of the first position outside,
// once), and come back inside when it flies north again.
func TestZoneWatchBreachRTL(t *testing.T) {
	f, clock := zoneFleet(t)
	zones := mustZoneStore(t)
	set := zones.Snapshot()
	w := mustZoneWatch(t, f, zones, func(w *fleet.ZoneWatch) {
		w.Policy = fleet.ZonePolicy{Default: fleet.ZoneWarn, ByAgency: map[string]fleet.ZoneAction{zoneAgencyUS.ID: fleet.ZoneRTL}}
	})
	ev := subscribe(t, f, fleet.SubscribeOptions{Drones: []string{"sysid-1"}})
	cc := &zoneCommandClock{clock: clock}
	v := ft.NewVehicle("zone", zoneSysUS)
	v.CommandFn = cc.record
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, zoneHome)

	const (
		step  = 100 * time.Millisecond
		speed = 10.0                   // m/s
		dLat  = speed * 0.1 / 111195.0 // degrees per step
	)
	p := fleet.Position{Lat: 32.5430, Lon: -117.05, RelAlt: 50} // 270 m north of the line
	boot := time.Minute
	var firstOutside time.Time
	outsideSteps := 0
	for i := 0; outsideSteps < 20; i++ {
		if i > 1000 {
			t.Fatal("drone never left its allowed space")
		}
		clock.Advance(step)
		boot += step
		p.Lat -= dLat
		ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusActive), zoneMoving(boot, p, -speed, 0))
		if s := zoneChecked(t, w, "sysid-1", p); i == 0 && s.Status != fleet.ZoneInside {
			t.Fatalf("start %+v, want inside", s)
		}
		ok, _, err := set.Allowed(zoneAgencyUS.ID, geofence.Pos(p.Lat, p.Lon, p.RelAlt), epoch)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if firstOutside.IsZero() {
				firstOutside = clock.Now()
			}
			outsideSteps++
		}
	}
	rtl := cc.times(fleet.CommandReturnToLaunch)
	if len(rtl) != 1 {
		t.Fatalf("RTL sent %d times over 20 positions outside, want once", len(rtl))
	}
	if lag := rtl[0].Sub(firstOutside); lag < 0 || lag > time.Second {
		t.Errorf("RTL %v after the first position outside, want within 1 s", lag)
	}

	// Events: approaching, then breached naming drone and zone, then the response.
	appr, _ := waitFor[fleet.ZoneStateChanged](ev, func(e fleet.ZoneStateChanged) bool { return e.To == fleet.ZoneApproaching })
	if appr.DroneID != "sysid-1" || appr.Agency != zoneAgencyUS.ID || appr.ZoneID == "" {
		t.Errorf("approaching event %+v", appr)
	}
	br, _ := waitFor[fleet.ZoneStateChanged](ev, func(e fleet.ZoneStateChanged) bool { return e.To == fleet.ZoneBreached })
	if br.DroneID != "sysid-1" || br.From != fleet.ZoneApproaching || br.ZoneID != "mx-sandiego-tijuana" ||
		br.ZoneName != "San Diego–Tijuana corridor, MX side" || br.Violation == nil || br.Violation.Reason != geofence.ReasonUnauthorised {
		t.Errorf("breach event %+v (violation %+v)", br, br.Violation)
	}
	if !br.At.After(appr.At) {
		t.Errorf("breached at %v, not after approaching at %v", br.At, appr.At)
	}
	resp, _ := waitFor[fleet.ZoneResponse](ev, nil)
	if resp.DroneID != "sysid-1" || resp.ZoneID != "mx-sandiego-tijuana" || resp.Action != fleet.ZoneRTL ||
		resp.Code != "" || resp.Skipped != "" {
		t.Errorf("response %+v, want accepted rtl for sysid-1 in mx-sandiego-tijuana", resp)
	}

	// Fly back north: back inside, and no further response.
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("drone never came back inside")
		}
		clock.Advance(step)
		boot += step
		p.Lat += dLat
		ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusActive), zoneMoving(boot, p, speed, 0))
		if s := zoneChecked(t, w, "sysid-1", p); s.Status != fleet.ZoneBreached {
			break
		}
	}
	back, _ := waitFor[fleet.ZoneStateChanged](ev, func(e fleet.ZoneStateChanged) bool { return e.From == fleet.ZoneBreached })
	if !back.BackInside() || back.DroneID != "sysid-1" {
		t.Errorf("back inside event %+v", back)
	}
	if n := len(cc.times(fleet.CommandReturnToLaunch)); n != 1 {
		t.Errorf("RTL sent %d times, want once", n)
	}
}

// TestZoneWatchPolicy teleports drones into breaches (first seen outside)
// and checks the policy's response by zone, agency and default.
func TestZoneWatchPolicy(t *testing.T) {
	cases := []struct {
		name   string
		sysID  uint8
		at     fleet.Position
		mode   uint32
		armed  bool
		action fleet.ZoneAction
		skip   string
		sent   []fleet.Command
	}{
		{name: "zone policy: land in the airport", sysID: zoneSysJoint, at: zoneTIJPoint, mode: ft.Guided, armed: true,
			action: fleet.ZoneLand, sent: []fleet.Command{{Kind: fleet.CommandLand}}},
		{name: "agency policy: hold in Mexico", sysID: zoneSysUS, at: zoneMXPoint, mode: ft.Guided, armed: true,
			action: fleet.ZoneHold, sent: []fleet.Command{{Kind: fleet.CommandSetMode, Mode: ft.Brake}}},
		{name: "default policy: warn", sysID: zoneSysMX, at: zoneUSPoint, mode: ft.Guided, armed: true,
			action: fleet.ZoneWarn},
		{name: "disarmed drone is not acted on", sysID: zoneSysUS, at: zoneMXPoint, mode: ft.Guided, armed: false,
			action: fleet.ZoneHold, skip: "drone is not flying"},
		{name: "drone already holding", sysID: zoneSysUS, at: zoneMXPoint, mode: ft.Brake, armed: true,
			action: fleet.ZoneHold, skip: "drone is already in BRAKE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := zoneFleet(t)
			w := mustZoneWatch(t, f, mustZoneStore(t), func(w *fleet.ZoneWatch) {
				w.Policy = fleet.ZonePolicy{
					ByZone:   map[string]fleet.ZoneAction{"apt-mmtj": fleet.ZoneLand},
					ByAgency: map[string]fleet.ZoneAction{zoneAgencyUS.ID: fleet.ZoneHold, zoneAgencyJoint.ID: fleet.ZoneRTL},
				}
			})
			ev := subscribe(t, f, fleet.SubscribeOptions{})
			v := ft.NewVehicle("zone", c.sysID)
			discover(t, f, v, ft.Copter(c.mode, c.armed, ft.StatusActive))
			n := len(v.Commands())
			ft.Feed(f, v, zoneHome, ft.Position(time.Second, c.at.Lat, c.at.Lon, c.at.RelAlt))
			id := f.Drones()[0].ID

			br, _ := waitFor[fleet.ZoneStateChanged](ev, nil)
			if br.From != fleet.ZoneUnknown || br.To != fleet.ZoneBreached || br.DroneID != id || br.ZoneID == "" {
				t.Errorf("first event %+v, want unknown → breached", br)
			}
			resp, _ := waitFor[fleet.ZoneResponse](ev, nil)
			if resp.Action != c.action || resp.Skipped != c.skip || resp.Code != "" || resp.DroneID != id || resp.ZoneID != br.ZoneID {
				t.Errorf("response %+v, want action %q skipped %q in zone %s", resp, c.action, c.skip, br.ZoneID)
			}
			got := v.Commands()[n:]
			if !slices.Equal(got, c.sent) {
				t.Errorf("commands %+v, want %+v", got, c.sent)
			}
			if s, _ := w.Status(id); s.Status != fleet.ZoneBreached || s.Agency == "" {
				t.Errorf("Status %+v", s)
			}
		})
	}
}

func TestZonePolicyAction(t *testing.T) {
	p := fleet.ZonePolicy{
		Default:  fleet.ZoneHold,
		ByAgency: map[string]fleet.ZoneAction{"cbp": fleet.ZoneRTL},
		ByZone:   map[string]fleet.ZoneAction{"apt-mmtj": fleet.ZoneLand},
	}
	cases := []struct {
		agency, zone string
		want         fleet.ZoneAction
	}{
		{"cbp", "apt-mmtj", fleet.ZoneLand},
		{"cbp", "mx-sandiego-tijuana", fleet.ZoneRTL},
		{"cbp", "", fleet.ZoneRTL},
		{"sedena", "us-sandiego-tijuana", fleet.ZoneHold},
	}
	for _, c := range cases {
		if got := p.Action(c.agency, c.zone); got != c.want {
			t.Errorf("Action(%q, %q) = %q, want %q", c.agency, c.zone, got, c.want)
		}
	}
	if got := (fleet.ZonePolicy{}).Action("cbp", "x"); got != fleet.ZoneWarn {
		t.Errorf("zero policy = %q, want warn", got)
	}
}

func TestZoneWatchInitializeErrors(t *testing.T) {
	f, _ := zoneFleet(t)
	zones := mustZoneStore(t)
	cases := []struct {
		name string
		w    *fleet.ZoneWatch
	}{
		{"no fleet", &fleet.ZoneWatch{Zones: zones}},
		{"no zones", &fleet.ZoneWatch{Fleet: f}},
		{"unknown default action", &fleet.ZoneWatch{Fleet: f, Zones: zones, Policy: fleet.ZonePolicy{Default: "shoot"}}},
		{"unknown zone action", &fleet.ZoneWatch{Fleet: f, Zones: zones, Policy: fleet.ZonePolicy{ByZone: map[string]fleet.ZoneAction{"z": "RTL"}}}},
		{"negative workers", &fleet.ZoneWatch{Fleet: f, Zones: zones, Workers: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.w.Initialize()
			if fleet.ErrorCode(err) != fleet.Invalid {
				c.w.Close()
				t.Fatalf("Initialize = %v, want Invalid", err)
			}
			c.w.Close() // harmless after a failed Initialize
		})
	}
}

// TestZoneWatchNotChecked: a drone streaming 0,0 before its fix is never
// checked, and one of an agency the zones do not know is not acted on.
func TestZoneWatchNotChecked(t *testing.T) {
	f, _ := zoneFleet(t)
	w := mustZoneWatch(t, f, mustZoneStore(t), func(w *fleet.ZoneWatch) { w.Policy.Default = fleet.ZoneRTL })
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	nofix := ft.NewVehicle("a", zoneSysUS)
	discover(t, f, nofix, ft.Copter(ft.Guided, true, ft.StatusActive))
	stranger := ft.NewVehicle("b", zoneSysNoAgent)
	discover(t, f, stranger, ft.Copter(ft.Guided, true, ft.StatusActive))
	n1, n2 := len(nofix.Commands()), len(stranger.Commands())
	for i := range 5 {
		ft.Feed(f, nofix, ft.NoFix(time.Duration(i)*time.Second))
		ft.Feed(f, stranger, ft.Position(time.Duration(i)*time.Second, zoneMXPoint.Lat, zoneMXPoint.Lon, 50))
	}
	// A third drone proves the watch has read past those states.
	marker := ft.NewVehicle("c", zoneSysJoint)
	discover(t, f, marker, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, marker, ft.Position(time.Second, zoneUSPoint.Lat, zoneUSPoint.Lon, 50))
	zoneChecked(t, w, "sysid-2", zoneUSPoint)
	for _, e := range ev.drain() {
		switch e := e.(type) {
		case fleet.ZoneStateChanged:
			if e.DroneID != "sysid-2" {
				t.Errorf("unexpected %+v", e)
			}
		case fleet.ZoneResponse:
			t.Errorf("unexpected %+v", e)
		}
	}
	if _, ok := w.Status("sysid-1"); ok {
		t.Error("drone without a fix was checked")
	}
	if _, ok := w.Status("sysid-4"); ok {
		t.Error("drone of an unknown agency has a status")
	}
	// The fleet may ask for a missing HOME_POSITION; the watch sends nothing.
	acted := func(ks []fleet.CommandKind) bool {
		return slices.ContainsFunc(ks, func(k fleet.CommandKind) bool { return k != fleet.CommandRequestMessage })
	}
	if acted(nofix.CommandKinds()[n1:]) || acted(stranger.CommandKinds()[n2:]) {
		t.Errorf("commands sent: %v, %v", nofix.CommandKinds()[n1:], stranger.CommandKinds()[n2:])
	}
}

// TestZoneWatchCloseCancelsResponse: Close returns while a response waits
// on a vehicle that never answers.
func TestZoneWatchCloseCancelsResponse(t *testing.T) {
	f, _ := zoneFleet(t)
	w := mustZoneWatch(t, f, mustZoneStore(t), func(w *fleet.ZoneWatch) { w.Policy.Default = fleet.ZoneRTL })
	v := ft.NewVehicle("a", zoneSysUS)
	started := make(chan struct{}, 1)
	v.CommandFn = func(ctx context.Context, c fleet.Command) error {
		if c.Kind != fleet.CommandReturnToLaunch {
			return nil
		}
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneMXPoint.Lat, zoneMXPoint.Lon, 50))
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no RTL sent")
	}
	done := make(chan struct{})
	go func() { w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a response in flight")
	}
}

// TestZoneWatchGround: the floor at home level is the ground, not an edge:
// taking off, landing and standing at home are inside; the ceiling is
// approached by distance and by climb rate.
func TestZoneWatchGround(t *testing.T) {
	f, _ := zoneFleet(t)
	w := mustZoneWatch(t, f, mustZoneStore(t))
	v := ft.NewVehicle("a", zoneSysUS)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, zoneHome)
	cases := []struct {
		name   string
		relAlt float64
		vd     float64 // m/s down
		want   fleet.ZoneStatus
	}{
		{"on the ground at home", 0, 0, fleet.ZoneInside},
		{"taking off", 3, -2, fleet.ZoneInside},
		{"landing", 4, 1, fleet.ZoneInside},
		{"landed below home level", -1.5, 0, fleet.ZoneInside},
		{"cruising", 50, 0, fleet.ZoneInside},
		{"near the ceiling", 115, 0, fleet.ZoneApproaching},
		{"climbing to the ceiling", 95, -3, fleet.ZoneApproaching},
	}
	for i, c := range cases {
		p := fleet.Position{Lat: zoneHome.Lat, Lon: zoneHome.Lon + float64(i)*1e-5, RelAlt: c.relAlt}
		f.Handle(v, fleet.GlobalPosition{TimeBoot: time.Duration(i+1) * time.Second, Lat: p.Lat, Lon: p.Lon,
			AltMSL: zoneHome.AltMSL + c.relAlt, RelAlt: c.relAlt, VD: c.vd, HeadingDeg: math.NaN()})
		if s := zoneChecked(t, w, "sysid-1", p); s.Status != c.want {
			t.Errorf("%s: %v, want %v", c.name, s.Status, c.want)
		}
	}
}

// TestZoneWatchVehicleAnsweredBreach: a drone with an on-board fence
// (FENCE_STATUS seen) crosses the line; ArduCopter reports the breach and
// switches to RTL itself a moment after the watch saw the position. The
// watch records the response as the vehicle's and sends no second RTL, and
// the mode change is not credited to the server (issue 22).
func TestZoneWatchVehicleAnsweredBreach(t *testing.T) {
	f, clock := zoneFleet(t)
	zones := mustZoneStore(t)
	w := mustZoneWatch(t, f, zones, func(w *fleet.ZoneWatch) {
		w.Policy = fleet.ZonePolicy{Default: fleet.ZoneRTL}
		w.VehicleGrace = 3 * time.Second
	})
	ev := subscribe(t, f, fleet.SubscribeOptions{Drones: []string{"sysid-1"}})
	cc := &zoneCommandClock{clock: clock}
	v := ft.NewVehicle("zone", zoneSysUS)
	v.CommandFn = cc.record
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, zoneHome)
	f.Handle(v, fleet.FenceStatus{}) // the on-board fence is enabled
	inside := fleet.Position{Lat: 32.5430, Lon: -117.05, RelAlt: 50}
	ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusActive), zoneMoving(time.Minute, inside, -10, 0))
	zoneChecked(t, w, "sysid-1", inside)
	outside := fleet.Position{Lat: 32.5300, Lon: -117.05, RelAlt: 50}
	clock.Advance(100 * time.Millisecond)
	ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusActive), zoneMoving(time.Minute+100*time.Millisecond, outside, -10, 0))
	waitFor(ev, func(e fleet.ZoneStateChanged) bool { return e.To == fleet.ZoneBreached })
	// The vehicle's own answer, 30 ms later.
	f.Handle(v, fleet.FenceStatus{Breached: true, Count: 1, BreachType: 3})
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
	resp, seen := waitFor[fleet.ZoneResponse](ev, nil)
	if !resp.ByVehicle || resp.Skipped == "" || resp.Action != fleet.ZoneRTL {
		t.Errorf("response %+v, want the vehicle's", resp)
	}
	if n := len(cc.times(fleet.CommandReturnToLaunch)) + len(cc.times(fleet.CommandSetMode)); n != 0 {
		t.Errorf("%d commands sent after the vehicle answered", n)
	}
	for _, e := range append(seen, ev.drain()...) {
		if mc, ok := e.(fleet.ModeChanged); ok && mc.To == "RTL" && mc.Commanded {
			t.Errorf("the vehicle's RTL credited to the server: %+v", mc)
		}
	}
}

// An RTL the server sent while the vehicle's fence reported its breach is
// the vehicle's own (its FENCE_ACTION), not Commanded.
func TestModeChangedNotCreditedDuringVehicleBreach(t *testing.T) {
	f, _ := mustFleet(t)
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, fleet.FenceStatus{Breached: true, Count: 1, BreachType: 3})
	if err := f.ReturnToLaunch(context.Background(), "sysid-1"); err != nil {
		t.Fatal(err)
	}
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
	mc, _ := waitFor[fleet.ModeChanged](ev, nil)
	if mc.To != "RTL" || mc.Commanded {
		t.Errorf("mode change %+v, want the vehicle's RTL", mc)
	}
	// Without a vehicle breach the same RTL is the server's.
	f.Handle(v, fleet.FenceStatus{Breached: false, Count: 1})
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusActive))
	if err := f.ReturnToLaunch(context.Background(), "sysid-1"); err != nil {
		t.Fatal(err)
	}
	f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusActive))
	mc, _ = waitFor(ev, func(e fleet.ModeChanged) bool { return e.To == "RTL" })
	if !mc.Commanded {
		t.Errorf("mode change %+v, want Commanded", mc)
	}
}

// zoneEdgeLat returns the latitude, at longitude lon, where a US drone at
// relAlt is boundaryM metres from the edge of its allowed space (south of
// lat0, which is inside).
func zoneEdgeLat(t *testing.T, set *geofence.Set, lat0, lon, relAlt, boundaryM float64) float64 {
	t.Helper()
	lo, hi := lat0-0.05, lat0 // lo outside-ish, hi inside
	for range 60 {
		mid := (lo + hi) / 2
		res, err := set.Watch(zoneAgencyUS.ID, geofence.Pos(mid, lon, relAlt), geofence.Velocity{}, geofence.Margin{}, epoch)
		if err != nil {
			t.Fatal(err)
		}
		if res.State == geofence.Breached || res.BoundaryM < boundaryM {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// TestZoneWatchHysteresis: a drone hovering, then landing, at the 50 m
// margin with a few metres of GPS noise is approaching once, not flipping
// approaching/inside every few seconds, and the ground under it is never a
// floor breach (issue 22).
func TestZoneWatchHysteresis(t *testing.T) {
	f, clock := zoneFleet(t)
	zones := mustZoneStore(t)
	w := mustZoneWatch(t, f, zones)
	ev := subscribe(t, f, fleet.SubscribeOptions{Drones: []string{"sysid-1"}})
	v := ft.NewVehicle("zone", zoneSysUS)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	f.Handle(v, zoneHome)
	const lon = -117.05
	edge := zoneEdgeLat(t, zones.Snapshot(), 32.5430, lon, 20, fleet.DefaultZoneMarginM)
	boot := time.Minute
	alt := 20.0
	for i := range 80 { // 40 s: 20 s hovering, then a 20 s descent to the ground
		clock.Advance(500 * time.Millisecond)
		boot += 500 * time.Millisecond
		if i >= 40 {
			alt = math.Max(0, alt-1)
		}
		noise := 3 * math.Sin(float64(i)*1.7) // ±3 m north-south
		p := fleet.Position{Lat: edge + noise/111195, Lon: lon, RelAlt: alt}
		armed := alt > 0 || i < 75
		ft.Feed(f, v, ft.Copter(ft.Guided, armed, ft.StatusActive), zoneMoving(boot, p, 0, 0))
		zoneChecked(t, w, "sysid-1", p)
	}
	f.Handle(v, fleet.StatusText{Severity: 6, Text: "marker"})
	_, seen := waitFor(ev, func(e fleet.StatusTextEvent) bool { return e.Text == "marker" })
	var changes []fleet.ZoneStateChanged
	for _, e := range seen {
		if c, ok := e.(fleet.ZoneStateChanged); ok {
			changes = append(changes, c)
			if c.Violation != nil && c.Violation.Reason == geofence.ReasonBelowFloor {
				t.Errorf("the ground called a floor breach: %+v", c)
			}
		}
	}
	if len(changes) > 2 {
		for _, c := range changes {
			t.Logf("%v → %v boundary %.1f m", c.From, c.To, c.BoundaryM)
		}
		t.Errorf("%d zone status changes at the margin, want at most 2 (unknown → inside → approaching)", len(changes))
	}
}

// TestZoneWatchCheckInputs: the inputs are the drones with a position, as
// the watch checks them (the same boundary distance), with the default
// margin.
func TestZoneWatchCheckInputs(t *testing.T) {
	f, _ := zoneFleet(t)
	zones := mustZoneStore(t)
	w := mustZoneWatch(t, f, zones)
	nofix := ft.NewVehicle("a", zoneSysUS)
	discover(t, f, nofix, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, nofix, ft.NoFix(time.Second))
	v := ft.NewVehicle("c", zoneSysJoint)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, v, ft.Position(time.Second, zoneUSPoint.Lat, zoneUSPoint.Lon, 50))
	st := zoneChecked(t, w, "sysid-2", zoneUSPoint)
	in, m := w.CheckInputs()
	want := geofence.Margin{HorizontalM: fleet.DefaultZoneMarginM, VerticalM: fleet.DefaultZoneMarginVerticalM, Time: fleet.DefaultZoneMarginTime}
	if m != want {
		t.Errorf("margin %+v, want %+v", m, want)
	}
	if len(in) != 1 || in[0].Agency != st.Agency || in[0].Position.Lat != zoneUSPoint.Lat || in[0].Position.Lon != zoneUSPoint.Lon {
		t.Fatalf("inputs %+v, want the one drone with a position (%+v)", in, st)
	}
	res, err := zones.Snapshot().Watch(in[0].Agency, in[0].Position, in[0].Velocity, m, zones.Time())
	if err != nil || res.BoundaryM != st.BoundaryM {
		t.Errorf("Watch on the input: %+v, %v; the watch saw boundary %v m", res, err, st.BoundaryM)
	}
}
