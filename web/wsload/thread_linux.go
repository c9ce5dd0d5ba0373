package wsload

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func gettid() int { return syscall.Gettid() }

// threadCPU returns the CPU time of this process's thread tid, from
// /proc/self/task/TID/stat (0 if unknown).
func threadCPU(tid int) time.Duration {
	data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}
