package proto

import (
	"context"
	"math"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// geofenceServer implements the Geofence service.
type geofenceServer struct {
	pb.UnimplementedGeofenceServer
	s *Server
}

func (g *geofenceServer) ListZones(ctx context.Context, _ *pb.ListZonesRequest) (*pb.ListZonesResponse, error) {
	zones, err := g.s.App.ListZones(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListZonesResponse{Zones: make([]*pb.Zone, len(zones))}
	for i, z := range zones {
		out.Zones[i] = zoneToPB(z)
	}
	return out, nil
}

func (g *geofenceServer) GetZone(ctx context.Context, req *pb.GetZoneRequest) (*pb.GetZoneResponse, error) {
	z, err := g.s.App.GetZone(ctx, principal(ctx), req.GetZoneId())
	if err != nil {
		return nil, err
	}
	return &pb.GetZoneResponse{Zone: zoneToPB(z)}, nil
}

// putZone stores a zone, which must (update) or must not (create) exist.
func (g *geofenceServer) putZone(ctx context.Context, in *pb.Zone, exist bool) (*pb.Zone, error) {
	p := principal(ctx)
	z, err := zoneFromPB(in)
	if err != nil {
		return nil, err
	}
	_, gerr := g.s.App.GetZone(ctx, p, z.ID)
	switch code := fleet.ErrorCode(gerr); {
	case code != "" && code != fleet.NotFound:
		return nil, gerr
	case exist && code == fleet.NotFound:
		return nil, gerr
	case !exist && code == "":
		return nil, fleet.Errorf(fleet.Conflict, "zone.id: zone %q already exists (use UpdateZone)", z.ID)
	}
	if err := g.s.App.PutZone(ctx, p, z); err != nil {
		return nil, err
	}
	stored, err := g.s.App.GetZone(ctx, p, z.ID)
	if err != nil {
		return nil, err
	}
	return zoneToPB(stored), nil
}

func (g *geofenceServer) CreateZone(ctx context.Context, req *pb.CreateZoneRequest) (*pb.CreateZoneResponse, error) {
	z, err := g.putZone(ctx, req.GetZone(), false)
	if err != nil {
		return nil, err
	}
	return &pb.CreateZoneResponse{Zone: z}, nil
}

func (g *geofenceServer) UpdateZone(ctx context.Context, req *pb.UpdateZoneRequest) (*pb.UpdateZoneResponse, error) {
	z, err := g.putZone(ctx, req.GetZone(), true)
	if err != nil {
		return nil, err
	}
	return &pb.UpdateZoneResponse{Zone: z}, nil
}

func (g *geofenceServer) DeleteZone(ctx context.Context, req *pb.DeleteZoneRequest) (*pb.DeleteZoneResponse, error) {
	return &pb.DeleteZoneResponse{}, g.s.App.DeleteZone(ctx, principal(ctx), req.GetZoneId())
}

func (g *geofenceServer) ImportGeoJSON(ctx context.Context, req *pb.ImportGeoJSONRequest) (*pb.ImportGeoJSONResponse, error) {
	ids, err := g.s.App.ImportGeoJSON(ctx, principal(ctx), req.GetGeojson())
	if err != nil {
		return nil, err
	}
	return &pb.ImportGeoJSONResponse{ZoneIds: ids}, nil
}

func (g *geofenceServer) ExportGeoJSON(ctx context.Context, _ *pb.ExportGeoJSONRequest) (*pb.ExportGeoJSONResponse, error) {
	data, err := g.s.App.ExportGeoJSON(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return &pb.ExportGeoJSONResponse{Geojson: data}, nil
}

func (g *geofenceServer) CheckPoint(ctx context.Context, req *pb.CheckPointRequest) (*pb.CheckPointResponse, error) {
	pos, err := geoPositionFromPB("position", req.GetPosition())
	if err != nil {
		return nil, err
	}
	r, err := g.s.App.CheckPoint(ctx, principal(ctx), req.GetAgency(), pos)
	if err != nil {
		return nil, err
	}
	out := &pb.CheckPointResponse{Allowed: r.Allowed, Violation: violationToPB(r.Violation), BoundaryZoneId: r.BoundaryZoneID}
	if !math.IsInf(r.BoundaryM, 0) {
		out.BoundaryM = opt(r.BoundaryM)
	}
	for _, z := range r.Zones {
		out.Zones = append(out.Zones, &pb.ZoneRef{Id: z.ID, Name: z.Name, Kind: string(z.Kind), Jurisdiction: string(z.Jurisdiction), InBand: z.InBand})
	}
	return out, nil
}

func (g *geofenceServer) CheckRoute(ctx context.Context, req *pb.CheckRouteRequest) (*pb.CheckRouteResponse, error) {
	if n := len(req.GetRoute()); n > app.MaxRoutePoints {
		return nil, fleet.Errorf(fleet.Exhausted, "route: %d points, at most %d", n, app.MaxRoutePoints)
	}
	route := make([]geofence.Position, len(req.GetRoute()))
	for i, p := range req.GetRoute() {
		pos, err := geoPositionFromPB("route", p)
		if err != nil {
			return nil, err
		}
		route[i] = pos
	}
	v, err := g.s.App.CheckRoute(ctx, principal(ctx), req.GetAgency(), route)
	if err != nil {
		return nil, err
	}
	return &pb.CheckRouteResponse{Allowed: v == nil, Violation: violationToPB(v)}, nil
}

func (g *geofenceServer) ListAgencies(ctx context.Context, _ *pb.ListAgenciesRequest) (*pb.ListAgenciesResponse, error) {
	as, err := g.s.App.ListAgencies(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListAgenciesResponse{Agencies: make([]*pb.Agency, len(as))}
	for i, a := range as {
		out.Agencies[i] = agencyToPB(a)
	}
	return out, nil
}

func (g *geofenceServer) PutAgency(ctx context.Context, req *pb.PutAgencyRequest) (*pb.PutAgencyResponse, error) {
	a, err := agencyFromPB(req.GetAgency())
	if err != nil {
		return nil, err
	}
	if err := g.s.App.PutAgency(ctx, principal(ctx), a); err != nil {
		return nil, err
	}
	return &pb.PutAgencyResponse{Agency: agencyToPB(a)}, nil
}
