package mavlink

import (
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
