package mavlink

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// MAVLink 2 signing
//
// With Transport.Keys set, a vehicle whose key the store returns is on a
// signed link. The transport then:
//
//   - signs every frame it sends the vehicle with the vehicle's key
//     (timestamps strictly increasing across the transport), heartbeats
//     included: gomavlib's own heartbeat is replaced by the transport's,
//     signed per key on each connection and unsigned where some vehicle or
//     none is unsigned;
//   - verifies every frame heard from the vehicle's system id before
//     anything else: unsigned frames, wrong signatures and replays are
//     dropped, counted (Stats.Unsigned, BadSignatures, Replays) and reported
//     to the fleet as a fleet.SecurityNotice once a second. A replay is a
//     timestamp older than the newest of its stream (system, component and
//     link id), the same timestamp with a sequence number already seen, or,
//     for a stream not heard before, a timestamp more than a minute old or
//     not newer than the newest accepted from its system id (kept across
//     restarts with SigningMarks: see "Replays across a restart" in
//     signing_marks.go);
//   - marks the vehicle's heartbeats Signed, so the fleet knows a claimant
//     signed with the same key is the same vehicle.
//
// A live link's key can change: pushed to the vehicle with SETUP_SIGNING or
// switched at once, the old key accepted for SigningGrace (see "Changing a
// link's key" in signing_link.go).
//
// Signatures are checked on the message as gomavlib decoded it, encoded
// again: a sender that does not truncate a MAVLink 2 payload's trailing
// zeros, or that puts bytes after a string's terminator, fails the check.
//
// Without Keys nothing is signed or checked. In both cases the transport
// notices another ground station: a GCS heartbeat from another system id
// (Stats.ForeignGCS) and a COMMAND_ACK from a vehicle to another system
// (Stats.UnaskedAcks) become fleet.SecurityNotices for the drones on that
// connection.

// sigEpoch is the origin of MAVLink 2 signature timestamps.
var sigEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// sigTimestamp is t in 10 µs units since sigEpoch.
func sigTimestamp(t time.Time) uint64 { return uint64(t.Sub(sigEpoch) / (10 * time.Microsecond)) }

// replayWindow is how old the first timestamp of a new stream may be.
const replayWindow = 60 * 100000 // one minute in 10 µs units

// signer signs the frames the transport sends on signed links. Safe for
// concurrent use: its lock keeps timestamps increasing in the order frames
// reach the node.
type signer struct {
	t      *Transport
	drw    *dialect.ReadWriter
	linkID byte

	mu     sync.Mutex
	lastTS uint64
	seq    map[*channel]uint8
}

func newSigner(t *Transport) (*signer, error) {
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		return nil, fmt.Errorf("mavlink: signing dialect: %w", err)
	}
	return &signer{t: t, drw: drw, seq: make(map[*channel]uint8)}, nil
}

// write signs m with key and queues it on ch.
func (s *signer) write(ch *channel, m message.Message, key *frame.V2Key) error {
	mp := s.drw.GetMessage(m.GetID())
	if mp == nil {
		return fmt.Errorf("mavlink: message %d is not in the dialect", m.GetID())
	}
	raw := mp.Write(m, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := max(sigTimestamp(time.Now()), s.lastTS+1)
	s.lastTS = ts
	seq := s.seq[ch]
	s.seq[ch] = seq + 1
	fr := &frame.V2Frame{
		IncompatibilityFlag: frame.V2FlagSigned,
		SequenceNumber:      seq,
		SystemID:            s.t.SysID,
		ComponentID:         s.t.CompID,
		Message:             raw,
		SignatureLinkID:     s.linkID,
		SignatureTimestamp:  ts,
	}
	fr.Checksum = fr.GenerateChecksum(mp.CRCExtra())
	fr.Signature = fr.GenerateSignature(key)
	return ch.writeFrame(fr)
}

func (s *signer) forget(ch *channel) {
	s.mu.Lock()
	delete(s.seq, ch)
	s.mu.Unlock()
}

// sigStream is the replay state of one signed stream.
type sigStream struct {
	ts   uint64
	seen [4]uint64 // sequence numbers seen with ts
}

type streamKey struct {
	ch                    *channel
	sysID, compID, linkID uint8
}

// keyFor returns the signing key of the vehicle sysID on ch, or nil.
// Called on the event goroutine.
func (t *Transport) keyFor(ch *channel, sysID uint8) *frame.V2Key {
	if t.Keys == nil {
		return nil
	}
	k, ok := t.Keys.SigningKey(fleet.VehicleKey{Link: t.linkName(ch), SysID: sysID})
	if !ok {
		return nil
	}
	return frame.NewV2Key(k[:])
}

// checkSigned verifies fr against what its link accepts (l nil: the key
// store's key for a vehicle not linked yet). It returns the key a new link
// is signed with, and the reason to drop fr, "" to keep it. A frame signed
// with a key being pushed makes it the link's key. It records in
// t.frameSigned whether fr was verified with a key. Called on the event
// goroutine.
func (t *Transport) checkSigned(ch *channel, fr frame.Frame, l *link) (*frame.V2Key, fleet.SecurityKind) {
	t.frameSigned = false
	if l == nil {
		k := t.keyFor(ch, fr.GetSystemID())
		if k == nil {
			return nil, ""
		}
		kind, _ := t.verify(ch, fr, acceptance{keys: [3]*frame.V2Key{k}})
		t.frameSigned = kind == ""
		return k, kind
	}
	if !l.sig.keyed.Load() {
		return nil, "" // an unsigned link
	}
	now := t.Now()
	a := l.sig.accepts(now)
	if a.unsigned && a.keys == [3]*frame.V2Key{} {
		return nil, "" // an unsigned link
	}
	kind, matched := t.verify(ch, fr, a)
	if kind != "" {
		return nil, kind
	}
	t.frameSigned = matched != nil
	if l.sig.heardWith(matched, now, t.signingGrace()) {
		l.log.Info("vehicle heard with the pushed signing key")
	}
	if _, ok := t.signedBySys[fr.GetSystemID()]; !ok && matched != nil {
		// A link that became signed (a push, a switch) while up.
		t.signedBySys[fr.GetSystemID()] = l
	}
	return nil, ""
}

// verify checks a frame against the keys a link accepts; it returns "" and
// the key that verified it (nil for an unsigned frame the link accepts)
// when the frame is good. Called on the event goroutine.
func (t *Transport) verify(ch *channel, fr frame.Frame, a acceptance) (fleet.SecurityKind, *frame.V2Key) {
	f, ok := fr.(*frame.V2Frame)
	if !ok || !f.IsSigned() || f.Signature == nil {
		if a.unsigned {
			return "", nil
		}
		t.stats.unsigned.Add(1)
		return fleet.SecurityUnsigned, nil
	}
	mp := t.signer.drw.GetMessage(f.Message.GetID())
	if mp == nil {
		t.stats.badSignatures.Add(1)
		return fleet.SecurityBadSignature, nil
	}
	c := *f
	c.Message = mp.Write(f.Message, true)
	var key *frame.V2Key
	for _, k := range a.keys {
		if k == nil {
			continue
		}
		if sig := c.GenerateSignature(k); subtle.ConstantTimeCompare(sig[:], f.Signature[:]) == 1 {
			key = k
			break
		}
	}
	if key == nil {
		if a.unsigned {
			// Nothing is checked on an unsigned link.
			return "", nil
		}
		t.stats.badSignatures.Add(1)
		return fleet.SecurityBadSignature, nil
	}
	if kind := t.checkReplay(ch, f); kind != "" {
		return kind, nil
	}
	return "", key
}

// checkReplay checks a well signed frame's timestamp against its stream.
func (t *Transport) checkReplay(ch *channel, f *frame.V2Frame) fleet.SecurityKind {
	sk := streamKey{ch, f.SystemID, f.ComponentID, f.SignatureLinkID}
	st := t.streams[sk]
	seq := f.SequenceNumber
	bit := func() (uint64, *uint64) { return 1 << (seq % 64), &st.seen[seq/64] }
	switch {
	case st == nil:
		if f.SignatureTimestamp+replayWindow < sigTimestamp(t.Now()) || !t.aboveMark(f.SystemID, f.SignatureTimestamp) {
			t.stats.replays.Add(1)
			return fleet.SecurityReplay
		}
		st = &sigStream{ts: f.SignatureTimestamp}
		t.streams[sk] = st
	case f.SignatureTimestamp < st.ts:
		t.stats.replays.Add(1)
		return fleet.SecurityReplay
	case f.SignatureTimestamp == st.ts:
		if b, w := bit(); *w&b != 0 {
			t.stats.replays.Add(1)
			return fleet.SecurityReplay
		}
	default:
		st.ts, st.seen = f.SignatureTimestamp, [4]uint64{}
	}
	b, w := bit()
	*w |= b
	t.markIn(f.SystemID, f.SignatureTimestamp)
	return ""
}

// rejectSigned accounts for a frame dropped on a signed link: to the link
// if there is one, else to the signed link of the same system id (an
// impostor on another connection), else only to the counters and the log.
func (t *Transport) rejectSigned(ch *channel, sysID uint8, l *link, kind fleet.SecurityKind) {
	if l == nil {
		l = t.signedBySys[sysID]
	}
	t.srcLog.Warn(t.log, ch.String()+"/"+strconv.Itoa(int(sysID)), "frame dropped on a signed link", "link", ch.String(), "sys_id", sysID, "reason", string(kind))
	if l != nil {
		l.notice(kind, ch.String())
	}
}

// noticeChannel reports kind to every link on ch (at most once a second per
// connection and kind).
func (t *Transport) noticeChannel(ch *channel, kind fleet.SecurityKind, detail string) {
	k := chanKind{ch, kind}
	now := t.Now()
	if last, ok := t.lastNotice[k]; ok && now.Sub(last) < time.Second {
		return
	}
	t.lastNotice[k] = now
	t.srcLog.Warn(t.log, ch.String(), "another ground station on a vehicle's link", "link", ch.String(), "kind", string(kind), "detail", detail)
	for lk, l := range t.links {
		if lk.ch == ch {
			l.notice(kind, detail)
		}
	}
}

type chanKind struct {
	ch   *channel
	kind fleet.SecurityKind
}

// notice queues a security notice for the link's next tick. Called on the
// event goroutine.
func (l *link) notice(kind fleet.SecurityKind, detail string) {
	if l.notices == nil {
		l.notices = make(map[fleet.SecurityKind]*pendingNotice)
	}
	n := l.notices[kind]
	if n == nil {
		if len(l.notices) >= 8 {
			return
		}
		n = &pendingNotice{}
		l.notices[kind] = n
	}
	n.count++
	n.detail = detail
}

type pendingNotice struct {
	count  uint64
	detail string
}

// flushNotices hands the queued notices to the fleet. Called on the event
// goroutine by tick.
func (l *link) flushNotices() {
	for kind, n := range l.notices {
		l.t.handle(l, fleet.SecurityNotice{Kind: kind, Count: n.count, Detail: n.detail})
		delete(l.notices, kind)
	}
}

// sendHeartbeats sends the transport's own heartbeat on every open
// connection when signing is on: signed with each key of the signed
// vehicles there, unsigned if a vehicle there is unsigned or none is known.
func (t *Transport) sendHeartbeats() {
	hb := &common.MessageHeartbeat{
		Type: mavTypeGCS, Autopilot: mavAutopilotInvalid, SystemStatus: 4, MavlinkVersion: 3,
	}
	type chState struct {
		unsigned bool
		keys     map[frame.V2Key]*frame.V2Key
	}
	per := make(map[*channel]*chState, len(t.channels))
	for ch := range t.channels {
		per[ch] = &chState{}
	}
	for k, l := range t.links {
		cs := per[k.ch]
		if cs == nil {
			continue
		}
		k := l.sig.out()
		if k == nil {
			cs.unsigned = true
			continue
		}
		if cs.keys == nil {
			cs.keys = make(map[frame.V2Key]*frame.V2Key)
		}
		cs.keys[*k] = k
	}
	for ch, cs := range per {
		if cs.unsigned || len(cs.keys) == 0 {
			_ = t.send(ch, hb)
		}
		for _, k := range cs.keys {
			_ = t.signer.write(ch, hb, k)
		}
	}
}
