package mavlink

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/centinela-gcs/centinela/fleet"
)

// Defaults of the signing options.
const (
	// DefaultSigningGrace is how long frames signed with a link's previous
	// key are still accepted after the link changed key.
	DefaultSigningGrace = 5 * time.Second
	// DefaultPushInterval is the period at which SETUP_SIGNING is sent
	// again while the vehicle is not heard signing with the pushed key, and
	// DefaultPushTimeout the time after which the push gives up.
	DefaultPushInterval = 250 * time.Millisecond
	DefaultPushTimeout  = 3 * time.Second
)

// Changing a link's key
//
// A link's key changes while it is up in two ways (fleet.SigningVehicle):
//
//   - a push (SetSigningKey with push): the transport sends the vehicle
//     SETUP_SIGNING with the new key, signed with the link's current key if
//     it has one (ArduPilot, signing on, drops an unsigned one), every
//     PushInterval until a frame signed with the new key is heard, at most
//     PushTimeout. There is no acknowledgement in MAVLink: the vehicle
//     signing with the key is the proof it took it. Until then the link
//     signs with its current key and accepts both; once heard, the link
//     signs with the new key and accepts the old one (or unsigned frames, for
//     a link that was unsigned) for SigningGrace only;
//   - a switch (without push): the link signs with the new key at once and
//     accepts the old one for SigningGrace; the vehicle must be given the
//     key by other means.
//
// SETUP_SIGNING carries the key in clear: anyone listening to the link
// learns it. Push only over a link that cannot be overheard.

// linkSigning is a link's signing state. Its methods are safe for
// concurrent use: send reads the key on any goroutine, the event goroutine
// verifies and promotes, SetSigningKey runs on its caller's.
type linkSigning struct {
	// keyed is set once the link has or is pushed a key: an unsigned link's
	// frames skip the lock.
	keyed atomic.Bool

	mu sync.Mutex
	// cur signs what the link sends and is accepted (nil: unsigned link).
	cur *frame.V2Key
	// old, or unsigned frames with oldUnsigned, are accepted until oldUntil.
	old         *frame.V2Key
	oldUnsigned bool
	oldUntil    time.Time
	// next is the key being pushed: accepted, and the first frame signed
	// with it makes it cur and closes heard.
	next  *frame.V2Key
	heard chan struct{}
}

// init sets the key a new link is heard with, before it is shared.
func (s *linkSigning) init(k *frame.V2Key) {
	s.cur = k
	s.keyed.Store(k != nil)
}

// out returns the key to sign with, or nil.
func (s *linkSigning) out() *frame.V2Key {
	if !s.keyed.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// signed reports whether the link has a key.
func (s *linkSigning) signed() bool { return s.out() != nil }

// acceptance is what a link accepts now.
type acceptance struct {
	keys     [3]*frame.V2Key // cur, next, old (nil entries skipped)
	unsigned bool            // unsigned frames are accepted
}

// accepts returns the keys and unsigned-ness the link accepts at now.
func (s *linkSigning) accepts(now time.Time) acceptance {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := acceptance{keys: [3]*frame.V2Key{s.next, s.cur}}
	inGrace := now.Before(s.oldUntil)
	if inGrace {
		a.keys[2] = s.old
	}
	a.unsigned = s.cur == nil || (inGrace && s.oldUnsigned)
	return a
}

// heardWith is called on the event goroutine with the key a frame was
// verified with: the pushed key, heard for the first time, becomes the
// link's key. It returns true when that happened.
func (s *linkSigning) heardWith(k *frame.V2Key, now time.Time, grace time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == nil || k != s.next {
		return false
	}
	s.switchLocked(k, now, grace)
	s.next = nil
	close(s.heard)
	s.heard = nil
	return true
}

// switchTo makes k the link's key at once.
func (s *linkSigning) switchTo(k *frame.V2Key, now time.Time, grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.switchLocked(k, now, grace)
}

func (s *linkSigning) switchLocked(k *frame.V2Key, now time.Time, grace time.Duration) {
	if s.cur != nil && *s.cur == *k {
		return
	}
	s.old, s.oldUnsigned, s.oldUntil = s.cur, s.cur == nil, now.Add(grace)
	s.cur = k
	s.keyed.Store(true)
}

// beginPush records k as the key being pushed; false if a push runs.
func (s *linkSigning) beginPush(k *frame.V2Key) (<-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next != nil {
		return nil, false
	}
	s.next = k
	s.heard = make(chan struct{})
	s.keyed.Store(true)
	return s.heard, true
}

// endPush forgets a push that was not heard.
func (s *linkSigning) endPush(k *frame.V2Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == k {
		s.next, s.heard = nil, nil
	}
}

var _ fleet.SigningVehicle = (*link)(nil)

// SetSigningKey implements fleet.SigningVehicle; see "Changing a link's
// key" above.
func (l *link) SetSigningKey(ctx context.Context, k fleet.SigningKey, push bool) error {
	if l.t.Keys == nil {
		// Without Keys the node sends its own unsigned heartbeats.
		return fleet.Errorf(fleet.Unsupported, "this transport does not sign")
	}
	key := frame.NewV2Key(k[:])
	if !push {
		select {
		case <-l.done:
			return errNoDrone()
		default:
		}
		l.sig.switchTo(key, l.t.Now(), l.t.signingGrace())
		l.log.Info("signing key switched")
		return nil
	}
	heard, ok := l.sig.beginPush(key)
	if !ok {
		return errBusy("a signing key push")
	}
	defer l.sig.endPush(key)
	msg := &common.MessageSetupSigning{
		TargetSystem:     l.key.SysID,
		TargetComponent:  l.compID,
		SecretKey:        k,
		InitialTimestamp: l.t.signer.timestamp(),
	}
	interval, timeout := l.t.pushTiming()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := l.send(msg); err != nil {
			return err
		}
		select {
		case <-heard:
			l.log.Info("signing key pushed")
			return nil
		case <-ctx.Done():
			return ctxErr(ctx)
		case <-l.done:
			return errNoDrone()
		case <-deadline.C:
			return &fleet.Error{Code: fleet.Timeout, Reason: "timeout",
				Message: "the vehicle was not heard signing with the pushed key (SETUP_SIGNING lost, refused, or not supported); the link keeps its key"}
		case <-tick.C:
		}
	}
}

func (t *Transport) signingGrace() time.Duration {
	if t.SigningGrace > 0 {
		return t.SigningGrace
	}
	return DefaultSigningGrace
}

func (t *Transport) pushTiming() (interval, timeout time.Duration) {
	interval, timeout = t.PushInterval, t.PushTimeout
	if interval <= 0 {
		interval = DefaultPushInterval
	}
	if timeout <= 0 {
		timeout = DefaultPushTimeout
	}
	return interval, timeout
}
