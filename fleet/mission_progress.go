package fleet

import (
	"math"
	"time"
)

// MissionState is where a drone's mission stands, as the fleet tracks it.
type MissionState int

// Mission states.
const (
	// MissionStateNone means the fleet knows no mission plan for the drone.
	MissionStateNone MissionState = iota
	// MissionStateReady means a plan is on the drone and not being flown.
	MissionStateReady
	// MissionStateRunning means the drone flies the plan (AUTO).
	MissionStateRunning
	// MissionStatePaused means the fleet paused the plan and holds the drone.
	MissionStatePaused
	// MissionStateFinished means the drone completed the plan.
	MissionStateFinished
	// MissionStateInterrupted means the plan stopped before its end (see
	// MissionStatus.Reason).
	MissionStateInterrupted
)

// String returns the state's snake_case name.
func (s MissionState) String() string {
	switch s {
	case MissionStateNone:
		return "none"
	case MissionStateReady:
		return "ready"
	case MissionStateRunning:
		return "running"
	case MissionStatePaused:
		return "paused"
	case MissionStateFinished:
		return "finished"
	case MissionStateInterrupted:
		return "interrupted"
	}
	return "unknown"
}

// MissionStatus is a drone's mission progress.
//
// Progress follows the route the plan will really fly: DO_JUMPs are unrolled
// with their repeat counts (up to 10,000 steps), and a step is one visit of a
// navigation item. Counts and distance never go backwards while the drone
// follows the plan, so a DO_JUMP back to an earlier item moves progress on,
// not back. Only a jump the plan does not predict (an operator setting the
// current item) moves it back. A DO_JUMP that repeats forever (repeat -1)
// makes the route one lap: Looping is set, Laps counts completed laps, and
// Percent restarts at each lap.
type MissionStatus struct {
	State MissionState
	// MissionID names the uploaded (or downloaded) plan.
	MissionID string
	// Items is the number of items in the plan (seq 0 included).
	Items int
	// CurrentSeq is the navigation item being flown (-1 when unknown).
	CurrentSeq int
	// Done and Steps count the route's steps completed and in total.
	Done, Steps int
	// Distance is the route length in metres (3D; one lap when looping);
	// Flown and Remaining split it.
	Distance, Flown, Remaining float64
	// Percent is Flown/Distance as 0..100.
	Percent float64
	// ETA is Remaining at the current ground speed, -1 when unknown.
	ETA time.Duration
	// Looping is set for a plan with an endless DO_JUMP; Laps counts laps.
	Looping bool
	Laps    int
	// PausedSeq is the item a paused mission will resume at.
	PausedSeq int
	// Reason says why an interrupted mission stopped.
	Reason InterruptReason
}

const maxRouteSteps = 10000

// routeStep is one visit of a navigation item along the unrolled route.
type routeStep struct {
	seq           int
	lat, lon, alt float64 // alt relative to home
	length        float64 // of the leg that reaches this step
	cum           float64 // route distance at the end of this step
}

// missionTracker follows one drone's mission. It belongs to the drone and is
// guarded by the drone's lock.
type missionTracker struct {
	id          string
	items       []MissionItem
	ardupilot   bool
	route       []routeStep
	loopStart   int
	builtHome   bool
	state       MissionState
	cursor      int
	reached     bool
	flown       float64
	laps        int
	vehicleSeq  int
	pausedSeq   int
	reason      InterruptReason
	interruptAt time.Time // Fleet.Monotonic, as lastReport
	lastReport  time.Time
	eta         time.Duration
	adoptTried  bool
	// vehicleState is the last MISSION_CURRENT mission_state (0 unknown).
	vehicleState uint8
	// resynced is set on a plan read from the vehicle (a re-sync after a
	// restart or a regained link, a plan the fleet did not know): the
	// first MISSION_CURRENT that follows says whether the vehicle completed
	// or paused it while the fleet was not following.
	resynced bool
	// The starting phase (see StartMission, "Reports before the start is
	// acknowledged"): starting counts the StartMission calls past their
	// first command that may start the mission and not yet returned;
	// autoSeen is set once a heartbeat in the mission mode came during
	// the phase (or the drone was in it when the phase began); runs counts
	// the runs begun (startRun), so a start knows whether the vehicle's
	// reports began one meanwhile; startMode is the drone's mode when the
	// phase began. They survive reset: a plan loaded during a start does
	// not end the phase.
	starting  int
	autoSeen  bool
	runs      int
	startMode string
}

func (m *missionTracker) reset() {
	starting, autoSeen, runs, startMode := m.starting, m.autoSeen, m.runs, m.startMode
	*m = missionTracker{loopStart: -1, vehicleSeq: -1, pausedSeq: -1, eta: -1}
	m.starting, m.autoSeen, m.runs, m.startMode = starting, autoSeen, runs, startMode
}

// beforeAuto reports whether a heartbeat in mode may be one sent before
// the start's AUTO took: in a starting phase with no heartbeat in the
// mission mode yet, the mode the phase began in or GUIDED (which the start
// sets to arm; its heartbeat may come after AUTO was sent). A return or
// landing mode is not (a failsafe may answer AUTO at once).
func (m *missionTracker) beforeAuto(autopilot uint8, mode string) bool {
	return m.starting > 0 && !m.autoSeen && (mode == m.startMode || modeRoleOf(autopilot, mode) == roleGuided)
}

// startingRun reports whether a report of the vehicle flying the plan
// begins a run now: a start is in its starting phase and no run goes on.
func (m *missionTracker) startingRun() bool {
	return m.starting > 0 && m.state != MissionStateRunning && m.hasPlan()
}

func (m *missionTracker) hasPlan() bool { return m.items != nil }

// load takes a new plan and restarts progress.
func (m *missionTracker) load(id string, items []MissionItem, autopilot uint8, home Home, hasHome bool) {
	m.reset()
	m.id = id
	m.items = items
	m.ardupilot = autopilot == AutopilotArduPilot
	m.route, m.loopStart = buildRoute(items, m.ardupilot, home, hasHome, nil)
	m.builtHome = hasHome
	m.state = MissionStateReady
}

// restart keeps the plan and starts progress again from its beginning.
func (m *missionTracker) restart() {
	m.cursor, m.reached, m.flown, m.laps = 0, false, 0, 0
	m.reason, m.interruptAt, m.eta = "", time.Time{}, -1
}

// startFrom restarts progress with the route's first leg from where the
// drone is (st's position), not from home: AUTO may start in the air, far
// from home. Without a position the route stays as built.
func (m *missionTracker) startFrom(st *DroneState) {
	m.restart()
	if !m.hasPlan() || !st.HasPosition {
		return
	}
	from := st.Position
	m.route, m.loopStart = buildRoute(m.items, m.ardupilot, st.Home, st.HasHome, &from)
	m.builtHome = st.HasHome
}

// homeKnown rebuilds a route that was built without a home position.
func (m *missionTracker) homeKnown(h Home, autopilot uint8) {
	if m.hasPlan() && !m.builtHome && m.state == MissionStateReady {
		m.route, m.loopStart = buildRoute(m.items, autopilot == AutopilotArduPilot, h, true, nil)
		m.builtHome = true
	}
}

func (m *missionTracker) total() float64 {
	if len(m.route) == 0 {
		return 0
	}
	return m.route[len(m.route)-1].cum
}

func (m *missionTracker) currentSeq() int {
	if len(m.route) == 0 {
		return m.vehicleSeq
	}
	return m.route[m.cursor].seq
}

// flyingSeq is the navigation item the drone flies now, where a pause
// holds and a resume goes back to. Once the tracked step is reached the
// drone flies the next one, although MISSION_CURRENT (which ArduCopter
// updates 0.05–0.2 s after MISSION_ITEM_REACHED) may still show the old
// item; while the mission runs MISSION_CURRENT moves the step, so a reached
// step means the next one. Otherwise (interrupted or paused, when
// MISSION_CURRENT is not followed) the vehicle's own report wins.
func (m *missionTracker) flyingSeq() int {
	cur := m.currentSeq()
	next := -1
	if m.reached && m.cursor+1 < len(m.route) {
		next = m.route[m.cursor+1].seq
	}
	switch {
	case next >= 0 && (m.state == MissionStateRunning || m.vehicleSeq <= 0 || m.vehicleSeq == cur):
		return next
	case m.vehicleSeq > 0:
		return m.vehicleSeq
	}
	return cur
}

func (m *missionTracker) allDone() bool {
	return len(m.route) > 0 && m.loopStart < 0 && m.reached && m.cursor == len(m.route)-1
}

func (m *missionTracker) status() MissionStatus {
	s := MissionStatus{
		State: m.state, MissionID: m.id, Items: len(m.items), CurrentSeq: -1,
		Steps: len(m.route), ETA: m.eta, Looping: m.loopStart >= 0, Laps: m.laps,
		PausedSeq: m.pausedSeq, Reason: m.reason,
	}
	if !m.hasPlan() {
		s.ETA = -1
		return s
	}
	s.CurrentSeq = m.currentSeq()
	s.Done = m.cursor
	if m.reached {
		s.Done++
	}
	s.Distance = m.total()
	s.Flown = math.Min(m.flown, s.Distance)
	if m.state == MissionStateFinished {
		s.Done, s.Flown, s.ETA = len(m.route), s.Distance, 0
	}
	s.Remaining = s.Distance - s.Flown
	switch {
	case s.Distance > 0:
		s.Percent = 100 * s.Flown / s.Distance
	case s.Steps > 0:
		s.Percent = 100 * float64(s.Done) / float64(s.Steps)
	}
	if s.Percent > 100 || m.state == MissionStateFinished {
		s.Percent = 100
	}
	return s
}

// advance moves the cursor to step j, never lowering the distance flown.
func (m *missionTracker) advance(j int) {
	m.cursor, m.reached = j, false
	m.flown = math.Max(m.flown, m.route[j].cum-m.route[j].length)
}

// moveBack moves the cursor back to step j (a new lap, or a jump the plan
// did not predict): the distance flown restarts there.
func (m *missionTracker) moveBack(j int) {
	m.cursor, m.reached = j, false
	m.flown = m.route[j].cum - m.route[j].length
}

// seek finds the step for navigation item seq: the next one ahead, else (for
// an endless loop) the same item in the next lap, else the closest one
// behind. It reports whether the cursor moved.
func (m *missionTracker) seek(seq int, allowBack bool) bool {
	if len(m.route) == 0 || m.route[m.cursor].seq == seq {
		return false
	}
	for j := m.cursor + 1; j < len(m.route); j++ {
		if m.route[j].seq == seq {
			m.advance(j)
			return true
		}
	}
	if m.loopStart >= 0 {
		for j := m.loopStart; j < len(m.route); j++ {
			if m.route[j].seq == seq {
				m.laps++
				m.moveBack(j)
				return true
			}
		}
	}
	if allowBack {
		for j := m.cursor - 1; j >= 0; j-- {
			if m.route[j].seq == seq {
				m.moveBack(j)
				return true
			}
		}
	}
	return false
}

// locate follows MISSION_CURRENT: seq is the navigation item being flown.
func (m *missionTracker) locate(seq int) bool { return m.seek(seq, true) }

// navFor maps a MISSION_ITEM_REACHED seq onto the navigation item reached:
// ArduCopter reports the seq of the DO item that follows a waypoint instead
// of the waypoint's own.
func (m *missionTracker) navFor(seq int) int {
	if seq < 0 || seq >= len(m.items) {
		return -1
	}
	k := seq
	for k >= 0 && !m.items[k].Command.IsNav() {
		k--
	}
	if k == 0 && m.ardupilot {
		return -1
	}
	return k
}

// reach marks navigation item nav reached.
func (m *missionTracker) reach(nav int) bool {
	if len(m.route) == 0 {
		return false
	}
	if m.route[m.cursor].seq != nav && !m.seek(nav, false) {
		return false
	}
	if m.reached {
		return false
	}
	m.reached = true
	m.flown = math.Max(m.flown, m.route[m.cursor].cum)
	return true
}

// position updates the distance flown along the current leg.
func (m *missionTracker) position(p Position, groundSpeed float64) {
	if len(m.route) == 0 {
		return
	}
	s := m.route[m.cursor]
	f := s.cum
	if !m.reached {
		in := s.length - dist3(p.Lat, p.Lon, p.RelAlt, s.lat, s.lon, s.alt)
		f = s.cum - s.length + math.Max(0, math.Min(in, s.length))
	}
	m.flown = math.Max(m.flown, f)
	if groundSpeed > 0.5 {
		m.eta = time.Duration((m.total() - math.Min(m.flown, m.total())) / groundSpeed * float64(time.Second))
	} else {
		m.eta = -1
	}
}

func (m *missionTracker) tickInterrupt(mono time.Time) bool {
	if m.interruptAt.IsZero() || mono.Sub(m.interruptAt) < failsafeWindow {
		return false
	}
	m.interruptAt = time.Time{}
	return m.state == MissionStateRunning
}

// buildRoute unrolls a plan into the steps it will fly. ArduPilot's seq 0 is
// home and not flown. The route starts at from, where the drone is when the
// mission starts, else at home (or, unknown, the first positioned item). It
// returns the steps and, for an endless DO_JUMP, the index of the first
// step of the loop (else -1).
func buildRoute(items []MissionItem, ardupilot bool, home Home, hasHome bool, from *Position) ([]routeStep, int) {
	start := 0
	if ardupilot {
		start = 1
	}
	var hLat, hLon, hAMSL float64
	have := false
	switch {
	case hasHome:
		hLat, hLon, hAMSL, have = home.Lat, home.Lon, home.AltMSL, true
	case ardupilot && len(items) > 0 && validFix(items[0].Lat, items[0].Lon):
		hLat, hLon, hAMSL, have = items[0].Lat, items[0].Lon, items[0].Alt, true
	}
	pLat, pLon, pAlt := hLat, hLon, 0.0
	if from != nil && validFix(from.Lat, from.Lon) {
		pLat, pLon, pAlt = from.Lat, from.Lon, from.RelAlt
		if !have {
			hLat, hLon, have = from.Lat, from.Lon, true
		}
	}
	var route []routeStep
	jumps := map[int]int{}
	loopStart := -1
	cum := 0.0
	for i := start; i < len(items) && len(route) < maxRouteSteps; {
		it := items[i]
		if it.Command == CmdDoJump {
			target, repeat := int(it.Param1), int(it.Param2)
			if target < start || target >= len(items) || target == i {
				i++
				continue
			}
			if repeat < 0 {
				k := target
				for k < len(items) && !items[k].Command.IsNav() {
					k++
				}
				for j := len(route) - 1; j >= 0; j-- {
					if route[j].seq == k {
						loopStart = j
						break
					}
				}
				break
			}
			if jumps[i] < repeat {
				jumps[i]++
				i = target
			} else {
				i++
			}
			continue
		}
		if !it.Command.IsNav() {
			i++
			continue
		}
		lat, lon, alt := it.Lat, it.Lon, it.Alt
		if !validFix(lat, lon) {
			lat, lon = pLat, pLon
		}
		if it.Frame == FrameGlobal {
			alt -= hAMSL
		}
		extra := 0.0
		switch it.Command {
		case CmdNavReturnToLaunch:
			lat, lon, alt = hLat, hLon, 0
		case CmdNavLand:
			alt = 0
		case CmdNavLoiterTurns:
			extra = 2 * math.Pi * math.Abs(it.Param3) * math.Max(0, it.Param1)
		}
		if !have {
			pLat, pLon, pAlt, hLat, hLon, have = lat, lon, alt, lat, lon, true
		}
		var length float64
		if it.Command == CmdNavReturnToLaunch || it.Command == CmdNavLand {
			length = haversine(pLat, pLon, lat, lon) + math.Abs(pAlt-alt)
		} else {
			length = dist3(pLat, pLon, pAlt, lat, lon, alt) + extra
		}
		cum += length
		route = append(route, routeStep{seq: i, lat: lat, lon: lon, alt: alt, length: length, cum: cum})
		pLat, pLon, pAlt = lat, lon, alt
		i++
	}
	return route, loopStart
}

const earthRadius = 6371008.8

func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

func dist3(lat1, lon1, alt1, lat2, lon2, alt2 float64) float64 {
	return math.Hypot(haversine(lat1, lon1, lat2, lon2), alt2-alt1)
}

// Drone-side hooks, called with the drone's lock held.

func (d *drone) syncMission() { d.st.Mission = d.mission.status() }

func (d *drone) progressEvent(now time.Time, out *outbox) {
	d.mission.lastReport = d.f.mono()
	out.add(MissionProgress{DroneID: d.id, At: now, Status: d.st.Mission})
}

func (d *drone) missionPosition(now time.Time, out *outbox) {
	m := &d.mission
	if m.state != MissionStateRunning {
		return
	}
	m.position(d.st.Position, d.st.GroundSpeed)
	d.syncMission()
	if d.f.mono().Sub(m.lastReport) >= progressInterval {
		d.progressEvent(now, out)
	}
}

func (d *drone) missionCurrent(now time.Time, u MissionCurrent, out *outbox) bool {
	m := &d.mission
	m.vehicleSeq = u.Seq
	m.vehicleState = u.State
	if !m.hasPlan() {
		// With KnownMission a held plan (not started, paused, complete) is
		// read too: it may be the one the server stored before a restart.
		held := d.f.KnownMission != nil && u.State >= missionStateNotStarted && u.State <= missionStateComplete
		if (u.State == missionStateActive || held) && !m.adoptTried {
			// A mission runs that the fleet does not know (the server
			// restarted, or another ground station uploaded it): read it.
			m.adoptTried = true
			d.needResync = true
			out.poke = true
		}
		return false
	}
	inAuto := modeRoleOf(d.st.Autopilot, d.st.Mode) == roleMission
	if m.resynced && u.State != 0 {
		m.resynced = false
		if d.missionResynced(now, u, out) {
			return true
		}
	}
	if m.startingRun() && (u.State == missionStateActive || (u.State == 0 && inAuto)) {
		// The start's AUTO took before the fleet saw its heartbeat or the
		// acks: the mission runs from the item reported.
		d.startRun(now, out)
		m.locate(u.Seq)
		d.syncMission()
		d.progressEvent(now, out)
		return true
	}
	switch {
	case u.State == 5:
		if m.state == MissionStateRunning {
			d.finishMission(now, out)
			return true
		}
		return false
	case u.State == 3 || (u.State == 0 && inAuto):
		switch m.state {
		case MissionStateReady, MissionStateFinished:
			if !inAuto {
				return false
			}
			d.startRun(now, out)
			m.locate(u.Seq)
			d.syncMission()
			d.progressEvent(now, out)
			return true
		case MissionStateInterrupted:
			if !inAuto || m.reason == InterruptAborted {
				return false
			}
			m.state, m.reason = MissionStateRunning, ""
			m.locate(u.Seq)
			out.add(MissionResumed{DroneID: d.id, At: now, MissionID: m.id, Seq: m.currentSeq()})
			d.syncMission()
			d.progressEvent(now, out)
			return true
		case MissionStateRunning:
			if m.locate(u.Seq) {
				d.syncMission()
				d.progressEvent(now, out)
				return true
			}
		}
	}
	return false
}

// missionResynced takes the state of a plan just read from the vehicle
// from the vehicle's first MISSION_CURRENT: a plan it completed is
// finished (MissionFinished), one it stopped part-way (ArduPilot's
// MISSION_STATE_PAUSED: out of AUTO with a current item, which AUTO
// resumes) is paused at the item it reports while the drone is armed, and
// interrupted (mode_change, MissionInterrupted) once it is disarmed: it
// left AUTO and landed. A plan not started stays ready, and one being
// flown (ACTIVE) starts running as usual.
func (d *drone) missionResynced(now time.Time, u MissionCurrent, out *outbox) bool {
	m := &d.mission
	if m.state != MissionStateReady {
		return false
	}
	switch u.State {
	case missionStateComplete:
		d.log.Info("re-synced mission completed on the vehicle", "mission_id", m.id)
		d.finishMission(now, out)
		return true
	case missionStatePaused:
		if len(m.route) == 0 {
			return false
		}
		m.locate(u.Seq)
		if !d.st.Armed {
			d.interruptMission(now, InterruptModeChange, out)
			d.progressEvent(now, out)
			return true
		}
		m.state = MissionStatePaused
		m.pausedSeq = m.currentSeq()
		if u.Seq > 0 {
			m.pausedSeq = u.Seq // the vehicle's own item wins, as in flyingSeq
		}
		d.syncMission()
		d.log.Info("re-synced mission paused on the vehicle", "mission_id", m.id, "seq", m.pausedSeq)
		d.progressEvent(now, out)
		return true
	}
	return false
}

func (d *drone) missionReached(now time.Time, seq int, out *outbox) bool {
	m := &d.mission
	nav := m.navFor(seq)
	if nav < 0 {
		return false
	}
	started := false
	if m.state != MissionStateRunning {
		if !m.startingRun() {
			return false
		}
		// A drone already on the item reports it reached as AUTO begins,
		// before the start's acks (see StartMission).
		d.startRun(now, out)
		started = true
	}
	if !m.reach(nav) {
		if started {
			d.syncMission()
			d.progressEvent(now, out)
		}
		return started
	}
	out.add(MissionItemReachedEvent{DroneID: d.id, At: now, MissionID: m.id, Seq: nav, Reported: seq})
	d.syncMission()
	d.progressEvent(now, out)
	d.missionCheckFinished(now, out)
	return true
}

// missionModeChanged decides what a mode change means for a running mission.
func (d *drone) missionModeChanged(now time.Time, mode string, commanded bool, out *outbox) {
	m := &d.mission
	if modeRoleOf(d.st.Autopilot, mode) == roleMission {
		m.interruptAt = time.Time{}
		if m.starting > 0 {
			m.autoSeen = true
		}
		return
	}
	if m.state != MissionStateRunning {
		return
	}
	if m.beforeAuto(d.st.Autopilot, mode) {
		// A heartbeat from before the start's AUTO took, after the
		// vehicle's reports began the run: not a mode change that
		// interrupts it.
		return
	}
	switch {
	case m.allDone():
		d.finishMission(now, out)
	case commanded:
		d.interruptMission(now, InterruptModeChange, out)
	case isCritical(d.st.SystemStatus) || d.f.mono().Sub(d.lastFailsafe) < failsafeWindow:
		d.interruptMission(now, InterruptFailsafe, out)
	default:
		// Wait a moment for a failsafe text to say why.
		m.interruptAt = d.f.mono()
	}
}

func (d *drone) missionFailsafe(now time.Time, out *outbox) {
	m := &d.mission
	if m.state == MissionStateRunning && !m.interruptAt.IsZero() {
		d.interruptMission(now, InterruptFailsafe, out)
	}
}

func (d *drone) missionCheckFinished(now time.Time, out *outbox) {
	m := &d.mission
	if m.state == MissionStateRunning && m.allDone() && (!d.st.Armed || d.st.Landed == LandedOnGround) {
		d.finishMission(now, out)
	}
}

// startRun begins a run of the plan, with progress from the start and the
// route's first leg from where the drone is (MissionStarted). The caller
// syncs the status.
func (d *drone) startRun(now time.Time, out *outbox) {
	m := &d.mission
	m.startFrom(&d.st)
	m.state = MissionStateRunning
	m.runs++
	d.log.Info("mission started", "mission_id", m.id)
	out.add(MissionStarted{DroneID: d.id, At: now, MissionID: m.id})
}

func (d *drone) finishMission(now time.Time, out *outbox) {
	m := &d.mission
	m.state = MissionStateFinished
	m.interruptAt = time.Time{}
	m.eta = 0
	d.syncMission()
	d.log.Info("mission finished", "mission_id", m.id)
	out.add(MissionFinished{DroneID: d.id, At: now, MissionID: m.id})
	d.progressEvent(now, out)
}

func (d *drone) interruptMission(now time.Time, reason InterruptReason, out *outbox) {
	m := &d.mission
	m.state = MissionStateInterrupted
	m.reason = reason
	m.interruptAt = time.Time{}
	d.syncMission()
	d.log.Warn("mission interrupted", "mission_id", m.id, "reason", string(reason), "mode", d.st.Mode)
	out.add(MissionInterrupted{DroneID: d.id, At: now, MissionID: m.id, Reason: reason, Mode: d.st.Mode, Seq: m.currentSeq()})
}
