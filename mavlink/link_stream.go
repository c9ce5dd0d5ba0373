package mavlink

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/centinela-gcs/centinela/fleet"
)

// px4Telemetry is the telemetry asked of PX4 with SET_MESSAGE_INTERVAL:
// what the fleet reads of a vehicle.
var px4Telemetry = []string{
	"GLOBAL_POSITION_INT", "ATTITUDE", "SYS_STATUS", "BATTERY_STATUS", "GPS_RAW_INT",
	"VFR_HUD", "HOME_POSITION", "EXTENDED_SYS_STATE", "MISSION_CURRENT",
}

// msgExtendedSysState is EXTENDED_SYS_STATE's message id.
const msgExtendedSysState = 245

// streamIDs are the REQUEST_DATA_STREAM ids QGroundControl and gomavlib ask
// ArduPilot for: RAW_SENSORS, EXTENDED_STATUS, RC_CHANNELS, POSITION,
// EXTRA1, EXTRA2, EXTRA3.
var streamIDs = []common.MAV_DATA_STREAM{1, 2, 3, 6, 10, 11, 12}

// RequestStreams implements fleet.Vehicle: REQUEST_DATA_STREAM for each of
// ArduPilot's standard streams at rates.Hz (0 stops them all with stream 0),
// then MAV_CMD_SET_MESSAGE_INTERVAL for each PerMessage entry, waiting for its
// COMMAND_ACK. A vehicle whose heartbeat says PX4, which ignores
// REQUEST_DATA_STREAM, gets SET_MESSAGE_INTERVAL at rates.Hz for each
// message the fleet reads instead. Returns Invalid for a negative rate or an unknown message
// name, and the first command's error otherwise.
func (l *link) RequestStreams(ctx context.Context, rates fleet.StreamRates) error {
	if !finite(rates.Hz) || rates.Hz < 0 || rates.Hz > math.MaxUint16 {
		return fleet.Errorf(fleet.Invalid, "bad stream rate %v Hz", rates.Hz)
	}
	type interval struct {
		name string
		id   uint32
		hz   float64
	}
	var intervals []interval
	for name, hz := range rates.PerMessage {
		id, ok := MessageID(name)
		if !ok {
			return fleet.Errorf(fleet.Invalid, "unknown MAVLink message %q", name)
		}
		if !finite(hz) || hz < 0 {
			return fleet.Errorf(fleet.Invalid, "bad rate %v Hz for %s", hz, name)
		}
		intervals = append(intervals, interval{name, id, hz})
	}
	sort.Slice(intervals, func(i, j int) bool { return intervals[i].id < intervals[j].id })

	switch {
	case common.MAV_AUTOPILOT(l.autopilot.Load()) == common.MAV_AUTOPILOT_PX4:
		// PX4 ignores REQUEST_DATA_STREAM: the standard telemetry is asked
		// message by message, unless PerMessage already names it.
		for _, name := range px4Telemetry {
			if _, ok := rates.PerMessage[name]; ok {
				continue
			}
			id, _ := MessageID(name)
			intervals = append(intervals, interval{name, id, rates.Hz})
		}
		sort.Slice(intervals, func(i, j int) bool { return intervals[i].id < intervals[j].id })
	case rates.Hz == 0:
		if err := l.send(&common.MessageRequestDataStream{
			TargetSystem: l.key.SysID, TargetComponent: l.compID,
			ReqStreamId: common.MAV_DATA_STREAM_ALL, ReqMessageRate: 0, StartStop: 0,
		}); err != nil {
			return err
		}
	default:
		hz := uint16(math.Max(1, math.Round(rates.Hz)))
		for _, id := range streamIDs {
			if err := l.send(&common.MessageRequestDataStream{
				TargetSystem: l.key.SysID, TargetComponent: l.compID,
				ReqStreamId: id, ReqMessageRate: hz, StartStop: 1,
			}); err != nil {
				return err
			}
		}
		if _, named := rates.PerMessage["EXTENDED_SYS_STATE"]; !named {
			// No stream group carries EXTENDED_SYS_STATE on ArduPilot, but
			// ArduCopter sends it when asked: then the landed state is the
			// vehicle's own. At the stream rate, so that it does not lag the
			// positions. Asked once without waiting for the ACK; a refusal
			// or a loss leaves the fleet's inference.
			if err := l.send(l.commandMessage(mavCommand{cmd: common.MAV_CMD_SET_MESSAGE_INTERVAL,
				params: [7]float32{msgExtendedSysState, float32(math.Round(1e6 / float64(hz)))}}, 0, 0, 0)); err != nil {
				return err
			}
		}
	}
	for _, iv := range intervals {
		c := fleet.Command{Kind: fleet.CommandSetMessageInterval, MessageID: iv.id, Interval: -1}
		if iv.hz > 0 {
			c.Interval = time.Duration(float64(time.Second) / iv.hz)
			if c.Interval <= 0 {
				c.Interval = time.Microsecond
			}
		}
		if err := l.Command(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
