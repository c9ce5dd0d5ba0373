package fleet_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// loadFrames is one second of a drone's telemetry as the fleet sees it from
// ArduCopter at Centinela's stream rates: GLOBAL_POSITION_INT at 10 Hz,
// ATTITUDE and SYS_STATUS at 3 Hz, a HEARTBEAT at 1 Hz (17 updates).
// TimeBoot is 0 so that replaying the same second never looks like a reboot.
func loadFrames(i int) []fleet.Update {
	lat := 32.5 + float64(i%100)*1e-3
	lon := -117 + float64(i/100)*1e-3
	var us []fleet.Update
	for n := range 10 {
		us = append(us, fleet.GlobalPosition{Lat: lat + float64(n)*1e-6, Lon: lon, AltMSL: 80, RelAlt: 60, VN: 5, VE: 1, VD: 0, HeadingDeg: 10})
		switch n {
		case 0, 3, 6:
			us = append(us, fleet.Attitude{Roll: 0.01 * float64(n), Pitch: 0.02, Yaw: 1})
		case 1, 4, 7:
			us = append(us, fleet.SysStatus{VoltageV: 15.2, CurrentA: 12, RemainingPct: 80 - n, SensorsPresent: 1 << 28, SensorsHealth: 1 << 28})
		case 9:
			us = append(us, ft.Copter(ft.Auto, true, ft.StatusActive))
		}
	}
	return us
}

// benchSub is a subscriber of one of the kinds the server runs, doing a
// token amount of work per event so the bus's own cost dominates.
type benchSub struct {
	name   string
	sub    *fleet.Subscription
	slow   time.Duration // pause after each event read (a slow client)
	sync   atomic.Uint64 // the last sync marker seen
	states atomic.Uint64 // states received
	sum    float64
	last   map[string]float64
}

func (b *benchSub) onState(st *fleet.DroneState) {
	b.states.Add(1)
	switch b.name {
	case "zone":
		if st.HasPosition && st.LinkState == fleet.LinkStateUp {
			b.sum += st.Position.Lat
		}
	case "recorder":
		if st.HasPosition {
			b.last[st.ID] = st.Position.Lat
		}
	case "alerts":
		if st.Battery.RemainingPct >= 0 && st.Battery.RemainingPct < 20 {
			b.sum++
		}
	default:
		b.sum += st.Heading
	}
}

func (b *benchSub) onEvent(ev fleet.Event) {
	switch e := ev.(type) {
	case fleet.StateChanged:
		b.onState(&e.Drone)
	case fleet.OperatorAction:
		var n uint64
		fmt.Sscan(e.Summary, &n)
		b.sync.Store(n)
	}
}

func (b *benchSub) run(wg *sync.WaitGroup) {
	defer wg.Done()
	if b.sub.C == nil { // a Batch subscription
		take := func(st *fleet.DroneState, ev fleet.Event) {
			if st != nil {
				b.onState(st)
			} else {
				b.onEvent(ev)
			}
			if b.slow > 0 {
				time.Sleep(b.slow)
			}
		}
		for range b.sub.Ready() {
			if !b.sub.Take(take) {
				return
			}
		}
		return
	}
	for ev := range b.sub.C {
		b.onEvent(ev)
		if b.slow > 0 {
			time.Sleep(b.slow)
		}
	}
}

// benchLoad feeds a fleet of drones the realistic mix (loadFrames), drone
// after drone within each 100 ms slot as a fleet's datagrams interleave,
// with the subscribers the server runs (zone watch, recorder, gRPC
// telemetry stream, web hub, alerts), plus a slow one when slow. Paced, it
// lets the subscribers catch up after each slot, as they do at 10 Hz, so
// that every update reaches each of them; else it feeds flat out and the
// subscribers coalesce what they fall behind on. It reports the process's
// CPU per update (cpu-ns/op: every goroutine, subscribers' and GC
// included), which the machine's other load does not inflate as much as
// wall time, the heap allocations per update to one decimal (mallocs/op),
// and the states the fast subscribers received per update (states/op).
func benchLoad(b *testing.B, drones int, slow, paced bool, opt fleet.SubscribeOptions) {
	benchLoadAt(b, drones, slow, paced, 0, opt)
}

// benchLoadAt is benchLoad, feeding rate updates a second in real time
// when rate > 0 (a millisecond's worth at a time, as a socket delivers
// them), which is when a subscriber that wakes for every update costs most.
func benchLoadAt(b *testing.B, drones int, slow, paced bool, rate int, opt fleet.SubscribeOptions) {
	benchLoadWith(b, drones, slow, paced, rate, func(_ string, o *fleet.SubscribeOptions) {
		o.Batch, o.Linger = opt.Batch, opt.Linger
	})
}

// serverMix subscribes as the server does: the zone watch and the recorder
// read C (their packages are not converted yet), app.Watch (the gRPC
// streams, the web hub) and the alerts use Batch with their lingers.
func serverMix(name string, o *fleet.SubscribeOptions) {
	switch name {
	case "grpc", "web", "slow":
		o.Batch, o.Linger = true, 5*time.Millisecond
	case "alerts":
		o.Batch, o.Linger = true, 20*time.Millisecond
	}
}

// benchLoadWith is benchLoadAt with each subscriber's options set by mod.
func benchLoadWith(b *testing.B, drones int, slow, paced bool, rate int, mod func(name string, o *fleet.SubscribeOptions)) {
	f, _ := mustFleet(b, func(f *fleet.Fleet) {
		f.DroneID = func(k fleet.VehicleKey) string { return k.Link }
		f.TickInterval = 100 * time.Millisecond
	})
	vs := make([]*ft.Vehicle, drones)
	frames := make([][]fleet.Update, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("udp:b/%d", i), uint8(i%250+1))
		frames[i] = loadFrames(i)
		f.Handle(vs[i], ft.Copter(ft.Auto, true, ft.StatusActive))
	}
	with := func(name string, o fleet.SubscribeOptions) *fleet.Subscription {
		mod(name, &o)
		return f.Subscribe(o)
	}
	subs := []*benchSub{
		{name: "zone", sub: with("zone", fleet.SubscribeOptions{Snapshot: true})},
		{name: "recorder", sub: with("recorder", fleet.SubscribeOptions{QueueSize: 4096, Snapshot: true}), last: map[string]float64{}},
		{name: "grpc", sub: with("grpc", fleet.SubscribeOptions{Snapshot: true})},
		{name: "web", sub: with("web", fleet.SubscribeOptions{QueueSize: 4096, Snapshot: true})},
		{name: "alerts", sub: with("alerts", fleet.SubscribeOptions{QueueSize: 4096})},
	}
	fast := len(subs)
	if slow {
		subs = append(subs, &benchSub{name: "slow", sub: with("slow", fleet.SubscribeOptions{QueueSize: 64, Snapshot: true}), slow: 200 * time.Microsecond})
	}
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Add(1)
		go s.run(&wg)
	}
	defer wg.Wait()
	for _, s := range subs {
		defer s.sub.Close()
	}
	marker := uint64(0)
	settle := func() {
		marker++
		f.Publish(fleet.OperatorAction{Action: "bench.sync", Summary: fmt.Sprint(marker)})
		deadline := time.Now().Add(30 * time.Second)
		for _, s := range subs[:fast] {
			for s.sync.Load() < marker {
				if time.Now().After(deadline) {
					b.Fatalf("subscriber %s did not catch up", s.name)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	settle()

	states := func() (n uint64) {
		for _, s := range subs[:fast] {
			n += s.states.Load()
		}
		return n
	}

	perDrone := len(frames[0])
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	states0 := states()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	perMs := max(rate/1000, 1)
	for i := 0; i < b.N; i++ {
		if rate > 0 && i%perMs == 0 {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
		}
		slot := i / drones
		frame := frames[i%drones]
		f.Handle(vs[i%drones], frame[slot%perDrone])
		if paced && i%drones == drones-1 {
			settle()
		}
	}
	settle() // the subscribers' share of the work is part of the cost
	cpu := cpuTime() - cpu0
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	n := float64(b.N)
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/op")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "mallocs/op")
	b.ReportMetric(float64(states()-states0)/n, "states/op")
}

// BenchmarkHandleFleet1000 is 1,000 drones at 10 Hz with the server's five
// subscribers keeping up; Slow adds a subscriber that cannot; Burst feeds
// flat out. The subscribers read C; the Batch variants read with Take, and
// Linger lets them take 5 ms of states at once.
func BenchmarkHandleFleet1000(b *testing.B) {
	benchLoad(b, 1000, false, true, fleet.SubscribeOptions{})
}

func BenchmarkHandleFleet1000Slow(b *testing.B) {
	benchLoad(b, 1000, true, true, fleet.SubscribeOptions{})
}

func BenchmarkHandleFleet1000Burst(b *testing.B) {
	benchLoad(b, 1000, false, false, fleet.SubscribeOptions{})
}

func BenchmarkHandleFleet1000Batch(b *testing.B) {
	for _, c := range []struct {
		name       string
		slow, pace bool
		linger     time.Duration
	}{
		{"paced", false, true, 0},
		{"paced-slow", true, true, 0},
		{"burst", false, false, 0},
		{"paced-linger", false, true, 5 * time.Millisecond},
		{"paced-slow-linger", true, true, 5 * time.Millisecond},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchLoad(b, 1000, c.slow, c.pace, fleet.SubscribeOptions{Batch: true, Linger: c.linger})
		})
	}
}

// BenchmarkHandleFleet1000RealTime feeds 1,000 drones' 17,000 updates a
// second in real time (run it with -benchtime 17000x: a second), with
// subscribers on C, with Take, and with Take and a 5 ms Linger.
func BenchmarkHandleFleet1000RealTime(b *testing.B) {
	for _, c := range []struct {
		name string
		opt  fleet.SubscribeOptions
	}{
		{"chan", fleet.SubscribeOptions{}},
		{"chan-linger", fleet.SubscribeOptions{Linger: 5 * time.Millisecond}},
		{"batch", fleet.SubscribeOptions{Batch: true}},
		{"batch-linger", fleet.SubscribeOptions{Batch: true, Linger: 5 * time.Millisecond}},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchLoadAt(b, 1000, false, false, 17000, c.opt)
		})
	}
}

// BenchmarkHandleFleet1000Server subscribes as the server now does
// (serverMix), paced, with a slow client, and in real time.
func BenchmarkHandleFleet1000Server(b *testing.B) {
	b.Run("paced", func(b *testing.B) { benchLoadWith(b, 1000, false, true, 0, serverMix) })
	b.Run("paced-slow", func(b *testing.B) { benchLoadWith(b, 1000, true, true, 0, serverMix) })
	b.Run("realtime", func(b *testing.B) { benchLoadWith(b, 1000, false, false, 17000, serverMix) })
}
