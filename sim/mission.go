package sim

import (
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// missionItem is one stored item of a mission, fence or rally plan.
type missionItem struct {
	frame          common.MAV_FRAME
	cmd            common.MAV_CMD
	autocontinue   uint8
	p1, p2, p3, p4 float32
	x, y           int32
	z              float32
}

// missionState is the vehicle's plans and the AUTO mission's progress.
type missionState struct {
	items   [3][]missionItem // by MAV_MISSION_TYPE
	current int              // current nav item of the mission
	landing bool
	tgt     target
	speed   float64
}

func (s *missionState) init() {}

func (s *missionState) count(t int) int { return len(s.items[t]) }

func (v *vehicle) startMission()                               {}
func (v *vehicle) autoStep(lim limits) setpoint                { v.holdHere(); return v.flyTo(v.tgt, lim) }
func (v *vehicle) missionAfterStep()                           {}
func (v *vehicle) missionDisarmed()                            {}
func (v *vehicle) pumpMission()                                {}
func (v *vehicle) handleMission(_, _ uint8, _ message.Message) {}

func (v *vehicle) missionCurrent() *common.MessageMissionCurrent {
	return &common.MessageMissionCurrent{Seq: uint16(v.mis.current), Total: 0, MissionState: common.MISSION_STATE_NO_MISSION}
}

func (v *vehicle) missionStartCommand() (common.MAV_RESULT, string) {
	return common.MAV_RESULT_FAILED, ""
}
