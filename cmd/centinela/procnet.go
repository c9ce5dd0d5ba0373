package main

import (
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
)

// udpSocketStats, readUDPSocketStats and udpPorts are the server
// package's, under the names bench.go uses.
type udpSocketStats = server.UDPSocketStats

func readUDPSocketStats(ports map[int]bool) udpSocketStats { return server.ReadUDPSocketStats(ports) }

func udpPorts(addrs []net.Addr) map[int]bool { return server.UDPPorts(addrs) }

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
