package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protojson"
	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/fleet/qgcplan"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// "ctl mission upload DRONE FILE.plan" reads QGroundControl plans.
func init() {
	planLoaders[".plan"] = func(data []byte) ([]*pb.MissionItem, error) {
		p, err := qgcplan.Decode(data)
		if err != nil {
			return nil, fleet.Errorf(fleet.Invalid, "not a QGroundControl .plan: %s", fleet.ErrorMessage(err))
		}
		items, err := p.MissionItems()
		if err != nil {
			return nil, fleet.Errorf(fleet.Invalid, "QGroundControl .plan: %s", fleet.ErrorMessage(err))
		}
		out := make([]*pb.MissionItem, len(items))
		for i, it := range items {
			out[i] = &pb.MissionItem{Seq: uint32(it.Seq), Frame: uint32(it.Frame), Command: uint32(it.Command), Current: it.Current,
				Autocontinue: it.Autocontinue, Param1: it.Param1, Param2: it.Param2, Param3: it.Param3, Param4: it.Param4,
				LatDeg: it.Lat, LonDeg: it.Lon, AltM: it.Alt}
		}
		return out, nil
	}
}

// patrolFlags are the planning flags of "ctl patrol plan" and "dispatch".
type patrolFlags struct {
	kind, area, line, agency, to, side string
	homes                              stringList
	alt, speed, swath, margin, offset  float64
	laps                               int
	clockwise, back                    bool
	endurance                          time.Duration
	// dispatch only
	resolveAlt bool
	maxDelay   time.Duration
}

func (f *patrolFlags) register(fs *flag.FlagSet, dispatch bool) {
	fs.StringVar(&f.kind, "kind", "perimeter", "patrol `kind`: perimeter, coverage, corridor, transit")
	fs.StringVar(&f.area, "area", "", "GeoJSON `file` with the area (perimeter, coverage; clips a corridor)")
	fs.StringVar(&f.line, "line", "", "GeoJSON `file` with the corridor's line")
	fs.StringVar(&f.agency, "agency", "", "agency whose allowed space bounds the route (default: the drones')")
	fs.StringVar(&f.to, "to", "", "transit destination `LAT,LON`")
	fs.StringVar(&f.side, "side", "", "corridor side: left or right (default: the drone's own)")
	fs.Float64Var(&f.alt, "alt", 0, "altitude above home, metres (default 60)")
	fs.Float64Var(&f.speed, "speed", 0, "patrol speed, m/s (default the drone's profile, or 10)")
	fs.Float64Var(&f.swath, "swath", 0, "coverage swath, metres (default 50)")
	fs.Float64Var(&f.margin, "margin", 0, "safety margin to walls and no-fly zones, metres (default 30)")
	fs.Float64Var(&f.offset, "offset", 0, "corridor offset from its line, metres (default 150)")
	fs.IntVar(&f.laps, "laps", 0, "perimeter laps, corridor out-and-backs (default 1)")
	fs.BoolVar(&f.clockwise, "clockwise", false, "fly a perimeter clockwise")
	fs.BoolVar(&f.back, "back", false, "end a coverage near its start")
	fs.DurationVar(&f.endurance, "endurance", 0, "flight time of a full battery (default the profile's, or 25m)")
	if dispatch {
		fs.BoolVar(&f.resolveAlt, "resolve-alt", false, "on a conflict, fly another altitude layer inside the zones' bands")
		fs.DurationVar(&f.maxDelay, "max-delay", 0, "on a conflict, start up to this much later")
	} else {
		fs.Var(&f.homes, "home", "plan ahead for a drone at `LAT,LON` (repeatable; instead of DRONE)")
	}
}

// spec builds the request's spec, or a usage error.
func (f *patrolFlags) spec(c *ctlConfig, drones []string) (*pb.PatrolSpec, error) {
	kinds := map[string]pb.PatrolKind{"perimeter": pb.PatrolKind_PATROL_KIND_PERIMETER, "coverage": pb.PatrolKind_PATROL_KIND_COVERAGE,
		"corridor": pb.PatrolKind_PATROL_KIND_CORRIDOR, "transit": pb.PatrolKind_PATROL_KIND_TRANSIT}
	k, ok := kinds[f.kind]
	if !ok {
		return nil, c.usage(c.t("ctl.patrol.bad_kind", "kind", strconv.Quote(f.kind)))
	}
	s := &pb.PatrolSpec{Kind: k, Agency: f.agency, DroneIds: drones, AltM: f.alt, SpeedMS: f.speed, SwathM: f.swath,
		MarginM: f.margin, OffsetM: f.offset, Side: f.side, Laps: uint32(max(f.laps, 0)), Clockwise: f.clockwise, ReturnNearStart: f.back}
	if f.endurance > 0 {
		s.Endurance = durationpb.New(f.endurance)
	}
	for i, h := range f.homes {
		ll, err := parseLatLon(h)
		if err != nil {
			return nil, c.usage("--home: " + err.Error())
		}
		s.Drones = append(s.Drones, &pb.PlanDrone{Id: "drone-" + strconv.Itoa(i+1), Home: &pb.LatLon{LatDeg: ll.Lat, LonDeg: ll.Lon}})
	}
	if f.area != "" {
		poly, err := readGeometry[orb.Polygon](f.area)
		if err != nil {
			return nil, fmt.Errorf("--area %s: %w", f.area, err)
		}
		s.Area = &pb.ZonePolygon{}
		for _, ring := range poly {
			r := &pb.Ring{}
			for _, p := range ring {
				r.Points = append(r.Points, &pb.LatLon{LatDeg: p.Lat(), LonDeg: p.Lon()})
			}
			s.Area.Rings = append(s.Area.Rings, r)
		}
	}
	if f.line != "" {
		ls, err := readGeometry[orb.LineString](f.line)
		if err != nil {
			return nil, fmt.Errorf("--line %s: %w", f.line, err)
		}
		for _, p := range ls {
			s.Line = append(s.Line, &pb.LatLon{LatDeg: p.Lat(), LonDeg: p.Lon()})
		}
	}
	if f.to != "" {
		ll, err := parseLatLon(f.to)
		if err != nil {
			return nil, c.usage("--to: " + err.Error())
		}
		s.To = &pb.LatLon{LatDeg: ll.Lat, LonDeg: ll.Lon}
	}
	return s, nil
}

// printProto writes m as JSON (protojson, field names as in the .proto).
func (c *ctlConfig) printProto(m gproto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, string(b))
	return err
}

func ctlPatrolCommands() []ctlCommand {
	var pf patrolFlags
	var active bool
	splitDrones := func(s string) []string {
		var out []string
		for _, d := range strings.Split(s, ",") {
			if d = strings.TrimSpace(d); d != "" {
				out = append(out, d)
			}
		}
		return out
	}
	return []ctlCommand{
		{path: "patrol plan", args: "[DRONE[,DRONE…]]", help: "plan a patrol and preview it against the reserved ones (reserves nothing)", nargs: -1,
			flags: func(fs *flag.FlagSet) { pf.register(fs, false) },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				if len(a) > 1 {
					return c.usage(c.t("ctl.patrol.usage_drones"))
				}
				var drones []string
				if len(a) == 1 {
					drones = splitDrones(a[0])
				}
				spec, err := pf.spec(c, drones)
				if err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Patrol().PlanPatrol(ctx, &pb.PlanPatrolRequest{Spec: spec})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printProto(r)
				}
				for _, rt := range r.GetRoutes() {
					fmt.Fprintln(c.stdout, c.t("ctl.patrol.route", "drone", rt.GetDroneId(), "sortie", strconv.Itoa(int(rt.GetSortie())),
						"waypoints", strconv.Itoa(len(rt.GetWaypoints())), "distance_m", fnum(rt.GetDistanceM(), 0),
						"duration", rt.GetDuration().AsDuration().Round(time.Second).String(), "battery_pct", fnum(rt.GetBatteryPct(), 1)))
				}
				for _, ch := range r.GetChecks() {
					fmt.Fprintln(c.stdout, c.t("ctl.patrol.check", "name", ch.GetName(), "passed", strconv.FormatBool(ch.GetPassed()), "detail", i18n.PlanCheck(c.lang, ch.GetName(), ch.GetParams(), ch.GetDetail())))
				}
				if len(r.GetConflicts()) == 0 {
					fmt.Fprintln(c.stdout, c.t("ctl.patrol.no_conflict"))
				}
				for _, cf := range r.GetConflicts() {
					fmt.Fprintln(c.stdout, conflictLine(c, cf))
				}
				return nil
			}},
		{path: "patrol dispatch", args: "DRONE[,DRONE…]", help: "plan, reserve, upload and start a patrol", nargs: 1,
			flags: func(fs *flag.FlagSet) { pf.register(fs, true) },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				spec, err := pf.spec(c, splitDrones(a[0]))
				if err != nil {
					return err
				}
				req := &pb.DispatchPatrolRequest{Spec: spec, ResolveAltitude: pf.resolveAlt}
				if pf.maxDelay > 0 {
					req.MaxDelay = durationpb.New(pf.maxDelay)
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Patrol().Dispatch(ctx, req)
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printProto(r)
				}
				for _, p := range r.GetPatrols() {
					fmt.Fprintln(c.stdout, c.t("ctl.patrol.dispatched", "patrol_id", p.GetId(), "drone", p.GetDroneId(), "mission_id", p.GetMissionId(),
						"start", tsUTC(p.GetVolume().GetStart()), "end", tsUTC(p.GetVolume().GetEnd())))
					if p.GetResolved() != "" {
						fmt.Fprintln(c.stdout, c.t("ctl.patrol.resolved", "how", p.GetResolved(), "alt_m", fnum(firstAlt(p.GetRoute()), 0),
							"delay", p.GetDelay().AsDuration().Round(time.Second).String(), "patrol", p.GetResolves().GetPatrolId()))
					}
				}
				return nil
			}},
		{path: "patrol ls", help: "list patrols, newest first", nargs: 0,
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&active, "active", false, "only patrols holding a reservation") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Patrol().ListPatrols(ctx, &pb.ListPatrolsRequest{ActiveOnly: active})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printProto(r)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.id"), c.t("ctl.col.drone"), c.t("ctl.col.kind"), c.t("ctl.col.state"),
					c.t("ctl.col.alt"), c.t("ctl.col.from"), c.t("ctl.col.until"))
				for _, p := range r.GetPatrols() {
					state := enumName(p.GetState().String(), "PATROL_STATE_")
					kind := enumName(p.GetKind().String(), "PATROL_KIND_")
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.GetId(), p.GetDroneId(), kind, state, fnum(firstAlt(p.GetRoute()), 0),
						tsUTC(p.GetVolume().GetStart()), tsUTC(p.GetVolume().GetEnd()))
				}
				return tw.Flush()
			}},
		{path: "patrol cancel", args: "PATROL", help: "cancel a patrol: the drone returns home, its airspace is released", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Patrol().Cancel(ctx, &pb.CancelPatrolRequest{PatrolId: a[0]}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.patrol.cancelled", "patrol_id", a[0]))
				return nil
			}},
		{path: "patrol export", args: "PATROL", help: "print a patrol's mission as a QGroundControl .plan", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Patrol().ExportPlan(ctx, &pb.ExportPlanRequest{PatrolId: a[0]})
				if err != nil {
					return err
				}
				_, err = c.stdout.Write(r.GetPlan())
				return err
			}},
	}
}

func firstAlt(rt *pb.Route) float64 {
	if w := rt.GetWaypoints(); len(w) > 0 {
		return w[0].GetAltM()
	}
	return 0
}

func conflictLine(c *ctlConfig, cf *pb.VolumeConflict) string {
	return c.t("ctl.patrol.conflict", "patrol", cf.GetPatrolId(), "drone", cf.GetDroneId(),
		"lat", fnum(cf.GetAt().GetLatDeg(), 5), "lon", fnum(cf.GetAt().GetLonDeg(), 5),
		"floor_m", fnum(cf.GetFloorM(), 0), "ceiling_m", fnum(cf.GetCeilingM(), 0),
		"from", tsUTC(cf.GetFrom()), "until", tsUTC(cf.GetUntil()))
}
