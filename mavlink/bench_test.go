package mavlink

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

// ingestTo hands updates to a fleet as if from v, so that the fleet's
// background requests go to a fake vehicle, not to a link with no socket.
type ingestTo struct {
	f *fleet.Fleet
	v fleet.Vehicle
}

func (i ingestTo) Handle(_ fleet.Vehicle, u fleet.Update) { i.f.Handle(i.v, u) }

// BenchmarkFrameToFleet is the transport's cost per decoded frame from the
// link's handling (sequence count, decoding into fleet updates) to the
// fleet's state, with two bus subscribers (one reading, one stalled), on
// a telemetry mix like ArduCopter's at 10 Hz positions: per op, one frame.
// gomavlib's own framing and decoding is measured apart (DecodeCost).
func BenchmarkFrameToFleet(b *testing.B) {
	f := &fleet.Fleet{}
	if err := f.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	reader := f.Subscribe(fleet.SubscribeOptions{})
	go func() {
		for range reader.C {
		}
	}()
	defer reader.Close()
	stalled := f.Subscribe(fleet.SubscribeOptions{QueueSize: 16})
	defer stalled.Close()

	tr := &Transport{Now: time.Now, Ingest: ingestTo{f, fleettest.NewVehicle("bench", 1)}}
	tr.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	l := newLink(tr, nil, fleet.VehicleKey{Link: "bench", SysID: 1}, 1)
	hb := &common.MessageHeartbeat{Type: common.MAV_TYPE_QUADROTOR, Autopilot: common.MAV_AUTOPILOT_ARDUPILOTMEGA,
		BaseMode: common.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, CustomMode: 4, SystemStatus: common.MAV_STATE_STANDBY, MavlinkVersion: 3}
	pos := &common.MessageGlobalPositionInt{Lat: 325480000, Lon: -1170293000, Alt: 40000, RelativeAlt: 0, Hdg: 9000}
	mix := []message.Message{
		hb,
		pos, &common.MessageAttitude{Roll: 0.01, Pitch: 0.02, Yaw: 1},
		pos, &common.MessageAttitude{Roll: 0.01, Pitch: 0.02, Yaw: 1},
		pos, &common.MessageAttitude{Roll: 0.01, Pitch: 0.02, Yaw: 1},
		&common.MessageSysStatus{VoltageBattery: 12600, CurrentBattery: 1000, BatteryRemaining: 90},
		&common.MessageVfrHud{Groundspeed: 1, Alt: 40, Heading: 90},
		&common.MessageGpsRawInt{FixType: common.GPS_FIX_TYPE_3D_FIX, SatellitesVisible: 12, Eph: 80},
	}
	now := time.Now()
	l.handleFrame(0, hb, now)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m := mix[i%len(mix)]
		if p, ok := m.(*common.MessageGlobalPositionInt); ok {
			p.Lat++ // a new position each time, as in flight
			p.TimeBootMs += 100
		}
		l.handleFrame(uint8(i+1), m, now.Add(time.Duration(i)*time.Millisecond))
	}
}
