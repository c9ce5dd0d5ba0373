package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

func keyJSON(k *pb.SigningKey) map[string]any {
	return map[string]any{"sys_id": k.GetSysId(), "fingerprint": k.GetFingerprint(), "created": tsUTC(k.GetCreated()), "created_by": k.GetCreatedBy()}
}

// pushHelp is the --push flag's description.
const pushHelp = "give the key to the system id's connected drones over their links (SETUP_SIGNING, sent in clear: only over a link that cannot be overheard)"

// ctlKeyCommands manage the vehicles' MAVLink 2 signing keys (admin).
func ctlKeyCommands() []ctlCommand {
	var push bool
	create := func(rotate bool) func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
		return func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
			sys, err := strconv.Atoi(args[0])
			if err != nil || sys < 1 || sys > 254 {
				return c.usage("SYSID: want a MAVLink system id 1..254")
			}
			ctx, cancel := c.call(ctx)
			defer cancel()
			r, err := cl.Admin.CreateSigningKey(ctx, &pb.CreateSigningKeyRequest{SysId: uint32(sys), Rotate: rotate, Push: push})
			if err != nil {
				return err
			}
			failed := 0
			for _, d := range r.GetDrones() {
				if d.GetCode() != "" {
					failed++
				}
			}
			if c.JSON {
				out := keyJSON(r.GetKey())
				out["key_hex"] = r.GetKeyHex()
				drones := []map[string]any{}
				for _, d := range r.GetDrones() {
					drones = append(drones, map[string]any{"drone_id": d.GetDroneId(), "code": d.GetCode(), "message": d.GetMessage()})
				}
				out["drones"] = drones
				if err := c.printJSON(out); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(c.stderr, c.t("ctl.key.created", "sys", strconv.Itoa(sys), "fingerprint", r.GetKey().GetFingerprint()))
				for _, d := range r.GetDrones() {
					if d.GetCode() == "" {
						fmt.Fprintln(c.stderr, c.t("ctl.key.given", "drone", d.GetDroneId()))
					} else {
						fmt.Fprintln(c.stderr, c.t("ctl.key.not_given", "drone", d.GetDroneId(), "err", d.GetMessage()))
					}
				}
				fmt.Fprintln(c.stdout, r.GetKeyHex())
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d drones did not take the key (they keep the old one): keys push DRONE", failed, len(r.GetDrones()))
			}
			return nil
		}
	}
	pushFlag := func(fs *flag.FlagSet) { fs.BoolVar(&push, "push", false, pushHelp) }
	return []ctlCommand{
		{path: "keys create", help: "make a MAVLink 2 signing key for a system id (admin); prints it once: keys create SYSID [--push]", nargs: 1, flags: pushFlag, run: create(false)},
		{path: "keys rotate", help: "replace a system id's signing key (admin); prints the new one once; live signed links switch to it (--push: given to the drones first)", nargs: 1, flags: pushFlag, run: create(true)},
		{path: "keys push", help: "give a drone its system id's stored key over its link (admin); its link is signed from then on: keys push DRONE", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.PushSigningKey(ctx, &pb.PushSigningKeyRequest{DroneId: args[0]})
				if err != nil {
					return err
				}
				if c.JSON {
					out := keyJSON(r.GetKey())
					out["drone_id"] = args[0]
					return c.printJSON(out)
				}
				fmt.Fprintln(c.stdout, c.t("ctl.key.pushed", "drone", args[0], "sys", strconv.Itoa(int(r.GetKey().GetSysId())), "fingerprint", r.GetKey().GetFingerprint()))
				return nil
			}},
		{path: "keys ls", help: "list signing keys by system id, fingerprints only (admin)", nargs: 0,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Admin.ListSigningKeys(ctx, &pb.ListSigningKeysRequest{})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, k := range r.GetKeys() {
						out = append(out, keyJSON(k))
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.t("ctl.col.sys_id"), c.t("ctl.col.fingerprint"), c.t("ctl.col.created"), c.t("ctl.col.who"))
				for _, k := range r.GetKeys() {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", k.GetSysId(), k.GetFingerprint(), tsUTC(k.GetCreated()), k.GetCreatedBy())
				}
				return tw.Flush()
			}},
	}
}
