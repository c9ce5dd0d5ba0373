package main

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/sim"
)

// The flag values of serve that parse into a server.Config as they are
// set: a bad value is a usage error naming the flag.

// homeValue is --sim-home: "LAT,LON,ALT".
type homeValue struct{ h **sim.Home }

func (v homeValue) String() string {
	if v.h == nil || *v.h == nil {
		return ""
	}
	h := *v.h
	return fmt.Sprintf("%g,%g,%g", h.Lat, h.Lon, h.Alt)
}

func (v homeValue) Set(s string) error {
	h, err := parseHome(s)
	if err != nil {
		return err
	}
	*v.h = &h
	return nil
}

// agencyValue is --agency: "ID=JURISDICTION[,JURISDICTION…]", repeatable.
type agencyValue struct{ list *[]geofence.Agency }

func (v agencyValue) String() string {
	if v.list == nil {
		return ""
	}
	var out []string
	for _, a := range *v.list {
		var js []string
		for _, j := range a.Jurisdictions {
			js = append(js, string(j))
		}
		out = append(out, a.ID+"="+strings.Join(js, ","))
	}
	return strings.Join(out, " ")
}

func (v agencyValue) Set(spec string) error {
	id, list, ok := strings.Cut(spec, "=")
	id = strings.TrimSpace(id)
	if !ok || id == "" || list == "" {
		return fmt.Errorf("want ID=JURISDICTION[,JURISDICTION…] with US, MX or JOINT")
	}
	a := geofence.Agency{ID: id, Name: id}
	for _, j := range strings.Split(list, ",") {
		jj := geofence.Jurisdiction(strings.ToUpper(strings.TrimSpace(j)))
		if !jj.Valid() {
			return fmt.Errorf("unknown jurisdiction %q (want US, MX or JOINT)", j)
		}
		a.Jurisdictions = append(a.Jurisdictions, jj)
	}
	*v.list = append(*v.list, a)
	return nil
}

// droneMapValue is --drone-name and --drone-agency: "KEY=VALUE",
// repeatable; a later one for the same key wins. KEY is one of (see
// parseDroneKey):
//
//	SYSID         a system id, 1..255
//	LINK/SYSID    a link as the fleet shows it, and a system id
//	uid:HEX       an AUTOPILOT_VERSION uid, 1 to 16 hex digits
type droneMapValue struct {
	m    *server.DroneMap
	what string // NAME or AGENCY
}

func (v droneMapValue) String() string {
	if v.m == nil {
		return ""
	}
	var out []string
	for sys, val := range v.m.BySysID {
		out = append(out, fmt.Sprintf("%d=%s", sys, val))
	}
	for k, val := range v.m.ByKey {
		out = append(out, fmt.Sprintf("%s/%d=%s", k.Link, k.SysID, val))
	}
	for uid, val := range v.m.ByUID {
		out = append(out, fmt.Sprintf("uid:%016x=%s", uid, val))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func (v droneMapValue) Set(spec string) error {
	key, val, ok := strings.Cut(spec, "=")
	val = strings.TrimSpace(val)
	if !ok || val == "" {
		return fmt.Errorf("want KEY=%s with KEY SYSID, LINK/SYSID or uid:HEX", v.what)
	}
	k, err := parseDroneKey(strings.TrimSpace(key))
	if err != nil {
		return err
	}
	switch {
	case k.uid != 0:
		if v.m.ByUID == nil {
			v.m.ByUID = map[uint64]string{}
		}
		v.m.ByUID[k.uid] = val
	case k.link != "":
		if v.m.ByKey == nil {
			v.m.ByKey = map[fleet.VehicleKey]string{}
		}
		v.m.ByKey[fleet.VehicleKey{Link: k.link, SysID: k.sysID}] = val
	default:
		if v.m.BySysID == nil {
			v.m.BySysID = map[uint8]string{}
		}
		v.m.BySysID[k.sysID] = val
	}
	return nil
}

// droneKey is a parsed KEY of --drone-name and --drone-agency: a uid, or
// a system id with or without a link.
type droneKey struct {
	sysID uint8
	link  string
	uid   uint64
}

// parseDroneKey parses "SYSID", "LINK/SYSID" or "uid:HEX". The system id
// follows the last "/" (link names hold slashes: "ENDPOINT/REMOTE" for the
// peers of a listening endpoint, device paths of serial ones). The link
// must name a client endpoint (udpout:, tcp:, serial:) or a peer of a
// listening one (udp:, tcpin:) as ENDPOINT/HOST:PORT.
func parseDroneKey(s string) (droneKey, error) {
	if hex, ok := strings.CutPrefix(s, "uid:"); ok {
		h := strings.TrimPrefix(strings.ToLower(hex), "0x")
		uid, err := strconv.ParseUint(h, 16, 64)
		if err != nil || len(h) > 16 || uid == 0 {
			return droneKey{}, fmt.Errorf("%q: want uid:HEX with the non-zero AUTOPILOT_VERSION uid in 1 to 16 hex digits", s)
		}
		return droneKey{uid: uid}, nil
	}
	link, sys := "", s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		link, sys = s[:i], s[i+1:]
		if err := checkLinkName(link); err != nil {
			return droneKey{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	n, err := strconv.Atoi(sys)
	if err != nil || n < 1 || n > 255 {
		if link != "" {
			return droneKey{}, fmt.Errorf("%q: want LINK/SYSID with SYSID 1..255", s)
		}
		return droneKey{}, fmt.Errorf("%q: want SYSID 1..255, LINK/SYSID or uid:HEX", s)
	}
	return droneKey{sysID: uint8(n), link: link}, nil
}

// checkLinkName checks that link can be the name of a link: a client
// endpoint, or a listening endpoint and a remote HOST:PORT.
func checkLinkName(link string) error {
	listens := func(e mavlink.Endpoint) bool {
		return e.Kind == mavlink.EndpointUDP || e.Kind == mavlink.EndpointTCPIn
	}
	if e, err := mavlink.ParseEndpoint(link); err == nil {
		if listens(e) {
			return fmt.Errorf("link %s listens: name one of its peers as %s/HOST:PORT", link, link)
		}
		return nil
	}
	ep, remote, ok := strings.Cut(link, "/")
	e, err := mavlink.ParseEndpoint(ep)
	if !ok || err != nil {
		return fmt.Errorf("link %q: want an endpoint (tcp:HOST:PORT, udpout:HOST:PORT, serial:DEVICE:BAUD) or a listening endpoint's peer (udp:HOST:PORT/HOST:PORT)", link)
	}
	if !listens(e) {
		return fmt.Errorf("link %q: only the links of a listening endpoint (udp:, tcpin:) name a peer after a \"/\"", link)
	}
	if _, _, err := net.SplitHostPort(remote); err != nil {
		return fmt.Errorf("link %q: want the peer as HOST:PORT after the \"/\"", link)
	}
	return nil
}
