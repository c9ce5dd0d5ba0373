package fleettest

import (
	"math"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// ArduCopter custom modes used in tests.
const (
	Stabilize uint32 = 0
	Auto      uint32 = 3
	Guided    uint32 = 4
	Loiter    uint32 = 5
	RTL       uint32 = 6
	Land      uint32 = 9
	Brake     uint32 = 17
)

// MAV_STATE values.
const (
	StatusBoot     uint8 = 1
	StatusStandby  uint8 = 3
	StatusActive   uint8 = 4
	StatusCritical uint8 = 5
)

// Copter returns the heartbeat of an ArduCopter quadrotor in mode, armed or
// not, with the base_mode bits real ArduCopter sets.
func Copter(mode uint32, armed bool, status uint8) fleet.Heartbeat {
	base := uint8(0x51)
	if armed {
		base = 0xd9
	}
	return fleet.Heartbeat{VehicleType: 2, Autopilot: 3, BaseMode: base, CustomMode: mode, SystemStatus: status, ComponentID: 1}
}

// PX4 returns the heartbeat of a PX4 quadrotor in main mode main, sub mode sub.
func PX4(main, sub uint8, armed bool, status uint8) fleet.Heartbeat {
	base := uint8(0x1d)
	if armed {
		base |= 0x80
	}
	return fleet.Heartbeat{VehicleType: 2, Autopilot: 12, BaseMode: base,
		CustomMode: uint32(main)<<16 | uint32(sub)<<24, SystemStatus: status, ComponentID: 1}
}

// GCS returns a ground station's heartbeat.
func GCS() fleet.Heartbeat {
	return fleet.Heartbeat{VehicleType: 6, Autopilot: 8, SystemStatus: 4, ComponentID: 190}
}

// Position returns a GLOBAL_POSITION_INT at lat, lon and relAlt metres above
// a home at 20 m AMSL, still, heading north.
func Position(boot time.Duration, lat, lon, relAlt float64) fleet.GlobalPosition {
	return fleet.GlobalPosition{TimeBoot: boot, Lat: lat, Lon: lon, AltMSL: 20 + relAlt, RelAlt: relAlt}
}

// NoFix is the GLOBAL_POSITION_INT ArduCopter streams before its first fix.
func NoFix(boot time.Duration) fleet.GlobalPosition {
	return fleet.GlobalPosition{TimeBoot: boot, HeadingDeg: math.NaN()}
}

// Feed hands updates to in as vehicle v's transport would.
func Feed(in fleet.Ingest, v fleet.Vehicle, us ...fleet.Update) {
	for _, u := range us {
		in.Handle(v, u)
	}
}

// Clock is a settable clock for fleet.Fleet.Now. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
