package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// MaxRoutePoints bounds a route checked with CheckRoute.
const MaxRoutePoints = 10_000

// ListZones returns every zone (bundled and made at run time), sorted by id.
func (s *Service) ListZones(_ context.Context, p Principal) ([]geofence.Zone, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	return s.Zones.Snapshot().Zones(), nil
}

// GetZone returns zone id. Returns NotFound.
func (s *Service) GetZone(_ context.Context, p Principal, id string) (geofence.Zone, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return geofence.Zone{}, err
	}
	if err := checkID("zone_id", id); err != nil {
		return geofence.Zone{}, err
	}
	z, ok := s.Zones.Snapshot().Zone(id)
	if !ok {
		return geofence.Zone{}, fleet.Errorf(fleet.NotFound, "zone_id: no zone %q", id)
	}
	return z, nil
}

// zoneErr maps geofence errors onto codes: validation problems are Invalid
// with the located problems in the message.
func zoneErr(err error) error {
	if err == nil {
		return nil
	}
	var ve *geofence.ValidationError
	if errors.As(err, &ve) {
		return &fleet.Error{Code: fleet.Invalid, Message: ve.Error()}
	}
	if errors.Is(err, geofence.ErrUnknownAgency) {
		return &fleet.Error{Code: fleet.NotFound, Message: err.Error()}
	}
	if errors.Is(err, geofence.ErrUnknownZone) {
		return &fleet.Error{Code: fleet.NotFound, Message: err.Error()}
	}
	if errors.Is(err, geofence.ErrBadPosition) {
		return &fleet.Error{Code: fleet.Invalid, Message: err.Error()}
	}
	return err
}

// PutZone creates or replaces a zone (admin). It is kept in the Store and
// survives restarts.
func (s *Service) PutZone(_ context.Context, p Principal, z geofence.Zone) error {
	sum := fmt.Sprintf("zone_id=%s kind=%s jurisdiction=%s", z.ID, z.Kind, z.Jurisdiction)
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkID("zone_id", z.ID)
	}
	if err == nil {
		err = zoneErr(s.Zones.PutZone(z))
	}
	if err == nil {
		if err = s.Store.PutZone(z); err == nil {
			s.mu.Lock()
			s.runtime[z.ID] = true
			s.mu.Unlock()
		}
	}
	s.audit(p, "Geofence.PutZone", "", "", sum, err)
	return err
}

// DeleteZone removes a zone made at run time (admin). Zones of the bundled
// dataset (or of --zones) cannot be deleted: replace them with a zone of the
// same id instead (Conflict). Returns NotFound.
func (s *Service) DeleteZone(_ context.Context, p Principal, id string) error {
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkID("zone_id", id)
	}
	if err == nil {
		if _, ok := s.Zones.Snapshot().Zone(id); !ok {
			err = fleet.Errorf(fleet.NotFound, "zone_id: no zone %q", id)
		}
	}
	if err == nil {
		s.mu.RLock()
		rt := s.runtime[id]
		s.mu.RUnlock()
		if !rt {
			err = fleet.Errorf(fleet.Conflict, "zone %q is part of the configured dataset: replace it with a zone of the same id instead", id)
		}
	}
	if err == nil {
		if err = zoneErr(s.Zones.DeleteZone(id)); err == nil {
			err = s.Store.DeleteZone(id)
			s.mu.Lock()
			delete(s.runtime, id)
			s.mu.Unlock()
		}
	}
	s.audit(p, "Geofence.DeleteZone", "", "", "zone_id="+id, err)
	return err
}

// ImportGeoJSON adds the zones of a GeoJSON FeatureCollection (admin), all
// or nothing: an invalid file changes nothing and the error locates every
// problem. It returns the ids of the zones imported.
func (s *Service) ImportGeoJSON(_ context.Context, p Principal, data []byte) ([]string, error) {
	sum := fmt.Sprintf("bytes=%d", len(data))
	var ids []string
	err := s.authorize(p, accessAdmin, nil)
	if err == nil && s.GeoJSONLimits.MaxBytes > 0 && len(data) > s.GeoJSONLimits.MaxBytes {
		err = fleet.Errorf(fleet.Exhausted, "geojson: %d bytes, at most %d", len(data), s.GeoJSONLimits.MaxBytes)
	}
	var zones []geofence.Zone
	if err == nil {
		zones, _, err = geofence.ParseGeoJSON(data, s.GeoJSONLimits)
		err = zoneErr(err)
	}
	if err == nil {
		err = zoneErr(s.Zones.Update(func(cur *geofence.Set) (*geofence.Set, error) { return cur.With(zones...) }))
	}
	if err == nil {
		for _, z := range zones {
			if err = s.Store.PutZone(z); err != nil {
				break
			}
			ids = append(ids, z.ID)
		}
		s.mu.Lock()
		for _, id := range ids {
			s.runtime[id] = true
		}
		s.mu.Unlock()
	}
	s.audit(p, "Geofence.ImportGeoJSON", "", "", fmt.Sprintf("%s zones=%d", sum, len(ids)), err)
	return ids, err
}

// ExportGeoJSON returns every zone and line as a GeoJSON FeatureCollection.
func (s *Service) ExportGeoJSON(_ context.Context, p Principal) ([]byte, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	return s.Zones.Snapshot().MarshalGeoJSON()
}

// CheckPoint answers whether agency may be at pos now, and why.
func (s *Service) CheckPoint(_ context.Context, p Principal, agency string, pos geofence.Position) (geofence.PointResult, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return geofence.PointResult{}, err
	}
	if err := checkName("agency", agency, 64, false); err != nil {
		return geofence.PointResult{}, err
	}
	if err := CheckPosition(fleet.Position{Lat: pos.Lat, Lon: pos.Lon, RelAlt: pos.RelAlt}, 100_000); err != nil {
		return geofence.PointResult{}, err
	}
	r, err := s.Zones.Snapshot().CheckPoint(agency, pos, s.Zones.Time())
	return r, zoneErr(err)
}

// CheckRoute returns where a route first leaves agency's allowed space (nil
// if it does not): which leg, which zone, where.
func (s *Service) CheckRoute(_ context.Context, p Principal, agency string, route []geofence.Position) (*geofence.Violation, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkName("agency", agency, 64, false); err != nil {
		return nil, err
	}
	if len(route) == 0 {
		return nil, fleet.Errorf(fleet.Invalid, "route: at least one point")
	}
	if len(route) > MaxRoutePoints {
		return nil, fleet.Errorf(fleet.Exhausted, "route: %d points, at most %d", len(route), MaxRoutePoints)
	}
	for i, pos := range route {
		if err := CheckPosition(fleet.Position{Lat: pos.Lat, Lon: pos.Lon, RelAlt: pos.RelAlt}, 100_000); err != nil {
			return nil, fleet.Errorf(fleet.Invalid, "route[%d].%s", i, fleet.ErrorMessage(err))
		}
	}
	v, err := s.Zones.Snapshot().CheckRoute(agency, route, s.Zones.Time())
	return v, zoneErr(err)
}

// ListAgencies returns every agency and its jurisdictions.
func (s *Service) ListAgencies(_ context.Context, p Principal) ([]geofence.Agency, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	return s.Zones.Snapshot().Agencies(), nil
}

// PutAgency creates or replaces an agency (admin); it is kept in the Store.
func (s *Service) PutAgency(_ context.Context, p Principal, a geofence.Agency) error {
	sum := fmt.Sprintf("agency=%s jurisdictions=%v", a.ID, a.Jurisdictions)
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkName("agency_id", a.ID, 64, false)
	}
	if err == nil {
		err = zoneErr(s.Zones.PutAgency(a))
	}
	if err == nil {
		err = s.Store.PutAgency(a)
	}
	s.audit(p, "Geofence.PutAgency", "", "", sum, err)
	return err
}

// agencyKnown reports whether agency id exists.
func (s *Service) agencyKnown(id string) bool {
	_, ok := s.Zones.Snapshot().Agency(id)
	return ok
}
