package mavlink

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

// testMission returns n items: home, a takeoff, then waypoints, a speed
// change and a jump.
func testMission(n int) []fleet.MissionItem {
	items := make([]fleet.MissionItem, n)
	for i := range items {
		it := fleet.MissionItem{
			Seq: i, Frame: fleet.FrameGlobalRelativeAlt, Command: fleet.CmdNavWaypoint, Autocontinue: true,
			Lat: 32.5422 + float64(i)*0.0001, Lon: -117.0293 - float64(i)*0.0001, Alt: 30 + float64(i%7),
			Param1: float64(i % 3),
		}
		switch {
		case i == 0:
			it.Frame, it.Alt, it.Param1 = fleet.FrameGlobal, 20.1, 0
		case i == 1:
			it.Command, it.Lat, it.Lon = fleet.CmdNavTakeoff, 0, 0
		case i%10 == 4:
			it = fleet.MissionItem{Seq: i, Frame: fleet.FrameMission, Command: fleet.CmdDoChangeSpeed,
				Autocontinue: true, Param1: 1, Param2: 5, Param3: -1}
		case i%10 == 6:
			it = fleet.MissionItem{Seq: i, Frame: fleet.FrameMission, Command: fleet.CmdDoJump,
				Autocontinue: true, Param1: 2, Param2: 1}
		}
		items[i] = it
	}
	return items
}

// sameItems compares uploaded and downloaded items (positions to 1e-7°).
func sameItems(t testing.TB, got, want []fleet.MissionItem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.Abs(g.Lat-w.Lat) > 1e-7 || math.Abs(g.Lon-w.Lon) > 1e-7 {
			t.Errorf("item %d position %v,%v want %v,%v", i, g.Lat, g.Lon, w.Lat, w.Lon)
		}
		g.Lat, g.Lon = w.Lat, w.Lon
		if g.Alt != float64(float32(w.Alt)) || g.Param1 != float64(float32(w.Param1)) {
			t.Errorf("item %d: %+v want %+v", i, got[i], w)
		}
		g.Alt, g.Param1 = w.Alt, w.Param1
		if g != w {
			t.Errorf("item %d: %+v want %+v", i, got[i], w)
		}
	}
}

func TestMissionRoundTrip(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			_, _, fv, v := linked(t, nw, 10)
			ctx := context.Background()
			for _, typ := range []fleet.MissionType{fleet.MissionTypeMission, fleet.MissionTypeFence, fleet.MissionTypeRally} {
				items := testMission(50)
				var last, calls int
				err := v.UploadMission(ctx, typ, items, func(done, total int) {
					if total != 50 || done < last {
						t.Errorf("upload progress %d/%d after %d", done, total, last)
					}
					last, calls = done, calls+1
				})
				if err != nil {
					t.Fatalf("%s upload: %v", typ, err)
				}
				if last != 50 || calls < 50 {
					t.Errorf("%s upload progress ended at %d after %d calls", typ, last, calls)
				}
				fv.mu.Lock()
				stored := len(fv.missions[common.MAV_MISSION_TYPE(typ)])
				first := fv.missions[common.MAV_MISSION_TYPE(typ)][2]
				fv.mu.Unlock()
				if stored != 50 || first.Frame != common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT || first.X != 325424000 ||
					first.MissionType != common.MAV_MISSION_TYPE(typ) {
					t.Errorf("%s: vehicle stored %d items, item 2 %+v", typ, stored, first)
				}
				got, err := v.DownloadMission(ctx, typ, nil)
				if err != nil {
					t.Fatalf("%s download: %v", typ, err)
				}
				sameItems(t, got, items)
			}
			if err := v.ClearMission(ctx, fleet.MissionTypeFence); err != nil {
				t.Fatalf("clear: %v", err)
			}
			got, err := v.DownloadMission(ctx, fleet.MissionTypeFence, nil)
			if err != nil || len(got) != 0 {
				t.Fatalf("fence after clear: %d items, %v", len(got), err)
			}
			if err := v.UploadMission(ctx, fleet.MissionTypeRally, nil, nil); err != nil {
				t.Fatalf("empty upload: %v", err)
			}

			// Set current: the command, then the MISSION_SET_CURRENT fallback.
			if err := v.SetCurrentItem(ctx, 7); err != nil {
				t.Fatalf("set current: %v", err)
			}
			fv.setResult(common.MAV_CMD_DO_SET_MISSION_CURRENT, cmdBehaviour{result: common.MAV_RESULT_UNSUPPORTED})
			if err := v.SetCurrentItem(ctx, 9); err != nil {
				t.Fatalf("set current fallback: %v", err)
			}
			fv.mu.Lock()
			cur := fv.current
			fv.mu.Unlock()
			if cur != 9 {
				t.Errorf("current %d, want 9", cur)
			}
		})
	}
}

func TestMissionErrors(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 11)
	ctx := context.Background()
	fv.mu.Lock()
	fv.maxItems = 10
	fv.mu.Unlock()
	fe := wantCode(t, v.UploadMission(ctx, fleet.MissionTypeMission, testMission(11), nil), fleet.Denied)
	if fe.Reason != "mav_mission_no_space" {
		t.Errorf("no space: %+v", fe)
	}
	wantCode(t, v.UploadMission(ctx, 7, testMission(2), nil), fleet.Invalid)
	bad := testMission(3)
	bad[2].Lat = math.NaN()
	wantCode(t, v.UploadMission(ctx, fleet.MissionTypeMission, bad, nil), fleet.Invalid)

	// One transfer at a time: a second is Busy while the first waits.
	fv.setLoss(1, 1)
	errc := make(chan error, 1)
	go func() { errc <- v.UploadMission(ctx, fleet.MissionTypeMission, testMission(3), nil) }()
	waitFor(t, 2*time.Second, "upload in flight", func() bool {
		l := v.(*link)
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.mission
	})
	_, err := v.DownloadMission(ctx, fleet.MissionTypeFence, nil)
	wantCode(t, err, fleet.Busy)
	wantCode(t, <-errc, fleet.Timeout)
}

func TestMissionResultTable(t *testing.T) {
	cases := []struct {
		res    common.MAV_MISSION_RESULT
		code   fleet.Code
		reason string
	}{
		{common.MAV_MISSION_ERROR, fleet.Denied, "mav_mission_error"},
		{common.MAV_MISSION_UNSUPPORTED_FRAME, fleet.Unsupported, "mav_mission_unsupported_frame"},
		{common.MAV_MISSION_UNSUPPORTED, fleet.Unsupported, "mav_mission_unsupported"},
		{common.MAV_MISSION_NO_SPACE, fleet.Denied, "mav_mission_no_space"},
		{common.MAV_MISSION_INVALID, fleet.Invalid, "mav_mission_invalid"},
		{common.MAV_MISSION_INVALID_PARAM1, fleet.Invalid, "mav_mission_invalid_param1"},
		{common.MAV_MISSION_INVALID_PARAM5_X, fleet.Invalid, "mav_mission_invalid_param5_x"},
		{common.MAV_MISSION_INVALID_SEQUENCE, fleet.Denied, "mav_mission_invalid_sequence"},
		{common.MAV_MISSION_DENIED, fleet.Denied, "mav_mission_denied"},
		{common.MAV_MISSION_OPERATION_CANCELLED, fleet.Denied, "mav_mission_operation_cancelled"},
		{99, fleet.Denied, "mav_mission_result_99"},
	}
	if err := missionResult(common.MAV_MISSION_ACCEPTED, fleet.MissionTypeMission, "upload"); err != nil {
		t.Errorf("accepted: %v", err)
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			fe := wantCode(t, missionResult(c.res, fleet.MissionTypeFence, "upload"), c.code)
			if fe.Reason != c.reason || !strings.Contains(fe.Message, "fence upload") {
				t.Errorf("%+v", fe)
			}
		})
	}
}

// TestMissionLossy: upload and download of a 30-item mission with 30 % of
// frames lost each way complete within a bounded time, including the case
// where the vehicle's final ACK is lost (the vehicle answers the resent last
// item with MAV_MISSION_ERROR and the upload restarts).
func TestMissionLossy(t *testing.T) {
	for _, nw := range networks {
		t.Run(nw.name, func(t *testing.T) {
			t.Parallel()
			_, _, fv, v := linked(t, nw, 12, func(tr *Transport) {
				tr.MissionTimeout = 50 * time.Millisecond
				tr.MissionRetries = 20
			})
			fv.mu.Lock()
			fv.requestRepeat = 30 * time.Millisecond
			fv.mu.Unlock()
			fv.setLoss(0.3, 0.3)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			items := testMission(30)
			start := time.Now()
			if err := v.UploadMission(ctx, fleet.MissionTypeMission, items, nil); err != nil {
				t.Fatalf("upload: %v", err)
			}
			got, err := v.DownloadMission(ctx, fleet.MissionTypeMission, nil)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			sameItems(t, got, items)
			t.Logf("an upload and a download of 30 items at 30%% loss took %v", time.Since(start))
		})
	}
}

// TestMissionFinalAckLost: the vehicle's ACCEPTED is lost; the resent last
// item gets MAV_MISSION_ERROR and the upload starts again and succeeds.
func TestMissionFinalAckLost(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 13)
	fv.mu.Lock()
	fv.dropAcceptedAcks = 1
	fv.mu.Unlock()
	if err := v.UploadMission(context.Background(), fleet.MissionTypeMission, testMission(4), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	fv.mu.Lock()
	counts, errs := fv.countsHeard, fv.errorAcksSent
	fv.mu.Unlock()
	if counts != 2 || errs != 1 {
		t.Errorf("vehicle heard %d MISSION_COUNT and sent %d MAV_MISSION_ERROR, want 2 and 1", counts, errs)
	}
}

// TestMissionLastItemAskedTwice: the vehicle's request for the last item
// comes twice, so the item is sent twice; the first completes the upload
// (its ACCEPTED lost) and the second gets MAV_MISSION_ERROR, as from
// ArduCopter: the upload starts again and succeeds instead of failing.
func TestMissionLastItemAskedTwice(t *testing.T) {
	_, _, fv, v := linked(t, networks[0], 14)
	fv.mu.Lock()
	fv.dropAcceptedAcks, fv.doubleLastRequest = 1, 1
	fv.mu.Unlock()
	if err := v.UploadMission(context.Background(), fleet.MissionTypeMission, testMission(4), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	fv.mu.Lock()
	counts, errs := fv.countsHeard, fv.errorAcksSent
	fv.mu.Unlock()
	if counts != 2 || errs < 1 {
		t.Errorf("vehicle heard %d MISSION_COUNT and sent %d MAV_MISSION_ERROR, want a restart after the error", counts, errs)
	}
}

// A vehicle whose AUTOPILOT_VERSION lacks MISSION_INT gets MISSION_ITEM and
// MISSION_REQUEST; one that has it (or has not said) gets the _INT forms.
func TestMissionFloatForVehiclesWithoutMissionInt(t *testing.T) {
	_, rec, fv, v := linked(t, networks[0], 24)
	fv.mu.Lock()
	fv.floatOnly = true
	fv.write(&common.MessageAutopilotVersion{
		Capabilities: common.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT | common.MAV_PROTOCOL_CAPABILITY_COMMAND_INT,
	})
	fv.mu.Unlock()
	waitFor(t, 2*time.Second, "AUTOPILOT_VERSION", func() bool {
		return rec.count(func(r recorded) bool { _, ok := r.u.(fleet.AutopilotVersion); return ok }) > 0
	})
	ctx := context.Background()
	items := testMission(12)
	if err := v.UploadMission(ctx, fleet.MissionTypeMission, items, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, err := v.DownloadMission(ctx, fleet.MissionTypeMission, nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if len(got) != len(items) {
		t.Fatalf("downloaded %d items, want %d", len(got), len(items))
	}
	for i := range items {
		// float32 degrees keep about a metre (why MISSION_INT exists).
		if math.Abs(got[i].Lat-items[i].Lat) > 1e-5 || math.Abs(got[i].Lon-items[i].Lon) > 1e-5 || got[i].Command != items[i].Command {
			t.Errorf("item %d: got %+v, want %+v", i, got[i], items[i])
		}
	}
	fv.mu.Lock()
	defer fv.mu.Unlock()
	if fv.intsHeard != 0 || fv.floatHeard != 2*len(items) {
		t.Errorf("vehicle heard %d _INT and %d float mission messages, want 0 and %d", fv.intsHeard, fv.floatHeard, 2*len(items))
	}
}
