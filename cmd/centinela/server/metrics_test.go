package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches a Prometheus text page and returns its samples by their
// full name with labels, as printed ("name{a=\"b\"}").
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s: %s", resp.Status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// sumOf adds up the samples of metric name whose labels contain every
// given "k=\"v\"" fragment.
func sumOf(m map[string]float64, name string, labels ...string) float64 {
	total := 0.0
	for k, v := range m {
		base, rest, _ := strings.Cut(k, "{")
		if base != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

func TestServeMetricsWhileDronesFly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end flight")
	}
	cfg := testConfig("tcpin:127.0.0.1:0")
	cfg.Sim = 3
	cfg.SimSpeedup = testSpeedup
	cfg.SimBootDelay = time.Second
	cfg.Debug = DebugConfig{Metrics: "127.0.0.1:0", Pprof: "127.0.0.1:0"}
	srv := mustServer(t, cfg)
	if len(srv.debug) != 2 {
		t.Fatalf("want a metrics and a pprof server, got %d", len(srv.debug))
	}
	url := "http://" + srv.debug[0].BoundAddr().String() + "/metrics"

	var first map[string]float64
	eventually(t, 20*time.Second, "3 drones up and an answered command in the metrics", func() bool {
		first = scrape(t, url)
		return sumOf(first, "centinela_drones", `link_state="up"`) == 3 &&
			sumOf(first, "centinela_mavlink_operation_duration_seconds_count", `op="request_message"`) > 0 &&
			sumOf(first, "centinela_mavlink_frames_received_total", `message="GLOBAL_POSITION_INT"`) > 0
	})
	var second map[string]float64
	eventually(t, 20*time.Second, "counters to move", func() bool {
		second = scrape(t, url)
		return sumOf(second, "centinela_mavlink_frames_received_total", `message="GLOBAL_POSITION_INT"`) >
			sumOf(first, "centinela_mavlink_frames_received_total", `message="GLOBAL_POSITION_INT"`) &&
			sumOf(second, "centinela_zone_checks_total") > sumOf(first, "centinela_zone_checks_total") &&
			sumOf(second, "centinela_mavlink_frames_decoded_total") > sumOf(first, "centinela_mavlink_frames_decoded_total") &&
			// The link counts come with the transport's LinkStats, once a second.
			sumOf(second, "centinela_drone_link_frames") > 0
	})
	for _, name := range []string{"centinela_mavlink_frames_sent_total", "centinela_drone_link_frames",
		"process_cpu_seconds_total", "go_goroutines"} {
		if sumOf(second, name) <= 0 {
			t.Errorf("%s: want a positive value, got %v", name, sumOf(second, name))
		}
	}
	if got := sumOf(second, "centinela_mavlink_frames_received_total", `message="HEARTBEAT"`, `endpoint="udp:127.0.0.1:0"`); got <= 0 {
		t.Errorf("heartbeats on the sim endpoint: got %v; samples: %v", got, keysOf(second, "centinela_mavlink_frames_received_total"))
	}
	if sumOf(second, "centinela_mavlink_parse_errors_total") != 0 {
		t.Errorf("parse errors on a clean link: %v", sumOf(second, "centinela_mavlink_parse_errors_total"))
	}

	// The links' limits are counted by reason: binary junk on a TCP link.
	junk, err := net.Dial("tcp", srv.MAVLinkAddr(0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	if _, err := junk.Write(bytes.Repeat([]byte{0x00, 0x13, 0x37, 0x99}, 1024)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "junk bytes counted", func() bool {
		return sumOf(scrape(t, url), "centinela_link_refused_total", `reason="junk_bytes"`) > 0
	})
	if third := scrape(t, url); len(keysOf(third, "centinela_link_refused_total")) < 10 {
		t.Errorf("link limit counters: %v", keysOf(third, "centinela_link_refused_total"))
	}

	// pprof only where asked for: on its own address, not next to /metrics.
	resp, err := http.Get("http://" + srv.debug[1].BoundAddr().String() + "/debug/pprof/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pprof: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + srv.debug[0].BoundAddr().String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof next to /metrics without Debug.Pprof there: %s", resp.Status)
	}
}

func keysOf(m map[string]float64, name string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, name) {
			out = append(out, k)
		}
	}
	return out
}

func TestServeMetricsOffByDefault(t *testing.T) {
	cfg := testConfig("udp:127.0.0.1:0")
	srv := mustServer(t, cfg)
	if len(srv.debug) != 0 {
		t.Fatalf("metrics or pprof served without Debug.Metrics/Pprof: %d servers", len(srv.debug))
	}
}

func TestServeMetricsAddressInUse(t *testing.T) {
	cfg := testConfig("udp:127.0.0.1:0")
	cfg.Debug.Metrics = "127.0.0.1:0"
	srv := mustServer(t, cfg)
	cfg2 := testConfig("udp:127.0.0.1:0")
	cfg2.Debug.Metrics = srv.debug[0].BoundAddr().String()
	if _, err := Start(cfg2, testLogger(t)); err == nil || !strings.Contains(err.Error(), "Debug.Metrics") {
		t.Fatalf("want a Debug.Metrics listen error, got %v", err)
	}
}
