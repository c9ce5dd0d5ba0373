package proto

import (
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// Conversions between the domain's types and the API's messages. Times go
// out in UTC; absent times and unknown (NaN) values go out absent.

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t.UTC())
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

func dur(d time.Duration) *durationpb.Duration {
	if d < 0 {
		return nil
	}
	return durationpb.New(d)
}

// opt returns a pointer to f, nil when f is NaN or infinite (unknown).
func opt(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func optInt(v, unknown int) *int32 {
	if v == unknown {
		return nil
	}
	i := int32(v)
	return &i
}

func capabilityNames(c uint64) []string {
	var out []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{
		{fleet.CapabilityMissionFloat, "mission_float"},
		{fleet.CapabilityParamFloat, "param_float"},
		{fleet.CapabilityMissionInt, "mission_int"},
		{fleet.CapabilityCommandInt, "command_int"},
		{fleet.CapabilitySetPositionTarget, "set_position_target_global_int"},
		{fleet.CapabilityMAVLink2, "mavlink2"},
		{fleet.CapabilityMissionFence, "mission_fence"},
		{fleet.CapabilityMissionRally, "mission_rally"},
	} {
		if c&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

func linkStateToPB(s fleet.LinkState) pb.LinkState {
	switch s {
	case fleet.LinkStateUp:
		return pb.LinkState_LINK_STATE_UP
	case fleet.LinkStateLost:
		return pb.LinkState_LINK_STATE_LOST
	}
	return pb.LinkState_LINK_STATE_UNSPECIFIED
}

func droneToPB(d app.Drone) *pb.Drone {
	s := d.State
	out := &pb.Drone{
		Id: s.ID, Name: s.Name, Agency: s.Agency, SysId: uint32(s.SysID), Link: s.Link,
		LinkState: linkStateToPB(s.LinkState),
		LinkQuality: &pb.LinkQuality{RateHz: s.Quality.RateHz, LossPct: s.Quality.LossPct,
			Received: s.Quality.Received, Lost: s.Quality.Lost, ParseErrors: s.Quality.ParseErrors},
		VehicleType: uint32(s.VehicleType), Autopilot: uint32(s.Autopilot),
		Mode: s.Mode, Armed: s.Armed, SystemStatus: fleet.SystemStatusName(s.SystemStatus),
		LandedState: pb.LandedState(s.Landed),
		VelNMS:      s.VelN, VelEMS: s.VelE, VelDMS: s.VelD,
		GroundSpeedMS: s.GroundSpeed, ClimbMS: s.Climb, HeadingDeg: opt(s.Heading),
		RollRad: s.Roll, PitchRad: s.Pitch, YawRad: s.Yaw,
		Battery: &pb.Battery{VoltageV: opt(s.Battery.VoltageV), CurrentA: opt(s.Battery.CurrentA),
			RemainingPct: optInt(s.Battery.RemainingPct, -1), ConsumedMah: opt(s.Battery.ConsumedMAh)},
		Gps:          &pb.Gps{FixType: uint32(s.GPS.FixType), Satellites: optInt(s.GPS.Satellites, -1), Hdop: opt(s.GPS.HDOP)},
		OnboardFence: &pb.OnboardFence{Breached: s.Fence.Breached, Count: uint32(max(s.Fence.Count, 0))},
		Firmware: &pb.Firmware{Known: s.Version.Known, Version: s.Version.Firmware, CustomVersion: s.Version.CustomVersion,
			Capabilities: s.Version.Capabilities, CapabilityNames: capabilityNames(s.Version.Capabilities)},
		CanCommand:    d.CanCommand,
		Mission:       missionStatusToPB(s.Mission),
		Params:        uint32(max(s.Params, 0)),
		LastSeen:      ts(s.LastSeen),
		LastHeartbeat: ts(s.LastHeartbeat),
		Discovered:    ts(s.Discovered),
		PrearmKnown:   s.PrearmKnown,
		PrearmOk:      s.PrearmOK,
		LastRefusal:   s.LastRefusal,
	}
	if s.HasPosition {
		out.Position = &pb.Position{LatDeg: s.Position.Lat, LonDeg: s.Position.Lon, RelAltM: s.Position.RelAlt, AltMslM: opt(s.AltMSL)}
	}
	if s.HasHome {
		out.Home = &pb.Position{LatDeg: s.Home.Lat, LonDeg: s.Home.Lon, AltMslM: opt(s.Home.AltMSL)}
	}
	return out
}

func missionStatusToPB(m fleet.MissionStatus) *pb.MissionStatus {
	return &pb.MissionStatus{
		State: pb.MissionState(m.State), MissionId: m.MissionID, Items: uint32(max(m.Items, 0)),
		CurrentSeq: int32(m.CurrentSeq), Done: uint32(max(m.Done, 0)), Steps: uint32(max(m.Steps, 0)),
		DistanceM: m.Distance, FlownM: m.Flown, RemainingM: m.Remaining, Percent: m.Percent,
		Eta: dur(m.ETA), Looping: m.Looping, Laps: uint32(max(m.Laps, 0)), PausedSeq: int32(m.PausedSeq),
		InterruptReason: string(m.Reason),
	}
}

func eventToPB(e app.EventRecord) *pb.Event {
	return &pb.Event{Kind: e.Kind, Severity: pb.Severity(e.Severity), At: ts(e.At), DroneId: e.DroneID,
		Agency: e.Agency, Params: e.Params, Seq: e.Seq}
}

func missedEvent(n uint64) *pb.Event {
	return &pb.Event{Kind: app.KindMissed, Severity: pb.Severity_SEVERITY_WARNING,
		Params: map[string]string{"n": strconv.FormatUint(n, 10)}}
}

func missionItemToPB(it fleet.MissionItem) *pb.MissionItem {
	return &pb.MissionItem{Seq: uint32(max(it.Seq, 0)), Frame: uint32(it.Frame), Command: uint32(it.Command),
		Current: it.Current, Autocontinue: it.Autocontinue, Param1: it.Param1, Param2: it.Param2,
		Param3: it.Param3, Param4: it.Param4, LatDeg: it.Lat, LonDeg: it.Lon, AltM: it.Alt}
}

func missionItemsToPB(items []fleet.MissionItem) []*pb.MissionItem {
	out := make([]*pb.MissionItem, len(items))
	for i, it := range items {
		out[i] = missionItemToPB(it)
	}
	return out
}

// missionItemsFromPB converts items; values that do not fit the domain's
// types are left for the application layer's checks to name (frames and
// commands are clamped to an impossible value rather than wrapped).
func missionItemsFromPB(items []*pb.MissionItem) []fleet.MissionItem {
	out := make([]fleet.MissionItem, len(items))
	for i, it := range items {
		frame := it.GetFrame()
		if frame > 255 {
			frame = 255
		}
		cmd := it.GetCommand()
		if cmd > 65535 {
			cmd = 65535
		}
		out[i] = fleet.MissionItem{Seq: int(it.GetSeq()), Frame: fleet.Frame(frame), Command: fleet.MissionCommand(cmd),
			Current: it.GetCurrent(), Autocontinue: it.GetAutocontinue(), Param1: it.GetParam1(), Param2: it.GetParam2(),
			Param3: it.GetParam3(), Param4: it.GetParam4(), Lat: it.GetLatDeg(), Lon: it.GetLonDeg(), Alt: it.GetAltM()}
	}
	return out
}

func planType(t pb.PlanType) (fleet.MissionType, error) {
	switch t {
	case pb.PlanType_PLAN_TYPE_MISSION:
		return fleet.MissionTypeMission, nil
	case pb.PlanType_PLAN_TYPE_FENCE:
		return fleet.MissionTypeFence, nil
	case pb.PlanType_PLAN_TYPE_RALLY:
		return fleet.MissionTypeRally, nil
	}
	return 0, fleet.Errorf(fleet.Invalid, "type: unknown plan type %d", t)
}

func paramToPB(p fleet.Param) *pb.ParamValue {
	return &pb.ParamValue{Name: p.Name, Value: p.Value, Type: uint32(p.Type), Index: int32(p.Index)}
}

// Geofence.

func latLonToPB(p orb.Point) *pb.LatLon { return &pb.LatLon{LatDeg: p.Lat(), LonDeg: p.Lon()} }

func zoneToPB(z geofence.Zone) *pb.Zone {
	out := &pb.Zone{Id: z.ID, Name: z.Name, Kind: string(z.Kind), Jurisdiction: string(z.Jurisdiction),
		FloorM: z.FloorM, CeilingM: z.CeilingM, AltRef: string(z.Ref()), ValidFrom: ts(z.ValidFrom),
		ValidUntil: ts(z.ValidUntil), Reason: z.Reason, Source: z.Source}
	if z.IsCircle() {
		out.Shape = &pb.Zone_Circle{Circle: &pb.ZoneCircle{Center: latLonToPB(z.Center), RadiusM: z.RadiusM}}
	} else {
		poly := &pb.ZonePolygon{}
		for _, ring := range z.Polygon {
			r := &pb.Ring{Points: make([]*pb.LatLon, len(ring))}
			for i, p := range ring {
				r.Points[i] = latLonToPB(p)
			}
			poly.Rings = append(poly.Rings, r)
		}
		out.Shape = &pb.Zone_Polygon{Polygon: poly}
	}
	return out
}

// zoneFromPB converts a zone; the application layer validates it.
func zoneFromPB(z *pb.Zone) (geofence.Zone, error) {
	if z == nil {
		return geofence.Zone{}, fleet.Errorf(fleet.Invalid, "zone: required")
	}
	out := geofence.Zone{ID: z.GetId(), Name: z.GetName(), Kind: geofence.Kind(z.GetKind()),
		Jurisdiction: geofence.Jurisdiction(z.GetJurisdiction()), FloorM: z.GetFloorM(), CeilingM: z.GetCeilingM(),
		AltRef: geofence.AltRef(z.GetAltRef()), ValidFrom: fromTS(z.GetValidFrom()), ValidUntil: fromTS(z.GetValidUntil()),
		Reason: z.GetReason(), Source: z.GetSource()}
	switch sh := z.GetShape().(type) {
	case *pb.Zone_Circle:
		c := sh.Circle.GetCenter()
		if c == nil {
			return geofence.Zone{}, fleet.Errorf(fleet.Invalid, "zone.circle.center: required")
		}
		out.Center = orb.Point{c.GetLonDeg(), c.GetLatDeg()}
		out.RadiusM = sh.Circle.GetRadiusM()
	case *pb.Zone_Polygon:
		if len(sh.Polygon.GetRings()) == 0 {
			return geofence.Zone{}, fleet.Errorf(fleet.Invalid, "zone.polygon: no rings")
		}
		for _, r := range sh.Polygon.GetRings() {
			ring := make(orb.Ring, len(r.GetPoints()))
			for i, p := range r.GetPoints() {
				ring[i] = orb.Point{p.GetLonDeg(), p.GetLatDeg()}
			}
			if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
				ring = append(ring, ring[0])
			}
			out.Polygon = append(out.Polygon, ring)
		}
	default:
		return geofence.Zone{}, fleet.Errorf(fleet.Invalid, "zone.shape: want a polygon or a circle")
	}
	return out, nil
}

func agencyToPB(a geofence.Agency) *pb.Agency {
	out := &pb.Agency{Id: a.ID, Name: a.Name}
	for _, j := range a.Jurisdictions {
		out.Jurisdictions = append(out.Jurisdictions, string(j))
	}
	return out
}

func agencyFromPB(a *pb.Agency) (geofence.Agency, error) {
	if a == nil {
		return geofence.Agency{}, fleet.Errorf(fleet.Invalid, "agency: required")
	}
	out := geofence.Agency{ID: a.GetId(), Name: a.GetName()}
	for _, j := range a.GetJurisdictions() {
		out.Jurisdictions = append(out.Jurisdictions, geofence.Jurisdiction(j))
	}
	return out, nil
}

func geoPositionFromPB(field string, p *pb.Position) (geofence.Position, error) {
	if p == nil {
		return geofence.Position{}, fleet.Errorf(fleet.Invalid, "%s: required", field)
	}
	alt := math.NaN()
	if p.AltMslM != nil {
		alt = p.GetAltMslM()
	}
	return geofence.Position{Lat: p.GetLatDeg(), Lon: p.GetLonDeg(), RelAlt: p.GetRelAltM(), AltMSL: alt}, nil
}

func geoPositionToPB(p geofence.Position) *pb.Position {
	return &pb.Position{LatDeg: p.Lat, LonDeg: p.Lon, RelAltM: p.RelAlt, AltMslM: opt(p.AltMSL)}
}

func violationToPB(v *geofence.Violation) *pb.Violation {
	if v == nil {
		return nil
	}
	return &pb.Violation{Reason: string(v.Reason), ZoneId: v.ZoneID, ZoneName: v.ZoneName,
		Jurisdiction: string(v.Jurisdiction), Leg: uint32(max(v.Leg, 0)), Fraction: v.Fraction,
		At: geoPositionToPB(v.At), Description: v.String()}
}

// Admin.

func roleToPB(r app.Role) pb.Role {
	switch r {
	case app.RoleSupervisor:
		return pb.Role_ROLE_SUPERVISOR
	case app.RoleOperator:
		return pb.Role_ROLE_OPERATOR
	case app.RoleAdmin:
		return pb.Role_ROLE_ADMIN
	}
	return pb.Role_ROLE_UNSPECIFIED
}

func roleFromPB(r pb.Role) app.Role {
	switch r {
	case pb.Role_ROLE_SUPERVISOR:
		return app.RoleSupervisor
	case pb.Role_ROLE_OPERATOR:
		return app.RoleOperator
	case pb.Role_ROLE_ADMIN:
		return app.RoleAdmin
	}
	return ""
}

func tokenToPB(t app.Token) *pb.Token {
	return &pb.Token{Id: t.ID, Label: t.Label, Role: roleToPB(t.Role), Agency: t.Agency,
		Created: ts(t.Created), CreatedBy: t.CreatedBy, Revoked: ts(t.Revoked)}
}

func grantToPB(g app.Grant, now time.Time) *pb.Grant {
	return &pb.Grant{Id: g.ID, FromAgency: g.From, ToAgency: g.To, DroneIds: g.Drones, Until: ts(g.Until),
		Created: ts(g.Created), CreatedBy: g.CreatedBy, Revoked: ts(g.Revoked), Active: g.Active(now)}
}

func auditToPB(e app.AuditEntry) *pb.AuditEntry {
	return &pb.AuditEntry{Seq: e.Seq, At: ts(e.At), TokenId: e.TokenID, Label: e.Label, Role: roleToPB(e.Role),
		Agency: e.Agency, Action: e.Action, DroneId: e.DroneID, DroneAgency: e.DroneAgency, Summary: e.Summary,
		Code: string(e.Code), Message: e.Message}
}

func droneConfigToPB(c app.DroneConfig) *pb.DroneConfig {
	return &pb.DroneConfig{DroneId: c.ID, SysId: uint32(c.SysID), Name: c.Name, Agency: c.Agency,
		Profile: &pb.Profile{CruiseSpeedMS: c.Profile.CruiseSpeedMS, Endurance: dur(c.Profile.Endurance), ReservePct: c.Profile.ReservePct},
		Updated: ts(c.Updated)}
}

func trackPointToPB(p app.TrackPoint) *pb.TrackPoint {
	return &pb.TrackPoint{At: ts(p.At), Position: &pb.Position{LatDeg: p.Lat, LonDeg: p.Lon, RelAltM: p.RelAlt, AltMslM: opt(p.AltMSL)},
		VelNMS: p.VelN, VelEMS: p.VelE, VelDMS: p.VelD, GroundSpeedMS: p.GroundSpeed, HeadingDeg: opt(p.Heading),
		BatteryPct: optInt(p.BatteryPct, -1), Mode: p.Mode, Armed: p.Armed, LinkUp: p.LinkUp}
}
