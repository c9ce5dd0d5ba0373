package mavlink

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// lockedBuffer is a log sink safe for the transport's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged lines containing every one of parts.
func (l *lockedBuffer) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// One vehicle answering another ground station hundreds of times a second
// is logged once, and does not silence the same line for another vehicle:
// the lines a sender causes are limited per sender.
func TestLogLimitsPerSender(t *testing.T) {
	var buf lockedBuffer
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) {
		tr.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	})
	dial := func() *net.UDPConn {
		c, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	loud, quiet := dial(), dial()
	loudEnc, quietEnc := newFrameEncoder(t, 1, 1), newFrameEncoder(t, 2, 1)
	loud.Write(loudEnc.encode(t, vehicleHB()))
	quiet.Write(quietEnc.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "both vehicles", func() bool { return rec.vehicle(1) != nil && rec.vehicle(2) != nil })

	ack := func(e *frameEncoder) []byte {
		return e.encode(t, &common.MessageCommandAck{Command: common.MAV_CMD_COMPONENT_ARM_DISARM, TargetSystem: 200, TargetComponent: 190})
	}
	const flood = 300
	for range flood {
		loud.Write(ack(loudEnc))
	}
	waitFor(t, 3*time.Second, "the flood heard", func() bool { return tr.Stats().UnaskedAcks >= flood/2 })
	quiet.Write(ack(quietEnc))
	waitFor(t, 3*time.Second, "the quiet vehicle's ack heard", func() bool {
		return len(buf.lines("vehicle answers another ground station", " sys_id=2 ")) == 1
	})
	if n := len(buf.lines("vehicle answers another ground station", " sys_id=1 ")); n != 1 {
		t.Errorf("the flooding vehicle's line logged %d times within a second, want 1", n)
	}
}
