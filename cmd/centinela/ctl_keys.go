package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

func keyJSON(k *pb.SigningKey) map[string]any {
	return map[string]any{"sys_id": k.GetSysId(), "fingerprint": k.GetFingerprint(), "created": tsUTC(k.GetCreated()), "created_by": k.GetCreatedBy()}
}

// ctlKeyCommands manage the vehicles' MAVLink 2 signing keys (admin).
func ctlKeyCommands() []ctlCommand {
	create := func(rotate bool) func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
		return func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error {
			sys, err := strconv.Atoi(args[0])
			if err != nil || sys < 1 || sys > 254 {
				return c.usage("SYSID: want a MAVLink system id 1..254")
			}
			ctx, cancel := c.call(ctx)
			defer cancel()
			r, err := cl.Admin.CreateSigningKey(ctx, &pb.CreateSigningKeyRequest{SysId: uint32(sys), Rotate: rotate})
			if err != nil {
				return err
			}
			if c.JSON {
				out := keyJSON(r.GetKey())
				out["key_hex"] = r.GetKeyHex()
				return c.printJSON(out)
			}
			fmt.Fprintln(c.stderr, c.t("ctl.key.created", "sys", strconv.Itoa(sys), "fingerprint", r.GetKey().GetFingerprint()))
			fmt.Fprintln(c.stdout, r.GetKeyHex())
			return nil
		}
	}
	return []ctlCommand{
		{path: "keys create", help: "make a MAVLink 2 signing key for a system id (admin); prints it once: keys create SYSID", nargs: 1, run: create(false)},
		{path: "keys rotate", help: "replace a system id's signing key (admin); prints the new one once: keys rotate SYSID", nargs: 1, run: create(true)},
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
