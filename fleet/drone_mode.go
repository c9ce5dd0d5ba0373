package fleet

import (
	"strconv"
	"strings"
)

// Autopilot identifiers (MAV_AUTOPILOT) the fleet decodes modes for.
const (
	AutopilotGeneric     uint8 = 0
	AutopilotArduPilot   uint8 = 3
	AutopilotPX4         uint8 = 12
	AutopilotInvalid     uint8 = 8
	vehicleTypeGCS       uint8 = 6
	modeFlagArmed        uint8 = 0x80
	modeFlagCustomMode   uint8 = 0x01
	systemStatusBoot     uint8 = 1
	systemStatusCritical uint8 = 5
	systemStatusEmerg    uint8 = 6
)

// ArduCopter flight modes (custom_mode numbers), as in ArduCopter's mode.h.
var arduCopterModes = map[uint32]string{
	0: "STABILIZE", 1: "ACRO", 2: "ALT_HOLD", 3: "AUTO", 4: "GUIDED", 5: "LOITER",
	6: "RTL", 7: "CIRCLE", 9: "LAND", 11: "DRIFT", 13: "SPORT", 14: "FLIP",
	15: "AUTOTUNE", 16: "POSHOLD", 17: "BRAKE", 18: "THROW", 19: "AVOID_ADSB",
	20: "GUIDED_NOGPS", 21: "SMART_RTL", 22: "FLOWHOLD", 23: "FOLLOW", 24: "ZIGZAG",
	25: "SYSTEMID", 26: "AUTOROTATE", 27: "AUTO_RTL", 28: "TURTLE",
}

var arduCopterModeNumbers = invertModes(arduCopterModes)

// PX4 main modes (custom_mode byte 2) and AUTO / POSCTL sub modes (byte 3),
// as in PX4's px4_custom_mode.h.
const (
	px4MainManual     = 1
	px4MainAltctl     = 2
	px4MainPosctl     = 3
	px4MainAuto       = 4
	px4MainAcro       = 5
	px4MainOffboard   = 6
	px4MainStabilized = 7
	px4MainRattitude  = 8
	px4MainTerminate  = 10
)

var px4MainModes = map[uint8]string{
	px4MainManual: "MANUAL", px4MainAltctl: "ALTCTL", px4MainPosctl: "POSCTL",
	px4MainAuto: "AUTO", px4MainAcro: "ACRO", px4MainOffboard: "OFFBOARD",
	px4MainStabilized: "STABILIZED", px4MainRattitude: "RATTITUDE",
	px4MainTerminate: "TERMINATION",
}

var px4AutoSubModes = map[uint8]string{
	1: "READY", 2: "TAKEOFF", 3: "LOITER", 4: "MISSION", 5: "RTL", 6: "LAND",
	8: "FOLLOW_TARGET", 9: "PRECLAND", 10: "VTOL_TAKEOFF",
}

var px4PosctlSubModes = map[uint8]string{1: "ORBIT", 2: "SLOW"}

var px4ModeNumbers = func() map[string]uint32 {
	m := map[string]uint32{}
	for main, name := range px4MainModes {
		if main != px4MainAuto {
			m[name] = px4CustomMode(main, 0)
		}
	}
	for sub, name := range px4AutoSubModes {
		m["AUTO."+name] = px4CustomMode(px4MainAuto, sub)
	}
	for sub, name := range px4PosctlSubModes {
		m["POSCTL."+name] = px4CustomMode(px4MainPosctl, sub)
	}
	return m
}()

func invertModes(m map[uint32]string) map[string]uint32 {
	r := make(map[string]uint32, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

func px4CustomMode(main, sub uint8) uint32 { return uint32(main)<<16 | uint32(sub)<<24 }

// isCopter reports whether MAV_TYPE t is a multirotor or helicopter, the
// vehicles ArduCopter flies.
func isCopter(t uint8) bool {
	switch t {
	case 2, 3, 4, 13, 14, 15, 29, 35: // quad, coax, heli, hexa, octo, tri, dodeca, decarotor
		return true
	}
	return false
}

// ModeName returns the name of a flight mode: ArduCopter's mode names
// ("GUIDED", "RTL", …) for ArduPilot multirotors, PX4's "MAIN.SUB" names
// ("AUTO.MISSION", "POSCTL", …) for PX4, and "MODE(n)" for anything else.
// Only custom_mode is read: base_mode flags do not say the mode.
func ModeName(autopilot, vehicleType uint8, customMode uint32) string {
	switch autopilot {
	case AutopilotArduPilot:
		if isCopter(vehicleType) {
			if s, ok := arduCopterModes[customMode]; ok {
				return s
			}
		}
	case AutopilotPX4:
		main := uint8(customMode >> 16)
		sub := uint8(customMode >> 24)
		name, ok := px4MainModes[main]
		if !ok {
			break
		}
		switch main {
		case px4MainAuto:
			if s, ok := px4AutoSubModes[sub]; ok {
				return name + "." + s
			}
			return name
		case px4MainPosctl:
			if s, ok := px4PosctlSubModes[sub]; ok {
				return name + "." + s
			}
		}
		return name
	}
	return "MODE(" + strconv.FormatUint(uint64(customMode), 10) + ")"
}

// ModeNumber returns the custom_mode that selects the named mode on a vehicle
// (the inverse of ModeName; names are case-insensitive). For PX4 the number
// is the whole custom_mode word (main mode in byte 2, sub mode in byte 3).
// ok is false when the autopilot has no such mode.
func ModeNumber(autopilot, vehicleType uint8, name string) (mode uint32, ok bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch autopilot {
	case AutopilotArduPilot:
		if isCopter(vehicleType) {
			if mode, ok = arduCopterModeNumbers[name]; ok {
				return mode, ok
			}
		}
	case AutopilotPX4:
		mode, ok = px4ModeNumbers[name]
		return mode, ok
	}
	if strings.HasPrefix(name, "MODE(") && strings.HasSuffix(name, ")") {
		n, err := strconv.ParseUint(name[5:len(name)-1], 10, 32)
		if err == nil {
			return uint32(n), true
		}
	}
	return 0, false
}

// modeRole says what a mode means to the fleet, independent of autopilot.
type modeRole int

const (
	roleOther modeRole = iota
	roleMission
	roleGuided
	roleHold
	roleReturn
	roleLand
)

func modeRoleOf(autopilot uint8, name string) modeRole {
	switch name {
	case "AUTO", "AUTO.MISSION":
		return roleMission
	case "GUIDED", "OFFBOARD":
		return roleGuided
	case "LOITER", "BRAKE", "POSHOLD", "AUTO.LOITER":
		return roleHold
	case "RTL", "SMART_RTL", "AUTO_RTL", "AUTO.RTL":
		return roleReturn
	case "LAND", "AUTO.LAND", "AUTO.PRECLAND":
		return roleLand
	}
	return roleOther
}

// systemStatusNames names MAV_STATE values.
var systemStatusNames = [...]string{"UNINIT", "BOOT", "CALIBRATING", "STANDBY", "ACTIVE", "CRITICAL", "EMERGENCY", "POWEROFF", "FLIGHT_TERMINATION"}

// SystemStatusName returns the MAV_STATE name of s ("STANDBY", "CRITICAL", …).
func SystemStatusName(s uint8) string {
	if int(s) < len(systemStatusNames) {
		return systemStatusNames[s]
	}
	return "STATE(" + strconv.Itoa(int(s)) + ")"
}
