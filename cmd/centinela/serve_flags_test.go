package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/sim"
)

// parseServe parses args with serveFlags into a fresh config.
func parseServe(t *testing.T, args ...string) (server.Config, error) {
	t.Helper()
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	finish := serveFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, finish()
}

func TestServeFlagsFillConfig(t *testing.T) {
	cfg, err := parseServe(t, "--mavlink", "udp:0.0.0.0:14550", "--mavlink", "tcp:10.0.0.5:5760",
		"--sim-home", "32.5,-117,40", "--agency", "cbp=us", "--agency", "gn=MX, joint",
		"--drone-name", "1=halcon-1",
		"--drone-name", "tcp:10.0.0.5:5760/1=halcon-tcp",
		"--drone-name", "udp:0.0.0.0:14550/10.0.0.7:14550/1=halcon-udp",
		"--drone-name", "serial:/dev/ttyUSB0:57600/3=halcon-serie",
		"--drone-name", "uid:00AB12=halcon-uid",
		"--drone-name", "uid:0x1f=halcon-0x",
		"--drone-agency", "2=cbp", "--drone-agency", "tcp:10.0.0.5:5760/1=gn", "--drone-agency", "uid:ab12=cbp",
		"--drone-name", "1=halcon-uno", // a later one for the same key wins
		"--breach-action", "hold", "--retention-size", "2GiB")
	if err != nil {
		t.Fatal(err)
	}
	wantNames := server.DroneMap{
		BySysID: map[uint8]string{1: "halcon-uno"},
		ByKey: map[fleet.VehicleKey]string{
			{Link: "tcp:10.0.0.5:5760", SysID: 1}:                "halcon-tcp",
			{Link: "udp:0.0.0.0:14550/10.0.0.7:14550", SysID: 1}: "halcon-udp",
			{Link: "serial:/dev/ttyUSB0:57600", SysID: 3}:        "halcon-serie",
		},
		ByUID: map[uint64]string{0xab12: "halcon-uid", 0x1f: "halcon-0x"},
	}
	if !reflect.DeepEqual(cfg.DroneNames, wantNames) {
		t.Errorf("names %+v\nwant %+v", cfg.DroneNames, wantNames)
	}
	wantAgencies := server.DroneMap{BySysID: map[uint8]string{2: "cbp"},
		ByKey: map[fleet.VehicleKey]string{{Link: "tcp:10.0.0.5:5760", SysID: 1}: "gn"}, ByUID: map[uint64]string{0xab12: "cbp"}}
	if !reflect.DeepEqual(cfg.DroneAgencies, wantAgencies) {
		t.Errorf("agencies %+v\nwant %+v", cfg.DroneAgencies, wantAgencies)
	}
	wantAg := []geofence.Agency{{ID: "cbp", Name: "cbp", Jurisdictions: []geofence.Jurisdiction{geofence.US}},
		{ID: "gn", Name: "gn", Jurisdictions: []geofence.Jurisdiction{geofence.MX, geofence.Joint}}}
	if !reflect.DeepEqual(cfg.Agencies, wantAg) {
		t.Errorf("agencies %+v", cfg.Agencies)
	}
	if cfg.SimHome == nil || *cfg.SimHome != (sim.Home{Lat: 32.5, Lon: -117, Alt: 40}) {
		t.Errorf("sim home %+v", cfg.SimHome)
	}
	if cfg.BreachAction != fleet.ZoneHold || cfg.Store.RetentionSize != 2<<30 {
		t.Errorf("breach action %q, retention size %d", cfg.BreachAction, cfg.Store.RetentionSize)
	}
	if err := validateServe(&cfg); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestServeDroneKeyFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		arg  string
		want string
	}{
		{"no value", "1=", "want KEY=NAME"},
		{"no equals", "halcon", "want KEY=NAME"},
		{"sysid 0", "0=halcon", "want KEY=NAME with KEY SYSID (1..255)"},
		{"sysid 256", "256=halcon", "want KEY=NAME with KEY SYSID (1..255)"},
		{"not a number", "x=halcon", "want KEY=NAME with KEY SYSID (1..255)"},
		{"link without sysid", "tcp:10.0.0.5:5760/=halcon", "want LINK/SYSID with SYSID 1..255"},
		{"link sysid 300", "tcp:10.0.0.5:5760/300=halcon", "want LINK/SYSID with SYSID 1..255"},
		{"bad endpoint kind", "tcpout:10.0.0.5:5760/1=halcon", "want an endpoint"},
		{"empty link", "/1=halcon", "want an endpoint"},
		{"listener without peer", "udp:0.0.0.0:14550/1=halcon", "listens: name one of its peers as udp:0.0.0.0:14550/HOST:PORT"},
		{"client with a peer", "tcp:10.0.0.5:5760/10.0.0.6:1/1=halcon", "only the links of a listening endpoint"},
		{"peer without port", "udp:0.0.0.0:14550/10.0.0.7/1=halcon", "want the peer as HOST:PORT"},
		{"uid 0", "uid:0=halcon", "non-zero"},
		{"uid not hex", "uid:xyz=halcon", "hex digits"},
		{"uid too long", "uid:0123456789abcdef0=halcon", "hex digits"},
		{"uid empty", "uid:=halcon", "hex digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fl := range []string{"--drone-name", "--drone-agency"} {
				want := tc.want
				if fl == "--drone-agency" {
					want = strings.ReplaceAll(want, "KEY=NAME", "KEY=AGENCY")
				}
				cfg, err := parseServe(t, fl, tc.arg)
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fl[2:]) {
					t.Errorf("%s %s: %v, want an error naming the flag with %q", fl, tc.arg, err, want)
				}
				if cfg.DroneNames.Len()+cfg.DroneAgencies.Len() != 0 {
					t.Errorf("%s %s: the bad value changed the config: %+v %+v", fl, tc.arg, cfg.DroneNames, cfg.DroneAgencies)
				}
			}
		})
	}
}

// Validation errors of names and agencies keyed by link or uid name the
// flag, like those by system id.
func TestServeDroneKeyValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--drone-name", "tcp:10.0.0.5:5760/1=halcon", "--drone-name", "uid:ab=halcon"}, `--drone-name "uid:00000000000000ab=halcon": name "halcon" is taken`},
		{[]string{"--drone-name", "uid:ab=sysid-4"}, `--drone-name "uid:00000000000000ab=sysid-4": name "sysid-4" is taken`},
		{[]string{"--drone-name", "1=a", "--drone-name", "2=a"}, `--drone-name "2=a": name "a" is taken`},
		{[]string{"--drone-agency", "tcp:10.0.0.5:5760/1=nobody"}, `--drone-agency "tcp:10.0.0.5:5760/1=nobody": no such agency "nobody"`},
		{[]string{"--drone-agency", "uid:ab=nobody"}, `--drone-agency "uid:00000000000000ab=nobody": no such agency "nobody"`},
		{[]string{"--sim", "1", "--mavlink", "bogus"}, `--mavlink: invalid: bad MAVLink endpoint "bogus": missing kind`},
	} {
		cfg, err := parseServe(t, append([]string{"--mavlink", "udp:127.0.0.1:0"}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if err := validateServe(&cfg); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
