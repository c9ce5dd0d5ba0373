package server

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// testSpeedup is the simulated drones' speed-up in these tests.
const testSpeedup = 20

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("CENTINELA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is DefaultConfig on endpoints, with a short link timeout and
// fast streams.
func testConfig(endpoints ...string) Config {
	cfg := DefaultConfig()
	cfg.MAVLink = endpoints
	cfg.LinkTimeout = 1500 * time.Millisecond
	cfg.StreamHz = 10
	return cfg
}

// mustServer starts a server with cfg and closes it at cleanup.
func mustServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := Start(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
