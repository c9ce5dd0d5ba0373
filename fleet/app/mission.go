package app

import (
	"context"
	"fmt"
	"math"

	"github.com/centinela-gcs/centinela/fleet"
)

// UploadOptions tune UploadMission.
type UploadOptions struct {
	// Type is the plan's type (mission, fence or rally; default mission).
	Type fleet.MissionType
	// Override skips the zone guard (audited).
	Override bool
	// Progress, if not nil, is called with the items sent so far.
	Progress func(done, total int)
}

// CheckItems checks a plan's items before any is sent: at most max items,
// finite parameters, positions on the globe for navigation commands. The
// error names the item and field ("items[3].lat: …").
func CheckItems(items []fleet.MissionItem, max int) error {
	if len(items) == 0 {
		return fleet.Errorf(fleet.Invalid, "items: at least one item (seq 0 is home)")
	}
	if len(items) > max {
		return fleet.Errorf(fleet.Exhausted, "items: %d items, at most %d", len(items), max)
	}
	for i, it := range items {
		for j, v := range []float64{it.Param1, it.Param2, it.Param3} {
			if math.IsInf(v, 0) {
				return fleet.Errorf(fleet.Invalid, "items[%d].param%d: not a finite number", i, j+1)
			}
		}
		if math.IsInf(it.Param4, 0) {
			return fleet.Errorf(fleet.Invalid, "items[%d].param4: not a finite number", i)
		}
		if it.Command.IsNav() || it.Command >= fleet.CmdNavFencePolygonInclusion {
			if err := CheckPosition(fleet.Position{Lat: it.Lat, Lon: it.Lon, RelAlt: 0}, 1); err != nil {
				return fleet.Errorf(fleet.Invalid, "items[%d].%s", i, fleet.ErrorMessage(err))
			}
		}
		if math.IsNaN(it.Alt) || math.IsInf(it.Alt, 0) || math.Abs(it.Alt) > 100_000 {
			return fleet.Errorf(fleet.Invalid, "items[%d].alt: %v is not an altitude", i, it.Alt)
		}
	}
	return nil
}

// UploadMission replaces drone id's plan with items and returns the mission
// id the fleet tracks it under. The zone guard may refuse (Conflict naming
// the zone and leg) unless o.Override.
func (s *Service) UploadMission(ctx context.Context, p Principal, id string, items []fleet.MissionItem, o UploadOptions) (string, error) {
	sum := fmt.Sprintf("type=%s items=%d override=%t", o.Type, len(items), o.Override)
	if o.Type > fleet.MissionTypeRally {
		err := fleet.Errorf(fleet.Invalid, "type: %d is not mission, fence or rally", o.Type)
		s.audit(p, "Mission.Upload", id, "", sum, err)
		return "", err
	}
	if err := CheckItems(items, s.MaxMissionItems); err != nil {
		s.audit(p, "Mission.Upload", id, "", sum, err)
		return "", err
	}
	var mid string
	err := s.command(ctx, p, accessCommand, "Mission.Upload", id, sum, func(ctx context.Context) error {
		var err error
		mid, err = s.Fleet.UploadMission(ctx, id, o.Type, items, fleet.UploadOptions{SkipGuard: o.Override, Progress: o.Progress})
		return err
	})
	return mid, err
}

// DownloadMission reads drone id's plan of type t from the vehicle. It
// talks to the vehicle, so it needs command rights.
func (s *Service) DownloadMission(ctx context.Context, p Principal, id string, t fleet.MissionType) ([]fleet.MissionItem, error) {
	var items []fleet.MissionItem
	err := s.command(ctx, p, accessCommand, "Mission.Download", id, "type="+t.String(), func(ctx context.Context) error {
		var err error
		items, err = s.Fleet.DownloadMission(ctx, id, t)
		return err
	})
	return items, err
}

// MissionPlan returns the plan the fleet tracks for drone id, without
// asking the vehicle. Any role may read.
func (s *Service) MissionPlan(_ context.Context, p Principal, id string) ([]fleet.MissionItem, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkID("drone_id", id); err != nil {
		return nil, err
	}
	return s.Fleet.MissionPlan(id)
}

// ClearMission removes drone id's plan of type t.
func (s *Service) ClearMission(ctx context.Context, p Principal, id string, t fleet.MissionType) error {
	return s.command(ctx, p, accessCommand, "Mission.Clear", id, "type="+t.String(), func(ctx context.Context) error {
		return s.Fleet.ClearMission(ctx, id, t)
	})
}

// StartMission flies drone id's mission from its first item (arming and
// switching modes as needed). override skips the zone guard (audited).
func (s *Service) StartMission(ctx context.Context, p Principal, id string, override bool) error {
	return s.command(ctx, p, accessCommand, "Mission.Start", id, fmt.Sprintf("override=%t", override), func(ctx context.Context) error {
		return s.Fleet.StartMission(ctx, id, fleet.StartOptions{SkipGuard: override})
	})
}

// PauseMission holds drone id and remembers where its mission stopped.
func (s *Service) PauseMission(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Mission.Pause", id, "", func(ctx context.Context) error {
		return s.Fleet.PauseMission(ctx, id)
	})
}

// ResumeMission continues drone id's paused or interrupted mission.
func (s *Service) ResumeMission(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Mission.Resume", id, "", func(ctx context.Context) error {
		return s.Fleet.ResumeMission(ctx, id)
	})
}

// AbortMission ends drone id's mission and returns it home.
func (s *Service) AbortMission(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Mission.Abort", id, "", func(ctx context.Context) error {
		return s.Fleet.AbortMission(ctx, id)
	})
}

// ListParams reads drone id's whole parameter list from the vehicle
// (progress as values arrive). Any role may read.
func (s *Service) ListParams(ctx context.Context, p Principal, id string, progress func(got, total int)) ([]fleet.Param, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkID("drone_id", id); err != nil {
		return nil, err
	}
	return s.Fleet.Params(ctx, id, progress)
}

// GetParam returns drone id's parameter name (cached, or read). Any role.
func (s *Service) GetParam(ctx context.Context, p Principal, id, name string) (fleet.Param, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return fleet.Param{}, err
	}
	if err := checkID("drone_id", id); err != nil {
		return fleet.Param{}, err
	}
	if err := checkName("name", name, 16, false); err != nil {
		return fleet.Param{}, err
	}
	return s.Fleet.Param(ctx, id, name)
}

// SetParam sets drone id's parameter name to value and returns the
// vehicle's echo.
func (s *Service) SetParam(ctx context.Context, p Principal, id, name string, value float64) (fleet.Param, error) {
	sum := fmt.Sprintf("%s=%g", name, value)
	if err := checkName("name", name, 16, false); err != nil {
		s.audit(p, "Param.Set", id, "", sum, err)
		return fleet.Param{}, err
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		err := fleet.Errorf(fleet.Invalid, "value: not a finite number")
		s.audit(p, "Param.Set", id, "", sum, err)
		return fleet.Param{}, err
	}
	var out fleet.Param
	err := s.command(ctx, p, accessCommand, "Param.Set", id, sum, func(ctx context.Context) error {
		var err error
		out, err = s.Fleet.SetParam(ctx, id, name, value)
		return err
	})
	return out, err
}
