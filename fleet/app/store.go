package app

import (
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

// Role is what a token's holder may do.
type Role string

// Roles.
const (
	// RoleSupervisor reads and watches everything of every agency: the
	// shared real-time picture across the border. It commands nothing.
	RoleSupervisor Role = "supervisor"
	// RoleOperator commands the drones of its own agency, and those another
	// agency granted it, and reads everything.
	RoleOperator Role = "operator"
	// RoleAdmin manages zones, agencies, drones' names and agencies, tokens
	// and grants, may order fleet-wide emergency actions, and reads
	// everything. It does not fly drones.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleSupervisor, RoleOperator, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleSupervisor || r == RoleOperator || r == RoleAdmin }

// Commands reports whether r may command drones at all (of its agency, or
// of another under a grant): only operators may; an admin may only take
// the emergency actions.
func (r Role) Commands() bool { return r == RoleOperator }

// Principal is who is calling: the holder of a token.
type Principal struct {
	// TokenID is the token's public id ("" for the server itself).
	TokenID string
	// Label is the token's label, shown in the audit log.
	Label string
	Role  Role
	// Agency is the caller's agency (required for operators).
	Agency string
}

// Token is an API token as stored: never the secret, only its hash.
type Token struct {
	// ID is the token's public id, part of the bearer string.
	ID    string
	Label string
	Role  Role
	// Agency is the holder's agency ("" for a supervisor or admin of none).
	Agency string
	// Hash is the SHA-256 of the token's secret part.
	Hash []byte
	// Created is when the token was made; CreatedBy the label of who made it.
	Created   time.Time
	CreatedBy string
	// Revoked is when the token was revoked (zero while it is valid).
	Revoked time.Time
}

// Grant lets agency To command drones of agency From until a time: the
// control grant of a joint operation.
type Grant struct {
	ID string
	// From is the agency whose drones are granted; To the agency granted.
	From, To string
	// Drones lists the granted drones; empty means every drone of From.
	Drones []string
	// Until is when the grant ends; a command at or after it is refused.
	Until time.Time
	// Created is when the grant was made; CreatedBy the admin's label.
	Created   time.Time
	CreatedBy string
	// Revoked is when the grant was revoked (zero while it is not).
	Revoked time.Time
}

// Active reports whether g lets its agency command at time t.
func (g Grant) Active(t time.Time) bool { return g.Revoked.IsZero() && t.Before(g.Until) }

// AuditEntry is one line of the audit log: who did what, when, with what
// result.
type AuditEntry struct {
	// Seq orders entries; the store assigns it.
	Seq uint64
	At  time.Time
	// TokenID, Label, Role and Agency say who.
	TokenID, Label string
	Role           Role
	Agency         string
	// Action is the operation ("Control.Arm", "Admin.CreateToken", …).
	Action string
	// DroneID is the drone acted on, DroneAgency its agency ("" for none).
	DroneID, DroneAgency string
	// Summary describes the arguments (never a secret).
	Summary string
	// Code is "" on success, else the error's code; Message its message.
	Code    fleet.Code
	Message string
}

// AuditQuery selects audit entries. Zero fields select everything.
type AuditQuery struct {
	// From and To bound At (From inclusive, To exclusive; zero: unbounded).
	From, To time.Time
	// DroneID selects one drone's entries.
	DroneID string
	// Agency selects entries by the caller's agency or the drone's agency.
	Agency string
	// Limit caps the result, newest first kept (0: the store's default).
	Limit int
}

// Match reports whether e is selected by q (Limit aside).
func (q AuditQuery) Match(e AuditEntry) bool {
	if !q.From.IsZero() && e.At.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !e.At.Before(q.To) {
		return false
	}
	if q.DroneID != "" && e.DroneID != q.DroneID {
		return false
	}
	if q.Agency != "" && e.Agency != q.Agency && e.DroneAgency != q.Agency {
		return false
	}
	return true
}

// Profile is a drone's flight profile, used by the planner.
type Profile struct {
	// CruiseSpeedMS is the patrol speed, m/s (0: unknown).
	CruiseSpeedMS float64
	// Endurance is the flight time on a full battery (0: unknown).
	Endurance time.Duration
	// ReservePct is the battery kept for the return, percent.
	ReservePct float64
}

// DroneConfig is what the server keeps about a drone between runs.
type DroneConfig struct {
	// ID is the drone's fleet id.
	ID string
	// SysID is its MAVLink system id when last heard.
	SysID uint8
	// Name and Agency are the configured display name and agency.
	Name, Agency string
	// Profile is its flight profile.
	Profile Profile
	// Endpoints lists the links it was heard on (most recent last, bounded).
	Endpoints []string
	// Updated is when an admin last changed it (zero: seeded from flags).
	Updated time.Time
}

// Store is the durable state the control plane needs: tokens, grants, the
// audit log, drones' setup, and the agencies and zones made at run time
// (the bundled dataset stays in code). Package fleet/store implements it on
// bbolt; MemStore in memory.
//
// Methods return *fleet.Error: NotFound for a missing id, Internal when the
// storage fails. They may be called from any goroutine.
type Store interface {
	// PutToken creates or replaces a token.
	PutToken(t Token) error
	// Token returns token id. Returns NotFound.
	Token(id string) (Token, error)
	// Tokens returns every token, revoked ones too, oldest first.
	Tokens() ([]Token, error)

	// PutGrant creates or replaces a grant.
	PutGrant(g Grant) error
	// Grants returns every grant, revoked and expired ones too.
	Grants() ([]Grant, error)

	// AppendAudit appends e (its Seq is assigned).
	AppendAudit(e AuditEntry) error
	// Audit returns the entries q selects, oldest first.
	Audit(q AuditQuery) ([]AuditEntry, error)

	// PutDrone creates or replaces a drone's configuration.
	PutDrone(c DroneConfig) error
	// Drones returns every configured drone.
	Drones() ([]DroneConfig, error)

	// PutAgency creates or replaces an agency made at run time.
	PutAgency(a geofence.Agency) error
	// Agencies returns the agencies made at run time.
	Agencies() ([]geofence.Agency, error)

	// PutZone creates or replaces a zone made or imported at run time.
	PutZone(z geofence.Zone) error
	// DeleteZone removes a zone made at run time. Returns NotFound.
	DeleteZone(id string) error
	// Zones returns the zones made or imported at run time.
	Zones() ([]geofence.Zone, error)
}

// TrackPoint is one stored telemetry sample of a drone.
type TrackPoint struct {
	At time.Time
	// Lat, Lon are degrees; AltMSL and RelAlt metres.
	Lat, Lon, AltMSL, RelAlt float64
	// VelN, VelE, VelD are m/s; GroundSpeed m/s; Heading degrees (NaN unknown).
	VelN, VelE, VelD, GroundSpeed, Heading float64
	// BatteryPct is -1 when unknown.
	BatteryPct int
	Mode       string
	Armed      bool
	LinkUp     bool
}

// EventRecord is a stored event: a stable machine code with parameters, so
// that every reader renders it in its own language.
type EventRecord struct {
	// Seq orders records; the store assigns it.
	Seq uint64
	At  time.Time
	// DroneID is the drone the event is about ("" for none).
	DroneID string
	// Agency is the drone's agency when the event happened.
	Agency string
	// Kind is the event's stable code (see EventKinds).
	Kind string
	// Severity is MAV_SEVERITY-like: 0 emergency … 7 debug.
	Severity uint8
	// Params carry the event's data ("zone_id", "text", "reason", …).
	Params map[string]string
}

// EventQuery selects event records. Zero fields select everything.
type EventQuery struct {
	From, To time.Time
	DroneID  string
	Agency   string
	// Kinds selects these kinds only (empty: all).
	Kinds []string
	// Limit caps the result, newest kept (0: the store's default).
	Limit int
}

// History is the stored past: tracks and events. Package fleet/store
// implements it on bbolt.
type History interface {
	// Track returns drone id's samples in [from, to), oldest first,
	// downsampled evenly to at most max points (0: the store's default).
	Track(id string, from, to time.Time, max int) ([]TrackPoint, error)
	// Events returns the records q selects, oldest first.
	Events(q EventQuery) ([]EventRecord, error)
}
