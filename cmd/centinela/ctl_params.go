package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

type paramJSON struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Type  uint32  `json:"type"`
	Index int32   `json:"index"`
}

func toParamJSON(p *pb.ParamValue) paramJSON {
	return paramJSON{Name: p.GetName(), Value: p.GetValue(), Type: p.GetType(), Index: p.GetIndex()}
}

func fparam(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func ctlParamCommands() []ctlCommand {
	return []ctlCommand{
		{path: "params ls", args: "DRONE", help: "download and list every parameter, showing progress", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				st, err := cl.Param.List(ctx, &pb.ListParamsRequest{DroneId: a[0], Progress: true})
				if err != nil {
					return err
				}
				for {
					m, err := st.Recv()
					if err != nil {
						return err
					}
					switch it := m.GetItem().(type) {
					case *pb.ListParamsResponse_Progress:
						fmt.Fprintln(c.stderr, c.t("ctl.params.progress", "drone", a[0], "received", strconv.Itoa(int(it.Progress.GetReceived())), "total", strconv.Itoa(int(it.Progress.GetTotal()))))
					case *pb.ListParamsResponse_Params:
						if c.JSON {
							out := []paramJSON{}
							for _, p := range it.Params.GetParams() {
								out = append(out, toParamJSON(p))
							}
							return c.printJSON(out)
						}
						tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
						fmt.Fprintf(tw, "%s\t%s\t%s\n", c.t("ctl.col.name"), c.t("ctl.col.value"), c.t("ctl.col.type"))
						for _, p := range it.Params.GetParams() {
							fmt.Fprintf(tw, "%s\t%s\t%d\n", p.GetName(), fparam(p.GetValue()), p.GetType())
						}
						return tw.Flush()
					}
				}
			}},
		{path: "params get", args: "DRONE NAME", help: "read one parameter", nargs: 2,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Param.Get(ctx, &pb.GetParamRequest{DroneId: a[0], Name: a[1]})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(toParamJSON(r.GetParam()))
				}
				fmt.Fprintln(c.stdout, c.t("ctl.param", "name", r.GetParam().GetName(), "value", fparam(r.GetParam().GetValue())))
				return nil
			}},
		{path: "params set", args: "DRONE NAME VALUE", help: "write one parameter and print the vehicle's echo", nargs: 3,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				v, err := parseNum(c, "VALUE", a[2])
				if err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Param.Set(ctx, &pb.SetParamRequest{DroneId: a[0], Name: a[1], Value: v})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(toParamJSON(r.GetParam()))
				}
				fmt.Fprintln(c.stdout, c.t("ctl.param", "name", r.GetParam().GetName(), "value", fparam(r.GetParam().GetValue())))
				return nil
			}},
	}
}
