package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// SigningKeyRecord is a vehicle's MAVLink 2 signing key as stored. The key
// is secret: it is returned once, when made, and never listed or logged.
type SigningKeyRecord struct {
	// SysID is the vehicle's MAVLink system id.
	SysID uint8
	Key   fleet.SigningKey
	// Created is when the key was made (or last rotated); CreatedBy the
	// admin's label.
	Created   time.Time
	CreatedBy string
}

// SigningKeyStore keeps signing keys. The bbolt store (fleet/store) and
// MemStore implement it; the Service manages keys only when its Store does.
type SigningKeyStore interface {
	// PutSigningKey creates or replaces the key of r.SysID.
	PutSigningKey(r SigningKeyRecord) error
	// SigningKeys returns every stored key, by system id.
	SigningKeys() ([]SigningKeyRecord, error)
}

// SigningKeyInfo describes a key without revealing it.
type SigningKeyInfo struct {
	SysID uint8
	// Fingerprint is the first 16 hex digits of the key's SHA-256: enough to
	// tell keys apart, nothing to sign with.
	Fingerprint string
	Created     time.Time
	CreatedBy   string
}

func keyInfo(r SigningKeyRecord) SigningKeyInfo {
	sum := sha256.Sum256(r.Key[:])
	return SigningKeyInfo{SysID: r.SysID, Fingerprint: hex.EncodeToString(sum[:8]), Created: r.Created, CreatedBy: r.CreatedBy}
}

// loadKeys puts the stored keys into the live key store (stored keys win
// over those the flags gave).
func (s *Service) loadKeys() error {
	ks, ok := s.Store.(SigningKeyStore)
	if !ok || s.Keys == nil {
		return nil
	}
	recs, err := ks.SigningKeys()
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	for _, r := range recs {
		s.Keys.SetSysID(r.SysID, r.Key)
	}
	return nil
}

// keyStore returns the Store's key store, or Unsupported.
func (s *Service) keyStore() (SigningKeyStore, error) {
	ks, ok := s.Store.(SigningKeyStore)
	if !ok || s.Keys == nil {
		return nil, fleet.Errorf(fleet.Unsupported, "this server does not manage signing keys")
	}
	return ks, nil
}

// CreateSigningKey makes a new MAVLink 2 signing key for system id sysID
// (admin) and returns it as 64 hex digits, shown only now: load it into
// the vehicle (ArduPilot: MAVProxy's "signing setup", or the simulator's
// --signing-key). Without rotate a system id that has a key is a Conflict;
// with rotate its key is replaced. The server signs and checks with the new
// key on links it hears from now on (a link already heard keeps the key it
// was heard with until it is heard again). The key is never logged or
// audited; its fingerprint is.
func (s *Service) CreateSigningKey(_ context.Context, p Principal, sysID int, rotate bool) (string, SigningKeyInfo, error) {
	action := "Admin.CreateSigningKey"
	if rotate {
		action = "Admin.RotateSigningKey"
	}
	sum := fmt.Sprintf("sys_id=%d", sysID)
	ks, err := s.keyStore()
	if err == nil {
		err = s.authorize(p, accessAdmin, nil)
	}
	if err == nil && (sysID < 1 || sysID > 254) {
		err = fleet.Errorf(fleet.Invalid, "sys_id: %d is outside 1..254", sysID)
	}
	var recs []SigningKeyRecord
	if err == nil {
		recs, err = ks.SigningKeys()
	}
	if err == nil {
		has := slices.ContainsFunc(recs, func(r SigningKeyRecord) bool { return int(r.SysID) == sysID })
		switch {
		case has && !rotate:
			err = fleet.Errorf(fleet.Conflict, "system id %d already has a signing key: rotate it instead", sysID)
		case !has && rotate:
			err = fleet.Errorf(fleet.NotFound, "sys_id: system id %d has no signing key to rotate", sysID)
		}
	}
	var rec SigningKeyRecord
	if err == nil {
		var k fleet.SigningKey
		if k, err = fleet.NewSigningKey(); err == nil {
			rec = SigningKeyRecord{SysID: uint8(sysID), Key: k, Created: s.Now().UTC(), CreatedBy: p.Label}
			err = ks.PutSigningKey(rec)
		}
	}
	var info SigningKeyInfo
	if err == nil {
		s.Keys.SetSysID(rec.SysID, rec.Key)
		info = keyInfo(rec)
		sum += " fingerprint=" + info.Fingerprint
	}
	s.audit(p, action, "", "", sum, err)
	if err != nil {
		return "", SigningKeyInfo{}, err
	}
	return hex.EncodeToString(rec.Key[:]), info, nil
}

// ListSigningKeys lists the stored keys without revealing them (admin).
func (s *Service) ListSigningKeys(_ context.Context, p Principal) ([]SigningKeyInfo, error) {
	ks, err := s.keyStore()
	if err != nil {
		return nil, err
	}
	if err := s.authorize(p, accessAdmin, nil); err != nil {
		return nil, err
	}
	recs, err := ks.SigningKeys()
	if err != nil {
		return nil, err
	}
	out := make([]SigningKeyInfo, 0, len(recs))
	for _, r := range recs {
		out = append(out, keyInfo(r))
	}
	slices.SortFunc(out, func(a, b SigningKeyInfo) int { return int(a.SysID) - int(b.SysID) })
	return out, nil
}
