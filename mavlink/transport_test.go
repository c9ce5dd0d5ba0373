package mavlink

import (
	"context"
	"errors"
	"math"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/pion/transport/v2/udp"

	"github.com/centinela-gcs/centinela/fleet"
)

// recorder is a fleet.Ingest that keeps everything.
type recorder struct {
	mu       sync.Mutex
	updates  []recorded
	vehicles map[fleet.VehicleKey]fleet.Vehicle
}

type recorded struct {
	key fleet.VehicleKey
	u   fleet.Update
}

func newRecorder() *recorder { return &recorder{vehicles: make(map[fleet.VehicleKey]fleet.Vehicle)} }

func (r *recorder) Handle(v fleet.Vehicle, u fleet.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vehicles[v.Key()] = v
	r.updates = append(r.updates, recorded{v.Key(), u})
}

// snapshot returns a copy of the updates so far.
func (r *recorder) snapshot() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.updates...)
}

// vehicle returns the first vehicle with sysID, or nil.
func (r *recorder) vehicle(sysID uint8) fleet.Vehicle {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.vehicles {
		if k.SysID == sysID {
			return v
		}
	}
	return nil
}

// count returns how many updates satisfy f.
func (r *recorder) count(f func(recorded) bool) int {
	n := 0
	for _, rec := range r.snapshot() {
		if f(rec) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testTransport starts a transport on ep with short timeouts.
func testTransport(t testing.TB, ep string, ing fleet.Ingest, opts ...func(*Transport)) *Transport {
	t.Helper()
	tr := &Transport{
		Endpoints:       []string{ep},
		Ingest:          ing,
		HeartbeatPeriod: 100 * time.Millisecond,
		CommandTimeout:  150 * time.Millisecond,
		CommandRetries:  3,
		MissionTimeout:  150 * time.Millisecond,
		MissionRetries:  4,
		ParamTimeout:    150 * time.Millisecond,
		ParamRetries:    3,
		StatsInterval:   100 * time.Millisecond,
	}
	for _, o := range opts {
		o(tr)
	}
	if err := tr.Initialize(); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// network is one kind of loopback link for the subtests.
type network struct {
	name      string
	listen    string
	vehicleEP func(addr string) gomavlib.EndpointConf
}

var networks = []network{
	{"udp", "udp:127.0.0.1:0", func(a string) gomavlib.EndpointConf { return gomavlib.EndpointUDPClient{Address: a} }},
	{"tcp", "tcpin:127.0.0.1:0", func(a string) gomavlib.EndpointConf { return gomavlib.EndpointTCPClient{Address: a} }},
}

// linked starts a transport on nw and a fake vehicle connected to it, and
// waits for the vehicle to be linked.
func linked(t testing.TB, nw network, seed uint64, opts ...func(*Transport)) (*Transport, *recorder, *fakeVehicle, fleet.Vehicle) {
	t.Helper()
	rec := newRecorder()
	tr := testTransport(t, nw.listen, rec, opts...)
	addr := tr.Addrs()[0]
	if addr == nil {
		t.Fatal("no bound address")
	}
	fv := startFakeVehicle(t, nw.vehicleEP(addr.String()), seed)
	waitFor(t, 5*time.Second, "vehicle linked", func() bool { return rec.vehicle(1) != nil })
	return tr, rec, fv, rec.vehicle(1)
}

func wantCode(t testing.TB, err error, code fleet.Code) *fleet.Error {
	t.Helper()
	var fe *fleet.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want *fleet.Error with code %s", err, err, code)
	}
	if fe.Code != code {
		t.Fatalf("error %v: code %s, want %s", err, fe.Code, code)
	}
	return fe
}

func TestTransportLinkAndCommands(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			tr, rec, fv, v := linked(t, nw, 1)
			ctx := context.Background()

			k := v.Key()
			if k.SysID != 1 || !strings.HasPrefix(k.Link, strings.TrimSuffix(nw.listen, "0")) {
				t.Errorf("key %+v", k)
			}
			if nw.name == "udp" && !strings.Contains(k.Link, "/127.0.0.1:") {
				t.Errorf("udp link name %q lacks the remote address", k.Link)
			}

			// Updates decode: heartbeat and position.
			waitFor(t, 3*time.Second, "position and link stats", func() bool {
				return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.GlobalPosition); return ok }) > 0 &&
					rec.count(func(r recorded) bool { s, ok := r.u.(fleet.LinkStats); return ok && s.Received > 0 }) > 0
			})
			for _, r := range rec.snapshot() {
				switch u := r.u.(type) {
				case fleet.Heartbeat:
					if u.VehicleType != 2 || u.Autopilot != 3 || u.CustomMode != 4 || u.BaseMode != 0x51 || u.ComponentID != 1 {
						t.Errorf("heartbeat %+v", u)
					}
				case fleet.GlobalPosition:
					if u.Lat != 32.5422 || u.Lon != -117.0293 || u.AltMSL != 20.1 || u.RelAlt != 0.1 ||
						u.VN != 1.5 || u.VE != -0.2 || u.HeadingDeg != 90 {
						t.Errorf("position %+v", u)
					}
				}
			}

			// The vehicle hears a ground station: sysid 255, compid 190, type GCS.
			waitFor(t, 3*time.Second, "GCS heartbeat at the vehicle", func() bool {
				fv.mu.Lock()
				defer fv.mu.Unlock()
				return fv.gcsHeartbeat != nil
			})
			fv.mu.Lock()
			hb := *fv.gcsHeartbeat
			fv.mu.Unlock()
			if hb.sys != 255 || hb.comp != 190 || hb.msg.Type != 6 || hb.msg.Autopilot != 8 || hb.msg.SystemStatus != 4 {
				t.Errorf("GCS heartbeat %d/%d %+v", hb.sys, hb.comp, hb.msg)
			}

			// Accepted commands, and how they are encoded.
			cmds := []fleet.Command{
				{Kind: fleet.CommandArm, Force: true},
				{Kind: fleet.CommandTakeoff, Position: fleet.Position{RelAlt: 30}},
				{Kind: fleet.CommandSetMode, Mode: 4},
				{Kind: fleet.CommandLand},
				{Kind: fleet.CommandReturnToLaunch},
				{Kind: fleet.CommandMissionStart},
				{Kind: fleet.CommandFenceEnable, Enable: true},
				{Kind: fleet.CommandRequestMessage, MessageID: 148},
				{Kind: fleet.CommandSetMessageInterval, MessageID: 33, Interval: 100 * time.Millisecond},
				{Kind: fleet.CommandSetSpeed, Speed: 5},
				{Kind: fleet.CommandDisarm},
			}
			for _, c := range cmds {
				if err := v.Command(ctx, c); err != nil {
					t.Fatalf("%s: %v", c.Kind, err)
				}
			}
			pos := fleet.Position{Lat: 32.5426497, Lon: -117.0282371, RelAlt: 40}
			if err := v.Command(ctx, fleet.Command{Kind: fleet.CommandReposition, Position: pos}); err != nil {
				t.Fatalf("reposition: %v", err)
			}
			if err := v.SetPositionTarget(ctx, pos); err != nil {
				t.Fatalf("SetPositionTarget: %v", err)
			}
			waitFor(t, 2*time.Second, "position target", func() bool {
				fv.mu.Lock()
				defer fv.mu.Unlock()
				return len(fv.targets) > 0
			})
			fv.mu.Lock()
			got := map[common.MAV_CMD]*common.MessageCommandLong{}
			for _, c := range fv.commands {
				got[c.Command] = c
			}
			ci := fv.cmdInts[0]
			tgt := fv.targets[0]
			fv.mu.Unlock()
			check := func(cmd common.MAV_CMD, want [7]float32) {
				t.Helper()
				c := got[cmd]
				if c == nil {
					t.Errorf("%s not received", cmd)
					return
				}
				have := [7]float32{c.Param1, c.Param2, c.Param3, c.Param4, c.Param5, c.Param6, c.Param7}
				for i := range want {
					if !(have[i] == want[i] || (math.IsNaN(float64(want[i])) && math.IsNaN(float64(have[i])))) {
						t.Errorf("%s params %v, want %v", cmd, have, want)
						return
					}
				}
				if c.TargetSystem != 1 || c.TargetComponent != 1 || c.Confirmation != 0 {
					t.Errorf("%s target %d/%d confirmation %d", cmd, c.TargetSystem, c.TargetComponent, c.Confirmation)
				}
			}
			nan := float32(math.NaN())
			check(common.MAV_CMD_COMPONENT_ARM_DISARM, [7]float32{0, 0, 0, 0, 0, 0, 0}) // the disarm came last
			check(common.MAV_CMD_NAV_TAKEOFF, [7]float32{0, 0, 0, nan, 0, 0, 30})
			check(common.MAV_CMD_DO_SET_MODE, [7]float32{1, 4, 0, 0, 0, 0, 0})
			check(common.MAV_CMD_DO_FENCE_ENABLE, [7]float32{1, 0, 0, 0, 0, 0, 0})
			check(common.MAV_CMD_REQUEST_MESSAGE, [7]float32{148, 0, 0, 0, 0, 0, 0})
			check(common.MAV_CMD_SET_MESSAGE_INTERVAL, [7]float32{33, 100000, 0, 0, 0, 0, 0})
			check(common.MAV_CMD_DO_CHANGE_SPEED, [7]float32{1, 5, -1, 0, 0, 0, 0})
			check(common.MAV_CMD_NAV_LAND, [7]float32{})
			check(common.MAV_CMD_NAV_RETURN_TO_LAUNCH, [7]float32{})
			check(common.MAV_CMD_MISSION_START, [7]float32{})
			if ci.Command != common.MAV_CMD_DO_REPOSITION || ci.Frame != common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT ||
				ci.Param1 != -1 || ci.Param2 != 1 || !math.IsNaN(float64(ci.Param4)) ||
				ci.X != 325426497 || ci.Y != -1170282371 || ci.Z != 40 {
				t.Errorf("reposition %+v", ci)
			}
			if tgt.CoordinateFrame != common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT || tgt.TypeMask != 3576 ||
				tgt.LatInt != 325426497 || tgt.LonInt != -1170282371 || tgt.Alt != 40 || tgt.TargetSystem != 1 {
				t.Errorf("position target %+v", tgt)
			}

			// Refusals carry the vehicle's reason, heard before or after the ack.
			fv.setResult(common.MAV_CMD_COMPONENT_ARM_DISARM, cmdBehaviour{
				result: common.MAV_RESULT_FAILED, textBefore: "Arm: Need Position Estimate"})
			err := v.Command(ctx, fleet.Command{Kind: fleet.CommandArm})
			fe := wantCode(t, err, fleet.Denied)
			if fe.Message != "Arm: Need Position Estimate" || fe.Reason != "command_failed" {
				t.Errorf("arm refusal %+v", fe)
			}
			fv.setResult(common.MAV_CMD_NAV_TAKEOFF, cmdBehaviour{
				result: common.MAV_RESULT_DENIED, textAfter: "Takeoff: not armed"})
			fe = wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandTakeoff, Position: fleet.Position{RelAlt: 10}}), fleet.Denied)
			if fe.Message != "Takeoff: not armed" || fe.Reason != "command_denied" {
				t.Errorf("takeoff refusal %+v", fe)
			}
			fv.setResult(common.MAV_CMD_NAV_LAND, cmdBehaviour{result: common.MAV_RESULT_TEMPORARILY_REJECTED})
			fe = wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandLand}), fleet.Denied)
			if fe.Reason != "command_temporarily_rejected" || !strings.Contains(fe.Message, "land") {
				t.Errorf("land refusal %+v", fe)
			}
			fv.setResult(common.MAV_CMD_DO_FENCE_ENABLE, cmdBehaviour{result: common.MAV_RESULT_UNSUPPORTED})
			fe = wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandFenceEnable}), fleet.Unsupported)
			if fe.Reason != "unsupported" {
				t.Errorf("fence refusal %+v", fe)
			}
			// IN_PROGRESS only extends the wait.
			fv.setResult(common.MAV_CMD_DO_CHANGE_SPEED, cmdBehaviour{result: common.MAV_RESULT_ACCEPTED, inProgress: 2})
			if err := v.Command(ctx, fleet.Command{Kind: fleet.CommandSetSpeed, Speed: 3}); err != nil {
				t.Errorf("set speed with IN_PROGRESS: %v", err)
			}
			// Bad values never reach the vehicle.
			wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandTakeoff}), fleet.Invalid)
			wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandReposition, Position: fleet.Position{Lat: 91}}), fleet.Invalid)
			wantCode(t, v.SetPositionTarget(ctx, fleet.Position{Lat: math.NaN()}), fleet.Invalid)
			wantCode(t, v.Command(ctx, fleet.Command{Kind: 99}), fleet.Unsupported)

			if st := tr.Stats(); st.Links != 1 || st.Frames == 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestTransportBusy: a second command with the same MAV_CMD while one waits
// for its ack is Busy; another MAV_CMD goes through.
func TestTransportBusy(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 2)
	ctx := context.Background()
	fv.setLoss(1, 0) // the vehicle hears nothing: the first arm waits
	errc := make(chan error, 1)
	go func() { errc <- v.Command(ctx, fleet.Command{Kind: fleet.CommandArm}) }()
	waitFor(t, 2*time.Second, "arm in flight", func() bool {
		l := v.(*link)
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.cmdBusy[cmdKey{cmd: common.MAV_CMD_COMPONENT_ARM_DISARM}]
	})
	wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandDisarm}), fleet.Busy)
	wantCode(t, <-errc, fleet.Timeout)
	fv.setLoss(0, 0)
	if err := v.Command(ctx, fleet.Command{Kind: fleet.CommandArm}); err != nil {
		t.Fatalf("arm after: %v", err)
	}
}

// TestTransportBusyByMessage: REQUEST_MESSAGE for HOME_POSITION in flight
// does not make REQUEST_MESSAGE for AUTOPILOT_VERSION Busy (both are
// MAV_CMD_REQUEST_MESSAGE); the same message asked twice is.
func TestTransportBusyByMessage(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 2)
	ctx := context.Background()
	fv.setLoss(1, 0) // the vehicle hears nothing: the first request waits
	errc := make(chan error, 1)
	go func() { errc <- v.Command(ctx, fleet.Command{Kind: fleet.CommandRequestMessage, MessageID: 242}) }()
	waitFor(t, 2*time.Second, "request in flight", func() bool {
		l := v.(*link)
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.cmdBusy[cmdKey{cmd: common.MAV_CMD_REQUEST_MESSAGE, msg: 242}]
	})
	wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandRequestMessage, MessageID: 242}), fleet.Busy)
	other := make(chan error, 1)
	go func() { other <- v.Command(ctx, fleet.Command{Kind: fleet.CommandRequestMessage, MessageID: 148}) }()
	if err := <-other; fleet.ErrorCode(err) == fleet.Busy {
		t.Errorf("AUTOPILOT_VERSION request blocked by the HOME_POSITION one: %v", err)
	}
	wantCode(t, <-errc, fleet.Timeout)
}

// TestTransportLossy: with 30 % of frames dropped each way, commands still
// get through by resending with the confirmation field incremented.
func TestTransportLossy(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			_, _, fv, v := linked(t, nw, 3, func(tr *Transport) {
				tr.CommandTimeout = 60 * time.Millisecond
				tr.CommandRetries = 15
			})
			fv.setLoss(0.3, 0.3)
			ctx := context.Background()
			for i := range 20 {
				if err := v.Command(ctx, fleet.Command{Kind: fleet.CommandSetMode, Mode: uint32(i)}); err != nil {
					t.Fatalf("command %d: %v", i, err)
				}
			}
			fv.mu.Lock()
			maxConf := uint8(0)
			for _, c := range fv.commands {
				maxConf = max(maxConf, c.Confirmation)
			}
			fv.mu.Unlock()
			if maxConf == 0 {
				t.Errorf("no command was resent with an incremented confirmation under 30%% loss")
			}
		})
	}
}

// TestTransportDeadLink: with every frame lost, each operation ends with a
// Timeout (NotFound for a parameter read) within its bounded time.
func TestTransportDeadLink(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			tr, _, fv, v := linked(t, nw, 4, func(tr *Transport) {
				tr.CommandTimeout, tr.MissionTimeout, tr.ParamTimeout = 60*time.Millisecond, 60*time.Millisecond, 60*time.Millisecond
			})
			fv.setLoss(1, 1)
			ctx := context.Background()
			bound := func(timeout time.Duration, retries int) time.Duration {
				return time.Duration(retries+1)*timeout + time.Second
			}
			start := time.Now()
			wantCode(t, v.Command(ctx, fleet.Command{Kind: fleet.CommandArm}), fleet.Timeout)
			if d := time.Since(start); d > bound(tr.CommandTimeout, tr.CommandRetries) {
				t.Errorf("command timeout took %v", d)
			}
			start = time.Now()
			wantCode(t, v.UploadMission(ctx, fleet.MissionTypeMission, testMission(5), nil), fleet.Timeout)
			if d := time.Since(start); d > bound(tr.MissionTimeout, tr.MissionRetries) {
				t.Errorf("upload timeout took %v", d)
			}
			_, err := v.DownloadMission(ctx, fleet.MissionTypeFence, nil)
			wantCode(t, err, fleet.Timeout)
			wantCode(t, v.ClearMission(ctx, fleet.MissionTypeRally), fleet.Timeout)
			_, err = v.ReadParam(ctx, "FS_GCS_ENABLE")
			wantCode(t, err, fleet.NotFound)
			_, err = v.SetParam(ctx, "FS_GCS_ENABLE", 1)
			wantCode(t, err, fleet.Timeout)
			_, err = v.ReadParams(ctx, nil)
			wantCode(t, err, fleet.Timeout)

			// A deadline of the caller's ends it sooner.
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			fe := wantCode(t, v.Command(cctx, fleet.Command{Kind: fleet.CommandLand}), fleet.Timeout)
			if fe.Reason != "timeout" {
				t.Errorf("deadline error %+v", fe)
			}
		})
	}
}

// TestTransportCloseEndsOperations: Close makes waiting operations return
// NoDrone, and later calls too.
func TestTransportCloseEndsOperations(t *testing.T) {
	tr, _, fv, v := linked(t, networks[0], 5, func(tr *Transport) {
		tr.CommandTimeout = 5 * time.Second
	})
	fv.setLoss(1, 1)
	errc := make(chan error, 1)
	go func() { errc <- v.Command(context.Background(), fleet.Command{Kind: fleet.CommandArm}) }()
	waitFor(t, 2*time.Second, "arm in flight", func() bool {
		l := v.(*link)
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.cmdBusy[cmdKey{cmd: common.MAV_CMD_COMPONENT_ARM_DISARM}]
	})
	tr.Close()
	select {
	case err := <-errc:
		wantCode(t, err, fleet.NoDrone)
	case <-time.After(3 * time.Second):
		t.Fatal("command still waiting after Close")
	}
	wantCode(t, v.Command(context.Background(), fleet.Command{Kind: fleet.CommandArm}), fleet.NoDrone)
	_, err := v.ReadParams(context.Background(), nil)
	wantCode(t, err, fleet.NoDrone)
}

func TestTransportInitializeErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	cases := []struct {
		name      string
		endpoints []string
		code      fleet.Code
	}{
		{"none", nil, fleet.Invalid},
		{"bad string", []string{"udp:127.0.0.1:0", "http://x"}, fleet.Invalid},
		{"tcp port in use", []string{"tcpin:" + busy.Addr().String()}, fleet.Internal},
		{"udp port in use", []string{"udp:" + busyUDP.LocalAddr().String()}, fleet.Internal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &Transport{Endpoints: c.endpoints}
			err := tr.Initialize()
			if err == nil {
				tr.Close()
				t.Fatal("Initialize succeeded")
			}
			if got := fleet.ErrorCode(err); got != c.code {
				t.Errorf("code %s, want %s (%v)", got, c.code, err)
			}
			tr.Close() // harmless after a failed Initialize
		})
	}
}

// TestTransportCloseLeavesNoGoroutines: after Close (and the fake vehicles'),
// the goroutine count returns to where it was.
func TestTransportCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, nw := range networks {
		rec := newRecorder()
		tr := &Transport{Endpoints: []string{nw.listen}, Ingest: rec, HeartbeatPeriod: 50 * time.Millisecond}
		if err := tr.Initialize(); err != nil {
			t.Fatal(err)
		}
		fv := startFakeVehicle(t, nw.vehicleEP(tr.Addrs()[0].String()), 40)
		waitFor(t, 5*time.Second, "vehicle linked", func() bool { return rec.vehicle(1) != nil })
		if err := rec.vehicle(1).Command(context.Background(), fleet.Command{Kind: fleet.CommandArm}); err != nil {
			t.Fatal(err)
		}
		fv.close()
		tr.Close()
		tr.Close() // idempotent
	}
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestTransportClientEndpoints: the transport connects out (udpout, tcp) to
// a vehicle that listens, like ArduPilot SITL on tcp:5760.
func TestTransportClientEndpoints(t *testing.T) {
	cases := []struct {
		name   string
		listen func() (net.Listener, error)
		dgram  bool
	}{
		{"udpout", func() (net.Listener, error) {
			return udp.Listen("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		}, true},
		{"tcp", func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addrc := make(chan net.Addr, 1)
			startFakeVehicle(t, gomavlib.EndpointCustomServer{
				Label: c.name, IsDatagram: c.dgram,
				Listen: func() (net.Listener, error) {
					l, err := c.listen()
					if err == nil {
						addrc <- l.Addr()
					}
					return l, err
				},
			}, 50)
			rec := newRecorder()
			tr := testTransport(t, c.name+":"+(<-addrc).String(), rec)
			if a := tr.Addrs()[0]; a != nil {
				t.Errorf("client endpoint has a bound address %v", a)
			}
			waitFor(t, 5*time.Second, "vehicle linked", func() bool { return rec.vehicle(1) != nil })
			v := rec.vehicle(1)
			if !strings.HasPrefix(v.Key().Link, c.name+":127.0.0.1:") || strings.Contains(v.Key().Link, "/") {
				t.Errorf("link name %q", v.Key().Link)
			}
			if err := v.Command(context.Background(), fleet.Command{Kind: fleet.CommandArm}); err != nil {
				t.Fatalf("arm: %v", err)
			}
		})
	}
}
