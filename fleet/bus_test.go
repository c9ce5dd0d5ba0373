package fleet_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestSlowSubscriber(t *testing.T) {
	f, _ := mustFleet(t)
	slow := f.Subscribe(fleet.SubscribeOptions{QueueSize: 8}) // never read until the end
	defer slow.Close()
	fast := subscribe(t, f, fleet.SubscribeOptions{QueueSize: 100000})

	const drones, positions, texts = 3, 5000, 100
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("l%d", i), uint8(i+1))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, v := range vs {
			f.Handle(v, ft.Copter(ft.Guided, false, ft.StatusStandby))
			for n := range positions {
				f.Handle(v, ft.Position(time.Duration(n+1)*time.Millisecond, 32+float64(i)*0.01+float64(n)*1e-6, -117, 10))
			}
		}
		for n := range texts {
			f.Handle(vs[0], fleet.StatusText{Severity: 6, Text: fmt.Sprintf("text %d", n)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Handle blocked on a slow subscriber")
	}

	// The fast subscriber got every discrete event.
	for n := range texts {
		st, _ := waitFor[fleet.StatusTextEvent](fast, nil)
		if st.Text != fmt.Sprintf("text %d", n) {
			t.Fatalf("fast subscriber got %q, want text %d", st.Text, n)
		}
	}

	// 3 discoveries + 100 texts: 8 wait in the queue, the writer may hold one.
	const discrete = drones + texts
	missed := slow.Missed()
	if missed != discrete-8 && missed != discrete-9 {
		t.Fatalf("Missed() = %d, want %d or %d", missed, discrete-8, discrete-9)
	}
	var gotMissed uint64
	latest := map[string]fleet.DroneState{}
	states, discreteGot := 0, 0
	deadline := time.After(5 * time.Second)
read:
	for {
		select {
		case ev := <-slow.C:
			switch e := ev.(type) {
			case fleet.Missed:
				gotMissed += e.N
			case fleet.StateChanged:
				states++
				latest[e.Drone.ID] = e.Drone
			default:
				discreteGot++
			}
			if gotMissed == missed && discreteGot+int(missed) == discrete && len(latest) == drones {
				break read
			}
		case <-deadline:
			t.Fatalf("slow subscriber: missed %d/%d, discrete %d, states %d", gotMissed, missed, discreteGot, states)
		}
	}
	if states > drones+1 {
		t.Errorf("%d state events for %d drones: not coalesced", states, drones)
	}
	for i := range drones {
		id := fmt.Sprintf("sysid-%d", i+1)
		want := 32 + float64(i)*0.01 + float64(positions-1)*1e-6
		if got := latest[id].Position.Lat; got != want {
			t.Errorf("%s latest lat %v, want %v", id, got, want)
		}
	}
}

func TestSubscriptionFilterAndSnapshot(t *testing.T) {
	f, _ := mustFleet(t)
	for i := range 3 {
		f.Handle(ft.NewVehicle(fmt.Sprint(i), uint8(i+1)), ft.Copter(0, false, ft.StatusStandby))
	}
	ev := subscribe(t, f, fleet.SubscribeOptions{Drones: []string{"sysid-2"}, Snapshot: true})
	sc, _ := waitFor[fleet.StateChanged](ev, nil)
	if sc.Drone.ID != "sysid-2" {
		t.Fatalf("snapshot of %q", sc.Drone.ID)
	}
	f.Handle(ft.NewVehicle("0", 1), fleet.StatusText{Text: "one"})
	f.Handle(ft.NewVehicle("1", 2), fleet.StatusText{Text: "two"})
	st, seen := waitFor[fleet.StatusTextEvent](ev, nil)
	if st.DroneID != "sysid-2" {
		t.Errorf("filtered subscription got %+v", st)
	}
	for _, e := range append(seen, ev.drain()...) {
		if id := fleet.EventDrone(e); id != "sysid-2" {
			t.Errorf("event about %q: %T", id, e)
		}
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	f, _ := mustFleet(t)
	subs := make([]*fleet.Subscription, 5)
	for i := range subs {
		subs[i] = f.Subscribe(fleet.SubscribeOptions{})
	}
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	subs[0].Close()
	subs[0].Close() // twice is fine
	f.Close()
	for _, s := range subs {
		for range s.C { // closed by f.Close
		}
	}
	poll(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	f.Handle(v, ft.Copter(0, true, ft.StatusStandby)) // after Close: ignored
	if st, _ := f.Drone("sysid-1"); st.Armed {
		t.Error("Handle after Close changed state")
	}
	late := f.Subscribe(fleet.SubscribeOptions{})
	if _, ok := <-late.C; ok {
		t.Error("subscription after Close is open")
	}
	late.Close()
}

func BenchmarkHandle(b *testing.B) {
	f, _ := mustFleet(b)
	const drones = 200
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("udp:b/%d", i), uint8(i+1))
		f.Handle(vs[i], ft.Copter(ft.Auto, true, ft.StatusActive))
	}
	// One subscriber that reads, one that never does.
	reader := f.Subscribe(fleet.SubscribeOptions{})
	go func() {
		for range reader.C {
		}
	}()
	idle := f.Subscribe(fleet.SubscribeOptions{QueueSize: 16})
	defer idle.Close()
	defer reader.Close()
	ups := []fleet.Update{
		ft.Position(time.Second, 32.5, -117, 30),
		fleet.Attitude{TimeBoot: time.Second, Roll: 0.1},
		fleet.VFRHUD{Groundspeed: 9, HeadingDeg: 90},
		fleet.SysStatus{VoltageV: 12, CurrentA: 10, RemainingPct: 70},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Handle(vs[i%drones], ups[i%len(ups)])
		i++
	}
}

func TestSubscribeBeforeInitialize(t *testing.T) {
	var f fleet.Fleet
	s := f.Subscribe(fleet.SubscribeOptions{})
	if _, ok := <-s.C; ok {
		t.Error("subscription before Initialize is open")
	}
	s.Close()
	f.Publish(fleet.Missed{N: 1}) // no subscribers, no panic
}
