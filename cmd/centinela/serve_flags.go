package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/geofence"
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

// droneMapValue is --drone-name and --drone-agency: "SYSID=VALUE",
// repeatable; a later one for the same drone wins.
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
	return strings.Join(out, " ")
}

func (v droneMapValue) Set(spec string) error {
	key, val, ok := strings.Cut(spec, "=")
	val = strings.TrimSpace(val)
	n, err := strconv.Atoi(strings.TrimSpace(key))
	if !ok || err != nil || n < 1 || n > 255 || val == "" {
		return fmt.Errorf("want SYSID=%s with SYSID 1..255", v.what)
	}
	if v.m.BySysID == nil {
		v.m.BySysID = map[uint8]string{}
	}
	v.m.BySysID[uint8(n)] = val
	return nil
}
