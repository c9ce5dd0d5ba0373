package fleet

import (
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
