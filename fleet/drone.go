package fleet

import (
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// drone is one drone's mutable state. Its fields are guarded by mu, which is
// held only for in-memory updates: never across a channel send, a publish or
// a call to the vehicle.
type drone struct {
	f   *Fleet
	id  string
	idx int // the drone's number in discovery order, from 0: subscriptions index by it
	log *slog.Logger

	mu          sync.Mutex
	st          DroneState
	key         VehicleKey
	vehicle     Vehicle
	compID      uint8
	hasExtState bool
	lastBoot    time.Duration
	// hbMono and lostAt are when (Fleet.Monotonic) the last heartbeat came
	// and the link was lost: link timeouts never use wall time.
	hbMono, lostAt time.Time

	needInit, initQueued     bool
	initAfter                time.Time
	needResync, resyncQueued bool
	homeAskedAt              time.Time // when HOME_POSITION was last asked for
	homeQueued               bool

	expectMode  string
	expectUntil time.Time

	// failsafeAt, lastFailsafe and critSince are Fleet.Monotonic times.
	failsafeAt   map[FailsafeKind]time.Time
	lastFailsafe time.Time
	critSince    time.Time

	uid     uint64 // AUTOPILOT_VERSION uid, kept across reboots (0: unknown)
	mission missionTracker
	params  map[string]Param
	texts   tokenBucket
	events  tokenBucket // of the events budgeted
	// streamsAt is when streams were last asked for; lastTelemetry when a
	// GLOBAL_POSITION_INT last came, fix or not (see checkStreams). These,
	// initAfter, homeAskedAt and expectUntil are Fleet.Monotonic times.
	streamsAt, lastTelemetry time.Time
	alerts                   map[SecurityKind]*alertState
	busy                     atomic.Bool
}

func newDrone(f *Fleet, id string, key VehicleKey, v Vehicle) *drone {
	name := id
	d := &drone{
		f:          f,
		id:         id,
		idx:        int(f.droneSeq.Add(1) - 1),
		log:        f.log.With("drone_id", id, "sys_id", key.SysID),
		key:        key,
		vehicle:    v,
		failsafeAt: make(map[FailsafeKind]time.Time),
		params:     make(map[string]Param),
		events:     tokenBucket{rate: eventRate, burst: eventBurst},
	}
	d.st = DroneState{
		ID: id, Name: name, Agency: f.agency(key.SysID), SysID: key.SysID, Link: key.Link,
		Heading: math.NaN(),
		Battery: Battery{VoltageV: math.NaN(), CurrentA: math.NaN(), RemainingPct: -1, ConsumedMAh: math.NaN()},
		GPS:     GPSState{Satellites: -1, HDOP: math.NaN()},
	}
	d.mission.reset()
	d.st.Mission = d.mission.status()
	return d
}

func (d *drone) snapshot() DroneState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

// snapshotInto copies the drone's state into dst, which the caller owns.
func (d *drone) snapshotInto(dst *DroneState) {
	d.mu.Lock()
	*dst = d.st
	d.mu.Unlock()
}

func (d *drone) currentVehicle() Vehicle {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.vehicle
}

// acceptHeartbeat reports whether a heartbeat comes from a vehicle the fleet
// tracks: not a ground station, not a component without an autopilot.
func acceptHeartbeat(hb Heartbeat) bool {
	return hb.VehicleType != vehicleTypeGCS && hb.Autopilot != AutopilotInvalid
}

// apply folds one update into the state; it reports whether the snapshot
// changed in a way subscribers should see.
func (d *drone) apply(now time.Time, u Update, out *outbox) bool {
	d.st.LastSeen = now
	switch u := u.(type) {
	case Heartbeat:
		return d.applyHeartbeat(now, u, out)
	case GlobalPosition:
		d.lastTelemetry = d.f.monoAt(now)
		d.checkBoot(now, u.TimeBoot, out)
		if !validFix(u.Lat, u.Lon) || !finite(u.AltMSL) || !finite(u.RelAlt) {
			return false
		}
		d.st.HasPosition = true
		d.st.Position = Position{Lat: u.Lat, Lon: u.Lon, RelAlt: u.RelAlt}
		d.st.AltMSL = u.AltMSL
		if finite(u.VN) && finite(u.VE) && finite(u.VD) {
			d.st.VelN, d.st.VelE, d.st.VelD = u.VN, u.VE, u.VD
			d.st.GroundSpeed = math.Hypot(u.VN, u.VE)
			d.st.Climb = -u.VD
		}
		if finite(u.HeadingDeg) {
			d.st.Heading = u.HeadingDeg
		}
		d.updateLanded(now, out)
		d.missionPosition(now, out)
		return true
	case Attitude:
		d.checkBoot(now, u.TimeBoot, out)
		d.st.Roll, d.st.Pitch, d.st.Yaw = u.Roll, u.Pitch, u.Yaw
		return true
	case SysStatus:
		d.mergeBattery(u.VoltageV, u.CurrentA, u.RemainingPct, math.NaN())
		d.st.PrearmKnown = u.SensorsPresent&sensorPrearmCheck != 0
		d.st.PrearmOK = d.st.PrearmKnown && u.SensorsHealth&sensorPrearmCheck != 0
		return true
	case Battery:
		d.mergeBattery(u.VoltageV, u.CurrentA, u.RemainingPct, u.ConsumedMAh)
		return true
	case GPSRaw:
		d.st.GPS = GPSState{FixType: u.FixType, Satellites: u.Satellites, HDOP: u.HDOP}
		return true
	case VFRHUD:
		if finite(u.Groundspeed) {
			d.st.GroundSpeed = u.Groundspeed
		}
		if finite(u.Climb) {
			d.st.Climb = u.Climb
		}
		if finite(u.HeadingDeg) {
			d.st.Heading = u.HeadingDeg
		}
		d.updateLanded(now, out)
		return true
	case Home:
		if !validFix(u.Lat, u.Lon) {
			return false
		}
		d.st.HasHome = true
		d.st.Home = u
		d.mission.homeKnown(u, d.st.Autopilot)
		return true
	case ExtendedState:
		d.hasExtState = true
		d.setLanded(now, LandedState(u.Landed), out)
		return true
	case StatusText:
		if d.texts.allow(d.f.mono()) {
			out.add(StatusTextEvent{DroneID: d.id, At: now, Severity: u.Severity, Text: u.Text})
		} else {
			d.f.stats.eventsDropped.Add(1)
			d.f.droneLog.Warn(d.log, d.id, "status texts over the rate: dropped", "per_s", textRate)
		}
		d.statusText(now, u, out)
		if isArmRefusal(u.Text) && !d.st.Armed && d.st.LastRefusal != u.Text {
			d.st.LastRefusal = u.Text
			return true
		}
		return false
	case MissionCurrent:
		return d.missionCurrent(now, u, out)
	case MissionItemReached:
		return d.missionReached(now, u.Seq, out)
	case FenceStatus:
		fence := VehicleFence{Known: true, Breached: u.Breached, Count: u.Count, BreachType: u.BreachType}
		if fence == d.st.Fence {
			return false
		}
		if !d.st.Fence.Known || fence.Breached != d.st.Fence.Breached {
			out.add(VehicleFenceChanged{DroneID: d.id, At: now, Fence: fence})
		}
		d.st.Fence = fence
		return true
	case AutopilotVersion:
		d.st.Version = VersionInfo{
			Known: true, Firmware: FirmwareString(u.FlightSW), FlightSW: u.FlightSW,
			CustomVersion: u.CustomVersion, Capabilities: u.Capabilities, UID: u.UID,
		}
		if u.UID != 0 {
			d.uid = u.UID
			if a := d.f.AgenciesByUID[u.UID]; a != "" && d.f.AgenciesByKey[d.key] == "" {
				d.st.Agency = a
			}
		}
		return true
	case ParamValue:
		if !d.acceptParam(u.Param) {
			return false
		}
		d.cacheParam(u.Param)
		return true
	case SecurityNotice:
		d.securityNotice(now, u, out)
		return false
	case LinkClosed:
		if d.st.LinkState == LinkStateUp {
			d.loseLink(now, out)
			return true
		}
		return false
	case LinkStats:
		q := LinkQuality{RateHz: u.Rate, Received: u.Received, Lost: u.Lost, ParseErrors: u.ParseErrors}
		if total := u.Received + u.Lost; total > 0 {
			q.LossPct = float64(u.Lost) * 100 / float64(total)
		}
		d.st.Quality = q
		return true
	}
	return false
}

func (d *drone) applyHeartbeat(now time.Time, hb Heartbeat, out *outbox) bool {
	if !acceptHeartbeat(hb) {
		return false
	}
	if d.compID == 0 {
		d.compID = hb.ComponentID
	} else if hb.ComponentID != d.compID {
		return false
	}
	first := d.st.LastHeartbeat.IsZero()
	mono := d.f.monoAt(now)
	d.st.LastHeartbeat, d.hbMono = now, mono
	d.st.Signed = hb.Signed
	switch {
	case first:
		d.st.LinkState = LinkStateUp
		d.needInit = true
		out.poke = true
	case d.st.LinkState == LinkStateLost:
		d.st.LinkState = LinkStateUp
		out.add(LinkRegained{DroneID: d.id, At: now, Link: d.key.Link, Down: mono.Sub(d.lostAt)})
		d.f.droneLog.Info(d.log, d.id, "link regained", "link", d.key.Link)
		d.needInit = true
		d.initAfter = time.Time{}
		if d.mission.hasPlan() {
			d.needResync = true
		}
		out.poke = true
	}
	d.st.VehicleType = hb.VehicleType
	d.st.Autopilot = hb.Autopilot

	status := hb.SystemStatus
	if !first && status != d.st.SystemStatus {
		out.add(SystemStatusChanged{DroneID: d.id, At: now, From: d.st.SystemStatus, To: status})
		if status == systemStatusBoot {
			d.rebooted(now, out)
		}
		if isCritical(status) && !isCritical(d.st.SystemStatus) && mono.Sub(d.lastFailsafe) > failsafeWindow {
			d.critSince = mono
		}
	}
	d.st.SystemStatus = status

	armed := hb.BaseMode&modeFlagArmed != 0
	if armed {
		d.st.LastRefusal = ""
	}
	if !first && armed != d.st.Armed {
		if armed {
			out.add(Armed{DroneID: d.id, At: now})
		} else {
			out.add(Disarmed{DroneID: d.id, At: now})
		}
	}
	d.st.Armed = armed

	mode := ModeName(hb.Autopilot, hb.VehicleType, hb.CustomMode)
	d.st.CustomMode = hb.CustomMode
	if first {
		d.st.Mode = mode
	} else if mode != d.st.Mode {
		commanded := d.expectMode == mode && mono.Before(d.expectUntil)
		if commanded {
			d.expectMode = ""
		}
		if commanded && d.st.Fence.Breached && fenceActionMode(hb.Autopilot, mode) {
			// The vehicle's own fence answered its breach (ArduCopter
			// switches within ~35 ms): a command for the same mode sent
			// meanwhile did not cause it.
			commanded = false
		}
		prev := d.st.Mode
		d.st.Mode = mode
		out.add(ModeChanged{DroneID: d.id, At: now, From: prev, To: mode, Commanded: commanded})
		d.missionModeChanged(now, mode, commanded, out)
	}
	d.updateLanded(now, out)
	d.missionCheckFinished(now, out)
	return true
}

// sensorPrearmCheck is SYS_STATUS's MAV_SYS_STATUS_PREARM_CHECK bit.
const sensorPrearmCheck = 0x10000000

// isArmRefusal reports whether a STATUSTEXT gives a reason the vehicle will
// not arm: ArduPilot's "PreArm: …" (periodic) and "Arm: …" (a refused arm).
func isArmRefusal(text string) bool {
	return strings.HasPrefix(text, "PreArm: ") || strings.HasPrefix(text, "Arm: ")
}

// fenceActionMode reports whether mode is one an on-board fence switches to
// (ArduPilot FENCE_ACTION: RTL, LAND, SMART_RTL, BRAKE).
func fenceActionMode(autopilot uint8, mode string) bool {
	r := modeRoleOf(autopilot, mode)
	return r == roleReturn || r == roleLand || mode == "BRAKE"
}

func isCritical(s uint8) bool { return s == systemStatusCritical || s == systemStatusEmerg }

// checkBoot detects a reboot from a vehicle boot time that went backwards.
func (d *drone) checkBoot(now time.Time, tb time.Duration, out *outbox) {
	if tb <= 0 {
		return
	}
	if d.lastBoot > 0 && tb+time.Second < d.lastBoot {
		d.rebooted(now, out)
	}
	d.lastBoot = tb
}

func (d *drone) rebooted(now time.Time, out *outbox) {
	d.f.droneLog.Info(d.log, d.id, "vehicle rebooted")
	out.add(VehicleRebooted{DroneID: d.id, At: now})
	d.needInit = true
	d.initAfter = time.Time{}
	d.st.Version = VersionInfo{}
	d.lastBoot = 0
	out.poke = true
	if d.mission.state == MissionStateRunning || d.mission.state == MissionStatePaused {
		d.interruptMission(now, InterruptFailsafe, out)
	}
}

func (d *drone) mergeBattery(v, a float64, pct int, mah float64) {
	if finite(v) {
		d.st.Battery.VoltageV = v
	}
	if finite(a) {
		d.st.Battery.CurrentA = a
	}
	if pct >= 0 {
		d.st.Battery.RemainingPct = pct
	}
	if finite(mah) {
		d.st.Battery.ConsumedMAh = mah
	}
}

// updateLanded infers the landed state when the vehicle does not send
// EXTENDED_SYS_STATE (ArduCopter only when asked): disarmed is on the ground;
// armed and above 1 m or climbing faster than 0.5 m/s is in the air; back
// below 0.5 m and nearly still is on the ground again.
func (d *drone) updateLanded(now time.Time, out *outbox) {
	if d.hasExtState {
		return
	}
	prev := d.st.Landed
	next := prev
	switch {
	case !d.st.Armed:
		next = LandedOnGround
	case !d.st.HasPosition:
	case prev.flying():
		if d.st.Position.RelAlt < 0.5 && math.Abs(d.st.Climb) < 0.3 {
			next = LandedOnGround
		}
	default:
		if d.st.Position.RelAlt > 1 || d.st.Climb > 0.5 {
			next = LandedInAir
		} else {
			next = LandedOnGround
		}
	}
	d.setLanded(now, next, out)
}

func (d *drone) setLanded(now time.Time, next LandedState, out *outbox) {
	prev := d.st.Landed
	if next == prev {
		return
	}
	d.st.Landed = next
	switch {
	case prev == LandedOnGround && next.flying():
		out.add(TookOff{DroneID: d.id, At: now})
	case prev.flying() && next == LandedOnGround:
		out.add(Landed{DroneID: d.id, At: now})
		d.missionCheckFinished(now, out)
	}
}

// failsafeKind recognises autopilot failsafe texts ("GCS Failsafe",
// "Battery 1 is low", "Polygon fence breached", "Radio Failsafe", …).
func failsafeKind(text string) FailsafeKind {
	kind, cleared := classifyFailsafe(text)
	if cleared {
		return ""
	}
	return kind
}

// classifyFailsafe returns the failsafe kind a text is about and whether it
// says the failsafe cleared ("GCS Failsafe Cleared", "Fence breach cleared").
func classifyFailsafe(text string) (kind FailsafeKind, cleared bool) {
	t := strings.ToLower(text)
	cleared = strings.Contains(t, "cleared") || strings.Contains(t, "resolved")
	return failsafeKindOf(t), cleared
}

func failsafeKindOf(t string) FailsafeKind {
	switch {
	case strings.Contains(t, "fence breach"):
		return FailsafeFence
	case strings.Contains(t, "battery") && (strings.Contains(t, "low") || strings.Contains(t, "critical") || strings.Contains(t, "failsafe")):
		return FailsafeBattery
	case !strings.Contains(t, "failsafe"):
		return ""
	case strings.Contains(t, "gcs"):
		return FailsafeGCS
	case strings.Contains(t, "radio") || strings.Contains(t, "rc "):
		return FailsafeRadio
	case strings.Contains(t, "ekf"):
		return FailsafeEKF
	case strings.Contains(t, "fence"):
		return FailsafeFence
	}
	return FailsafeOther
}

// statusText turns failsafe texts into Failsafe events. Repeats of one
// kind within failsafeRepeat are one failsafe, unless the vehicle said it
// cleared in between: a failsafe after its own "… Cleared" is a new one.
func (d *drone) statusText(now time.Time, u StatusText, out *outbox) {
	kind, cleared := classifyFailsafe(u.Text)
	if kind == "" {
		return
	}
	if cleared {
		delete(d.failsafeAt, kind)
		return
	}
	mono := d.f.mono()
	if t, ok := d.failsafeAt[kind]; ok && mono.Sub(t) < failsafeRepeat {
		return
	}
	d.failsafeAt[kind] = mono
	d.lastFailsafe = mono
	d.critSince = time.Time{}
	d.f.droneLog.Warn(d.log, d.id+"/"+string(kind), "failsafe", "kind", string(kind), "text", u.Text) // per kind
	out.add(Failsafe{DroneID: d.id, At: now, Kind: kind, Mode: d.st.Mode, Text: u.Text})
	d.missionFailsafe(now, out)
}

// tick runs the scheduler's periodic checks for this drone.
func (d *drone) tick(now time.Time, out *outbox) bool {
	changed := false
	mono := d.f.mono()
	if d.st.LinkState == LinkStateUp && mono.Sub(d.hbMono) > d.f.LinkTimeout {
		d.loseLink(now, out)
		changed = true
	}
	if d.st.LinkState == LinkStateLost && len(d.params) > 0 && mono.Sub(d.lostAt) > paramForgetAfter {
		clear(d.params)
		d.st.Params = 0
		changed = true
	}
	if !d.critSince.IsZero() && mono.Sub(d.critSince) >= failsafeWindow {
		d.critSince = time.Time{}
		if mono.Sub(d.lastFailsafe) > 2*failsafeWindow {
			d.lastFailsafe = mono
			d.f.droneLog.Warn(d.log, d.id+"/"+string(FailsafeOther), "failsafe", "kind", string(FailsafeOther))
			out.add(Failsafe{DroneID: d.id, At: now, Kind: FailsafeOther, Mode: d.st.Mode})
			d.missionFailsafe(now, out)
		}
	}
	if d.mission.tickInterrupt(mono) {
		d.interruptMission(now, InterruptModeChange, out)
		changed = true
	}
	return changed
}

// loseLink marks the link lost.
func (d *drone) loseLink(now time.Time, out *outbox) {
	d.st.LinkState = LinkStateLost
	d.lostAt = d.f.mono()
	d.f.droneLog.Warn(d.log, d.id, "link lost", "link", d.key.Link, "last_heartbeat", d.st.LastHeartbeat)
	out.add(LinkLost{DroneID: d.id, At: now, LastHeartbeat: d.st.LastHeartbeat})
	if d.mission.state == MissionStateRunning || d.mission.state == MissionStatePaused {
		d.interruptMission(now, InterruptLinkLost, out)
	}
}

// pendingJobs marks and returns the background work due for this drone.
func (d *drone) pendingJobs(now time.Time) []jobKind {
	if d.st.LinkState != LinkStateUp {
		return nil
	}
	mono := d.f.mono()
	d.checkStreams(mono)
	var jobs []jobKind
	if d.needInit && !d.initQueued && !mono.Before(d.initAfter) {
		d.needInit, d.initQueued = false, true
		jobs = append(jobs, jobInit)
	}
	if d.needResync && !d.resyncQueued {
		d.needResync, d.resyncQueued = false, true
		jobs = append(jobs, jobResync)
	}
	// A vehicle with a fix has a home: ask for it when it was missed (ArduPilot
	// sends HOME_POSITION unasked only when home is set, perhaps before the
	// fleet heard its first heartbeat), at most every homeAskInterval.
	if d.st.HasPosition && !d.st.HasHome && !d.homeQueued && mono.Sub(d.homeAskedAt) >= homeAskInterval {
		d.homeQueued, d.homeAskedAt = true, mono
		jobs = append(jobs, jobHome)
	}
	return jobs
}

// homeAskInterval spaces out requests for a missing HOME_POSITION.
const homeAskInterval = 5 * time.Second

// unqueue puts back a job that did not fit in the queue.
func (d *drone) unqueue(k jobKind) {
	switch k {
	case jobInit:
		d.needInit, d.initQueued = true, false
	case jobResync:
		d.needResync, d.resyncQueued = true, false
	case jobHome:
		d.homeQueued, d.homeAskedAt = false, time.Time{}
	}
}

// expect records that the fleet asked for mode, so the coming mode change
// is not taken as someone else's. The window is measured with
// Fleet.Monotonic; now is unused.
func (d *drone) expect(_ time.Time, mode string) {
	d.mu.Lock()
	d.expectMode = mode
	d.expectUntil = d.f.mono().Add(expectModeWindow)
	d.mu.Unlock()
}

func (d *drone) cacheParam(p Param) {
	if old, ok := d.params[p.Name]; ok && p.Index < 0 {
		p.Index = old.Index
		if p.Count == 0 {
			p.Count = old.Count
		}
	}
	d.params[p.Name] = p
	d.st.Params = len(d.params)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// validFix reports whether lat, lon is a real position: finite, in range,
// and not the 0,0 ArduCopter reports before its first fix.
func validFix(lat, lon float64) bool {
	if !finite(lat) || !finite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return false
	}
	return math.Abs(lat) > 1e-7 || math.Abs(lon) > 1e-7
}
