package sim

import (
	"math"
	"sort"
	"strings"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// paramDef is one parameter with ArduCopter 4.7's name, type and default
// (as read from the reference SITL). order is its index in ArduCopter's own
// list, used only to keep the same relative order.
type paramDef struct {
	name  string
	typ   common.MAV_PARAM_TYPE
	def   float64
	order int
}

const (
	pInt8   = common.MAV_PARAM_TYPE_INT8
	pInt16  = common.MAV_PARAM_TYPE_INT16
	pInt32  = common.MAV_PARAM_TYPE_INT32
	pReal32 = common.MAV_PARAM_TYPE_REAL32
)

// paramDefs lists the parameters the simulator implements.
var paramDefs = func() []paramDef {
	d := []paramDef{
		{"FORMAT_VERSION", pInt16, 120, 0},
		{"RTL_ALT", pInt32, 1500, 5},
		{"RTL_SPEED", pInt16, 0, 7},
		{"RTL_ALT_FINAL", pInt16, 0, 8},
		{"RTL_CLIMB_MIN", pInt16, 0, 9},
		{"RTL_LOIT_TIME", pInt32, 5000, 10},
		{"FS_GCS_ENABLE", pInt8, 0, 12},
		{"WP_YAW_BEHAVIOR", pInt8, 2, 15},
		{"LAND_SPEED", pInt16, 50, 16},
		{"LAND_SPEED_HIGH", pInt16, 0, 17},
		{"PILOT_SPEED_UP", pInt16, 250, 18},
		{"FS_THR_ENABLE", pInt8, 1, 20},
		{"FLTMODE1", pInt8, 7, 23},
		{"FRAME_TYPE", pInt8, 0, 35},
		{"ARMING_CHECK", pInt32, 1, 39},
		{"DISARM_DELAY", pInt8, 10, 43},
		{"ANGLE_MAX", pInt16, 3000, 44},
		{"FS_EKF_ACTION", pInt8, 1, 48},
		{"COMPASS_USE", pInt8, 1, 75},
		{"INS_ACCOFFS_X", pReal32, 0.001, 153},
		{"WPNAV_SPEED", pReal32, 1000, 214},
		{"WPNAV_RADIUS", pReal32, 200, 215},
		{"WPNAV_SPEED_UP", pReal32, 250, 216},
		{"WPNAV_SPEED_DN", pReal32, 150, 217},
		{"WPNAV_ACCEL", pReal32, 250, 218},
		{"WPNAV_ACCEL_Z", pReal32, 100, 219},
		{"LOIT_SPEED", pReal32, 1250, 225},
		{"AHRS_EKF_TYPE", pInt8, 3, 336},
		{"BATT_MONITOR", pInt8, 4, 340},
		{"BATT_CAPACITY", pInt32, 3300, 341},
		{"BATT_FS_VOLTSRC", pInt8, 0, 344},
		{"BATT_LOW_VOLT", pReal32, 10.5, 345},
		{"BATT_LOW_MAH", pReal32, 0, 346},
		{"BATT_CRT_VOLT", pReal32, 0, 347},
		{"BATT_CRT_MAH", pReal32, 0, 348},
		{"BATT_FS_LOW_ACT", pInt8, 0, 349},
		{"BATT_FS_CRT_ACT", pInt8, 0, 350},
		{"SIM_WIND_SPD", pReal32, 0, 391},
		{"SIM_WIND_DIR", pReal32, 180, 392},
		{"SIM_WIND_TURB", pReal32, 0, 393},
		{"SIM_BATT_VOLTAGE", pReal32, 12.6, 399},
		{"SIM_SPEEDUP", pReal32, 1, 418},
		{"SIM_GPS1_ENABLE", pInt8, 1, 560},
		{"GPS1_TYPE", pInt8, 1, 771},
		{"AVOID_ENABLE", pInt8, 3, 786},
		{"RALLY_TOTAL", pInt8, 0, 796},
		{"RALLY_LIMIT_KM", pReal32, 0.3, 797},
		{"MOT_THST_HOVER", pReal32, 0.39, 811},
		{"EK3_ENABLE", pInt8, 1, 827},
		{"MIS_TOTAL", pInt16, 0, 910},
		{"MIS_RESTART", pInt8, 0, 911},
		{"MIS_OPTIONS", pInt16, 0, 912},
		{"FRAME_CLASS", pInt8, 1, 969},
		{"LAND_ALT_LOW", pInt16, 1000, 1170},
		{"FS_OPTIONS", pInt32, 16, 1188},
		{"AUTO_OPTIONS", pInt32, 0, 1191},
		{"GUID_OPTIONS", pInt32, 0, 1192},
		{"FS_GCS_TIMEOUT", pReal32, 5, 1193},
		{"FENCE_ENABLE", pInt8, 0, 1239},
		{"FENCE_TYPE", pInt8, 7, 1240},
		{"FENCE_ACTION", pInt8, 1, 1241},
		{"FENCE_ALT_MAX", pReal32, 100, 1242},
		{"FENCE_RADIUS", pReal32, 150, 1243},
		{"FENCE_MARGIN", pReal32, 2, 1244},
		{"FENCE_TOTAL", pInt8, 0, 1245},
		{"FENCE_ALT_MIN", pReal32, -10, 1246},
		{"FENCE_AUTOENABLE", pInt8, 0, 1247},
		{"FENCE_OPTIONS", pInt16, 0, 1248},
		{"FENCE_NTF_FREQ", pReal32, 1, 1249},
		{"STAT_FLTTIME", pInt32, 0, 1268},
		{"STAT_RUNTIME", pInt32, 0, 1269},
		{"LOG_BACKEND_TYPE", pInt8, 1, 1272},
		{"MAV_SYSID", pInt16, 1, 1312},
		{"MAV_GCS_SYSID", pInt16, 255, 1313},
	}
	sort.SliceStable(d, func(i, j int) bool { return d[i].order < d[j].order })
	return d
}()

// paramIndex maps names to indexes in paramDefs.
var paramIndex = func() map[string]int {
	m := make(map[string]int, len(paramDefs))
	for i, p := range paramDefs {
		m[p.name] = i
	}
	return m
}()

// params holds one drone's parameter values, in paramDefs order.
type params struct {
	vals []float64
}

func newParams() *params {
	p := &params{vals: make([]float64, len(paramDefs))}
	for i, d := range paramDefs {
		p.vals[i] = d.def
	}
	return p
}

// get returns the named parameter's value; the name must be in paramDefs.
func (p *params) get(name string) float64 {
	i, ok := paramIndex[name]
	if !ok {
		panic("sim: unknown parameter " + name)
	}
	return p.vals[i]
}

// set stores v (rounded and clamped for integer types) and returns the index
// and stored value. ok is false for an unknown name or a NaN value.
func (p *params) set(name string, v float64) (idx int, stored float64, ok bool) {
	idx, ok = paramIndex[strings.TrimRight(name, "\x00")]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, 0, false
	}
	switch paramDefs[idx].typ {
	case pInt8:
		v = clamp(math.Round(v), -128, 127)
	case pInt16:
		v = clamp(math.Round(v), -32768, 32767)
	case pInt32:
		v = clamp(math.Round(v), math.MinInt32, math.MaxInt32)
	}
	p.vals[idx] = v
	return idx, v, true
}

func (p *params) setInternal(name string, v float64) {
	p.vals[paramIndex[name]] = v
}
