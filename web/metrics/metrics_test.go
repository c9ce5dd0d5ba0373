package metrics

import (
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

func get(t *testing.T, src Sources) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(src).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestHandlerExportsSources(t *testing.T) {
	n := uint64(0)
	src := Sources{
		Fleet: func() fleet.Stats {
			return fleet.Stats{Drones: 5, LinkUp: 3, LinkLost: 1, FramesReceived: 100, FramesLost: 2, Subscriptions: 2, SubscriptionMissed: 7}
		},
		ZoneWatch: func() fleet.ZoneWatchStats {
			return fleet.ZoneWatchStats{Checks: 40, CheckTime: 2 * time.Millisecond, Breaches: 1, Approaches: 2, Returns: 1, Responses: 1}
		},
		Transport: func() Transport {
			n += 10
			return Transport{Frames: n, Links: 3, FramesLost: 4,
				Messages: []Message{{Endpoint: "udp:0.0.0.0:14550", Name: "HEARTBEAT", In: n, Out: 1}},
				Buckets:  []time.Duration{10 * time.Millisecond, time.Second},
				Operations: []Operation{{Op: "arm", Result: "ok", Count: 3, Sum: 60 * time.Millisecond, Buckets: []uint64{1, 3}},
					{Op: "arm", Result: "denied", Count: 1, Sum: 5 * time.Millisecond, Buckets: []uint64{1, 1}}}}
		},
		SocketDrops: func() uint64 { return 9 },
		Recording: func() Recording {
			return Recording{Stopped: true, Points: 120, Events: 7, DroppedPoints: 30, DroppedEvents: 2}
		},
		Extra: []func() []Sample{func() []Sample {
			return []Sample{{Name: "centinela_ws_clients", Help: "WebSocket clients.", Value: 2},
				{Name: "centinela_ws_dropped_total", Help: "Dropped.", Counter: true, Labels: []string{"why", "slow"}, Value: 5}}
		}},
	}
	first := get(t, src)
	for _, want := range []string{
		`centinela_drones{link_state="up"} 3`,
		`centinela_drones{link_state="lost"} 1`,
		`centinela_drones{link_state="unknown"} 1`,
		`centinela_drone_link_frames{kind="received"} 100`,
		`centinela_bus_missed_events_total 7`,
		`centinela_mavlink_frames_received_total{endpoint="udp:0.0.0.0:14550",message="HEARTBEAT"} 10`,
		`centinela_mavlink_frames_sent_total{endpoint="udp:0.0.0.0:14550",message="HEARTBEAT"} 1`,
		`centinela_frames_lost_total{where="sequence"} 4`,
		`centinela_frames_lost_total{where="socket"} 9`,
		`centinela_mavlink_operation_duration_seconds_bucket{op="arm",result="ok",le="0.01"} 1`,
		`centinela_mavlink_operation_duration_seconds_bucket{op="arm",result="ok",le="+Inf"} 3`,
		`centinela_mavlink_operation_duration_seconds_sum{op="arm",result="ok"} 0.06`,
		`centinela_mavlink_operation_duration_seconds_count{op="arm",result="denied"} 1`,
		`centinela_zone_checks_total 40`,
		`centinela_zone_check_seconds_total 0.002`,
		`centinela_zone_transitions_total{to="breached"} 1`,
		`centinela_recording_failed 1`,
		`centinela_recorded_total{kind="points"} 120`,
		`centinela_recording_dropped_total{kind="events"} 2`,
		`centinela_ws_clients 2`,
		`centinela_ws_dropped_total{why="slow"} 5`,
		`go_goroutines `,
	} {
		if !strings.Contains(first, want+"\n") && !strings.Contains(first, want) {
			t.Errorf("missing %q in:\n%s", want, first)
		}
	}
	if second := get(t, src); !strings.Contains(second, `centinela_mavlink_frames_decoded_total 20`) {
		t.Errorf("a second scrape does not read the sources again:\n%s", second)
	}
}

func TestHandlerWithoutSources(t *testing.T) {
	out := get(t, Sources{})
	if strings.Contains(out, "centinela_") {
		t.Errorf("centinela metrics without sources:\n%s", out)
	}
	if !strings.Contains(out, "go_goroutines") {
		t.Errorf("no runtime metrics:\n%s", out)
	}
}

func TestServerNeedsSomethingToServe(t *testing.T) {
	s := &Server{Addr: "127.0.0.1:0"}
	if err := s.Initialize(); fleet.ErrorCode(err) != fleet.Invalid {
		t.Fatalf("want Invalid, got %v", err)
	}
}

// TestDashboardNamesExist checks that every centinela_ metric the Grafana
// dashboard queries is exported.
func TestDashboardNamesExist(t *testing.T) {
	data, err := os.ReadFile("../../docs/grafana-centinela.json")
	if err != nil {
		t.Fatal(err)
	}
	out := get(t, Sources{
		Fleet:     func() fleet.Stats { return fleet.Stats{} },
		ZoneWatch: func() fleet.ZoneWatchStats { return fleet.ZoneWatchStats{} },
		Transport: func() Transport {
			return Transport{Messages: []Message{{Endpoint: "e", Name: "HEARTBEAT", In: 1, Out: 1}},
				Buckets: []time.Duration{time.Second}, Operations: []Operation{{Op: "arm", Result: "ok", Count: 1, Buckets: []uint64{1}}}}
		},
		SocketDrops: func() uint64 { return 0 },
	})
	names := regexp.MustCompile(`centinela_[a-z_]+`).FindAllString(string(data), -1)
	if len(names) < 10 {
		t.Fatalf("only %d metric names in the dashboard", len(names))
	}
	for _, n := range names {
		if !strings.Contains(out, "\n"+n+"{") && !strings.Contains(out, "\n"+n+" ") {
			t.Errorf("dashboard queries %s, which is not exported", n)
		}
	}
}
