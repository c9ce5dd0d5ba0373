package fleet_test

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestFleetStats(t *testing.T) {
	f, clock := mustFleet(t)
	if s := f.Stats(); s.Drones != 0 || s.Subscriptions != 0 {
		t.Fatalf("empty fleet: %+v", s)
	}
	a, b := ft.NewVehicle("a", 1), ft.NewVehicle("b", 2)
	discover(t, f, a, ft.Copter(ft.Guided, false, ft.StatusStandby))
	discover(t, f, b, ft.Copter(ft.Guided, false, ft.StatusStandby))
	f.Handle(a, fleet.LinkStats{Received: 900, Lost: 100, ParseErrors: 3})
	f.Handle(b, fleet.LinkStats{Received: 50, Lost: 0})
	s := f.Stats()
	if s.Drones != 2 || s.LinkUp != 2 || s.FramesReceived != 950 || s.FramesLost != 100 || s.ParseErrors != 3 {
		t.Fatalf("stats %+v", s)
	}

	// A stalled subscriber with a queue of 1 misses discrete events; the
	// count stays after it closes.
	sub := f.Subscribe(fleet.SubscribeOptions{QueueSize: 1})
	for range 5 {
		f.Publish(fleet.StatusTextEvent{DroneID: "sysid-1", Text: "x"})
	}
	if got := f.Stats(); got.Subscriptions != 1 || got.SubscriptionMissed == 0 {
		t.Fatalf("with a stalled subscriber: %+v", got)
	}
	missed := f.Stats().SubscriptionMissed
	sub.Close()
	if got := f.Stats(); got.Subscriptions != 0 || got.SubscriptionMissed != missed {
		t.Fatalf("after close: %+v, want missed %d", got, missed)
	}

	// One link lost.
	clock.Advance(fleet.DefaultLinkTimeout + time.Second)
	f.Handle(b, ft.Copter(ft.Guided, false, ft.StatusStandby))
	poll(t, "a's link to be lost", func() bool { s := f.Stats(); return s.LinkLost == 1 && s.LinkUp == 1 })
}

func TestZoneWatchStats(t *testing.T) {
	f, _ := zoneFleet(t)
	w := mustZoneWatch(t, f, mustZoneStore(t))
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	v := ft.NewVehicle("zone", zoneSysUS)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	ft.Feed(f, v, zoneHome, ft.Position(time.Second, zoneMXPoint.Lat, zoneMXPoint.Lon, zoneMXPoint.RelAlt))
	waitFor[fleet.ZoneResponse](ev, nil)
	s := w.Stats()
	if s.Checks == 0 || s.CheckTime <= 0 || s.Breaches != 1 || s.Responses != 1 || s.ResponsesFailed != 0 {
		t.Fatalf("after one breach: %+v", s)
	}
	// The same position again is not checked again.
	ft.Feed(f, v, ft.Position(time.Second, zoneMXPoint.Lat, zoneMXPoint.Lon, zoneMXPoint.RelAlt))
	ft.Feed(f, v, ft.Copter(ft.Guided, true, ft.StatusActive))
	poll(t, "an unchanged state to be skipped", func() bool { return w.Stats().Unchanged > 0 })
	if got := w.Stats(); got.Checks != s.Checks {
		t.Errorf("unchanged position checked again: %d checks, want %d", got.Checks, s.Checks)
	}
}
