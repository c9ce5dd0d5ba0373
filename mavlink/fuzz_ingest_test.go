package mavlink

import (
	"bytes"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

// ingestHarness is one transport and fleet shared by every input of a fuzz
// run: each input is sent over a new TCP connection to a tcpin endpoint.
type ingestHarness struct {
	tr   *Transport
	f    *fleet.Fleet
	addr string
}

var (
	harnessOnce sync.Once
	harness     *ingestHarness
	harnessErr  error
)

func ingest(tb testing.TB) *ingestHarness {
	harnessOnce.Do(func() {
		f := &fleet.Fleet{TickInterval: 10 * time.Millisecond, MaxDrones: 64, MaxParams: 64}
		if harnessErr = f.Initialize(); harnessErr != nil {
			return
		}
		tr := &Transport{
			Endpoints: []string{"tcpin:127.0.0.1:0"}, Ingest: f,
			CommandTimeout: 20 * time.Millisecond, CommandRetries: -1,
			MissionTimeout: 20 * time.Millisecond, MissionRetries: -1,
			ParamTimeout: 20 * time.Millisecond, ParamRetries: -1,
			MaxLinks: 64, FrameTimeout: 200 * time.Millisecond, FrameIdle: time.Second,
		}
		if harnessErr = tr.Initialize(); harnessErr != nil {
			f.Close()
			return
		}
		harness = &ingestHarness{tr: tr, f: f, addr: tr.Addrs()[0].String()}
	})
	if harnessErr != nil {
		tb.Fatal(harnessErr)
	}
	return harness
}

// TestMain closes the shared ingest harness after the package's tests and
// fuzz inputs, so its goroutines have an owner.
func TestMain(m *testing.M) {
	code := m.Run()
	if harness != nil {
		harness.tr.Close()
		harness.f.Close()
	}
	os.Exit(code)
}

// feed sends b over a new connection and waits until the server has read
// it all and closed its side.
func (h *ingestHarness) feed(tb testing.TB, b []byte) {
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.Write(b)
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		tb.Fatalf("the server did not finish the input: %v", err)
	}
}

// checkSane fails if the fleet believes anything a patrol drone cannot be.
func checkSane(tb testing.TB, f *fleet.Fleet) {
	ds := f.Drones()
	if len(ds) > 64 {
		tb.Fatalf("%d drones over the limit", len(ds))
	}
	for _, d := range ds {
		if d.HasPosition {
			p := d.Position
			if math.Abs(p.Lat) > 90 || math.Abs(p.Lon) > 180 || math.IsNaN(p.Lat) || math.IsNaN(p.Lon) ||
				math.Abs(p.RelAlt) > fleet.MaxRelAlt || d.AltMSL < fleet.MinAltMSL || d.AltMSL > fleet.MaxAltMSL {
				tb.Fatalf("drone %s believed at %+v, %v m MSL", d.ID, p, d.AltMSL)
			}
		}
		for _, v := range []float64{d.GroundSpeed, d.Climb, d.Roll, d.Pitch, d.Yaw, d.VelN, d.VelE, d.VelD} {
			if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > fleet.MaxSpeed {
				tb.Fatalf("drone %s: impossible value %v in %+v", d.ID, v, d)
			}
		}
		if d.HasHome && (d.Home.AltMSL < fleet.MinAltMSL || d.Home.AltMSL > fleet.MaxAltMSL) {
			tb.Fatalf("drone %s home %+v", d.ID, d.Home)
		}
		if d.Params > 64 {
			tb.Fatalf("drone %s caches %d params", d.ID, d.Params)
		}
		if d.SysID == DefaultSysID {
			tb.Fatalf("the server's own sysid is drone %s", d.ID)
		}
	}
}

// ingestSeeds are byte streams a vehicle (or an attacker) might send.
func ingestSeeds(tb testing.TB) [][]byte {
	enc := newFrameEncoder(tb, 1, 1)
	hb := enc.encode(tb, vehicleHB())
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	pos := enc.encode(tb, &common.MessageGlobalPositionInt{TimeBootMs: 1000, Lat: 325000000, Lon: -1170000000, Alt: 100000, RelativeAlt: 20000, Hdg: 9000})
	badPos := enc.encode(tb, &common.MessageGlobalPositionInt{TimeBootMs: 2000, Lat: math.MaxInt32, Lon: math.MinInt32, Alt: math.MinInt32, RelativeAlt: math.MaxInt32, Vx: math.MaxInt16})
	hud := enc.encode(tb, &common.MessageVfrHud{Groundspeed: float32(math.Inf(1)), Climb: float32(math.NaN()), Heading: 90})
	att := enc.encode(tb, &common.MessageAttitude{Roll: float32(math.NaN()), Yaw: 1})
	home := enc.encode(tb, &common.MessageHomePosition{Latitude: 325000000, Longitude: -1170000000, Altitude: math.MinInt32})
	text := enc.encode(tb, &common.MessageStatustext{Severity: 2, Text: "PreArm: Need Position Estimate", Id: 3})
	param := enc.encode(tb, &common.MessageParamValue{ParamId: "RND_1", ParamValue: float32(math.NaN()), ParamIndex: 65535, ParamCount: 65535})
	current := enc.encode(tb, &common.MessageMissionCurrent{Seq: 3, Total: 65535, MissionState: 3})
	own := newFrameEncoder(tb, DefaultSysID, 1).encode(tb, vehicleHB())
	return [][]byte{
		cat(hb, pos, hud, att),
		cat(hb, badPos, hud, att, home),
		cat(hb, text, param, current),
		cat([]byte("junk\xfd\x09\x02"), hb, pos[:len(pos)/2], hb),
		cat(own, hb),
		{0xfd, 0xff, 0x01, 0x00},
	}
}

// FuzzIngest feeds bytes through a real tcpin endpoint and link into a
// fleet: nothing crashes or hangs, and the fleet believes nothing impossible.
func FuzzIngest(f *testing.F) {
	for _, s := range ingestSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := ingest(t)
		h.feed(t, b)
		checkSane(t, h.f)
	})
}

// FuzzGuardFilter: the connection guard's output is a subsequence of its
// input and does not depend on how the input is cut into reads.
func FuzzGuardFilter(f *testing.F) {
	for _, s := range ingestSeeds(f) {
		f.Add(s, uint8(7))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		var stats transportStats
		g := &guard{frameTimeout: time.Second, frameIdle: time.Second, stats: &stats, logLimit: &fleet.RateLog{}}
		whole := &guardConn{g: g}
		whole.filter(b)
		parts := &guardConn{g: g}
		step := int(cut%32) + 1
		for i := 0; i < len(b); i += step {
			parts.filter(b[i:min(i+step, len(b))])
		}
		if !bytes.Equal(whole.out, parts.out) {
			t.Fatalf("output depends on read sizes:\n%x\n%x", whole.out, parts.out)
		}
		i := 0
		for _, c := range b {
			if i < len(whole.out) && whole.out[i] == c {
				i++
			}
		}
		if i != len(whole.out) {
			t.Fatalf("output is not a subsequence of the input")
		}
	})
}

// The fuzz seeds run as a test too: each one passes through the link and
// leaves the fleet sane, and the limits hold.
func TestIngestSeeds(t *testing.T) {
	h := ingest(t)
	for _, s := range ingestSeeds(t) {
		h.feed(t, s)
		checkSane(t, h.f)
	}
	if st := h.f.Stats(); st.BadFields == 0 {
		t.Errorf("the impossible seeds counted no bad field: %+v", st)
	}
}
