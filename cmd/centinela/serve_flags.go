package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/mavlink"
)

// serveText holds the flags of serve written in a syntax of their own,
// as given, until apply parses them into a server.Config.
type serveText struct {
	// SimHome is --sim-home: "LAT,LON,ALT".
	SimHome string
	// Agencies is --agency: "ID=JURISDICTION[,JURISDICTION…]".
	Agencies []string
	// DroneNames and DroneAgencies are --drone-name and --drone-agency:
	// "KEY=VALUE" (parseDroneKey); a later one for the same key wins.
	DroneNames, DroneAgencies []string
	// RetentionSize is --retention-size (parseSize).
	RetentionSize string
}

// apply parses r into c. The error names the flag and the value; c may
// be partly filled then.
func (r *serveText) apply(c *server.Config) error {
	if r.SimHome != "" {
		h, err := parseHome(r.SimHome)
		if err != nil {
			return fmt.Errorf("--sim-home: %w", err)
		}
		c.SimHome = &h
	}
	for _, spec := range r.Agencies {
		a, err := parseAgency(spec)
		if err != nil {
			return fmt.Errorf("--agency %q: %w", spec, err)
		}
		c.Agencies = append(c.Agencies, a)
	}
	for _, f := range []struct {
		flag, what string
		specs      []string
		m          *server.DroneMap
	}{
		{"--drone-name", "NAME", r.DroneNames, &c.DroneNames},
		{"--drone-agency", "AGENCY", r.DroneAgencies, &c.DroneAgencies},
	} {
		for _, spec := range f.specs {
			if err := setDrone(f.m, spec, f.what); err != nil {
				return fmt.Errorf("%s %q: %w", f.flag, spec, err)
			}
		}
	}
	size, err := parseSize(r.RetentionSize)
	if err != nil {
		return fmt.Errorf("--retention-size: %w", err)
	}
	c.Store.RetentionSize = size
	return nil
}

// parseAgency parses "ID=JURISDICTION[,JURISDICTION…]".
func parseAgency(spec string) (geofence.Agency, error) {
	id, list, ok := strings.Cut(spec, "=")
	id = strings.TrimSpace(id)
	if !ok || id == "" || list == "" {
		return geofence.Agency{}, msgErr("flagerr.agency_form")
	}
	a := geofence.Agency{ID: id, Name: id}
	for _, j := range strings.Split(list, ",") {
		jj := geofence.Jurisdiction(strings.ToUpper(strings.TrimSpace(j)))
		if !jj.Valid() {
			return geofence.Agency{}, msgErr("flagerr.agency_jurisdiction", "value", strconv.Quote(j))
		}
		a.Jurisdictions = append(a.Jurisdictions, jj)
	}
	return a, nil
}

// setDrone parses "KEY=VALUE" (what names VALUE in errors: NAME, AGENCY)
// into m. KEY is one of (parseDroneKey):
//
//	SYSID         a system id, 1..255
//	LINK/SYSID    a link as the fleet shows it, and a system id
//	uid:HEX       an AUTOPILOT_VERSION uid, 1 to 16 hex digits
func setDrone(m *server.DroneMap, spec, what string) error {
	key, val, ok := strings.Cut(spec, "=")
	val = strings.TrimSpace(val)
	if !ok || val == "" {
		return msgErr("flagerr.drone_spec", "what", what)
	}
	k, err := parseDroneKey(strings.TrimSpace(key))
	if err != nil {
		if errors.Is(err, errDroneKey) {
			return msgErr("flagerr.drone_spec", "what", what)
		}
		return err
	}
	switch {
	case k.uid != 0:
		if m.ByUID == nil {
			m.ByUID = map[uint64]string{}
		}
		m.ByUID[k.uid] = val
	case k.link != "":
		if m.ByKey == nil {
			m.ByKey = map[fleet.VehicleKey]string{}
		}
		m.ByKey[fleet.VehicleKey{Link: k.link, SysID: k.sysID}] = val
	default:
		if m.BySysID == nil {
			m.BySysID = map[uint8]string{}
		}
		m.BySysID[k.sysID] = val
	}
	return nil
}

// errDroneKey is returned by parseDroneKey when the key is none of its
// forms.
var errDroneKey = errors.New("want SYSID (1..255), LINK/SYSID or uid:HEX")

// droneKey is a parsed KEY of --drone-name and --drone-agency: a uid, or
// a system id with or without a link.
type droneKey struct {
	sysID uint8
	link  string
	uid   uint64
}

// parseDroneKey parses "SYSID", "LINK/SYSID" or "uid:HEX". The system id
// follows the last "/" (link names hold slashes: "ENDPOINT/PEER" for the
// peers of a listening endpoint, device paths of serial ones). The link
// must name a client endpoint (udpout:, tcp:, serial:) or a peer of a
// listening one (udp:, tcpin:) as ENDPOINT/HOST:PORT.
func parseDroneKey(s string) (droneKey, error) {
	if hex, ok := strings.CutPrefix(s, "uid:"); ok {
		h := strings.TrimPrefix(strings.ToLower(hex), "0x")
		uid, err := strconv.ParseUint(h, 16, 64)
		if err != nil || len(h) > 16 || uid == 0 {
			return droneKey{}, msgErr("flagerr.drone_uid")
		}
		return droneKey{uid: uid}, nil
	}
	link, sys := "", s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		link, sys = s[:i], s[i+1:]
		if err := checkLinkName(link); err != nil {
			return droneKey{}, err
		}
	}
	n, err := strconv.Atoi(sys)
	if err != nil || n < 1 || n > 255 {
		if link != "" {
			return droneKey{}, msgErr("flagerr.drone_link_sysid")
		}
		return droneKey{}, errDroneKey
	}
	return droneKey{sysID: uint8(n), link: link}, nil
}

// checkLinkName checks that link can be the name of a link: a client
// endpoint, or a listening endpoint and a peer's HOST:PORT.
func checkLinkName(link string) error {
	listens := func(e mavlink.Endpoint) bool {
		return e.Kind == mavlink.EndpointUDP || e.Kind == mavlink.EndpointTCPIn
	}
	if e, err := mavlink.ParseEndpoint(link); err == nil {
		if listens(e) {
			return msgErr("flagerr.link_listens", "link", link)
		}
		return nil
	}
	ep, peer, ok := strings.Cut(link, "/")
	e, err := mavlink.ParseEndpoint(ep)
	if !ok || err != nil {
		return msgErr("flagerr.link_form", "link", strconv.Quote(link))
	}
	if !listens(e) {
		return msgErr("flagerr.link_peer_not_listening", "link", strconv.Quote(link))
	}
	if _, _, err := net.SplitHostPort(peer); err != nil {
		return msgErr("flagerr.link_peer", "link", strconv.Quote(link))
	}
	return nil
}

// sysIDName is the fleet's id of a drone of system id sys without a
// configured name ("sysid-N").
func sysIDName(sys uint8) string { return "sysid-" + strconv.Itoa(int(sys)) }
