package app

import "slices"

var _ SigningKeyStore = (*MemStore)(nil)

// PutSigningKey implements SigningKeyStore.
func (m *MemStore) PutSigningKey(r SigningKeyRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[uint8]SigningKeyRecord{}
	}
	m.keys[r.SysID] = r
	return nil
}

// SigningKeys implements SigningKeyStore.
func (m *MemStore) SigningKeys() ([]SigningKeyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SigningKeyRecord, 0, len(m.keys))
	for _, r := range m.keys {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b SigningKeyRecord) int { return int(a.SysID) - int(b.SysID) })
	return out, nil
}
