package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

var roles = map[string]pb.Role{"supervisor": pb.Role_ROLE_SUPERVISOR, "operator": pb.Role_ROLE_OPERATOR, "admin": pb.Role_ROLE_ADMIN}

func roleName(r pb.Role) string { return enumName(r.String(), "ROLE_") }

func tsUTC(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return utc(t.AsTime())
}

func tokenJSON(t *pb.Token) map[string]any {
	out := map[string]any{"id": t.GetId(), "label": t.GetLabel(), "role": roleName(t.GetRole()), "agency": t.GetAgency(),
		"created": tsUTC(t.GetCreated()), "created_by": t.GetCreatedBy()}
	if t.GetRevoked() != nil {
		out["revoked"] = tsUTC(t.GetRevoked())
	}
	return out
}

func grantJSON(g *pb.Grant) map[string]any {
	out := map[string]any{"id": g.GetId(), "from_agency": g.GetFromAgency(), "to_agency": g.GetToAgency(),
		"drone_ids": append([]string{}, g.GetDroneIds()...), "until": tsUTC(g.GetUntil()), "active": g.GetActive(),
		"created_by": g.GetCreatedBy()}
	if g.GetRevoked() != nil {
		out["revoked"] = tsUTC(g.GetRevoked())
	}
	return out
}

func ctlAdminCommands() []ctlCommand {
	var role, agency, name, drone, format, kinds string
	var since, dur time.Duration
	var limit int
	var all bool
	return []ctlCommand{
		{path: "audit", help: "print the audit log (--since, --drone, --agency)", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&since, "since", time.Hour, "entries of this last while")
				fs.StringVar(&drone, "drone", "", "only this drone's entries")
				fs.StringVar(&agency, "agency", "", "only this agency's entries (caller or drone)")
				fs.IntVar(&limit, "limit", 100, "at most this many, newest kept")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.QueryAudit(ctx, &pb.QueryAuditRequest{From: timestamppb.New(time.Now().Add(-since)),
					DroneId: drone, Agency: agency, Limit: uint32(max(limit, 0))})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, e := range r.GetEntries() {
						out = append(out, map[string]any{"seq": e.GetSeq(), "at": tsUTC(e.GetAt()), "token_id": e.GetTokenId(),
							"label": e.GetLabel(), "role": roleName(e.GetRole()), "agency": e.GetAgency(), "action": e.GetAction(),
							"drone_id": e.GetDroneId(), "drone_agency": e.GetDroneAgency(), "summary": e.GetSummary(),
							"code": e.GetCode(), "message": e.GetMessage()})
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.time"), c.t("ctl.col.who"), c.t("ctl.col.action"), c.t("ctl.col.drone"), c.t("ctl.col.result"))
				for _, e := range r.GetEntries() {
					res := c.t("ctl.ok")
					if e.GetCode() != "" {
						res = i18n.Code(c.lang, e.GetCode()) + ": " + e.GetMessage()
					}
					who := fmt.Sprintf("%s (%s, %s)", e.GetLabel(), roleName(e.GetRole()), e.GetAgency())
					fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", tsUTC(e.GetAt()), who, e.GetAction(), e.GetSummary(), e.GetDroneId(), res)
				}
				return tw.Flush()
			}},
		{path: "events", help: "print stored events (--since, --drone, --kinds)", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&since, "since", time.Hour, "events of this last while")
				fs.StringVar(&drone, "drone", "", "only this drone's events")
				fs.StringVar(&kinds, "kinds", "", "only these kinds (comma-separated)")
				fs.IntVar(&limit, "limit", 100, "at most this many, newest kept")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Fleet.ListEvents(ctx, &pb.ListEventsRequest{From: timestamppb.New(time.Now().Add(-since)), DroneId: drone,
					Kinds: splitList(kinds), Limit: uint32(max(limit, 0))})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, e := range r.GetEvents() {
						out = append(out, eventJSON(e))
					}
					return c.printJSON(out)
				}
				for _, e := range r.GetEvents() {
					fmt.Fprintf(c.stdout, "%s %s %s\n", tsUTC(e.GetAt()), e.GetDroneId(), i18n.Event(c.lang, e.GetKind(), e.GetParams()))
				}
				return nil
			}},
		{path: "token create", help: "make a token (admin); prints the secret once", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&role, "role", "", "supervisor, operator or admin")
				fs.StringVar(&agency, "agency", "", "the holder's agency (required for operators)")
				fs.StringVar(&name, "name", "", "label shown in the audit log")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				r, ok := roles[role]
				if !ok {
					return c.usage("--role: want supervisor, operator or admin")
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := cl.Admin.CreateToken(ctx, &pb.CreateTokenRequest{Role: r, Agency: agency, Label: name})
				if err != nil {
					return err
				}
				if c.JSON {
					out := tokenJSON(resp.GetToken())
					out["secret"] = resp.GetSecret()
					return c.printJSON(out)
				}
				t := resp.GetToken()
				fmt.Fprintln(c.stderr, c.t("ctl.token.created", "id", t.GetId(), "role", roleName(t.GetRole()), "agency", t.GetAgency(), "label", t.GetLabel()))
				fmt.Fprintln(c.stdout, resp.GetSecret())
				return nil
			}},
		{path: "token ls", help: "list tokens, without secrets (admin)", nargs: 0,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.ListTokens(ctx, &pb.ListTokensRequest{})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, t := range r.GetTokens() {
						out = append(out, tokenJSON(t))
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.id"), c.t("ctl.col.role"), c.t("ctl.col.agency"), c.t("ctl.col.label"), c.t("ctl.col.created"), c.t("ctl.col.revoked"))
				for _, t := range r.GetTokens() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.GetId(), roleName(t.GetRole()), t.GetAgency(), t.GetLabel(), tsUTC(t.GetCreated()), tsUTC(t.GetRevoked()))
				}
				return tw.Flush()
			}},
		{path: "token revoke", args: "ID", help: "revoke a token at once (admin)", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Admin.RevokeToken(ctx, &pb.RevokeTokenRequest{TokenId: a[0]}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.token.revoked", "id", a[0]))
				return nil
			}},
		{path: "grant create", args: "FROM TO", help: "let agency TO command agency FROM's drones (--drones, --for D) (admin)", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&drone, "drones", "", "only these drones (comma-separated; default all of FROM)")
				fs.DurationVar(&dur, "for", 4*time.Hour, "how long the grant lasts")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.CreateGrant(ctx, &pb.CreateGrantRequest{FromAgency: a[0], ToAgency: a[1], DroneIds: splitList(drone),
					End: &pb.CreateGrantRequest_Duration{Duration: durationpb.New(dur)}})
				if err != nil {
					return err
				}
				g := r.GetGrant()
				if c.JSON {
					return c.printJSON(grantJSON(g))
				}
				fmt.Fprintln(c.stdout, c.t("ctl.grant.created", "id", g.GetId(), "from", g.GetFromAgency(), "to", g.GetToAgency(), "until", tsUTC(g.GetUntil())))
				return nil
			}},
		{path: "grant ls", help: "list control grants (--all: revoked and expired too)", nargs: 0,
			flags: func(fs *flag.FlagSet) { fs.BoolVar(&all, "all", false, "include revoked and expired grants") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.ListGrants(ctx, &pb.ListGrantsRequest{All: all})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, g := range r.GetGrants() {
						out = append(out, grantJSON(g))
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.id"), c.t("ctl.col.from"), c.t("ctl.col.to"), c.t("ctl.col.drones"), c.t("ctl.col.until"))
				for _, g := range r.GetGrants() {
					ds := strings.Join(g.GetDroneIds(), ",")
					if ds == "" {
						ds = c.t("ctl.all")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.GetId(), g.GetFromAgency(), g.GetToAgency(), ds, tsUTC(g.GetUntil()))
				}
				return tw.Flush()
			}},
		{path: "grant revoke", args: "ID", help: "end a control grant now (admin)", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Admin.RevokeGrant(ctx, &pb.RevokeGrantRequest{GrantId: a[0]}); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.grant.revoked", "id", a[0]))
				return nil
			}},
		{path: "drones set", args: "DRONE", help: "change a drone's --name or --agency (admin)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&name, "name", "", "new display name")
				fs.StringVar(&agency, "agency", "", "new agency")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				req := &pb.UpdateDroneRequest{DroneId: a[0]}
				if name != "" {
					req.Name = &name
				}
				if agency != "" {
					req.Agency = &agency
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				if _, err := cl.Admin.UpdateDrone(ctx, req); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, c.t("ctl.drone.updated", "drone", a[0]))
				return nil
			}},
		{path: "track", args: "DRONE", help: "print a drone's stored track (--since D, --format csv|geojson)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&since, "since", 10*time.Minute, "the track of this last while")
				fs.StringVar(&format, "format", "csv", "csv or geojson")
				fs.IntVar(&limit, "max", 0, "at most this many points (0: server default)")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				f := map[string]pb.TrackFormat{"csv": pb.TrackFormat_TRACK_FORMAT_CSV, "geojson": pb.TrackFormat_TRACK_FORMAT_GEOJSON}
				tf, ok := f[format]
				if !ok {
					return c.usage("--format: want csv or geojson")
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Telemetry.GetTrack(ctx, &pb.GetTrackRequest{DroneId: a[0], From: timestamppb.New(time.Now().Add(-since)),
					MaxPoints: uint32(max(limit, 0)), Format: tf})
				if err != nil {
					return err
				}
				_, err = c.stdout.Write(r.GetData())
				return err
			}},
	}
}
