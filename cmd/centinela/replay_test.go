package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/mavlink/tlog"
)

// The recordings of a real ArduCopter SITL (testdata/ardupilot-sitl, see its
// README) are replayed, vehicle side only, into a running server over a real
// UDP socket at their recorded timing, sped up. The server's resulting states
// and events must match each file's timeline.

const recordings = "../../testdata/ardupilot-sitl/"

// replayRun is what a replay produced.
type replayRun struct {
	events []fleet.Event
	final  fleet.DroneState
	clock  *replayClock
}

// recordedSeconds converts an event time back to seconds of the recording:
// the recorded time of the last datagram sent before it.
func (r *replayRun) recordedSeconds(at time.Time) float64 {
	return r.clock.recorded(at)
}

// replayClock is an io.Writer in front of the replay socket that notes when
// each datagram went out, so that event times map back onto the recording
// whatever the pace of the replay (timers are coarse at high speed-up).
type replayClock struct {
	w       io.Writer
	groups  []time.Duration // recorded offset of each datagram, in order
	mu      sync.Mutex
	written []time.Time // wall time of each datagram written
}

func newReplayClock(w io.Writer, recs []tlog.Record) *replayClock {
	c := &replayClock{w: w}
	for i, r := range recs {
		if i == 0 || !r.Time.Equal(recs[i-1].Time) {
			c.groups = append(c.groups, r.Time.Sub(recs[0].Time))
		}
	}
	return c
}

func (c *replayClock) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.written = append(c.written, time.Now())
	c.mu.Unlock()
	return c.w.Write(p)
}

func (c *replayClock) recorded(at time.Time) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, _ := slices.BinarySearchFunc(c.written, at, func(w, at time.Time) int { return w.Compare(at) })
	if i == 0 {
		return 0
	}
	return c.groups[min(i-1, len(c.groups)-1)].Seconds()
}

const replaySpeedup = 25

// replayFile replays the vehicle side of file into a fresh server. The
// replaying peer also answers the server's mission download requests with
// the items the vehicle sent in the recording, as a vehicle would, so that
// the server's re-sync of a mission it did not upload works.
func replayFile(t *testing.T, file string) *replayRun {
	t.Helper()
	recs, err := tlog.ReadFile(recordings + file)
	if err != nil {
		t.Fatal(err)
	}
	vehicle := tlog.Filter(recs, tlog.FromSystem(1))

	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.LinkTimeout = 3 * time.Second
	srv := mustServer(t, cfg)
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{QueueSize: 1 << 20})
	var (
		mu     sync.Mutex
		events []fleet.Event
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for ev := range sub.C {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
	}()

	conn, err := net.DialUDP("udp", nil, srv.MAVLinkAddr(0).(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	responder := newMissionResponder(t, conn, vehicle)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		responder.run()
	}()
	defer wg.Wait()
	defer conn.SetReadDeadline(time.Now())

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := &replayRun{clock: newReplayClock(conn, vehicle)}
	replayer := tlog.Replayer{Speedup: replaySpeedup, MinInterval: 50 * time.Microsecond}
	if err := replayer.Replay(ctx, run.clock, vehicle); err != nil {
		t.Fatal(err)
	}
	// Let the server take in the last frames.
	sent := run.clock.written[len(run.clock.written)-1]
	eventually(t, 5*time.Second, "last frames taken in", func() bool {
		d, err := srv.Fleet.Drone("sysid-1")
		return err == nil && !d.LastSeen.Before(sent)
	})
	run.final = droneState(t, srv.Fleet, "sysid-1")
	sub.Close()
	<-done
	run.events = events
	for _, ev := range events {
		if sc, ok := ev.(fleet.StateChanged); ok && sc.Drone.HasPosition &&
			math.Abs(sc.Drone.Position.Lat) < 1 && math.Abs(sc.Drone.Position.Lon) < 1 {
			t.Fatalf("drone at %v: the 0,0 ArduCopter streams before its fix was taken as a position", sc.Drone.Position)
		}
	}
	if !run.final.HasPosition || distance(run.final.Position, fleet.Position{Lat: 32.5422, Lon: -117.0293}) > 500 {
		t.Errorf("final position %+v (has %t), want near home 32.5422,-117.0293", run.final.Position, run.final.HasPosition)
	}
	return run
}

// missionResponder answers MISSION_REQUEST_LIST and MISSION_REQUEST_INT from
// the server with the mission items the vehicle sent in the recording.
type missionResponder struct {
	t     *testing.T
	conn  *net.UDPConn
	items map[uint16]*ardupilotmega.MessageMissionItemInt
	rw    *dialect.ReadWriter
	w     *frame.Writer
}

func newMissionResponder(t *testing.T, conn *net.UDPConn, vehicle []tlog.Record) *missionResponder {
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		t.Fatal(err)
	}
	m := &missionResponder{t: t, conn: conn, items: map[uint16]*ardupilotmega.MessageMissionItemInt{}, rw: rw}
	for _, r := range vehicle {
		if r.MsgID != 73 { // MISSION_ITEM_INT
			continue
		}
		fr, err := readFrame(rw, r.Frame)
		if err != nil {
			t.Fatal(err)
		}
		it := fr.GetMessage().(*ardupilotmega.MessageMissionItemInt)
		if it.MissionType == ardupilotmega.MAV_MISSION_TYPE_MISSION {
			m.items[it.Seq] = it
		}
	}
	m.w = &frame.Writer{ByteWriter: conn, DialectRW: rw, OutVersion: frame.V2, OutSystemID: 1, OutComponentID: 1}
	if err := m.w.Initialize(); err != nil {
		t.Fatal(err)
	}
	return m
}

func readFrame(rw *dialect.ReadWriter, b []byte) (frame.Frame, error) {
	r := &frame.Reader{ByteReader: bytes.NewReader(b), DialectRW: rw}
	if err := r.Initialize(); err != nil {
		return nil, err
	}
	return r.Read()
}

func (m *missionResponder) run() {
	r := &frame.Reader{ByteReader: bufio.NewReaderSize(m.conn, 65536), DialectRW: m.rw}
	if err := r.Initialize(); err != nil {
		m.t.Error(err)
		return
	}
	for {
		fr, err := r.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if len(m.items) == 0 {
			continue
		}
		switch msg := fr.GetMessage().(type) {
		case *ardupilotmega.MessageMissionRequestList:
			if msg.MissionType == ardupilotmega.MAV_MISSION_TYPE_MISSION {
				m.write(&ardupilotmega.MessageMissionCount{TargetSystem: 255, TargetComponent: 190, Count: uint16(len(m.items))})
			}
		case *ardupilotmega.MessageMissionRequestInt:
			if it, ok := m.items[msg.Seq]; ok && msg.MissionType == ardupilotmega.MAV_MISSION_TYPE_MISSION {
				m.write(it)
			}
		}
	}
}

func (m *missionResponder) write(msg interface{ GetID() uint32 }) {
	if err := m.w.WriteMessage(msg); err != nil && !errors.Is(err, net.ErrClosed) {
		m.t.Errorf("responder: %v", err)
	}
}

// texts returns the status texts of events, in order.
func texts(evs []fleet.Event) []string {
	var out []string
	for _, ev := range evs {
		if e, ok := ev.(fleet.StatusTextEvent); ok {
			out = append(out, e.Text)
		}
	}
	return out
}

// kinds returns, in order, a short name for each discrete event of interest.
func kinds(evs []fleet.Event) []string {
	var out []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case fleet.DroneDiscovered:
			out = append(out, "discovered")
		case fleet.Armed:
			out = append(out, "armed")
		case fleet.Disarmed:
			out = append(out, "disarmed")
		case fleet.TookOff:
			out = append(out, "took-off")
		case fleet.Landed:
			out = append(out, "landed")
		case fleet.ModeChanged:
			out = append(out, "mode:"+e.To)
		case fleet.Failsafe:
			out = append(out, "failsafe:"+string(e.Kind))
		case fleet.VehicleFenceChanged:
			out = append(out, "fence-breached:"+strconv.FormatBool(e.Fence.Breached))
		case fleet.MissionItemReachedEvent:
			out = append(out, "reached:"+strconv.Itoa(e.Reported))
		case fleet.MissionFinished:
			out = append(out, "mission-finished")
		case fleet.MissionInterrupted:
			out = append(out, "mission-interrupted:"+string(e.Reason))
		case fleet.LinkLost:
			out = append(out, "link-lost")
		}
	}
	return out
}

// inOrder reports whether want appears in got as a subsequence.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func hasText(texts []string, prefix string) bool {
	return slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

func TestReplayRecordingsIntoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("replays minutes of recordings: skipped with -short")
	}
	t.Run("a-idle-streams-params", func(t *testing.T) {
		t.Parallel()
		r := replayFile(t, "a-idle-streams-params.tlog")
		k := kinds(r.events)
		if !inOrder(k, []string{"discovered"}) || slices.Contains(k, "armed") || slices.Contains(k, "link-lost") {
			t.Errorf("events %v: want discovered, never armed, never lost", k)
		}
		tx := texts(r.events)
		for _, want := range []string{"ArduPilot Ready", "EKF3 IMU0 origin set", "EKF3 IMU0 is using GPS"} {
			if !hasText(tx, want) {
				t.Errorf("status text %q missing from %v", want, tx)
			}
		}
		f := r.final
		if f.Autopilot != fleet.AutopilotArduPilot || f.VehicleType != 2 || f.Mode != "STABILIZE" || f.Armed {
			t.Errorf("final: autopilot %d type %d mode %s armed %t", f.Autopilot, f.VehicleType, f.Mode, f.Armed)
		}
		if !f.Version.Known || f.Version.Firmware != "4.7.0-dev" || !f.Version.Has(fleet.CapabilityMissionInt) {
			t.Errorf("autopilot version %+v", f.Version)
		}
		if f.Params != 1349 {
			t.Errorf("%d parameters cached from the recorded list, want 1349", f.Params)
		}
		if !f.HasHome || math.Abs(f.Home.AltMSL-20.1) > 0.5 {
			t.Errorf("home %+v (has %t)", f.Home, f.HasHome)
		}
		if f.GPS.FixType != 6 || f.GPS.Satellites != 10 {
			t.Errorf("gps %+v, want RTK fixed with 10 satellites", f.GPS)
		}
	})
	t.Run("b-guided-takeoff-goto-land", func(t *testing.T) {
		t.Parallel()
		r := replayFile(t, "b-guided-takeoff-goto-land.tlog")
		k := kinds(r.events)
		want := []string{"discovered", "mode:GUIDED", "armed", "took-off", "mode:LAND", "landed", "disarmed"}
		if !inOrder(k, want) {
			t.Errorf("events %v, want in order %v", k, want)
		}
		tx := texts(r.events)
		for _, w := range []string{"Arm: System not initialised", "Arm: Need Position Estimate", "Arming motors", "Disarming motors"} {
			if !hasText(tx, w) {
				t.Errorf("status text %q missing", w)
			}
		}
		// Armed at 41.11 s of the recording.
		for _, ev := range r.events {
			if e, ok := ev.(fleet.Armed); ok {
				if s := r.recordedSeconds(e.At); s < 39 || s > 44 {
					t.Errorf("armed at %.1f s of the recording, want about 41.1", s)
				}
			}
		}
		if f := r.final; f.Armed || f.Landed != fleet.LandedOnGround || f.Mode != "LAND" {
			t.Errorf("final: armed %t landed %v mode %s", f.Armed, f.Landed, f.Mode)
		}
	})
	t.Run("c-mission-auto-rtl", func(t *testing.T) {
		t.Parallel()
		r := replayFile(t, "c-mission-auto-rtl.tlog")
		k := kinds(r.events)
		want := []string{"discovered", "armed", "mode:AUTO", "took-off",
			"reached:1", "reached:2", "reached:4", "reached:5", "reached:2", "reached:4", "reached:5",
			"reached:8", "reached:9", "landed", "mission-finished"}
		if !inOrder(k, want) {
			t.Errorf("events %v, want in order %v", k, want)
		}
		if slices.ContainsFunc(k, func(s string) bool { return strings.HasPrefix(s, "mission-interrupted") }) {
			t.Errorf("mission interrupted: %v", k)
		}
		tx := texts(r.events)
		for _, w := range []string{"Flight plan received", "Mission: 1 Takeoff", "Mission: 6 Jump 1/1", "Mission: 10 RTL"} {
			if !hasText(tx, w) {
				t.Errorf("status text %q missing", w)
			}
		}
		if f := r.final; f.Mission.State != fleet.MissionStateFinished || f.Mission.Percent != 100 || f.Armed || f.Mode != "AUTO" {
			t.Errorf("final: mission %+v armed %t mode %s", f.Mission, f.Armed, f.Mode)
		}
	})
	t.Run("d-fence-breach-rtl", func(t *testing.T) {
		t.Parallel()
		r := replayFile(t, "d-fence-breach-rtl.tlog")
		k := kinds(r.events)
		want := []string{"discovered", "fence-breached:false", "armed", "took-off", "fence-breached:true", "mode:RTL", "fence-breached:false", "landed", "disarmed"}
		if !inOrder(k, want) {
			t.Errorf("events %v, want in order %v", k, want)
		}
		if !slices.Contains(k, "failsafe:fence") {
			t.Errorf("no fence failsafe reported: %v", k)
		}
		tx := texts(r.events)
		for _, w := range []string{"Arm: Fence requires position", "Polygon fence breached", "Fence breach cleared"} {
			if !hasText(tx, w) {
				t.Errorf("status text %q missing", w)
			}
		}
		if f := r.final; f.Fence.Breached || f.Fence.Count != 1 || f.Mode != "RTL" || f.Armed {
			t.Errorf("final: fence %+v mode %s armed %t", f.Fence, f.Mode, f.Armed)
		}
	})
	t.Run("e-gcs-heartbeat-loss", func(t *testing.T) {
		t.Parallel()
		r := replayFile(t, "e-gcs-heartbeat-loss.tlog")
		k := kinds(r.events)
		want := []string{"discovered", "armed", "took-off", "failsafe:gcs", "landed", "disarmed"}
		if !inOrder(k, want) {
			t.Errorf("events %v, want in order %v", k, want)
		}
		for _, ev := range r.events {
			if e, ok := ev.(fleet.Failsafe); ok && e.Kind == fleet.FailsafeGCS {
				if s := r.recordedSeconds(e.At); s < 66 || s > 69 {
					t.Errorf("GCS failsafe at %.1f s of the recording, want about 67.3", s)
				}
				if e.Mode != "RTL" {
					t.Errorf("GCS failsafe in mode %s, want RTL", e.Mode)
				}
			}
		}
		tx := texts(r.events)
		for _, w := range []string{"GCS Failsafe", "GCS Failsafe Cleared"} {
			if !hasText(tx, w) {
				t.Errorf("status text %q missing", w)
			}
		}
		if f := r.final; f.Mode != "RTL" || f.Armed || f.SystemStatus != 4 && f.SystemStatus != 3 {
			t.Errorf("final: mode %s armed %t status %d", f.Mode, f.Armed, f.SystemStatus)
		}
	})
}
