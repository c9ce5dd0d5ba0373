package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
	}{
		{"plain", "4242 (centinela) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 10", 3 * time.Second},
		{"name with spaces and parentheses", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 1 1", 30 * time.Millisecond},
		{"no name", "4242 centinela S 1", 0},
		{"too short", "4242 (centinela) S 1 2 3", 0},
		{"not numbers", "4242 (c) S 1 4242 4242 0 -1 0 0 0 0 0 x y 0", 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Parse(tc.line); got != tc.want {
				t.Errorf("Parse(%q) = %v, want %v", tc.line, got, tc.want)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	end := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(end); x++ {
		_ = x * x
	}
	if d := Process(os.Getpid()); d <= 0 {
		t.Errorf("this process's CPU %v after spinning", d)
	}
	if d := Process(-1); d != 0 {
		t.Errorf("no process: %v", d)
	}
}
