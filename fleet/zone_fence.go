package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/centinela-gcs/centinela/geofence"
)

// DefaultFenceRadiusM is how far around a drone UploadGeofence looks for
// zones by default: 20 km, a sister-city corridor and its airports.
const DefaultFenceRadiusM = 20_000.0

// ArduPilot fence parameters (FENCE_TYPE bits: 1 maximum altitude, 2 circle
// around home of FENCE_RADIUS, 4 polygons and circles uploaded, 8 minimum
// altitude).
const (
	paramFenceAltMax  = "FENCE_ALT_MAX"
	paramFenceType    = "FENCE_TYPE"
	paramFenceEnable  = "FENCE_ENABLE"
	paramFenceOptions = "FENCE_OPTIONS"
	fenceTypeAltMax   = 1
	fenceTypePolygons = 4
	// fenceOptionUnion is FENCE_OPTIONS bit 1 (value 2): the vehicle
	// treats inclusion areas as a union, not an intersection.
	fenceOptionUnion = 2
)

// FenceOptions tune UploadGeofence. The zero value is the default.
type FenceOptions struct {
	// RadiusM: zones within this distance of the drone are sent (optional,
	// default DefaultFenceRadiusM).
	RadiusM float64
	// Limits bound the fences to what the vehicle holds (optional;
	// geofence's defaults: 64 vertices a polygon, 100 items). For ArduPilot,
	// Limits.UnionInclusions is what the vehicle's FENCE_OPTIONS says.
	Limits geofence.FenceLimits
	// SkipAltMax leaves FENCE_ALT_MAX as the vehicle has it. By default it
	// is set to the plan's AltMaxM (ArduPilot only).
	SkipAltMax bool
	// SetType sets FENCE_TYPE to the uploaded polygons and circles (4) plus
	// the altitude fence (1) when FENCE_ALT_MAX is set, which turns off
	// ArduPilot's own circle of FENCE_RADIUS around home (ArduPilot only).
	SetType bool
	// Persist also sets FENCE_ENABLE to 1, so that the fence survives a
	// reboot; MAV_CMD_DO_FENCE_ENABLE enables it until the next one only
	// (ArduPilot only).
	Persist bool
	// LeaveDisabled uploads the fences without enabling them.
	LeaveDisabled bool
	// Progress, if not nil, is called with the items sent so far.
	Progress func(done, total int)
}

// FenceReport says what UploadGeofence did and what the fences do not
// express.
type FenceReport struct {
	DroneID, Agency string
	// Center is the position the fences were chosen around: the drone's
	// position, or its home.
	Center Position
	// Plan is the geofence plan converted (shapes, AltMaxM, notes).
	Plan geofence.FencePlan
	// Items is the number of fence items uploaded (0 if none were).
	Items int
	// AltMaxM is the FENCE_ALT_MAX set, NaN when none was.
	AltMaxM float64
	// FenceType is the FENCE_TYPE set, -1 when it was not set.
	FenceType int
	// Enabled reports whether the fence was enabled.
	Enabled bool
	// UnionInclusions reports whether every inclusion zone near the drone
	// was sent (the vehicle treats them as a union: ArduPilot FENCE_OPTIONS
	// bit 1), not only the one it is in.
	UnionInclusions bool
	// Notes lists what the vehicle's fences do not express: the plan's
	// notes, then the fleet's own (zone "" for the plan as a whole).
	Notes []geofence.FenceNote
}

// FenceItems converts a fence plan into MAVLink fence items (mission type
// FENCE, frame GLOBAL, numbered from 0): one
// NAV_FENCE_POLYGON_VERTEX_INCLUSION/EXCLUSION item per polygon vertex with
// Param1 the polygon's vertex count, one
// NAV_FENCE_CIRCLE_INCLUSION/EXCLUSION item per circle with Param1 its
// radius in metres, as ArduPilot accepts them.
func FenceItems(plan geofence.FencePlan) []MissionItem {
	items := make([]MissionItem, 0, plan.Items())
	add := func(cmd MissionCommand, p1, lat, lon float64) {
		items = append(items, MissionItem{Seq: len(items), Frame: FrameGlobal, Command: cmd, Current: len(items) == 0,
			Param1: p1, Lat: lat, Lon: lon})
	}
	for _, s := range plan.Shapes {
		incl := s.Kind == geofence.Inclusion
		if s.IsCircle() {
			cmd := CmdNavFenceCircleExclusion
			if incl {
				cmd = CmdNavFenceCircleInclusion
			}
			add(cmd, s.RadiusM, s.Center.Lat, s.Center.Lon)
			continue
		}
		cmd := CmdNavFencePolygonExclusion
		if incl {
			cmd = CmdNavFencePolygonInclusion
		}
		for _, p := range s.Polygon {
			add(cmd, float64(len(s.Polygon)), p.Lat, p.Lon)
		}
	}
	return items
}

// EnableFence enables or disables drone id's on-board fence
// (MAV_CMD_DO_FENCE_ENABLE; on ArduPilot until the next reboot). Returns
// NotFound, NoDrone, and the vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) EnableFence(ctx context.Context, id string, enable bool) error {
	d, v, _, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	op := "fence_disable"
	if enable {
		op = "fence_enable"
	}
	return f.finish(d, op, f.send(ctx, v, Command{Kind: CommandFenceEnable, Enable: enable}))
}

// UploadGeofence puts drone id's allowed space on the vehicle, so that it
// holds even with the server's link cut: it asks zones for the fences of
// the drone's agency within opts.RadiusM of the drone (or its home), as of
// the Store's clock, converts them (FenceItems), uploads them as the
// vehicle's FENCE plan, sets FENCE_ALT_MAX to the plan's AltMaxM (and
// optionally FENCE_TYPE, FENCE_ENABLE), and enables the fence. The report
// lists what the fences cannot express; it is returned, as far as the work
// went, with any error.
//
// Returns NotFound, NoDrone, Conflict when the drone has neither position
// nor home, its agency is unknown to zones, or there is no fence to send,
// Busy, and the vehicle's errors. A vehicle without DO_FENCE_ENABLE
// (Unsupported) is reported in the notes, not as an error.
func (f *Fleet) UploadGeofence(ctx context.Context, id string, zones *geofence.Store, opts FenceOptions) (FenceReport, error) {
	rep := FenceReport{DroneID: id, AltMaxM: math.NaN(), FenceType: -1}
	if zones == nil {
		return rep, errors.New("upload geofence: no zone store")
	}
	if opts.RadiusM < 0 || !finite(opts.RadiusM) {
		return rep, Errorf(Invalid, "fence radius %v m must be positive", opts.RadiusM)
	}
	radius := opts.RadiusM
	if radius == 0 {
		radius = DefaultFenceRadiusM
	}
	st, err := f.Drone(id)
	if err != nil {
		return rep, err
	}
	rep.Agency = st.Agency
	home, hasHome := homeAMSL(st)
	var near geofence.Position
	switch {
	case st.HasPosition:
		near, rep.Center = currentGeoPos(st), st.Position
	case st.HasHome && validFix(st.Home.Lat, st.Home.Lon):
		near, rep.Center = geoPos(st.Home.Lat, st.Home.Lon, 0, home, hasHome), Position{Lat: st.Home.Lat, Lon: st.Home.Lon}
	default:
		return rep, Errorf(Conflict, "drone %q has neither a position nor a home to choose its fences around", id)
	}
	note := func(format string, args ...any) {
		rep.Notes = append(rep.Notes, geofence.FenceNote{Message: fmt.Sprintf(format, args...)})
	}
	ardupilot := st.Autopilot == AutopilotArduPilot
	lim := opts.Limits
	if ardupilot {
		lim.UnionInclusions = f.fenceUnion(ctx, id)
		if opts.Limits.UnionInclusions && !lim.UnionInclusions {
			note("only the inclusion zone around the drone is sent: the vehicle's FENCE_OPTIONS does not make inclusion areas a union (bit value 2)")
		}
	}
	rep.UnionInclusions = lim.UnionInclusions
	plan, err := zones.Snapshot().Fences(st.Agency, near, radius, zones.Time(), lim)
	if err != nil {
		return rep, zoneQueryErr(err, st, "fence upload")
	}
	rep.Plan = plan
	rep.Notes = append(append([]geofence.FenceNote(nil), plan.Notes...), rep.Notes...)
	if len(plan.Shapes) == 0 {
		return rep, Errorf(Conflict, "no fence to send to drone %q: no zone of agency %q within %.0f m", id, st.Agency, radius)
	}
	items := FenceItems(plan)
	if _, err := f.UploadMission(ctx, id, MissionTypeFence, items, UploadOptions{Progress: opts.Progress}); err != nil {
		return rep, err
	}
	rep.Items = len(items)

	altMax := !opts.SkipAltMax && finite(plan.AltMaxM)
	switch {
	case altMax && ardupilot:
		p, err := f.SetParam(ctx, id, paramFenceAltMax, plan.AltMaxM)
		if err != nil {
			return rep, err
		}
		rep.AltMaxM = p.Value
	case altMax:
		note("altitude limit %.0f m not set: the fleet sets FENCE_ALT_MAX on ArduPilot only", plan.AltMaxM)
	}
	switch {
	case opts.SetType && ardupilot:
		typ := fenceTypePolygons
		if !math.IsNaN(rep.AltMaxM) {
			typ |= fenceTypeAltMax
		}
		if _, err := f.SetParam(ctx, id, paramFenceType, float64(typ)); err != nil {
			return rep, err
		}
		rep.FenceType = typ
	case ardupilot:
		note("FENCE_TYPE and FENCE_RADIUS stay as the vehicle has them (ArduPilot's default includes a circle of FENCE_RADIUS around home)")
	}
	if opts.LeaveDisabled {
		note("fence uploaded but not enabled")
		return rep, nil
	}
	if opts.Persist && ardupilot {
		if _, err := f.SetParam(ctx, id, paramFenceEnable, 1); err != nil {
			return rep, err
		}
	} else if ardupilot {
		note("fence enabled until the vehicle reboots (FENCE_ENABLE unchanged)")
	}
	err = f.EnableFence(ctx, id, true)
	switch {
	case err == nil:
		rep.Enabled = true
	case ErrorCode(err) == Unsupported:
		note("the vehicle does not support DO_FENCE_ENABLE: its own configuration decides whether the fence is active")
	default:
		return rep, err
	}
	return rep, nil
}

// fenceUnion reports whether ArduPilot drone id treats inclusion fences as
// a union: its FENCE_OPTIONS (ArduCopter 4.7 has it, INT16, default 0) has
// bit value 2. A vehicle without the parameter, or one that does not
// answer, intersects them, as older ArduPilot does.
func (f *Fleet) fenceUnion(ctx context.Context, id string) bool {
	p, err := f.Param(ctx, id, paramFenceOptions)
	if err != nil {
		return false
	}
	return int(p.Value)&fenceOptionUnion != 0
}

// UploadFence is UploadGeofence with the watch's fleet and zones.
func (w *ZoneWatch) UploadFence(ctx context.Context, id string, opts FenceOptions) (FenceReport, error) {
	return w.Fleet.UploadGeofence(ctx, id, w.Zones, opts)
}
