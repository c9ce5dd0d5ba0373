package fleet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SigningKey is a MAVLink 2 signing secret key. Its String, GoString and
// LogValue never reveal it.
type SigningKey [32]byte

// String implements fmt.Stringer without revealing the key.
func (SigningKey) String() string { return "SigningKey(redacted)" }

// GoString implements fmt.GoStringer without revealing the key.
func (SigningKey) GoString() string { return "SigningKey(redacted)" }

// LogValue implements slog.LogValuer without revealing the key.
func (SigningKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// ParseSigningKey reads a key written as 64 hexadecimal digits. Returns
// Invalid otherwise (the message never repeats the input).
func ParseSigningKey(s string) (SigningKey, error) {
	var k SigningKey
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(k) {
		return k, Errorf(Invalid, "a signing key is %d hexadecimal digits", 2*len(k))
	}
	copy(k[:], b)
	return k, nil
}

// ReadSigningKeys reads keys by system id, one "SYSID=HEX" a line (blank
// lines and lines starting with # are skipped; SYSID 1..254). where names
// the source in errors, which give the line number and never the key.
// Returns Invalid for a bad line or a system id given twice.
func ReadSigningKeys(r io.Reader, where string) (map[uint8]SigningKey, error) {
	out := map[uint8]SigningKey{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		sys, k, err := parseKeyLine(s)
		if err != nil {
			return nil, Errorf(Invalid, "%s line %d: %s", where, line, err.Error())
		}
		if _, dup := out[sys]; dup {
			return nil, Errorf(Invalid, "%s line %d: a second key for system id %d", where, line, sys)
		}
		out[sys] = k
	}
	if err := sc.Err(); err != nil {
		return nil, Errorf(Invalid, "%s: %v", where, err)
	}
	return out, nil
}

// parseKeyLine reads "SYSID=HEX".
func parseKeyLine(s string) (uint8, SigningKey, error) {
	sys, hex, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(strings.TrimSpace(sys))
	if !ok || err != nil || n < 1 || n > 254 {
		return 0, SigningKey{}, Errorf(Invalid, "want SYSID=HEX with SYSID 1..254")
	}
	k, err := ParseSigningKey(hex)
	if err != nil {
		return 0, SigningKey{}, err
	}
	return uint8(n), k, nil
}

// NewSigningKey returns a random key.
func NewSigningKey() (SigningKey, error) {
	var k SigningKey
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("new signing key: %w", err)
	}
	return k, nil
}

// KeyStore is the port through which a transport learns the MAVLink 2
// signing key of each vehicle. A vehicle with a key is on a signed link:
// the transport signs what it sends it, drops its unsigned, badly signed
// and replayed frames, and marks its heartbeats Signed.
//
// SigningKey is called from the transport's event goroutine when it first
// hears a vehicle, and must not block. Implementations must be safe for
// concurrent use. MemKeyStore keeps keys in memory; a persistent store
// (bbolt, with key management by admins) implements the same port.
type KeyStore interface {
	// SigningKey returns the key of the vehicle heard as k, and false when
	// it has none (its link is not signed).
	SigningKey(k VehicleKey) (SigningKey, bool)
}

// MemKeyStore is an in-memory KeyStore: keys by link and system id, or by
// system id alone (the first found, in that order). The zero value is
// empty and ready. Safe for concurrent use.
type MemKeyStore struct {
	mu    sync.RWMutex
	byKey map[VehicleKey]SigningKey
	bySys map[uint8]SigningKey
}

var _ KeyStore = (*MemKeyStore)(nil)

// SetSysID sets the key of every vehicle with system id sys.
func (s *MemKeyStore) SetSysID(sys uint8, k SigningKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySys == nil {
		s.bySys = make(map[uint8]SigningKey)
	}
	s.bySys[sys] = k
}

// SetKey sets the key of the vehicle heard as vk (link and system id).
func (s *MemKeyStore) SetKey(vk VehicleKey, k SigningKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey == nil {
		s.byKey = make(map[VehicleKey]SigningKey)
	}
	s.byKey[vk] = k
}

// SigningKey implements KeyStore.
func (s *MemKeyStore) SigningKey(vk VehicleKey) (SigningKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if k, ok := s.byKey[vk]; ok {
		return k, true
	}
	k, ok := s.bySys[vk.SysID]
	return k, ok
}

// SystemIDs returns the system ids with a key, without the keys.
func (s *MemKeyStore) SystemIDs() []uint8 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]uint8, 0, len(s.bySys))
	for sys := range s.bySys {
		out = append(out, sys)
	}
	return out
}

// SigningVehicle is implemented by vehicles whose transport signs (the
// mavlink links when the transport has a KeyStore). Safe for concurrent
// use; SetSigningKey blocks until done.
type SigningVehicle interface {
	// SetSigningKey makes k the key of the vehicle's link. With push it
	// first gives the vehicle the key (MAVLink SETUP_SIGNING, signed with
	// the link's current key if it has one), sending it again until the
	// vehicle is heard signing with k, and only then signs with k: there is
	// no acknowledgement, the vehicle's signature is the proof. Without
	// push it signs with k at once (the vehicle must get k by other means).
	// Either way frames signed with the previous key are accepted for the
	// transport's grace period, then refused. SETUP_SIGNING carries the
	// key in clear: push only over a link that cannot be overheard.
	// Returns Timeout when the vehicle is never heard with k (the link
	// keeps its key), Busy while another push runs on the link, NoDrone
	// when the link is gone, Unsupported when the transport does not sign.
	SetSigningKey(ctx context.Context, k SigningKey, push bool) error
}

// SetSigningKey gives drone id's link the key k, pushing it to the vehicle
// with push (see SigningVehicle). The drone's heartbeats are Signed from
// its next one on. Returns NotFound for an unknown drone, NoDrone for a
// lost link, Unsupported when its transport does not sign, and the
// vehicle's errors. The key is never logged.
func (f *Fleet) SetSigningKey(ctx context.Context, id string, k SigningKey, push bool) error {
	d, v, _, err := f.target(id)
	if err != nil {
		return err
	}
	sv, ok := v.(SigningVehicle)
	if !ok {
		return Errorf(Unsupported, "drone %q: its link cannot be signed", id)
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	err = vehicleErr(sv.SetSigningKey(ctx, k, push), "signing key")
	if err != nil {
		d.log.Warn("signing key not set", "pushed", push, "err", err)
		return err
	}
	d.log.Info("signing key set", "pushed", push)
	return nil
}

// SigningMarks are the high-water marks of MAVLink 2 signature timestamps
// (10 µs units since 2015-01-01 UTC) that a transport keeps across
// restarts, so that a frame recorded before a restart cannot be replayed
// after it, and its own timestamps never go back.
type SigningMarks struct {
	// Out is the newest timestamp the server signed with.
	Out uint64
	// In is, by system id, the newest timestamp accepted from it.
	In map[uint8]uint64
}

// SigningMarkStore keeps SigningMarks (the bbolt store implements it). A
// transport reads them once at start and writes them at a bounded rate
// from a goroutine of its own. Safe for concurrent use.
type SigningMarkStore interface {
	// SigningMarks returns the stored marks (zero when none are stored).
	SigningMarks() (SigningMarks, error)
	// PutSigningMarks replaces the stored marks.
	PutSigningMarks(m SigningMarks) error
}

// SecurityKind names what a SecurityAlert is about.
type SecurityKind string

// Security kinds.
const (
	// SecurityUnsigned: frames without a signature on a signed link.
	SecurityUnsigned SecurityKind = "unsigned"
	// SecurityBadSignature: frames whose signature is wrong.
	SecurityBadSignature SecurityKind = "bad_signature"
	// SecurityReplay: signed frames whose timestamp is not newer than the
	// last of their stream (a replay, or a frame reordered on the way).
	SecurityReplay SecurityKind = "replay"
	// SecurityForeignGCS: another ground station's heartbeat on the
	// drone's link.
	SecurityForeignGCS SecurityKind = "foreign_gcs"
	// SecurityUnaskedAck: a COMMAND_ACK from the drone to another ground
	// station: someone else commands it.
	SecurityUnaskedAck SecurityKind = "unasked_ack"
)

// SecurityNotice is sent by a transport about a drone's link: frames it
// dropped for their signature, or traffic of another ground station. Count
// is how many since the previous notice of the same kind.
type SecurityNotice struct {
	Kind   SecurityKind
	Count  uint64
	Detail string
}

func (SecurityNotice) isUpdate() {}

// SecurityAlert is published for a SecurityNotice, at most once per drone
// and kind every securityAlertInterval (Count sums what was held back). The
// map alerts on it.
type SecurityAlert struct {
	DroneID string
	At      time.Time
	Kind    SecurityKind
	// Link is the drone's link.
	Link string
	// Count is how many frames or events the alert covers.
	Count  uint64
	Detail string
}

func (SecurityAlert) isEvent()        {}
func (e SecurityAlert) drone() string { return e.DroneID }

// securityAlertInterval spaces a drone's alerts of one kind.
const securityAlertInterval = 10 * time.Second

// securityNotice publishes a SecurityAlert unless one of the kind went out
// less than securityAlertInterval ago. Called with d.mu held.
func (d *drone) securityNotice(now time.Time, u SecurityNotice, out *outbox) {
	if d.alerts == nil {
		d.alerts = make(map[SecurityKind]*alertState)
	}
	a := d.alerts[u.Kind]
	if a == nil {
		a = &alertState{}
		d.alerts[u.Kind] = a
	}
	a.held += u.Count
	if !a.last.IsZero() && now.Sub(a.last) < securityAlertInterval {
		return
	}
	a.last = now
	d.log.Warn("security alert", "kind", string(u.Kind), "link", d.key.Link, "count", a.held, "detail", u.Detail)
	out.add(SecurityAlert{DroneID: d.id, At: now, Kind: u.Kind, Link: d.key.Link, Count: a.held, Detail: u.Detail})
	a.held = 0
}

// alertState is a drone's last alert of one kind.
type alertState struct {
	last time.Time
	held uint64
}
