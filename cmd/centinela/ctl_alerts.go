package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

func alertJSON(a *pb.Alert) map[string]any {
	out := map[string]any{"id": a.GetId(), "event": eventJSON(a.GetEvent()), "acked": a.GetAcked()}
	if a.GetAcked() {
		out["acked_by"], out["acked_at"] = a.GetAckedBy(), tsUTC(a.GetAckedAt())
	}
	return out
}

// ctlAlertCommands are "alerts" and "alerts ack".
func ctlAlertCommands() []ctlCommand {
	var unacked bool
	return []ctlCommand{
		{path: "alerts", help: "list recent alerts (--unacked: only those not acknowledged)", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				fs.BoolVar(&unacked, "unacked", false, "only alerts nobody acknowledged")
			},
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Fleet.ListAlerts(ctx, &pb.ListAlertsRequest{UnackedOnly: unacked})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, a := range r.GetAlerts() {
						out = append(out, alertJSON(a))
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.id"), c.t("ctl.col.time"), c.t("ctl.col.drone"), c.t("ctl.col.alert"), c.t("ctl.col.acked"))
				for _, a := range r.GetAlerts() {
					e := a.GetEvent()
					acked := "-"
					if a.GetAcked() {
						acked = a.GetAckedBy()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.GetId(), tsUTC(e.GetAt()), e.GetDroneId(), i18n.Event(c.lang, e.GetKind(), e.GetParams()), acked)
				}
				return tw.Flush()
			}},
		{path: "alerts ack", help: "acknowledge an alert for everyone: alerts ack ALERT_ID", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Fleet.AckAlert(ctx, &pb.AckAlertRequest{AlertId: args[0]})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(alertJSON(r.GetAlert()))
				}
				fmt.Fprintln(c.stdout, c.t("ctl.alert.acked", "id", r.GetAlert().GetId()))
				return nil
			}},
	}
}
