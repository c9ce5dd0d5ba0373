package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
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

// KeyOptions tune CreateSigningKey.
type KeyOptions struct {
	// Rotate replaces the system id's key (NotFound without one); without
	// it a system id that has a key is a Conflict.
	Rotate bool
	// Push gives the new key to every drone of the system id whose link is
	// up, over that link (MAVLink SETUP_SIGNING, see fleet.SigningVehicle),
	// before the server signs with it there.
	Push bool
}

// KeyPush is the outcome of giving one drone a key.
type KeyPush struct {
	DroneID string
	// Err is nil when the drone took the key (or, without a push, when its
	// link switched to it).
	Err error
}

// SigningKeyMade is what CreateSigningKey returns.
type SigningKeyMade struct {
	// Hex is the key as 64 hex digits, shown only now.
	Hex  string
	Info SigningKeyInfo
	// Drones has one entry per drone whose live link the key was given to.
	Drones []KeyPush
}

// CreateSigningKey makes a new MAVLink 2 signing key for system id sysID
// (admin) and returns it, shown only now. It is stored, and the server
// signs and checks with it on every link of that system id heard from now
// on. Live links:
//   - with o.Push, every drone of the system id whose link is up is given
//     the key over that link first and its link then signs with it (the old
//     key, or unsigned frames, accepted for the transport's grace period);
//     a drone that does not take it keeps its old key on that link (its
//     KeyPush has the error; PushSigningKey again);
//   - a rotation without push switches every signed live link of the system
//     id at once: its vehicle must be given the key by other means (or it
//     is cut off once the grace period ends);
//   - a create without push leaves live links as they are (unsigned until
//     PushSigningKey or a reconnect).
//
// The key is never logged or audited; its fingerprint is, and each drone
// given the key gets an Admin.PushSigningKey audit entry.
func (s *Service) CreateSigningKey(ctx context.Context, p Principal, sysID int, o KeyOptions) (SigningKeyMade, error) {
	action := "Admin.CreateSigningKey"
	if o.Rotate {
		action = "Admin.RotateSigningKey"
	}
	sum := fmt.Sprintf("sys_id=%d", sysID)
	if o.Push {
		sum += " push"
	}
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
		case has && !o.Rotate:
			err = fleet.Errorf(fleet.Conflict, "system id %d already has a signing key: rotate it instead", sysID)
		case !has && o.Rotate:
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
	var out SigningKeyMade
	if err == nil {
		s.Keys.SetSysID(rec.SysID, rec.Key)
		out.Info = keyInfo(rec)
		sum += " fingerprint=" + out.Info.Fingerprint
	}
	s.audit(p, action, "", "", sum, err)
	if err != nil {
		return SigningKeyMade{}, err
	}
	out.Hex = hex.EncodeToString(rec.Key[:])
	var targets []fleet.DroneState
	for _, d := range s.Fleet.Drones() {
		if int(d.SysID) == sysID && d.LinkState == fleet.LinkStateUp && (o.Push || (o.Rotate && d.Signed)) {
			targets = append(targets, d)
		}
	}
	out.Drones = s.giveKey(ctx, p, targets, rec, o.Push)
	return out, nil
}

// giveKey gives each drone's link the key, at once (the drones' pushes run
// concurrently), auditing each.
func (s *Service) giveKey(ctx context.Context, p Principal, ds []fleet.DroneState, rec SigningKeyRecord, push bool) []KeyPush {
	out := make([]KeyPush, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Fleet.SetSigningKey(ctx, d.ID, rec.Key, push)
			sum := fmt.Sprintf("sys_id=%d fingerprint=%s", rec.SysID, keyInfo(rec).Fingerprint)
			action := "Admin.PushSigningKey"
			if !push {
				action = "Admin.SwitchSigningKey"
			}
			s.audit(p, action, d.ID, d.Agency, sum, err)
			out[i] = KeyPush{DroneID: d.ID, Err: err}
		}()
	}
	wg.Wait()
	return out
}

// PushSigningKey gives drone droneID the stored key of its system id over
// its current link (admin): MAVLink SETUP_SIGNING, signed with the link's
// current key if it has one and sent again until the vehicle is heard
// signing with the key (there is no acknowledgement), after which the link
// is signed with it (see fleet.SigningVehicle). SETUP_SIGNING carries the
// key in clear: push only over a link that cannot be overheard (a cable, an
// encrypting radio or VPN). Returns NotFound for an unknown drone or a
// system id without a key, NoDrone for a lost link, Timeout when the
// vehicle never signs with the key (its link keeps its old key), and
// Unsupported on a server without key management. Audited with the key's
// fingerprint, never the key.
func (s *Service) PushSigningKey(ctx context.Context, p Principal, droneID string) (SigningKeyInfo, error) {
	ks, err := s.keyStore()
	if err != nil {
		return SigningKeyInfo{}, err
	}
	if err := s.authorize(p, accessAdmin, nil); err != nil {
		return SigningKeyInfo{}, err
	}
	d, err := s.Fleet.Drone(droneID)
	if err != nil {
		s.audit(p, "Admin.PushSigningKey", droneID, "", "", err)
		return SigningKeyInfo{}, err
	}
	recs, err := ks.SigningKeys()
	if err != nil {
		return SigningKeyInfo{}, err
	}
	i := slices.IndexFunc(recs, func(r SigningKeyRecord) bool { return r.SysID == d.SysID })
	if i < 0 {
		err := fleet.Errorf(fleet.NotFound, "system id %d of drone %q has no signing key: create one", d.SysID, droneID)
		s.audit(p, "Admin.PushSigningKey", droneID, d.Agency, fmt.Sprintf("sys_id=%d", d.SysID), err)
		return SigningKeyInfo{}, err
	}
	if err := s.giveKey(ctx, p, []fleet.DroneState{d}, recs[i], true)[0].Err; err != nil {
		return SigningKeyInfo{}, err
	}
	return keyInfo(recs[i]), nil
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
