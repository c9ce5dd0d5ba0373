package fleet_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
)

// Agencies of the zone tests: a US-only agency, a joint task force and a
// Mexican agency.
var (
	zoneAgencyUS    = geofence.Agency{ID: "cbp", Name: "US Customs and Border Protection", Jurisdictions: []geofence.Jurisdiction{geofence.US}}
	zoneAgencyJoint = geofence.Agency{ID: "jtf", Name: "Joint task force", Jurisdictions: []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint}}
	zoneAgencyMX    = geofence.Agency{ID: "sedena", Name: "SEDENA", Jurisdictions: []geofence.Jurisdiction{geofence.MX}}
)

// System ids of the zone tests' drones, by agency.
const (
	zoneSysUS      = 1
	zoneSysJoint   = 2
	zoneSysMX      = 3
	zoneSysNoAgent = 4
)

// San Diego–Tijuana corridor: home on the US side, 4 km north of the line.
var (
	zoneHome     = fleet.Home{Lat: 32.575, Lon: -117.06, AltMSL: 20}
	zoneUSPoint  = fleet.Position{Lat: 32.60, Lon: -117.05, RelAlt: 50}
	zoneMXPoint  = fleet.Position{Lat: 32.50, Lon: -117.05, RelAlt: 50}
	zoneTIJPoint = fleet.Position{Lat: 32.545, Lon: -116.975, RelAlt: 50} // inside apt-mmtj
)

// mustZoneStore returns the bundled dataset with the test agencies, its
// clock at the test epoch.
func mustZoneStore(tb testing.TB) *geofence.Store {
	tb.Helper()
	set, err := geofence.Default(zoneAgencyUS, zoneAgencyJoint, zoneAgencyMX)
	if err != nil {
		tb.Fatalf("geofence.Default: %v", err)
	}
	st := geofence.NewStore(set)
	st.Now = func() time.Time { return epoch }
	return st
}

// zoneFleet starts a fleet assigning zoneSysUS, zoneSysJoint and zoneSysMX to
// the test agencies (others to "unassigned").
func zoneFleet(tb testing.TB, opts ...func(*fleet.Fleet)) (*fleet.Fleet, *ft.Clock) {
	tb.Helper()
	return mustFleet(tb, append([]func(*fleet.Fleet){func(f *fleet.Fleet) {
		f.Agencies = map[uint8]string{zoneSysUS: zoneAgencyUS.ID, zoneSysJoint: zoneAgencyJoint.ID, zoneSysMX: zoneAgencyMX.ID}
	}}, opts...)...)
}

// zoneFlyingAt discovers a flying ArduCopter in GUIDED at p with home zoneHome.
func zoneFlyingAt(tb testing.TB, f *fleet.Fleet, sysID uint8, p fleet.Position) *ft.Vehicle {
	tb.Helper()
	v := ft.NewVehicle("zone", sysID)
	discover(tb, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, v, zoneHome, ft.Position(time.Second, p.Lat, p.Lon, p.RelAlt))
	return v
}

func zoneKinds(v *ft.Vehicle, from int) []fleet.CommandKind {
	ks := v.CommandKinds()
	if from > len(ks) {
		return nil
	}
	return ks[from:]
}

func TestZoneGuardGoTo(t *testing.T) {
	g := fleet.NewZoneGuard(mustZoneStore(t))
	ctx := context.Background()
	cases := []struct {
		name   string
		sysID  uint8
		from   fleet.Position
		target fleet.Position
		skip   bool
		code   fleet.Code
		want   []string // substrings of the refusal
	}{
		{name: "US drone south across the line", sysID: zoneSysUS, from: zoneUSPoint, target: zoneMXPoint, code: fleet.Conflict,
			want: []string{"go-to leaves allowed space", "jurisdiction", `agency "cbp" is not authorised`, "at leg 0"}},
		{name: "US drone within US", sysID: zoneSysUS, from: zoneUSPoint, target: fleet.Position{Lat: 32.61, Lon: -117.10, RelAlt: 60}},
		{name: "US drone into the airport", sysID: zoneSysUS, from: zoneUSPoint, target: zoneTIJPoint, code: fleet.Conflict,
			want: []string{`enters exclusion zone apt-mmtj "General Abelardo L. Rodriguez International Airport (TIJ/MMTJ)"`}},
		{name: "US drone above the ceiling", sysID: zoneSysUS, from: zoneUSPoint, target: fleet.Position{Lat: 32.61, Lon: -117.05, RelAlt: 150}, code: fleet.Conflict,
			want: []string{`climbs above the ceiling of zone us-sandiego-tijuana`}},
		{name: "joint drone south across the line", sysID: zoneSysJoint, from: zoneUSPoint, target: zoneMXPoint},
		{name: "joint drone into the airport", sysID: zoneSysJoint, from: zoneUSPoint, target: zoneTIJPoint, code: fleet.Conflict,
			want: []string{"apt-mmtj"}},
		{name: "MX drone north across the line", sysID: zoneSysMX, from: zoneMXPoint, target: zoneUSPoint, code: fleet.Conflict,
			want: []string{"us-sandiego-tijuana", `agency "sedena" is not authorised`}},
		{name: "US drone south with override", sysID: zoneSysUS, from: zoneUSPoint, target: zoneMXPoint, skip: true},
		{name: "US drone outside comes back in", sysID: zoneSysUS, from: zoneMXPoint, target: zoneUSPoint},
		{name: "US drone outside goes further out", sysID: zoneSysUS, from: zoneMXPoint, target: fleet.Position{Lat: 32.49, Lon: -117.05, RelAlt: 50},
			code: fleet.Conflict, want: []string{"mx-sandiego-tijuana"}},
		{name: "drone of an unknown agency", sysID: zoneSysNoAgent, from: zoneUSPoint, target: zoneUSPoint, code: fleet.Conflict,
			want: []string{`agency "unassigned", which has no geofence authorisation`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := zoneFleet(t, func(f *fleet.Fleet) { f.Guard = g })
			v := zoneFlyingAt(t, f, c.sysID, c.from)
			id := fmt.Sprintf("sysid-%d", c.sysID)
			n := len(v.Commands())
			ev := subscribe(t, f, fleet.SubscribeOptions{})
			err := f.GoTo(ctx, id, c.target, fleet.GoToOptions{SkipGuard: c.skip})
			if fleet.ErrorCode(err) != c.code {
				t.Fatalf("GoTo = %v, want code %q", err, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(fleet.ErrorMessage(err), w) {
					t.Errorf("refusal %q does not say %q", fleet.ErrorMessage(err), w)
				}
			}
			sent := zoneKinds(v, n)
			if c.code != "" {
				if len(sent) != 0 {
					t.Errorf("refused go-to reached the vehicle: %v", sent)
				}
				res, _ := waitFor[fleet.CommandResult](ev, func(e fleet.CommandResult) bool { return e.Command == "goto" })
				if res.Code != fleet.Conflict || res.DroneID != id {
					t.Errorf("CommandResult %+v, want conflict for %s", res, id)
				}
				return
			}
			if len(sent) != 1 || sent[0] != fleet.CommandReposition {
				t.Errorf("allowed go-to sent %v, want reposition", sent)
			}
		})
	}
}

func TestZoneGuardGoToWithoutPosition(t *testing.T) {
	g := fleet.NewZoneGuard(mustZoneStore(t))
	base := fleet.DroneState{ID: "x", Agency: zoneAgencyUS.ID, Autopilot: fleet.AutopilotArduPilot}
	// No position, no home: the target alone.
	if err := g.CheckGoTo(base, zoneUSPoint); err != nil {
		t.Errorf("target in US space refused: %v", err)
	}
	if err := g.CheckGoTo(base, zoneMXPoint); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("target in MX space = %v, want Conflict", err)
	}
	// Home only: the leg from home, which crosses the airport.
	withHome := base
	withHome.HasHome, withHome.Home = true, fleet.Home{Lat: 32.58, Lon: -117.04, AltMSL: 20}
	east := fleet.Position{Lat: 32.58, Lon: -116.92, RelAlt: 40}
	if err := g.CheckGoTo(base, east); err != nil {
		t.Errorf("target alone refused: %v", err)
	}
	if err := g.CheckGoTo(withHome, east); fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "apt-mmtj") {
		t.Errorf("leg from home across the airport = %v, want Conflict naming apt-mmtj", err)
	}
	// A bad position is Invalid.
	bad := base
	bad.HasPosition, bad.Position = true, fleet.Position{Lat: 95, Lon: 0, RelAlt: 10}
	if err := g.CheckGoTo(bad, zoneUSPoint); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("bad position = %v, want Invalid", err)
	}
}

// Waypoints on the US side around the TIJ exclusion circle: A→B straight
// crosses it, A→N→M→B goes round it to the north.
var (
	zoneWPA = fleet.Position{Lat: 32.58, Lon: -117.04, RelAlt: 40}
	zoneWPB = fleet.Position{Lat: 32.58, Lon: -116.92, RelAlt: 40}
	zoneWPN = fleet.Position{Lat: 32.612, Lon: -117.04, RelAlt: 40}
	zoneWPM = fleet.Position{Lat: 32.612, Lon: -116.92, RelAlt: 40}
)

func zoneWP(p fleet.Position) fleet.MissionItem {
	return fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true, Lat: p.Lat, Lon: p.Lon, Alt: p.RelAlt}
}

// zonePlan builds an ArduPilot plan: home, takeoff to 40 m, the items, RTL
// (a leg home that is checked too).
func zonePlan(items ...fleet.MissionItem) []fleet.MissionItem {
	out := []fleet.MissionItem{
		{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: zoneHome.Lat, Lon: zoneHome.Lon, Alt: zoneHome.AltMSL},
		{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavTakeoff, Autocontinue: true, Alt: 40},
	}
	out = append(out, items...)
	return append(out, fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdNavReturnToLaunch, Autocontinue: true})
}

func TestZoneGuardMission(t *testing.T) {
	doJump := fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoJump, Param1: 2, Param2: 1}
	speed := fleet.MissionItem{Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed, Param1: 1, Param2: 5, Param3: -1}
	cases := []struct {
		name  string
		sysID uint8
		items []fleet.MissionItem
		want  []string // substrings of the refusal; none: accepted
	}{
		{"round the airport", zoneSysUS, zonePlan(zoneWP(zoneWPA), speed, zoneWP(zoneWPN), zoneWP(zoneWPM), zoneWP(zoneWPB), zoneWP(zoneWPM), zoneWP(zoneWPN)), nil},
		{"across the airport", zoneSysUS, zonePlan(zoneWP(zoneWPA), speed, zoneWP(zoneWPB)),
			[]string{"mission leaves allowed space", `enters exclusion zone apt-mmtj`, "on the way to item 4"}},
		{"jump back across the airport", zoneSysUS, zonePlan(zoneWP(zoneWPA), zoneWP(zoneWPN), zoneWP(zoneWPM), zoneWP(zoneWPB), doJump, zoneWP(zoneWPM), zoneWP(zoneWPN)),
			[]string{"apt-mmtj", "on the jump (item 6) back to item 2"}},
		{"into Mexico", zoneSysUS, zonePlan(zoneWP(zoneWPA), zoneWP(zoneMXPoint)),
			[]string{"jurisdiction", "on the way to item 3"}},
		{"into Mexico, joint drone", zoneSysJoint, zonePlan(zoneWP(zoneWPA), zoneWP(zoneMXPoint)), nil},
		{"above the ceiling in AMSL", zoneSysUS, zonePlan(fleet.MissionItem{Frame: fleet.FrameGlobal, Command: fleet.CmdNavWaypoint, Lat: zoneWPA.Lat, Lon: zoneWPA.Lon, Alt: 20 + 130}),
			[]string{"ceiling", "item 2"}},
		{"land across the line", zoneSysUS, zonePlan(fleet.MissionItem{Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavLand, Lat: zoneMXPoint.Lat, Lon: zoneMXPoint.Lon}),
			[]string{"on the way to item 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := zoneFleet(t, func(f *fleet.Fleet) { f.Guard = fleet.NewZoneGuard(mustZoneStore(t)) })
			v := ft.NewVehicle("zone", c.sysID)
			discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
			ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
			id := f.Drones()[0].ID
			_, err := f.UploadMission(context.Background(), id, fleet.MissionTypeMission, c.items, fleet.UploadOptions{})
			if c.want == nil {
				if err != nil {
					t.Fatalf("UploadMission = %v, want accepted", err)
				}
				if v.Calls("UploadMission") != 1 {
					t.Errorf("accepted plan not uploaded")
				}
				return
			}
			if fleet.ErrorCode(err) != fleet.Conflict {
				t.Fatalf("UploadMission = %v, want Conflict", err)
			}
			for _, w := range c.want {
				if !strings.Contains(fleet.ErrorMessage(err), w) {
					t.Errorf("refusal %q does not say %q", fleet.ErrorMessage(err), w)
				}
			}
			if v.Calls("UploadMission") != 0 {
				t.Errorf("refused plan reached the vehicle")
			}
		})
	}
}

func TestZoneGuardMissionOverrideAndStart(t *testing.T) {
	f, _ := zoneFleet(t, func(f *fleet.Fleet) { f.Guard = fleet.NewZoneGuard(mustZoneStore(t)) })
	v := ft.NewVehicle("zone", zoneSysUS)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
	ctx := context.Background()
	across := zonePlan(zoneWP(zoneWPA), zoneWP(zoneWPB))

	// An authorised override uploads the plan; starting it is checked again.
	if _, err := f.UploadMission(ctx, "sysid-1", fleet.MissionTypeMission, across, fleet.UploadOptions{SkipGuard: true}); err != nil {
		t.Fatalf("override upload: %v", err)
	}
	n := len(v.Commands())
	err := f.StartMission(ctx, "sysid-1", fleet.StartOptions{})
	if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "apt-mmtj") {
		t.Fatalf("StartMission = %v, want Conflict naming apt-mmtj", err)
	}
	if ks := zoneKinds(v, n); len(ks) != 0 {
		t.Errorf("refused start sent %v", ks)
	}
	if err := f.StartMission(ctx, "sysid-1", fleet.StartOptions{SkipGuard: true}); err != nil {
		t.Fatalf("override start: %v", err)
	}

	// Fence and rally plans are not checked.
	fence := []fleet.MissionItem{{Frame: fleet.FrameGlobal, Command: fleet.CmdNavFenceCircleExclusion, Param1: 100, Lat: zoneMXPoint.Lat, Lon: zoneMXPoint.Lon}}
	if _, err := f.UploadMission(ctx, "sysid-1", fleet.MissionTypeFence, fence, fleet.UploadOptions{}); err != nil {
		t.Errorf("fence plan: %v", err)
	}
}
