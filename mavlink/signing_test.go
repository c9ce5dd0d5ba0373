package mavlink

import (
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/streamwriter"

	"github.com/centinela-gcs/centinela/fleet"
)

func testKey(b byte) fleet.SigningKey {
	var k fleet.SigningKey
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// signedEncoder encodes frames of sysID signed with key.
func signedEncoder(t testing.TB, sysID uint8, key fleet.SigningKey) *frameEncoder {
	t.Helper()
	e := newFrameEncoder(t, sysID, 1)
	e.sw = &streamwriter.Writer{FrameWriter: e.fw, Version: streamwriter.V2, SystemID: sysID, ComponentID: 1, Key: frame.NewV2Key(key[:])}
	if err := e.sw.Initialize(); err != nil {
		t.Fatal(err)
	}
	return e
}

func notices(rec *recorder, kind fleet.SecurityKind) uint64 {
	var n uint64
	for _, r := range rec.snapshot() {
		if sn, ok := r.u.(fleet.SecurityNotice); ok && sn.Kind == kind {
			n += sn.Count
		}
	}
	return n
}

// A signed vehicle: the transport signs what it sends (the vehicle, which
// drops unsigned input, answers commands), marks its heartbeats Signed, and
// drops unsigned, badly signed and replayed frames claiming its system id,
// counting and reporting them.
func TestSignedLink(t *testing.T) {
	key := testKey(1)
	keys := &fleet.MemKeyStore{}
	keys.SetSysID(1, key)
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, func(tr *Transport) { tr.Keys = keys })
	addr := tr.Addrs()[0].(*net.UDPAddr)
	fv := startFakeVehicleKey(t, networks[0].vehicleEP(addr.String()), 1, frame.NewV2Key(key[:]))
	waitFor(t, 5*time.Second, "signed vehicle linked", func() bool { return rec.vehicle(1) != nil })
	waitFor(t, 2*time.Second, "a signed heartbeat", func() bool {
		return rec.count(func(r recorded) bool { hb, ok := r.u.(fleet.Heartbeat); return ok && hb.Signed }) > 0
	})
	v := rec.vehicle(1)
	if err := v.Command(t.Context(), fleet.Command{Kind: fleet.CommandArm}); err != nil {
		t.Fatalf("arm on a signed link: %v", err)
	}
	waitFor(t, 2*time.Second, "the vehicle hears the transport's signed heartbeat", func() bool {
		fv.mu.Lock()
		defer fv.mu.Unlock()
		return fv.gcsHeartbeat != nil
	})

	rogue, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	unsigned := newFrameEncoder(t, 1, 1)
	wrong := signedEncoder(t, 1, testKey(99))
	for range 5 {
		rogue.Write(unsigned.encode(t, vehicleHB()))
		rogue.Write(wrong.encode(t, vehicleHB()))
	}
	waitFor(t, 2*time.Second, "rejections counted", func() bool {
		st := tr.Stats()
		return st.Unsigned == 5 && st.BadSignatures == 5
	})
	waitFor(t, 2*time.Second, "rejections reported on the real link", func() bool {
		return notices(rec, fleet.SecurityUnsigned) == 5 && notices(rec, fleet.SecurityBadSignature) == 5
	})
	if n := tr.Stats().Links; n != 1 {
		t.Errorf("%d links: the rogue became one", n)
	}

	// A replayed signed frame is dropped; a signed frame too old for a new
	// stream is dropped too.
	keys.SetSysID(2, key)
	good := signedEncoder(t, 2, key)
	f := good.encode(t, vehicleHB())
	rogue.Write(f)
	waitFor(t, 2*time.Second, "signed sysid 2 linked", func() bool { return rec.vehicle(2) != nil })
	rogue.Write(f)
	waitFor(t, 2*time.Second, "replay counted", func() bool { return tr.Stats().Replays == 1 })
}

// Without a key nothing is checked, but another ground station's heartbeat
// and a COMMAND_ACK to another system are noticed.
func TestForeignGroundStationNoticed(t *testing.T) {
	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec)
	c, err := net.DialUDP("udp", nil, tr.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	veh := newFrameEncoder(t, 1, 1)
	gcs := newFrameEncoder(t, 200, 190)
	c.Write(veh.encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "vehicle", func() bool { return rec.vehicle(1) != nil })
	c.Write(gcs.encode(t, &common.MessageHeartbeat{Type: common.MAV_TYPE_GCS, Autopilot: common.MAV_AUTOPILOT_INVALID, MavlinkVersion: 3}))
	c.Write(veh.encode(t, &common.MessageCommandAck{Command: common.MAV_CMD_COMPONENT_ARM_DISARM, TargetSystem: 200, TargetComponent: 190}))
	waitFor(t, 2*time.Second, "notices", func() bool {
		return notices(rec, fleet.SecurityForeignGCS) == 1 && notices(rec, fleet.SecurityUnaskedAck) == 1
	})
	if st := tr.Stats(); st.ForeignGCS != 1 || st.UnaskedAcks != 1 {
		t.Errorf("stats %+v", st)
	}
}
