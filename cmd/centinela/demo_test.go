package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// The demo's drones fly their patrols as missions to the end, land, get a
// fresh battery and go again.
func TestDemoFliesPatrols(t *testing.T) {
	if testing.Short() {
		t.Skip("flies the demo: skipped with -short")
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--grpc", "127.0.0.1:0", "--sim", "2", "--sim-speedup", "40", "--sim-boot-delay", "0",
			"--laps", "2", "--radius", "80", "--altitude", "30", "--status", "0", "--log-format", "json", "--http", "127.0.0.1:0"}, io.Discard, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	}()

	type rec struct {
		Msg     string `json:"msg"`
		DroneID string `json:"drone_id"`
		Sortie  int    `json:"sortie"`
		Mission string `json:"mission"`
		Err     string `json:"err"`
	}
	lines := make(chan rec, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var r rec
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				select {
				case lines <- r:
				default: // the test stopped reading; keep draining the pipe
				}
			}
		}
	}()

	ended := map[string]bool{}
	second := map[string]bool{}
	timeout := time.After(60 * time.Second)
	for len(second) < 2 {
		select {
		case r, ok := <-lines:
			if !ok {
				t.Fatal("demo stopped logging")
			}
			switch r.Msg {
			case "demo flight stopped":
				t.Fatalf("%s: demo flight stopped: %s", r.DroneID, r.Err)
			case "patrol ended":
				if r.Mission != "finished" {
					t.Errorf("%s: sortie %d ended with mission %s", r.DroneID, r.Sortie, r.Mission)
				}
				ended[r.DroneID] = true
			case "patrol started":
				if r.Sortie == 2 && ended[r.DroneID] {
					second[r.DroneID] = true
				}
			}
		case <-timeout:
			t.Fatalf("after 60 s: patrols ended %v, second sorties %v", ended, second)
		}
	}
}
