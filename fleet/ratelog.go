package fleet

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog logs a limit that bites at most once a second, with the number of
// occurrences left unlogged since the previous line. Safe for concurrent use.
type rateLog struct {
	log *slog.Logger

	mu         sync.Mutex
	last       time.Time
	suppressed uint64
}

// warn logs msg with args unless a line was logged less than a second ago.
// The now argument is unused for the rate: the limit is on real time.
func (r *rateLog) warn(_ time.Time, msg string, args ...any) {
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
	if r.log != nil {
		r.log.Warn(msg, append(args, "suppressed", n)...)
	}
}
