package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// Defaults of the Service's options.
const (
	DefaultMaxMissionItems  = 1000
	DefaultEmergencyTimeout = 10 * time.Second
	DefaultEmergencyWorkers = 64
	DefaultMaxAlerts        = 500
)

// Service is the application layer. Set the fields, call Initialize, and
// Close when done.
type Service struct {
	// Fleet is the fleet (required).
	Fleet *fleet.Fleet
	// Zones is where drones may fly (required).
	Zones *geofence.Store
	// Store keeps tokens, grants, the audit log and the setup (required;
	// NewMemStore for a server without a file).
	Store Store
	// History answers track and event queries (optional; without it they
	// return Unsupported).
	History History
	// Now is the clock (optional, default time.Now). Grant expiry uses it.
	Now func() time.Time
	// Logger receives the layer's logs (optional, default discard).
	Logger *slog.Logger
	// Fence tunes UploadGeofence (optional, the fleet's defaults).
	Fence fleet.FenceOptions
	// GeoJSONLimits bound imported GeoJSON (optional, geofence.DefaultLimits).
	GeoJSONLimits geofence.Limits
	// MaxMissionItems bounds an uploaded plan (optional, default 1000).
	MaxMissionItems int
	// EmergencyTimeout bounds each drone's emergency command when the
	// caller's context has no deadline (optional, default 10 s).
	EmergencyTimeout time.Duration
	// MaxAlerts bounds the alerts kept for the map (optional, default 500).
	MaxAlerts int
	// Keys is the live MAVLink 2 signing key store the transport reads
	// (optional). With it, and a Store that implements SigningKeyStore, the
	// stored keys are loaded into it at Initialize and admins manage keys
	// (CreateSigningKey); without, key management is Unsupported.
	Keys *fleet.MemKeyStore

	log *slog.Logger

	mu       sync.RWMutex
	tokens   map[string]Token
	grants   map[string]Grant
	expired  map[string]bool // grants whose expiry was announced
	runtime  map[string]bool // zones made at run time (kept in the Store)
	alerts   []Alert
	alertIdx map[string]int
	lowBatt  map[string]bool
	patrols  patrolSet // patrol.go

	ctx    context.Context
	cancel context.CancelFunc
	closed bool // Close was called (Close is called from one goroutine)
	wg     sync.WaitGroup
	sub    *fleet.Subscription
}

// Initialize checks the options, loads tokens, grants and run-time zones
// and agencies from the Store into the zone store, reloads the stored
// patrols when the Store is a PatrolStore, and starts the Service's
// goroutine. Returns Invalid for missing required fields.
func (s *Service) Initialize() error {
	if s.Fleet == nil || s.Zones == nil || s.Store == nil {
		return fleet.Errorf(fleet.Invalid, "app: Fleet, Zones and Store are required")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.log = s.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.log = s.log.With("component", "app")
	if s.GeoJSONLimits == (geofence.Limits{}) {
		s.GeoJSONLimits = geofence.DefaultLimits()
	}
	if s.MaxMissionItems <= 0 {
		s.MaxMissionItems = DefaultMaxMissionItems
	}
	if s.EmergencyTimeout <= 0 {
		s.EmergencyTimeout = DefaultEmergencyTimeout
	}
	if s.MaxAlerts <= 0 {
		s.MaxAlerts = DefaultMaxAlerts
	}
	toks, err := s.Store.Tokens()
	if err != nil {
		return fmt.Errorf("load tokens: %w", err)
	}
	grants, err := s.Store.Grants()
	if err != nil {
		return fmt.Errorf("load grants: %w", err)
	}
	s.tokens = make(map[string]Token, len(toks))
	for _, t := range toks {
		s.tokens[t.ID] = t
	}
	s.grants = make(map[string]Grant, len(grants))
	s.expired = make(map[string]bool)
	now := s.Now()
	for _, g := range grants {
		s.grants[g.ID] = g
		if !g.Active(now) {
			s.expired[g.ID] = true
		}
	}
	if err := s.loadZones(); err != nil {
		return err
	}
	s.alertIdx = make(map[string]int)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.loadKeys(); err != nil {
		s.cancel()
		s.cancel = nil
		return err
	}
	if err := s.loadPatrols(); err != nil {
		s.cancel()
		s.cancel = nil
		return fmt.Errorf("load patrols: %w", err)
	}
	s.sub = s.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 4096, Batch: true, Linger: serviceLinger})
	s.wg.Add(1)
	go s.run()
	return nil
}

// loadZones puts the Store's run-time agencies and zones into Zones.
func (s *Service) loadZones() error {
	agencies, err := s.Store.Agencies()
	if err != nil {
		return fmt.Errorf("load agencies: %w", err)
	}
	for _, a := range agencies {
		if err := s.Zones.PutAgency(a); err != nil {
			return fmt.Errorf("load agency %q: %w", a.ID, err)
		}
	}
	zones, err := s.Store.Zones()
	if err != nil {
		return fmt.Errorf("load zones: %w", err)
	}
	s.runtime = make(map[string]bool, len(zones))
	if len(zones) > 0 {
		err := s.Zones.Update(func(cur *geofence.Set) (*geofence.Set, error) { return cur.With(zones...) })
		if err != nil {
			return fmt.Errorf("load zones: %w", err)
		}
	}
	for _, z := range zones {
		s.runtime[z.ID] = true
	}
	return nil
}

// Close stops the Service's goroutine and waits for it.
func (s *Service) Close() {
	if s.cancel == nil || s.closed {
		return
	}
	s.closed = true
	s.cancel()
	s.sub.Close()
	s.wg.Wait()
}

// run follows the fleet's events (alerts) and announces grant expiries,
// until Close.
func (s *Service) run() {
	defer s.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.sub.Ready():
			if !s.sub.Take(s.note) {
				return
			}
		case <-tick.C:
			s.expireGrants()
			s.tickPatrols()
		}
	}
}

// serviceLinger is how long the Service lets drones' states gather before
// it reads them (low-battery alerts): one wake-up for many drones.
const serviceLinger = 20 * time.Millisecond

// note takes one state or event from the fleet. Called from run only.
func (s *Service) note(st *fleet.DroneState, ev fleet.Event) {
	if st != nil {
		s.noteState(st)
		return
	}
	s.noteAlert(ev)
	s.notePatrol(ev)
}

// expireGrants publishes a GrantChanged for every grant that expired since
// the last look.
func (s *Service) expireGrants() {
	now := s.Now()
	var gone []Grant
	s.mu.Lock()
	for id, g := range s.grants {
		if !s.expired[id] && !g.Active(now) {
			s.expired[id] = true
			gone = append(gone, g)
		}
	}
	s.mu.Unlock()
	for _, g := range gone {
		s.log.Info("control grant expired", "grant_id", g.ID, "from", g.From, "to", g.To)
		s.Fleet.Publish(fleet.GrantChanged{At: now, GrantID: g.ID, From: g.From, To: g.To,
			Drones: slices.Clone(g.Drones), Until: g.Until, Active: false})
	}
}

// Token format: "cnt_" + 16 hex digits of id + "_" + 43 characters of secret.
const tokenPrefix = "cnt_"

func newTokenSecret() (id, secret string, err error) {
	var idb [8]byte
	var sb [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(sb[:]); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(idb[:]), base64.RawURLEncoding.EncodeToString(sb[:]), nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewToken makes a token for role (and agency) in st and returns the bearer
// string, shown only now, and the stored token. It is what "centinela token
// create" calls before a server runs; Service.CreateToken is the same
// through the API. Returns Invalid for a bad role, label or agency.
func NewToken(st Store, now time.Time, role Role, agency, label, createdBy string) (string, Token, error) {
	if !role.Valid() {
		return "", Token{}, fleet.Errorf(fleet.Invalid, "role: %q is not supervisor, operator or admin", role)
	}
	if role == RoleOperator && agency == "" {
		return "", Token{}, fleet.Errorf(fleet.Invalid, "agency: an operator token needs an agency")
	}
	if err := checkName("label", label, 64, true); err != nil {
		return "", Token{}, err
	}
	if err := checkName("agency", agency, 64, true); err != nil {
		return "", Token{}, err
	}
	id, secret, err := newTokenSecret()
	if err != nil {
		return "", Token{}, fmt.Errorf("token: %w", err)
	}
	if label == "" {
		label = string(role) + "-" + id[:6]
	}
	t := Token{ID: id, Label: label, Role: role, Agency: agency, Hash: hashSecret(secret),
		Created: now.UTC(), CreatedBy: createdBy}
	if err := st.PutToken(t); err != nil {
		return "", Token{}, err
	}
	return tokenPrefix + id + "_" + secret, t, nil
}

// Authenticate returns the Principal of a bearer token (with or without a
// "Bearer " prefix). Returns Unauthenticated for a missing, malformed,
// unknown or revoked token.
func (s *Service) Authenticate(_ context.Context, bearer string) (Principal, error) {
	bearer = strings.TrimSpace(bearer)
	if len(bearer) > 7 && strings.EqualFold(bearer[:7], "bearer ") {
		bearer = strings.TrimSpace(bearer[7:])
	}
	if bearer == "" {
		return Principal{}, fleet.Errorf(fleet.Unauthenticated, "a bearer token is required")
	}
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 || secret == "" || len(bearer) > 128 {
		return Principal{}, fleet.Errorf(fleet.Unauthenticated, "malformed token")
	}
	s.mu.RLock()
	t, found := s.tokens[id]
	s.mu.RUnlock()
	if !found || subtle.ConstantTimeCompare(t.Hash, hashSecret(secret)) != 1 {
		return Principal{}, fleet.Errorf(fleet.Unauthenticated, "unknown token")
	}
	if !t.Revoked.IsZero() {
		return Principal{}, fleet.Errorf(fleet.Unauthenticated, "token %s was revoked", t.ID)
	}
	return Principal{TokenID: t.ID, Label: t.Label, Role: t.Role, Agency: t.Agency}, nil
}

// access is what an operation needs.
type access int

const (
	accessRead access = iota
	accessCommand
	accessEmergency
	accessAdmin
)

// authorize checks that p may do what a needs, on drone d for the drone
// accesses. Returns Unauthenticated for an empty principal, Forbidden
// otherwise.
func (s *Service) authorize(p Principal, a access, d *fleet.DroneState) error {
	if !p.Role.Valid() {
		return fleet.Errorf(fleet.Unauthenticated, "a bearer token is required")
	}
	switch a {
	case accessRead:
		return nil
	case accessAdmin:
		if p.Role != RoleAdmin {
			return fleet.Errorf(fleet.Forbidden, "only an admin may do this (caller %q is %s)", p.Label, p.Role)
		}
		return nil
	case accessEmergency:
		if p.Role == RoleAdmin {
			return nil
		}
	}
	if !p.Role.Commands() {
		return fleet.Errorf(fleet.Forbidden, "a %s may not command drones", p.Role)
	}
	if d == nil {
		return nil
	}
	if d.Agency == p.Agency {
		return nil
	}
	return s.grantFor(p, d)
}

// grantFor finds an active grant letting p's agency command d.
func (s *Service) grantFor(p Principal, d *fleet.DroneState) error {
	active, lapsed := s.activeGrant(p, d)
	if active {
		return nil
	}
	if lapsed != nil {
		if !lapsed.Revoked.IsZero() {
			return fleet.Errorf(fleet.Forbidden, "drone %q belongs to agency %q: grant %s to %q was revoked", d.ID, d.Agency, lapsed.ID, p.Agency)
		}
		return fleet.Errorf(fleet.Forbidden, "drone %q belongs to agency %q: grant %s to %q expired at %s",
			d.ID, d.Agency, lapsed.ID, p.Agency, lapsed.Until.UTC().Format(time.RFC3339))
	}
	return fleet.Errorf(fleet.Forbidden, "drone %q belongs to agency %q; agency %q may not command it", d.ID, d.Agency, p.Agency)
}

// activeGrant reports whether an active grant lets p's agency command d,
// and if none does the grant that would have and lapsed last (nil if
// none).
func (s *Service) activeGrant(p Principal, d *fleet.DroneState) (bool, *Grant) {
	now := s.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var lapsed *Grant
	for _, g := range s.grants {
		if g.To != p.Agency || g.From != d.Agency {
			continue
		}
		if len(g.Drones) > 0 && !slices.Contains(g.Drones, d.ID) {
			continue
		}
		if g.Active(now) {
			return true, nil
		}
		if lapsed == nil || g.Until.After(lapsed.Until) {
			g := g
			lapsed = &g
		}
	}
	return false, lapsed
}

// CanCommand reports whether p may command drone d now (for showing or
// hiding controls; the commands check again). It answers as authorize
// does for a command, without building the refusal: the map asks it for
// every drone of every client every few seconds.
func (s *Service) CanCommand(p Principal, d fleet.DroneState) bool {
	switch {
	case !p.Role.Commands():
		return false
	case d.Agency == p.Agency:
		return true
	}
	active, _ := s.activeGrant(p, &d)
	return active
}

// audit records an action: the audit log and an OperatorAction event.
func (s *Service) audit(p Principal, action, droneID, droneAgency, summary string, err error) {
	now := s.Now().UTC()
	e := AuditEntry{At: now, TokenID: p.TokenID, Label: p.Label, Role: p.Role, Agency: p.Agency,
		Action: action, DroneID: droneID, DroneAgency: droneAgency, Summary: summary,
		Code: fleet.ErrorCode(err), Message: fleet.ErrorMessage(err)}
	if aerr := s.Store.AppendAudit(e); aerr != nil {
		s.log.Error("audit log append failed", "err", aerr, "action", action, "drone_id", droneID)
	}
	s.Fleet.Publish(fleet.OperatorAction{DroneID: droneID, At: now, Actor: p.Label, Role: string(p.Role),
		Agency: p.Agency, Action: action, Summary: summary, Code: e.Code, Message: e.Message})
}

// checkName checks an identifier-like field: at most max bytes of printable
// text (optional when empty is allowed).
func checkName(field, v string, max int, emptyOK bool) error {
	if v == "" {
		if emptyOK {
			return nil
		}
		return fleet.Errorf(fleet.Invalid, "%s: required", field)
	}
	if len(v) > max {
		return fleet.Errorf(fleet.Invalid, "%s: at most %d bytes", field, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fleet.Errorf(fleet.Invalid, "%s: control characters are not allowed", field)
		}
	}
	return nil
}
