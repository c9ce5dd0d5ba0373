package proto

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// pump sends the latest of a stream of progress values from a goroutine of
// its own, so that a producer (the fleet's transfer, called back from any
// goroutine) never waits on a slow client: values set while a send is under
// way are coalesced, the latest wins. Stop ends the goroutine and waits for
// it; the handler then sends its final message itself, so that every send
// of the stream happens on one goroutine at a time.
type pump[T any] struct {
	mu     sync.Mutex
	v      T
	has    bool
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// startPump starts a pump that calls send with the latest value until ctx
// ends or Stop is called. A send error stops it.
func startPump[T any](ctx context.Context, send func(T) error) *pump[T] {
	ctx, cancel := context.WithCancel(ctx)
	p := &pump[T]{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
			p.mu.Lock()
			v, has := p.v, p.has
			p.has = false
			p.mu.Unlock()
			if has && send(v) != nil {
				return
			}
		}
	}()
	return p
}

// Set replaces the value to send. It never blocks.
func (p *pump[T]) Set(v T) {
	p.mu.Lock()
	p.v, p.has = v, true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop ends the pump's goroutine and waits for it.
func (p *pump[T]) Stop() {
	p.cancel()
	<-p.done
}

// DefaultWriteTimeout is how long one message of a long-lived stream may
// wait for a client that does not read before the server ends the stream.
const DefaultWriteTimeout = 60 * time.Second

// writer sends a long-lived stream's messages from a goroutine of its own,
// so that the handler can give up on a client that stopped reading: Send
// queues a message (up to writerQueue of them) and returns at once; when
// the queue is full and stays full for the write timeout, or a send
// failed, Send returns an error (RESOURCE_EXHAUSTED for the timeout) and
// the handler ends the stream, which unblocks the writer. Queueing spares
// the handler and the writer two goroutine switches a message (a stream of
// every drone's position carries 20,000 a second at 2,000 drones). The
// Server owns the writer goroutine and waits for it in Close. One
// goroutine (the handler) calls Send and Close.
type writer[T any] struct {
	in      chan T
	err     atomic.Pointer[error] // the first send's error
	timer   *time.Timer
	timeout time.Duration
}

// writerQueue is how many messages a stream's writer holds for a client
// reading slower than they come.
const writerQueue = 64

func newWriter[T any](s *Server, send func(T) error) *writer[T] {
	w := &writer[T]{in: make(chan T, writerQueue), timeout: s.WriteTimeout}
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for m := range w.in {
			if w.err.Load() != nil {
				continue // the stream is ending: drop the rest
			}
			if err := send(m); err != nil {
				w.err.Store(&err)
			}
		}
	}()
	return w
}

// Send queues m for the writer. It waits only while the queue is full, at
// most the write timeout (or until ctx ends), and returns the error of an
// earlier send that failed.
func (w *writer[T]) Send(ctx context.Context, m T) error {
	if err := w.err.Load(); err != nil {
		return *err
	}
	select {
	case w.in <- m:
		return nil
	default:
	}
	w.timer.Reset(w.timeout)
	defer w.timer.Stop()
	select {
	case w.in <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.timer.C:
		return fleet.Errorf(fleet.Exhausted, "slow consumer: a message waited %s for the client to read", w.timeout)
	}
}

// Close ends the writer once it has sent the queued messages (or dropped
// them after a failed send); the stream's end, as the handler returns,
// unblocks a send under way.
func (w *writer[T]) Close() { close(w.in) }
