package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// BenchmarkRecordPoints commits batches of points over many drones, fsync
// included: one op is one group commit. 4,000 points over 2,000 drones is
// 200 ms of 2,000 drones at 10 Hz; 8,192 is the Recorder's batch when it
// falls behind (a commit then takes more points, not more time).
func BenchmarkRecordPoints(b *testing.B) {
	for _, c := range []struct{ drones, per int }{{100, 4000}, {2000, 4000}, {2000, 8192}} {
		b.Run(fmt.Sprintf("drones=%d/batch=%d", c.drones, c.per), func(b *testing.B) {
			benchRecord(b, c.drones, c.per)
		})
	}
}

func benchRecord(b *testing.B, drones, per int) {
	db := mustOpen(b, "", Options{MaxAge: -1, MaxSize: -1})
	ids := make([]string, drones)
	for i := range ids {
		ids[i] = fmt.Sprintf("drone-%04d", i)
	}
	at := t0
	bt := &batch{}
	step := 100 * time.Millisecond / time.Duration(max(1, per/drones))
	b.ResetTimer()
	for i := range b.N {
		bt.reset()
		for j := range per {
			bt.points = append(bt.points, dronePoint{ids[j%drones], samplePoint(at.Add(time.Duration(j/drones)*step), i)})
		}
		at = at.Add(time.Duration(per/drones+1) * step)
		if err := db.write(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkHandle measures the fleet's ingest path (Handle of a
// GLOBAL_POSITION_INT) over 100 drones, with and without a Recorder
// subscribed and writing.
func BenchmarkHandle(b *testing.B) {
	for _, recording := range []bool{false, true} {
		b.Run(fmt.Sprintf("recording=%v", recording), func(b *testing.B) {
			f := &fleet.Fleet{}
			if err := f.Initialize(); err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var r *Recorder
			if recording {
				db := mustOpen(b, "", Options{MaxAge: -1})
				r = &Recorder{DB: db, Fleet: f}
				if err := r.Initialize(); err != nil {
					b.Fatal(err)
				}
				defer r.Close()
			}
			var vs []*ft.Vehicle
			for i := range 100 {
				v := ft.NewVehicle(fmt.Sprintf("udp:bench/%d", i+1), uint8(i+1))
				ft.Feed(f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
				vs = append(vs, v)
			}
			b.ResetTimer()
			for i := range b.N {
				f.Handle(vs[i%len(vs)], ft.Position(time.Duration(i)*time.Millisecond, 32.5+float64(i%1000)*1e-6, -117, 50))
			}
			b.StopTimer()
			if r != nil {
				r.Close()
				s := r.Stats()
				b.ReportMetric(float64(s.Points), "points")
				b.ReportMetric(float64(s.DroppedPoints), "dropped")
			}
		})
	}
}

// BenchmarkRecorderFleet feeds 2,000 drones at 10 Hz (20,000 positions a
// second, paced in real time) through Fleet.Handle with a Recorder writing
// to disk: one op is one second. It reports the updates fed and the points
// stored a second (state changes without a message, such as the fleet's
// own, are points too) and the points dropped.
func BenchmarkRecorderFleet(b *testing.B) {
	const drones, hz = 2000, 10
	// One drone a link: more drones than MAVLink system ids.
	f := &fleet.Fleet{DroneID: func(k fleet.VehicleKey) string { return k.Link }}
	if err := f.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	db := mustOpen(b, "", Options{MaxAge: -1})
	r := &Recorder{DB: db, Fleet: f}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	vs := make([]*ft.Vehicle, drones)
	for i := range vs {
		vs[i] = ft.NewVehicle(fmt.Sprintf("udp:bench/%d", i), uint8(i%250+1))
	}
	for _, v := range vs {
		ft.Feed(f, v, ft.Copter(ft.Auto, true, ft.StatusActive))
	}
	fed := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for range b.N * 100 {
		<-tick.C
		for range drones * hz / 100 {
			v := vs[fed%drones]
			f.Handle(v, ft.Position(time.Duration(fed)*time.Millisecond, 32.5+float64(fed%1000)*1e-6, -117, 50))
			fed++
		}
	}
	b.StopTimer()
	r.Close()
	s := r.Stats()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(fed)/secs, "updates/s")
	b.ReportMetric(float64(s.Points)/secs, "points/s")
	b.ReportMetric(float64(s.DroppedPoints), "dropped")
}
