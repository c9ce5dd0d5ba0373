package fleet

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"time"
)

// RateLog logs a limit that bites at most once a second (real time), with
// the number of occurrences left unlogged since the previous line, so a
// flood cannot flood the log. The zero value logs nothing until Log is set.
// Safe for concurrent use.
type RateLog struct {
	// Log receives the lines (nil: discard).
	Log *slog.Logger

	mu         sync.Mutex
	last       time.Time
	suppressed uint64
}

// Warn logs msg with args at Warn unless a line was logged less than a
// second ago; the line carries "suppressed", the count left out since.
func (r *RateLog) Warn(msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	if now.Sub(r.last) < time.Second {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	r.mu.Unlock()
	if r.Log != nil {
		r.Log.Warn(msg, append(args, "suppressed", n)...)
	}
}

// Defaults of KeyedRateLog.
const (
	// DefaultLogKeys bounds the keys (sources × messages) a KeyedRateLog
	// remembers.
	DefaultLogKeys = 4096
	// DefaultLogLinesPerSecond bounds the lines of all keys together.
	DefaultLogLinesPerSecond = 50
)

// KeyedRateLog logs the lines one source (a drone, a link, a claimant) can
// cause, each message at most once per Interval per source, so that a
// flooding source neither floods the log nor silences another source: the
// next line of a (source, message) pair carries "suppressed", the count
// left out since its previous line. Memory is bounded: at most MaxKeys
// pairs are remembered, the least recently seen evicted first (what they
// had suppressed is carried by the next line logged, as
// "suppressed_evicted"), and at most LinesPerSecond lines of all sources
// together are written (the others are counted as suppressed). The zero
// value is ready; it logs to the logger each call names. Safe for
// concurrent use.
type KeyedRateLog struct {
	// Interval is the least time between two lines of one pair (optional,
	// default 1 s).
	Interval time.Duration
	// MaxKeys bounds the pairs remembered (optional, default
	// DefaultLogKeys).
	MaxKeys int
	// LinesPerSecond bounds the lines of every source together (optional,
	// default DefaultLogLinesPerSecond).
	LinesPerSecond int
	// Now is the clock (optional, default time.Now, whose monotonic reading
	// makes the intervals immune to wall-clock jumps).
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *logEntry, most recent at the front
	lru     list.List
	evicted uint64 // suppressed lines of evicted pairs not yet reported
	second  time.Time
	lines   int // written since second
}

type logEntry struct {
	key        string
	last       time.Time
	suppressed uint64
}

// Warn logs msg at Warn to log (nil: discard) for source key, unless the
// pair was logged less than Interval ago or the lines of the second are
// spent.
func (r *KeyedRateLog) Warn(log *slog.Logger, key, msg string, args ...any) {
	r.log(log, slog.LevelWarn, key, msg, args)
}

// Info is Warn at Info.
func (r *KeyedRateLog) Info(log *slog.Logger, key, msg string, args ...any) {
	r.log(log, slog.LevelInfo, key, msg, args)
}

// Debug is Warn at Debug.
func (r *KeyedRateLog) Debug(log *slog.Logger, key, msg string, args ...any) {
	r.log(log, slog.LevelDebug, key, msg, args)
}

// Len returns how many (source, message) pairs are remembered.
func (r *KeyedRateLog) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

func (r *KeyedRateLog) log(log *slog.Logger, level slog.Level, key, msg string, args []any) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	interval, maxKeys, perSecond := r.Interval, r.MaxKeys, r.LinesPerSecond
	if interval <= 0 {
		interval = time.Second
	}
	if maxKeys <= 0 {
		maxKeys = DefaultLogKeys
	}
	if perSecond <= 0 {
		perSecond = DefaultLogLinesPerSecond
	}
	k := key + "\x00" + msg
	r.mu.Lock()
	if r.entries == nil {
		r.entries = make(map[string]*list.Element)
	}
	var e *logEntry
	if el, ok := r.entries[k]; ok {
		e = el.Value.(*logEntry)
		r.lru.MoveToFront(el)
	} else {
		for len(r.entries) >= maxKeys {
			old := r.lru.Back()
			oe := old.Value.(*logEntry)
			r.evicted += oe.suppressed
			delete(r.entries, oe.key)
			r.lru.Remove(old)
		}
		e = &logEntry{key: k}
		r.entries[k] = r.lru.PushFront(e)
	}
	if d := now.Sub(r.second); d >= time.Second || d < 0 {
		r.second, r.lines = now, 0
	}
	if (!e.last.IsZero() && now.Sub(e.last) < interval && now.Sub(e.last) >= 0) || r.lines >= perSecond {
		e.suppressed++
		r.mu.Unlock()
		return
	}
	n, ev := e.suppressed, r.evicted
	e.last, e.suppressed, r.evicted = now, 0, 0
	r.lines++
	r.mu.Unlock()
	if log == nil {
		return
	}
	args = append(args, "suppressed", n)
	if ev > 0 {
		args = append(args, "suppressed_evicted", ev)
	}
	log.Log(context.Background(), level, msg, args...)
}
