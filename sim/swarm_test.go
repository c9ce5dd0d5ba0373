package sim

import (
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/pion/transport/v2/udp"
)

// gcs is a small ground station for loopback tests: sysid 255, compid 190.
type gcs struct {
	t    testing.TB
	node *gomavlib.Node
	addr string
	mu   sync.Mutex
	rx   []rxMsg
	done chan struct{}
}

type rxMsg struct {
	at    time.Time
	sysid uint8
	msg   message.Message
}

// newGCS starts a ground station. With ep nil it listens on UDP
// 127.0.0.1:0 (read gcs.addr); heartbeats are sent by the test.
func newGCS(t testing.TB, ep gomavlib.EndpointConf) *gcs {
	t.Helper()
	g := &gcs{t: t, done: make(chan struct{})}
	if ep == nil {
		ln, err := udp.Listen("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		g.addr = ln.Addr().String()
		ep = gomavlib.EndpointCustomServer{Listen: func() (net.Listener, error) { return streamListener{ln}, nil }, Label: "udp"}
	}
	g.node = &gomavlib.Node{
		Endpoints: []gomavlib.EndpointConf{ep}, Dialect: ardupilotmega.Dialect, OutVersion: gomavlib.V2,
		OutSystemID: 255, OutComponentID: 190, HeartbeatDisable: true,
	}
	if err := g.node.Initialize(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(g.done)
		for evt := range g.node.Events() {
			if e, ok := evt.(*gomavlib.EventFrame); ok {
				g.mu.Lock()
				g.rx = append(g.rx, rxMsg{at: time.Now(), sysid: e.SystemID(), msg: e.Message()})
				g.mu.Unlock()
			}
		}
	}()
	t.Cleanup(g.close)
	return g
}

func (g *gcs) close() {
	g.node.Close()
	<-g.done
}

func (g *gcs) mark() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.rx)
}

func (g *gcs) send(m message.Message) { _ = g.node.WriteMessageAll(m) }

func (g *gcs) heartbeat() {
	g.send(&common.MessageHeartbeat{Type: common.MAV_TYPE_GCS, Autopilot: common.MAV_AUTOPILOT_INVALID, SystemStatus: common.MAV_STATE_ACTIVE, MavlinkVersion: 3})
}

// waitLink waits for a heartbeat from sysid: until then a gomavlib server
// has no channel to write to.
func (g *gcs) waitLink(sysid uint8) {
	g.t.Helper()
	if _, _, ok := g.waitFor(0, sysid, 5*time.Second, func(m message.Message) bool { _, ok := m.(*common.MessageHeartbeat); return ok }); !ok {
		g.t.Fatalf("no heartbeat from %d", sysid)
	}
}

// waitFor polls until pred holds for a message from sysid received at or
// after index from, or the timeout.
func (g *gcs) waitFor(from int, sysid uint8, timeout time.Duration, pred func(message.Message) bool) (message.Message, int, bool) {
	deadline := time.Now().Add(timeout)
	for {
		g.mu.Lock()
		for i := from; i < len(g.rx); i++ {
			if g.rx[i].sysid == sysid && pred(g.rx[i].msg) {
				m := g.rx[i].msg
				g.mu.Unlock()
				return m, i, true
			}
		}
		g.mu.Unlock()
		if time.Now().After(deadline) {
			return nil, 0, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// texts returns the STATUSTEXTs from sysid in rx[from:to].
func (g *gcs) texts(from, to int, sysid uint8) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.rx[from:min(to+1, len(g.rx))] {
		if m, ok := r.msg.(*common.MessageStatustext); ok && r.sysid == sysid {
			out = append(out, m.Text)
		}
	}
	return out
}

// command sends a COMMAND_LONG, resending every 300 ms, until its ACK.
func (g *gcs) command(sysid uint8, c common.MAV_CMD, p ...float32) (common.MAV_RESULT, []string) {
	g.t.Helper()
	var a [7]float32
	copy(a[:], p)
	for try := uint8(0); try < 10; try++ {
		from := g.mark()
		g.send(&common.MessageCommandLong{TargetSystem: sysid, TargetComponent: 1, Command: c, Confirmation: try,
			Param1: a[0], Param2: a[1], Param3: a[2], Param4: a[3], Param5: a[4], Param6: a[5], Param7: a[6]})
		m, i, ok := g.waitFor(from, sysid, 300*time.Millisecond, func(m message.Message) bool {
			ack, ok := m.(*common.MessageCommandAck)
			return ok && ack.Command == c
		})
		if ok {
			return m.(*common.MessageCommandAck).Result, g.texts(from, i, sysid)
		}
	}
	g.t.Fatalf("no ACK for %v", c)
	return 0, nil
}

func (g *gcs) requestStreams(sysid uint8, hz uint16) {
	for _, id := range []uint8{1, 2, 3, 6, 10, 11, 12} {
		g.send(&common.MessageRequestDataStream{TargetSystem: sysid, TargetComponent: 1, ReqStreamId: common.MAV_DATA_STREAM(id), ReqMessageRate: hz, StartStop: 1})
	}
}

// position waits for a GLOBAL_POSITION_INT from sysid matching pred.
func (g *gcs) position(sysid uint8, timeout time.Duration, pred func(*common.MessageGlobalPositionInt) bool) (*common.MessageGlobalPositionInt, bool) {
	m, _, ok := g.waitFor(g.mark(), sysid, timeout, func(m message.Message) bool {
		p, ok := m.(*common.MessageGlobalPositionInt)
		return ok && pred(p)
	})
	if !ok {
		return nil, false
	}
	return m.(*common.MessageGlobalPositionInt), true
}

func startSwarm(t testing.TB, cfg Config) *Swarm {
	t.Helper()
	s := New(cfg)
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no endpoint", Config{}, "one of Connect or Listen"},
		{"both", Config{Connect: "udpout:127.0.0.1:1", Listen: "tcpin:127.0.0.1:0"}, "only one"},
		{"bad scheme", Config{Connect: "serial:/dev/ttyUSB0"}, "unknown scheme"},
		{"no port", Config{Connect: "udpout:127.0.0.1"}, "udpout:HOST:PORT"},
		{"bad port", Config{Listen: "tcpin:127.0.0.1:99999"}, "bad port"},
		{"listen form in connect", Config{Connect: "tcpin:127.0.0.1:5760"}, "listening form"},
		{"connect form in listen", Config{Listen: "udpout:127.0.0.1:14550"}, "connecting form"},
		{"too many sysids", Config{Connect: "udpout:127.0.0.1:14550", Drones: 10, SysIDBase: 250}, "pass 254"},
		{"bad loss", Config{Connect: "udpout:127.0.0.1:14550", Faults: Faults{LossIn: 2}}, "loss"},
		{"bad home", Config{Connect: "udpout:127.0.0.1:14550", Home: &Home{Lat: 95}}, "Home"},
		{"faults of a missing drone", Config{Connect: "udpout:127.0.0.1:14550", Drones: 2, DroneFaults: map[uint8]Faults{3: {}}}, "no drone with system id 3"},
		{"bad drone faults", Config{Connect: "udpout:127.0.0.1:14550", DroneFaults: map[uint8]Faults{1: {LossOut: -1}}}, "DroneFaults[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
			if err := New(c.cfg).Initialize(); err == nil {
				t.Error("Initialize accepted a bad config")
			}
		})
	}
	if err := (&Config{Listen: "tcp:127.0.0.1:5760"}).Validate(); err == nil || !errors.Is(err, err) {
		t.Errorf("tcp: is a connect form, got %v", err)
	}
	for _, ok := range []string{"udpout:127.0.0.1:14550", "tcp:127.0.0.1:5760"} {
		if err := (&Config{Connect: ok}).Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, ok := range []string{"tcpin:127.0.0.1:0", "udp:127.0.0.1:14560"} {
		if err := (&Config{Listen: ok}).Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestHomesSpreadOverCorridors(t *testing.T) {
	cfg := Config{Drones: 12}
	seen := map[Home]bool{}
	for i := 0; i < cfg.Drones; i++ {
		h := homeFor(&cfg, i)
		if seen[h] {
			t.Errorf("drone %d shares home %v", i, h)
		}
		seen[h] = true
		c := Corridors[i%len(Corridors)].Home
		n, e := toNE(c.Lat, c.Lon, h.Lat, h.Lon)
		if math.Hypot(n, e) > 200 {
			t.Errorf("drone %d is %.0f m from its corridor's home", i, math.Hypot(n, e))
		}
	}
}

func TestPortInUseFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := New(Config{Listen: "tcpin:" + ln.Addr().String()})
	if err := s.Initialize(); err == nil {
		s.Close()
		t.Fatal("listening on a port in use succeeded")
	}
}

// flight runs the core loopback scenario against drone sysid.
func flight(t *testing.T, g *gcs, sysid uint8) {
	g.waitLink(sysid)
	g.heartbeat()
	g.requestStreams(sysid, 10)
	if _, ok := g.position(sysid, 5*time.Second, func(*common.MessageGlobalPositionInt) bool { return true }); !ok {
		t.Fatal("no GLOBAL_POSITION_INT after the stream request")
	}
	g.command(sysid, common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	res, texts := g.command(sysid, common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	if res != common.MAV_RESULT_FAILED || len(texts) == 0 || !strings.HasPrefix(texts[0], "Arm: ") {
		t.Fatalf("arm before the fix: %v %q, want FAILED with a reason", res, texts)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.heartbeat()
		res, _ = g.command(sysid, common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
		if res == common.MAV_RESULT_ACCEPTED {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("arming never accepted: %v", res)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, _ := g.command(sysid, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 30); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("takeoff: %v", r)
	}
	p, ok := g.position(sysid, 10*time.Second, func(p *common.MessageGlobalPositionInt) bool {
		return math.Abs(float64(p.RelativeAlt)/1000-30) < 1 && math.Abs(float64(p.Vz)) < 20
	})
	if !ok {
		t.Fatal("never at 30 ± 1 m")
	}
	lat, lon := offset(float64(p.Lat)/1e7, float64(p.Lon)/1e7, 100, 50)
	g.send(&common.MessageSetPositionTargetGlobalInt{TargetSystem: sysid, TargetComponent: 1,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, TypeMask: 0xff8,
		LatInt: int32(lat * 1e7), LonInt: int32(lon * 1e7), Alt: 30})
	if _, ok := g.position(sysid, 10*time.Second, func(p *common.MessageGlobalPositionInt) bool {
		n, e := toNE(lat, lon, float64(p.Lat)/1e7, float64(p.Lon)/1e7)
		return math.Hypot(n, e) < 2
	}); !ok {
		t.Fatal("go-to never within 2 m")
	}
	if r, _ := g.command(sysid, common.MAV_CMD_NAV_LAND); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("land: %v", r)
	}
	if _, _, ok := g.waitFor(g.mark(), sysid, 15*time.Second, func(m message.Message) bool {
		hb, ok := m.(*common.MessageHeartbeat)
		return ok && hb.BaseMode&common.MAV_MODE_FLAG_SAFETY_ARMED == 0
	}); !ok {
		t.Fatal("never disarmed after landing")
	}
}

func TestLoopbackFlight(t *testing.T) {
	t.Run("udp", func(t *testing.T) {
		g := newGCS(t, nil)
		s := startSwarm(t, Config{Drones: 2, Connect: "udpout:" + g.addr, Speedup: 40, BootDelay: 100 * time.Second})
		if s.Drones()[1].SysID() != 2 {
			t.Fatalf("second drone sysid %d", s.Drones()[1].SysID())
		}
		flight(t, g, 2)
		if st := s.Drones()[1].State(); st.Armed || !st.Landed || st.Mode != ModeLand {
			t.Errorf("after the flight %+v", st)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		s := startSwarm(t, Config{Drones: 1, Listen: "tcpin:127.0.0.1:0", SysIDBase: 7, Speedup: 40, BootDelay: 100 * time.Second})
		addr := s.Drones()[0].Addr()
		if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Fatalf("listen address %q", addr)
		}
		g := newGCS(t, gomavlib.EndpointTCPClient{Address: addr})
		flight(t, g, 7)
	})
}

func TestLoopbackStopStart(t *testing.T) {
	g := newGCS(t, nil)
	s := startSwarm(t, Config{Connect: "udpout:" + g.addr, BootDelay: -1})
	d := s.Drones()[0]
	isHB := func(m message.Message) bool { _, ok := m.(*common.MessageHeartbeat); return ok }
	if _, _, ok := g.waitFor(0, 1, 3*time.Second, isHB); !ok {
		t.Fatal("no heartbeat")
	}
	d.Stop()
	if d.State().Linked || d.Addr() != "" {
		t.Error("stopped drone still linked")
	}
	time.Sleep(100 * time.Millisecond) // let in-flight datagrams land
	from := g.mark()
	if _, _, ok := g.waitFor(from, 1, 1500*time.Millisecond, isHB); ok {
		t.Fatal("heartbeat from a stopped drone")
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := g.waitFor(from, 1, 3*time.Second, isHB); !ok {
		t.Fatal("no heartbeat after restart")
	}
}

func TestLoopbackParamsWithLoss(t *testing.T) {
	g := newGCS(t, nil)
	s := startSwarm(t, Config{Connect: "udpout:" + g.addr, BootDelay: -1, Seed: 7, Faults: Faults{LossOut: 0.2, LossIn: 0.2}})
	g.waitLink(1)
	got := map[uint16]string{}
	total := 0
	collect := func(from int) int {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, r := range g.rx[from:] {
			if p, ok := r.msg.(*common.MessageParamValue); ok && r.sysid == 1 && p.ParamIndex != 65535 {
				got[p.ParamIndex] = p.ParamId
				total = int(p.ParamCount)
			}
		}
		return len(g.rx)
	}
	from := g.mark()
	for try := 0; try < 5 && total == 0; try++ {
		g.send(&common.MessageParamRequestList{TargetSystem: 1, TargetComponent: 1})
		time.Sleep(500 * time.Millisecond)
		from = collect(from)
	}
	for round := 0; round < 20 && (total == 0 || len(got) < total); round++ {
		for i := 0; i < total; i++ {
			if _, ok := got[uint16(i)]; !ok {
				g.send(&common.MessageParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamIndex: int16(i)})
			}
		}
		time.Sleep(100 * time.Millisecond)
		from = collect(from)
	}
	if total != len(paramDefs) || len(got) != total {
		t.Fatalf("got %d of %d parameters (want %d) with 20%% loss", len(got), total, len(paramDefs))
	}
	if dropped := s.Drones()[0].dropped(); dropped == 0 {
		t.Error("no message was dropped: loss not applied")
	}
	// A PARAM_SET round trip, retried until the echo.
	var echo *common.MessageParamValue
	for try := 0; try < 10 && echo == nil; try++ {
		from := g.mark()
		g.send(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_TIMEOUT", ParamValue: 3, ParamType: common.MAV_PARAM_TYPE_REAL32})
		if m, _, ok := g.waitFor(from, 1, 300*time.Millisecond, func(m message.Message) bool {
			p, ok := m.(*common.MessageParamValue)
			return ok && p.ParamId == "FS_GCS_TIMEOUT"
		}); ok {
			echo = m.(*common.MessageParamValue)
		}
	}
	if echo == nil || echo.ParamValue != 3 || echo.ParamIndex != 65535 {
		t.Fatalf("PARAM_SET echo %+v", echo)
	}
}

func TestLoopbackGCSFailsafeWallTime(t *testing.T) {
	g := newGCS(t, nil)
	s := startSwarm(t, Config{Connect: "udpout:" + g.addr, BootDelay: -1, Speedup: 20})
	d := s.Drones()[0]
	g.waitLink(1)
	g.heartbeat()
	g.send(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_ENABLE", ParamValue: 1, ParamType: common.MAV_PARAM_TYPE_REAL32})
	g.send(&common.MessageParamSet{TargetSystem: 1, TargetComponent: 1, ParamId: "FS_GCS_TIMEOUT", ParamValue: 2, ParamType: common.MAV_PARAM_TYPE_REAL32})
	g.command(1, common.MAV_CMD_DO_SET_MODE, 1, float32(ModeGuided))
	if r, txt := g.command(1, common.MAV_CMD_COMPONENT_ARM_DISARM, 1); r != common.MAV_RESULT_ACCEPTED {
		t.Fatalf("arm: %v %q", r, txt)
	}
	g.command(1, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 20)
	// 1 Hz heartbeats for 3 s of wall time = 60 s simulated: no failsafe.
	for i := 0; i < 3; i++ {
		g.heartbeat()
		time.Sleep(time.Second)
	}
	g.heartbeat()
	last := time.Now()
	if st := d.State(); st.GCSFailsafe || st.Mode != ModeGuided {
		t.Fatalf("failsafe tripped by a 1 Hz GCS at speed-up 20: %+v", st)
	}
	from := g.mark()
	m, _, ok := g.waitFor(from, 1, 5*time.Second, func(m message.Message) bool {
		hb, ok := m.(*common.MessageHeartbeat)
		return ok && hb.CustomMode == ModeRTL && hb.SystemStatus == common.MAV_STATE_CRITICAL
	})
	if !ok {
		t.Fatalf("no RTL/CRITICAL heartbeat: %+v", d.State())
	}
	_ = m
	if el := time.Since(last); el < 2*time.Second || el > 3500*time.Millisecond {
		t.Errorf("failsafe after %v of wall time, want ~2 s", el)
	}
	if !contains(g.texts(from, g.mark(), 1), "GCS Failsafe") {
		t.Error("no GCS Failsafe text")
	}
}

// TestLoopbackMissionUploadWithLoss uploads a 10-item mission over UDP with
// 30 % of messages lost each way; the GCS restarts the upload when it hears
// nothing for a while, as a ground station must. The vehicle repeats an
// unanswered request only once a second (as ArduCopter), so each loss costs
// about a second: the item count is kept small.
func TestLoopbackMissionUploadWithLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s of wall time")
	}
	g := newGCS(t, nil)
	s := startSwarm(t, Config{Connect: "udpout:" + g.addr, BootDelay: -1, Seed: 3, Faults: Faults{LossOut: 0.3, LossIn: 0.3}})
	g.waitLink(1)
	d := s.Drones()[0]
	home := d.State()
	items := make([]*common.MessageMissionItemInt, 10)
	for i := range items {
		lat, lon := offset(home.Lat, home.Lon, float64(i)*10, 0)
		items[i] = &common.MessageMissionItemInt{TargetSystem: 1, TargetComponent: 1, Seq: uint16(i), Frame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
			Command: common.MAV_CMD_NAV_WAYPOINT, Autocontinue: 1, X: int32(lat * 1e7), Y: int32(lon * 1e7), Z: 20}
	}
	items[1].Command = common.MAV_CMD_NAV_TAKEOFF
	deadline := time.Now().Add(40 * time.Second)
	done := false
	for !done && time.Now().Before(deadline) {
		from := g.mark()
		g.send(&common.MessageMissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items))})
		for !done {
			m, i, ok := g.waitFor(from, 1, 3500*time.Millisecond, func(m message.Message) bool {
				switch m.(type) {
				case *common.MessageMissionRequest, *common.MessageMissionAck:
					return true
				}
				return false
			})
			if !ok {
				break // nothing heard: restart with MISSION_COUNT
			}
			from = i + 1
			switch m := m.(type) {
			case *common.MessageMissionRequest:
				g.send(items[m.Seq])
			case *common.MessageMissionAck:
				switch m.Type {
				case common.MAV_MISSION_ACCEPTED:
					done = true
				case common.MAV_MISSION_INVALID_SEQUENCE:
					// the vehicle asks again
				default:
					from = -1
				}
			}
			if from < 0 {
				break
			}
		}
	}
	if !done {
		t.Fatal("upload with 30 % loss did not complete in 40 s")
	}
	if st := d.State(); st.MissionCount != 10 {
		t.Errorf("vehicle holds %d items", st.MissionCount)
	}
}
