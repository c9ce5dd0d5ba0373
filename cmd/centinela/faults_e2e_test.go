package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/sim"
)

// The fault matrix of the hardening issue (20), over loopback.

// faultyProxy relays UDP between one client and a target, losing,
// duplicating and reordering datagrams each way.
type faultyProxy struct {
	front, back *net.UDPConn
	loss, dup   float64
	maxDelay    time.Duration
	mu          sync.Mutex
	peer        *net.UDPAddr
	rng         *rand.Rand
	lost, duped int
	wg          sync.WaitGroup
	done        chan struct{}
	timers      sync.WaitGroup
}

func mustFaultyProxy(t *testing.T, target string, loss, dup float64, maxDelay time.Duration) *faultyProxy {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := net.ResolveUDPAddr("udp4", target)
	back, err := net.DialUDP("udp4", nil, ta)
	if err != nil {
		front.Close()
		t.Fatal(err)
	}
	p := &faultyProxy{front: front, back: back, loss: loss, dup: dup, maxDelay: maxDelay,
		rng: rand.New(rand.NewPCG(20, 20)), done: make(chan struct{})}
	p.wg.Add(2)
	go p.relay(true)
	go p.relay(false)
	t.Cleanup(func() {
		close(p.done)
		front.Close()
		back.Close()
		p.wg.Wait()
		p.timers.Wait()
	})
	return p
}

func (p *faultyProxy) Addr() string { return p.front.LocalAddr().String() }

// relay moves datagrams one way; each is lost, or sent once or twice after
// a random delay (so later ones overtake it).
func (p *faultyProxy) relay(forward bool) {
	defer p.wg.Done()
	buf := make([]byte, 65535)
	for {
		var n int
		var err error
		if forward {
			var from *net.UDPAddr
			n, from, err = p.front.ReadFromUDP(buf)
			if err == nil {
				p.mu.Lock()
				p.peer = from
				p.mu.Unlock()
			}
		} else {
			n, err = p.back.Read(buf)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b := append([]byte(nil), buf[:n]...)
		p.mu.Lock()
		copies := 1
		switch r := p.rng.Float64(); {
		case r < p.loss:
			copies = 0
			p.lost++
		case r < p.loss+p.dup:
			copies = 2
			p.duped++
		}
		delays := []time.Duration{time.Duration(p.rng.Int64N(int64(p.maxDelay))), time.Duration(p.rng.Int64N(int64(p.maxDelay)))}
		peer := p.peer
		p.mu.Unlock()
		for i := range copies {
			p.timers.Add(1)
			time.AfterFunc(delays[i], func() {
				defer p.timers.Done()
				select {
				case <-p.done:
					return
				default:
				}
				if forward {
					_, _ = p.back.Write(b)
				} else if peer != nil {
					_, _ = p.front.WriteToUDP(b, peer)
				}
			})
		}
	}
}

// claims returns the IdentityClaimed events recorded.
func claims(r *recorder) []fleet.IdentityClaimed { return all[fleet.IdentityClaimed](r, 0) }

// 30 % loss, 10 % duplication and reordering each way: the drone is one
// drone, tracked, and a command and a mission upload get through (with the
// retries an operator would make).
func TestE2ELossyDuplicatingReorderingLink(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fault test: skipped with -short")
	}
	t.Parallel()
	cfg := testServeConfig("udp:127.0.0.1:0")
	// A link known to be this bad gets a tolerant timeout: at 1.5 s, two
	// heartbeats lost in a row (9 %) would declare it lost.
	cfg.LinkTimeout = 5 * time.Second
	srv := mustServer(t, cfg)
	ev := record(t, srv.Fleet)
	p := mustFaultyProxy(t, srv.MAVLinkAddr(0).String(), 0.3, 0.1, 30*time.Millisecond)
	// Real time, as a radio is.
	mustSwarm(t, sim.Config{Drones: 1, Connect: "udpout:" + p.Addr(), BootDelay: -1, Seed: 20, Speedup: 1})
	var id string
	eventually(t, 40*time.Second, "the drone discovered with a position over the bad link", func() bool {
		for _, d := range srv.Fleet.Drones() {
			if d.HasPosition {
				id = d.ID
			}
		}
		return id != ""
	})
	ctx := opCtx(t, 60*time.Second)
	// Each try of a command is lost with about half a chance (30 % each
	// way), so even 4 tries fail now and then: the operator tries again.
	var armErr error
	for try := range 3 {
		eventually(t, 10*time.Second, "the link up", func() bool { return droneState(t, srv.Fleet, id).LinkState == fleet.LinkStateUp })
		if armErr = srv.Fleet.Arm(ctx, id, fleet.ArmOptions{Wait: 30 * time.Second, RetryInterval: 300 * time.Millisecond}); armErr == nil {
			break
		}
		t.Logf("arm try %d over a bad link: %v", try+1, armErr)
	}
	if armErr != nil {
		t.Fatalf("arm over a bad link, 3 tries: %v", armErr)
	}
	// (Takeoff is left out: a duplicated or retried NAV_TAKEOFF reaches a
	// vehicle already climbing, which refuses it as ArduCopter does, and
	// ArduCopter disarms on the ground before the operator's retries end.)
	home := droneState(t, srv.Fleet, id)
	items := []fleet.MissionItem{homeItem(home.Position, home.AltMSL), takeoffItem(10)}
	for i := range 8 {
		items = append(items, waypoint(offset(home.Position, float64(20*i), 10), 0, 2))
	}
	// A duplicated MISSION_COUNT or last item can make the vehicle end the
	// transfer with an error, as ArduPilot does: the operator tries again.
	var uploadErr error
	for try := range 3 {
		eventually(t, 10*time.Second, "the link up", func() bool { return droneState(t, srv.Fleet, id).LinkState == fleet.LinkStateUp })
		if _, uploadErr = srv.Fleet.UploadMission(ctx, id, fleet.MissionTypeMission, items, fleet.UploadOptions{}); uploadErr == nil {
			break
		}
		t.Logf("upload try %d over a bad link: %v", try+1, uploadErr)
	}
	if uploadErr != nil {
		t.Fatalf("mission upload over a bad link, 3 tries: %v", uploadErr)
	}
	if n := len(srv.Fleet.Drones()); n != 1 {
		t.Errorf("%d drones from one vehicle", n)
	}
	if c := claims(ev); len(c) != 0 {
		t.Errorf("identity claims on one lossy link: %+v", c)
	}
	p.mu.Lock()
	t.Logf("proxy lost %d, duplicated %d datagrams; transport %+v", p.lost, p.duped, srv.Transport.Stats())
	p.mu.Unlock()
}

// A link that drops every second or so, the drone reconnecting from a new
// source port each time: one drone that follows its links, no claim.
func TestE2ELinkFlapping(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fault test: skipped with -short")
	}
	t.Parallel()
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	ev := record(t, srv.Fleet)
	swarm := mustSwarm(t, sim.Config{Drones: 1, Connect: "udpout:" + srv.MAVLinkAddr(0).String(), BootDelay: -1, Seed: 21})
	id := waitDiscovered(t, srv.Fleet, 1)[0]
	d := swarm.Drones()[0]
	links := map[string]bool{droneState(t, srv.Fleet, id).Link: true}
	for i := range 4 {
		d.Stop()
		time.Sleep(time.Duration(300+400*i) * time.Millisecond) // shorter and longer than the link timeout
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, fmt.Sprintf("flap %d: the drone on a new link", i), func() bool {
			st := droneState(t, srv.Fleet, id)
			return !links[st.Link] && st.LinkState == fleet.LinkStateUp
		})
		links[droneState(t, srv.Fleet, id).Link] = true
	}
	if n := len(srv.Fleet.Drones()); n != 1 {
		t.Errorf("%d drones after flapping", n)
	}
	if c := claims(ev); len(c) != 0 {
		t.Errorf("reconnects taken as claims: %+v", c)
	}
	if err := srv.Fleet.Arm(opCtx(t, 30*time.Second), id, fleet.ArmOptions{Wait: 20 * time.Second}); err != nil {
		t.Errorf("arm after flapping: %v", err)
	}
}

// impostor sends a vehicle's heartbeat and a position with system id sysID.
func impostor(t *testing.T, addr string, sysID uint8, lat, lon float64) *gomavlib.Node {
	t.Helper()
	n := &gomavlib.Node{
		Endpoints:              []gomavlib.EndpointConf{gomavlib.EndpointUDPClient{Address: addr}},
		Dialect:                ardupilotmega.Dialect,
		OutVersion:             gomavlib.V2,
		OutSystemID:            sysID,
		OutComponentID:         1,
		HeartbeatPeriod:        300 * time.Millisecond,
		HeartbeatSystemType:    2, // quadrotor
		HeartbeatAutopilotType: 3, // ArduPilot
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range n.Events() {
		}
	}()
	go func() {
		defer wg.Done()
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				n.WriteMessageAll(&common.MessageGlobalPositionInt{TimeBootMs: 1000, Lat: int32(lat * 1e7), Lon: int32(lon * 1e7),
					Alt: 2240000, RelativeAlt: 30000})
			}
		}
	}()
	t.Cleanup(func() { close(stop); n.Close(); wg.Wait() })
	return n
}

// An impostor on another source port claiming a flying drone's system id
// takes nothing over: it becomes a separate drone, an IdentityClaimed
// event reports it, and commands still reach the real drone.
func TestE2EImpostorNoTakeover(t *testing.T) {
	t.Parallel()
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	ev := record(t, srv.Fleet)
	addr := srv.MAVLinkAddr(0).String()
	swarm := mustSwarm(t, sim.Config{Drones: 1, Connect: "udpout:" + addr, BootDelay: -1, Seed: 22})
	id := waitDiscovered(t, srv.Fleet, 1)[0]
	real := droneState(t, srv.Fleet, id)
	impostor(t, addr, swarm.Drones()[0].SysID(), 19.43, -99.13) // Mexico City
	c, _ := await(t, ev, 10*time.Second, 0, func(e fleet.IdentityClaimed) bool { return e.DroneID == id })
	if c.Resolution != fleet.ClaimSeparate || c.ClaimedBy == real.Link || c.NewDroneID == "" {
		t.Errorf("claim %+v", c)
	}
	for range 10 {
		st := droneState(t, srv.Fleet, id)
		if st.Link != real.Link || distance(st.Position, real.Position) > 1000 {
			t.Fatalf("the impostor took over: link %q at %+v", st.Link, st.Position)
		}
		time.Sleep(100 * time.Millisecond)
	}
	other := droneState(t, srv.Fleet, c.NewDroneID)
	if other.Link != c.ClaimedBy {
		t.Errorf("the impostor's drone is on %q, claimed by %q", other.Link, c.ClaimedBy)
	}
	if err := srv.Fleet.Arm(opCtx(t, 30*time.Second), id, fleet.ArmOptions{Wait: 20 * time.Second}); err != nil {
		t.Fatalf("arm the real drone: %v", err)
	}
	eventually(t, 3*time.Second, "the real drone armed", func() bool { return swarm.Drones()[0].State().Armed })
}

// Two real vehicles configured with one system id, on two links: two
// drones, each with its own position, each commanded alone.
func TestE2ETwoVehiclesOneSysID(t *testing.T) {
	t.Parallel()
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	addr := "udpout:" + srv.MAVLinkAddr(0).String()
	a := mustSwarm(t, sim.Config{Drones: 1, Connect: addr, BootDelay: -1, Seed: 23, Home: &sim.Home{Lat: 32.54, Lon: -117.03, Alt: 20}})
	b := mustSwarm(t, sim.Config{Drones: 1, Connect: addr, BootDelay: -1, Seed: 24, Home: &sim.Home{Lat: 31.74, Lon: -106.45, Alt: 1130}})
	ids := waitDiscovered(t, srv.Fleet, 2)
	var tijuana string
	for _, id := range ids {
		st := droneState(t, srv.Fleet, id)
		if st.SysID != 1 {
			t.Errorf("drone %s sysid %d", id, st.SysID)
		}
		if st.Position.Lat > 32.5 {
			tijuana = id
		} else if st.Position.Lat > 31.8 || st.Position.Lat < 31.7 {
			t.Errorf("drone %s at %+v, near neither home", id, st.Position)
		}
	}
	if tijuana == "" {
		t.Fatalf("no drone near Tijuana among %v", ids)
	}
	if err := srv.Fleet.Arm(opCtx(t, 30*time.Second), tijuana, fleet.ArmOptions{Wait: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "the Tijuana vehicle armed", func() bool { return a.Drones()[0].State().Armed })
	if b.Drones()[0].State().Armed {
		t.Errorf("the El Paso vehicle armed too")
	}
}

// A vehicle that reboots mid-mission (its link drops, it comes back from a
// new source port with the same uid and its boot time back at zero) is the
// same drone: the fleet says it rebooted and the mission is interrupted,
// not carried on.
func TestE2ERebootMidMission(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	t.Parallel()
	r, _ := mustRig(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Seed: 25, BootDelay: -1}, false)
	sd, id := r.drone(0)
	from := r.ev.mark()
	mid, _ := r.vehicle(0).startPatrol(t, 20, 80, 6)
	r.vehicle(0).reached(t, from, 1)
	// Flown long enough that a boot time heard after the reconnect (the
	// link timeout at 20× is 30 s of simulated time) is clearly earlier.
	simTimeAdvance(t, sd, 60*time.Second)
	mark := r.ev.mark()
	if err := sd.Reboot(); err != nil {
		t.Fatal(err)
	}
	await(t, r.ev, 15*time.Second, mark, func(e fleet.VehicleRebooted) bool { return e.DroneID == id })
	mi, _ := await(t, r.ev, 5*time.Second, mark, func(e fleet.MissionInterrupted) bool { return e.DroneID == id })
	if mi.MissionID != mid {
		t.Errorf("interrupted %q, want %q", mi.MissionID, mid)
	}
	eventually(t, 10*time.Second, "the rebooted drone tracked", func() bool {
		st := droneState(t, r.srv.Fleet, id)
		return st.LinkState == fleet.LinkStateUp && !st.Armed && st.HasPosition
	})
	if n := len(r.srv.Fleet.Drones()); n != 1 {
		t.Errorf("%d drones after a reboot", n)
	}
	if c := claims(r.ev); len(c) != 0 {
		t.Errorf("a reboot taken as a claim: %+v", c)
	}
}

// rawFrames encodes frames of one sender.
type rawFrames struct {
	t   *testing.T
	w   *frame.Writer
	buf []byte
}

type sliceWriter struct{ b *[]byte }

func (s sliceWriter) Write(p []byte) (int, error) { *s.b = append(*s.b, p...); return len(p), nil }

func newRawFrames(t *testing.T) *rawFrames {
	r := &rawFrames{t: t}
	dw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := dw.Initialize(); err != nil {
		t.Fatal(err)
	}
	r.w = &frame.Writer{ByteWriter: sliceWriter{&r.buf}, DialectRW: dw, OutVersion: frame.V2, OutSystemID: 1, OutComponentID: 1}
	if err := r.w.Initialize(); err != nil {
		t.Fatal(err)
	}
	return r
}

// frame returns the bytes of m sent as sysID/compID.
func (r *rawFrames) frame(sysID, compID uint8, m message.Message) []byte {
	r.buf = r.buf[:0]
	r.w.OutSystemID, r.w.OutComponentID = sysID, compID
	if err := r.w.WriteMessage(m); err != nil {
		r.t.Fatal(err)
	}
	return append([]byte(nil), r.buf...)
}

// Every flood of the issue at once, from other sockets on the drones'
// listener and a TCP listener: junk, thousands of forged source ports,
// hundreds of fake system ids, random PARAM_VALUE names, a never-ending
// STATUSTEXT, hundreds of TCP connections and slow ones. The real drone is
// heard within a second throughout, memory and goroutines stay bounded, and
// every limit says it bit.
func TestE2EFloodsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test: skipped with -short")
	}
	cfg := testServeConfig("udp:127.0.0.1:0", "tcpin:127.0.0.1:0")
	srv := mustServer(t, cfg)
	udpAddr := srv.MAVLinkAddr(0).(*net.UDPAddr)
	tcpAddr := srv.MAVLinkAddr(1).String()
	swarm := mustSwarm(t, sim.Config{Drones: 1, Connect: "udpout:" + udpAddr.String(), BootDelay: -1, Seed: 27})
	id := waitDiscovered(t, srv.Fleet, 1)[0]
	_ = swarm

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()

	// The encoders are made before the floods' 4 s start: each initializes
	// the dialect, which under -race on a busy machine can take seconds.
	var raws []*rawFrames
	for range 5 {
		raws = append(raws, newRawFrames(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	flood := func(f func(ctx context.Context, raw *rawFrames)) {
		raw := raws[0]
		raws = raws[1:]
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx, raw)
		}()
	}
	udp := func() *net.UDPConn {
		c, err := net.DialUDP("udp", nil, udpAddr)
		if err != nil {
			t.Error(err)
		}
		return c
	}
	hb := &common.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 0x51, SystemStatus: 3, MavlinkVersion: 3}
	paced := func(ctx context.Context, every time.Duration, n int, f func()) {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				for range n {
					f()
				}
			}
		}
	}
	// Junk after a valid first datagram.
	flood(func(ctx context.Context, raw *rawFrames) {
		c := udp()
		defer c.Close()
		c.Write(raw.frame(100, 1, hb))
		junk := make([]byte, 1400)
		for i := range junk {
			junk[i] = byte(i*7) | 1
		}
		paced(ctx, time.Millisecond, 4, func() { c.Write(junk) })
	})
	// Forged source ports.
	flood(func(ctx context.Context, raw *rawFrames) {
		f := raw.frame(101, 1, &common.MessageAttitude{Roll: 0.1})
		paced(ctx, time.Millisecond, 2, func() {
			if c := udp(); c != nil {
				c.Write(f)
				c.Close()
			}
		})
	})
	// Fake system and component ids on one socket.
	flood(func(ctx context.Context, raw *rawFrames) {
		c := udp()
		defer c.Close()
		sys := 2
		paced(ctx, time.Millisecond, 2, func() {
			c.Write(raw.frame(uint8(sys), uint8(sys*7), hb))
			sys = 2 + (sys-1)%250
		})
	})
	// Random PARAM_VALUE names and a STATUSTEXT whose chunks never end,
	// from a "vehicle".
	flood(func(ctx context.Context, raw *rawFrames) {
		c := udp()
		defer c.Close()
		c.Write(raw.frame(200, 1, hb))
		i := 0
		paced(ctx, time.Millisecond, 4, func() {
			i++
			count := uint16(65535) // a huge announced count: capped at MaxParams
			if i%2 == 1 {
				count = 0 // no count: refused
			}
			c.Write(raw.frame(200, 1, &common.MessageParamValue{ParamId: fmt.Sprintf("R%d", i), ParamValue: 1, ParamIndex: 65535, ParamCount: count}))
			c.Write(raw.frame(200, 1, &common.MessageStatustext{Severity: 6, Text: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", Id: 7, ChunkSeq: uint8(i)}))
			if i%50 == 0 {
				c.Write(raw.frame(200, 1, hb))
			}
		})
	})
	// Hundreds of TCP connections, held open, and slow ones.
	flood(func(ctx context.Context, raw *rawFrames) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		f := raw.frame(102, 1, hb)
		paced(ctx, 5*time.Millisecond, 2, func() {
			if len(conns) >= 600 {
				return
			}
			c, err := net.Dial("tcp", tcpAddr)
			if err != nil {
				return
			}
			conns = append(conns, c)
			c.Write(f[:1+len(conns)%5]) // a frame started, never finished
		})
	})

	// The real drone is heard within a second all along.
	worst := time.Duration(0)
	for ctx.Err() == nil {
		st := droneState(t, srv.Fleet, id)
		if age := time.Since(st.LastSeen); age > worst {
			worst = age
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if worst > time.Second {
		t.Errorf("the real drone went unheard for %v during the floods", worst)
	}

	tst, fst := srv.Transport.Stats(), srv.Fleet.Stats()
	t.Logf("transport %+v", tst)
	t.Logf("fleet %+v", fst)
	if tst.JunkBytes == 0 || tst.UnprovenEvicted+tst.PeersRefused == 0 || tst.LinksRefused == 0 || tst.TextsCut == 0 {
		t.Errorf("a transport limit did not bite: %+v", tst)
	}
	if fst.ParamsRefused == 0 {
		t.Errorf("no PARAM_VALUE refused: %+v", fst)
	}
	if n := len(srv.Fleet.Drones()); n > 1+1+1+cfgLinksPerChannel {
		t.Errorf("%d drones after the floods", n)
	}
	for _, d := range srv.Fleet.Drones() {
		if d.Params > fleet.DefaultMaxParams {
			t.Errorf("drone %s caches %d unsolicited params", d.ID, d.Params)
		}
	}
	// Idle UDP peers linger until FrameIdle; what is left is bounded by the
	// unproven budget (256) and the few proven flooders, a few goroutines
	// each.
	gAfter := 0
	eventually(t, 10*time.Second, "goroutines within the budget", func() bool {
		gAfter = runtime.NumGoroutine()
		return gAfter <= g0+4*(256+8)+20
	})
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if grow := int64(m1.HeapInuse) - int64(m0.HeapInuse); grow > 48<<20 {
		t.Errorf("heap grew %d MiB", grow>>20)
	}
	t.Logf("heap %d -> %d KiB, goroutines %d -> %d, worst silence %v", m0.HeapInuse>>10, m1.HeapInuse>>10, g0, gAfter, worst)
}

// cfgLinksPerChannel is the transport's default vehicles per connection.
const cfgLinksPerChannel = 8
