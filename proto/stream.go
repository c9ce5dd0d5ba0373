package proto

import (
	"context"
	"sync"
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
