package wsload

import (
	"syscall"
	"time"

	"github.com/centinela-gcs/centinela/internal/procstat"
)

func gettid() int { return syscall.Gettid() }

// threadCPU returns the CPU time of this process's thread tid (0 if
// unknown).
func threadCPU(tid int) time.Duration { return procstat.Thread(tid) }
