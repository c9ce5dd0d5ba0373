package mavlink

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// Command constants.
const (
	forceArmMagic = 21196 // param2 of COMPONENT_ARM_DISARM that skips checks
	// reasonWindow is how close to a refusing COMMAND_ACK a STATUSTEXT
	// must be heard to count as the refusal's reason.
	reasonWindow = 100 * time.Millisecond
	// reasonSeverity is the least severe STATUSTEXT taken as a reason
	// (MAV_SEVERITY_WARNING).
	reasonSeverity = 4
	// positionOnlyMask is the SET_POSITION_TARGET type mask that ignores
	// velocity, acceleration, yaw and yaw rate.
	positionOnlyMask = common.POSITION_TARGET_TYPEMASK_VX_IGNORE | common.POSITION_TARGET_TYPEMASK_VY_IGNORE |
		common.POSITION_TARGET_TYPEMASK_VZ_IGNORE | common.POSITION_TARGET_TYPEMASK_AX_IGNORE |
		common.POSITION_TARGET_TYPEMASK_AY_IGNORE | common.POSITION_TARGET_TYPEMASK_AZ_IGNORE |
		common.POSITION_TARGET_TYPEMASK_YAW_IGNORE | common.POSITION_TARGET_TYPEMASK_YAW_RATE_IGNORE
)

// mavCommand is one MAVLink command, sent as COMMAND_LONG or, with a
// position, as COMMAND_INT.
type mavCommand struct {
	cmd    common.MAV_CMD
	isInt  bool
	frame  common.MAV_FRAME
	params [7]float32 // COMMAND_INT: params[4], params[5] unused (x, y from the position)
	name   string
}

// cmdKey is what makes a command busy: one of each in flight per link. The
// commands about one message (REQUEST_MESSAGE, SET_MESSAGE_INTERVAL) are
// keyed by the message too, so that asking for HOME_POSITION does not block
// asking for AUTOPILOT_VERSION. Their COMMAND_ACKs do not name the message:
// two such commands in flight at once may each take the other's ACK, which
// only matters when one is refused and the other not.
type cmdKey struct {
	cmd common.MAV_CMD
	msg uint32
}

func (m mavCommand) key() cmdKey {
	switch m.cmd {
	case common.MAV_CMD_REQUEST_MESSAGE, common.MAV_CMD_SET_MESSAGE_INTERVAL, common.MAV_CMD_GET_MESSAGE_INTERVAL:
		return cmdKey{cmd: m.cmd, msg: uint32(m.params[0])}
	}
	return cmdKey{cmd: m.cmd}
}

// toMAVCommand maps a fleet command onto MAVLink. Returns Invalid for bad
// values and Unsupported for unknown kinds.
func toMAVCommand(c fleet.Command) (mavCommand, error) {
	nan := float32(math.NaN())
	m := mavCommand{name: c.Kind.String()}
	switch c.Kind {
	case fleet.CommandArm, fleet.CommandDisarm:
		m.cmd = common.MAV_CMD_COMPONENT_ARM_DISARM
		if c.Kind == fleet.CommandArm {
			m.params[0] = 1
		}
		if c.Force {
			m.params[1] = forceArmMagic
		}
	case fleet.CommandTakeoff:
		if !finite(c.Position.RelAlt) || c.Position.RelAlt <= 0 {
			return m, fleet.Errorf(fleet.Invalid, "takeoff altitude must be above 0 m, got %v", c.Position.RelAlt)
		}
		m.cmd = common.MAV_CMD_NAV_TAKEOFF
		m.params = [7]float32{0, 0, 0, nan, 0, 0, float32(c.Position.RelAlt)}
	case fleet.CommandLand:
		m.cmd = common.MAV_CMD_NAV_LAND
	case fleet.CommandReturnToLaunch:
		m.cmd = common.MAV_CMD_NAV_RETURN_TO_LAUNCH
	case fleet.CommandSetMode:
		m.cmd = common.MAV_CMD_DO_SET_MODE
		m.params[0] = float32(common.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED)
		m.params[1] = float32(c.Mode)
	case fleet.CommandReposition:
		if err := checkPosition(c.Position); err != nil {
			return m, err
		}
		m.cmd = common.MAV_CMD_DO_REPOSITION
		m.isInt = true
		m.frame = common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
		// param1 -1: default speed; param2 1: MAV_DO_REPOSITION_FLAGS_CHANGE_MODE
		// (switch to guided); param4 NaN: keep the yaw behaviour.
		m.params = [7]float32{-1, 1, 0, nan, 0, 0, float32(c.Position.RelAlt)}
	case fleet.CommandMissionStart:
		if c.First < 0 {
			return m, fleet.Errorf(fleet.Invalid, "first mission item must not be negative")
		}
		m.cmd = common.MAV_CMD_MISSION_START
		m.params[0] = float32(c.First) // param2 last item: 0 = to the end
	case fleet.CommandFenceEnable:
		m.cmd = common.MAV_CMD_DO_FENCE_ENABLE
		if c.Enable {
			m.params[0] = 1
		}
	case fleet.CommandRequestMessage:
		m.cmd = common.MAV_CMD_REQUEST_MESSAGE
		m.params[0] = float32(c.MessageID)
	case fleet.CommandSetMessageInterval:
		m.cmd = common.MAV_CMD_SET_MESSAGE_INTERVAL
		m.params[0] = float32(c.MessageID)
		switch {
		case c.Interval < 0:
			m.params[1] = -1
		case c.Interval == 0:
			m.params[1] = 0
		default:
			m.params[1] = float32(c.Interval.Microseconds())
		}
	case fleet.CommandSetSpeed:
		if !finite(c.Speed) || c.Speed < 0 {
			return m, fleet.Errorf(fleet.Invalid, "speed must be a number ≥ 0, got %v", c.Speed)
		}
		m.cmd = common.MAV_CMD_DO_CHANGE_SPEED
		m.params = [7]float32{1, float32(c.Speed), -1, 0, 0, 0, 0} // ground speed, no throttle change
	default:
		return m, &fleet.Error{Code: fleet.Unsupported, Message: fmt.Sprintf("unknown command kind %d", c.Kind), Reason: "unsupported"}
	}
	return m, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func checkPosition(p fleet.Position) error {
	if !finite(p.Lat) || !finite(p.Lon) || !finite(p.RelAlt) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return fleet.Errorf(fleet.Invalid, "bad position %v, %v, %v m", p.Lat, p.Lon, p.RelAlt)
	}
	return nil
}

// deg7 converts degrees to the int32 1e7 of MAVLink positions.
func deg7(d float64) int32 { return int32(math.Round(d * 1e7)) }

// Command implements fleet.Vehicle.
func (l *link) Command(ctx context.Context, c fleet.Command) (err error) {
	defer l.t.observeOp(c.Kind.String(), opStart(), &err)
	mc, err := toMAVCommand(c)
	if err != nil {
		return err
	}
	if c.Kind == fleet.CommandReposition {
		return l.command(ctx, mc, c.Position.Lat, c.Position.Lon)
	}
	return l.command(ctx, mc, 0, 0)
}

// command sends mc until its COMMAND_ACK, a timeout or ctx. lat, lon are the
// exact position of a COMMAND_INT.
func (l *link) command(ctx context.Context, mc mavCommand, lat, lon float64) error {
	select {
	case <-l.done:
		return errNoDrone()
	default:
	}
	key := mc.key()
	l.mu.Lock()
	if l.cmdBusy[key] {
		l.mu.Unlock()
		return errBusy("command " + mc.name)
	}
	l.cmdBusy[key] = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.cmdBusy, key)
		l.mu.Unlock()
	}()

	w := l.addWaiter(32, func(r *reply) bool {
		if r.text != nil {
			return r.text.Severity <= reasonSeverity
		}
		ack, ok := r.msg.(*common.MessageCommandAck)
		return ok && ack.Command == mc.cmd && l.forUs(ack.TargetSystem)
	})
	defer l.removeWaiter(w)

	log := l.log.With("cmd", mc.name)
	var texts []reply
	err := l.exchange(ctx, w, l.t.CommandTimeout, l.t.CommandRetries,
		func(try int) message.Message {
			if try > 0 {
				log.Debug("command retry", "attempt", try)
			}
			return l.commandMessage(mc, try, lat, lon)
		},
		func(r reply) (replyAction, error) {
			if r.text != nil {
				texts = append(texts, r)
				return keepWaiting, nil
			}
			ack := r.msg.(*common.MessageCommandAck)
			switch ack.Result {
			case common.MAV_RESULT_IN_PROGRESS:
				return extendWait, nil
			case common.MAV_RESULT_ACCEPTED:
				return finished, nil
			}
			texts = l.collectReasons(ctx, w, texts, r.at)
			err := commandResult(ack.Result, mc.name, texts)
			log.Info("command refused", "err", err)
			return finished, err
		})
	if err == errExhausted {
		return commandResult(resultTimeout, mc.name, nil)
	}
	return err
}

// collectReasons waits until reasonWindow after the refusing ack at ackAt
// and returns the texts heard within reasonWindow of it.
func (l *link) collectReasons(ctx context.Context, w *waiter, texts []reply, ackAt time.Time) []reply {
	timer := time.NewTimer(reasonWindow)
	defer timer.Stop()
collect:
	for {
		select {
		case r := <-w.ch:
			if r.text != nil {
				texts = append(texts, r)
			}
		case <-timer.C:
			break collect
		case <-ctx.Done():
			break collect
		case <-l.done:
			break collect
		}
	}
	var out []reply
	for _, r := range texts {
		if d := r.at.Sub(ackAt); d >= -reasonWindow && d <= reasonWindow {
			out = append(out, r)
		}
	}
	return out
}

func (l *link) commandMessage(mc mavCommand, attempt int, lat, lon float64) message.Message {
	p := mc.params
	if mc.isInt {
		return &common.MessageCommandInt{
			TargetSystem:    l.key.SysID,
			TargetComponent: l.compID,
			Frame:           mc.frame,
			Command:         mc.cmd,
			Param1:          p[0], Param2: p[1], Param3: p[2], Param4: p[3],
			X: deg7(lat), Y: deg7(lon), Z: p[6],
		}
	}
	return &common.MessageCommandLong{
		TargetSystem:    l.key.SysID,
		TargetComponent: l.compID,
		Command:         mc.cmd,
		Confirmation:    uint8(min(attempt, 255)),
		Param1:          p[0], Param2: p[1], Param3: p[2], Param4: p[3],
		Param5: p[4], Param6: p[5], Param7: p[6],
	}
}

// resultTimeout stands for "no COMMAND_ACK" in commandResult.
const resultTimeout common.MAV_RESULT = 1 << 16

// commandResult maps a COMMAND_ACK result (or resultTimeout) to the fleet's
// codes, with MAVSDK's result names as reasons. texts are the vehicle's
// STATUSTEXTs heard with a refusal: they become the message.
func commandResult(res common.MAV_RESULT, cmd string, texts []reply) error {
	if res == common.MAV_RESULT_ACCEPTED {
		return nil
	}
	e := &fleet.Error{}
	switch res {
	case resultTimeout:
		e.Code, e.Reason = fleet.Timeout, "timeout"
		e.Message = fmt.Sprintf("no answer from the vehicle to %s", cmd)
		return e
	case common.MAV_RESULT_TEMPORARILY_REJECTED:
		e.Code, e.Reason = fleet.Denied, "command_temporarily_rejected"
	case common.MAV_RESULT_DENIED:
		e.Code, e.Reason = fleet.Denied, "command_denied"
	case common.MAV_RESULT_FAILED:
		e.Code, e.Reason = fleet.Denied, "command_failed"
	case common.MAV_RESULT_CANCELLED:
		e.Code, e.Reason = fleet.Denied, "command_cancelled"
	case common.MAV_RESULT_UNSUPPORTED:
		e.Code, e.Reason = fleet.Unsupported, "unsupported"
	case common.MAV_RESULT_COMMAND_LONG_ONLY, common.MAV_RESULT_COMMAND_INT_ONLY,
		common.MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME:
		e.Code, e.Reason = fleet.Unsupported, strings.ToLower(strings.TrimPrefix(res.String(), "MAV_RESULT_"))
	case common.MAV_RESULT_NOT_IN_CONTROL:
		e.Code, e.Reason = fleet.Denied, "command_denied_not_in_control"
	default:
		e.Code, e.Reason = fleet.Denied, "unknown"
	}
	if len(texts) > 0 {
		parts := make([]string, len(texts))
		for i, r := range texts {
			parts[i] = r.text.Text
		}
		e.Message = strings.Join(parts, "; ")
	} else {
		e.Message = fmt.Sprintf("vehicle refused %s (%s)", cmd, res)
	}
	return e
}

// SetPositionTarget implements fleet.Vehicle: SET_POSITION_TARGET_GLOBAL_INT
// in GLOBAL_RELATIVE_ALT_INT, position only. It is never acknowledged.
func (l *link) SetPositionTarget(ctx context.Context, p fleet.Position) error {
	if err := checkPosition(p); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctxErr(ctx)
	}
	return l.send(&common.MessageSetPositionTargetGlobalInt{
		TimeBootMs:      uint32(time.Since(l.t.started).Milliseconds()),
		TargetSystem:    l.key.SysID,
		TargetComponent: l.compID,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		TypeMask:        positionOnlyMask,
		LatInt:          deg7(p.Lat),
		LonInt:          deg7(p.Lon),
		Alt:             float32(p.RelAlt),
	})
}
