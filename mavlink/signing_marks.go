package mavlink

import (
	"fmt"
	"maps"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// DefaultMarkInterval is the default period at which changed signing marks
// are written to SigningMarks.
const DefaultMarkInterval = 5 * time.Second

// SigningOptions are the Transport's options for MAVLink 2 signing beyond
// Keys. All are optional.
type SigningOptions struct {
	// SigningGrace is how long frames signed with a link's previous key
	// (or unsigned ones, for a link that was unsigned) are accepted after
	// its key changed (default 5 s).
	SigningGrace time.Duration
	// PushInterval is the period at which SETUP_SIGNING is sent again
	// during a push (default 250 ms); PushTimeout ends a push whose key the
	// vehicle is never heard signing with (default 3 s).
	PushInterval, PushTimeout time.Duration
	// SigningMarks keeps the signature timestamps' high-water marks across
	// restarts (nil: kept in memory only). They are read by Initialize and
	// written at most once a MarkInterval (default 5 s) when they changed,
	// and once more by Close. See "Replays across a restart" in signing
	// marks' doc.
	SigningMarks fleet.SigningMarkStore
	MarkInterval time.Duration
}

// Replays across a restart
//
// The transport keeps, by system id, the newest signature timestamp it
// accepted, and the newest it signed with. With SigningMarks they outlive
// the process: on start a frame opening a stream (every stream is new after
// a restart) must be newer than the mark of its system id, so a recorded
// frame replayed to a restarted server is refused; and the server's own
// timestamps start above its stored mark plus one MarkInterval (the most
// that may not have been written before a crash), so a vehicle, which
// refuses a timestamp not newer than the last it heard from the server,
// keeps obeying after a restart even if the wall clock went back.
//
// In memory the same mark applies to every new stream: a frame of a keyed
// system id replayed from another connection is refused, not only one
// replayed on its own. A mark is per system id, so two vehicles sharing a
// system id (and so a key) must have clocks that agree: a new stream of
// the one behind is refused until its clock passes the other's newest.
// After a crash (no final write) frames up to one MarkInterval older than
// the crash can be replayed once.

// signingState is the transport's signing state beyond signing.go's maps.
// Owned by the event goroutine, except where noted.
type signingState struct {
	// frameSigned is set by checkSigned for the frame being handled.
	frameSigned bool
	// marks are the newest timestamps accepted, by system id.
	marks      map[uint8]uint64
	marksDirty bool
	savedOut   uint64
	lastSave   time.Time
	// saveCh hands marks to the writer goroutine; saveDone is closed when
	// it ends.
	saveCh   chan fleet.SigningMarks
	saveDone chan struct{}
}

// initSigning loads the stored marks. Called by Initialize after the
// signer is made and before the node opens.
func (t *Transport) initSigning() error {
	t.marks = make(map[uint8]uint64)
	if t.MarkInterval <= 0 {
		t.MarkInterval = DefaultMarkInterval
	}
	if t.SigningMarks == nil {
		return nil
	}
	m, err := t.SigningMarks.SigningMarks()
	if err != nil {
		return fmt.Errorf("mavlink: load signing marks: %w", err)
	}
	maps.Copy(t.marks, m.In)
	if m.Out > 0 {
		t.signer.lastTS = m.Out + uint64(t.MarkInterval/(10*time.Microsecond))
	}
	t.log.Info("signing marks loaded", "systems", len(m.In))
	return nil
}

// startSigning starts the marks' writer. Called by run.
func (t *Transport) startSigning() {
	if t.SigningMarks == nil {
		return
	}
	t.saveCh = make(chan fleet.SigningMarks, 1)
	t.saveDone = make(chan struct{})
	t.lastSave = t.Now()
	go func() {
		defer close(t.saveDone)
		for m := range t.saveCh {
			if err := t.SigningMarks.PutSigningMarks(m); err != nil {
				t.limitLog.Warn("signing marks not saved", "err", err)
			}
		}
	}()
}

// stopSigning writes the marks a last time and waits for the writer.
// Called by run when it ends, without t.mu: the readers may still be
// handling frames, so the marks are copied under it.
func (t *Transport) stopSigning() {
	if t.saveCh == nil {
		return
	}
	t.mu.Lock()
	t.queueMarks(true) // waits at most for the writer to take the previous copy
	t.mu.Unlock()
	close(t.saveCh)
	<-t.saveDone
}

// signingTick writes the marks when they changed and MarkInterval passed.
func (t *Transport) signingTick(now time.Time) {
	if t.saveCh == nil || now.Sub(t.lastSave) < t.MarkInterval {
		return
	}
	t.lastSave = now
	t.queueMarks(false)
}

// queueMarks hands a copy of the marks to the writer without blocking (a
// copy not yet written is replaced: the newer one covers it), or blocking
// with wait.
func (t *Transport) queueMarks(wait bool) {
	out := t.signer.last()
	if !t.marksDirty && out == t.savedOut && !wait {
		return
	}
	m := fleet.SigningMarks{Out: out, In: maps.Clone(t.marks)}
	t.marksDirty, t.savedOut = false, out
	if wait {
		t.saveCh <- m
		return
	}
	for {
		select {
		case t.saveCh <- m:
			return
		default:
		}
		select {
		case <-t.saveCh:
		default:
		}
	}
}

// markIn records ts as accepted from sysID.
func (t *Transport) markIn(sysID uint8, ts uint64) {
	if ts > t.marks[sysID] {
		t.marks[sysID] = ts
		t.marksDirty = true
	}
}

// aboveMark reports whether ts is newer than every timestamp accepted from
// sysID (this run or, with SigningMarks, before).
func (t *Transport) aboveMark(sysID uint8, ts uint64) bool { return ts > t.marks[sysID] }

// timestamp returns a new timestamp to sign with (as write does): strictly
// above every one used before.
func (s *signer) timestamp() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := max(sigTimestamp(time.Now()), s.lastTS+1)
	s.lastTS = ts
	return ts
}

// last returns the newest timestamp signed with.
func (s *signer) last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastTS
}
