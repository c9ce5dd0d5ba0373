//go:build !linux

package wsload

import "time"

func gettid() int                     { return 0 }
func threadCPU(tid int) time.Duration { return 0 }
