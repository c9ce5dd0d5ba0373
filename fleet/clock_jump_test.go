package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// The wall clock jumps an hour forward, then two back (an NTP step, an
// operator setting the date) while the monotonic clock runs on: no link is
// declared lost by the jump, a link that really falls silent is declared
// lost after LinkTimeout of monotonic time (not an hour late), its outage
// is measured in monotonic time, and timestamps follow the wall clock.
func TestWallClockJumps(t *testing.T) {
	wall, mono := ft.NewClock(epoch), ft.NewClock(epoch)
	f, _ := mustFleet(t, func(f *fleet.Fleet) { f.Now, f.Monotonic = wall.Now, mono.Now })
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	a, b := ft.NewVehicle("udp:a", 1), ft.NewVehicle("udp:b", 2)
	discover(t, f, a, ft.Copter(ft.Loiter, false, ft.StatusStandby))
	discover(t, f, b, ft.Copter(ft.Loiter, false, ft.StatusStandby))
	beat := func(vs ...*ft.Vehicle) {
		for _, v := range vs {
			f.Handle(v, ft.Copter(ft.Loiter, false, ft.StatusStandby))
		}
	}
	for _, jump := range []time.Duration{time.Hour, -2 * time.Hour} {
		wall.Advance(jump)
		// Both keep beating for 2 s: the jump loses no link.
		for range 4 {
			mono.Advance(500 * time.Millisecond)
			beat(a, b)
		}
		for _, e := range ev.drain() {
			if l, ok := e.(fleet.LinkLost); ok {
				t.Fatalf("a %v jump lost %s", jump, l.DroneID)
			}
		}
		// a falls silent; b beats on.
		for range 7 {
			mono.Advance(500 * time.Millisecond)
			beat(b)
		}
		lost, _ := waitFor(ev, func(fleet.LinkLost) bool { return true })
		if lost.DroneID != "sysid-1" || !lost.At.Equal(wall.Now()) {
			t.Fatalf("after a %v jump: %+v, want sysid-1 lost at the wall time %v", jump, lost, wall.Now())
		}
		if st := state(t, f, "sysid-2"); st.LinkState != fleet.LinkStateUp || !st.LastHeartbeat.Equal(wall.Now()) {
			t.Fatalf("after a %v jump: sysid-2 %v, last heartbeat %v", jump, st.LinkState, st.LastHeartbeat)
		}
		mono.Advance(time.Second)
		beat(a, b)
		reg, _ := waitFor(ev, func(fleet.LinkRegained) bool { return true })
		if reg.DroneID != "sysid-1" || reg.Down < time.Second || reg.Down > 2*time.Second {
			t.Fatalf("after a %v jump: %+v, want sysid-1 down 1–2 s", jump, reg)
		}
		ev.drain()
	}
}

// A mission in flight across wall-clock jumps: it is not interrupted,
// progress reports keep their once-a-second pace (a backward jump used to
// stop them for the jump's length), the ETA stays finite and the percent
// never goes back.
func TestMissionAcrossWallClockJumps(t *testing.T) {
	wall, mono := ft.NewClock(epoch), ft.NewClock(epoch)
	f, _ := mustFleet(t, func(f *fleet.Fleet) { f.Now, f.Monotonic = wall.Now, mono.Now })
	v := ft.NewVehicle("udp:s/127.0.0.1:5760", 1)
	discover(t, f, v, ft.Copter(ft.Guided, true, ft.StatusStandby))
	ft.Feed(f, v, fleet.Home{Lat: homeLat, Lon: homeLon, AltMSL: homeAMSL}, ft.Position(time.Second, homeLat, homeLon, 0))
	ev := subscribe(t, f, fleet.SubscribeOptions{})
	if _, err := f.UploadMission(context.Background(), "sysid-1", fleet.MissionTypeMission, recordedMission(), fleet.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusStandby))
	f.Handle(v, fleet.MissionCurrent{Seq: 1, Total: 10, State: 3})
	waitFor(ev, func(fleet.MissionStarted) bool { return true })
	boot, n, last := 40*time.Second, 0.0, -1.0
	for _, jump := range []time.Duration{-time.Hour, 2 * time.Hour} {
		wall.Advance(jump)
		reports := 0
		for range 5 { // 5 s of flight north, a position a second
			mono.Advance(time.Second)
			boot += time.Second
			n += 2
			f.Handle(v, ft.Copter(ft.Auto, true, ft.StatusStandby))
			lat, lon := offset(n, 0)
			p := ft.Position(boot, lat, lon, 30)
			p.VN = 2
			f.Handle(v, p)
		}
		for _, e := range ev.drain() {
			switch e := e.(type) {
			case fleet.MissionProgress:
				reports++
			case fleet.MissionInterrupted, fleet.LinkLost:
				t.Fatalf("after a %v jump: %T %+v", jump, e, e)
			}
		}
		ms := state(t, f, "sysid-1").Mission
		if reports < 4 || ms.State != fleet.MissionStateRunning || ms.ETA <= 0 || ms.ETA > time.Hour || ms.Percent < last {
			t.Fatalf("after a %v jump: %d progress reports in 5 s, status %+v (percent before %.1f)", jump, reports, ms, last)
		}
		last = ms.Percent
	}
}
