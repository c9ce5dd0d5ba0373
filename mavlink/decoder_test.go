package mavlink

import (
	"bufio"
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

var nan = math.NaN()

// decodeCases are messages and the updates they decode to; the fuzz target
// is seeded from them.
var decodeCases = []struct {
	name string
	msg  message.Message
	want []fleet.Update
}{
	{"heartbeat", &common.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 0xd9, CustomMode: 6, SystemStatus: 5},
		[]fleet.Update{fleet.Heartbeat{VehicleType: 2, Autopilot: 3, BaseMode: 0xd9, CustomMode: 6, SystemStatus: 5, ComponentID: 1}}},
	{"position", &common.MessageGlobalPositionInt{TimeBootMs: 10040, Lat: 325422000, Lon: -1170293000, Alt: 20090,
		RelativeAlt: 29500, Vx: 990, Vy: -5, Vz: -12, Hdg: 35999},
		[]fleet.Update{fleet.GlobalPosition{TimeBoot: 10040 * time.Millisecond, Lat: 32.5422, Lon: -117.0293, AltMSL: 20.09,
			RelAlt: 29.5, VN: 9.9, VE: -0.05, VD: -0.12, HeadingDeg: 359.99}}},
	{"position before fix", &common.MessageGlobalPositionInt{Hdg: math.MaxUint16},
		[]fleet.Update{fleet.GlobalPosition{HeadingDeg: nan}}},
	{"attitude", &common.MessageAttitude{TimeBootMs: 5, Roll: 0.5, Pitch: -0.25, Yaw: 3},
		[]fleet.Update{fleet.Attitude{TimeBoot: 5 * time.Millisecond, Roll: 0.5, Pitch: -0.25, Yaw: 3}}},
	{"sys status", &common.MessageSysStatus{VoltageBattery: 12600, CurrentBattery: 1530, BatteryRemaining: 87, DropRateComm: 250,
		OnboardControlSensorsPresent: 0x5371fc2f, OnboardControlSensorsEnabled: 0x52519c2f, OnboardControlSensorsHealth: 0x47519c2f},
		[]fleet.Update{fleet.SysStatus{VoltageV: 12.6, CurrentA: 15.3, RemainingPct: 87, DropRateComm: 2.5,
			SensorsPresent: 0x5371fc2f, SensorsEnabled: 0x52519c2f, SensorsHealth: 0x47519c2f}}},
	{"sys status unknown", &common.MessageSysStatus{VoltageBattery: math.MaxUint16, CurrentBattery: -1, BatteryRemaining: -1},
		[]fleet.Update{fleet.SysStatus{VoltageV: nan, CurrentA: nan, RemainingPct: -1}}},
	{"battery cells", &common.MessageBatteryStatus{Voltages: [10]uint16{4200, 4100, 4000, math.MaxUint16, 1, 1, 1, 1, 1, 1},
		CurrentBattery: 250, CurrentConsumed: 1200, BatteryRemaining: 50},
		[]fleet.Update{fleet.Battery{VoltageV: 12.3, CurrentA: 2.5, RemainingPct: 50, ConsumedMAh: 1200}}},
	{"battery unknown", &common.MessageBatteryStatus{Voltages: [10]uint16{math.MaxUint16}, CurrentBattery: -1, CurrentConsumed: -1, BatteryRemaining: -1},
		[]fleet.Update{fleet.Battery{VoltageV: nan, CurrentA: nan, RemainingPct: -1, ConsumedMAh: nan}}},
	{"gps", &common.MessageGpsRawInt{FixType: 6, Lat: 325422000, Lon: -1170293000, Alt: 20000, Eph: 121, SatellitesVisible: 10},
		[]fleet.Update{fleet.GPSRaw{FixType: 6, Satellites: 10, Lat: 32.5422, Lon: -117.0293, AltMSL: 20, HDOP: 1.21}}},
	{"gps unknown", &common.MessageGpsRawInt{Eph: math.MaxUint16, SatellitesVisible: math.MaxUint8},
		[]fleet.Update{fleet.GPSRaw{Satellites: -1, HDOP: nan}}},
	{"vfr hud", &common.MessageVfrHud{Airspeed: 1, Groundspeed: 9.5, Heading: 271, Throttle: 40, Alt: 50.5, Climb: -1},
		[]fleet.Update{fleet.VFRHUD{Airspeed: 1, Groundspeed: 9.5, HeadingDeg: 271, ThrottlePct: 40, AltMSL: 50.5, Climb: -1}}},
	{"home", &common.MessageHomePosition{Latitude: 325422000, Longitude: -1170293000, Altitude: 20100},
		[]fleet.Update{fleet.Home{Lat: 32.5422, Lon: -117.0293, AltMSL: 20.1}}},
	{"extended state", &common.MessageExtendedSysState{LandedState: 2}, []fleet.Update{fleet.ExtendedState{Landed: 2}}},
	{"status text", &common.MessageStatustext{Severity: 2, Text: "Arm: Need Position Estimate"},
		[]fleet.Update{fleet.StatusText{Severity: 2, Text: "Arm: Need Position Estimate"}}},
	{"mission current", &common.MessageMissionCurrent{Seq: 3, Total: 10, MissionState: 3},
		[]fleet.Update{fleet.MissionCurrent{Seq: 3, Total: 10, State: 3}}},
	{"mission current old", &common.MessageMissionCurrent{Seq: 3}, []fleet.Update{fleet.MissionCurrent{Seq: 3, Total: -1}}},
	{"mission current unsupported total", &common.MessageMissionCurrent{Seq: 1, Total: math.MaxUint16, MissionState: 2},
		[]fleet.Update{fleet.MissionCurrent{Seq: 1, Total: -1, State: 2}}},
	{"item reached", &common.MessageMissionItemReached{Seq: 4}, []fleet.Update{fleet.MissionItemReached{Seq: 4}}},
	{"fence", &common.MessageFenceStatus{BreachStatus: 1, BreachCount: 1, BreachType: 3, BreachTime: 78132, BreachMitigation: 1},
		[]fleet.Update{fleet.FenceStatus{Breached: true, Count: 1, BreachType: 3, Mitigation: 1, BreachTime: 78132 * time.Millisecond}}},
	{"autopilot version", &common.MessageAutopilotVersion{Capabilities: 0xfbef, FlightSwVersion: 0x04070000,
		FlightCustomVersion: [8]uint8{'9', '0', '7', '0', '0', '9', '7', '7'}, VendorId: 1, ProductId: 2, Uid: 3},
		[]fleet.Update{fleet.AutopilotVersion{Capabilities: 0xfbef, FlightSW: 0x04070000, CustomVersion: "90700977", VendorID: 1, ProductID: 2, UID: 3}}},
	{"param value", &common.MessageParamValue{ParamId: "FS_GCS_ENABLE", ParamValue: 1, ParamType: 2, ParamCount: 1349, ParamIndex: math.MaxUint16},
		[]fleet.Update{fleet.ParamValue{Param: fleet.Param{Name: "FS_GCS_ENABLE", Value: 1, Type: fleet.ParamInt8, Index: -1, Count: 1349}}}},
	{"ignored", &common.MessageRawImu{}, nil},
}

// sameUpdate compares updates, NaN equal to NaN.
func sameUpdate(a, b fleet.Update) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return sameValue(va, vb)
}

func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float64:
		fa, fb := a.Float(), b.Float()
		return fa == fb || (math.IsNaN(fa) && math.IsNaN(fb)) || math.Abs(fa-fb) < 1e-9*math.Max(1, math.Abs(fa))
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			var d decoder
			var got []fleet.Update
			d.decode(c.msg, 1, time.Now(), func(u fleet.Update) { got = append(got, u) })
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if !sameUpdate(got[i], c.want[i]) {
					t.Errorf("got %+v, want %+v", got[i], c.want[i])
				}
			}
		})
	}
}

func TestStatusTextChunks(t *testing.T) {
	long := strings.Repeat("0123456789", 12) // 120 characters: chunks of 50, 50, 20
	chunks := func(id uint16, s string) []*common.MessageStatustext {
		var out []*common.MessageStatustext
		for seq := 0; len(s) > 0 || seq == 0; seq++ {
			n := min(len(s), statusTextLen)
			out = append(out, &common.MessageStatustext{Severity: 4, Text: s[:n], Id: id, ChunkSeq: uint8(seq)})
			s = s[n:]
		}
		return out
	}
	now := time.Now()
	run := func(msgs []*common.MessageStatustext, tickAt time.Duration) []fleet.StatusText {
		var d decoder
		var got []fleet.StatusText
		emit := func(u fleet.Update) { got = append(got, u.(fleet.StatusText)) }
		for _, m := range msgs {
			d.decode(m, 1, now, emit)
		}
		if tickAt > 0 {
			d.tick(now.Add(tickAt), emit)
		}
		return got
	}
	cases := []struct {
		name   string
		msgs   []*common.MessageStatustext
		tickAt time.Duration
		want   []string
	}{
		{"whole", chunks(7, long), 0, []string{long}},
		{"two texts", append(chunks(7, long), chunks(8, "short")...), 0, []string{long, "short"}},
		{"interleaved plain text", append(chunks(7, long)[:1], &common.MessageStatustext{Severity: 6, Text: "plain"}), 0,
			[]string{long[:50], "plain"}},
		{"middle chunk lost", []*common.MessageStatustext{chunks(7, long)[0], chunks(7, long)[2]}, 0,
			[]string{long[:50], "…" + long[100:]}},
		{"last chunk lost, timeout", chunks(7, long)[:2], statusTextTimeout, []string{long[:100]}},
		{"last chunk lost, no timeout yet", chunks(7, long)[:2], statusTextTimeout / 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(c.msgs, c.tickAt)
			var texts []string
			for _, st := range got {
				texts = append(texts, st.Text)
			}
			if !reflect.DeepEqual(texts, c.want) {
				t.Errorf("got %q, want %q", texts, c.want)
			}
		})
	}
}

func TestCommandResultTable(t *testing.T) {
	cases := []struct {
		res    common.MAV_RESULT
		code   fleet.Code
		reason string
	}{
		{common.MAV_RESULT_TEMPORARILY_REJECTED, fleet.Denied, "command_temporarily_rejected"},
		{common.MAV_RESULT_DENIED, fleet.Denied, "command_denied"},
		{common.MAV_RESULT_FAILED, fleet.Denied, "command_failed"},
		{common.MAV_RESULT_UNSUPPORTED, fleet.Unsupported, "unsupported"},
		{common.MAV_RESULT_CANCELLED, fleet.Denied, "command_cancelled"},
		{common.MAV_RESULT_COMMAND_INT_ONLY, fleet.Unsupported, "command_int_only"},
		{resultTimeout, fleet.Timeout, "timeout"},
	}
	if commandResult(common.MAV_RESULT_ACCEPTED, "arm", nil) != nil {
		t.Error("ACCEPTED is an error")
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			fe := wantCode(t, commandResult(c.res, "arm", nil), c.code)
			if fe.Reason != c.reason || !strings.Contains(fe.Message, "arm") {
				t.Errorf("%+v", fe)
			}
		})
	}
	texts := []reply{{text: &fleet.StatusText{Text: "Arm: Gyros inconsistent"}}, {text: &fleet.StatusText{Text: "Arm: Need Position Estimate"}}}
	fe := wantCode(t, commandResult(common.MAV_RESULT_FAILED, "arm", texts), fleet.Denied)
	if fe.Message != "Arm: Gyros inconsistent; Arm: Need Position Estimate" {
		t.Errorf("message %q", fe.Message)
	}
}

// FuzzDecode feeds bytes through gomavlib's frame reader and the decoder:
// nothing panics, and what decodes keeps the contract's invariants.
func FuzzDecode(f *testing.F) {
	enc := newFrameEncoder(f, 1, 1)
	var all []byte
	for _, c := range decodeCases {
		b := enc.encode(f, c.msg)
		f.Add(b)
		all = append(all, b...)
	}
	f.Add(all)
	f.Add(enc.unknown(f, 1))
	f.Add([]byte{0xfd, 0xff, 0, 0, 0, 1, 1, 0xfd, 0, 0})
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &frame.Reader{BufByteReader: bufio.NewReader(bytes.NewReader(data)), DialectRW: drw}
		if err := r.Initialize(); err != nil {
			t.Fatal(err)
		}
		var d decoder
		now := time.Now()
		for range len(data) + 1 {
			fr, err := r.Read()
			if err != nil {
				if _, ok := err.(frame.ReadError); ok {
					continue
				}
				break
			}
			d.decode(fr.GetMessage(), fr.GetComponentID(), now, func(u fleet.Update) {
				switch u := u.(type) {
				case fleet.GlobalPosition:
					if math.Abs(u.Lat) > 215 || math.Abs(u.Lon) > 215 || !(math.IsNaN(u.HeadingDeg) || u.HeadingDeg >= 0) {
						t.Errorf("position %+v", u)
					}
				case fleet.SysStatus:
					if u.RemainingPct < -1 {
						t.Errorf("sys status %+v", u)
					}
				case fleet.Battery:
					if u.RemainingPct < -1 || u.VoltageV < 0 {
						t.Errorf("battery %+v", u)
					}
				case fleet.ParamValue:
					if u.Param.Index < -1 || len(u.Param.Name) > maxParamName {
						t.Errorf("param %+v", u.Param)
					}
				case fleet.StatusText:
					if len(u.Text) > 255*statusTextLen+len("…") {
						t.Errorf("text of %d bytes", len(u.Text))
					}
				}
			})
		}
		d.tick(now.Add(time.Hour), func(fleet.Update) {})
	})
}
