package mavlink

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"syscall"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
)

// DecodeCost measures gomavlib's own cost of framing, checking and decoding
// the frames in datagrams (the floor the transport is compared with in
// centinela bench): it parses them all, again and again for at least
// minTime, on one locked OS thread, and returns that thread's CPU time per
// frame and the number of frames in one pass. It is not used by the
// transport.
func DecodeCost(datagrams [][]byte, minTime time.Duration) (time.Duration, int, error) {
	rw, err := dialect.NewReadWriter(ardupilotmega.Dialect)
	if err != nil {
		return 0, 0, err
	}
	all := bytes.Join(datagrams, nil)
	src := bytes.NewReader(all)
	br := bufio.NewReaderSize(src, 65536)
	r := &frame.Reader{BufByteReader: br, DialectRW: rw}
	if err := r.Initialize(); err != nil {
		return 0, 0, err
	}
	pass := func() (int, error) {
		src.Reset(all)
		br.Reset(src)
		r.ResetBuffer()
		n := 0
		for {
			_, err := r.Read()
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			var perr frame.ReadError
			if err != nil && !errors.As(err, &perr) {
				return n, err
			}
			if err == nil {
				n++
			}
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	perPass, err := pass()
	if err != nil || perPass == 0 {
		return 0, perPass, err
	}
	t0, start := ThreadCPU(), time.Now()
	total := 0
	for time.Since(start) < minTime {
		n, err := pass()
		if err != nil {
			return 0, perPass, err
		}
		total += n
	}
	return (ThreadCPU() - t0) / time.Duration(total), perPass, nil
}

// ThreadCPU returns the CPU time (user and system) of the calling OS thread
// (Linux; 0 elsewhere). Lock the goroutine to its thread around a measure.
func ThreadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
