package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
)

// udpSocketStats is what Linux says of the UDP sockets bound to some ports
// (/proc/net/udp and /proc/net/udp6): datagrams dropped (receive queue
// full) and bytes waiting in the receive queues.
type udpSocketStats struct {
	Drops   uint64
	RxQueue uint64
	Sockets int
}

// readUDPSocketStats adds up the sockets bound to any of ports. It returns
// zeros where /proc is not there (not Linux).
func readUDPSocketStats(ports map[int]bool) udpSocketStats {
	var s udpSocketStats
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

// udpPorts returns the ports of the UDP addresses among addrs.
func udpPorts(addrs []net.Addr) map[int]bool {
	out := map[int]bool{}
	for _, a := range addrs {
		if u, ok := a.(*net.UDPAddr); ok && u.Port != 0 {
			out[u.Port] = true
		}
	}
	return out
}

// udpRcvbufErrors returns the system-wide UDP RcvbufErrors of /proc/net/snmp
// (datagrams dropped because a receive buffer was full), 0 if unknown.
func udpRcvbufErrors() uint64 {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}
