package fleet_test

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// updateReader turns fuzz bytes into updates a vehicle might send.
type updateReader struct{ b []byte }

func (r *updateReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// str takes up to n bytes as a string.
func (r *updateReader) str(n int) string {
	n = min(n, len(r.b))
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// float is a raw float64 (NaN, ±Inf and huge values included) or, for half
// of the inputs, a scaled int32 as the MAVLink decoder makes them.
func (r *updateReader) float() float64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = r.byte()
	}
	if buf[0]&1 == 0 {
		return float64(int32(binary.LittleEndian.Uint32(buf[4:]))) / 1e3
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(buf[:]))
}

func (r *updateReader) next() fleet.Update {
	switch r.byte() % 12 {
	case 0:
		hb := ft.Copter(uint32(r.byte()%20), r.byte()&1 == 1, r.byte()%8)
		hb.ComponentID = 1 + r.byte()%2
		return hb
	case 1:
		return fleet.GlobalPosition{TimeBoot: time.Duration(r.byte()) * time.Second, Lat: r.float(), Lon: r.float(),
			AltMSL: r.float(), RelAlt: r.float(), VN: r.float(), VE: r.float(), VD: r.float(), HeadingDeg: r.float()}
	case 2:
		return fleet.Attitude{Roll: r.float(), Pitch: r.float(), Yaw: r.float()}
	case 3:
		return fleet.VFRHUD{Groundspeed: r.float(), Climb: r.float(), HeadingDeg: r.float()}
	case 4:
		return fleet.Home{Lat: r.float(), Lon: r.float(), AltMSL: r.float()}
	case 5:
		return fleet.Battery{VoltageV: r.float(), CurrentA: r.float(), RemainingPct: int(int8(r.byte())), ConsumedMAh: r.float()}
	case 6:
		return fleet.StatusText{Severity: r.byte(), Text: r.str(int(r.byte()))}
	case 7:
		return fleet.MissionCurrent{Seq: int(r.byte()), Total: int(r.byte()) - 1, State: r.byte() % 6}
	case 8:
		return fleet.ParamValue{Param: fleet.Param{Name: r.str(int(r.byte() % 20)), Value: r.float(),
			Index: int(r.byte()) - 1, Count: int(r.byte())}}
	case 9:
		return fleet.AutopilotVersion{UID: uint64(r.byte() % 3)}
	case 10:
		return fleet.LinkClosed{}
	default:
		return fleet.GPSRaw{FixType: r.byte(), Satellites: int(r.byte()), HDOP: r.float()}
	}
}

// FuzzHandle feeds arbitrary updates from several links (claims included)
// into a fleet: nothing panics, and the fleet believes nothing impossible.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{0, 3, 1, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 3, 1, 0x11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Add([]byte{0, 9, 0, 0, 2, 1, 6, 6, 30, 'P', 'r', 'e', 'A', 'r', 'm', 10, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, clock := mustFleet(t, func(f *fleet.Fleet) { f.MaxParams = 16; f.MaxDrones = 8 })
		vs := []*ft.Vehicle{ft.NewVehicle("a", 1), ft.NewVehicle("b", 1), ft.NewVehicle("c", 2)}
		r := &updateReader{b: b}
		for n := 0; len(r.b) > 0 && n < 200; n++ {
			v := vs[int(r.byte())%len(vs)]
			fl.Handle(v, r.next())
			clock.Advance(time.Duration(r.byte()) * 20 * time.Millisecond)
		}
		for _, d := range fl.Drones() {
			p := d.Position
			if d.HasPosition && (!(math.Abs(p.Lat) <= 90) || !(math.Abs(p.Lon) <= 180) || !(math.Abs(p.RelAlt) <= fleet.MaxRelAlt)) {
				t.Fatalf("drone %s at %+v", d.ID, p)
			}
			for _, x := range []float64{d.GroundSpeed, d.Climb, d.Roll, d.Pitch, d.Yaw, d.AltMSL} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("drone %s: non-finite value in %+v", d.ID, d)
				}
			}
			if d.HasHome && !(d.Home.AltMSL >= fleet.MinAltMSL && d.Home.AltMSL <= fleet.MaxAltMSL) {
				t.Fatalf("home %+v", d.Home)
			}
			if d.Params > 16 || len(d.Mission.MissionID) > 0 && d.Mission.Items > fleet.DefaultMaxMissionItems {
				t.Fatalf("limits: %+v", d)
			}
		}
	})
}
