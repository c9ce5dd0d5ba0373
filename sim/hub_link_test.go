package sim

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestHubOwnSocketsAndPacking checks what the server sees of hub drones:
// one source port per drone carrying only that drone's system id, and
// several frames in some datagrams.
func TestHubOwnSocketsAndPacking(t *testing.T) {
	if !hubSupported {
		t.Skip("no hub on this system")
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := startSwarm(t, Config{Drones: 5, Connect: "udpout:" + pc.LocalAddr().String(), StreamUnasked: true, BootDelay: -1})
	if s.hub == nil {
		t.Fatal("udpout drones without a hub")
	}
	sysByPort := map[int]map[uint8]bool{}
	packed := 0
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (len(sysByPort) < 5 || packed == 0) {
		_ = pc.SetReadDeadline(deadline)
		n, from, err := pc.ReadFromUDP(buf)
		if err != nil {
			break
		}
		ids := frameHeaders(buf[:n])
		if len(ids) > 1 {
			packed++
		}
		if sysByPort[from.Port] == nil {
			sysByPort[from.Port] = map[uint8]bool{}
		}
		for _, id := range ids {
			sysByPort[from.Port][id] = true
		}
	}
	if len(sysByPort) != 5 {
		t.Fatalf("%d source ports, want one per drone (5): %v", len(sysByPort), sysByPort)
	}
	for port, ids := range sysByPort {
		if len(ids) != 1 {
			t.Errorf("port %d carries system ids %v, want one", port, ids)
		}
	}
	if packed == 0 {
		t.Error("no datagram with several frames")
	}
	// Closing leaves no goroutine behind: the hub's reader is gone.
	before := runtime.NumGoroutine()
	s.Close()
	if after := runtime.NumGoroutine(); after >= before {
		t.Errorf("goroutines %d before Close, %d after", before, after)
	}
}

// BenchmarkSwarmSend measures the simulator's cost of streaming telemetry
// (10 Hz position and attitude, 4 Hz the rest, as unasked streams) from
// many drones to a UDP sink: CPU per frame sent (the sink's thread
// excluded) and memory per drone, with the hub and with a gomavlib Node
// per drone (as before the hub). Run with -benchtime=1x; each run streams
// for 3 s.
func BenchmarkSwarmSend(b *testing.B) {
	for _, mode := range []string{"hub", "node-per-drone"} {
		b.Run(mode+"/drones=250", func(b *testing.B) {
			for b.Loop() {
				benchSwarmSend(b, 250, mode == "node-per-drone")
			}
		})
	}
}

func benchSwarmSend(b *testing.B, n int, nodePerDrone bool) {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	_ = pc.SetReadBuffer(8 << 20)
	type sinkResult struct {
		frames, grams int
		cpu           time.Duration
	}
	stop := make(chan struct{})
	res := make(chan sinkResult, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, 65536)
		var r sinkResult
		t0 := threadCPU()
		for {
			select {
			case <-stop:
				r.cpu = threadCPU() - t0
				res <- r
				return
			default:
			}
			_ = pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			m, err := pc.Read(buf)
			if err != nil {
				continue
			}
			r.grams++
			r.frames += len(frameHeaders(buf[:m]))
		}
	}()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s := New(Config{Drones: n, Connect: "udpout:" + pc.LocalAddr().String(), StreamUnasked: true, BootDelay: -1})
	s.nodePerDrone = nodePerDrone
	if err := s.Initialize(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // streams start
	c0 := processCPU()
	time.Sleep(3 * time.Second)
	c1 := processCPU()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	s.Close()
	close(stop)
	r := <-res
	if r.frames == 0 {
		b.Fatal("the sink received nothing")
	}
	cpu := c1 - c0 - r.cpu
	// The sink counted frames over its whole life; scale to the window.
	b.ReportMetric(float64(cpu.Microseconds())/(float64(r.frames)*3/3.5), "cpu-us/frame")
	b.ReportMetric(float64(r.frames)/float64(r.grams), "frames/datagram")
	b.ReportMetric(float64(r.frames)/3.5, "frames/s")
	b.ReportMetric(float64(int64(m1.Sys)-int64(m0.Sys))/1024/float64(n), "KiB/drone")
	b.ReportMetric(float64(int64(m1.HeapInuse+m1.StackInuse)-int64(m0.HeapInuse+m0.StackInuse))/1024/float64(n), "inuse-KiB/drone")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
