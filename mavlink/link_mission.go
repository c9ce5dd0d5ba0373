package mavlink

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// maxMissionItems is the most items the mission protocol can count.
const maxMissionItems = math.MaxUint16 - 1

// missionResult maps a MISSION_ACK error to a fleet error whose Reason is the
// MAV_MISSION_RESULT name in snake case.
func missionResult(res common.MAV_MISSION_RESULT, t fleet.MissionType, op string) error {
	if res == common.MAV_MISSION_ACCEPTED {
		return nil
	}
	e := &fleet.Error{Reason: strings.ToLower(res.String())}
	switch res {
	case common.MAV_MISSION_UNSUPPORTED, common.MAV_MISSION_UNSUPPORTED_FRAME:
		e.Code = fleet.Unsupported
	case common.MAV_MISSION_INVALID, common.MAV_MISSION_INVALID_PARAM1, common.MAV_MISSION_INVALID_PARAM2,
		common.MAV_MISSION_INVALID_PARAM3, common.MAV_MISSION_INVALID_PARAM4, common.MAV_MISSION_INVALID_PARAM5_X,
		common.MAV_MISSION_INVALID_PARAM6_Y, common.MAV_MISSION_INVALID_PARAM7:
		e.Code = fleet.Invalid
	default: // ERROR, NO_SPACE, INVALID_SEQUENCE, DENIED, OPERATION_CANCELLED, unknown
		e.Code = fleet.Denied
	}
	if strings.HasPrefix(e.Reason, "mav_mission_") {
		e.Message = fmt.Sprintf("vehicle refused the %s %s: %s", t, op,
			strings.ReplaceAll(strings.TrimPrefix(e.Reason, "mav_mission_"), "_", " "))
	} else {
		e.Reason = fmt.Sprintf("mav_mission_result_%d", res)
		e.Message = fmt.Sprintf("vehicle refused the %s %s (result %d)", t, op, res)
	}
	return e
}

func checkMissionType(t fleet.MissionType) error {
	if t > fleet.MissionTypeRally {
		return fleet.Errorf(fleet.Invalid, "unknown mission type %d", t)
	}
	return nil
}

// startTransfer takes the link's mission lock and a waiter for mission
// replies of type t.
func (l *link) startTransfer(t fleet.MissionType) (*waiter, func(), error) {
	if err := checkMissionType(t); err != nil {
		return nil, nil, err
	}
	select {
	case <-l.done:
		return nil, nil, errNoDrone()
	default:
	}
	if !l.tryLock(&l.mission) {
		return nil, nil, errBusy("a mission transfer")
	}
	mt := common.MAV_MISSION_TYPE(t)
	w := l.addWaiter(64, func(r *reply) bool {
		switch m := r.msg.(type) {
		case *common.MessageMissionRequest:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		case *common.MessageMissionRequestInt:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		case *common.MessageMissionAck:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		case *common.MessageMissionCount:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		case *common.MessageMissionItemInt:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		case *common.MessageMissionItem:
			return l.forUs(m.TargetSystem) && m.MissionType == mt
		}
		return false
	})
	return w, func() {
		l.removeWaiter(w)
		l.unlock(&l.mission)
	}, nil
}

func (l *link) missionItemInt(t fleet.MissionType, it fleet.MissionItem, seq int) *common.MessageMissionItemInt {
	frame := common.MAV_FRAME(it.Frame)
	// Positions travel as int32 1e7 degrees: use the _INT frames.
	switch it.Frame {
	case fleet.FrameGlobal:
		frame = common.MAV_FRAME_GLOBAL_INT
	case fleet.FrameGlobalRelativeAlt:
		frame = common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
	case fleet.FrameGlobalTerrainAlt:
		frame = common.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT
	}
	m := &common.MessageMissionItemInt{
		TargetSystem:    l.key.SysID,
		TargetComponent: l.compID,
		Seq:             uint16(seq),
		Frame:           frame,
		Command:         common.MAV_CMD(it.Command),
		Param1:          float32(it.Param1),
		Param2:          float32(it.Param2),
		Param3:          float32(it.Param3),
		Param4:          float32(it.Param4),
		X:               deg7(it.Lat),
		Y:               deg7(it.Lon),
		Z:               float32(it.Alt),
		MissionType:     common.MAV_MISSION_TYPE(t),
	}
	if it.Current {
		m.Current = 1
	}
	if it.Autocontinue {
		m.Autocontinue = 1
	}
	return m
}

// missionInt reports whether mission items travel as MISSION_ITEM_INT: yes
// unless the vehicle's AUTOPILOT_VERSION says it lacks
// MAV_PROTOCOL_CAPABILITY_MISSION_INT (every current ArduPilot and PX4 has it).
func (l *link) missionInt() bool {
	return !l.capsKnown.Load() || l.caps.Load()&uint64(common.MAV_PROTOCOL_CAPABILITY_MISSION_INT) != 0
}

// missionItemFloat is the deprecated MISSION_ITEM form of an item, for
// vehicles without MISSION_INT: degrees as float32, plain frames.
func (l *link) missionItemFloat(t fleet.MissionType, it fleet.MissionItem, seq int) *common.MessageMissionItem {
	m := &common.MessageMissionItem{
		TargetSystem:    l.key.SysID,
		TargetComponent: l.compID,
		Seq:             uint16(seq),
		Frame:           common.MAV_FRAME(it.Frame),
		Command:         common.MAV_CMD(it.Command),
		Param1:          float32(it.Param1),
		Param2:          float32(it.Param2),
		Param3:          float32(it.Param3),
		Param4:          float32(it.Param4),
		X:               float32(it.Lat),
		Y:               float32(it.Lon),
		Z:               float32(it.Alt),
		MissionType:     common.MAV_MISSION_TYPE(t),
	}
	if it.Current {
		m.Current = 1
	}
	if it.Autocontinue {
		m.Autocontinue = 1
	}
	return m
}

// itemFromInt converts a MISSION_ITEM_INT; _INT frames become their plain
// counterparts.
func itemFromInt(m *common.MessageMissionItemInt) fleet.MissionItem {
	return fleet.MissionItem{
		Seq:          int(m.Seq),
		Frame:        plainFrame(m.Frame),
		Command:      fleet.MissionCommand(m.Command),
		Current:      m.Current != 0,
		Autocontinue: m.Autocontinue != 0,
		Param1:       float64(m.Param1),
		Param2:       float64(m.Param2),
		Param3:       float64(m.Param3),
		Param4:       float64(m.Param4),
		Lat:          float64(m.X) / 1e7,
		Lon:          float64(m.Y) / 1e7,
		Alt:          float64(m.Z),
	}
}

// itemFromFloat converts a (deprecated) MISSION_ITEM.
func itemFromFloat(m *common.MessageMissionItem) fleet.MissionItem {
	return fleet.MissionItem{
		Seq:          int(m.Seq),
		Frame:        plainFrame(m.Frame),
		Command:      fleet.MissionCommand(m.Command),
		Current:      m.Current != 0,
		Autocontinue: m.Autocontinue != 0,
		Param1:       float64(m.Param1),
		Param2:       float64(m.Param2),
		Param3:       float64(m.Param3),
		Param4:       float64(m.Param4),
		Lat:          float64(m.X),
		Lon:          float64(m.Y),
		Alt:          float64(m.Z),
	}
}

func plainFrame(f common.MAV_FRAME) fleet.Frame {
	switch f {
	case common.MAV_FRAME_GLOBAL_INT:
		return fleet.FrameGlobal
	case common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT:
		return fleet.FrameGlobalRelativeAlt
	case common.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT:
		return fleet.FrameGlobalTerrainAlt
	}
	return fleet.Frame(f)
}

// UploadMission implements fleet.Vehicle: MISSION_COUNT, then one
// MISSION_ITEM_INT for each MISSION_REQUEST_INT or MISSION_REQUEST, until
// MISSION_ACK (MISSION_ITEM for a vehicle whose AUTOPILOT_VERSION lacks
// MISSION_INT). On silence it repeats its last message; when the vehicle's
// final ACK was lost and it answers a repeated last item with
// MAV_MISSION_ERROR, the upload starts again with MISSION_COUNT.
func (l *link) UploadMission(ctx context.Context, t fleet.MissionType, items []fleet.MissionItem, progress func(done, total int)) (err error) {
	defer l.t.observeOp("mission_upload", opStart(), &err)
	if len(items) > maxMissionItems {
		return fleet.Errorf(fleet.Invalid, "too many mission items: %d", len(items))
	}
	for i, it := range items {
		if !finite(it.Lat) || !finite(it.Lon) || !finite(it.Alt) || math.Abs(it.Lat) > 90 || math.Abs(it.Lon) > 180 {
			return fleet.Errorf(fleet.Invalid, "mission item %d: bad position %v, %v, %v m", i, it.Lat, it.Lon, it.Alt)
		}
	}
	w, end, err := l.startTransfer(t)
	if err != nil {
		return err
	}
	defer end()
	log := l.log.With("mission_type", t.String())
	n := len(items)
	count := &common.MessageMissionCount{
		TargetSystem: l.key.SysID, TargetComponent: l.compID,
		Count: uint16(n), MissionType: common.MAV_MISSION_TYPE(t),
	}
	if err := l.send(count); err != nil {
		return err
	}
	timer := newStepTimer(l.t.MissionTimeout)
	defer timer.Stop()
	lastSent := -1      // seq of the last item sent
	resentLast := false // the last item was sent again for want of an ACK
	tries := 0
	report := func(done int) {
		if progress != nil {
			progress(done, n)
		}
	}
	useInt := l.missionInt()
	sendItem := func(seq int) error {
		lastSent = seq
		if !useInt {
			return l.send(l.missionItemFloat(t, items[seq], seq))
		}
		return l.send(l.missionItemInt(t, items[seq], seq))
	}
	restart := func() error {
		lastSent, resentLast = -1, false
		return l.send(count)
	}
	for {
		select {
		case <-ctx.Done():
			l.cancelTransfer(t)
			return ctxErr(ctx)
		case <-l.done:
			return errNoDrone()
		case <-timer.C:
			tries++
			if tries > l.t.MissionRetries {
				log.Info("mission upload timeout", "sent", lastSent+1, "total", n)
				l.cancelTransfer(t)
				return errTimeout("the " + t.String() + " upload")
			}
			var err error
			if lastSent < 0 {
				err = l.send(count)
			} else {
				resentLast = lastSent == n-1
				err = sendItem(lastSent)
			}
			if err != nil {
				return err
			}
			timer.reset(l.t.MissionTimeout)
		case r := <-w.ch:
			seq := -1
			switch m := r.msg.(type) {
			case *common.MessageMissionRequest:
				seq = int(m.Seq)
			case *common.MessageMissionRequestInt:
				seq = int(m.Seq)
			case *common.MessageMissionAck:
				switch {
				case m.Type == common.MAV_MISSION_ACCEPTED:
					if n == 0 || lastSent == n-1 {
						report(n)
						return nil
					}
					continue // a stale ACK of an earlier transfer
				case m.Type == common.MAV_MISSION_INVALID_SEQUENCE:
					continue // the vehicle asks again
				case m.Type == common.MAV_MISSION_ERROR && resentLast,
					m.Type == common.MAV_MISSION_OPERATION_CANCELLED && tries > 0:
					// The transfer ended on the vehicle (its ACK to our last
					// item may have been lost): start again. ArduCopter
					// answers MAV_MISSION_ERROR to any item after the end,
					// also to the last item sent twice because its request
					// came twice.
					tries++
					if tries > l.t.MissionRetries {
						return missionResult(m.Type, t, "upload")
					}
					log.Debug("mission upload restart", "result", m.Type.String())
					if err := restart(); err != nil {
						return err
					}
					timer.reset(l.t.MissionTimeout)
					continue
				default:
					err := missionResult(m.Type, t, "upload")
					log.Info("mission upload refused", "err", err)
					return err
				}
			default:
				continue
			}
			if seq < 0 || seq >= n {
				continue
			}
			again := seq == n-1 && lastSent == n-1 // the last item asked twice
			if err := sendItem(seq); err != nil {
				return err
			}
			resentLast = again
			tries = 0
			report(seq)
			timer.reset(l.t.MissionTimeout)
		}
	}
}

// cancelTransfer tells the vehicle a transfer is abandoned.
func (l *link) cancelTransfer(t fleet.MissionType) {
	_ = l.send(&common.MessageMissionAck{
		TargetSystem: l.key.SysID, TargetComponent: l.compID,
		Type: common.MAV_MISSION_OPERATION_CANCELLED, MissionType: common.MAV_MISSION_TYPE(t),
	})
}

// DownloadMission implements fleet.Vehicle: MISSION_REQUEST_LIST →
// MISSION_COUNT, MISSION_REQUEST_INT for each item (MISSION_REQUEST for a
// vehicle without MISSION_INT), then MISSION_ACK.
func (l *link) DownloadMission(ctx context.Context, t fleet.MissionType, progress func(done, total int)) (_ []fleet.MissionItem, err error) {
	defer l.t.observeOp("mission_download", opStart(), &err)
	w, end, err := l.startTransfer(t)
	if err != nil {
		return nil, err
	}
	defer end()
	mt := common.MAV_MISSION_TYPE(t)
	list := &common.MessageMissionRequestList{TargetSystem: l.key.SysID, TargetComponent: l.compID, MissionType: mt}
	n := -1
	var items []fleet.MissionItem
	var ask message.Message = list
	useInt := l.missionInt()
	if err := l.send(ask); err != nil {
		return nil, err
	}
	timer := newStepTimer(l.t.MissionTimeout)
	defer timer.Stop()
	tries := 0
	next := func() (bool, error) {
		if len(items) == n {
			return true, l.send(&common.MessageMissionAck{
				TargetSystem: l.key.SysID, TargetComponent: l.compID,
				Type: common.MAV_MISSION_ACCEPTED, MissionType: mt,
			})
		}
		if useInt {
			ask = &common.MessageMissionRequestInt{
				TargetSystem: l.key.SysID, TargetComponent: l.compID, Seq: uint16(len(items)), MissionType: mt,
			}
		} else {
			ask = &common.MessageMissionRequest{
				TargetSystem: l.key.SysID, TargetComponent: l.compID, Seq: uint16(len(items)), MissionType: mt,
			}
		}
		tries = 0
		timer.reset(l.t.MissionTimeout)
		return false, l.send(ask)
	}
	for {
		select {
		case <-ctx.Done():
			l.cancelTransfer(t)
			return nil, ctxErr(ctx)
		case <-l.done:
			return nil, errNoDrone()
		case <-timer.C:
			tries++
			if tries > l.t.MissionRetries {
				l.cancelTransfer(t)
				return nil, errTimeout("the " + t.String() + " download")
			}
			if err := l.send(ask); err != nil {
				return nil, err
			}
			timer.reset(l.t.MissionTimeout)
		case r := <-w.ch:
			var it fleet.MissionItem
			switch m := r.msg.(type) {
			case *common.MessageMissionCount:
				if n >= 0 {
					continue
				}
				n = int(m.Count)
				if n > l.t.MaxMissionItems {
					l.cancelTransfer(t)
					l.t.stats.badMissions.Add(1)
					return nil, fleet.Errorf(fleet.Invalid, "the vehicle announced a %s of %d items, more than %d", t, n, l.t.MaxMissionItems)
				}
				items = make([]fleet.MissionItem, 0, n)
				if progress != nil {
					progress(0, n)
				}
				if done, err := next(); done || err != nil {
					return items, err
				}
				continue
			case *common.MessageMissionItemInt:
				it = itemFromInt(m)
			case *common.MessageMissionItem:
				it = itemFromFloat(m)
			case *common.MessageMissionAck:
				if n >= 0 && m.Type != common.MAV_MISSION_ACCEPTED && m.Type != common.MAV_MISSION_INVALID_SEQUENCE {
					return nil, missionResult(m.Type, t, "download")
				}
				continue
			default:
				continue
			}
			if n < 0 || it.Seq != len(items) {
				continue
			}
			if err := fleet.CheckMissionItem(it); err != nil {
				l.cancelTransfer(t)
				l.t.stats.badMissions.Add(1)
				return nil, err
			}
			items = append(items, it)
			if progress != nil {
				progress(len(items), n)
			}
			if done, err := next(); done || err != nil {
				return items, err
			}
		}
	}
}

// ClearMission implements fleet.Vehicle: MISSION_CLEAR_ALL → MISSION_ACK.
func (l *link) ClearMission(ctx context.Context, t fleet.MissionType) (err error) {
	defer l.t.observeOp("mission_clear", opStart(), &err)
	w, end, err := l.startTransfer(t)
	if err != nil {
		return err
	}
	defer end()
	clear := &common.MessageMissionClearAll{
		TargetSystem: l.key.SysID, TargetComponent: l.compID, MissionType: common.MAV_MISSION_TYPE(t),
	}
	err = l.exchange(ctx, w, l.t.MissionTimeout, l.t.MissionRetries,
		func(int) message.Message { return clear },
		func(r reply) (replyAction, error) {
			if m, ok := r.msg.(*common.MessageMissionAck); ok {
				return finished, missionResult(m.Type, t, "clear")
			}
			return keepWaiting, nil
		})
	if err == errExhausted {
		return errTimeout("the " + t.String() + " clear")
	}
	return err
}

// SetCurrentItem implements fleet.Vehicle: MAV_CMD_DO_SET_MISSION_CURRENT,
// or, for a vehicle that does not support it, MISSION_SET_CURRENT confirmed
// by MISSION_CURRENT.
func (l *link) SetCurrentItem(ctx context.Context, seq int) error {
	if seq < 0 || seq > maxMissionItems {
		return fleet.Errorf(fleet.Invalid, "bad mission item %d", seq)
	}
	mc := mavCommand{cmd: common.MAV_CMD_DO_SET_MISSION_CURRENT, name: "set_mission_current"}
	mc.params[0] = float32(seq)
	err := l.command(ctx, mc, 0, 0)
	if fleet.ErrorCode(err) != fleet.Unsupported {
		return err
	}
	w := l.addWaiter(16, func(r *reply) bool {
		m, ok := r.msg.(*common.MessageMissionCurrent)
		return ok && int(m.Seq) == seq
	})
	defer l.removeWaiter(w)
	msg := &common.MessageMissionSetCurrent{TargetSystem: l.key.SysID, TargetComponent: l.compID, Seq: uint16(seq)}
	err = l.exchange(ctx, w, l.t.MissionTimeout, l.t.MissionRetries,
		func(int) message.Message { return msg },
		func(reply) (replyAction, error) { return finished, nil })
	if err == errExhausted {
		return errTimeout("set current mission item")
	}
	return err
}
