package mavlink

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// rawVehicle is a vehicle on a raw UDP socket: the test encodes what it
// sends, and it records which key signed each frame the transport sent it
// and every SETUP_SIGNING.
type rawVehicle struct {
	conn *net.UDPConn
	keys []fleet.SigningKey
	drw  *dialect.ReadWriter

	mu       sync.Mutex
	signedBy map[int]int // key index (-1 unsigned, -2 unknown) → frames
	setups   []*common.MessageSetupSigning
	setupKey []int // the key index that signed each setup
	maxTS    uint64
	done     chan struct{}
}

func startRawVehicle(t *testing.T, addr *net.UDPAddr, keys ...fleet.SigningKey) *rawVehicle {
	t.Helper()
	c, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		t.Fatal(err)
	}
	v := &rawVehicle{conn: c, keys: keys, drw: drw, signedBy: map[int]int{}, done: make(chan struct{})}
	go v.read()
	t.Cleanup(func() { c.Close(); <-v.done })
	return v
}

func (v *rawVehicle) read() {
	defer close(v.done)
	buf := make([]byte, 65536)
	for {
		n, err := v.conn.Read(buf)
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
			by := -1
			if f.Signature != nil {
				by = -2
				for i, k := range v.keys {
					if *f.GenerateSignature(frame.NewV2Key(k[:])) == *f.Signature {
						by = i
					}
				}
			}
			v.mu.Lock()
			v.signedBy[by]++
			if by >= 0 {
				v.maxTS = max(v.maxTS, f.SignatureTimestamp)
			}
			if raw := f.Message.(*message.MessageRaw); raw.ID == 256 {
				if m, err := v.drw.GetMessage(256).Read(raw, true); err == nil {
					v.setups = append(v.setups, m.(*common.MessageSetupSigning))
					v.setupKey = append(v.setupKey, by)
				}
			}
			v.mu.Unlock()
		}
	}
}

func (v *rawVehicle) count(by int) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.signedBy[by]
}

func (v *rawVehicle) lastSetup() (*common.MessageSetupSigning, int, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.setups) == 0 {
		return nil, 0, 0
	}
	return v.setups[len(v.setups)-1], v.setupKey[len(v.setupKey)-1], len(v.setups)
}

func textsHeard(rec *recorder, text string) int {
	return rec.count(func(r recorded) bool { st, ok := r.u.(fleet.StatusText); return ok && st.Text == text })
}

// A push gives a signed vehicle a new key over its live link: SETUP_SIGNING
// signed with the old key, sent again until the vehicle signs with the new
// one; then the transport signs with the new key, accepts the old one for
// the grace period and refuses it after. A push the vehicle never takes
// times out and leaves the link as it was.
func TestSigningKeyPushAndGrace(t *testing.T) {
	key1, key2, key3 := testKey(1), testKey(50), testKey(100)
	keys := &fleet.MemKeyStore{}
	keys.SetSysID(1, key1)
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) {
		tr.Keys, tr.Now = keys, now
		tr.SigningGrace = 2 * time.Second
		tr.PushInterval, tr.PushTimeout = 50*time.Millisecond, 400*time.Millisecond
	})
	veh := startRawVehicle(t, tr.Addrs()[0].(*net.UDPAddr), key1, key2, key3)
	enc1, enc2 := signedEncoder(t, 1, key1), signedEncoder(t, 1, key2)
	veh.conn.Write(enc1.encode(t, vehicleHB()))
	waitFor(t, 5*time.Second, "signed vehicle linked", func() bool { return rec.vehicle(1) != nil })
	sv := rec.vehicle(1).(fleet.SigningVehicle)
	waitFor(t, 2*time.Second, "heartbeats signed with the first key", func() bool { return veh.count(0) > 0 })

	// A push the vehicle ignores times out after several SETUP_SIGNINGs;
	// the link keeps signing with, and accepting, the first key.
	if err := sv.SetSigningKey(t.Context(), key3, true); fleet.ErrorCode(err) != fleet.Timeout {
		t.Fatalf("ignored push: %v", err)
	}
	if m, by, n := veh.lastSetup(); m == nil || n < 3 || by != 0 || m.SecretKey != key3 || m.TargetSystem != 1 {
		t.Fatalf("SETUP_SIGNING: %d sent, last %+v signed by key #%d", n, m, by)
	}
	before := veh.count(0)
	veh.conn.Write(enc1.encode(t, &common.MessageStatustext{Severity: 6, Text: "after failed push"}))
	waitFor(t, 2*time.Second, "first key still accepted", func() bool { return textsHeard(rec, "after failed push") == 1 })
	waitFor(t, 2*time.Second, "first key still signing", func() bool { return veh.count(0) > before })

	// A push the vehicle takes.
	errc := make(chan error, 1)
	go func() { errc <- sv.SetSigningKey(t.Context(), key2, true) }()
	waitFor(t, 2*time.Second, "SETUP_SIGNING with the new key", func() bool {
		m, by, _ := veh.lastSetup()
		return m != nil && m.SecretKey == key2 && by == 0
	})
	select {
	case err := <-errc:
		t.Fatalf("push returned before the vehicle signed with the new key: %v", err)
	default:
	}
	veh.conn.Write(enc2.encode(t, vehicleHB()))
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("push: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("push did not end once the vehicle signed with the new key")
	}
	waitFor(t, 2*time.Second, "heartbeats signed with the new key", func() bool { return veh.count(1) > 0 })
	old := veh.count(0)

	// In the grace period a frame still in flight with the old key is kept.
	veh.conn.Write(enc1.encode(t, &common.MessageStatustext{Severity: 6, Text: "in grace"}))
	waitFor(t, 2*time.Second, "old key accepted in the grace period", func() bool { return textsHeard(rec, "in grace") == 1 })
	if st := tr.Stats(); st.BadSignatures != 0 {
		t.Fatalf("bad signatures %d", st.BadSignatures)
	}
	// After it the old key is refused; the new one works.
	offset.Store(int64(3 * time.Second))
	veh.conn.Write(enc1.encode(t, &common.MessageStatustext{Severity: 6, Text: "after grace"}))
	veh.conn.Write(enc2.encode(t, &common.MessageStatustext{Severity: 6, Text: "new key"}))
	waitFor(t, 2*time.Second, "old key refused after the grace period", func() bool { return tr.Stats().BadSignatures == 1 })
	waitFor(t, 2*time.Second, "new key accepted", func() bool { return textsHeard(rec, "new key") == 1 })
	if n := textsHeard(rec, "after grace"); n != 0 {
		t.Errorf("a frame signed with the old key was kept after the grace period")
	}
	if n := veh.count(0); n != old {
		t.Errorf("%d frames signed with the old key after the switch", n-old)
	}
}

// A push to a vehicle on an unsigned link sends SETUP_SIGNING unsigned; once
// the vehicle signs with the key the link is signed: unsigned frames are
// accepted for the grace period only.
func TestSigningKeyPushUnsignedLink(t *testing.T) {
	key := testKey(7)
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) {
		tr.Keys, tr.Now = &fleet.MemKeyStore{}, now
		tr.SigningGrace = time.Second
		tr.PushInterval = 50 * time.Millisecond
	})
	veh := startRawVehicle(t, tr.Addrs()[0].(*net.UDPAddr), key)
	plain, signed := newFrameEncoder(t, 1, 1), signedEncoder(t, 1, key)
	veh.conn.Write(plain.encode(t, vehicleHB()))
	waitFor(t, 5*time.Second, "unsigned vehicle linked", func() bool { return rec.vehicle(1) != nil })
	errc := make(chan error, 1)
	go func() { errc <- rec.vehicle(1).(fleet.SigningVehicle).SetSigningKey(t.Context(), key, true) }()
	waitFor(t, 2*time.Second, "unsigned SETUP_SIGNING", func() bool { m, by, _ := veh.lastSetup(); return m != nil && by == -1 })
	veh.conn.Write(signed.encode(t, vehicleHB()))
	if err := <-errc; err != nil {
		t.Fatalf("push: %v", err)
	}
	waitFor(t, 2*time.Second, "a Signed heartbeat", func() bool {
		return rec.count(func(r recorded) bool { hb, ok := r.u.(fleet.Heartbeat); return ok && hb.Signed }) > 0
	})
	waitFor(t, 2*time.Second, "the transport signs", func() bool { return veh.count(0) > 0 })
	offset.Store(int64(2 * time.Second))
	veh.conn.Write(plain.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "unsigned refused after the grace period", func() bool { return tr.Stats().Unsigned == 1 })
}

func (v *rawVehicle) newestTS() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.maxTS
}
