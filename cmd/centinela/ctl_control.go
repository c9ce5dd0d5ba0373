package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// simple returns a command that calls one unary RPC on a drone.
func simple(path, help string, call func(ctx context.Context, cl *proto.Client, id string) error) ctlCommand {
	return ctlCommand{path: path, args: "DRONE", help: help, nargs: 1,
		run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
			ctx, cancel := c.call(ctx)
			defer cancel()
			if err := call(ctx, cl, a[0]); err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", path))
			return nil
		}}
}

func ctlControlCommands() []ctlCommand {
	var wait time.Duration
	var force, override bool
	alt := -1.0
	var agency, zone, polygon string
	var all bool
	return []ctlCommand{
		{path: "arm", args: "DRONE", help: "arm the motors, waiting up to --wait for pre-arm checks", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&wait, "wait", 0, "keep trying while pre-arm checks fail, this long")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := context.WithTimeout(ctx, wait+c.Timeout)
				defer cancel()
				st, err := cl.Control.Arm(ctx, &pb.ArmRequest{DroneId: a[0], Wait: durationpb.New(wait)})
				if err != nil {
					return err
				}
				for {
					m, err := st.Recv()
					if err != nil {
						return err
					}
					if m.GetArmed() {
						fmt.Fprintln(c.stdout, c.t("ctl.arm.armed", "drone", a[0]))
						return nil
					}
					reason := m.GetPendingReason()
					if ex := i18n.Explain(c.lang, reason); ex != "" {
						reason += " — " + ex
					}
					fmt.Fprintln(c.stderr, c.t("ctl.arm.waiting", "drone", a[0], "reason", reason))
				}
			}},
		{path: "disarm", args: "DRONE", help: "disarm (--force: even in flight)", nargs: 1,
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&force, "force", false, "disarm even in flight") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Control.Disarm(ctx, &pb.DisarmRequest{DroneId: a[0], Force: force}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "disarm"))
				return nil
			}},
		{path: "takeoff", args: "DRONE --alt M", help: "take off to M metres above home", nargs: 1,
			flags: func(fs *flag.FlagSet) { fs.Float64Var(&alt, "alt", -1, "altitude above home, metres") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				if alt < 0 {
					return c.usage(c.t("ctl.need_args", "command", "takeoff", "args", "DRONE --alt M"))
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Control.Takeoff(ctx, &pb.TakeoffRequest{DroneId: a[0], AltitudeM: alt}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "takeoff"))
				return nil
			}},
		simple("land", "land where it is", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Control.Land(ctx, &pb.LandRequest{DroneId: id})
			return err
		}),
		simple("rtl", "return to launch", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Control.ReturnToLaunch(ctx, &pb.ReturnToLaunchRequest{DroneId: id})
			return err
		}),
		simple("hold", "stop and hold position", func(ctx context.Context, cl *proto.Client, id string) error {
			_, err := cl.Control.Hold(ctx, &pb.HoldRequest{DroneId: id})
			return err
		}),
		{path: "goto", args: "DRONE LAT LON", help: "fly to a point (--alt M above home, default: current altitude)", nargs: 3,
			flags: func(fs *flag.FlagSet) {
				fs.Float64Var(&alt, "alt", -1, "altitude above home, metres (default: keep)")
				fs.BoolVar(&override, "override", false, "skip the geofence check (audited)")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				lat, err := parseNum(c, "LAT", a[1])
				if err != nil {
					return err
				}
				lon, err := parseNum(c, "LON", a[2])
				if err != nil {
					return err
				}
				req := &pb.GoToRequest{DroneId: a[0], LatDeg: lat, LonDeg: lon, Override: override}
				if alt >= 0 {
					req.RelAltM = &alt
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Control.GoTo(ctx, req); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "goto"))
				return nil
			}},
		{path: "mode", args: "DRONE MODE", help: "switch the flight mode (GUIDED, LOITER, AUTO, …)", nargs: 2,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Control.SetMode(ctx, &pb.SetModeRequest{DroneId: a[0], Mode: a[1]}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "mode "+a[1]))
				return nil
			}},
		{path: "fence enable", args: "DRONE", help: "enable the vehicle's own fence", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				return fenceEnable(ctx, c, cl, a[0], true)
			}},
		{path: "fence disable", args: "DRONE", help: "disable the vehicle's own fence", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				return fenceEnable(ctx, c, cl, a[0], false)
			}},
		{path: "fence upload", args: "DRONE", help: "put the drone's allowed space on the vehicle as fences", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Control.UploadGeofence(ctx, &pb.UploadGeofenceRequest{DroneId: a[0]})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(r)
				}
				fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", a[0], "command", "fence upload ("+strconv.Itoa(int(r.GetItems()))+")"))
				for _, n := range r.GetNotes() {
					fmt.Fprintf(c.stdout, "  %s: %s\n", n.GetZoneId(), n.GetMessage())
				}
				return nil
			}},
		{path: "emergency", args: "rtl|land|hold", help: "send RTL, land or hold to every drone of --all, --agency A, --zone Z or --polygon", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				fs.BoolVar(&all, "all", false, "every drone")
				fs.StringVar(&agency, "agency", "", "every drone of this agency")
				fs.StringVar(&zone, "zone", "", "every drone inside this zone")
				fs.StringVar(&polygon, "polygon", "", "every drone inside this polygon: `LAT,LON;LAT,LON;LAT,LON[;…]`")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				actions := map[string]pb.EmergencyAction{"rtl": pb.EmergencyAction_EMERGENCY_ACTION_RTL,
					"land": pb.EmergencyAction_EMERGENCY_ACTION_LAND, "hold": pb.EmergencyAction_EMERGENCY_ACTION_HOLD}
				action, ok := actions[a[0]]
				if !ok {
					return c.usage(c.t("ctl.need_args", "command", "emergency", "args", "rtl|land|hold"))
				}
				req := &pb.EmergencyRequest{Action: action}
				n := 0
				if all {
					req.Scope, n = &pb.EmergencyRequest_All{All: true}, n+1
				}
				if agency != "" {
					req.Scope, n = &pb.EmergencyRequest_Agency{Agency: agency}, n+1
				}
				if zone != "" {
					req.Scope, n = &pb.EmergencyRequest_ZoneId{ZoneId: zone}, n+1
				}
				if polygon != "" {
					poly := &pb.Polygon{}
					for _, pt := range strings.Split(polygon, ";") {
						lat, lon, ok := strings.Cut(pt, ",")
						la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
						lo, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
						if !ok || err1 != nil || err2 != nil {
							return c.usage(c.t("ctl.bad_number", "what", "--polygon", "value", strconv.Quote(pt)))
						}
						poly.Points = append(poly.Points, &pb.LatLon{LatDeg: la, LonDeg: lo})
					}
					req.Scope, n = &pb.EmergencyRequest_Polygon{Polygon: poly}, n+1
				}
				if n != 1 {
					return c.usage(c.t("ctl.emergency.scope"))
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Emergency.Act(ctx, req)
				if err != nil {
					return err
				}
				return printEmergency(c, a[0], r)
			}},
	}
}

func fenceEnable(ctx context.Context, c *ctlConfig, cl *proto.Client, id string, on bool) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	if _, err := cl.Control.EnableFence(ctx, &pb.EnableFenceRequest{DroneId: id, Enable: on}); err != nil {
		return err
	}
	cmd := "fence disable"
	if on {
		cmd = "fence enable"
	}
	fmt.Fprintln(c.stdout, c.t("ctl.done", "drone", id, "command", cmd))
	return nil
}

func printEmergency(c *ctlConfig, action string, r *pb.EmergencyResponse) error {
	counts := map[pb.EmergencyOutcome]int{}
	for _, x := range r.GetResults() {
		counts[x.GetOutcome()]++
	}
	if c.JSON {
		type res struct {
			DroneID string `json:"drone_id"`
			Agency  string `json:"agency"`
			Outcome string `json:"outcome"`
			Code    string `json:"code,omitempty"`
			Message string `json:"message,omitempty"`
			Reason  string `json:"reason,omitempty"`
		}
		out := struct {
			Action   string  `json:"action"`
			ElapsedS float64 `json:"elapsed_s"`
			Results  []res   `json:"results"`
		}{Action: action, ElapsedS: r.GetElapsed().AsDuration().Seconds(), Results: []res{}}
		for _, x := range r.GetResults() {
			out.Results = append(out.Results, res{x.GetDroneId(), x.GetAgency(), enumName(x.GetOutcome().String(), "EMERGENCY_OUTCOME_"), x.GetCode(), x.GetMessage(), x.GetReason()})
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.t("ctl.col.drone"), c.t("ctl.col.agency"), c.t("ctl.col.outcome"), c.t("ctl.col.detail"))
	for _, x := range r.GetResults() {
		detail := x.GetMessage()
		if x.GetCode() != "" {
			detail = i18n.Code(c.lang, x.GetCode()) + ": " + detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.GetDroneId(), x.GetAgency(), c.t("ctl.outcome."+enumName(x.GetOutcome().String(), "EMERGENCY_OUTCOME_")), detail)
	}
	tw.Flush()
	fmt.Fprintln(c.stdout, c.t("ctl.emergency.summary", "action", action,
		"ok", strconv.Itoa(counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_OK]),
		"failed", strconv.Itoa(counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_FAILED]),
		"skipped", strconv.Itoa(counts[pb.EmergencyOutcome_EMERGENCY_OUTCOME_SKIPPED]),
		"elapsed", r.GetElapsed().AsDuration().Round(time.Millisecond).String()))
	return nil
}
