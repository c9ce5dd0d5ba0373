package mavlink

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// fakeVehicle is a MAVLink autopilot written for the tests: its own gomavlib
// Node (sysid 1, compid 1) that sends heartbeats and positions and answers
// commands, the mission protocol (like ArduCopter: it asks with
// MISSION_REQUEST) and the parameter protocol. Loss drops frames each way.
type fakeVehicle struct {
	node  *gomavlib.Node
	sysID uint8
	tick  time.Duration
	// requestRepeat is how long an unanswered MISSION_REQUEST waits before
	// it is sent again (ArduPilot: 1 s).
	requestRepeat time.Duration
	// uploadTimeout ends an upload without progress with OPERATION_CANCELLED
	// (ArduPilot: 8 s).
	uploadTimeout time.Duration

	mu       sync.Mutex
	rng      *rand.Rand
	lossIn   float64
	lossOut  float64
	results  map[common.MAV_CMD]cmdBehaviour
	commands []*common.MessageCommandLong
	cmdInts  []*common.MessageCommandInt
	missions map[common.MAV_MISSION_TYPE][]*common.MessageMissionItemInt
	maxItems int
	up       *fakeUpload
	current  uint16
	params   []fakeParam
	paramQ   []int // indices still to send for PARAM_REQUEST_LIST
	streams  []*common.MessageRequestDataStream
	targets  []*common.MessageSetPositionTargetGlobalInt
	// dropAcceptedAcks drops this many MISSION_ACK ACCEPTED of uploads.
	dropAcceptedAcks int
	// doubleLastRequest asks for the last item of an upload twice, this
	// many times (a repeated request crossing the item, as under loss).
	doubleLastRequest int
	countsHeard       int
	errorAcksSent     int
	// gcsHeartbeat is the last HEARTBEAT heard from another system.
	gcsHeartbeat *heardHeartbeat
	// autopilot is the MAV_AUTOPILOT of its heartbeats (default ArduPilot).
	autopilot common.MAV_AUTOPILOT
	// floatOnly makes it a vehicle without MISSION_INT: it announces no
	// such capability and speaks MISSION_ITEM / MISSION_REQUEST; it counts
	// the _INT messages it gets anyway.
	floatOnly  bool
	intsHeard  int
	floatHeard int

	done chan struct{}
	wg   sync.WaitGroup
}

type cmdBehaviour struct {
	result common.MAV_RESULT
	// textBefore and textAfter are STATUSTEXTs (CRITICAL) sent just before
	// and just after the COMMAND_ACK.
	textBefore, textAfter string
	// inProgress sends this many IN_PROGRESS acks before the result.
	inProgress int
}

type heardHeartbeat struct {
	sys, comp uint8
	msg       common.MessageHeartbeat
}

type fakeUpload struct {
	typ      common.MAV_MISSION_TYPE
	items    []*common.MessageMissionItemInt
	next     int
	lastReq  time.Time
	progress time.Time
}

type fakeParam struct {
	name  string
	value float32
	typ   common.MAV_PARAM_TYPE
}

// fakeParams returns n parameters, FS_GCS_ENABLE (INT8) first.
func fakeParams(n int) []fakeParam {
	ps := []fakeParam{{"FS_GCS_ENABLE", 0, common.MAV_PARAM_TYPE_INT8}, {"WPNAV_SPEED", 1000, common.MAV_PARAM_TYPE_REAL32}}
	for i := len(ps); i < n; i++ {
		ps = append(ps, fakeParam{fmt.Sprintf("SIM_P%04d", i), float32(i) / 4, common.MAV_PARAM_TYPE_REAL32})
	}
	return ps
}

// startFakeVehicle connects a fake vehicle to ep and starts it.
func startFakeVehicle(t testing.TB, ep gomavlib.EndpointConf, seed uint64) *fakeVehicle {
	t.Helper()
	return startFakeVehicleKey(t, ep, seed, nil)
}

// startFakeVehicleKey starts a fake vehicle that signs with key and drops
// what is not signed with it (key nil: unsigned).
func startFakeVehicleKey(t testing.TB, ep gomavlib.EndpointConf, seed uint64, key *frame.V2Key) *fakeVehicle {
	t.Helper()
	v := &fakeVehicle{
		sysID:         1,
		tick:          10 * time.Millisecond,
		requestRepeat: 150 * time.Millisecond,
		uploadTimeout: 2 * time.Second,
		rng:           rand.New(rand.NewPCG(seed, 1)),
		results:       make(map[common.MAV_CMD]cmdBehaviour),
		missions:      make(map[common.MAV_MISSION_TYPE][]*common.MessageMissionItemInt),
		maxItems:      1000,
		params:        fakeParams(300),
		done:          make(chan struct{}),
	}
	v.node = &gomavlib.Node{
		Endpoints:        []gomavlib.EndpointConf{ep},
		Dialect:          ardupilotmega.Dialect,
		OutVersion:       gomavlib.V2,
		OutSystemID:      v.sysID,
		OutComponentID:   1,
		HeartbeatDisable: true,
		InKey:            key,
		OutKey:           key,
	}
	if err := v.node.Initialize(); err != nil {
		t.Fatalf("fake vehicle: %v", err)
	}
	v.wg.Add(1)
	go v.run()
	t.Cleanup(v.close)
	return v
}

func (v *fakeVehicle) close() {
	select {
	case <-v.done:
		return
	default:
	}
	close(v.done)
	v.wg.Wait()
	v.node.Close()
}

func (v *fakeVehicle) setLoss(in, out float64) {
	v.mu.Lock()
	v.lossIn, v.lossOut = in, out
	v.mu.Unlock()
}

func (v *fakeVehicle) setResult(cmd common.MAV_CMD, b cmdBehaviour) {
	v.mu.Lock()
	v.results[cmd] = b
	v.mu.Unlock()
}

func (v *fakeVehicle) drop(p float64) bool { return p > 0 && v.rng.Float64() < p }

// write sends m unless the outgoing loss drops it. Call with v.mu held.
func (v *fakeVehicle) write(m message.Message) {
	if v.drop(v.lossOut) {
		return
	}
	v.node.WriteMessageAll(m) //nolint:errcheck
}

func (v *fakeVehicle) run() {
	defer v.wg.Done()
	ticker := time.NewTicker(v.tick)
	defer ticker.Stop()
	n := 0
	events := v.node.Events()
	for {
		select {
		case <-v.done:
			return
		case evt := <-events:
			if fr, ok := evt.(*gomavlib.EventFrame); ok {
				v.mu.Lock()
				if hb, ok := fr.Message().(*common.MessageHeartbeat); ok && fr.SystemID() != v.sysID {
					v.gcsHeartbeat = &heardHeartbeat{fr.SystemID(), fr.ComponentID(), *hb}
				}
				if !v.drop(v.lossIn) {
					v.handle(fr.Message())
				}
				v.mu.Unlock()
			}
		case now := <-ticker.C:
			v.mu.Lock()
			v.onTick(now, n)
			v.mu.Unlock()
			n++
		}
	}
}

func (v *fakeVehicle) onTick(now time.Time, n int) {
	if n%5 == 0 {
		ap := v.autopilot
		if ap == 0 {
			ap = common.MAV_AUTOPILOT_ARDUPILOTMEGA
		}
		v.write(&common.MessageHeartbeat{
			Type: 2, Autopilot: ap, BaseMode: 0x51, CustomMode: 4, SystemStatus: 3, MavlinkVersion: 3,
		})
		v.write(&common.MessageGlobalPositionInt{
			TimeBootMs: uint32(n * 10), Lat: 325422000, Lon: -1170293000, Alt: 20100, RelativeAlt: 100,
			Vx: 150, Vy: -20, Vz: 0, Hdg: 9000,
		})
	}
	if u := v.up; u != nil {
		if now.Sub(u.progress) > v.uploadTimeout {
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_OPERATION_CANCELLED, MissionType: u.typ})
			v.up = nil
		} else if now.Sub(u.lastReq) > v.requestRepeat {
			v.request(now)
		}
	}
	for i := 0; i < 16 && len(v.paramQ) > 0; i++ {
		v.sendParam(v.paramQ[0], false)
		v.paramQ = v.paramQ[1:]
	}
}

func (v *fakeVehicle) request(now time.Time) {
	u := v.up
	u.lastReq = now
	v.write(&common.MessageMissionRequest{TargetSystem: 255, TargetComponent: 190, Seq: uint16(u.next), MissionType: u.typ})
	if u.next == len(u.items)-1 && v.doubleLastRequest > 0 {
		v.doubleLastRequest--
		v.write(&common.MessageMissionRequest{TargetSystem: 255, TargetComponent: 190, Seq: uint16(u.next), MissionType: u.typ})
	}
}

func (v *fakeVehicle) sendParam(i int, byName bool) {
	p := v.params[i]
	idx := uint16(i)
	if byName {
		idx = math.MaxUint16
	}
	v.write(&common.MessageParamValue{
		ParamId: p.name, ParamValue: p.value, ParamType: p.typ,
		ParamCount: uint16(len(v.params)), ParamIndex: idx,
	})
}

func (v *fakeVehicle) findParam(name string) int {
	for i, p := range v.params {
		if p.name == name {
			return i
		}
	}
	return -1
}

func (v *fakeVehicle) ack(cmd common.MAV_CMD, res common.MAV_RESULT) {
	v.write(&common.MessageCommandAck{Command: cmd, Result: res, TargetSystem: 255, TargetComponent: 190})
}

func (v *fakeVehicle) handleCommand(cmd common.MAV_CMD, p1 float32) {
	b, ok := v.results[cmd]
	if !ok {
		b = cmdBehaviour{result: common.MAV_RESULT_ACCEPTED}
	}
	if cmd == common.MAV_CMD_DO_SET_MISSION_CURRENT && b.result == common.MAV_RESULT_ACCEPTED {
		v.current = uint16(p1)
	}
	if b.textBefore != "" {
		v.write(&common.MessageStatustext{Severity: common.MAV_SEVERITY_CRITICAL, Text: b.textBefore})
	}
	for range b.inProgress {
		v.ack(cmd, common.MAV_RESULT_IN_PROGRESS)
	}
	v.ack(cmd, b.result)
	if b.textAfter != "" {
		v.write(&common.MessageStatustext{Severity: common.MAV_SEVERITY_CRITICAL, Text: b.textAfter})
	}
}

func (v *fakeVehicle) handle(m message.Message) {
	now := time.Now()
	switch m := m.(type) {
	case *common.MessageCommandLong:
		v.commands = append(v.commands, m)
		v.handleCommand(m.Command, m.Param1)
	case *common.MessageCommandInt:
		v.cmdInts = append(v.cmdInts, m)
		v.handleCommand(m.Command, m.Param1)
	case *common.MessageSetPositionTargetGlobalInt:
		v.targets = append(v.targets, m)
	case *common.MessageRequestDataStream:
		v.streams = append(v.streams, m)

	case *common.MessageMissionCount:
		v.countsHeard++
		if int(m.Count) > v.maxItems {
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_NO_SPACE, MissionType: m.MissionType})
			return
		}
		if m.Count == 0 {
			v.missions[m.MissionType] = nil
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_ACCEPTED, MissionType: m.MissionType})
			return
		}
		v.up = &fakeUpload{typ: m.MissionType, items: make([]*common.MessageMissionItemInt, m.Count), progress: now}
		v.request(now)
	case *common.MessageMissionItem:
		v.floatHeard++
		if !v.floatOnly {
			return
		}
		v.handle(&common.MessageMissionItemInt{
			TargetSystem: m.TargetSystem, TargetComponent: m.TargetComponent, Seq: m.Seq, Frame: m.Frame,
			Command: m.Command, Current: m.Current, Autocontinue: m.Autocontinue,
			Param1: m.Param1, Param2: m.Param2, Param3: m.Param3, Param4: m.Param4,
			X: int32(math.Round(float64(m.X) * 1e7)), Y: int32(math.Round(float64(m.Y) * 1e7)), Z: m.Z,
			MissionType: m.MissionType,
		})
		v.intsHeard-- // counted as an _INT below, but it was not one
	case *common.MessageMissionRequest:
		v.floatHeard++
		items := v.missions[m.MissionType]
		if !v.floatOnly || int(m.Seq) >= len(items) {
			return
		}
		it := items[m.Seq]
		v.write(&common.MessageMissionItem{TargetSystem: 255, TargetComponent: 190, Seq: it.Seq, Frame: it.Frame,
			Command: it.Command, Current: it.Current, Autocontinue: it.Autocontinue,
			Param1: it.Param1, Param2: it.Param2, Param3: it.Param3, Param4: it.Param4,
			X: float32(float64(it.X) / 1e7), Y: float32(float64(it.Y) / 1e7), Z: it.Z, MissionType: it.MissionType})
	case *common.MessageMissionItemInt:
		v.intsHeard++
		u := v.up
		if u == nil || u.typ != m.MissionType {
			// The transfer is over: what ArduPilot answers a resent last item.
			v.errorAcksSent++
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_ERROR, MissionType: m.MissionType})
			return
		}
		if int(m.Seq) != u.next {
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_INVALID_SEQUENCE, MissionType: m.MissionType})
			return
		}
		u.items[u.next] = m
		u.next++
		u.progress = now
		if u.next == len(u.items) {
			v.missions[u.typ] = u.items
			v.up = nil
			if v.dropAcceptedAcks > 0 {
				v.dropAcceptedAcks--
				return
			}
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_ACCEPTED, MissionType: m.MissionType})
			return
		}
		v.request(now)
	case *common.MessageMissionRequestList:
		v.write(&common.MessageMissionCount{TargetSystem: 255, TargetComponent: 190,
			Count: uint16(len(v.missions[m.MissionType])), MissionType: m.MissionType})
	case *common.MessageMissionRequestInt:
		v.intsHeard++
		items := v.missions[m.MissionType]
		if int(m.Seq) >= len(items) {
			v.write(&common.MessageMissionCount{TargetSystem: 255, TargetComponent: 190,
				Count: uint16(len(items)), MissionType: m.MissionType})
			v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
				Type: common.MAV_MISSION_INVALID_SEQUENCE, MissionType: m.MissionType})
			return
		}
		it := *items[m.Seq]
		it.TargetSystem, it.TargetComponent = 255, 190
		v.write(&it)
	case *common.MessageMissionClearAll:
		v.missions[m.MissionType] = nil
		v.write(&common.MessageMissionAck{TargetSystem: 255, TargetComponent: 190,
			Type: common.MAV_MISSION_ACCEPTED, MissionType: m.MissionType})
	case *common.MessageMissionSetCurrent:
		v.current = m.Seq
		v.write(&common.MessageMissionCurrent{Seq: m.Seq, Total: uint16(len(v.missions[0])), MissionState: 2})

	case *common.MessageParamRequestList:
		v.paramQ = v.paramQ[:0]
		for i := range v.params {
			v.paramQ = append(v.paramQ, i)
		}
	case *common.MessageParamRequestRead:
		if m.ParamIndex >= 0 {
			if int(m.ParamIndex) < len(v.params) {
				v.sendParam(int(m.ParamIndex), false)
			}
			return
		}
		if i := v.findParam(m.ParamId); i >= 0 {
			v.sendParam(i, true)
		}
	case *common.MessageParamSet:
		i := v.findParam(m.ParamId)
		if i < 0 {
			return
		}
		val := m.ParamValue
		if v.params[i].typ != common.MAV_PARAM_TYPE_REAL32 {
			val = float32(math.Trunc(float64(val)))
		}
		if v.params[i].name == "FS_GCS_ENABLE" && (val < 0 || val > 7) {
			val = v.params[i].value // out of range: kept
		}
		v.params[i].value = val
		v.sendParam(i, true)
	}
}
