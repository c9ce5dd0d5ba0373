package mavlink

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// link is one remote autopilot: a system id heard on one channel. It
// implements fleet.Vehicle. Its protocol operations run in their callers'
// goroutines and receive replies from the goroutine reading the channel
// (the "event goroutine" below: whichever holds the transport's lock)
// through waiters.
type link struct {
	t      *Transport
	ch     *channel
	key    fleet.VehicleKey
	compID uint8 // the autopilot's component id
	log    *slog.Logger
	done   chan struct{} // closed when the link ends

	mu        sync.Mutex
	waiters   map[*waiter]struct{}
	cmdBusy   map[cmdKey]bool
	mission   bool // a mission transfer runs
	paramList bool // a parameter list download runs

	// What the vehicle said of itself: its HEARTBEAT autopilot and its
	// AUTOPILOT_VERSION capabilities (read by protocol code on any
	// goroutine, written by the transport's event goroutine).
	autopilot atomic.Uint32
	caps      atomic.Uint64
	capsKnown atomic.Bool

	// sig is the link's MAVLink 2 signing state (see signing_link.go).
	sig linkSigning

	// owned by the transport's event goroutine
	notices      map[fleet.SecurityKind]*pendingNotice
	dec          decoder
	emit         func(fleet.Update) // emitUpdate
	emitAt       time.Time
	haveSeq      bool
	lastSeq      uint8
	received     uint64
	lost         uint64
	lastReceived uint64
	lastTick     time.Time
}

var _ fleet.Vehicle = (*link)(nil)

func newLink(t *Transport, ch *channel, key fleet.VehicleKey, compID uint8) *link {
	l := &link{
		t:        t,
		ch:       ch,
		key:      key,
		compID:   compID,
		log:      t.log.With("link", key.Link, "sys_id", key.SysID),
		done:     make(chan struct{}),
		waiters:  make(map[*waiter]struct{}),
		cmdBusy:  make(map[cmdKey]bool),
		lastTick: t.Now(),
	}
	l.dec.cut = &t.stats.textsCut
	l.emit = l.emitUpdate // one closure per link, not one per frame
	return l
}

// emitUpdate hands an update decoded from a frame received at l.emitAt to
// the fleet. Event goroutine only.
func (l *link) emitUpdate(u fleet.Update) {
	if hb, ok := u.(fleet.Heartbeat); ok && l.t.frameSigned {
		hb.Signed = true // verified by the transport before decoding
		u = hb
	}
	l.t.handle(l, u)
	if st, ok := u.(fleet.StatusText); ok {
		text := st // on the heap only for a text
		l.deliver(reply{text: &text, at: l.emitAt})
	}
}

// Key implements fleet.Vehicle.
func (l *link) Key() fleet.VehicleKey { return l.key }

// close ends the link. Called once, by the event goroutine.
func (l *link) close() {
	close(l.done)
	l.log.Info("vehicle unlinked")
}

// handleFrame is called by the event goroutine for each frame from the
// autopilot.
func (l *link) handleFrame(seq uint8, m message.Message, now time.Time) {
	if l.haveSeq {
		if gap := seq - l.lastSeq - 1; gap < 128 {
			// A larger gap is a duplicate or a reordered frame.
			l.lost += uint64(gap)
			l.t.traffic.lost.Add(uint64(gap))
		}
	}
	l.haveSeq, l.lastSeq = true, seq
	l.received++

	l.emitAt = now
	l.dec.decode(m, l.compID, now, l.emit)
	switch m.(type) {
	case *common.MessageCommandAck, *common.MessageMissionRequest, *common.MessageMissionRequestInt,
		*common.MessageMissionAck, *common.MessageMissionCount, *common.MessageMissionItemInt,
		*common.MessageMissionItem, *common.MessageMissionCurrent, *common.MessageParamValue:
		l.deliver(reply{msg: m, at: now})
	}
}

// tick is called by the event goroutine about once a StatsInterval.
func (l *link) tick(now time.Time, parseErrors uint64) {
	l.flushNotices()
	l.dec.tick(now, func(u fleet.Update) {
		l.t.handle(l, u)
		if st, ok := u.(fleet.StatusText); ok {
			l.deliver(reply{text: &st, at: now})
		}
	})
	rate := 0.0
	if dt := now.Sub(l.lastTick).Seconds(); dt > 0 {
		rate = float64(l.received-l.lastReceived) / dt
	}
	l.lastTick, l.lastReceived = now, l.received
	l.t.handle(l, fleet.LinkStats{
		Received:    l.received,
		Lost:        l.lost,
		Rate:        rate,
		ParseErrors: parseErrors,
	})
}

// reply is a message or a reassembled STATUSTEXT handed to a waiter.
type reply struct {
	msg  message.Message
	text *fleet.StatusText
	at   time.Time
}

// waiter receives the replies its operation wants.
type waiter struct {
	wants func(r *reply) bool // called on the event goroutine
	ch    chan reply
}

// deliver hands r to every waiter that wants it, without blocking. A
// message the framer reuses is copied for the waiters (wants only looks at
// it, during the call).
func (l *link) deliver(r reply) {
	l.mu.Lock()
	defer l.mu.Unlock()
	owned := false
	for w := range l.waiters {
		if !w.wants(&r) {
			continue
		}
		if !owned {
			r.msg, owned = ownMessage(r.msg), true
		}
		select {
		case w.ch <- r:
		default:
			l.t.stats.dropped.Add(1)
		}
	}
}

func (l *link) addWaiter(size int, wants func(r *reply) bool) *waiter {
	w := &waiter{wants: wants, ch: make(chan reply, size)}
	l.mu.Lock()
	l.waiters[w] = struct{}{}
	l.mu.Unlock()
	return w
}

func (l *link) removeWaiter(w *waiter) {
	l.mu.Lock()
	delete(l.waiters, w)
	l.mu.Unlock()
}

// forUs reports whether a reply addressed to target (0 = broadcast) is for
// this ground station.
func (l *link) forUs(target uint8) bool { return target == 0 || target == l.t.SysID }

// send writes m to the vehicle's channel. Returns NoDrone if the link is gone.
func (l *link) send(m message.Message) error {
	select {
	case <-l.done:
		return errNoDrone()
	default:
	}
	if k := l.sig.out(); k != nil {
		return l.t.signer.write(l.ch, m, k)
	}
	return l.t.send(l.ch, m)
}

func errNoDrone() error {
	return &fleet.Error{Code: fleet.NoDrone, Message: "link to the vehicle is lost", Reason: "no_system"}
}

// ctxErr turns the end of a caller's context into a fleet error.
func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &fleet.Error{Code: fleet.Timeout, Message: "deadline exceeded", Reason: "timeout"}
	}
	return &fleet.Error{Code: fleet.Timeout, Message: "canceled", Reason: "canceled"}
}

func errBusy(what string) error {
	return &fleet.Error{Code: fleet.Busy, Message: what + " already in progress", Reason: "busy"}
}

func errTimeout(what string) error {
	return &fleet.Error{Code: fleet.Timeout, Message: "no answer from the vehicle to " + what, Reason: "timeout"}
}

// tryLock takes one of the link's exclusive flags; it returns false if taken.
func (l *link) tryLock(flag *bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *flag {
		return false
	}
	*flag = true
	return true
}

func (l *link) unlock(flag *bool) {
	l.mu.Lock()
	*flag = false
	l.mu.Unlock()
}

// replyAction is what exchange does after a reply.
type replyAction int

const (
	// keepWaiting ignores the reply.
	keepWaiting replyAction = iota
	// extendWait restarts the wait for this try (MAV_RESULT_IN_PROGRESS).
	extendWait
	// finished ends the exchange with the handler's error.
	finished
)

// errExhausted is returned by exchange when every try went unanswered; the
// caller turns it into its own Timeout error.
var errExhausted = errors.New("mavlink: no answer")

// exchange runs the request–reply pattern of the MAVLink microservices:
// send request(try), wait up to timeout for replies on w, and send again on
// silence, retries times at most. handle looks at each reply and says what
// to do. It returns handle's error once it says finished, errExhausted when
// every try went unanswered, and a Timeout or NoDrone error when ctx or the
// link ends first.
func (l *link) exchange(ctx context.Context, w *waiter, timeout time.Duration, retries int,
	request func(try int) message.Message, handle func(r reply) (replyAction, error)) error {
	timer := newStepTimer(timeout)
	defer timer.Stop()
	for try := 0; try <= retries; try++ {
		if err := l.send(request(try)); err != nil {
			return err
		}
		timer.reset(timeout)
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctxErr(ctx)
			case <-l.done:
				return errNoDrone()
			case <-timer.C:
				break wait
			case r := <-w.ch:
				act, err := handle(r)
				switch act {
				case finished:
					return err
				case extendWait:
					timer.reset(timeout)
				}
			}
		}
	}
	return errExhausted
}

// stepTimer is one reusable timer for an operation's steps.
type stepTimer struct{ *time.Timer }

func newStepTimer(d time.Duration) stepTimer { return stepTimer{time.NewTimer(d)} }

// reset restarts the timer for d, draining a fire that was not received.
func (s stepTimer) reset(d time.Duration) {
	s.Stop()
	select {
	case <-s.C:
	default:
	}
	s.Reset(d)
}
