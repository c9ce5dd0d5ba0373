package sim

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// rawGCS is a ground station on a raw UDP socket that signs each frame it
// sends with the key the test asks for (or none) and records which key
// signed each frame the drone sent.
type rawGCS struct {
	t    *testing.T
	conn *net.UDPConn
	keys [][]byte

	mu     sync.Mutex
	peer   *net.UDPAddr
	frames []heardFrame
	ts     uint64
	seq    uint8
	done   chan struct{}
}

type heardFrame struct {
	by  int // index in keys, -1 unsigned, -2 unknown key
	msg message.Message
}

func newRawGCS(t *testing.T, keys ...[]byte) *rawGCS {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	g := &rawGCS{t: t, conn: c, keys: keys, done: make(chan struct{}),
		ts: uint64(time.Since(sigEpoch) / (10 * time.Microsecond))}
	go g.read()
	t.Cleanup(func() { c.Close(); <-g.done })
	return g
}

func (g *rawGCS) read() {
	defer close(g.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := g.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		rd := &frame.Reader{BufByteReader: bufio.NewReader(bytes.NewReader(buf[:n]))}
		if err := rd.Initialize(); err != nil {
			return
		}
		for {
			fr, err := rd.Read()
			if err != nil {
				break
			}
			f, ok := fr.(*frame.V2Frame)
			if !ok {
				continue
			}
			h := heardFrame{by: -1}
			if f.Signature != nil {
				h.by = -2
				for i, k := range g.keys {
					if *f.GenerateSignature(frame.NewV2Key(k)) == *f.Signature {
						h.by = i
					}
				}
			}
			raw := f.Message.(*message.MessageRaw)
			if mp := signingDialect().GetMessage(raw.ID); mp != nil {
				if m, err := mp.Read(raw, true); err == nil {
					h.msg = m
				}
			}
			g.mu.Lock()
			g.peer = from
			g.frames = append(g.frames, h)
			g.mu.Unlock()
		}
	}
}

func (g *rawGCS) mark() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.frames)
}

// heard waits for a frame after from that pred accepts.
func (g *rawGCS) heard(from int, what string, pred func(h heardFrame) bool) {
	g.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		fs := g.frames[min(from, len(g.frames)):]
		for _, h := range fs {
			if pred(h) {
				g.mu.Unlock()
				return
			}
		}
		g.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	g.t.Fatalf("not heard: %s", what)
}

// send writes m signed with keys[key] (-1: unsigned) to the drone.
func (g *rawGCS) send(key int, m message.Message) {
	g.t.Helper()
	mp := signingDialect().GetMessage(m.GetID())
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ts++
	fr := &frame.V2Frame{SequenceNumber: g.seq, SystemID: 255, ComponentID: 190, Message: mp.Write(m, true)}
	g.seq++
	if key >= 0 {
		fr.IncompatibilityFlag = frame.V2FlagSigned
		fr.SignatureTimestamp = g.ts
	}
	fr.Checksum = fr.GenerateChecksum(mp.CRCExtra())
	if key >= 0 {
		fr.Signature = fr.GenerateSignature(frame.NewV2Key(g.keys[key]))
	}
	var buf bytes.Buffer
	w := &frame.Writer{ByteWriter: &buf, DialectRW: signingDialect()}
	if err := w.Initialize(); err != nil {
		g.t.Fatal(err)
	}
	if err := w.WriteFrame(fr); err != nil {
		g.t.Fatal(err)
	}
	if _, err := g.conn.WriteToUDP(buf.Bytes(), g.peer); err != nil {
		g.t.Fatal(err)
	}
}

func isHeartbeat(h heardFrame) bool { _, ok := h.msg.(*common.MessageHeartbeat); return ok }

func isAck(h heardFrame) bool {
	a, ok := h.msg.(*common.MessageCommandAck)
	return ok && a.Command == common.MAV_CMD_REQUEST_MESSAGE
}

func requestVersion() *common.MessageCommandLong {
	return &common.MessageCommandLong{TargetSystem: 1, TargetComponent: 1, Command: common.MAV_CMD_REQUEST_MESSAGE, Param1: 148}
}

// SETUP_SIGNING as ArduPilot handles it: an unsigned drone takes a key from
// an unsigned one; a signing drone only from one signed with its key; the
// key is used at once both ways and kept across a link restart; a zero key
// and timestamp disable signing. Both of the simulator's link kinds: the
// shared UDP hub (a drone started unsigned) and a node of its own (a drone
// started with a key).
func TestSetupSigning(t *testing.T) {
	k0, k1 := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{9}, 32)
	for _, tc := range []struct {
		name  string
		start []byte // the drone's key at start
		by    int    // the index in keys of start (-1 none)
	}{{"hub unsigned", nil, -1}, {"node signed", k0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRawGCS(t, k0, k1)
			cfg := Config{Drones: 1, Connect: "udpout:" + g.conn.LocalAddr().String(), BootDelay: -1}
			if tc.start != nil {
				cfg.SigningKeys = map[uint8][]byte{1: tc.start}
			}
			s := startSwarm(t, cfg)
			d := s.Drones()[0]
			g.heard(0, "a heartbeat signed with the start key", func(h heardFrame) bool { return isHeartbeat(h) && h.by == tc.by })
			if tc.start != nil {
				// A signing drone ignores an unsigned SETUP_SIGNING.
				rej := d.Rejected()
				g.send(-1, &common.MessageSetupSigning{TargetSystem: 1, TargetComponent: 1, SecretKey: [32]byte(k1), InitialTimestamp: g.ts})
				waitUntil(t, "unsigned SETUP_SIGNING rejected", func() bool { return d.Rejected() > rej })
				if k, _ := d.Signing(); !bytes.Equal(k, k0) {
					t.Fatal("an unsigned SETUP_SIGNING changed the key")
				}
			}
			g.send(tc.by, &common.MessageSetupSigning{TargetSystem: 1, TargetComponent: 1, SecretKey: [32]byte(k1), InitialTimestamp: g.ts})
			m := g.mark()
			g.heard(m, "a heartbeat signed with the new key", func(h heardFrame) bool { return isHeartbeat(h) && h.by == 1 })
			if k, ok := d.Signing(); !ok || !bytes.Equal(k, k1) {
				t.Fatal("the drone does not keep the new key")
			}
			// Unsigned and old-key commands are dropped; new-key ones answered.
			rej := d.Rejected()
			g.send(-1, requestVersion())
			g.send(0, requestVersion())
			waitUntil(t, "unsigned and old-key commands rejected", func() bool { return d.Rejected() >= rej+2 })
			m = g.mark()
			g.send(1, requestVersion())
			g.heard(m, "an ack signed with the new key", func(h heardFrame) bool { return isAck(h) && h.by == 1 })

			// The key outlives a link restart.
			d.Stop()
			if err := d.Start(); err != nil {
				t.Fatal(err)
			}
			m = g.mark()
			g.heard(m, "signed with the new key after a restart", func(h heardFrame) bool { return isHeartbeat(h) && h.by == 1 })

			// A zero key and timestamp disable signing.
			g.send(1, &common.MessageSetupSigning{TargetSystem: 1, TargetComponent: 1})
			m = g.mark()
			g.heard(m, "an unsigned heartbeat", func(h heardFrame) bool { return isHeartbeat(h) && h.by == -1 })
			m = g.mark()
			g.send(-1, requestVersion())
			g.heard(m, "an unsigned command answered", func(h heardFrame) bool { return isAck(h) })
			if _, ok := d.Signing(); ok {
				t.Error("signing still on")
			}
		})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
