package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/patrol"
	"github.com/centinela-gcs/centinela/geofence/plan"
	"github.com/centinela-gcs/centinela/sim"
)

// End-to-end tests of missions (issue 3): the real server (fleet and MAVLink
// transport) against simulated ArduCopters over loopback UDP, at simulated
// speed-up. Those that need nothing but MAVLink also fly an external vehicle
// named by CENTINELA_TEST_VEHICLE (vehicle_e2e_test.go), in real time; those
// that need the simulator's fault knobs say so and skip there.

// rig is a server with simulated drones connected to it.
type rig struct {
	srv   *server.Server
	swarm *sim.Swarm
	ev    *recorder
	ids   map[uint8]string // drone id by system id
}

// With a relay between them, the drones are its clients and the server its
// target: what the server sent is counted as fromServer, what the drones
// sent as fromDrone.
const (
	fromServer = fromTarget
	fromDrone  = fromClient
)

// mustRig starts a server with cfg and a swarm connected to it (through a
// relay when proxy is true), and waits until every drone is discovered with
// a position.
func mustRig(t *testing.T, cfg server.Config, sc sim.Config, proxy bool) (*rig, *udpProxy) {
	t.Helper()
	srv := mustServer(t, cfg)
	r := &rig{srv: srv, ev: record(t, srv.Fleet), ids: map[uint8]string{}}
	addr := srv.MAVLinkAddr(0).String()
	var p *udpProxy
	if proxy {
		p = mustProxy(t, addr)
		addr = p.Addr()
	}
	sc.Connect = "udpout:" + addr
	r.swarm = mustSwarm(t, sc)
	n := sc.Drones
	if n == 0 {
		n = 1
	}
	waitDiscovered(t, srv.Fleet, n)
	for _, d := range srv.Fleet.Drones() {
		r.ids[d.SysID] = d.ID
	}
	return r, p
}

// drone returns the i-th simulated drone and its fleet id.
func (r *rig) drone(i int) (*sim.Drone, string) {
	d := r.swarm.Drones()[i]
	return d, r.ids[d.SysID()]
}

// home returns drone id's home as it reports it (HOME_POSITION), else where
// it sits as the fleet sees it, and the home's altitude above sea level.
func (r *rig) home(t *testing.T, id string) (fleet.Position, float64) {
	t.Helper()
	st := droneState(t, r.srv.Fleet, id)
	if st.HasHome {
		return fleet.Position{Lat: st.Home.Lat, Lon: st.Home.Lon}, st.Home.AltMSL
	}
	p := st.Position
	p.RelAlt = 0
	return p, st.AltMSL
}

// fiftyItems is a 50-item patrol near home: takeoff, speed changes,
// waypoints with hold times and acceptance radii, a timed loiter, a loiter
// of one turn, a DO_JUMP that flies eight waypoints twice, and RTL.
func fiftyItems(home fleet.Position, altMSL float64) []fleet.MissionItem {
	const alt, radius = 20.0, 70.0
	k := 0
	next := func() fleet.Position {
		a := 2 * math.Pi * float64(k) / 43
		k++
		p := offset(home, radius*math.Cos(a), radius*math.Sin(a))
		p.RelAlt = alt + float64(k%3)
		return p
	}
	wps := func(n int) []fleet.MissionItem {
		var out []fleet.MissionItem
		for i := 0; i < n; i++ {
			out = append(out, waypoint(next(), float64(i%2), float64(2+i%3)))
		}
		return out
	}
	items := []fleet.MissionItem{homeItem(home, altMSL), takeoffItem(alt), changeSpeed(12)} // 0..2
	items = append(items, wps(10)...)                                                       // 3..12
	items = append(items, loiterTime(next(), 3))                                            // 13
	items = append(items, wps(10)...)                                                       // 14..23
	items = append(items, changeSpeed(8))                                                   // 24
	items = append(items, loiterTurns(next(), 1, 10))                                       // 25
	items = append(items, wps(8)...)                                                        // 26..33
	items = append(items, doJump(26, 1))                                                    // 34
	items = append(items, wps(12)...)                                                       // 35..46
	items = append(items, changeSpeed(15))                                                  // 47
	items = append(items, waypoint(next(), 0, 2))                                           // 48
	items = append(items, rtlItem())                                                        // 49
	return items
}

// TestMissionFiftyItemsFlown uploads a 50-item plan around the vehicle's
// home, reads it back, and flies it to the end: items reached in the order
// the plan flies, progress only forward, landed at home. It also runs
// against an external vehicle (CENTINELA_TEST_VEHICLE), in real time.
func TestMissionFiftyItemsFlown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	r := mustVehicle(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Speedup: 50, Seed: 21})
	f := r.srv.Fleet
	id := r.id
	r.ready(t)
	home, altMSL := r.home(t)
	items := fiftyItems(home, altMSL)
	if len(items) != 50 {
		t.Fatalf("plan has %d items, want 50", len(items))
	}

	ctx := opCtx(t, r.within(60*time.Second, 15*time.Minute))
	sent := 0
	mark := r.ev.mark()
	mid, err := f.UploadMission(ctx, id, fleet.MissionTypeMission, items, fleet.UploadOptions{
		Progress: func(done, total int) { sent = max(sent, done) },
	})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if sent != 50 {
		t.Errorf("upload progress reached %d of 50", sent)
	}
	await(t, r.ev, r.within(5*time.Second, 20*time.Second), mark, func(e fleet.StatusTextEvent) bool { return e.Text == "Flight plan received" })
	if r.caps.Truth {
		if got := r.sd.State().MissionCount; got != 50 {
			t.Errorf("vehicle holds %d items, want 50", got)
		}
	}
	down, err := f.DownloadMission(ctx, id, fleet.MissionTypeMission)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	comparePlans(t, items, down)
	if st := droneState(t, f, id); st.Mission.MissionID != mid || st.Mission.State != fleet.MissionStateReady {
		t.Errorf("after download the fleet tracks mission %q (%s), want %q ready: the download must not replace an equal plan",
			st.Mission.MissionID, st.Mission.State, mid)
	}

	from := r.ev.mark()
	if err := f.StartMission(ctx, id, fleet.StartOptions{ArmWait: r.within(20*time.Second, 2*time.Minute)}); err != nil {
		t.Fatalf("start: %v", err)
	}
	_, finIdx := await(t, r.ev, r.within(45*time.Second, 10*time.Minute), from, func(e fleet.MissionFinished) bool { return e.MissionID == mid })
	r.landed(t, r.within(20*time.Second, 3*time.Minute))
	r.ev.checkComplete(t)

	// Items reached in the order the plan flies, DO_JUMP unrolled.
	want := navRoute(items)
	var got []int
	for _, e := range all[fleet.MissionItemReachedEvent](r.ev, from) {
		if e.MissionID == mid {
			got = append(got, e.Seq)
		}
	}
	if !equalInts(got, want) {
		t.Errorf("items reached %v\nwant %v", got, want)
	}
	_, lastReached, _ := find(r.ev, from, func(e fleet.MissionItemReachedEvent) bool { return e.Seq == 49 })
	if lastReached < 0 || lastReached > finIdx {
		t.Errorf("MissionFinished (event %d) before the last item reached (event %d)", finIdx, lastReached)
	}
	if n := len(all[fleet.MissionFinished](r.ev, from)); n != 1 {
		t.Errorf("%d MissionFinished events, want 1", n)
	}
	if n := len(all[fleet.MissionStarted](r.ev, from)); n != 1 {
		t.Errorf("%d MissionStarted events, want 1", n)
	}

	// Progress only moves forward and ends at 100 %.
	prog := all[fleet.MissionProgress](r.ev, from)
	if len(prog) < len(want) {
		t.Errorf("%d progress events for %d items", len(prog), len(want))
	}
	var last fleet.MissionStatus
	for i, p := range prog {
		s := p.Status
		if s.MissionID != mid {
			t.Fatalf("progress %d: mission %q, want %q", i, s.MissionID, mid)
		}
		if s.Done < last.Done || s.Percent < last.Percent-1e-9 || s.Flown < last.Flown-1e-6 {
			t.Errorf("progress went back at event %d: done %d→%d, %.2f%%→%.2f%%, flown %.1f→%.1f m",
				i, last.Done, s.Done, last.Percent, s.Percent, last.Flown, s.Flown)
		}
		if s.Steps != len(want) {
			t.Errorf("progress %d: %d steps, want %d", i, s.Steps, len(want))
		}
		last = s
	}
	if last.Percent != 100 || last.State != fleet.MissionStateFinished || last.Done != len(want) {
		t.Errorf("final progress %.1f%% %s, %d of %d steps; want 100%% finished", last.Percent, last.State, last.Done, len(want))
	}

	t.Logf("%d items reached in order, %d progress events, final %.0f%% of %.0f m", len(got), len(prog), last.Percent, last.Distance)

	// Landed at home (the mission ends with RTL).
	st := droneState(t, f, id)
	if d := distance(st.Position, home); d > r.tolerance(3, 5) {
		t.Errorf("landed %.1f m from home", d)
	}
	if st.Mission.State != fleet.MissionStateFinished || st.Mission.Percent != 100 {
		t.Errorf("state after landing: mission %s at %.1f%%", st.Mission.State, st.Mission.Percent)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMissionUploadUnderLoss uploads with 30 % of the frames lost each way.
// A dead link (100 % loss) failing with a bounded Timeout is checked by
// TestMissionUploadTwentyDronesOneDead.
func TestMissionUploadUnderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	needsSimulator(t, "30 % of the frames lost each way (sim.Drone.SetLoss)")
	t.Parallel()
	// At 30 % loss each way a step gets through with a chance of 0.49: with
	// the default 5 retries one of 15 steps fails about one upload in four,
	// so this link is configured as an operator would a very lossy radio.
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.MissionRetries = 15
	r, _ := mustRig(t, cfg, sim.Config{Seed: 33}, false)
	f := r.srv.Fleet
	lossy, id := r.drone(0)
	if err := lossy.SetLoss(0.3, 0.3); err != nil {
		t.Fatal(err)
	}
	home, altMSL := r.home(t, id)
	items := zigzag(home, altMSL, 25, 40, 14)
	// Each step needs a request and an item through (0.49 a try, retried
	// every second): about 2 s an item on average, with a long tail. The
	// bound is for "it gets there", not for luck with the loss pattern.
	start := time.Now()
	if _, err := f.UploadMission(opCtx(t, 120*time.Second), id, fleet.MissionTypeMission, items, fleet.UploadOptions{}); err != nil {
		t.Fatalf("upload with 30%% loss each way: %v after %s", err, time.Since(start))
	}
	took := time.Since(start)
	if took > 100*time.Second {
		t.Errorf("upload with 30%% loss each way took %s", took)
	}
	t.Logf("%d items uploaded with 30%% loss each way in %s", len(items), took.Round(time.Millisecond))
	if got := lossy.State().MissionCount; got != len(items) {
		t.Errorf("drone holds %d items, want %d", got, len(items))
	}
	if err := lossy.SetLoss(0, 0); err != nil {
		t.Fatal(err)
	}
	// A lost heartbeat (30 % of them) marks the link lost for a moment.
	if _, err := f.WaitState(opCtx(t, 10*time.Second), id, func(st fleet.DroneState) bool { return st.LinkState == fleet.LinkStateUp }); err != nil {
		t.Fatalf("link up after the loss: %v", err)
	}
	// The regained link makes the fleet re-sync the mission itself: a
	// download of ours meanwhile is Busy, which is the fleet's right; ask
	// again once that transfer is done.
	ctx := opCtx(t, 40*time.Second)
	var down []fleet.MissionItem
	var err error
	for {
		down, err = f.DownloadMission(ctx, id, fleet.MissionTypeMission)
		if fleet.ErrorCode(err) != fleet.Busy || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	comparePlans(t, items, down)
}

// TestMissionPauseResumeAbort pauses a patrol (the vehicle holds where it
// is), resumes it at the item it was flying, and aborts it (RTL home). It
// also runs against an external vehicle, in real time.
func TestMissionPauseResumeAbort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	r := mustVehicle(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Speedup: 50, Seed: 41})
	f := r.srv.Fleet
	id := r.id
	r.ready(t)
	home, _ := r.home(t)
	from := r.ev.mark()
	mid, _ := r.startPatrol(t, 20, 40, 8) // 0 home, 1 takeoff, 2..9 waypoints, 10 RTL
	step := r.within(5*time.Second, 20*time.Second)

	// Pause right after waypoint 3 is reached, while the drone heads for 4.
	r.reached(t, from, 3)
	ctx := opCtx(t, r.within(60*time.Second, 10*time.Minute))
	if err := f.PauseMission(ctx, id); err != nil {
		t.Fatalf("pause: %v", err)
	}
	paused, _ := await(t, r.ev, step, from, func(e fleet.MissionPaused) bool { return e.DroneID == id })
	if paused.MissionID != mid || paused.Seq != 4 {
		t.Errorf("paused %q at item %d, want %q at 4 (the item being flown)", paused.MissionID, paused.Seq, mid)
	}
	st := droneState(t, f, id)
	if st.Mode != "BRAKE" || st.Mission.State != fleet.MissionStatePaused || st.Mission.PausedSeq != paused.Seq {
		t.Errorf("after pause: mode %s, mission %s paused at %d", st.Mode, st.Mission.State, st.Mission.PausedSeq)
	}

	// It holds position: stopped, and still there 10 seconds (of the
	// vehicle's time) later.
	still := r.tolerance(0.2, 0.3)
	eventually(t, r.within(10*time.Second, 30*time.Second), "drone stopped", func() bool {
		if r.caps.Truth {
			s := r.sd.State()
			return math.Hypot(s.VN, s.VE) < still && math.Abs(s.VU) < still
		}
		s := droneState(t, f, id)
		return s.GroundSpeed < still && math.Abs(s.Climb) < still
	})
	held := r.position(t)
	seqBefore := -1
	if r.caps.Truth {
		seqBefore = r.sd.State().MissionSeq
	}
	r.advance(t, 10*time.Second)
	now := droneState(t, f, id)
	if d := distance(now.Position, held); d > r.tolerance(2, 3) || math.Abs(now.Position.RelAlt-held.RelAlt) > 1 {
		t.Errorf("paused drone moved %.1f m horizontally, %.1f m vertically", d, now.Position.RelAlt-held.RelAlt)
	}
	if now.Mode != "BRAKE" {
		t.Errorf("paused drone left BRAKE for %s", now.Mode)
	}
	if r.caps.Truth {
		if s := r.sd.State(); s.MissionSeq != seqBefore || s.Mode != sim.ModeBrake {
			t.Errorf("paused drone: item %d → %d, mode %s", seqBefore, s.MissionSeq, sim.ModeName(s.Mode))
		}
	}
	if n := len(all[fleet.MissionItemReachedEvent](r.ev, from)); n != 3 {
		t.Errorf("%d items reached by the time of the pause and hold, want 3 (1, 2, 3)", n)
	}

	// Resume continues from the same item.
	mark := r.ev.mark()
	if err := f.ResumeMission(ctx, id); err != nil {
		t.Fatalf("resume: %v", err)
	}
	resumed, _ := await(t, r.ev, step, mark, func(e fleet.MissionResumed) bool { return e.DroneID == id })
	if resumed.Seq != paused.Seq {
		t.Errorf("resumed at %d, paused at %d", resumed.Seq, paused.Seq)
	}
	next, _ := await(t, r.ev, r.within(30*time.Second, 3*time.Minute), mark, func(e fleet.MissionItemReachedEvent) bool { return e.DroneID == id })
	if next.Seq != paused.Seq {
		t.Errorf("first item reached after resuming: %d, want %d", next.Seq, paused.Seq)
	}
	if st := droneState(t, f, id); st.Mode != "AUTO" || st.Mission.State != fleet.MissionStateRunning {
		t.Errorf("after resume: mode %s, mission %s", st.Mode, st.Mission.State)
	}

	// Abort returns home and lands.
	r.reached(t, mark, 5)
	mark = r.ev.mark()
	if err := f.AbortMission(ctx, id); err != nil {
		t.Fatalf("abort: %v", err)
	}
	ab, _ := await(t, r.ev, step, mark, func(e fleet.MissionInterrupted) bool { return e.DroneID == id })
	if ab.Reason != fleet.InterruptAborted || ab.MissionID != mid {
		t.Errorf("abort: interrupted %q for %q, want %q aborted", ab.MissionID, ab.Reason, mid)
	}
	mc, _ := await(t, r.ev, step, mark, func(e fleet.ModeChanged) bool { return e.DroneID == id && e.To == "RTL" })
	if !mc.Commanded {
		t.Errorf("RTL after abort not marked as commanded by the fleet")
	}
	r.landsHome(t, home)
	if st := droneState(t, f, id); st.Mission.State != fleet.MissionStateInterrupted || st.Mission.Reason != fleet.InterruptAborted {
		t.Errorf("after abort and landing: mission %s (%s)", st.Mission.State, st.Mission.Reason)
	}
	if n := len(all[fleet.MissionFinished](r.ev, from)); n != 0 {
		t.Errorf("an aborted mission reported finished")
	}
	r.ev.checkComplete(t)
}

func TestMissionLinkCutGCSFailsafe(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	needsSimulator(t, "a radio link cut both ways (sim.Drone.CutLink), seen through a relay")
	t.Parallel()
	r, relay := mustRig(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Seed: 51}, true)
	f := r.srv.Fleet
	v := r.vehicle(0)
	sd, id := v.sd, v.id
	// The failsafe only watches a ground station it has heard.
	eventually(t, 5*time.Second, "server heartbeats at the drone", func() bool {
		return relay.Count(fromServer, idHeartbeat) >= 2
	})
	// As an operator would: GCS failsafe on (ArduCopter's default is off),
	// with a short timeout.
	if p := mustSetParam(t, f, id, "FS_GCS_ENABLE", 1); p.Type != fleet.ParamInt8 {
		t.Errorf("FS_GCS_ENABLE echoed as type %d, want INT8", p.Type)
	}
	mustSetParam(t, f, id, "FS_GCS_TIMEOUT", 2)
	from := r.ev.mark()
	mid, _ := v.startPatrol(t, 25, 120, 10) // legs of about 170 m
	v.reached(t, from, 1)                   // took off

	// Cut the radio both ways for 4 s (wall clock, like a real radio):
	// longer than the fleet's link timeout (1.5 s) and the failsafe's (2 s).
	mark := r.ev.mark()
	sd.CutLink(4 * time.Second)
	_, lostIdx := await(t, r.ev, 5*time.Second, mark, func(e fleet.LinkLost) bool { return e.DroneID == id })
	listsAtLoss := relay.Count(fromServer, idMissionRequestList)
	streamsAtLoss := relay.Count(fromServer, idRequestDataStream)
	mi, _ := await(t, r.ev, 5*time.Second, mark, func(e fleet.MissionInterrupted) bool { return e.DroneID == id })
	if mi.Reason != fleet.InterruptLinkLost || mi.MissionID != mid {
		t.Errorf("interrupted %q for %q, want %q link_lost", mi.MissionID, mi.Reason, mid)
	}
	atLoss := droneState(t, f, id)
	if atLoss.LinkState != fleet.LinkStateLost {
		t.Errorf("link state %s during the cut", atLoss.LinkState)
	}
	if err := f.Hold(opCtx(t, 5*time.Second), id); fleet.ErrorCode(err) != fleet.NoDrone {
		t.Errorf("command to a lost drone: %v, want NoDrone", err)
	}

	// The drone decides on its own: GCS failsafe, RTL.
	eventually(t, 10*time.Second, "GCS failsafe RTL on the vehicle", func() bool {
		s := sd.State()
		return s.GCSFailsafe && s.Mode == sim.ModeRTL
	})
	seqOnBoard := sd.State().MissionSeq
	if seqOnBoard <= atLoss.Mission.CurrentSeq {
		t.Errorf("the drone was on item %d at the failsafe, the fleet last knew %d: it should have flown on unheard",
			seqOnBoard, atLoss.Mission.CurrentSeq)
	}

	// The link returns: the server hears the drone again, and re-reads its
	// mission and streams instead of assuming.
	await(t, r.ev, 10*time.Second, lostIdx, func(e fleet.LinkRegained) bool { return e.DroneID == id })
	eventually(t, 10*time.Second, "mission downloaded again after the regain", func() bool {
		return relay.Count(fromServer, idMissionRequestList) > listsAtLoss &&
			relay.Count(fromServer, idMissionRequestInt) > 0
	})
	eventually(t, 10*time.Second, "streams asked again after the regain", func() bool {
		return relay.Count(fromServer, idRequestDataStream) > streamsAtLoss
	})
	eventually(t, 10*time.Second, "fleet sees RTL", func() bool { return droneState(t, f, id).Mode == "RTL" })
	st := droneState(t, f, id)
	if st.LinkState != fleet.LinkStateUp || st.Mission.MissionID != mid ||
		st.Mission.State != fleet.MissionStateInterrupted || st.Mission.Reason != fleet.InterruptLinkLost {
		t.Errorf("after the regain: link %s, mission %q %s (%s); want up, %q interrupted (link_lost)",
			st.LinkState, st.Mission.MissionID, st.Mission.State, st.Mission.Reason, mid)
	}
	// The vehicle may hear the server's heartbeat before the server hears
	// the vehicle's.
	await(t, r.ev, 10*time.Second, lostIdx, func(e fleet.StatusTextEvent) bool {
		return e.DroneID == id && e.Text == "GCS Failsafe Cleared"
	})

	// Resuming goes back to the item the drone itself reports in
	// MISSION_CURRENT once heard again (it flew on during the cut).
	cur := relay.Count(fromDrone, idMissionCurrent)
	eventually(t, 5*time.Second, "MISSION_CURRENT after the regain", func() bool {
		return relay.Count(fromDrone, idMissionCurrent) >= cur+2
	})
	mark = r.ev.mark()
	if err := f.ResumeMission(opCtx(t, 10*time.Second), id); err != nil {
		t.Fatalf("resume after the regain: %v", err)
	}
	res, _ := await(t, r.ev, 5*time.Second, mark, func(e fleet.MissionResumed) bool { return e.DroneID == id })
	if res.Seq != seqOnBoard {
		t.Errorf("resumed at %d, the vehicle was on item %d", res.Seq, seqOnBoard)
	}
	t.Logf("item %d when the link was lost, %d when the failsafe struck, resumed at %d", atLoss.Mission.CurrentSeq, seqOnBoard, res.Seq)
	eventually(t, 5*time.Second, "AUTO again on the vehicle", func() bool {
		s := sd.State()
		return s.Mode == sim.ModeAuto && s.MissionSeq == seqOnBoard
	})
	r.ev.checkComplete(t)
}

func TestMissionLowBatteryRTL(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	needsSimulator(t, "the battery drained at will (sim.Drone.SetBatteryRemaining)")
	t.Parallel()
	r, _ := mustRig(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Speedup: 50, Seed: 61}, false)
	f := r.srv.Fleet
	v := r.vehicle(0)
	sd, id := v.sd, v.id
	home, _ := v.home(t)
	// ArduCopter's default low-battery action is none: ask for RTL.
	mustSetParam(t, f, id, "BATT_FS_LOW_ACT", 2)
	from := r.ev.mark()
	mid, _ := v.startPatrol(t, 20, 60, 10)
	v.reached(t, from, 3)
	far := distance(droneState(t, f, id).Position, home)

	mark := r.ev.mark()
	sd.SetBatteryRemaining(0.15)
	fs, _ := await(t, r.ev, 10*time.Second, mark, func(e fleet.Failsafe) bool { return e.DroneID == id })
	if fs.Kind != fleet.FailsafeBattery || !strings.HasPrefix(fs.Text, "Battery 1 is low") {
		t.Errorf("failsafe %q %q, want battery", fs.Kind, fs.Text)
	}
	mc, _ := await(t, r.ev, 5*time.Second, mark, func(e fleet.ModeChanged) bool { return e.DroneID == id && e.To == "RTL" })
	if mc.Commanded {
		t.Errorf("battery RTL taken as the fleet's own")
	}
	mi, _ := await(t, r.ev, 5*time.Second, mark, func(e fleet.MissionInterrupted) bool { return e.DroneID == id })
	if mi.Reason != fleet.InterruptFailsafe || mi.MissionID != mid {
		t.Errorf("interrupted %q for %q, want %q failsafe", mi.MissionID, mi.Reason, mid)
	}
	if far < 50 {
		t.Errorf("drone only %.0f m from home when the battery ran low", far)
	}
	v.landsHome(t, home)
	if st := droneState(t, f, id); st.Battery.RemainingPct > 16 || st.Mode != "RTL" {
		t.Errorf("after landing: battery %d %%, mode %s", st.Battery.RemainingPct, st.Mode)
	}
	r.ev.checkComplete(t)
}

func TestMissionUploadTwentyDronesOneDead(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	needsSimulator(t, "twenty drones, one of them with a dead link (sim.Drone.SetLoss)")
	t.Parallel()
	const n, deadIdx = 20, 7
	// The dead drone must still count as linked when its upload starts.
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.LinkTimeout = 30 * time.Second
	r, _ := mustRig(t, cfg, sim.Config{Drones: n, Seed: 71}, false)
	f := r.srv.Fleet
	plans := map[string][]fleet.MissionItem{}
	for i := 0; i < n; i++ {
		_, id := r.drone(i)
		home, altMSL := r.home(t, id)
		plans[id] = zigzag(home, altMSL, 20+float64(i), 30+float64(i), 2+i%7)
	}
	dead, deadID := r.drone(deadIdx)
	if err := dead.SetLoss(1, 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := f.UploadMissions(opCtx(t, 60*time.Second), fleet.MissionTypeMission, plans)
	// UploadMissions returns when the last drone is done: the dead link's
	// Timeout, bounded by the transport's retries (6 × 1.5 s), not a hang.
	took := time.Since(start)
	if len(res) != n {
		t.Fatalf("%d results for %d drones", len(res), n)
	}
	for i := 0; i < n; i++ {
		sd, id := r.drone(i)
		err := res[id]
		if i == deadIdx {
			if fleet.ErrorCode(err) != fleet.Timeout {
				t.Errorf("%s (dead link): %v, want Timeout", id, err)
			}
			if c := sd.State().MissionCount; c != 1 {
				t.Errorf("%s (dead link) holds %d items", id, c)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if c := sd.State().MissionCount; c != len(plans[id]) {
			t.Errorf("%s holds %d items, want its own %d", id, c, len(plans[id]))
		}
		got, _ := f.MissionPlan(id)
		if len(got) != len(plans[id]) || got[2].Lat != plans[id][2].Lat {
			t.Errorf("%s: fleet tracks a plan of %d items, uploaded %d", id, len(got), len(plans[id]))
		}
	}
	if took > 20*time.Second {
		t.Errorf("uploads took %s", took)
	}
	if st := droneState(t, f, deadID); st.Mission.State != fleet.MissionStateNone {
		t.Errorf("fleet tracks a mission on the dead-link drone: %s", st.Mission.State)
	}
	t.Logf("%d uploads in %s, the dead link failing alone: %v", n, took.Round(time.Millisecond), res[deadID])
}

// TestMissionStartedInTheAir starts, on a drone already flying away from
// home, a patrol planned in the air (patrol.Mission of an airborne route:
// home, DO_CHANGE_SPEED, waypoints, RTL, no take-off): it flies from its
// first waypoint, with the route's speed, items reached in order, and
// lands home. It also runs against an external vehicle, in real time.
func TestMissionStartedInTheAir(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight: skipped with -short")
	}
	r := mustVehicle(t, testServeConfig("udp:127.0.0.1:0"), sim.Config{Speedup: 20, Seed: 45})
	f := r.srv.Fleet
	id := r.id
	r.ready(t)
	home, altMSL := r.home(t)
	ctx := opCtx(t, r.within(90*time.Second, 10*time.Minute))
	if err := f.Arm(ctx, id, fleet.ArmOptions{Wait: r.within(20*time.Second, 2*time.Minute), RetryInterval: 200 * time.Millisecond}); err != nil {
		t.Fatalf("arm: %v", err)
	}
	if err := f.Takeoff(ctx, id, 25); err != nil {
		t.Fatalf("takeoff: %v", err)
	}
	eventually(t, r.within(20*time.Second, time.Minute), "at 25 m", func() bool { return droneState(t, f, id).Position.RelAlt > 24.5 })
	// On the first waypoint: the drone reports it reached as AUTO begins,
	// before StartMission has its MISSION_START ack (the fleet counts it:
	// see fleet.StartMission, "Reports before the start is acknowledged").
	east := offset(home, 0, 60)
	east.RelAlt = 25
	if err := f.GoTo(ctx, id, east, fleet.GoToOptions{}); err != nil {
		t.Fatalf("go-to: %v", err)
	}
	eventually(t, r.within(20*time.Second, time.Minute), "on the first waypoint", func() bool {
		st := droneState(t, f, id)
		return distance(st.Position, east) < 2 && st.GroundSpeed < 0.5
	})

	// What the planner makes for a drone in the air, at 5 m/s (the
	// vehicle's own WPNAV_SPEED is faster).
	const speed = 5.0
	at := func(n, e float64) plan.Waypoint {
		p := offset(home, n, e)
		return plan.Waypoint{LatLon: plan.LatLon{Lat: p.Lat, Lon: p.Lon}, AltM: 25, SpeedMPS: speed}
	}
	rt := plan.Route{DroneID: id, Home: plan.LatLon{Lat: home.Lat, Lon: home.Lon}, Airborne: true,
		Waypoints: []plan.Waypoint{at(0, 60), at(100, 60), at(100, -40), at(0, 0)}}
	items := patrol.Mission(rt, patrol.Options{HomeAMSL: altMSL})
	if items[1].Command != fleet.CmdDoChangeSpeed || items[2].Command != fleet.CmdNavWaypoint {
		t.Fatalf("an airborne route's items %+v, want the speed change first", items[:3])
	}
	mid, err := f.UploadMission(ctx, id, fleet.MissionTypeMission, items, fleet.UploadOptions{})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	from := r.ev.mark()
	if err := f.StartMission(ctx, id, fleet.StartOptions{}); err != nil {
		t.Fatalf("start in the air: %v", err)
	}
	// At item 2, the first waypoint, or past it: the drone on it may have
	// reached it, and MISSION_CURRENT moved on, before the start returned.
	if ms := droneState(t, f, id).Mission; ms.State != fleet.MissionStateRunning || (ms.CurrentSeq != 2 && (ms.CurrentSeq != 3 || ms.Done != 1)) {
		t.Errorf("started: %+v, want running at item 2, the first waypoint (or at 3 with 2 reached)", ms)
	}

	// The leg from the first waypoint to the second (100 m) at the route's
	// speed: the DO_CHANGE_SPEED before the first waypoint was applied.
	r.reached(t, from, 2)
	top := 0.0
	eventually(t, r.within(30*time.Second, 2*time.Minute), "the second waypoint reached", func() bool {
		if r.caps.Truth {
			s := r.sd.State()
			top = math.Max(top, math.Hypot(s.VN, s.VE))
		} else {
			top = math.Max(top, droneState(t, f, id).GroundSpeed)
		}
		_, _, ok := find(r.ev, from, func(e fleet.MissionItemReachedEvent) bool { return e.Seq == 3 })
		return ok
	})
	if top < speed-0.7 || top > speed+0.5 {
		t.Errorf("flew the first leg at up to %.1f m/s, want the route's %.0f m/s", top, speed)
	}
	await(t, r.ev, r.within(60*time.Second, 5*time.Minute), from, func(e fleet.MissionFinished) bool { return e.MissionID == mid })
	r.landsHome(t, home)
	var got []int
	for _, e := range all[fleet.MissionItemReachedEvent](r.ev, from) {
		got = append(got, e.Seq)
	}
	if want := navRoute(items); !equalInts(got, want) {
		t.Errorf("items reached %v, want %v", got, want)
	}
	if texts := recordedTexts(r.ev, from); !hasPrefix(texts, "Mission: 1 ChangeSpeed") {
		t.Errorf("no \"Mission: 1 ChangeSpeed\" in %q", texts)
	}
	r.ev.checkComplete(t)
}
