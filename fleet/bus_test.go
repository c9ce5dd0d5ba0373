package fleet_test

import (
	"fmt"
	"runtime"
	"sync"
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

// takeAll waits for a Batch subscription's Ready and takes once, copying
// what it hands; it fails after 5 s.
func takeAll(t *testing.T, s *fleet.Subscription) (states []fleet.DroneState, evs []fleet.Event) {
	t.Helper()
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("Ready did not fire within 5s")
	}
	if !s.Take(func(st *fleet.DroneState, ev fleet.Event) {
		if st != nil {
			if ev != nil {
				t.Error("Take handed a state and an event at once")
			}
			states = append(states, *st)
			evs = append(evs, nil) // the state's place in the order
			return
		}
		evs = append(evs, ev)
	}) {
		t.Fatal("Take reported the end of an open subscription")
	}
	return states, evs
}

func TestBatchSlowSubscriber(t *testing.T) {
	f, _ := mustFleet(t)
	slow := f.Subscribe(fleet.SubscribeOptions{QueueSize: 8, Batch: true}) // not read until the end
	defer slow.Close()
	if slow.C != nil {
		t.Fatal("a Batch subscription has a channel")
	}
	const drones, positions, texts = 3, 2000, 100
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("l%d", i), uint8(i+1))
		f.Handle(vs[i], ft.Copter(ft.Guided, false, ft.StatusStandby))
	}
	for n := range positions {
		for i, v := range vs {
			f.Handle(v, ft.Position(time.Duration(n+1)*time.Millisecond, 32+float64(i)*0.01+float64(n)*1e-6, -117, 10))
		}
	}
	for n := range texts {
		f.Handle(vs[0], fleet.StatusText{Severity: 6, Text: fmt.Sprintf("text %d", n)})
	}

	// 3 discoveries + 100 texts: the first 8 wait, the rest are missed;
	// each drone's state waits once, in the place of its first change.
	const discrete = drones + texts
	if got := slow.Missed(); got != discrete-8 {
		t.Fatalf("Missed() = %d, want %d", got, discrete-8)
	}
	states, evs := takeAll(t, slow)
	if len(evs) == 0 {
		t.Fatal("nothing taken")
	}
	m, ok := evs[0].(fleet.Missed)
	if !ok || m.N != discrete-8 {
		t.Fatalf("first taken %#v, want Missed{%d}", evs[0], discrete-8)
	}
	if len(states) != drones {
		t.Fatalf("%d states for %d drones: not coalesced", len(states), drones)
	}
	for i, st := range states {
		if want := fmt.Sprintf("sysid-%d", i+1); st.ID != want {
			t.Errorf("state %d is %s, want %s (discovery order)", i, st.ID, want)
		}
		want := 32 + float64(i)*0.01 + float64(positions-1)*1e-6
		if st.Position.Lat != want {
			t.Errorf("%s lat %v, want the newest %v", st.ID, st.Position.Lat, want)
		}
	}
	// In order: discovery 1, its state, discovery 2, its state, … then
	// the 5 texts that fit.
	var kinds []string
	for _, ev := range evs[1:] {
		switch e := ev.(type) {
		case nil:
			kinds = append(kinds, "state")
		case fleet.DroneDiscovered:
			kinds = append(kinds, "discovered")
		case fleet.StatusTextEvent:
			kinds = append(kinds, e.Text)
		default:
			kinds = append(kinds, fmt.Sprintf("%T", ev))
		}
	}
	want := []string{"discovered", "state", "discovered", "state", "discovered", "state", "text 0", "text 1", "text 2", "text 3", "text 4"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("taken in order %v, want %v", kinds, want)
	}

	// The queue has room again; a new event and state come in one Take.
	f.Handle(vs[1], fleet.StatusText{Severity: 6, Text: "again"})
	f.Handle(vs[2], ft.Position(time.Hour, 33, -117, 10))
	states, evs = takeAll(t, slow)
	if len(evs) != 2 || len(states) != 1 || states[0].ID != "sysid-3" || states[0].Position.Lat != 33 {
		t.Fatalf("after catching up: states %v, events %v", states, evs)
	}
	if st, ok := evs[0].(fleet.StatusTextEvent); !ok || st.Text != "again" {
		t.Errorf("first event %#v, want the text", evs[0])
	}
	if got := slow.Missed(); got != discrete-8 {
		t.Errorf("Missed() = %d after catching up, want %d", got, discrete-8)
	}
}

func TestBatchSubscriptionEnds(t *testing.T) {
	before := runtime.NumGoroutine()
	f, _ := mustFleet(t)
	base := runtime.NumGoroutine()
	subs := make([]*fleet.Subscription, 20)
	for i := range subs {
		subs[i] = f.Subscribe(fleet.SubscribeOptions{Batch: true, Linger: time.Millisecond})
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines for 20 Batch subscriptions, want none (%d before)", n-base, base)
	}
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	subs[0].Close()
	subs[0].Close()             // twice is fine
	for range subs[0].Ready() { // a wake-up may wait; then it is closed
	}
	if subs[0].Take(func(*fleet.DroneState, fleet.Event) { t.Error("Take after Close handed an event") }) {
		t.Error("Take after Close reported an open subscription")
	}
	f.Close()
	for _, s := range subs[1:] {
		for range s.Ready() { // closed by f.Close
		}
		if s.Take(func(*fleet.DroneState, fleet.Event) {}) {
			t.Error("Take after the fleet's Close reported an open subscription")
		}
	}
	poll(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	late := f.Subscribe(fleet.SubscribeOptions{Batch: true})
	if _, ok := <-late.Ready(); ok || late.Take(func(*fleet.DroneState, fleet.Event) {}) {
		t.Error("Batch subscription after Close is open")
	}
	late.Close()
}

func TestSubscriptionLinger(t *testing.T) {
	f, _ := mustFleet(t)
	const drones = 50
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprint(i), uint8(i+1))
		f.Handle(vs[i], ft.Copter(0, false, ft.StatusStandby))
	}
	batch := f.Subscribe(fleet.SubscribeOptions{Batch: true, Linger: 300 * time.Millisecond})
	defer batch.Close()
	onC := subscribe(t, f, fleet.SubscribeOptions{Linger: 300 * time.Millisecond})
	for i, v := range vs {
		f.Handle(v, ft.Position(time.Second, 32+float64(i)*1e-3, -117, 10))
	}
	// The burst takes far less than the linger: one wake-up, one Take.
	states, evs := takeAll(t, batch)
	if len(states) != drones || len(evs) != drones {
		t.Errorf("one Take after a linger got %d states, %d entries; want all %d drones", len(states), len(evs), drones)
	}
	// A discrete event wakes at once, lingering or not (the test would
	// still pass if it waited the 300 ms; it checks it comes alone).
	f.Handle(vs[0], fleet.StatusText{Severity: 6, Text: "now"})
	_, evs = takeAll(t, batch)
	if len(evs) != 1 {
		t.Fatalf("after a text: %d entries, want the text", len(evs))
	}
	// A subscription on C lingers too, and still gets every drone's state.
	seen := map[string]bool{}
	for len(seen) < drones {
		sc, _ := waitFor[fleet.StateChanged](onC, nil)
		seen[sc.Drone.ID] = true
	}
}

func TestNoStateSubscription(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	f.Handle(v, ft.Copter(0, false, ft.StatusStandby))
	for _, batch := range []bool{false, true} {
		s := f.Subscribe(fleet.SubscribeOptions{NoState: true, Snapshot: true, Batch: batch})
		f.Handle(v, ft.Position(time.Second, 32, -117, 10))
		f.Handle(v, fleet.StatusText{Severity: 6, Text: fmt.Sprint("text ", batch)})
		if batch {
			var got []fleet.Event
			for len(got) == 0 {
				_, evs := takeAll(t, s)
				got = append(got, evs...)
			}
			if st, ok := got[0].(fleet.StatusTextEvent); len(got) != 1 || !ok || st.Text != "text true" {
				t.Errorf("Batch NoState took %#v, want only the text", got)
			}
		} else {
			st, seen := waitFor[fleet.StatusTextEvent](&events{tb: t, sub: s}, nil)
			if len(seen) > 0 || st.Text != "text false" {
				t.Errorf("NoState got %v before %q", seen, st.Text)
			}
		}
		s.Close()
	}
}

// TestHandleAllocs: a position update through Handle, with subscribers of
// both kinds, allocates nothing (the update is boxed by the transport).
func TestHandleAllocs(t *testing.T) {
	f, _ := mustFleet(t, func(f *fleet.Fleet) {
		f.TickInterval = time.Hour
		f.DroneID = func(k fleet.VehicleKey) string { return k.Link }
	})
	const drones = 100
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("udp:a/%d", i), uint8(i+1))
		f.Handle(vs[i], ft.Copter(ft.Auto, true, ft.StatusActive))
		f.Handle(vs[i], fleet.Home{Lat: 32.5, Lon: -117, AltMSL: 20}) // no home to ask for
	}
	// The background work of discovery (stream requests) allocates: let
	// it finish.
	poll(t, "streams requested", func() bool {
		for _, v := range vs {
			if v.Calls("Command") < 1 {
				return false
			}
		}
		return true
	})
	idle := f.Subscribe(fleet.SubscribeOptions{QueueSize: 16}) // its writer holds one event, never sent
	defer idle.Close()
	var wg sync.WaitGroup
	readers := make([]*fleet.Subscription, 4)
	for i := range readers {
		readers[i] = f.Subscribe(fleet.SubscribeOptions{Batch: true, Snapshot: true, Drones: map[bool][]string{true: {"udp:a/1", "udp:a/2"}}[i == 3]})
		wg.Add(1)
		go func(s *fleet.Subscription) {
			defer wg.Done()
			var lat float64
			for range s.Ready() {
				s.Take(func(st *fleet.DroneState, _ fleet.Event) {
					if st != nil {
						lat += st.Position.Lat
					}
				})
			}
		}(readers[i])
	}
	defer wg.Wait()
	for _, s := range readers {
		defer s.Close()
	}
	ups := make([]fleet.Update, drones)
	for i := range ups {
		ups[i] = ft.Position(0, 32.5+float64(i)*1e-4, -117, 30)
	}
	for range 5 { // the queues grow to their size
		for i := range vs {
			f.Handle(vs[i], ups[i])
		}
	}
	i := 0
	handle := func() {
		f.Handle(vs[i%drones], ups[i%drones])
		i++
	}
	if allocs := testing.AllocsPerRun(2000, handle); allocs > 0 {
		t.Errorf("Handle of a position allocates %v times", allocs)
	}
	// AllocsPerRun rounds down: count them all over many calls. What may
	// allocate is a subscriber's queue growing to a new high when its
	// reader lags more than ever before (a few times in its life, each
	// doubling it), never an update as such.
	const runs = 20000
	for range runs {
		handle()
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range runs {
		handle()
	}
	runtime.ReadMemStats(&m1)
	n := m1.Mallocs - m0.Mallocs
	t.Logf("%d allocations in %d position updates", n, runs)
	if n >= runs/100 {
		t.Errorf("%d allocations in %d position updates, want none per update", n, runs)
	}
}
