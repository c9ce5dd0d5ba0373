package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

func TestParseFault(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want string // "" = valid
	}{
		{"2:loss-out=30,loss-in=10", ""},
		{"1:latency=50ms,jitter=20ms,drain=3,wind-speed=12,wind-dir=270", ""},
		{"3:cut-at=60s,cut-for=10s,gps-lost-at=5s,gps-lost-for=2s,sysid=9", ""},
		{"1:gps-lost=true", ""},
		{"x:loss-out=3", "SYSID"},
		{"0:loss-out=3", "SYSID"},
		{"1:loss-out=130", "loss-out=130"},
		{"1:loss-out=NaN", "loss-out=NaN"},
		{"1:latency=-3s", "latency=-3s"},
		{"1:teleport=3", "unknown key"},
		{"1:cut-at=3s", "cut-at and cut-for"},
		{"1:loss-out", "KEY=VALUE"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parseFault(tc.spec)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	f, _ := parseFault("2:loss-out=30,latency=50ms,cut-at=1s,cut-for=2s")
	if f.SysID != 2 || f.Faults.LossOut != 0.3 || f.Faults.Latency != 50*time.Millisecond || f.CutAt != time.Second || f.CutFor != 2*time.Second {
		t.Errorf("parsed %+v", f)
	}
}

// centinela sim with per-drone faults from flags: drone 2 whose every
// message is lost is never heard; drone 1's link is cut after start for a
// while and comes back.
func TestSimCommandFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs simulated drones: skipped with -short")
	}
	srv := mustServer(t, testServeConfig("udp:127.0.0.1:0"))
	sub := srv.Fleet.Subscribe(fleet.SubscribeOptions{})
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--drones", "2", "--connect", "udpout:" + srv.MAVLinkAddr(0).String(),
			"--speedup", "10", "--boot-delay", "0", "--log-level", "error",
			"--fault", "1:cut-at=1s,cut-for=3s", "--fault", "2:loss-out=100"}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sim exited %d", code)
		}
	}()
	waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.DroneDiscovered)
		return ok && e.Drone.ID == "sysid-1"
	})
	waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.LinkLost)
		return ok && e.DroneID == "sysid-1"
	})
	waitEvent(t, sub, 10*time.Second, func(ev fleet.Event) bool {
		e, ok := ev.(fleet.LinkRegained)
		return ok && e.DroneID == "sysid-1"
	})
	if _, err := srv.Fleet.Drone("sysid-2"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("drone 2 with 100 %% loss out was heard: %v", err)
	}
}

func TestSimConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no endpoint", []string{"--drones", "2"}, "exactly one of"},
		{"both endpoints", []string{"--connect", "udpout:127.0.0.1:1", "--listen", "tcpin:127.0.0.1:0"}, "exactly one of"},
		{"too many drones", []string{"--drones", "300", "--connect", "udpout:127.0.0.1:1"}, "--drones"},
		{"fault for a missing drone", []string{"--drones", "2", "--connect", "udpout:127.0.0.1:1", "--fault", "5:loss-out=3"}, "no drone"},
		{"bad loss", []string{"--connect", "udpout:127.0.0.1:1", "--loss-in", "101"}, "--loss-in"},
		{"bad endpoint", []string{"--connect", "carrier-pigeon:1"}, "udpout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb strings.Builder
			if code := run(context.Background(), append([]string{"sim"}, tc.args...), io.Discard, &errb); code == 0 {
				t.Fatal("exit 0, want failure")
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tc.want)
			}
		})
	}
}
