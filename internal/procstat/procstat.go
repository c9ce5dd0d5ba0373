// Package procstat reads the CPU time of a process or thread from Linux's
// /proc (proc(5)): centinela bench's accounting of its child simulators and
// of the WebSocket clients' reader threads. Elsewhere, or when the file is
// gone, the CPU time is 0.
package procstat

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is Linux's USER_HZ, the unit of /proc's CPU times.
const userHZ = 100

// Process returns the CPU time (user and system) of process pid, from
// /proc/PID/stat (0 if unknown).
func Process(pid int) time.Duration {
	return File("/proc/" + strconv.Itoa(pid) + "/stat")
}

// Thread returns the CPU time of this process's thread tid, from
// /proc/self/task/TID/stat (0 if unknown).
func Thread(tid int) time.Duration {
	return File("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
}

// File returns the CPU time (utime + stime) of a stat file in proc(5)'s
// format (0 if it cannot be read or parsed).
func File(path string) time.Duration {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return Parse(string(data))
}

// Parse returns the CPU time (utime + stime, fields 14 and 15) of a stat
// line; the command name, field 2, is in parentheses and may hold spaces
// and parentheses itself, so fields are counted after its last ')'. It
// returns 0 for a line it cannot parse.
func Parse(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * time.Second / userHZ
}
