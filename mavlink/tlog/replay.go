package tlog

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Replayer writes records at their recorded timing, sped up.
type Replayer struct {
	// Speedup divides the recorded time between records: 1 is real time,
	// 50 fifty times faster; 0 or less writes as fast as it can.
	Speedup float64
	// MinInterval is the least time between two writes (optional, default
	// none), so that a recorded burst (a parameter list) sped up does not
	// overflow the receiver's socket buffer.
	MinInterval time.Duration
}

// Replay writes recs to w with Replayer{Speedup: speedup}.
func Replay(ctx context.Context, w io.Writer, recs []Record, speedup float64) error {
	return Replayer{Speedup: speedup}.Replay(ctx, w, recs)
}

// Replay writes recs to w. The records that share a timestamp go out in one
// Write, as one datagram on a UDP connection. It returns when every record
// is written, ctx ends (with ctx's error) or a write fails.
//
// Replay runs in the caller's goroutine and uses one timer.
func (r Replayer) Replay(ctx context.Context, w io.Writer, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	first := recs[0].Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var buf []byte
	var last time.Time
	for i := 0; i < len(recs); {
		j := i
		buf = buf[:0]
		for j < len(recs) && recs[j].Time.Equal(recs[i].Time) {
			buf = append(buf, recs[j].Frame...)
			j++
		}
		due := start
		if r.Speedup > 0 {
			due = start.Add(time.Duration(float64(recs[i].Time.Sub(first)) / r.Speedup))
		}
		if r.MinInterval > 0 && !last.IsZero() && due.Before(last.Add(r.MinInterval)) {
			due = last.Add(r.MinInterval)
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("tlog: replay record %d: %w", i, err)
		}
		last = time.Now()
		i = j
	}
	return nil
}
