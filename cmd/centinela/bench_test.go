package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd := exec.Command(bin, "bench", "--drones", "20", "--duration", "2s", "--warmup", "15s", "--sim-process", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
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
	// The children are gone.
	if out, _ := exec.Command("pgrep", "-f", bin+" sim").Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("simulator processes left running: %s", out)
	}
	_ = os.Remove(bin)
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--drones", "0"}, {"--drones", "20000"}, {"--rate", "0"}, {"--duration", "0s"},
		{"--ws-clients", "3"}, {"--json", "--markdown"}, {"--sweep", "10,0"}, {"--sweep", "ten"},
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
