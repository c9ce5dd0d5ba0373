package app

import (
	"sort"

	"github.com/centinela-gcs/centinela/fleet"
)

var _ PatrolStore = (*MemStore)(nil)

// PutPatrol implements PatrolStore.
func (m *MemStore) PutPatrol(r PatrolRecord) error {
	if r.ID == "" {
		return fleet.Errorf(fleet.Invalid, "patrol id: required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.patrols == nil {
		m.patrols = map[string]PatrolRecord{}
	}
	r.Patrol = clonePatrol(r.Patrol)
	m.patrols[r.ID] = r
	return nil
}

// DeletePatrol implements PatrolStore.
func (m *MemStore) DeletePatrol(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.patrols, id)
	return nil
}

// Patrols implements PatrolStore, oldest first.
func (m *MemStore) Patrols() ([]PatrolRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]PatrolRecord, 0, len(m.patrols))
	for _, r := range m.patrols {
		r.Patrol = clonePatrol(r.Patrol)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
