package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// maxGeoJSONFileBytes bounds a GeoJSON file read by ctl (the server has
// its own, lower, message limit).
const maxGeoJSONFileBytes = 64 << 20

func zoneJSON(z *pb.Zone) map[string]any {
	out := map[string]any{"id": z.GetId(), "name": z.GetName(), "kind": z.GetKind(), "jurisdiction": z.GetJurisdiction(),
		"floor_m": z.GetFloorM(), "ceiling_m": z.GetCeilingM(), "alt_ref": z.GetAltRef(), "reason": z.GetReason(), "source": z.GetSource()}
	if c := z.GetCircle(); c != nil {
		out["circle"] = map[string]any{"lat": c.GetCenter().GetLatDeg(), "lon": c.GetCenter().GetLonDeg(), "radius_m": c.GetRadiusM()}
	}
	if p := z.GetPolygon(); p != nil {
		var rings [][][2]float64
		for _, r := range p.GetRings() {
			var ring [][2]float64
			for _, pt := range r.GetPoints() {
				ring = append(ring, [2]float64{pt.GetLatDeg(), pt.GetLonDeg()})
			}
			rings = append(rings, ring)
		}
		out["polygon_lat_lon"] = rings
	}
	if z.GetValidFrom() != nil {
		out["valid_from"] = utc(z.GetValidFrom().AsTime())
	}
	if z.GetValidUntil() != nil {
		out["valid_until"] = utc(z.GetValidUntil().AsTime())
	}
	return out
}

func ctlZoneCommands() []ctlCommand {
	alt := 30.0
	return []ctlCommand{
		{path: "zones ls", help: "list every zone", nargs: 0,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Geofence.ListZones(ctx, &pb.ListZonesRequest{})
				if err != nil {
					return err
				}
				if c.JSON {
					out := []map[string]any{}
					for _, z := range r.GetZones() {
						out = append(out, zoneJSON(z))
					}
					return c.printJSON(out)
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.t("ctl.col.id"), c.t("ctl.col.kind"), c.t("ctl.col.jurisdiction"), c.t("ctl.col.band"), c.t("ctl.col.name"))
				for _, z := range r.GetZones() {
					ceil := z.GetCeilingM()
					if ceil == 0 {
						ceil = 120
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s–%s %s\t%s\n", z.GetId(), z.GetKind(), z.GetJurisdiction(), fnum(z.GetFloorM(), 0), fnum(ceil, 0), z.GetAltRef(), z.GetName())
				}
				return tw.Flush()
			}},
		{path: "zones show", args: "ZONE", help: "show one zone", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Geofence.GetZone(ctx, &pb.GetZoneRequest{ZoneId: a[0]})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(zoneJSON(r.GetZone()))
				}
				fmt.Fprintln(c.stdout, protojson.MarshalOptions{Multiline: true, UseProtoNames: true}.Format(r.GetZone()))
				return nil
			}},
		{path: "zones import", args: "FILE", help: "import the zones of a GeoJSON file (all or nothing)", nargs: 1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				data, err := readLimited(a[0], maxGeoJSONFileBytes)
				if err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Geofence.ImportGeoJSON(ctx, &pb.ImportGeoJSONRequest{Geojson: data})
				if err != nil {
					return err
				}
				if c.JSON {
					return c.printJSON(map[string]any{"zone_ids": r.GetZoneIds()})
				}
				fmt.Fprintln(c.stdout, c.t("ctl.zones.imported", "n", strconv.Itoa(len(r.GetZoneIds()))))
				return nil
			}},
		{path: "zones export", args: "[FILE]", help: "write every zone as GeoJSON (standard output without FILE)", nargs: -1,
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				if len(a) > 1 {
					return c.usage(c.t("ctl.need_args", "command", "zones export", "args", "[FILE]"))
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Geofence.ExportGeoJSON(ctx, &pb.ExportGeoJSONRequest{})
				if err != nil {
					return err
				}
				if len(a) == 1 {
					return os.WriteFile(a[0], r.GetGeojson(), 0o644)
				}
				_, err = c.stdout.Write(r.GetGeojson())
				return err
			}},
		{path: "zones check", args: "AGENCY LAT LON", help: "may AGENCY fly at a point (--alt M above home)?", nargs: 3,
			flags: func(fs *flag.FlagSet) { fs.Float64Var(&alt, "alt", 30, "altitude above home, metres") },
			run: func(ctx context.Context, c *ctlConfig, cl *proto.Client, a []string) error {
				lat, err := parseNum(c, "LAT", a[1])
				if err != nil {
					return err
				}
				lon, err := parseNum(c, "LON", a[2])
				if err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				r, err := cl.Geofence.CheckPoint(ctx, &pb.CheckPointRequest{Agency: a[0], Position: &pb.Position{LatDeg: lat, LonDeg: lon, RelAltM: alt}})
				if err != nil {
					return err
				}
				if c.JSON {
					out := map[string]any{"agency": a[0], "lat": lat, "lon": lon, "alt_m": alt, "allowed": r.GetAllowed()}
					if r.BoundaryM != nil {
						out["boundary_m"] = r.GetBoundaryM()
					}
					if v := r.GetViolation(); v != nil {
						out["reason"], out["zone_id"] = v.GetReason(), v.GetZoneId()
					}
					zones := []string{}
					for _, z := range r.GetZones() {
						zones = append(zones, z.GetId())
					}
					out["zones"] = zones
					return c.printJSON(out)
				}
				if r.GetAllowed() {
					b := "-"
					if r.BoundaryM != nil {
						b = fnum(r.GetBoundaryM(), 0) + " m"
					}
					fmt.Fprintln(c.stdout, c.t("ctl.zones.check.allowed", "agency", a[0], "lat", a[1], "lon", a[2], "alt", fnum(alt, 0), "boundary", b))
					return nil
				}
				v := r.GetViolation()
				fmt.Fprintln(c.stdout, c.t("ctl.zones.check.denied", "agency", a[0], "lat", a[1], "lon", a[2], "alt", fnum(alt, 0), "reason", v.GetReason(), "zone", v.GetZoneId()))
				return nil
			}},
	}
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, max>>20)
	}
	return data, nil
}
