package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchCLI builds the binary and runs a tiny bench with the simulator
// in child processes, parsing --json.
func TestBenchCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "centinela")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// With --sim-process the WebSocket clients and the gRPC stream run in
	// a child process of their own.
	cmd := exec.Command(bin, "bench", "--drones", "20", "--duration", "2s", "--warmup", "15s", "--sim-process", "--ws-clients", "3", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	// The simulators run at --sim-nice (19 by default): the niceness of
	// the first one seen, from /proc/PID/stat.
	simNice := make(chan int, 1)
	go func() {
		defer close(simNice)
		for range 300 {
			out, _ := exec.Command("pgrep", "-f", bin+" sim").Output()
			if f := strings.Fields(string(out)); len(f) > 0 {
				if st, err := os.ReadFile("/proc/" + f[0] + "/stat"); err == nil {
					if i := bytes.LastIndexByte(st, ')'); i > 0 {
						if fs := strings.Fields(string(st[i+1:])); len(fs) > 17 {
							n, _ := strconv.Atoi(fs[16])
							simNice <- n
							return
						}
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("bench did not finish; stderr:\n%s", stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("--json output %q: %v", stdout.String(), err)
	}
	num := func(k string) float64 {
		v, ok := res[k].(float64)
		if !ok {
			t.Fatalf("%s missing or not a number in %v", k, res)
		}
		return v
	}
	if num("drones") != 20 || num("discovered") != 20 {
		t.Errorf("drones %v, discovered %v; want 20 and 20", res["drones"], res["discovered"])
	}
	// 20 drones at 10 Hz of positions alone: at least 150 frames/s.
	if fps := num("frames_per_s"); fps < 150 {
		t.Errorf("frames_per_s %v, want at least 150", fps)
	}
	for _, k := range []string{"server_cpu_us_per_frame", "floor_us_per_frame", "rss_per_drone_kib", "p99_latency_ms", "sim_cpu_us_per_frame"} {
		if v := num(k); v <= 0 {
			t.Errorf("%s = %v, want a positive figure", k, v)
		}
	}
	if num("frames_lost") < 0 || !strings.Contains(res["machine"].(string), "cores") {
		t.Errorf("result %v", res)
	}
	if n, ok := <-simNice; !ok || n != 19 || num("sim_nice") != 19 {
		t.Errorf("simulator niceness %d (seen %v), sim_nice %v: want 19", n, ok, res["sim_nice"])
	}
	// The clients' process timed the probe's positions and reported its
	// counts and CPU.
	if ws, _ := res["ws_latency"].(map[string]any); ws == nil || ws["samples"].(float64) < 5 {
		t.Errorf("ws_latency %v: want probe positions timed by the WebSocket clients", res["ws_latency"])
	}
	if num("grpc_samples") < 100 || num("ws_client_cores") <= 0 || num("ws_messages") <= 0 {
		t.Errorf("grpc_samples %v, ws_client_cores %v, ws_messages %v: want the client process's figures", res["grpc_samples"], res["ws_client_cores"], res["ws_messages"])
	}
	// The children (simulators and clients) are gone.
	if out, _ := exec.Command("pgrep", "-f", bin).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("child processes left running: %s", out)
	}
	_ = os.Remove(bin)
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--drones", "0"}, {"--drones", "20000"}, {"--rate", "0"}, {"--duration", "0s"},
		{"--ws-clients", "-1"}, {"--ws-clients", "5000"}, {"--ws-protocol", "3"}, {"--json", "--markdown"}, {"--sweep", "10,0"}, {"--sweep", "ten"},
		{"--sim-nice", "-1"}, {"--sim-nice", "20"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(t.Context(), append([]string{"bench"}, args...), &stdout, &stderr); code == 0 {
				t.Fatalf("exit 0; stdout %s", stdout.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("printed results: %s", stdout.String())
			}
		})
	}
}

// TestBenchWebSocket runs a tiny bench in-process with WebSocket clients,
// the gRPC stream and recording, and checks what it measured.
func TestBenchWebSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a bench for about 10 s: skipped with -short")
	}
	cfg := defaultBenchConfig()
	cfg.Drones, cfg.WSClients, cfg.Duration, cfg.Warmup = 5, 2, 3*time.Second, 20*time.Second
	res, err := bench(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if res.Discovered != cfg.Drones {
		t.Errorf("discovered %d, want %d", res.Discovered, cfg.Drones)
	}
	if res.WS.Samples < 10 || !(res.WS.P50ms > 0) || res.WS.P99ms < res.WS.P50ms || res.WS.MaxMs < res.WS.P99ms {
		t.Errorf("WebSocket latency %+v: want samples and positive p50 <= p99 <= max", res.WS)
	}
	if res.P99ms != res.WS.P99ms || !strings.Contains(res.LatencyTo, "WebSocket") {
		t.Errorf("headline latency %v to %q, want the WebSocket clients' %v", res.P99ms, res.LatencyTo, res.WS.P99ms)
	}
	if res.Bus.Samples < 10 || !(res.Bus.P50ms > 0) {
		t.Errorf("bus latency %+v: want samples and a positive p50", res.Bus)
	}
	// Every client received positions of every drone, the probe included.
	if res.WSDronesMin != cfg.Drones+1 {
		t.Errorf("fewest drones a WebSocket client received positions of: %d, want %d", res.WSDronesMin, cfg.Drones+1)
	}
	if res.WSMessages == 0 || res.WSStates < res.WSMessages || res.WSClosed != 0 {
		t.Errorf("WebSocket clients: %d messages, %d states, %d closed", res.WSMessages, res.WSStates, res.WSClosed)
	}
	if res.GRPCSamples == 0 || res.GRPC.Samples == 0 {
		t.Errorf("gRPC stream: %d samples, %d of the probe", res.GRPCSamples, res.GRPC.Samples)
	}
	if res.RecPoints == 0 || res.RecStopped {
		t.Errorf("recording: %d points, stopped %v", res.RecPoints, res.RecStopped)
	}
	if p := res.problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
}

// TestBenchProblems checks what makes a bench fail.
func TestBenchProblems(t *testing.T) {
	ok := benchResult{Drones: 300, Discovered: 300}
	if p := ok.problems(); len(p) != 0 {
		t.Errorf("a clean run: %v", p)
	}
	for name, r := range map[string]benchResult{
		"undiscovered": {Drones: 300, Discovered: 250},
		"lost":         {Drones: 3, Discovered: 3, FramesLost: 2, LostSocket: 2},
		"ws closed":    {Drones: 3, Discovered: 3, WSClients: 4, WSDronesMin: 4, WSClosed: 1},
		"ws unseen":    {Drones: 3, Discovered: 3, WSClients: 4, WSDronesMin: 3},
		"rec stopped":  {Drones: 3, Discovered: 3, RecStopped: true},
	} {
		if p := r.problems(); len(p) != 1 {
			t.Errorf("%s: problems %v, want one", name, p)
		}
	}
}
