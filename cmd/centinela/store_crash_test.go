package main

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet/store"
)

// TestStoreSurvivesSIGKILL runs the real server binary recording three
// simulated drones into one database file and kills it with SIGKILL at a
// random moment, again and again (20 times; CENTINELA_CRASH_KILLS=N for a
// longer run). After each kill the file must open, pass bbolt's
// consistency check and hold a point no older than the batch window before
// the kill.
func TestStoreSurvivesSIGKILL(t *testing.T) {
	kills := 20
	if n, err := strconv.Atoi(os.Getenv("CENTINELA_CRASH_KILLS")); err == nil && n > 0 {
		kills = n
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "centinela")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "crash.db")
	// The newest point committed is at most one batch window (200 ms)
	// older than the kill, plus the time of the commit itself (an fsync)
	// and scheduling on a loaded machine.
	const window = store.DefaultBatchInterval + 300*time.Millisecond
	for i := range kills {
		killAt := runAndKill(t, bin, path, time.Duration(rand.Int64N(int64(time.Second))))
		db, err := store.Open(path, store.Options{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatalf("kill %d: open after SIGKILL: %v", i, err)
		}
		if err := db.Check(); err != nil {
			db.Close()
			t.Fatalf("kill %d: %v", i, err)
		}
		ids, err := db.TrackDrones()
		// The first kills may come before every drone has a position.
		if err != nil || len(ids) == 0 || len(ids) > 3 {
			db.Close()
			t.Fatalf("kill %d: drones with tracks %v, %v; want 1 to 3", i, ids, err)
		}
		var newest time.Time
		for _, id := range ids {
			pts, err := db.Track(id, killAt.Add(-10*time.Second), time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) > 0 && pts[len(pts)-1].At.After(newest) {
				newest = pts[len(pts)-1].At
			}
		}
		db.Close()
		if lag := killAt.Sub(newest); lag > window {
			t.Fatalf("kill %d: newest point %s before the kill, want at most %s", i, lag, window)
		} else if testing.Verbose() {
			t.Logf("kill %d: newest point %s before the kill", i, lag.Round(time.Millisecond))
		}
	}
}

// runAndKill starts serve on path, waits until it has committed telemetry,
// waits delay more and kills it with SIGKILL. It returns when it was killed.
func runAndKill(t *testing.T, bin, path string, delay time.Duration) time.Time {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--sim", "3", "--sim-speedup", "10", "--sim-boot-delay", "0",
		"--db", path, "--grpc", "off", "--http", "off", "--log-level", "info")
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	recording := make(chan struct{})
	drained := make(chan []string)
	go func() {
		var tail []string
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "msg=recording") {
				seen = true
				close(recording)
			}
			if tail = append(tail, sc.Text()); len(tail) > 20 {
				tail = tail[1:]
			}
		}
		drained <- tail
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case <-recording:
	case <-timeout.C:
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve did not record within 30 s; its log ends:\n%s", strings.Join(<-drained, "\n"))
	}
	time.Sleep(delay) // a random moment of recording
	killAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	tail := <-drained
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("serve ended with %v, not killed; its log ends:\n%s", err, strings.Join(tail, "\n"))
	}
	return killAt
}
