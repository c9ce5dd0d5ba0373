package fleet

// MissionType is the kind of plan the mission protocol carries.
type MissionType uint8

// Mission types, numbered as MAV_MISSION_TYPE.
const (
	MissionTypeMission MissionType = 0
	MissionTypeFence   MissionType = 1
	MissionTypeRally   MissionType = 2
)

// String returns "mission", "fence" or "rally".
func (t MissionType) String() string {
	switch t {
	case MissionTypeMission:
		return "mission"
	case MissionTypeFence:
		return "fence"
	case MissionTypeRally:
		return "rally"
	}
	return "unknown"
}

// Frame is the coordinate frame of a mission item, numbered as MAV_FRAME.
type Frame uint8

// Frames used by mission items.
const (
	// FrameGlobal is WGS84 with altitude above mean sea level.
	FrameGlobal Frame = 0
	// FrameMission is for items without a position (DO_* commands).
	FrameMission Frame = 2
	// FrameGlobalRelativeAlt is WGS84 with altitude above home.
	FrameGlobalRelativeAlt Frame = 3
	// FrameGlobalTerrainAlt is WGS84 with altitude above terrain.
	FrameGlobalTerrainAlt Frame = 10
)

// MissionCommand is a mission item's command, numbered as MAV_CMD so that
// plans (QGroundControl .plan files, autopilot downloads) carry over as they are.
type MissionCommand uint16

// Mission commands the fleet plans with and understands.
const (
	CmdNavWaypoint              MissionCommand = 16
	CmdNavLoiterUnlimited       MissionCommand = 17
	CmdNavLoiterTurns           MissionCommand = 18
	CmdNavLoiterTime            MissionCommand = 19
	CmdNavReturnToLaunch        MissionCommand = 20
	CmdNavLand                  MissionCommand = 21
	CmdNavTakeoff               MissionCommand = 22
	CmdDoJump                   MissionCommand = 177
	CmdDoChangeSpeed            MissionCommand = 178
	CmdDoSetHome                MissionCommand = 179
	CmdNavFencePolygonInclusion MissionCommand = 5001
	CmdNavFencePolygonExclusion MissionCommand = 5002
	CmdNavFenceCircleInclusion  MissionCommand = 5003
	CmdNavFenceCircleExclusion  MissionCommand = 5004
	CmdNavRallyPoint            MissionCommand = 5100
)

// IsNav reports whether c is a navigation command (one that moves the
// vehicle and can be the current item), as opposed to a DO_* command.
func (c MissionCommand) IsNav() bool { return c < 80 || (c >= 5000 && c < 5200) }

// MissionItem is one item of a mission, fence or rally plan, with MAV_CMD
// semantics for Param1..Param4.
type MissionItem struct {
	Seq     int
	Frame   Frame
	Command MissionCommand
	// Current marks the current item (uploads: seq 0 by convention).
	Current bool
	// Autocontinue moves on to the next item when this one completes.
	Autocontinue bool
	// Param1..Param4 are the command's parameters (for example hold time,
	// acceptance radius, pass radius and yaw for NAV_WAYPOINT).
	Param1, Param2, Param3, Param4 float64
	// Lat and Lon are degrees (0 when the command has no position).
	Lat, Lon float64
	// Alt is metres in Frame's reference.
	Alt float64
}
