package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Limits of admin requests.
const (
	MaxGrantDrones   = 1000
	MaxGrantDuration = 30 * 24 * time.Hour
	MaxQueryLimit    = 10_000
	DefaultQueryMax  = 1000
)

// CreateToken makes a token (admin) and returns its bearer string, shown
// only now.
func (s *Service) CreateToken(_ context.Context, p Principal, role Role, agency, label string) (string, Token, error) {
	sum := fmt.Sprintf("role=%s agency=%s label=%s", role, agency, label)
	err := s.authorize(p, accessAdmin, nil)
	if err == nil && agency != "" && !s.agencyKnown(agency) {
		err = fleet.Errorf(fleet.NotFound, "agency: no agency %q", agency)
	}
	var secret string
	var t Token
	if err == nil {
		secret, t, err = NewToken(s.Store, s.Now(), role, agency, label, p.Label)
	}
	if err == nil {
		s.mu.Lock()
		s.tokens[t.ID] = t
		s.mu.Unlock()
		sum += " token_id=" + t.ID
	}
	s.audit(p, "Admin.CreateToken", "", "", sum, err)
	return secret, t, err
}

// ListTokens returns every token without secrets (admin), oldest first.
func (s *Service) ListTokens(_ context.Context, p Principal) ([]Token, error) {
	if err := s.authorize(p, accessAdmin, nil); err != nil {
		return nil, err
	}
	out, err := s.Store.Tokens()
	for i := range out {
		out[i].Hash = nil
	}
	return out, err
}

// RevokeToken revokes token id (admin); it stops working at once.
func (s *Service) RevokeToken(_ context.Context, p Principal, id string) error {
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkID("token_id", id)
	}
	var t Token
	if err == nil {
		s.mu.RLock()
		var ok bool
		t, ok = s.tokens[id]
		s.mu.RUnlock()
		if !ok {
			err = fleet.Errorf(fleet.NotFound, "token_id: no token %q", id)
		} else if !t.Revoked.IsZero() {
			err = fleet.Errorf(fleet.Conflict, "token %s is already revoked", id)
		}
	}
	if err == nil {
		t.Revoked = s.Now().UTC()
		if err = s.Store.PutToken(t); err == nil {
			s.mu.Lock()
			s.tokens[id] = t
			s.mu.Unlock()
		}
	}
	s.audit(p, "Admin.RevokeToken", "", "", "token_id="+id, err)
	return err
}

// GrantRequest is a new control grant.
type GrantRequest struct {
	// From is the agency whose drones are granted; To the agency granted.
	From, To string
	// Drones lists the drones granted (empty: every drone of From).
	Drones []string
	// Until is when the grant ends (after now, within 30 days).
	Until time.Time
}

// CreateGrant lets agency To command drones of agency From until a time
// (admin). The grant is announced on the bus (GrantChanged), seen by both
// agencies, and enforced on expiry.
func (s *Service) CreateGrant(_ context.Context, p Principal, req GrantRequest) (Grant, error) {
	sum := fmt.Sprintf("from=%s to=%s drones=%s until=%s", req.From, req.To, strings.Join(req.Drones, ","), req.Until.UTC().Format(time.RFC3339))
	now := s.Now()
	err := s.authorize(p, accessAdmin, nil)
	switch {
	case err != nil:
	case req.From == "" || !s.agencyKnown(req.From):
		err = fleet.Errorf(fleet.Invalid, "from: %q is not an agency", req.From)
	case req.To == "" || !s.agencyKnown(req.To):
		err = fleet.Errorf(fleet.Invalid, "to: %q is not an agency", req.To)
	case req.From == req.To:
		err = fleet.Errorf(fleet.Invalid, "to: an agency commands its own drones without a grant")
	case !req.Until.After(now):
		err = fleet.Errorf(fleet.Invalid, "until: %s is not in the future", req.Until.UTC().Format(time.RFC3339))
	case req.Until.Sub(now) > MaxGrantDuration:
		err = fleet.Errorf(fleet.Invalid, "until: a grant lasts at most %s", MaxGrantDuration)
	case len(req.Drones) > MaxGrantDrones:
		err = fleet.Errorf(fleet.Exhausted, "drones: %d drones, at most %d", len(req.Drones), MaxGrantDrones)
	}
	for i, d := range req.Drones {
		if err != nil {
			break
		}
		if e := checkID("drones", d); e != nil {
			err = fleet.Errorf(fleet.Invalid, "drones[%d]: %s", i, fleet.ErrorMessage(e))
		}
	}
	var g Grant
	if err == nil {
		var b [8]byte
		_, _ = rand.Read(b[:])
		g = Grant{ID: "g-" + hex.EncodeToString(b[:]), From: req.From, To: req.To, Drones: slices.Clone(req.Drones),
			Until: req.Until.UTC(), Created: now.UTC(), CreatedBy: p.Label}
		if err = s.Store.PutGrant(g); err == nil {
			s.mu.Lock()
			s.grants[g.ID] = g
			s.mu.Unlock()
			sum += " grant_id=" + g.ID
		}
	}
	s.audit(p, "Admin.CreateGrant", "", "", sum, err)
	if err != nil {
		return Grant{}, err
	}
	s.Fleet.Publish(fleet.GrantChanged{At: now.UTC(), GrantID: g.ID, From: g.From, To: g.To,
		Drones: slices.Clone(g.Drones), Until: g.Until, Active: true, By: p.Label})
	return g, nil
}

// ListGrants returns the grants (any role: both agencies see them), sorted
// by creation; active only unless all.
func (s *Service) ListGrants(_ context.Context, p Principal, all bool) ([]Grant, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	now := s.Now()
	s.mu.RLock()
	out := make([]Grant, 0, len(s.grants))
	for _, g := range s.grants {
		if all || g.Active(now) {
			g.Drones = slices.Clone(g.Drones)
			out = append(out, g)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Grant) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RevokeGrant ends grant id now (admin).
func (s *Service) RevokeGrant(_ context.Context, p Principal, id string) error {
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkID("grant_id", id)
	}
	var g Grant
	now := s.Now().UTC()
	if err == nil {
		s.mu.RLock()
		var ok bool
		g, ok = s.grants[id]
		s.mu.RUnlock()
		if !ok {
			err = fleet.Errorf(fleet.NotFound, "grant_id: no grant %q", id)
		} else if !g.Active(now) {
			err = fleet.Errorf(fleet.Conflict, "grant %s is no longer active", id)
		}
	}
	if err == nil {
		g.Revoked = now
		if err = s.Store.PutGrant(g); err == nil {
			s.mu.Lock()
			s.grants[id] = g
			s.expired[id] = true
			s.mu.Unlock()
		}
	}
	s.audit(p, "Admin.RevokeGrant", "", "", "grant_id="+id, err)
	if err == nil {
		s.Fleet.Publish(fleet.GrantChanged{At: now, GrantID: g.ID, From: g.From, To: g.To,
			Drones: slices.Clone(g.Drones), Until: g.Until, Active: false, By: p.Label})
	}
	return err
}

// Audit returns audit entries. Supervisors and admins read all of them; an
// operator only those of its own agency (as caller or as the drone's).
func (s *Service) Audit(_ context.Context, p Principal, q AuditQuery) ([]AuditEntry, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkQuery(q.From, q.To, q.Limit); err != nil {
		return nil, err
	}
	if p.Role == RoleOperator {
		if q.Agency != "" && q.Agency != p.Agency {
			return nil, fleet.Errorf(fleet.Forbidden, "an operator reads only its own agency's audit entries")
		}
		q.Agency = p.Agency
	}
	if q.Limit == 0 {
		q.Limit = DefaultQueryMax
	}
	return s.Store.Audit(q)
}

func checkQuery(from, to time.Time, limit int) error {
	if limit < 0 || limit > MaxQueryLimit {
		return fleet.Errorf(fleet.Invalid, "limit: %d is outside 0..%d", limit, MaxQueryLimit)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return fleet.Errorf(fleet.Invalid, "to: before from")
	}
	return nil
}

// DroneUpdate is what an admin changes about a drone; empty fields keep
// their value, a nil Profile keeps the profile.
type DroneUpdate struct {
	Name, Agency string
	Profile      *Profile
}

// UpdateDrone changes drone id's name, agency or profile (admin). The change
// is kept in the Store and wins over flags at the next start.
func (s *Service) UpdateDrone(_ context.Context, p Principal, id string, u DroneUpdate) (DroneConfig, error) {
	sum := fmt.Sprintf("name=%s agency=%s", u.Name, u.Agency)
	err := s.authorize(p, accessAdmin, nil)
	if err == nil {
		err = checkID("drone_id", id)
	}
	if err == nil {
		err = checkName("name", u.Name, 64, true)
	}
	if err == nil && u.Agency != "" && !s.agencyKnown(u.Agency) {
		err = fleet.Errorf(fleet.Invalid, "agency: %q is not an agency", u.Agency)
	}
	if err == nil && u.Profile != nil {
		pr := u.Profile
		switch {
		case math.IsNaN(pr.CruiseSpeedMS) || pr.CruiseSpeedMS < 0 || pr.CruiseSpeedMS > 100:
			err = fleet.Errorf(fleet.Invalid, "profile.cruise_speed_m_s: %v is outside 0..100", pr.CruiseSpeedMS)
		case pr.Endurance < 0 || pr.Endurance > 48*time.Hour:
			err = fleet.Errorf(fleet.Invalid, "profile.endurance: %s is outside 0..48h", pr.Endurance)
		case math.IsNaN(pr.ReservePct) || pr.ReservePct < 0 || pr.ReservePct > 90:
			err = fleet.Errorf(fleet.Invalid, "profile.reserve_pct: %v is outside 0..90", pr.ReservePct)
		}
	}
	var st fleet.DroneState
	if err == nil {
		st, err = s.Fleet.Drone(id)
	}
	var cfg DroneConfig
	if err == nil {
		cfg = s.droneConfig(st)
		if u.Name != "" {
			cfg.Name = u.Name
		}
		if u.Agency != "" {
			cfg.Agency = u.Agency
		}
		if u.Profile != nil {
			cfg.Profile = *u.Profile
		}
		cfg.Updated = s.Now().UTC()
		if err = s.Store.PutDrone(cfg); err == nil {
			err = s.Fleet.SetDroneInfo(id, fleet.DroneInfo{Name: cfg.Name, Agency: cfg.Agency})
		}
	}
	s.audit(p, "Admin.UpdateDrone", id, st.Agency, sum, err)
	return cfg, err
}

// droneConfig returns the stored configuration of st's drone, or a new one.
func (s *Service) droneConfig(st fleet.DroneState) DroneConfig {
	cfgs, err := s.Store.Drones()
	if err == nil {
		for _, c := range cfgs {
			if c.ID == st.ID {
				if !slices.Contains(c.Endpoints, st.Link) && st.Link != "" {
					c.Endpoints = append(c.Endpoints, st.Link)
					if len(c.Endpoints) > 8 {
						c.Endpoints = c.Endpoints[len(c.Endpoints)-8:]
					}
				}
				c.SysID = st.SysID
				return c
			}
		}
	}
	c := DroneConfig{ID: st.ID, SysID: st.SysID, Name: st.Name, Agency: st.Agency}
	if st.Link != "" {
		c.Endpoints = []string{st.Link}
	}
	return c
}

// DroneConfigs returns the stored drone configurations (any role).
func (s *Service) DroneConfigs(_ context.Context, p Principal) ([]DroneConfig, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	return s.Store.Drones()
}

// GetTrack returns drone id's stored track in [from, to), at most max
// points. Returns Unsupported when the server keeps no history.
func (s *Service) GetTrack(_ context.Context, p Principal, id string, from, to time.Time, max int) ([]TrackPoint, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkID("drone_id", id); err != nil {
		return nil, err
	}
	if err := checkQuery(from, to, max); err != nil {
		return nil, err
	}
	if s.History == nil {
		return nil, fleet.Errorf(fleet.Unsupported, "this server keeps no history")
	}
	if to.IsZero() {
		to = s.Now().Add(time.Second)
	}
	if max == 0 {
		max = DefaultQueryMax
	}
	return s.History.Track(id, from, to, max)
}

// ListEvents returns stored events. Returns Unsupported when the server
// keeps no history.
func (s *Service) ListEvents(_ context.Context, p Principal, q EventQuery) ([]EventRecord, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	if err := checkQuery(q.From, q.To, q.Limit); err != nil {
		return nil, err
	}
	if len(q.Kinds) > len(EventKinds) {
		return nil, fleet.Errorf(fleet.Invalid, "kinds: at most %d", len(EventKinds))
	}
	for i, k := range q.Kinds {
		if !slices.Contains(EventKinds, k) {
			return nil, fleet.Errorf(fleet.Invalid, "kinds[%d]: %q is not an event kind", i, k)
		}
	}
	if s.History == nil {
		return nil, fleet.Errorf(fleet.Unsupported, "this server keeps no history")
	}
	if q.Limit == 0 {
		q.Limit = DefaultQueryMax
	}
	return s.History.Events(q)
}
