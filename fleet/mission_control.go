package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"sync"
	"time"
)

// UploadOptions tune UploadMission.
type UploadOptions struct {
	// SkipGuard skips the fleet's Guard (an authorised override).
	SkipGuard bool
	// Progress, if not nil, is called with the items sent so far.
	Progress func(done, total int)
}

// StartOptions tune StartMission.
type StartOptions struct {
	// ArmWait is how long to wait for pre-arm checks (optional, default the
	// fleet's ArmWait).
	ArmWait time.Duration
	// SkipGuard skips the fleet's Guard (an authorised override).
	SkipGuard bool
}

// MISSION_STATE values of MissionCurrent.State.
const (
	missionStateNotStarted uint8 = 2
	missionStateActive     uint8 = 3
	missionStatePaused     uint8 = 4
	missionStateComplete   uint8 = 5
)

// newMissionID returns a mission id for drone: the drone's id, "-m" and 16
// random hex digits. It is unique across restarts and stations (no
// process-local counter), so stored history never meets a reused id.
func newMissionID(drone string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return drone + "-m" + hex.EncodeToString(b[:])
}

// validatePlan checks a plan and returns a copy numbered 0..n-1 (seq 0
// current). Errors are Invalid and name the item.
func validatePlan(t MissionType, items []MissionItem) ([]MissionItem, error) {
	if t != MissionTypeMission && t != MissionTypeFence && t != MissionTypeRally {
		return nil, Errorf(Invalid, "unknown mission type %d", t)
	}
	if len(items) == 0 {
		return nil, Errorf(Invalid, "empty %s plan (use ClearMission to remove one)", t)
	}
	if len(items) > math.MaxUint16 {
		return nil, Errorf(Invalid, "%s plan has %d items, more than %d", t, len(items), math.MaxUint16)
	}
	out := make([]MissionItem, len(items))
	for i, it := range items {
		switch it.Frame {
		case FrameGlobal, FrameMission, FrameGlobalRelativeAlt, FrameGlobalTerrainAlt:
		default:
			return nil, Errorf(Invalid, "item %d: unknown frame %d", i, it.Frame)
		}
		if it.Command == 0 {
			return nil, Errorf(Invalid, "item %d: no command", i)
		}
		for _, p := range []float64{it.Param1, it.Param2, it.Param3, it.Param4} {
			if math.IsInf(p, 0) {
				return nil, Errorf(Invalid, "item %d: infinite parameter", i)
			}
		}
		if !finite(it.Lat) || !finite(it.Lon) || it.Lat < -90 || it.Lat > 90 || it.Lon < -180 || it.Lon > 180 {
			return nil, Errorf(Invalid, "item %d: position %v, %v out of range", i, it.Lat, it.Lon)
		}
		if !finite(it.Alt) || math.Abs(it.Alt) > 100000 {
			return nil, Errorf(Invalid, "item %d: altitude %v out of range", i, it.Alt)
		}
		if it.Command == CmdDoJump && (it.Param1 < 0 || int(it.Param1) >= len(items)) {
			return nil, Errorf(Invalid, "item %d: DO_JUMP to missing item %v", i, it.Param1)
		}
		it.Seq = i
		it.Current = i == 0
		out[i] = it
	}
	return out, nil
}

// transfer marks a mission transfer on d, or returns Busy.
func (d *drone) transfer() (func(), error) {
	if !d.busy.CompareAndSwap(false, true) {
		return nil, Errorf(Busy, "drone %q: a mission transfer is running", d.id)
	}
	return func() { d.busy.Store(false) }, nil
}

// UploadMission replaces drone id's plan of type t with items (renumbered
// 0..n-1; for ArduPilot seq 0 is home). A mission plan becomes the one the
// fleet tracks, under the returned mission id. The fleet's Guard may refuse
// first (Conflict) unless opts.SkipGuard. Returns Invalid (naming the bad
// item), NotFound, NoDrone, Busy, and the vehicle's Denied (with the
// MAV_MISSION_RESULT as Reason), Timeout or Unsupported.
func (f *Fleet) UploadMission(ctx context.Context, id string, t MissionType, items []MissionItem, opts UploadOptions) (string, error) {
	plan, err := validatePlan(t, items)
	if err != nil {
		return "", err
	}
	d, v, st, err := f.target(id)
	if err != nil {
		return "", err
	}
	if f.Guard != nil && !opts.SkipGuard {
		if err := guardErr(f.Guard.CheckMission(st, t, plan)); err != nil {
			return "", f.finish(d, "upload_"+t.String(), err)
		}
	}
	done, err := d.transfer()
	if err != nil {
		return "", err
	}
	defer done()
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout+time.Duration(len(plan))*time.Second/10)
	defer cancel()
	err = vehicleErr(v.UploadMission(ctx, t, plan, opts.Progress), "upload mission")
	if err != nil {
		return "", f.finish(d, "upload_"+t.String(), err)
	}
	mid := newMissionID(d.id)
	var out outbox
	now := f.now()
	d.mu.Lock()
	if t == MissionTypeMission {
		m := &d.mission
		if m.state == MissionStateRunning || m.state == MissionStatePaused {
			d.interruptMission(now, InterruptReplaced, &out)
		}
		m.load(mid, plan, d.st.Autopilot, d.st.Home, d.st.HasHome)
		d.syncMission()
	}
	out.add(MissionUploaded{DroneID: d.id, At: now, MissionID: mid, Type: t, Items: len(plan)})
	d.mu.Unlock()
	d.log.Info("mission uploaded", "mission_id", mid, "type", t.String(), "items", len(plan))
	for _, e := range out.events() {
		f.Publish(e)
	}
	f.publishState(d)
	return mid, f.finish(d, "upload_"+t.String(), nil)
}

// UploadMissions uploads a plan of type t to each drone of plans at once
// (at most 32 transfers in flight) and returns each drone's error, nil for
// success. One drone failing does not stop the others.
func (f *Fleet) UploadMissions(ctx context.Context, t MissionType, plans map[string][]MissionItem) map[string]error {
	res := make(map[string]error, len(plans))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, defaultUploadParallel)
	for id, items := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				res[id] = vehicleErr(ctx.Err(), "upload mission")
				mu.Unlock()
				return
			}
			_, err := f.UploadMission(ctx, id, t, items, UploadOptions{})
			<-sem
			mu.Lock()
			res[id] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res
}

// DownloadMission reads drone id's plan of type t. A mission plan the fleet
// did not know becomes the one it tracks. When the fleet tracked another
// plan, compared as the vehicle stores plans (see MissionMismatch), the
// vehicle's plan replaces it and a MissionMismatch event says where they
// differ; a plan that only looks different (ArduCopter drops a waypoint's
// acceptance radius, rounds positions to 1e-7°) keeps its mission id and
// progress. Returns NotFound, NoDrone, Busy, and the vehicle's errors.
func (f *Fleet) DownloadMission(ctx context.Context, id string, t MissionType) ([]MissionItem, error) {
	d, v, _, err := f.target(id)
	if err != nil {
		return nil, err
	}
	done, err := d.transfer()
	if err != nil {
		return nil, err
	}
	defer done()
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	items, err := v.DownloadMission(ctx, t, nil)
	if err != nil {
		return nil, vehicleErr(err, "download mission")
	}
	if t == MissionTypeMission {
		f.adopt(d, items, false, nil)
	}
	return items, nil
}

// knownPlan is the mission the server stored for a drone (Fleet.KnownMission).
type knownPlan struct {
	id    string
	items []MissionItem
}

// adopt makes a downloaded plan the tracked one when it differs from what
// the fleet knows (or force, on re-sync, keeps the progress when equal).
// known, when not nil, is the stored mission of a drone whose plan the
// fleet does not track yet (after a restart): a match keeps its id. A plan
// over MaxMissionItems or with an invalid item is not adopted.
func (f *Fleet) adopt(d *drone, items []MissionItem, resync bool, known *knownPlan) {
	if err := f.checkPlan(items); err != nil {
		f.stats.badMissions.Add(1)
		f.droneLog.Warn(d.log, d.id, "mission from vehicle not adopted", "err", err)
		return
	}
	now := f.now()
	var out outbox
	d.mu.Lock()
	m := &d.mission
	changed := false
	seq, why := -1, MissionDiff{}
	if m.hasPlan() {
		seq, why = planDiff(m.items, items, m.ardupilot)
	}
	if !m.hasPlan() && known != nil && len(items) > 0 {
		ardupilot := d.st.Autopilot == AutopilotArduPilot
		kseq, kwhy := planDiff(known.items, items, ardupilot)
		if kseq < 0 {
			// The vehicle flies what the server stored: same id, and
			// MISSION_CURRENT resumes the progress.
			m.load(known.id, append([]MissionItem(nil), known.items...), d.st.Autopilot, d.st.Home, d.st.HasHome)
			m.adoptTried, m.resynced = true, true
			d.syncMission()
			d.mu.Unlock()
			d.log.Info("mission re-synced after restart", "mission_id", known.id, "items", len(items))
			f.publishState(d)
			return
		}
		mid := newMissionID(d.id)
		out.add(MissionMismatch{DroneID: d.id, At: now, MissionID: known.id, NewMissionID: mid, Seq: kseq, Detail: kwhy})
		d.log.Warn("mission on vehicle differs from the stored one", "mission_id", known.id, "new_mission_id", mid, "err", kwhy)
		m.load(mid, items, d.st.Autopilot, d.st.Home, d.st.HasHome)
		m.adoptTried, m.resynced = true, true
		d.syncMission()
		d.mu.Unlock()
		for _, e := range out.events() {
			f.Publish(e)
		}
		f.publishState(d)
		return
	}
	switch {
	case m.hasPlan() && seq < 0:
		d.log.Debug("mission re-synced", "mission_id", m.id, "same", true)
	case len(items) == 0:
		if m.hasPlan() {
			out.add(MissionMismatch{DroneID: d.id, At: now, MissionID: m.id, Seq: seq, Detail: why})
			if m.state == MissionStateRunning || m.state == MissionStatePaused {
				d.interruptMission(now, InterruptReplaced, &out)
			}
			m.reset()
			d.syncMission()
			changed = true
		}
	default:
		mid := newMissionID(d.id)
		if m.hasPlan() {
			out.add(MissionMismatch{DroneID: d.id, At: now, MissionID: m.id, NewMissionID: mid, Seq: seq, Detail: why})
			d.f.droneLog.Info(d.log, d.id, "mission on vehicle differs", "mission_id", m.id, "err", why)
		}
		if m.state == MissionStateRunning || m.state == MissionStatePaused {
			d.interruptMission(now, InterruptReplaced, &out)
		}
		m.load(mid, items, d.st.Autopilot, d.st.Home, d.st.HasHome)
		m.adoptTried, m.resynced = true, true
		d.syncMission()
		d.log.Info("mission adopted from vehicle", "mission_id", mid, "items", len(items), "resync", resync)
		changed = true
	}
	d.mu.Unlock()
	for _, e := range out.events() {
		f.Publish(e)
	}
	if changed {
		f.publishState(d)
	}
}

// resyncMission reads the drone's mission again after its link came back
// (or when it flies one the fleet does not know); MISSION_CURRENT then says
// where it is.
func (f *Fleet) resyncMission(d *drone) {
	ctx, cancel := context.WithTimeout(f.ctx, f.CommandTimeout)
	defer cancel()
	v := d.currentVehicle()
	d.mu.Lock()
	unknown, active := !d.mission.hasPlan(), d.mission.vehicleState == missionStateActive
	d.mu.Unlock()
	var known *knownPlan
	if unknown && f.KnownMission != nil {
		if id, items, ok := f.KnownMission(d.id); ok && id != "" && len(items) > 0 {
			known = &knownPlan{id: id, items: items}
		} else if !active {
			// Held, not flown, and the server stored nothing: leave it
			// until a start asks for it (as without KnownMission).
			d.mu.Lock()
			d.resyncQueued = false
			d.mu.Unlock()
			return
		}
	}
	var items []MissionItem
	done, err := d.transfer()
	if err == nil {
		items, err = v.DownloadMission(ctx, MissionTypeMission, nil)
		done()
	}
	if err != nil {
		d.log.Warn("mission re-sync failed", "err", err)
		d.mu.Lock()
		d.resyncQueued = false
		if f.ctx.Err() == nil {
			d.mission.adoptTried = false
		}
		d.mu.Unlock()
		return
	}
	f.adopt(d, items, true, known)
	d.mu.Lock()
	d.resyncQueued = false
	d.mu.Unlock()
}

// ClearMission removes drone id's plan of type t. Returns NotFound,
// NoDrone, Busy, and the vehicle's errors.
func (f *Fleet) ClearMission(ctx context.Context, id string, t MissionType) error {
	d, v, _, err := f.target(id)
	if err != nil {
		return err
	}
	done, err := d.transfer()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	err = vehicleErr(v.ClearMission(ctx, t), "clear mission")
	if err == nil && t == MissionTypeMission {
		f.adopt(d, nil, false, nil)
	}
	return f.finish(d, "clear_"+t.String(), err)
}

// MissionPlan returns a copy of the mission plan the fleet tracks for drone
// id (nil if none). Returns NotFound.
func (f *Fleet) MissionPlan(id string) ([]MissionItem, error) {
	d := f.droneByID(id)
	if d == nil {
		return nil, errNotFound(id)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mission.items == nil {
		return nil, nil
	}
	return append([]MissionItem(nil), d.mission.items...), nil
}

// StartMission flies drone id's mission from its first item, from any mode:
// for ArduPilot, GUIDED and arm (waiting for pre-arm checks) when disarmed,
// then AUTO and MISSION_START; for PX4, arm and MISSION_START. The plan is
// downloaded first if the fleet does not know it. Returns Conflict when the
// drone has no mission (or the Guard refuses it), NotFound, NoDrone, and the
// vehicle's errors (the last arming refusal with its reason).
//
// # A drone already flying
//
// On a drone in the air the first item after home is made current
// (SetCurrentItem, item 1 for ArduPilot, 0 for PX4) before AUTO, so the
// mission starts from its beginning, not where an earlier run stopped. For
// ArduPilot that is right whether item 1 is a navigation item or a DO item
// (a route planned in the air starts with DO_CHANGE_SPEED): AP_Mission's
// set_current_cmd, given a DO item while the mission is not running, loads
// it and the navigation item after it and reports that navigation item as
// current (MISSION_CURRENT never shows a DO item); entering AUTO resumes
// the mission by starting the loaded DO item, then the DO items up to the
// navigation item one after the other, then flies it. So the first
// navigation item is the current one with the DO items before it applied.
// Making the navigation item itself current instead would skip those DO
// items (the route would fly at WPNAV_SPEED, not its own speed). A plan
// made on the ground flies its NAV_TAKEOFF first, from where the drone is.
//
// # Reports before the start is acknowledged
//
// The vehicle may say it flies the mission before StartMission has its
// acks: ArduCopter starts the mission on entering AUTO, and a drone already
// on the first waypoint reports it reached (MISSION_ITEM_REACHED) in its
// first loop in AUTO, which comes before the MISSION_START ack, and may be
// handled before the AUTO ack reaches the command's waiter. So from the
// first command that may start the mission (SetCurrentItem on a drone
// flying in AUTO already, else AUTO, for PX4 MISSION_START) until
// StartMission returns, an item reached or a MISSION_CURRENT in ACTIVE
// starts the run (MissionStarted) and counts, as it would in a running
// mission: the same item reported twice counts once, and the start's end
// keeps that progress. Until a heartbeat in the mission mode comes, one in
// the mode the drone was in or in GUIDED (which the start sets to arm) was
// sent before AUTO took and does not interrupt the run; any other mode
// (RTL, LAND: a failsafe) does, and so does leaving AUTO once it was seen.
// A run begun so is not undone if the start then fails (the vehicle flies
// it).
func (f *Fleet) StartMission(ctx context.Context, id string, opts StartOptions) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	wait := opts.ArmWait
	if wait <= 0 {
		wait = f.ArmWait
	}
	ctx, cancel := f.opCtx(ctx, wait+4*f.CommandTimeout)
	defer cancel()
	return f.finish(d, "start_mission", f.startMission(ctx, d, v, st, wait, opts.SkipGuard))
}

func (f *Fleet) startMission(ctx context.Context, d *drone, v Vehicle, st DroneState, wait time.Duration, skipGuard bool) error {
	plan, _ := f.MissionPlan(d.id)
	if plan == nil {
		items, err := f.DownloadMission(ctx, d.id, MissionTypeMission)
		if err != nil {
			return err
		}
		plan = items
	}
	d.mu.Lock()
	steps := len(d.mission.route)
	d.mu.Unlock()
	if steps == 0 {
		return Errorf(Conflict, "drone %q has no mission to fly", d.id)
	}
	if f.Guard != nil && !skipGuard {
		if err := guardErr(f.Guard.CheckMission(st, MissionTypeMission, plan)); err != nil {
			return err
		}
	}
	// The first item after home, DO item or not (see "A drone already
	// flying" above).
	first := 0
	if st.Autopilot == AutopilotArduPilot {
		first = 1
	}
	// From the first command that may start the mission (SetCurrentItem
	// on a drone flying in AUTO, else AUTO or MISSION_START), the
	// vehicle's reports may begin the run (see "Reports before the start
	// is acknowledged"); not before, so that a report of the last run
	// (ArduCopter's item reached at the disarm) cannot.
	runs, phase := 0, false
	begin := func() {
		if !phase {
			runs, phase = d.beginStart(), true
		}
	}
	defer func() {
		if phase {
			d.endStart()
		}
	}()
	if st.Armed && st.Flying() {
		if modeRoleOf(st.Autopilot, st.Mode) == roleMission {
			begin()
		}
		if err := vehicleErr(v.SetCurrentItem(ctx, first), "set current item"); err != nil {
			return err
		}
	}
	if !st.Armed {
		if st.Autopilot == AutopilotArduPilot {
			if err := f.ensureMode(ctx, d, v, st, "GUIDED"); err != nil {
				return err
			}
		}
		if err := f.arm(ctx, v, ArmOptions{Wait: wait}); err != nil {
			return err
		}
	}
	begin()
	if st.Autopilot == AutopilotArduPilot {
		if err := f.setMode(ctx, d, v, st, "AUTO"); err != nil {
			return err
		}
	} else {
		d.expect(f.now(), roleModeName(st, roleMission))
	}
	err := f.send(ctx, v, Command{Kind: CommandMissionStart, First: 0})
	if err != nil {
		if st.Autopilot != AutopilotArduPilot || (ErrorCode(err) != Denied && ErrorCode(err) != Unsupported) {
			return err
		}
		// ArduCopter starts the mission on entering AUTO already.
		d.log.Debug("mission start refused after AUTO", "err", err)
	}
	var out outbox
	now := f.now()
	d.mu.Lock()
	m := &d.mission
	// A run the vehicle's reports began meanwhile is this start's (and may
	// have ended already: a failsafe right after AUTO is not undone).
	if m.state != MissionStateRunning && m.runs == runs {
		d.startRun(now, &out)
		d.syncMission()
	}
	d.mu.Unlock()
	for _, e := range out.events() {
		f.Publish(e)
	}
	f.publishState(d)
	return nil
}

// beginStart opens a start's starting phase and returns the runs begun so
// far; endStart closes it.
func (d *drone) beginStart() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := &d.mission
	if m.starting == 0 {
		m.autoSeen = modeRoleOf(d.st.Autopilot, d.st.Mode) == roleMission
		m.startMode = d.st.Mode
	}
	m.starting++
	return m.runs
}

func (d *drone) endStart() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mission.starting > 0 {
		d.mission.starting--
	}
}

// PauseMission holds drone id where it is (the hold mode) and remembers the
// current item for ResumeMission. Returns Conflict when no mission runs,
// NotFound, NoDrone, and the vehicle's errors.
func (f *Fleet) PauseMission(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	mode, err := f.holdMode(st)
	if err != nil {
		return f.finish(d, "pause_mission", err)
	}
	d.mu.Lock()
	m := &d.mission
	if m.state != MissionStateRunning {
		d.mu.Unlock()
		return Errorf(Conflict, "drone %q runs no mission", id)
	}
	seq := m.flyingSeq()
	m.state, m.pausedSeq = MissionStatePaused, seq
	mid := m.id
	d.mu.Unlock()

	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	if err := f.setMode(ctx, d, v, st, mode); err != nil {
		d.mu.Lock()
		if m.state == MissionStatePaused {
			m.state, m.pausedSeq = MissionStateRunning, -1
		}
		d.mu.Unlock()
		return f.finish(d, "pause_mission", err)
	}
	d.mu.Lock()
	d.syncMission()
	d.mu.Unlock()
	f.Publish(MissionPaused{DroneID: id, At: f.now(), MissionID: mid, Seq: seq})
	f.publishState(d)
	return f.finish(d, "pause_mission", nil)
}

// ResumeMission continues a paused (or interrupted) mission from the item
// it stopped at: SetCurrentItem, then AUTO. Returns Conflict when there is
// nothing to resume, NotFound, NoDrone, and the vehicle's errors.
func (f *Fleet) ResumeMission(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	m := &d.mission
	if m.state != MissionStatePaused && m.state != MissionStateInterrupted {
		d.mu.Unlock()
		return Errorf(Conflict, "drone %q has no paused mission", id)
	}
	seq := m.pausedSeq
	if seq < 0 {
		seq = m.flyingSeq()
	}
	mid := m.id
	d.mu.Unlock()

	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	err = vehicleErr(v.SetCurrentItem(ctx, seq), "set current item")
	if err == nil {
		err = f.setMode(ctx, d, v, st, roleModeName(st, roleMission))
	}
	if err != nil {
		return f.finish(d, "resume_mission", err)
	}
	d.mu.Lock()
	m.state, m.reason, m.pausedSeq, m.interruptAt = MissionStateRunning, "", -1, time.Time{}
	m.seek(seq, true)
	d.syncMission()
	d.mu.Unlock()
	f.Publish(MissionResumed{DroneID: id, At: f.now(), MissionID: mid, Seq: seq})
	f.publishState(d)
	return f.finish(d, "resume_mission", nil)
}

// AbortMission ends drone id's mission and returns it home (RTL). Returns
// NotFound, NoDrone, and the vehicle's errors.
func (f *Fleet) AbortMission(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	var out outbox
	d.mu.Lock()
	m := &d.mission
	prev := m.state
	if prev == MissionStateRunning || prev == MissionStatePaused {
		d.interruptMission(f.now(), InterruptAborted, &out)
	}
	d.mu.Unlock()

	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	d.expect(f.now(), roleModeName(st, roleReturn))
	if err := f.send(ctx, v, Command{Kind: CommandReturnToLaunch}); err != nil {
		d.mu.Lock()
		if m.state == MissionStateInterrupted && m.reason == InterruptAborted {
			m.state, m.reason = prev, ""
			d.syncMission()
		}
		d.mu.Unlock()
		return f.finish(d, "abort_mission", err)
	}
	for _, e := range out.events() {
		f.Publish(e)
	}
	f.publishState(d)
	return f.finish(d, "abort_mission", nil)
}
