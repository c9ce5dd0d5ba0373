package main

import (
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "none": 0, "1GiB": 1 << 30, "500MB": 500e6, "2 GiB": 2 << 30, "1.5MiB": 3 << 19, "1048576": 1 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1GB", "12 parsecs", "1KB", "GB", "1e30GB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestDefaultDBPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/lib/x")
	if p, err := defaultDBPath(); err != nil || p != "/var/lib/x/centinela/centinela.db" {
		t.Errorf("with XDG_STATE_HOME: %q, %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/ana")
	if p, err := defaultDBPath(); err != nil || p != "/home/ana/.local/state/centinela/centinela.db" {
		t.Errorf("without XDG_STATE_HOME: %q, %v", p, err)
	}
}

func TestFormatSize(t *testing.T) {
	for _, n := range []int64{0, 1 << 20, 3 << 30, 1 << 40, 1500000} {
		if got, err := parseSize(formatSize(n)); err != nil || got != n {
			t.Errorf("formatSize(%d) = %q, read back as %d, %v", n, formatSize(n), got, err)
		}
	}
	if got := formatSize(1 << 30); got != "1GiB" {
		t.Errorf("formatSize(1GiB) = %q", got)
	}
}
