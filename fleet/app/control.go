package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Drone is a drone as a caller sees it: its state, and whether the caller
// may command it.
type Drone struct {
	State fleet.DroneState
	// CanCommand reports whether the caller may command the drone now.
	CanCommand bool
}

// ListDrones returns every drone, sorted by id. Any role may read.
func (s *Service) ListDrones(_ context.Context, p Principal) ([]Drone, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	states := s.Fleet.Drones()
	out := make([]Drone, len(states))
	for i, st := range states {
		out[i] = Drone{State: st, CanCommand: s.CanCommand(p, st)}
	}
	return out, nil
}

// GetDrone returns drone id. Returns NotFound.
func (s *Service) GetDrone(_ context.Context, p Principal, id string) (Drone, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return Drone{}, err
	}
	if err := checkID("drone_id", id); err != nil {
		return Drone{}, err
	}
	st, err := s.Fleet.Drone(id)
	if err != nil {
		return Drone{}, err
	}
	return Drone{State: st, CanCommand: s.CanCommand(p, st)}, nil
}

// checkID checks a required id field.
func checkID(field, id string) error { return checkName(field, id, 128, false) }

// command runs fn on drone id for p after the checks a command needs, and
// audits it, allowed or not.
func (s *Service) command(ctx context.Context, p Principal, a access, action, id, summary string, fn func(ctx context.Context) error) error {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return err
	}
	if err := checkID("drone_id", id); err != nil {
		s.audit(p, action, "", "", summary, err)
		return err
	}
	st, err := s.Fleet.Drone(id)
	if err != nil {
		s.audit(p, action, id, "", summary, err)
		return err
	}
	if err := s.authorize(p, a, &st); err != nil {
		s.audit(p, action, id, st.Agency, summary, err)
		return err
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	err = fn(ctx)
	if err != nil && fleet.ErrorCode(err) == fleet.Internal && ctx.Err() != nil {
		err = ctxErr(ctx.Err())
	}
	s.audit(p, action, id, st.Agency, summary, err)
	return err
}

// ctxErr turns a context's end into a Timeout.
func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fleet.Errorf(fleet.Timeout, "deadline exceeded")
	}
	return fleet.Errorf(fleet.Timeout, "cancelled")
}

// CheckPosition checks a target position: finite, on the globe, and an
// altitude above home within -1,000..maxAlt metres. The error names the
// field.
func CheckPosition(pos fleet.Position, maxAlt float64) error {
	switch {
	case math.IsNaN(pos.Lat) || math.IsInf(pos.Lat, 0) || pos.Lat < -90 || pos.Lat > 90:
		return fleet.Errorf(fleet.Invalid, "lat: %v is not a latitude (-90..90)", pos.Lat)
	case math.IsNaN(pos.Lon) || math.IsInf(pos.Lon, 0) || pos.Lon < -180 || pos.Lon > 180:
		return fleet.Errorf(fleet.Invalid, "lon: %v is not a longitude (-180..180)", pos.Lon)
	case math.IsNaN(pos.RelAlt) || math.IsInf(pos.RelAlt, 0) || pos.RelAlt < -1000 || pos.RelAlt > maxAlt:
		return fleet.Errorf(fleet.Invalid, "alt_m: %v is outside -1000..%g m above home", pos.RelAlt, maxAlt)
	}
	return nil
}

// maxAlt is the fleet's altitude bound.
func (s *Service) maxAlt() float64 {
	if s.Fleet.MaxAltitude > 0 {
		return s.Fleet.MaxAltitude
	}
	return fleet.DefaultMaxAltitude
}

// ArmOptions tune Arm.
type ArmOptions struct {
	// Force arms without pre-arm checks.
	Force bool
	// Wait retries a refused arming until it is accepted or Wait has passed
	// (0: one attempt).
	Wait time.Duration
	// Progress, if not nil, is told the vehicle's reason after each refused
	// attempt while waiting.
	Progress func(reason string)
	// RetryInterval is the pause between attempts (optional, default 2 s).
	RetryInterval time.Duration
}

// Arm arms drone id. With Wait it retries while the vehicle refuses,
// reporting each refusal to Progress, and returns the last refusal with the
// vehicle's reason if the wait ends first.
func (s *Service) Arm(ctx context.Context, p Principal, id string, o ArmOptions) error {
	if o.Wait < 0 || o.Wait > 10*time.Minute {
		return fleet.Errorf(fleet.Invalid, "wait: %s is outside 0..10m", o.Wait)
	}
	sum := fmt.Sprintf("force=%t wait=%s", o.Force, o.Wait)
	return s.command(ctx, p, accessCommand, "Control.Arm", id, sum, func(ctx context.Context) error {
		retry := o.RetryInterval
		if retry <= 0 {
			retry = 2 * time.Second
		}
		deadline := time.Now().Add(o.Wait)
		for {
			err := s.Fleet.Arm(ctx, id, fleet.ArmOptions{Force: o.Force})
			if err == nil || fleet.ErrorCode(err) != fleet.Denied || o.Wait <= 0 || time.Now().Add(retry).After(deadline) {
				return err
			}
			if o.Progress != nil {
				o.Progress(fleet.ErrorMessage(err))
			}
			t := time.NewTimer(retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
	})
}

// Disarm disarms drone id (force: in flight).
func (s *Service) Disarm(ctx context.Context, p Principal, id string, force bool) error {
	return s.command(ctx, p, accessCommand, "Control.Disarm", id, fmt.Sprintf("force=%t", force), func(ctx context.Context) error {
		return s.Fleet.Disarm(ctx, id, force)
	})
}

// Takeoff climbs drone id to alt metres above home.
func (s *Service) Takeoff(ctx context.Context, p Principal, id string, alt float64) error {
	sum := fmt.Sprintf("alt_m=%g", alt)
	if math.IsNaN(alt) || math.IsInf(alt, 0) || alt <= 0 || alt > s.maxAlt() {
		err := fleet.Errorf(fleet.Invalid, "alt_m: %v is outside 0..%g m above home", alt, s.maxAlt())
		s.audit(p, "Control.Takeoff", id, "", sum, err)
		return err
	}
	return s.command(ctx, p, accessCommand, "Control.Takeoff", id, sum, func(ctx context.Context) error {
		return s.Fleet.Takeoff(ctx, id, alt)
	})
}

// Land lands drone id where it is.
func (s *Service) Land(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Control.Land", id, "", func(ctx context.Context) error {
		return s.Fleet.Land(ctx, id)
	})
}

// ReturnToLaunch flies drone id home.
func (s *Service) ReturnToLaunch(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Control.ReturnToLaunch", id, "", func(ctx context.Context) error {
		return s.Fleet.ReturnToLaunch(ctx, id)
	})
}

// Hold stops drone id where it is.
func (s *Service) Hold(ctx context.Context, p Principal, id string) error {
	return s.command(ctx, p, accessCommand, "Control.Hold", id, "", func(ctx context.Context) error {
		return s.Fleet.Hold(ctx, id)
	})
}

// GoTo flies drone id to target (altitude above home). The zone guard may
// refuse (Conflict naming the zone) unless override, which is audited.
func (s *Service) GoTo(ctx context.Context, p Principal, id string, target fleet.Position, override bool) error {
	sum := fmt.Sprintf("lat=%.6f lon=%.6f alt_m=%g override=%t", target.Lat, target.Lon, target.RelAlt, override)
	if err := CheckPosition(target, s.maxAlt()); err != nil {
		s.audit(p, "Control.GoTo", id, "", sum, err)
		return err
	}
	return s.command(ctx, p, accessCommand, "Control.GoTo", id, sum, func(ctx context.Context) error {
		return s.Fleet.GoTo(ctx, id, target, fleet.GoToOptions{SkipGuard: override})
	})
}

// SetMode switches drone id to the named flight mode.
func (s *Service) SetMode(ctx context.Context, p Principal, id, mode string) error {
	if err := checkName("mode", mode, 32, false); err != nil {
		return err
	}
	return s.command(ctx, p, accessCommand, "Control.SetMode", id, "mode="+mode, func(ctx context.Context) error {
		return s.Fleet.SetMode(ctx, id, mode)
	})
}

// EnableFence enables or disables drone id's on-board fence.
func (s *Service) EnableFence(ctx context.Context, p Principal, id string, enable bool) error {
	return s.command(ctx, p, accessCommand, "Control.EnableFence", id, fmt.Sprintf("enable=%t", enable), func(ctx context.Context) error {
		return s.Fleet.EnableFence(ctx, id, enable)
	})
}

// UploadGeofence puts drone id's allowed space on the vehicle as fences.
func (s *Service) UploadGeofence(ctx context.Context, p Principal, id string) (fleet.FenceReport, error) {
	var rep fleet.FenceReport
	err := s.command(ctx, p, accessCommand, "Control.UploadGeofence", id, "", func(ctx context.Context) error {
		var err error
		rep, err = s.Fleet.UploadGeofence(ctx, id, s.Zones, s.Fence)
		return err
	})
	return rep, err
}
