package mavlink

import (
	"bytes"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/bluenviron/gomavlib/v3/pkg/streamwriter"

	"github.com/centinela-gcs/centinela/fleet"
)

// frameEncoder encodes MAVLink 2 frames of one sender into bytes.
type frameEncoder struct {
	buf bytes.Buffer
	fw  *frame.Writer
	sw  *streamwriter.Writer
}

func newFrameEncoder(t testing.TB, sysID, compID uint8) *frameEncoder {
	t.Helper()
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		t.Fatal(err)
	}
	e := &frameEncoder{}
	e.fw = &frame.Writer{ByteWriter: &e.buf, DialectRW: drw}
	if err := e.fw.Initialize(); err != nil {
		t.Fatal(err)
	}
	e.sw = &streamwriter.Writer{FrameWriter: e.fw, Version: streamwriter.V2, SystemID: sysID, ComponentID: compID}
	if err := e.sw.Initialize(); err != nil {
		t.Fatal(err)
	}
	return e
}

// encode returns the bytes of one frame carrying m.
func (e *frameEncoder) encode(t testing.TB, m message.Message) []byte {
	t.Helper()
	e.buf.Reset()
	if err := e.sw.Write(m); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), e.buf.Bytes()...)
}

// unknown returns a frame with a message id outside the dialect.
func (e *frameEncoder) unknown(t testing.TB, sysID uint8) []byte {
	t.Helper()
	e.buf.Reset()
	err := e.fw.Write(&frame.V2Frame{SystemID: sysID, ComponentID: 1,
		Message: &message.MessageRaw{ID: 60000, Payload: []byte{1, 2, 3, 4}}, Checksum: 0xbeef})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), e.buf.Bytes()...)
}

// TestTransportMalformedInput sends garbage, truncated frames, bad
// checksums and unknown message ids to the transport's UDP port, from a raw
// socket that is also a vehicle (sysid 7) and from another one, while a fake
// vehicle keeps sending: errors are counted, both vehicles keep updating.
func TestTransportMalformedInput(t *testing.T) {
	tr, rec, _, _ := linked(t, networks[0], 30)
	addr := tr.Addrs()[0].(*net.UDPAddr)
	raw, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	junk, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()

	enc := newFrameEncoder(t, 7, 1)
	hb := func() []byte {
		return enc.encode(t, &common.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 0x51, CustomMode: 5, SystemStatus: 3, MavlinkVersion: 3})
	}
	rng := rand.New(rand.NewPCG(7, 7))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	send := func(c *net.UDPConn, b []byte) {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	countFrom := func(sys uint8) int {
		return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.Heartbeat); return ok && r.key.SysID == sys })
	}
	before1 := countFrom(1)
	for i := range 20 {
		send(raw, hb())
		send(junk, garbage(1+rng.IntN(300)))
		f := hb()
		send(raw, f[:len(f)/2]) // truncated
		f = hb()
		f[len(f)-1] ^= 0xff // bad checksum
		send(raw, f)
		send(raw, enc.unknown(t, 7))
		send(raw, append(garbage(5), hb()...)) // garbage before a good frame
		// Several frames in one datagram, like ArduPilot sends them.
		packed := append(hb(), enc.encode(t, &common.MessageStatustext{Severity: 2, Text: "Arm: Need Position Estimate"})...)
		packed = append(packed, hb()...)
		send(raw, packed)
		if i%5 == 0 {
			time.Sleep(10 * time.Millisecond) // paced like a radio
		}
	}
	waitFor(t, 3*time.Second, "updates from both vehicles after the garbage", func() bool {
		return countFrom(7) >= 60 && countFrom(1) > before1+3
	})
	// The packed datagrams decode whole: each one's STATUSTEXT arrives.
	texts := rec.count(func(r recorded) bool {
		st, ok := r.u.(fleet.StatusText)
		return ok && r.key.SysID == 7 && st.Text == "Arm: Need Position Estimate" && st.Severity == 2
	})
	if texts != 20 {
		t.Errorf("%d of 20 packed STATUSTEXTs decoded", texts)
	}
	st := tr.Stats()
	if st.ParseErrors < 60 || st.UnknownMessages < 20 {
		t.Errorf("stats %+v: want ≥ 60 parse errors and ≥ 20 unknown messages (random bytes may add some)", st)
	}
	waitFor(t, 2*time.Second, "link stats with parse errors for sysid 7", func() bool {
		return rec.count(func(r recorded) bool {
			ls, ok := r.u.(fleet.LinkStats)
			return ok && r.key.SysID == 7 && ls.ParseErrors >= 40
		}) > 0
	})
	if st.Links != 2 {
		t.Errorf("%d links, want 2 (the garbage makes none)", st.Links)
	}
}

// TestLinkStatsLoss: frames missing from the sequence numbers are counted.
func TestLinkStatsLoss(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec)
	raw, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	enc := newFrameEncoder(t, 9, 1)
	sent := 0
	for i := range 100 {
		f := enc.encode(t, &common.MessageHeartbeat{Type: 2, Autopilot: 3})
		if i%4 == 3 {
			continue // lost: 25 of 100
		}
		if _, err := raw.Write(f); err != nil {
			t.Fatal(err)
		}
		sent++
		if i%10 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(t, 3*time.Second, "link stats", func() bool {
		return rec.count(func(r recorded) bool {
			ls, ok := r.u.(fleet.LinkStats)
			return ok && ls.Received == uint64(sent) && ls.Lost == 24 // the last one lost is not yet known
		}) > 0
	})
}

// TestTransportConsoleText: ArduPilot SITL writes its boot console as plain
// text on the TCP port, before and between its first frames. Each line is
// counted once as console text, not as a parse error per byte, and the
// frames around it decode.
func TestTransportConsoleText(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "tcpin:127.0.0.1:0", rec)
	c, err := net.Dial("tcp", tr.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc := newFrameEncoder(t, 1, 1)
	hb := enc.encode(t, &common.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 0x51, SystemStatus: 3, MavlinkVersion: 3})
	var b []byte
	b = append(b, "Init ArduCopter V4.7.0-dev (90700977)\r\n"...)
	b = append(b, hb...)
	b = append(b, "Free RAM: 131072\nInit Gyro***\n"...)
	b = append(b, hb...)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "two heartbeats and three lines", func() bool {
		n := rec.count(func(r recorded) bool { _, ok := r.u.(fleet.Heartbeat); return ok })
		return n >= 2 && tr.Stats().ConsoleText >= 3
	})
	if st := tr.Stats(); st.ParseErrors != 0 || st.ConsoleText != 3 {
		t.Errorf("stats %+v: want 0 parse errors and 3 console lines", st)
	}
	// Binary garbage is still a parse error.
	if _, err := c.Write([]byte{0x01, 0x02, 0x80}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "garbage counted", func() bool { return tr.Stats().ParseErrors >= 3 })
}
