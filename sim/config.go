package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by [Swarm.Initialize] to zero fields of [Config].
const (
	// DefaultDrones is the number of drones when Config.Drones is 0.
	DefaultDrones = 1
	// DefaultSysIDBase is the first drone's system id when Config.SysIDBase is 0.
	DefaultSysIDBase = 1
	// DefaultSpeedup is the simulated-time speed-up when Config.Speedup is 0.
	DefaultSpeedup = 1.0
	// DefaultBootDelay is the simulated time from power-on until arming is
	// possible (GPS fix, EKF origin, EKF using GPS) when Config.BootDelay is 0.
	DefaultBootDelay = 6 * time.Second
	// DefaultTick is the scheduler's wall-clock period when Config.Tick is 0.
	DefaultTick = 10 * time.Millisecond
	// TCPPortStep is the port distance between consecutive drones' listen
	// sockets, as ArduPilot SITL instances (5760, 5770, …).
	TCPPortStep = 10
)

// Home is a take-off location.
type Home struct {
	// Lat and Lon are WGS84 degrees.
	Lat, Lon float64
	// Alt is metres above mean sea level.
	Alt float64
}

// Wind is the simulated wind.
type Wind struct {
	// Speed is the mean wind speed in m/s (SIM_WIND_SPD).
	Speed float64
	// Direction is where the wind comes from, degrees clockwise from north
	// (SIM_WIND_DIR).
	Direction float64
	// Gust is the standard deviation of gusts in m/s (SIM_WIND_TURB).
	Gust float64
}

// Faults are the fault-injection knobs of one drone. The zero value injects
// nothing.
type Faults struct {
	// LossOut is the fraction (0..1) of messages from the drone dropped.
	LossOut float64
	// LossIn is the fraction (0..1) of messages to the drone dropped.
	LossIn float64
	// Latency is added to every message each way.
	Latency time.Duration
	// Jitter is a uniformly random extra delay in [0, Jitter) per message.
	Jitter time.Duration
	// GPSLost makes the GPS report no fix while true.
	GPSLost bool
	// DrainFactor multiplies the battery's current draw (0 means 1).
	DrainFactor float64
	// SysID, when not 0, replaces the drone's system id.
	SysID uint8
}

// Config configures a [Swarm]. Zero fields take the documented defaults.
type Config struct {
	// Drones is the number of drones (optional, default 1).
	Drones int
	// Connect makes every drone a client of one ground station, for example
	// "udpout:127.0.0.1:14550" or "tcp:127.0.0.1:5760". Exactly one of
	// Connect and Listen must be set.
	Connect string
	// Listen makes every drone a server, for example
	// "tcpin:127.0.0.1:5760" (drone i listens on port 5760+10·i, like
	// ArduPilot SITL) or "udp:127.0.0.1:14560". Port 0 gives every drone a
	// free port; read it back with [Drone.Addr].
	Listen string
	// SysIDBase is the first system id; drone i gets SysIDBase+i
	// (optional, default 1).
	SysIDBase uint8
	// Speedup scales simulated time against wall-clock time (optional,
	// default 1; the SIM_SPEEDUP parameter).
	Speedup float64
	// Seed seeds every random process (wind gusts, GPS noise, link loss);
	// drone i uses Seed+i. The same seed gives the same flight model.
	Seed int64
	// Home, if set, is every drone's home; otherwise homes are spread over
	// the six sister-city corridors on the US side of the border.
	Home *Home
	// BootDelay is the simulated time from power-on until arming is
	// possible (optional, default 6 s). A negative value means no delay:
	// fix, origin and position estimate are there at once.
	BootDelay time.Duration
	// StreamUnasked makes drones stream telemetry at default rates
	// (position and attitude 10 Hz, the rest 4 Hz) without a stream
	// request, for tools that never ask. Real ArduCopter does not.
	StreamUnasked bool
	// Wind is the initial wind of every drone.
	Wind Wind
	// GPSNoise adds a few decimetres of random walk to reported positions.
	GPSNoise bool
	// Faults are every drone's initial fault knobs (change them per drone
	// with the Drone's methods).
	Faults Faults
	// DroneFaults are the initial fault knobs of single drones, by their
	// starting system id, in place of Faults (optional). They apply before
	// the drone's first message.
	DroneFaults map[uint8]Faults
	// Tick is the scheduler's wall-clock period (optional, default 10 ms).
	Tick time.Duration
	// SigningKeys are MAVLink 2 signing keys (32 bytes) by starting system
	// id; key 0 is the key of every drone without its own (optional). A
	// drone with a key signs what it sends and ignores unsigned input.
	SigningKeys map[uint8][]byte
	// Logger receives lifecycle logs (optional, default discard).
	Logger *slog.Logger
}

// endpointKind is one of the accepted endpoint forms.
type endpointKind int

const (
	epUDPOut endpointKind = iota // udpout: gomavlib UDP client
	epUDPIn                      // udp: UDP server
	epTCPOut                     // tcp: TCP client
	epTCPIn                      // tcpin: TCP server
)

type endpointSpec struct {
	kind endpointKind
	host string
	port int
}

func (e endpointSpec) withPort(p int) endpointSpec { e.port = p; return e }

func (e endpointSpec) address() string {
	return net.JoinHostPort(e.host, strconv.Itoa(e.port))
}

func (e endpointSpec) isServer() bool { return e.kind == epUDPIn || e.kind == epTCPIn }

// acceptedForms names the endpoint forms in error messages.
const acceptedForms = `udpout:HOST:PORT (send to a ground station), udp:HOST:PORT (listen), tcp:HOST:PORT (connect), tcpin:HOST:PORT (listen)`

// ErrEndpoint is returned (wrapped) when an endpoint string is malformed.
var ErrEndpoint = errors.New("bad endpoint")

func parseEndpoint(s string) (endpointSpec, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return endpointSpec{}, fmt.Errorf("%w %q: want one of %s", ErrEndpoint, s, acceptedForms)
	}
	var k endpointKind
	switch scheme {
	case "udpout", "udpclient":
		k = epUDPOut
	case "udp", "udpin", "udpserver":
		k = epUDPIn
	case "tcp", "tcpclient":
		k = epTCPOut
	case "tcpin", "tcpserver":
		k = epTCPIn
	default:
		return endpointSpec{}, fmt.Errorf("%w %q: unknown scheme %q, want one of %s", ErrEndpoint, s, scheme, acceptedForms)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return endpointSpec{}, fmt.Errorf("%w %q: %v; want one of %s", ErrEndpoint, s, err, acceptedForms)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return endpointSpec{}, fmt.Errorf("%w %q: bad port %q; want one of %s", ErrEndpoint, s, port, acceptedForms)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if p == 0 && !(k == epUDPIn || k == epTCPIn) {
		return endpointSpec{}, fmt.Errorf("%w %q: port 0 is only for listening endpoints; want one of %s", ErrEndpoint, s, acceptedForms)
	}
	return endpointSpec{kind: k, host: host, port: p}, nil
}

// Validate checks c and returns an error naming the first problem.
func (c *Config) Validate() error {
	switch {
	case c.Connect == "" && c.Listen == "":
		return fmt.Errorf("sim: one of Connect or Listen is required (%s)", acceptedForms)
	case c.Connect != "" && c.Listen != "":
		return errors.New("sim: set only one of Connect and Listen")
	case c.Drones < 0 || c.Drones > 250:
		return fmt.Errorf("sim: Drones %d out of range 0..250", c.Drones)
	case c.Speedup < 0 || c.Speedup > 1000 || math.IsNaN(c.Speedup):
		return fmt.Errorf("sim: Speedup %v out of range 0..1000", c.Speedup)
	case c.Tick < 0:
		return fmt.Errorf("sim: Tick %v negative", c.Tick)
	}
	if err := c.validateKeys(); err != nil {
		return err
	}
	if c.Connect != "" {
		ep, err := parseEndpoint(c.Connect)
		if err != nil {
			return fmt.Errorf("sim: Connect: %w", err)
		}
		if ep.isServer() {
			return fmt.Errorf("sim: Connect %q is a listening form; use Listen, or one of udpout:HOST:PORT, tcp:HOST:PORT", c.Connect)
		}
	}
	if c.Listen != "" {
		ep, err := parseEndpoint(c.Listen)
		if err != nil {
			return fmt.Errorf("sim: Listen: %w", err)
		}
		if !ep.isServer() {
			return fmt.Errorf("sim: Listen %q is a connecting form; use Connect, or one of tcpin:HOST:PORT, udp:HOST:PORT", c.Listen)
		}
	}
	n := c.Drones
	if n == 0 {
		n = DefaultDrones
	}
	base := int(c.SysIDBase)
	if base == 0 {
		base = DefaultSysIDBase
	}
	if base+n-1 > 254 {
		return fmt.Errorf("sim: system ids %d..%d pass 254", base, base+n-1)
	}
	if h := c.Home; h != nil {
		if math.IsNaN(h.Lat) || math.IsNaN(h.Lon) || h.Lat < -85 || h.Lat > 85 || h.Lon < -180 || h.Lon > 180 {
			return fmt.Errorf("sim: Home %v,%v out of range", h.Lat, h.Lon)
		}
	}
	if err := c.Faults.validate(); err != nil {
		return fmt.Errorf("sim: Faults: %w", err)
	}
	for id, f := range c.DroneFaults {
		if int(id) < base || int(id) > base+n-1 {
			return fmt.Errorf("sim: DroneFaults: no drone with system id %d", id)
		}
		if err := f.validate(); err != nil {
			return fmt.Errorf("sim: DroneFaults[%d]: %w", id, err)
		}
	}
	return nil
}

func (f Faults) validate() error {
	switch {
	case f.LossIn < 0 || f.LossIn > 1 || f.LossOut < 0 || f.LossOut > 1:
		return errors.New("loss must be within 0..1")
	case f.Latency < 0 || f.Jitter < 0:
		return errors.New("latency and jitter must not be negative")
	case f.DrainFactor < 0:
		return errors.New("drain factor must not be negative")
	}
	return nil
}

// Corridor is one of the sister-city border crossings that homes are spread
// over when Config.Home is nil.
type Corridor struct {
	// Name is the corridor's name.
	Name string
	// Home is a point a few hundred metres north of the boundary.
	Home Home
}

// Corridors lists the six sister-city corridors, west to east. Each home is
// on the US side, a few hundred metres from the international boundary and
// clear of the airports' no-fly circles (Calexico's is 5 km east of the
// port of entry, clear of KCXL).
var Corridors = []Corridor{
	{"San Diego–Tijuana", Home{32.5480, -117.0293, 40}},
	{"Calexico–Mexicali", Home{32.6780, -115.4350, 2}},
	{"Nogales", Home{31.3370, -110.9420, 1180}},
	{"El Paso–Ciudad Juárez", Home{31.7580, -106.4869, 1130}},
	{"Laredo–Nuevo Laredo", Home{27.5050, -99.5075, 130}},
	{"McAllen–Reynosa", Home{26.1000, -98.2700, 40}},
}

// homeFor returns drone i's home: corridors in turn, drones in one corridor
// 60 m apart along a line east of the corridor's home.
func homeFor(c *Config, i int) Home {
	if c.Home != nil {
		return *c.Home
	}
	cor := Corridors[i%len(Corridors)].Home
	k := i / len(Corridors)
	lat, lon := offset(cor.Lat, cor.Lon, 0, float64(k)*60)
	return Home{Lat: lat, Lon: lon, Alt: cor.Alt}
}
