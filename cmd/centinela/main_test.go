package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the tests run the real binary: the test executable runs
// main() itself when CENTINELA_TEST_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("CENTINELA_TEST_MAIN") == "1" {
		os.Args = append([]string{"centinela"}, strings.Fields(os.Getenv("CENTINELA_TEST_ARGS"))...)
		main()
		return
	}
	// The tests expect English unless they ask for a language: the
	// user's locale does not leak into them (nor into the binaries they run).
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		os.Unsetenv(v)
	}
	// No test touches the user's state directory (serve's default --db).
	state, err := os.MkdirTemp("", "centinela-test-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", state)
	code := m.Run()
	os.RemoveAll(state)
	os.Exit(code)
}

// TestServeStopsOnSignal runs "centinela serve --sim 2" as a process, waits
// until it has discovered both drones, signals it and expects a clean exit.
func TestServeStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary: skipped with -short")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "CENTINELA_TEST_MAIN=1",
				"CENTINELA_TEST_ARGS=serve --grpc 127.0.0.1:0 --http 127.0.0.1:0 --mavlink udp:127.0.0.1:0 --sim 2 --sim-speedup 5 --sim-boot-delay 0")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			discovered := make(chan struct{})
			var mu sync.Mutex
			var log strings.Builder
			go func() {
				sc := bufio.NewScanner(stderr)
				n := 0
				for sc.Scan() {
					mu.Lock()
					log.WriteString(sc.Text() + "\n")
					mu.Unlock()
					if strings.Contains(sc.Text(), "drone discovered") {
						if n++; n == 2 {
							close(discovered)
						}
					}
				}
			}()
			select {
			case <-discovered:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("drones not discovered; log:\n%s", log.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit after %s: %v", sig, err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 10 s after %s", sig)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(log.String(), "shutting down") {
				t.Errorf("no shutdown logged:\n%s", log.String())
			}
		})
	}
}

// TestServeLeavesNoGoroutines runs serve in-process with simulated drones
// and checks that every goroutine it started is gone after it returns.
func TestServeLeavesNoGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts simulated drones: skipped with -short")
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--mavlink", "udp:127.0.0.1:0", "--mavlink", "tcpin:127.0.0.1:0",
			"--grpc", "127.0.0.1:0", "--sim", "3", "--sim-speedup", "10", "--sim-boot-delay", "0", "--log-level", "error", "--http", "127.0.0.1:0"}, io.Discard, io.Discard)
	}()
	time.Sleep(1500 * time.Millisecond) // let links, streams and commands get going
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	eventually(t, 5*time.Second, "goroutines back to where they were", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
