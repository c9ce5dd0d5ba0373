package mavlink

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// EndpointKind is the kind of a MAVLink endpoint, named as in MAVProxy.
type EndpointKind string

// Endpoint kinds.
const (
	// EndpointUDP listens on a UDP address ("udp:HOST:PORT").
	EndpointUDP EndpointKind = "udp"
	// EndpointUDPOut sends to a UDP address ("udpout:HOST:PORT").
	EndpointUDPOut EndpointKind = "udpout"
	// EndpointTCP connects to a TCP server ("tcp:HOST:PORT").
	EndpointTCP EndpointKind = "tcp"
	// EndpointTCPIn listens on a TCP address ("tcpin:HOST:PORT").
	EndpointTCPIn EndpointKind = "tcpin"
	// EndpointSerial opens a serial port ("serial:DEVICE:BAUD").
	EndpointSerial EndpointKind = "serial"
)

// DefaultBaud is the baud rate of a serial endpoint that names none.
const DefaultBaud = 57600

// Endpoint is one parsed endpoint string.
type Endpoint struct {
	Kind EndpointKind
	// Address is HOST:PORT for network endpoints and the device path for serial.
	Address string
	// Baud is the serial baud rate (serial only).
	Baud int
}

// String returns the endpoint in the form ParseEndpoint reads.
func (e Endpoint) String() string {
	if e.Kind == EndpointSerial {
		return fmt.Sprintf("serial:%s:%d", e.Address, e.Baud)
	}
	return string(e.Kind) + ":" + e.Address
}

// Listens reports whether the endpoint listens (udp, tcpin).
func (e Endpoint) Listens() bool { return e.Kind == EndpointUDP || e.Kind == EndpointTCPIn }

const acceptedForms = "accepted forms: udp:HOST:PORT (listen), udpout:HOST:PORT (send), " +
	"tcp:HOST:PORT (connect), tcpin:HOST:PORT (listen), serial:DEVICE[:BAUD]"

func badEndpoint(s, why string) error {
	return &fleet.Error{
		Code:    fleet.Invalid,
		Message: fmt.Sprintf("bad MAVLink endpoint %q: %s; %s", s, why, acceptedForms),
		Reason:  "bad_endpoint",
	}
}

// ParseEndpoint parses a MAVProxy-style endpoint string: udp:HOST:PORT
// (listen), udpout:HOST:PORT (send), tcp:HOST:PORT (connect),
// tcpin:HOST:PORT (listen) or serial:DEVICE[:BAUD]. IPv6 hosts are written in
// brackets ("udp:[::1]:14550"). A listening endpoint may use port 0 and an
// empty host (all interfaces). Returns a *fleet.Error with code Invalid that
// names the accepted forms.
func ParseEndpoint(s string) (Endpoint, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Endpoint{}, badEndpoint(s, "missing kind")
	}
	e := Endpoint{Kind: EndpointKind(kind)}
	switch e.Kind {
	case EndpointUDP, EndpointUDPOut, EndpointTCP, EndpointTCPIn:
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return Endpoint{}, badEndpoint(s, "want HOST:PORT")
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return Endpoint{}, badEndpoint(s, "bad port")
		}
		if !e.Listens() {
			if host == "" {
				return Endpoint{}, badEndpoint(s, "missing host")
			}
			if p == 0 {
				return Endpoint{}, badEndpoint(s, "port 0 needs a listening endpoint")
			}
		}
		if strings.ContainsAny(host, " /") {
			return Endpoint{}, badEndpoint(s, "bad host")
		}
		e.Address = net.JoinHostPort(host, port)
	case EndpointSerial:
		dev, baud := rest, ""
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			dev, baud = rest[:i], rest[i+1:]
		}
		if dev == "" {
			return Endpoint{}, badEndpoint(s, "missing device")
		}
		e.Address, e.Baud = dev, DefaultBaud
		if baud != "" {
			b, err := strconv.Atoi(baud)
			if err != nil || b <= 0 {
				return Endpoint{}, badEndpoint(s, "bad baud rate")
			}
			e.Baud = b
		}
	default:
		return Endpoint{}, badEndpoint(s, "unknown kind "+strconv.Quote(kind))
	}
	return e, nil
}

// endpointState is what the transport keeps of one configured endpoint.
type endpointState struct {
	ep Endpoint
	// label is the prefix of the labels of this endpoint's channels (kind
	// and configured address; a listener's peers add ":remote").
	label string

	mu   sync.Mutex
	addr net.Addr // bound address of a listening endpoint

	// set by the transport before the endpoint opens
	guard       *guard
	maxPeers    int
	maxUnproven int

	peerMu sync.Mutex
	peers  []*guardConn // open connections of a listener, oldest first
}

// unprovenGrace is how long a new peer may stay unproven before a newcomer
// can evict it: long enough to hear a vehicle's 1 Hz heartbeat.
const unprovenGrace = 2 * time.Second

// admit registers a new connection of a listener. When the unproven peers
// are over their budget or the listener is full, the oldest unproven peer
// is evicted if it had its grace period; else the new one is refused (it
// comes back with its next datagram or connection). It returns false when c
// must be closed.
func (s *endpointState) admit(c *guardConn) bool {
	s.peerMu.Lock()
	var evict []*guardConn
	unproven := 0
	for _, p := range s.peers {
		if !p.proven.Load() {
			unproven++
		}
	}
	for unproven >= s.maxUnproven || len(s.peers) >= s.maxPeers {
		i := slices.IndexFunc(s.peers, func(p *guardConn) bool { return !p.proven.Load() })
		if i < 0 || c.opened.Sub(s.peers[i].opened) < unprovenGrace {
			break
		}
		evict = append(evict, s.peers[i])
		s.peers = slices.Delete(s.peers, i, i+1)
		unproven--
	}
	ok := len(s.peers) < s.maxPeers && unproven < s.maxUnproven
	if ok {
		s.peers = append(s.peers, c)
	}
	s.peerMu.Unlock()
	for _, p := range evict {
		s.guard.stats.unprovenEvicted.Add(1)
		p.Close()
	}
	if len(evict) > 0 {
		s.guard.logLimit.Warn("unproven peers over their budget: oldest evicted", "link", s.ep.String(), "limit", s.maxUnproven)
	}
	if !ok {
		s.guard.stats.peersRefused.Add(1)
		s.guard.logLimit.Warn("listener full: connection refused", "link", s.ep.String(),
			"limit", s.maxPeers, "unproven_limit", s.maxUnproven)
	}
	return ok
}

// forget removes a closed connection.
func (s *endpointState) forget(c *guardConn) {
	s.peerMu.Lock()
	if i := slices.Index(s.peers, c); i >= 0 {
		s.peers = slices.Delete(s.peers, i, i+1)
	}
	s.peerMu.Unlock()
}

// peerCount returns the open connections of a listener.
func (s *endpointState) peerCount() int {
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	return len(s.peers)
}

func (s *endpointState) setAddr(a net.Addr) {
	s.mu.Lock()
	s.addr = a
	s.mu.Unlock()
}

func (s *endpointState) boundAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// peerName is the fleet's link name of a listener's peer:
// "kind:boundaddr/remote".
func (s *endpointState) peerName(remote string) string {
	name := s.ep.String()
	if a := s.boundAddr(); a != nil {
		name = string(s.ep.Kind) + ":" + a.String()
	}
	return name + "/" + remote
}
