package store

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// Disk full, honestly: a child process (this test binary, see TestMain)
// records a fleet into a file and the kernel refuses to let the file grow.
// Two ways: RLIMIT_FSIZE set to the file's size mid-run (works everywhere,
// root included: write and truncate past it fail with EFBIG), and a small
// tmpfs that fills up (ENOSPC; needs permission to mount).
const (
	diskFullEnv      = "CENTINELA_TEST_DISKFULL_DB"
	diskFullLimitEnv = "CENTINELA_TEST_DISKFULL_RLIMIT"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(diskFullEnv); path != "" {
		os.Exit(diskFullChild(path, os.Getenv(diskFullLimitEnv) != ""))
	}
	os.Exit(m.Run())
}

// diskFullResult is what the child reports.
type diskFullResult struct {
	Points, Events uint64
	Err            string
	Fed            int
	MaxHandle      time.Duration
	IngestAfter    bool
	// Stopped is the RecordingStopped event the fleet's bus carried.
	Stopped fleet.RecordingStopped
}

// diskFullChild records 5 drones into path until recording stops, then
// checks that ingest goes on and prints a diskFullResult.
func diskFullChild(path string, rlimit bool) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db, err := Open(path, Options{Logger: log})
	if err != nil {
		return fail("open: %v", err)
	}
	f := &fleet.Fleet{}
	if err := f.Initialize(); err != nil {
		return fail("fleet: %v", err)
	}
	r := &Recorder{DB: db, Fleet: f, Logger: log, BatchInterval: 10 * time.Millisecond}
	if err := r.Initialize(); err != nil {
		return fail("recorder: %v", err)
	}
	// Read the bus as the application layer does, keeping the stop event.
	sub := f.Subscribe(fleet.SubscribeOptions{QueueSize: 1 << 16})
	stoppedEv := make(chan fleet.RecordingStopped, 1)
	go func() {
		for ev := range sub.C {
			if e, ok := ev.(fleet.RecordingStopped); ok {
				stoppedEv <- e
			}
		}
	}()
	var vs []*ft.Vehicle
	for i := range 5 {
		v := ft.NewVehicle(fmt.Sprintf("udp:test/%d", i+1), uint8(i+1))
		ft.Feed(f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
		vs = append(vs, v)
	}
	var res diskFullResult
	feed := func() {
		for _, v := range vs {
			start := time.Now()
			ft.Feed(f, v, ft.Position(time.Duration(res.Fed)*time.Millisecond, 32.5+float64(res.Fed)*1e-6, -117, 50))
			res.MaxHandle = max(res.MaxHandle, time.Since(start))
		}
		res.Fed++
		time.Sleep(200 * time.Microsecond)
	}
	deadline := time.Now().Add(20 * time.Second)
	for r.Stats().Points < 500 {
		if feed(); time.Now().After(deadline) {
			return fail("nothing recorded: %+v", r.Stats())
		}
	}
	if rlimit {
		fi, err := os.Stat(path)
		if err != nil {
			return fail("stat: %v", err)
		}
		var lim syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim)
		lim.Cur = uint64(fi.Size())
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			return fail("setrlimit: %v", err)
		}
	}
	for stopped := false; !stopped; {
		select {
		case <-r.Failed():
			stopped = true
		default:
		}
		if feed(); time.Now().After(deadline) {
			return fail("recording never stopped: %+v", r.Stats())
		}
	}
	if !r.Stats().Stopped {
		return fail("Failed closed, Stats not stopped: %+v", r.Stats())
	}
	// Ingest goes on after the store failed.
	for range 100 {
		feed()
	}
	d, err := f.Drone("sysid-5")
	res.IngestAfter = err == nil && d.Position.Lat == 32.5+float64(res.Fed-1)*1e-6
	select {
	case res.Stopped = <-stoppedEv:
	case <-time.After(5 * time.Second):
	}
	sub.Close()
	r.Close()
	f.Close()
	s := r.Stats()
	res.Points, res.Events = s.Points, s.Events
	if s.Err != nil {
		res.Err = s.Err.Error()
	}
	db.Close()
	out, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", out)
	return 0
}

func runDiskFullChild(t *testing.T, path string, rlimit bool) diskFullResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), diskFullEnv+"="+path)
	if rlimit {
		cmd.Env = append(cmd.Env, diskFullLimitEnv+"=1")
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstderr:\n%s", err, stderr.String())
	}
	_, js, ok := strings.Cut(string(out), "RESULT ")
	var res diskFullResult
	if !ok || json.Unmarshal([]byte(js), &res) != nil {
		t.Fatalf("child printed %q", out)
	}
	if !strings.Contains(stderr.String(), "recording stopped") {
		t.Errorf("the child did not log that recording stopped:\n%s", stderr.String())
	}
	return res
}

// checkAfterDiskFull checks the child's file: consistent, holding every
// point and event the child committed, and writable again.
func checkAfterDiskFull(t *testing.T, path string, res diskFullResult) {
	t.Helper()
	if res.Err == "" || res.Points < 500 || !res.IngestAfter {
		t.Fatalf("child result %+v: want an error, 500+ points committed, ingest going on", res)
	}
	if res.Stopped.Err != res.Err || res.Stopped.Path != path || res.Stopped.At.IsZero() {
		t.Errorf("the bus carried %+v, want RecordingStopped with the error %q and the path", res.Stopped, res.Err)
	}
	// How long a Handle took is logged, not asserted: wall time under -race
	// on a loaded machine says nothing; IngestAfter (ingest went on after
	// recording stopped) is the property.
	t.Logf("slowest Handle while the disk filled: %s", res.MaxHandle)
	checkFile(t, path)
	db := mustOpen(t, path, Options{})
	ids, err := db.TrackDrones()
	must(t, err)
	var n uint64
	for _, id := range ids {
		pts, err := db.Track(id, time.Time{}, time.Time{}, MaxTrackPoints)
		must(t, err)
		n += uint64(len(pts))
	}
	if n != res.Points {
		t.Errorf("%d points in the file, the child committed %d", n, res.Points)
	}
	evs, err := db.Events(app.EventQuery{})
	must(t, err)
	if uint64(len(evs)) != res.Events {
		t.Errorf("%d events in the file, the child committed %d", len(evs), res.Events)
	}
	must(t, db.PutToken(app.Token{ID: "after"}))
	t.Logf("child fed %d rounds, committed %d points and %d events, then: %s", res.Fed, res.Points, res.Events, res.Err)
}

func TestRecorderStopsWhenFileCannotGrow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	res := runDiskFullChild(t, path, true)
	if !strings.Contains(res.Err, "file too large") {
		t.Errorf("error %q, want the kernel's EFBIG (file too large)", res.Err)
	}
	checkAfterDiskFull(t, path, res)
}

func TestRecorderStopsWhenTmpfsIsFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs (%v: %s); TestRecorderStopsWhenFileCannotGrow covers a full disk with RLIMIT_FSIZE", err, strings.TrimSpace(string(out)))
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	path := filepath.Join(dir, "c.db")
	res := runDiskFullChild(t, path, false)
	if !strings.Contains(res.Err, "no space left on device") {
		t.Errorf("error %q, want ENOSPC", res.Err)
	}
	checkAfterDiskFull(t, path, res)
}
