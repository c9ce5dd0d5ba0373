package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestWaitState(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Waiting before the drone exists: discovery, then the condition.
	got := make(chan fleet.DroneState, 1)
	errc := make(chan error, 1)
	go func() {
		st, err := f.WaitState(ctx, "sysid-1", func(s fleet.DroneState) bool { return s.Armed && s.Mode == "GUIDED" })
		got <- st
		errc <- err
	}()
	f.Handle(v, ft.Copter(ft.Stabilize, false, ft.StatusStandby))
	f.Handle(v, ft.Copter(ft.Guided, false, ft.StatusStandby))
	f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	if err := <-errc; err != nil {
		t.Fatalf("WaitState: %v", err)
	}
	if st := <-got; !st.Armed || st.Mode != "GUIDED" {
		t.Errorf("state %+v", st)
	}
	// Already true: returns at once from the snapshot.
	if _, err := f.WaitState(ctx, "sysid-1", func(s fleet.DroneState) bool { return s.Armed }); err != nil {
		t.Errorf("WaitState on a true condition: %v", err)
	}
	// Never true: Timeout with the last state.
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	st, err := f.WaitState(short, "sysid-1", func(s fleet.DroneState) bool { return s.Mode == "LAND" })
	if fleet.ErrorCode(err) != fleet.Timeout || st.ID != "sysid-1" {
		t.Errorf("WaitState never true: %v, last %+v", err, st.ID)
	}
	if _, err := f.WaitState(ctx, "sysid-1", nil); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("nil condition: %v", err)
	}
}

func TestWaitEvent(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sub := f.Subscribe(fleet.SubscribeOptions{Drones: []string{"sysid-1"}})
	defer sub.Close()
	f.Handle(v, fleet.StatusText{Severity: 6, Text: "first"})
	f.Handle(v, fleet.StatusText{Severity: 4, Text: "GCS Failsafe"})
	e, err := fleet.NextEvent(ctx, sub, func(e fleet.StatusTextEvent) bool { return e.Severity <= 4 })
	if err != nil || e.Text != "GCS Failsafe" {
		t.Errorf("NextEvent %+v, %v", e, err)
	}
	fs, err := fleet.NextEvent[fleet.Failsafe](ctx, sub, nil)
	if err != nil || fs.Kind != fleet.FailsafeGCS {
		t.Errorf("NextEvent failsafe %+v, %v", fs, err)
	}
	// WaitEvent sees only events from the call on, for the drones named.
	done := make(chan fleet.ModeChanged, 1)
	go func() {
		mc, err := fleet.WaitEvent(ctx, f, func(e fleet.ModeChanged) bool { return e.To == "RTL" }, "sysid-1")
		if err != nil {
			t.Errorf("WaitEvent: %v", err)
		}
		done <- mc
	}()
	for i := 0; ; i++ {
		// Repeat the change until the waiter (subscribing on its goroutine) sees it.
		f.Handle(v, ft.Copter(ft.Guided, true, ft.StatusStandby))
		f.Handle(v, ft.Copter(ft.RTL, true, ft.StatusStandby))
		select {
		case mc := <-done:
			if mc.To != "RTL" || mc.DroneID != "sysid-1" {
				t.Errorf("WaitEvent %+v", mc)
			}
			short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel2()
			if _, err := fleet.WaitEvent[fleet.Landed](short, f, nil); fleet.ErrorCode(err) != fleet.Timeout {
				t.Errorf("WaitEvent with nothing coming: %v", err)
			}
			return
		case <-time.After(20 * time.Millisecond):
			if i > 200 {
				t.Fatal("WaitEvent never returned")
			}
		}
	}
}
