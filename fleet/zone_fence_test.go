package fleet_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/geofence"
)

// TestFenceItems converts the fence of the SITL recording
// d-fence-breach-rtl (a pentagon inclusion and a 20 m exclusion circle, see
// the recordings' README) plus an exclusion polygon and an inclusion circle.
func TestFenceItems(t *testing.T) {
	pentagon := []geofence.LatLon{
		{Lat: -35.36210, Lon: 149.16523}, {Lat: -35.36290, Lon: 149.16655}, {Lat: -35.36420, Lon: 149.16605},
		{Lat: -35.36420, Lon: 149.16441}, {Lat: -35.36290, Lon: 149.16391},
	}
	triangle := []geofence.LatLon{{Lat: -35.3630, Lon: 149.1650}, {Lat: -35.3631, Lon: 149.1652}, {Lat: -35.3632, Lon: 149.1650}}
	plan := geofence.FencePlan{Shapes: []geofence.FenceShape{
		{Kind: geofence.Inclusion, Polygon: pentagon, ZoneID: "p"},
		{Kind: geofence.Exclusion, Center: geofence.LatLon{Lat: -35.36259, Lon: 149.16523}, RadiusM: 20, ZoneID: "c"},
		{Kind: geofence.Exclusion, Polygon: triangle, ZoneID: "t"},
		{Kind: geofence.Inclusion, Center: geofence.LatLon{Lat: -35.3633, Lon: 149.1652}, RadiusM: 500, ZoneID: "big"},
	}, AltMaxM: 100}
	items := fleet.FenceItems(plan)
	if len(items) != 10 || len(items) != plan.Items() {
		t.Fatalf("%d items, want 10 (plan says %d)", len(items), plan.Items())
	}
	type want struct {
		cmd      fleet.MissionCommand
		p1       float64
		lat, lon float64
	}
	var wants []want
	for _, p := range pentagon {
		wants = append(wants, want{fleet.CmdNavFencePolygonInclusion, 5, p.Lat, p.Lon})
	}
	wants = append(wants, want{fleet.CmdNavFenceCircleExclusion, 20, -35.36259, 149.16523})
	for _, p := range triangle {
		wants = append(wants, want{fleet.CmdNavFencePolygonExclusion, 3, p.Lat, p.Lon})
	}
	wants = append(wants, want{fleet.CmdNavFenceCircleInclusion, 500, -35.3633, 149.1652})
	for i, it := range items {
		w := wants[i]
		if it.Seq != i || it.Frame != fleet.FrameGlobal || it.Command != w.cmd || it.Param1 != w.p1 ||
			it.Lat != w.lat || it.Lon != w.lon || it.Alt != 0 || it.Param2 != 0 || it.Autocontinue {
			t.Errorf("item %d = %+v, want %+v in frame GLOBAL", i, it, w)
		}
	}
	if got := fleet.FenceItems(geofence.FencePlan{}); len(got) != 0 {
		t.Errorf("empty plan gave %d items", len(got))
	}
}

// zoneCallLog records the order of a fake vehicle's calls.
type zoneCallLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *zoneCallLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *zoneCallLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// zoneFenceVehicle is a fake vehicle that logs fence uploads, parameter sets
// and fence-enable commands.
func zoneFenceVehicle(sysID uint8, log *zoneCallLog, uploaded *[]fleet.MissionItem) *ft.Vehicle {
	v := ft.NewVehicle("fence", sysID)
	v.UploadMissionFn = func(_ context.Context, mt fleet.MissionType, items []fleet.MissionItem, _ func(int, int)) error {
		log.add("upload " + mt.String())
		*uploaded = append([]fleet.MissionItem(nil), items...)
		return nil
	}
	v.SetParamFn = func(_ context.Context, name string, value float64) (fleet.Param, error) {
		log.add("param " + name)
		return fleet.Param{Name: name, Value: value, Type: fleet.ParamReal32, Index: -1}, nil
	}
	v.CommandFn = func(_ context.Context, c fleet.Command) error {
		if c.Kind == fleet.CommandFenceEnable {
			if !c.Enable {
				log.add("fence disable")
			} else {
				log.add("fence enable")
			}
		}
		return nil
	}
	return v
}

func TestUploadGeofence(t *testing.T) {
	zones := mustZoneStore(t)
	f, _ := zoneFleet(t, func(f *fleet.Fleet) { f.Guard = fleet.NewZoneGuard(zones) })
	w := mustZoneWatch(t, f, zones)
	var log zoneCallLog
	var uploaded []fleet.MissionItem
	v := zoneFenceVehicle(zoneSysUS, &log, &uploaded)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))

	rep, err := w.UploadFence(context.Background(), "sysid-1", fleet.FenceOptions{SetType: true})
	if err != nil {
		t.Fatalf("UploadFence: %v", err)
	}
	want := []string{"upload fence", "param FENCE_ALT_MAX", "param FENCE_TYPE", "fence enable"}
	if got := log.get(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("vehicle calls %v, want %v", got, want)
	}
	if rep.DroneID != "sysid-1" || rep.Agency != zoneAgencyUS.ID || !rep.Enabled || rep.AltMaxM != 120 || rep.FenceType != 5 ||
		rep.Items != len(uploaded) || rep.Items != rep.Plan.Items() {
		t.Errorf("report %+v (uploaded %d items)", rep, len(uploaded))
	}

	// The US side of the corridor as the inclusion polygon, then airport
	// circles, in the shape ArduCopter accepts.
	shapes := rep.Plan.Shapes
	if len(shapes) < 2 || shapes[0].ZoneID != "us-sandiego-tijuana" || shapes[0].Kind != geofence.Inclusion || shapes[0].IsCircle() {
		t.Fatalf("plan shapes %+v, want us-sandiego-tijuana polygon first", shapes)
	}
	n := len(shapes[0].Polygon)
	for i := range n {
		if it := uploaded[i]; it.Command != fleet.CmdNavFencePolygonInclusion || it.Param1 != float64(n) || it.Frame != fleet.FrameGlobal {
			t.Errorf("item %d = %+v, want a polygon inclusion vertex of %d", i, it, n)
		}
	}
	tij := -1
	for i, it := range uploaded[n:] {
		if it.Command == fleet.CmdNavFenceCircleExclusion && it.Param1 == 5000 &&
			math.Abs(it.Lat-32.541043) < 1e-6 && math.Abs(it.Lon+116.969976) < 1e-6 {
			tij = n + i
		}
		if it.Command != fleet.CmdNavFenceCircleExclusion {
			t.Errorf("item %d = %+v, want exclusion circles after the polygon", n+i, it)
		}
	}
	if tij < 0 {
		t.Errorf("no exclusion circle for TIJ (apt-mmtj) in %+v", uploaded[n:])
	}
	if len(rep.Notes) < len(rep.Plan.Notes) {
		t.Errorf("report notes %v drop the plan's %v", rep.Notes, rep.Plan.Notes)
	}
	var sawAlt bool
	for _, nt := range rep.Notes {
		sawAlt = sawAlt || strings.Contains(nt.Message, "reboot")
	}
	if !sawAlt {
		t.Errorf("notes %v do not say the fence lasts until reboot", rep.Notes)
	}
}

func TestUploadGeofenceRefusals(t *testing.T) {
	zones := mustZoneStore(t)
	ctx := context.Background()

	t.Run("no position", func(t *testing.T) {
		f, _ := zoneFleet(t)
		var log zoneCallLog
		var up []fleet.MissionItem
		v := zoneFenceVehicle(zoneSysUS, &log, &up)
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
		ft.Feed(f, v, ft.NoFix(time.Second))
		_, err := f.UploadGeofence(ctx, "sysid-1", zones, fleet.FenceOptions{})
		if fleet.ErrorCode(err) != fleet.Conflict || len(log.get()) != 0 {
			t.Errorf("UploadGeofence = %v, calls %v; want Conflict and no call", err, log.get())
		}
	})
	t.Run("unknown agency", func(t *testing.T) {
		f, _ := zoneFleet(t)
		var log zoneCallLog
		var up []fleet.MissionItem
		v := zoneFenceVehicle(zoneSysNoAgent, &log, &up)
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
		ft.Feed(f, v, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
		_, err := f.UploadGeofence(ctx, "sysid-4", zones, fleet.FenceOptions{})
		if fleet.ErrorCode(err) != fleet.Conflict || !strings.Contains(err.Error(), "unassigned") || len(log.get()) != 0 {
			t.Errorf("UploadGeofence = %v, calls %v; want Conflict naming the agency", err, log.get())
		}
	})
	t.Run("nothing near", func(t *testing.T) {
		f, _ := zoneFleet(t)
		var log zoneCallLog
		var up []fleet.MissionItem
		v := zoneFenceVehicle(zoneSysUS, &log, &up)
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
		ft.Feed(f, v, ft.Position(time.Second, 40.0, -100.0, 0)) // Kansas
		rep, err := f.UploadGeofence(ctx, "sysid-1", zones, fleet.FenceOptions{RadiusM: 5000})
		if fleet.ErrorCode(err) != fleet.Conflict || rep.Items != 0 || len(log.get()) != 0 {
			t.Errorf("UploadGeofence = %v, report %+v, calls %v", err, rep, log.get())
		}
	})
	t.Run("upload refused", func(t *testing.T) {
		f, _ := zoneFleet(t)
		var log zoneCallLog
		var up []fleet.MissionItem
		v := zoneFenceVehicle(zoneSysUS, &log, &up)
		v.UploadMissionFn = func(context.Context, fleet.MissionType, []fleet.MissionItem, func(int, int)) error {
			return &fleet.Error{Code: fleet.Denied, Message: "fence upload refused", Reason: "MAV_MISSION_NO_SPACE"}
		}
		discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
		ft.Feed(f, v, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
		rep, err := f.UploadGeofence(ctx, "sysid-1", zones, fleet.FenceOptions{})
		if fleet.ErrorCode(err) != fleet.Denied || rep.Enabled || len(log.get()) != 0 {
			t.Errorf("UploadGeofence = %v, report %+v, calls %v; want Denied, nothing enabled", err, rep, log.get())
		}
	})
	t.Run("PX4 without fence enable", func(t *testing.T) {
		f, _ := zoneFleet(t)
		var log zoneCallLog
		var up []fleet.MissionItem
		v := zoneFenceVehicle(zoneSysUS, &log, &up)
		v.CommandFn = func(_ context.Context, c fleet.Command) error {
			if c.Kind == fleet.CommandFenceEnable {
				return fleet.Errorf(fleet.Unsupported, "no")
			}
			return nil
		}
		discover(t, f, v, ft.PX4(4, 3, false, ft.StatusStandby))
		ft.Feed(f, v, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
		rep, err := f.UploadGeofence(ctx, "sysid-1", zones, fleet.FenceOptions{SetType: true})
		if err != nil {
			t.Fatalf("UploadGeofence: %v", err)
		}
		if got := log.get(); len(got) != 1 || got[0] != "upload fence" || rep.Enabled || !math.IsNaN(rep.AltMaxM) || rep.FenceType != -1 {
			t.Errorf("calls %v, report %+v; want the upload only", got, rep)
		}
		var said bool
		for _, n := range rep.Notes {
			said = said || strings.Contains(n.Message, "DO_FENCE_ENABLE")
		}
		if !said {
			t.Errorf("notes %v do not report the missing fence enable", rep.Notes)
		}
	})
}

func TestEnableFence(t *testing.T) {
	f, _ := zoneFleet(t)
	var log zoneCallLog
	var up []fleet.MissionItem
	v := zoneFenceVehicle(zoneSysUS, &log, &up)
	discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	ctx := context.Background()
	if err := f.EnableFence(ctx, "sysid-1", true); err != nil {
		t.Fatal(err)
	}
	if err := f.EnableFence(ctx, "sysid-1", false); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); strings.Join(got, ",") != "fence enable,fence disable" {
		t.Errorf("calls %v", got)
	}
	if err := f.EnableFence(ctx, "nobody", true); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("unknown drone: %v", err)
	}
}

// With FENCE_OPTIONS' union bit (2) the vehicle holds every inclusion zone
// the drone may fly in; without it (or without the parameter) only the one
// it is in, since ArduPilot then requires being inside every inclusion.
func TestUploadGeofenceFenceOptionsUnion(t *testing.T) {
	count := func(rep fleet.FenceReport) int {
		n := 0
		for _, s := range rep.Plan.Shapes {
			if s.Kind == geofence.Inclusion {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name    string
		options float64 // -1: the vehicle has no FENCE_OPTIONS
		union   bool
	}{
		{"no parameter", -1, false},
		{"FENCE_OPTIONS 0", 0, false},
		{"FENCE_OPTIONS 2", 2, true},
		{"FENCE_OPTIONS 3", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zones := mustZoneStore(t)
			f, _ := zoneFleet(t)
			var log zoneCallLog
			var uploaded []fleet.MissionItem
			v := zoneFenceVehicle(zoneSysJoint, &log, &uploaded)
			v.ReadParamFn = func(_ context.Context, name string) (fleet.Param, error) {
				if name != "FENCE_OPTIONS" || tc.options < 0 {
					return fleet.Param{}, fleet.Errorf(fleet.NotFound, "no parameter %s", name)
				}
				return fleet.Param{Name: name, Value: tc.options, Type: fleet.ParamInt16, Index: -1}, nil
			}
			discover(t, f, v, ft.Copter(ft.Guided, false, ft.StatusStandby))
			ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneHome.Lat, zoneHome.Lon, 0))
			rep, err := f.UploadGeofence(context.Background(), "sysid-2", zones, fleet.FenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.UnionInclusions != tc.union {
				t.Errorf("UnionInclusions %v, want %v", rep.UnionInclusions, tc.union)
			}
			if n := count(rep); (n > 1) != tc.union {
				t.Errorf("%d inclusion zones sent, union %v", n, tc.union)
			}
		})
	}
}
