package mavlink

import (
	"context"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

func TestParams(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			_, rec, _, v := linked(t, nw, 20)
			ctx := context.Background()
			var last int
			ps, err := v.ReadParams(ctx, func(got, total int) {
				if total != 300 || got != last+1 {
					t.Errorf("progress %d/%d after %d", got, total, last)
				}
				last = got
			})
			if err != nil {
				t.Fatalf("ReadParams: %v", err)
			}
			checkParamList(t, ps, 300)

			p, err := v.ReadParam(ctx, "WPNAV_SPEED")
			if err != nil {
				t.Fatalf("ReadParam: %v", err)
			}
			if p != (fleet.Param{Name: "WPNAV_SPEED", Value: 1000, Type: fleet.ParamReal32, Index: -1, Count: 300}) {
				t.Errorf("ReadParam %+v", p)
			}
			_, err = v.ReadParam(ctx, "SYSID_MYGCS")
			wantCode(t, err, fleet.NotFound)
			_, err = v.ReadParam(ctx, "A_NAME_LONGER_THAN_16")
			wantCode(t, err, fleet.Invalid)

			// PARAM_SET as REAL32; the echo has the true type and index 65535.
			p, err = v.SetParam(ctx, "FS_GCS_ENABLE", 1)
			if err != nil {
				t.Fatalf("SetParam: %v", err)
			}
			if p != (fleet.Param{Name: "FS_GCS_ENABLE", Value: 1, Type: fleet.ParamInt8, Index: -1, Count: 300}) {
				t.Errorf("SetParam echo %+v", p)
			}
			// A value the vehicle does not take is Denied, with what it kept.
			p, err = v.SetParam(ctx, "FS_GCS_ENABLE", 9)
			fe := wantCode(t, err, fleet.Denied)
			if p.Value != 1 || fe.Reason != "param_value_rejected" {
				t.Errorf("refused set: %+v %+v", p, fe)
			}
			_, err = v.SetParam(ctx, "WPNAV_SPEED", 1e39)
			wantCode(t, err, fleet.Invalid)

			// Every PARAM_VALUE reaches Ingest too.
			waitFor(t, time.Second, "param values at ingest", func() bool {
				return rec.count(func(r recorded) bool {
					pv, ok := r.u.(fleet.ParamValue)
					return ok && pv.Param.Name == "FS_GCS_ENABLE" && pv.Param.Value == 1 && pv.Param.Index == -1
				}) > 0
			})
		})
	}
}

func checkParamList(t testing.TB, ps []fleet.Param, n int) {
	t.Helper()
	want := fakeParams(n)
	if len(ps) != n {
		t.Fatalf("%d params, want %d", len(ps), n)
	}
	for i, p := range ps {
		w := fleet.Param{Name: want[i].name, Value: float64(want[i].value), Type: fleet.ParamType(want[i].typ), Index: i, Count: n}
		if p != w {
			t.Fatalf("param %d: %+v, want %+v", i, p, w)
		}
	}
}

// TestParamsLossy: a full list download with 20 % of frames lost each way
// completes with every index by asking again for what was missed.
func TestParamsLossy(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			t.Parallel()
			_, _, fv, v := linked(t, nw, 21, func(tr *Transport) {
				tr.ParamTimeout = 80 * time.Millisecond
				tr.ParamRetries = 10
			})
			fv.setLoss(0.2, 0.2)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := 0
			ps, err := v.ReadParams(ctx, func(g, total int) { got = g })
			if err != nil {
				t.Fatalf("ReadParams: %v", err)
			}
			checkParamList(t, ps, 300)
			if got != 300 {
				t.Errorf("progress ended at %d", got)
			}
			if _, err := v.SetParam(ctx, "FS_GCS_ENABLE", 1); err != nil {
				t.Fatalf("SetParam: %v", err)
			}
		})
	}
}

func TestRequestStreams(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 22)
	ctx := context.Background()
	err := v.RequestStreams(ctx, fleet.StreamRates{Hz: 4, PerMessage: map[string]float64{"GLOBAL_POSITION_INT": 10, "ATTITUDE": 0}})
	if err != nil {
		t.Fatalf("RequestStreams: %v", err)
	}
	if err := v.RequestStreams(ctx, fleet.StreamRates{}); err != nil {
		t.Fatalf("RequestStreams stop: %v", err)
	}
	waitFor(t, 2*time.Second, "stream requests", func() bool {
		fv.mu.Lock()
		defer fv.mu.Unlock()
		return len(fv.streams) == 8
	})
	fv.mu.Lock()
	defer fv.mu.Unlock()
	for i, id := range []common.MAV_DATA_STREAM{1, 2, 3, 6, 10, 11, 12} {
		s := fv.streams[i]
		if s.ReqStreamId != id || s.ReqMessageRate != 4 || s.StartStop != 1 || s.TargetSystem != 1 {
			t.Errorf("stream request %d: %+v", i, s)
		}
	}
	if s := fv.streams[7]; s.ReqStreamId != 0 || s.ReqMessageRate != 0 || s.StartStop != 0 {
		t.Errorf("stop request %+v", s)
	}
	var intervals [][2]float32
	for _, c := range fv.commands {
		if c.Command == common.MAV_CMD_SET_MESSAGE_INTERVAL {
			intervals = append(intervals, [2]float32{c.Param1, c.Param2})
		}
	}
	// EXTENDED_SYS_STATE at the stream rate first (no ArduPilot stream
	// group carries it, ArduCopter sends it when asked), then the
	// PerMessage entries.
	if len(intervals) != 3 || intervals[0] != [2]float32{245, 250000} || intervals[1] != [2]float32{30, -1} || intervals[2] != [2]float32{33, 100000} {
		t.Errorf("SET_MESSAGE_INTERVAL %v", intervals)
	}
	fv.mu.Unlock()
	wantCode(t, v.RequestStreams(ctx, fleet.StreamRates{Hz: -1}), fleet.Invalid)
	wantCode(t, v.RequestStreams(ctx, fleet.StreamRates{Hz: 1, PerMessage: map[string]float64{"NO_SUCH_MESSAGE": 1}}), fleet.Invalid)
	fv.mu.Lock()
}

func TestMessageID(t *testing.T) {
	for name, id := range map[string]uint32{
		"HEARTBEAT": 0, "GLOBAL_POSITION_INT": 33, "ATTITUDE": 30, "AUTOPILOT_VERSION": 148,
		"ESC_TELEMETRY_1_TO_4": 11030, "GPS_RAW_INT": 24, "FENCE_STATUS": 162, "AHRS2": 178,
	} {
		got, ok := MessageID(name)
		if !ok || got != id {
			t.Errorf("MessageID(%q) = %d, %v; want %d", name, got, ok, id)
		}
	}
	if _, ok := MessageID("NOPE"); ok {
		t.Error("MessageID(NOPE) found")
	}
}

func TestRequestStreamsPX4(t *testing.T) {
	_, rec, fv, v := linked(t, networks[0], 23)
	fv.mu.Lock()
	fv.autopilot = common.MAV_AUTOPILOT_PX4
	fv.mu.Unlock()
	// Wait until the link has heard a PX4 heartbeat.
	waitFor(t, 2*time.Second, "PX4 heartbeat", func() bool {
		return rec.count(func(r recorded) bool {
			hb, ok := r.u.(fleet.Heartbeat)
			return ok && hb.Autopilot == uint8(common.MAV_AUTOPILOT_PX4)
		}) > 0
	})
	if err := v.RequestStreams(context.Background(), fleet.StreamRates{Hz: 5, PerMessage: map[string]float64{"GLOBAL_POSITION_INT": 10}}); err != nil {
		t.Fatalf("RequestStreams: %v", err)
	}
	fv.mu.Lock()
	defer fv.mu.Unlock()
	if len(fv.streams) != 0 {
		t.Errorf("PX4 got %d REQUEST_DATA_STREAM, want none", len(fv.streams))
	}
	got := map[float32]float32{}
	for _, c := range fv.commands {
		if c.Command == common.MAV_CMD_SET_MESSAGE_INTERVAL {
			got[c.Param1] = c.Param2
		}
	}
	if len(got) != len(px4Telemetry) || got[33] != 100000 || got[30] != 200000 || got[245] != 200000 {
		t.Errorf("SET_MESSAGE_INTERVAL by message id: %v", got)
	}
}
