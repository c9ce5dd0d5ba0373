package app

import (
	"slices"
	"strings"
	"sync"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
)

var _ Store = (*MemStore)(nil)

// MemStore is a Store in memory, for tests and for a server run without a
// file. Its audit log keeps at most MaxAudit entries (default 100,000),
// dropping the oldest.
type MemStore struct {
	// MaxAudit bounds the audit log (optional, default 100,000).
	MaxAudit int

	mu       sync.Mutex
	tokens   map[string]Token
	grants   map[string]Grant
	audit    []AuditEntry
	seq      uint64
	drones   map[string]DroneConfig
	agencies map[string]geofence.Agency
	zones    map[string]geofence.Zone
	keys     map[uint8]SigningKeyRecord
	patrols  map[string]PatrolRecord // memstore_patrol.go
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{tokens: map[string]Token{}, grants: map[string]Grant{}, drones: map[string]DroneConfig{},
		agencies: map[string]geofence.Agency{}, zones: map[string]geofence.Zone{}}
}

// PutToken implements Store.
func (m *MemStore) PutToken(t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Hash = slices.Clone(t.Hash)
	m.tokens[t.ID] = t
	return nil
}

// Token implements Store.
func (m *MemStore) Token(id string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	if !ok {
		return Token{}, fleet.Errorf(fleet.NotFound, "no token %q", id)
	}
	t.Hash = slices.Clone(t.Hash)
	return t, nil
}

// Tokens implements Store.
func (m *MemStore) Tokens() ([]Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Token, 0, len(m.tokens))
	for _, t := range m.tokens {
		t.Hash = slices.Clone(t.Hash)
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// PutGrant implements Store.
func (m *MemStore) PutGrant(g Grant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g.Drones = slices.Clone(g.Drones)
	m.grants[g.ID] = g
	return nil
}

// Grants implements Store.
func (m *MemStore) Grants() ([]Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Grant, 0, len(m.grants))
	for _, g := range m.grants {
		g.Drones = slices.Clone(g.Drones)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// AppendAudit implements Store.
func (m *MemStore) AppendAudit(e AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	e.Seq = m.seq
	max := m.MaxAudit
	if max <= 0 {
		max = 100_000
	}
	if len(m.audit) >= max {
		m.audit = slices.Delete(m.audit, 0, len(m.audit)-max+1)
	}
	m.audit = append(m.audit, e)
	return nil
}

// Audit implements Store.
func (m *MemStore) Audit(q AuditQuery) ([]AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AuditEntry
	for _, e := range m.audit {
		if q.Match(e) {
			out = append(out, e)
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return slices.Clone(out), nil
}

// PutDrone implements Store.
func (m *MemStore) PutDrone(c DroneConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Endpoints = slices.Clone(c.Endpoints)
	m.drones[c.ID] = c
	return nil
}

// Drones implements Store.
func (m *MemStore) Drones() ([]DroneConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DroneConfig, 0, len(m.drones))
	for _, c := range m.drones {
		c.Endpoints = slices.Clone(c.Endpoints)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b DroneConfig) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// PutAgency implements Store.
func (m *MemStore) PutAgency(a geofence.Agency) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a.Jurisdictions = slices.Clone(a.Jurisdictions)
	m.agencies[a.ID] = a
	return nil
}

// Agencies implements Store.
func (m *MemStore) Agencies() ([]geofence.Agency, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]geofence.Agency, 0, len(m.agencies))
	for _, a := range m.agencies {
		a.Jurisdictions = slices.Clone(a.Jurisdictions)
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b geofence.Agency) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// PutZone implements Store.
func (m *MemStore) PutZone(z geofence.Zone) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.zones[z.ID] = z
	return nil
}

// DeleteZone implements Store.
func (m *MemStore) DeleteZone(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.zones[id]; !ok {
		return fleet.Errorf(fleet.NotFound, "no zone %q", id)
	}
	delete(m.zones, id)
	return nil
}

// Zones implements Store.
func (m *MemStore) Zones() ([]geofence.Zone, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]geofence.Zone, 0, len(m.zones))
	for _, z := range m.zones {
		out = append(out, z)
	}
	slices.SortFunc(out, func(a, b geofence.Zone) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
