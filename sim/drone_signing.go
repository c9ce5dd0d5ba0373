package sim

import (
	"crypto/subtle"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Signing
//
// A drone with a key (Config.SigningKeys, or one a ground station gave it
// with SETUP_SIGNING) signs every frame it sends with MAVLink 2 signing
// and, like ArduPilot with signing enabled, drops every incoming frame that
// is unsigned (except RADIO_STATUS and RADIO, which ArduPilot lets through
// unsigned), badly signed, or replayed: a timestamp not newer than the last
// of its stream (system, component and link id), or, for a new stream, more
// than a minute older than the drone's own timestamp (the newest it used or
// accepted). A sender without the key cannot command it.
//
// SETUP_SIGNING (message 256) for the drone's system id is handled as
// ArduPilot's GCS_Signing.cpp does: the key and initial timestamp are stored
// (in the drone, which keeps them across link restarts and reboots as
// ArduPilot keeps them in its storage) and used at once, for sending and
// checking; a key and timestamp both zero disable signing. It passes the
// same check as any frame, so a drone that signs accepts only a
// SETUP_SIGNING signed with its current key, and an unsigned drone accepts
// any (ArduPilot accepts unsigned frames on every link while signing is
// off, and always on its USB port).

// SigningKeyLen is the length of a MAVLink 2 signing key.
const SigningKeyLen = 32

// signingKey returns the key of the drone with starting system id sysID, or
// nil for an unsigned drone.
func (c *Config) signingKey(sysID uint8) *frame.V2Key {
	k, ok := c.SigningKeys[sysID]
	if !ok {
		k, ok = c.SigningKeys[0]
	}
	if !ok {
		return nil
	}
	return frame.NewV2Key(k)
}

// validateKeys checks the length of every signing key.
func (c *Config) validateKeys() error {
	for sys, k := range c.SigningKeys {
		if len(k) != SigningKeyLen {
			return fmt.Errorf("sim: signing key of system id %d: %d bytes, want %d", sys, len(k), SigningKeyLen)
		}
	}
	return nil
}

// Rejected returns how many incoming frames the drone dropped for a missing
// or wrong signature, a replayed timestamp (or any other parse error).
func (d *Drone) Rejected() uint64 { return d.rejected.Load() }

// Signing reports whether the drone signs, and with which key (a copy).
func (d *Drone) Signing() ([]byte, bool) {
	k := d.sig.current()
	if k == nil {
		return nil, false
	}
	return append([]byte(nil), k[:]...), true
}

// rejectedCounter is embedded in Drone.
type rejectedCounter struct{ rejected atomic.Uint64 }

// signingDialect encodes messages again to check and make signatures.
var signingDialect = sync.OnceValue(func() *dialect.ReadWriter {
	drw, err := dialect.NewReadWriter(ardupilotmega.Dialect)
	if err != nil {
		panic(err) // the generated dialect is valid
	}
	return drw
})

// replayWindow is how much older than the drone's own timestamp a new
// stream's first frame may be (one minute in 10 µs units, as ArduPilot).
const replayWindow = 60 * 100000

// sigEpoch is the origin of MAVLink 2 signature timestamps.
var sigEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

type sigStreamID struct{ sys, comp, link uint8 }

// droneSigning is a drone's signing state: its key, its timestamp, the
// newest timestamp of each stream heard and the sequence of the frames it
// signs. Safe for concurrent use: the reader checks, any writer signs.
type droneSigning struct {
	mu      sync.Mutex
	key     *frame.V2Key
	ts      uint64
	streams map[sigStreamID]uint64
	seq     uint8
}

func (s *droneSigning) current() *frame.V2Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// set makes k (nil: none) the drone's key with timestamp ts.
func (s *droneSigning) set(k *frame.V2Key, ts uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = k
	s.ts = max(s.ts, ts)
}

// nextTS returns a timestamp above every one used or accepted. Called with
// s.mu held.
func (s *droneSigning) nextTS() uint64 {
	now := uint64(time.Since(sigEpoch) / (10 * time.Microsecond))
	s.ts = max(s.ts+1, now)
	return s.ts
}

// accept checks an incoming frame; false drops it.
func (s *droneSigning) accept(fr frame.Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		return true
	}
	f, ok := fr.(*frame.V2Frame)
	if !ok || !f.IsSigned() || f.Signature == nil {
		switch fr.GetMessage().GetID() {
		case 109, 166: // RADIO_STATUS, RADIO
			return true
		}
		return false
	}
	raw, ok := f.Message.(*message.MessageRaw)
	if !ok {
		mp := signingDialect().GetMessage(f.Message.GetID())
		if mp == nil {
			return false
		}
		raw = mp.Write(f.Message, true)
	}
	c := *f
	c.Message = raw
	if sig := c.GenerateSignature(s.key); subtle.ConstantTimeCompare(sig[:], f.Signature[:]) != 1 {
		return false
	}
	id := sigStreamID{f.SystemID, f.ComponentID, f.SignatureLinkID}
	last, seen := s.streams[id]
	switch {
	case !seen && f.SignatureTimestamp+replayWindow < s.ts:
		return false
	case seen && f.SignatureTimestamp <= last:
		return false
	}
	if s.streams == nil {
		s.streams = make(map[sigStreamID]uint64)
	}
	if len(s.streams) >= 64 && !seen {
		clear(s.streams) // bounded, as ArduPilot's 16 streams
	}
	s.streams[id] = f.SignatureTimestamp
	s.ts = max(s.ts, f.SignatureTimestamp)
	return true
}

// sign returns m as a frame of sysid signed with the drone's key, or nil
// when the drone does not sign.
func (s *droneSigning) sign(sysid uint8, m message.Message) *frame.V2Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		return nil
	}
	mp := signingDialect().GetMessage(m.GetID())
	if mp == nil {
		return nil
	}
	fr := &frame.V2Frame{
		IncompatibilityFlag: frame.V2FlagSigned,
		SequenceNumber:      s.seq,
		SystemID:            sysid,
		ComponentID:         1,
		Message:             mp.Write(m, true),
		SignatureTimestamp:  s.nextTS(),
	}
	s.seq++
	fr.Checksum = fr.GenerateChecksum(mp.CRCExtra())
	fr.Signature = fr.GenerateSignature(s.key)
	return fr
}

// setupSigning handles SETUP_SIGNING. Called with the drone's lock held.
func (v *vehicle) setupSigning(m *common.MessageSetupSigning) {
	if m.TargetSystem != v.sysid || (m.TargetComponent != 0 && m.TargetComponent != 1) {
		return
	}
	var zero [32]byte
	if m.SecretKey == zero && m.InitialTimestamp == 0 {
		v.d.sig.set(nil, 0)
		v.d.log.Info("signing disabled by SETUP_SIGNING")
		return
	}
	v.d.sig.set(frame.NewV2Key(m.SecretKey[:]), m.InitialTimestamp)
	v.d.log.Info("signing key set by SETUP_SIGNING") // never the key
}
