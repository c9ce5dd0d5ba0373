package server

import (
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
)

func TestPrintStatus(t *testing.T) {
	var b strings.Builder
	PrintStatus(&b, i18n.En, []fleet.DroneState{
		{ID: "sysid-2", LinkState: fleet.LinkStateLost, Mode: "RTL", Battery: fleet.Battery{RemainingPct: 40}},
		{ID: "halcon-1", LinkState: fleet.LinkStateUp, Mode: "AUTO", Armed: true, HasPosition: true,
			Position: fleet.Position{Lat: 32.54801, Lon: -117.02932, RelAlt: 40}, GroundSpeed: 9.96,
			Battery: fleet.Battery{RemainingPct: 87},
			Mission: fleet.MissionStatus{State: fleet.MissionStateRunning, Items: 8, CurrentSeq: 3, Percent: 41.6, ETA: 95 * time.Second}},
	})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("status table:\n%s", b.String())
	}
	for i, want := range [][]string{
		{"DRONE", "LINK", "MODE", "MISSION"},
		{"halcon-1", "up", "AUTO", "true", "32.54801", "-117.02932", "40.0", "10.0", "87", "running item 3/7 42% eta 1m35s"},
		{"sysid-2", "lost", "RTL", "false", "-", "-", "40", "-"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
}

// TestMaxDrones: Config.MaxDrones bounds the fleet and the transport: of
// three simulated drones, two are tracked and the third is refused.
func TestMaxDrones(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated drones")
	}
	cfg := testConfig("udp:127.0.0.1:0")
	cfg.Sim = 3
	cfg.SimBootDelay = 0
	cfg.MaxDrones = 2
	srv := mustServer(t, cfg)
	eventually(t, 20*time.Second, "two drones and the third refused", func() bool {
		return len(srv.Fleet.Drones()) == 2 && srv.Transport.Stats().LinksRefused > 0
	})
	if n := len(srv.Fleet.Drones()); n != 2 {
		t.Fatalf("%d drones tracked with MaxDrones 2", n)
	}
}

// TestMaxPeers: a listening endpoint takes at most MaxPeers peers; the
// others are refused and counted, and the fleet never hears them.
func TestMaxPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated drones")
	}
	cfg := testConfig("udp:127.0.0.1:0")
	cfg.Sim = 3 // each on a socket of its own: three peers of the endpoint
	cfg.SimBootDelay = 0
	cfg.MaxPeers = 2
	srv := mustServer(t, cfg)
	eventually(t, 20*time.Second, "two drones and the third peer refused", func() bool {
		return len(srv.Fleet.Drones()) == 2 && srv.Transport.Stats().PeersRefused > 0
	})
	time.Sleep(500 * time.Millisecond) // the third keeps sending
	if n := len(srv.Fleet.Drones()); n != 2 {
		t.Fatalf("%d drones with MaxPeers 2", n)
	}
}
