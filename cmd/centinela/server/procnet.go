package server

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
)

// UDPSocketStats is what Linux says of the UDP sockets bound to some ports
// (/proc/net/udp and /proc/net/udp6). The metrics read it for the
// transport's sockets; benchmarks for theirs.
type UDPSocketStats struct {
	// Drops is the datagrams dropped because a receive queue was full.
	Drops uint64
	// RxQueue is the bytes waiting in the receive queues.
	RxQueue uint64
	// Sockets is the number of sockets found.
	Sockets int
}

// ReadUDPSocketStats adds up the sockets bound to any of ports. It returns
// zeros where /proc is not there (not Linux).
func ReadUDPSocketStats(ports map[int]bool) UDPSocketStats {
	var s UDPSocketStats
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 13 {
				continue
			}
			_, portHex, ok := strings.Cut(f[1], ":")
			if !ok {
				continue
			}
			port, err := strconv.ParseUint(portHex, 16, 16)
			if err != nil || !ports[int(port)] {
				continue
			}
			s.Sockets++
			if _, rx, ok := strings.Cut(f[4], ":"); ok {
				if n, err := strconv.ParseUint(rx, 16, 64); err == nil {
					s.RxQueue += n
				}
			}
			if n, err := strconv.ParseUint(f[len(f)-1], 10, 64); err == nil {
				s.Drops += n
			}
		}
	}
	return s
}

// UDPPorts returns the ports of the UDP addresses among addrs, for
// ReadUDPSocketStats.
func UDPPorts(addrs []net.Addr) map[int]bool {
	out := map[int]bool{}
	for _, a := range addrs {
		if u, ok := a.(*net.UDPAddr); ok && u.Port != 0 {
			out[u.Port] = true
		}
	}
	return out
}
