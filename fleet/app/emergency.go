package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// EmergencyAction is what a fleet-wide emergency orders.
type EmergencyAction string

// Emergency actions.
const (
	EmergencyRTL  EmergencyAction = "rtl"
	EmergencyLand EmergencyAction = "land"
	EmergencyHold EmergencyAction = "hold"
)

// Scope selects drones: all of them, an agency's, those inside a zone, or
// those inside a drawn polygon. Exactly one must be set.
type Scope struct {
	All    bool
	Agency string
	ZoneID string
	// Polygon is a ring of at least 3 points (closing it is optional).
	Polygon []geofence.LatLon
}

// EmergencyRequest is one emergency order.
type EmergencyRequest struct {
	Action EmergencyAction
	Scope  Scope
}

// EmergencyResult is one drone's outcome.
type EmergencyResult struct {
	DroneID, Agency string
	// Skipped is set when no command was sent; Reason says why (the caller
	// may not command the drone, it has no position for an area scope).
	Skipped bool
	Reason  string
	// Code is "" when the vehicle accepted, else the error's code; Message
	// its message.
	Code    fleet.Code
	Message string
}

// MaxPolygonPoints bounds a drawn polygon.
const MaxPolygonPoints = 1000

// Emergency sends the action to every drone in scope, in parallel, and
// returns each drone's result, sorted by drone id. An operator's order
// reaches only the drones it may command; the others are listed as skipped
// with the reason. An admin's reaches every drone in scope. Supervisors may
// not order one (Forbidden).
func (s *Service) Emergency(ctx context.Context, p Principal, req EmergencyRequest) ([]EmergencyResult, error) {
	action := "Emergency." + strings.ToUpper(string(req.Action))
	sum, inScope, err := s.scope(req)
	if err == nil {
		err = s.authorize(p, accessEmergency, nil)
	}
	if err != nil {
		s.audit(p, action, "", "", sum, err)
		return nil, err
	}
	var run func(ctx context.Context, id string) error
	switch req.Action {
	case EmergencyRTL:
		run = s.Fleet.ReturnToLaunch
	case EmergencyLand:
		run = s.Fleet.Land
	case EmergencyHold:
		run = s.Fleet.Hold
	}
	drones := s.Fleet.Drones()
	results := make([]EmergencyResult, 0, len(drones))
	var todo []int
	for _, d := range drones {
		ok, why := inScope(d)
		if !ok && why == "" {
			continue
		}
		r := EmergencyResult{DroneID: d.ID, Agency: d.Agency}
		if !ok {
			r.Skipped, r.Reason = true, why
		} else if err := s.authorize(p, accessEmergency, &d); err != nil {
			r.Skipped, r.Reason = true, fleet.ErrorMessage(err)
		} else {
			todo = append(todo, len(results))
		}
		results = append(results, r)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, DefaultEmergencyWorkers)
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func(r *EmergencyResult) {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if _, ok := ctx.Deadline(); !ok {
				cctx, cancel = context.WithTimeout(ctx, s.EmergencyTimeout)
			}
			defer cancel()
			err := run(cctx, r.DroneID)
			r.Code, r.Message = fleet.ErrorCode(err), fleet.ErrorMessage(err)
			s.audit(p, action, r.DroneID, r.Agency, sum, err)
		}(&results[i])
	}
	wg.Wait()
	sent := len(todo)
	s.audit(p, action, "", "", fmt.Sprintf("%s; %d sent, %d skipped", sum, sent, len(results)-sent), nil)
	return results, nil
}

// scope validates req and returns a summary and the membership test: a
// drone is in scope (true, ""), out of it (false, ""), or in an area scope
// without a position (false, reason).
func (s *Service) scope(req EmergencyRequest) (string, func(fleet.DroneState) (bool, string), error) {
	sum := "action=" + string(req.Action)
	switch req.Action {
	case EmergencyRTL, EmergencyLand, EmergencyHold:
	default:
		return sum, nil, fleet.Errorf(fleet.Invalid, "action: %q is not rtl, land or hold", req.Action)
	}
	sc := req.Scope
	n := 0
	for _, set := range []bool{sc.All, sc.Agency != "", sc.ZoneID != "", len(sc.Polygon) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return sum, nil, fleet.Errorf(fleet.Invalid, "scope: give exactly one of all, agency, zone or polygon")
	}
	switch {
	case sc.All:
		return sum + " scope=all", func(fleet.DroneState) (bool, string) { return true, "" }, nil
	case sc.Agency != "":
		if err := checkName("agency", sc.Agency, 64, false); err != nil {
			return sum, nil, err
		}
		return sum + " scope=agency:" + sc.Agency, func(d fleet.DroneState) (bool, string) { return d.Agency == sc.Agency, "" }, nil
	case sc.ZoneID != "":
		z, ok := s.Zones.Snapshot().Zone(sc.ZoneID)
		if !ok {
			return sum, nil, fleet.Errorf(fleet.NotFound, "zone_id: no zone %q", sc.ZoneID)
		}
		return sum + " scope=zone:" + z.ID, areaScope(func(pt orb.Point) bool { return zoneContains(z, pt) }), nil
	}
	if len(sc.Polygon) > MaxPolygonPoints {
		return sum, nil, fleet.Errorf(fleet.Exhausted, "polygon: %d points, at most %d", len(sc.Polygon), MaxPolygonPoints)
	}
	if len(sc.Polygon) < 3 {
		return sum, nil, fleet.Errorf(fleet.Invalid, "polygon: at least 3 points")
	}
	ring := make(orb.Ring, 0, len(sc.Polygon)+1)
	for i, ll := range sc.Polygon {
		if err := CheckPosition(fleet.Position{Lat: ll.Lat, Lon: ll.Lon}, 1); err != nil {
			return sum, nil, fleet.Errorf(fleet.Invalid, "polygon[%d].%s", i, fleet.ErrorMessage(err))
		}
		ring = append(ring, orb.Point{ll.Lon, ll.Lat})
	}
	if ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
	}
	poly := orb.Polygon{ring}
	return sum + fmt.Sprintf(" scope=polygon:%d points", len(sc.Polygon)), areaScope(func(pt orb.Point) bool { return planar.PolygonContains(poly, pt) }), nil
}

func areaScope(in func(orb.Point) bool) func(fleet.DroneState) (bool, string) {
	return func(d fleet.DroneState) (bool, string) {
		if !d.HasPosition {
			return false, "no position yet"
		}
		return in(orb.Point{d.Position.Lon, d.Position.Lat}), ""
	}
}

// zoneContains reports whether pt lies inside z's horizontal shape.
func zoneContains(z geofence.Zone, pt orb.Point) bool {
	if z.IsCircle() {
		return geo.Distance(z.Center, pt) <= z.RadiusM
	}
	return planar.PolygonContains(z.Polygon, pt)
}
