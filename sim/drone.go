package sim

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Copter flight modes (HEARTBEAT custom_mode), as ArduCopter numbers them.
const (
	ModeStabilize uint32 = 0
	ModeAltHold   uint32 = 2
	ModeAuto      uint32 = 3
	ModeGuided    uint32 = 4
	ModeLoiter    uint32 = 5
	ModeRTL       uint32 = 6
	ModeLand      uint32 = 9
	ModePosHold   uint32 = 16
	ModeBrake     uint32 = 17
)

// ModeName returns ArduCopter's name for a copter mode ("GUIDED"), or
// "MODE(n)" for one the simulator does not fly.
func ModeName(m uint32) string {
	switch m {
	case ModeStabilize:
		return "STABILIZE"
	case ModeAltHold:
		return "ALT_HOLD"
	case ModeAuto:
		return "AUTO"
	case ModeGuided:
		return "GUIDED"
	case ModeLoiter:
		return "LOITER"
	case ModeRTL:
		return "RTL"
	case ModeLand:
		return "LAND"
	case ModePosHold:
		return "POSHOLD"
	case ModeBrake:
		return "BRAKE"
	}
	return fmt.Sprintf("MODE(%d)", m)
}

func knownMode(m uint32) bool { return ModeName(m)[0] != 'M' || m == 0 }

// DroneSnapshot is a copy of a drone's true state (not what it reports: no
// GPS noise, no link faults).
type DroneSnapshot struct {
	// SysID is the system id the drone uses now.
	SysID uint8
	// SimTime is the simulated time since power-on.
	SimTime time.Duration
	// Lat, Lon are degrees; AltMSL metres above sea level; RelAlt metres
	// above home.
	Lat, Lon, AltMSL, RelAlt float64
	// VN, VE, VU are the velocity over ground, m/s (VU up).
	VN, VE, VU float64
	// Heading is degrees clockwise from north.
	Heading float64
	// Mode is the copter mode number (ModeGuided, …).
	Mode uint32
	// Armed is the motors' armed state.
	Armed bool
	// Landed is true on the ground.
	Landed bool
	// SystemStatus is the MAV_STATE the heartbeat carries.
	SystemStatus uint8
	// PositionOK is true once the GPS has a fix and the EKF uses it.
	PositionOK bool
	// Home is the home position (set when the EKF origin is set and at arming).
	Home Home
	// HomeSet is true once Home is valid.
	HomeSet bool
	// BatteryVoltage is volts; BatteryRemaining 0..100 %.
	BatteryVoltage, BatteryRemaining float64
	// GCSFailsafe is true while the GCS failsafe is active.
	GCSFailsafe bool
	// MissionCount is the number of mission items including seq 0 home;
	// MissionSeq the current one.
	MissionCount, MissionSeq int
	// FenceEnabled, FenceBreached describe the on-board fence.
	FenceEnabled, FenceBreached bool
	// Linked is true while the drone's socket is up (see Drone.Stop).
	Linked bool
}

// Drone is one simulated multicopter with its own MAVLink system id and
// socket: a gomavlib node of its own, or, for udpout drones, a socket in the
// swarm's hub (see hub).
// Its methods are safe for concurrent use.
type Drone struct {
	swarm *Swarm
	index int
	spec  endpointSpec
	log   *slog.Logger
	sig   droneSigning // MAVLink 2 signing (see drone_signing.go)
	rejectedCounter

	// linkMu serialises Start, Stop and sysid changes.
	linkMu sync.Mutex

	mu sync.Mutex // guards everything below
	v  vehicle
}

// vehicle is the whole state of one drone; its owner is Drone.mu.
type vehicle struct {
	d         *Drone
	sysid     uint8
	baseSysID uint8
	node      *gomavlib.Node
	udp       *udpLink // the drone's socket in the swarm's hub, instead of node
	loopDone  chan struct{}
	addr      string

	// link faults and queues
	faults   Faults
	cutUntil time.Time
	linkRNG  *rand.Rand
	physRNG  *rand.Rand
	out      []message.Message
	delayed  []timedMsg
	inbox    []timedIn
	now      time.Time // wall time of the current activity
	dropped  uint64

	// clocks
	started  bool
	lastWall time.Time
	sim      time.Duration
	acc      float64

	// configuration from the swarm
	bootDelay     time.Duration
	streamUnasked bool
	gpsNoise      bool

	p       *params
	m       model
	origin  Home       // the local frame's origin (power-on home)
	home    [3]float64 // home in local N, E, U
	homeSet bool

	// boot milestones
	bootStage                       int
	readyAt, fixAt, originAt, ekfAt time.Duration

	// flight state
	mode     uint32
	armed    bool
	airborne bool
	// armedUs and takeoffUs are FLIGHT_INFORMATION's times (µs since
	// boot, 0 before); flights counts the arms.
	armedUs, takeoffUs, flights uint64
	landedSince                 time.Duration // sim time the vehicle was last seen landed while armed, -1 if not
	tgt                         target
	horizTarget                 bool
	takeoff                     bool
	speed                       float64 // horizontal speed override m/s, 0 = WPNAV_SPEED
	rtlStage                    int
	rtlAlt                      float64
	holdUntil                   time.Duration
	landN, landE                float64
	noiseN, noiseE              float64

	// failsafes
	gcsSeen    bool
	lastGCS    time.Time
	gcsFS      bool
	battLowAt  time.Duration
	battFS     int // 0 none, 1 low, 2 critical
	gpsLostAt  time.Duration
	ekfFS      bool
	lastPreArm time.Duration

	// link timers (wall)
	nextHB       time.Time
	nextTimesync time.Time
	streams      map[uint32]*stream
	// uid is AUTOPILOT_VERSION's uid, unique to this simulated drone.
	uid        uint64
	paramQueue []int
	lastCmd    cmdRecord

	mis missionState
	fen fenceState
}

type target struct {
	valid   bool
	n, e, u float64
}

type timedMsg struct {
	due time.Time
	msg message.Message
}

type timedIn struct {
	due           time.Time
	sysid, compid uint8
	msg           message.Message
}

// SysID returns the system id the drone uses now.
func (d *Drone) SysID() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.v.sysid
}

// Index returns the drone's position in the swarm, from 0.
func (d *Drone) Index() int { return d.index }

// Addr returns the address the drone listens on (tcpin:/udp: endpoints),
// with the actual port when 0 was asked for, or the address it sends to
// (udpout:/tcp:). It is "" while the drone is stopped.
func (d *Drone) Addr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.v.addr
}

// State returns a copy of the drone's true state.
func (d *Drone) State() DroneSnapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := &d.v
	lat, lon := offset(v.origin.Lat, v.origin.Lon, v.m.N, v.m.E)
	hLat, hLon := offset(v.origin.Lat, v.origin.Lon, v.home[0], v.home[1])
	hdg := v.m.Yaw * 180 / math.Pi
	if hdg < 0 {
		hdg += 360
	}
	return DroneSnapshot{
		SysID: v.sysid, SimTime: v.sim,
		Lat: lat, Lon: lon, AltMSL: v.origin.Alt + v.m.U, RelAlt: v.m.U - v.home[2],
		VN: v.m.VN, VE: v.m.VE, VU: v.m.VU, Heading: hdg,
		Mode: v.mode, Armed: v.armed, Landed: v.m.Landed, SystemStatus: uint8(v.systemStatus()),
		PositionOK: v.positionOK(),
		Home:       Home{Lat: hLat, Lon: hLon, Alt: v.origin.Alt + v.home[2]}, HomeSet: v.homeSet,
		BatteryVoltage: v.m.voltage(), BatteryRemaining: v.m.remaining() * 100,
		GCSFailsafe:  v.gcsFS,
		MissionCount: len(v.mis.items[0]), MissionSeq: v.mis.current,
		FenceEnabled: v.fen.enabled, FenceBreached: v.fen.breached,
		Linked: v.node != nil || v.udp != nil,
	}
}

// Faults returns the drone's fault knobs.
func (d *Drone) Faults() Faults {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.v.faults
}

// SetFaults replaces the drone's fault knobs. A changed SysID restarts the
// drone's socket with the new system id.
func (d *Drone) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	d.mu.Lock()
	old := d.v.faults.SysID
	d.v.faults = f
	d.v.m.Drain = f.DrainFactor
	restart := old != f.SysID && (d.v.node != nil || d.v.udp != nil)
	d.mu.Unlock()
	if restart {
		d.Stop()
		return d.Start()
	}
	return nil
}

// SetLoss sets the fraction (0..1) of messages dropped out of and into the drone.
func (d *Drone) SetLoss(out, in float64) error {
	f := d.Faults()
	f.LossOut, f.LossIn = out, in
	return d.SetFaults(f)
}

// SetLatency sets the delay added to each message each way, plus a random
// jitter in [0, jitter).
func (d *Drone) SetLatency(latency, jitter time.Duration) error {
	f := d.Faults()
	f.Latency, f.Jitter = latency, jitter
	return d.SetFaults(f)
}

// CutLink drops every message both ways for the wall-clock duration dur,
// keeping the socket open.
func (d *Drone) CutLink(dur time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.v.cutUntil = time.Now().Add(dur)
}

// SetGPSLost makes the GPS lose (true) or regain (false) its fix.
func (d *Drone) SetGPSLost(lost bool) {
	f := d.Faults()
	f.GPSLost = lost
	_ = d.SetFaults(f)
}

// SetDrainFactor multiplies the battery's current draw.
func (d *Drone) SetDrainFactor(k float64) error {
	f := d.Faults()
	f.DrainFactor = k
	return d.SetFaults(f)
}

// SetSysID makes the drone use another system id (0 restores its own),
// restarting its socket.
func (d *Drone) SetSysID(id uint8) error {
	f := d.Faults()
	f.SysID = id
	return d.SetFaults(f)
}

// SetWind sets the wind (also the SIM_WIND_* parameters).
func (d *Drone) SetWind(w Wind) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.v.setWind(w)
}

func (v *vehicle) setWind(w Wind) {
	v.p.setInternal("SIM_WIND_SPD", w.Speed)
	v.p.setInternal("SIM_WIND_DIR", w.Direction)
	v.p.setInternal("SIM_WIND_TURB", w.Gust)
	v.m.WindSpeed, v.m.WindFrom, v.m.GustSigma = w.Speed, w.Direction, w.Gust
}

// SetBatteryRemaining sets the battery's charge to frac (0..1) of its capacity.
func (d *Drone) SetBatteryRemaining(frac float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.v.m.ConsumedMAh = d.v.m.Capacity * (1 - clamp(frac, 0, 1))
}

// Teleport moves the drone by north and east metres at once, keeping its
// velocity: a test knob to push it across a fence line.
func (d *Drone) Teleport(north, east float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.v.m.N += north
	d.v.m.E += east
}

// newVehicle builds a drone's state, not yet linked.
func newVehicle(d *Drone, cfg *Config, i int) vehicle {
	seed := uint64(cfg.Seed) + uint64(i)
	faults := cfg.Faults
	if f, ok := cfg.DroneFaults[cfg.SysIDBase+uint8(i)]; ok {
		faults = f
	}
	v := vehicle{
		d:             d,
		baseSysID:     cfg.SysIDBase + uint8(i),
		faults:        faults,
		linkRNG:       rand.New(rand.NewPCG(seed, 0x6c696e6b)),
		physRNG:       rand.New(rand.NewPCG(seed, 0x70687973)),
		bootDelay:     cfg.BootDelay,
		streamUnasked: cfg.StreamUnasked,
		gpsNoise:      cfg.GPSNoise,
		p:             newParams(),
		m:             newModel(),
		origin:        homeFor(cfg, i),
		landedSince:   -1,
		streams:       map[uint32]*stream{},
		uid:           newUID(),
	}
	v.sysid = v.baseSysID
	if v.faults.SysID != 0 {
		v.sysid = v.faults.SysID
	}
	v.p.set("MAV_SYSID", float64(v.baseSysID))
	v.p.setInternal("SIM_SPEEDUP", cfg.Speedup)
	v.setWind(cfg.Wind)
	v.m.Drain = faults.DrainFactor
	v.mis.init()
	b := v.bootDelay
	if b < 0 {
		b = 0
	}
	v.readyAt = min(1440*time.Millisecond, b/4)
	v.fixAt = b / 4
	v.originAt = b / 2
	v.ekfAt = b
	if v.streamUnasked {
		for _, id := range streamedIDs {
			iv := 250 * time.Millisecond
			if id == msgGlobalPositionInt || id == msgAttitude {
				iv = 100 * time.Millisecond
			}
			v.streams[id] = &stream{interval: iv}
		}
	}
	return v
}

// uidSalt and uidCount make every simulated drone's AUTOPILOT_VERSION uid
// different, across swarms and processes (it identifies an airframe).
var (
	uidSalt  = rand.Uint64()
	uidCount atomic.Uint64
)

// newUID returns a fresh non-zero uid (a SplitMix64 step over a counter).
func newUID() uint64 {
	z := uidSalt + uidCount.Add(1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return z
}

// dropped returns the number of outgoing messages lost to faults.
func (d *Drone) dropped() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.v.dropped
}
