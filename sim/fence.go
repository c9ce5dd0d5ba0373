package sim

import (
	"math"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// fenceState is the on-board fence: zones from the fence plan, the
// FENCE_RADIUS circle and FENCE_ALT_MAX (per FENCE_TYPE), enabled by
// MAV_CMD_DO_FENCE_ENABLE or FENCE_ENABLE.
type fenceState struct {
	enabled  bool
	breached bool
	count    uint16
	typ      common.FENCE_BREACH
	at       uint32
	zones    []zone
}

// zone is one fence zone in local metres.
type zone struct {
	exclusion bool
	circle    bool
	n, e, r   float64      // circle
	poly      [][2]float64 // polygon vertices (N, E)
}

func (z zone) contains(n, e float64) bool {
	if z.circle {
		return math.Hypot(n-z.n, e-z.e) <= z.r
	}
	in := false
	p := z.poly
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		if (p[i][1] > e) != (p[j][1] > e) && n < (p[j][0]-p[i][0])*(e-p[i][1])/(p[j][1]-p[i][1])+p[i][0] {
			in = !in
		}
	}
	return in
}

// setFenceEnabled enables or disables the fence at run time; FENCE_ENABLE
// is left as it is (as ArduCopter does for MAV_CMD_DO_FENCE_ENABLE).
func (v *vehicle) setFenceEnabled(on bool) {
	v.fen.enabled = on
	if !on && v.fen.breached {
		v.fen.breached = false
	}
}

// fenceLoaded rebuilds the zones when a fence plan is stored.
func (v *vehicle) fenceLoaded() {
	v.fen.zones = v.fen.zones[:0]
	items := v.mis.items[1]
	for i := 0; i < len(items); {
		it := items[i]
		n, e := toNE(v.origin.Lat, v.origin.Lon, float64(it.x)/1e7, float64(it.y)/1e7)
		switch it.cmd {
		case common.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, common.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION:
			v.fen.zones = append(v.fen.zones, zone{exclusion: it.cmd == common.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
				circle: true, n: n, e: e, r: float64(it.p1)})
			i++
		case common.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, common.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION:
			cnt := max(int(it.p1), 1)
			z := zone{exclusion: it.cmd == common.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION}
			for k := 0; k < cnt && i < len(items) && items[i].cmd == it.cmd; k++ {
				vn, ve := toNE(v.origin.Lat, v.origin.Lon, float64(items[i].x)/1e7, float64(items[i].y)/1e7)
				z.poly = append(z.poly, [2]float64{vn, ve})
				i++
			}
			if len(z.poly) >= 3 {
				v.fen.zones = append(v.fen.zones, z)
			}
		default:
			i++
		}
	}
}

// fenceViolation returns the breach a local position is in, 0 if none.
func (v *vehicle) fenceViolation(n, e, u float64) common.FENCE_BREACH {
	typ := int(v.p.get("FENCE_TYPE"))
	if typ&1 != 0 && u-v.home[2] > v.p.get("FENCE_ALT_MAX") {
		return common.FENCE_BREACH_MAXALT
	}
	if typ&2 != 0 && math.Hypot(n-v.home[0], e-v.home[1]) > v.p.get("FENCE_RADIUS") {
		return common.FENCE_BREACH_BOUNDARY
	}
	if typ&4 != 0 && v.polygonViolation(n, e) {
		return common.FENCE_BREACH_BOUNDARY
	}
	return 0
}

// fenceOptionUnion is FENCE_OPTIONS' bit for "inclusion areas are a union".
const fenceOptionUnion = 2

// polygonViolation reports whether a point breaks the uploaded zones: it is
// in an exclusion zone, or outside an inclusion zone. Like ArduPilot, the
// vehicle must be inside every inclusion zone, or inside any one of them
// with FENCE_OPTIONS bit 1 (value 2) set.
func (v *vehicle) polygonViolation(n, e float64) bool {
	union := int(v.p.get("FENCE_OPTIONS"))&fenceOptionUnion != 0
	hasIncl, inAny, outAny := false, false, false
	for _, z := range v.fen.zones {
		in := z.contains(n, e)
		if z.exclusion {
			if in {
				return true
			}
			continue
		}
		hasIncl = true
		inAny = inAny || in
		outAny = outAny || !in
	}
	if !hasIncl {
		return false
	}
	if union {
		return !inAny
	}
	return outAny
}

// outsideCircle reports whether a point is beyond the FENCE_RADIUS circle
// around home (with FENCE_TYPE's circle bit set).
func (v *vehicle) outsideCircle(n, e float64) bool {
	return int(v.p.get("FENCE_TYPE"))&2 != 0 && math.Hypot(n-v.home[0], e-v.home[1]) > v.p.get("FENCE_RADIUS")
}

// fenceAllows reports whether a guided target is inside the fence.
func (v *vehicle) fenceAllows(n, e, u float64) bool {
	return !v.fen.enabled || v.fenceViolation(n, e, u) == 0
}

// fenceCheck detects breaches and runs FENCE_ACTION once per breach.
func (v *vehicle) fenceCheck() {
	if !v.fen.enabled || !v.positionOK() {
		return
	}
	b := v.fenceViolation(v.m.N, v.m.E, v.m.U)
	switch {
	case b != 0 && !v.fen.breached:
		v.fen.breached = true
		v.fen.count++
		v.fen.typ = b
		v.fen.at = v.bootMs()
		switch {
		case b == common.FENCE_BREACH_MAXALT:
			v.text(common.MAV_SEVERITY_NOTICE, "Max Alt fence breached")
		case v.outsideCircle(v.m.N, v.m.E):
			v.text(common.MAV_SEVERITY_NOTICE, "Circle fence breached")
		default:
			v.text(common.MAV_SEVERITY_NOTICE, "Polygon fence breached")
		}
		v.d.log.Warn("fence breached", "sys_id", v.sysid)
		if v.armed && !v.m.Landed {
			switch int(v.p.get("FENCE_ACTION")) {
			case 1, 3, 5:
				v.failsafeAction(ModeRTL)
			case 2:
				v.failsafeAction(ModeLand)
			case 4:
				v.setMode(ModeBrake)
			}
		}
	case b == 0 && v.fen.breached:
		v.fen.breached = false
		v.text(common.MAV_SEVERITY_NOTICE, "Fence breach cleared")
	}
}

func (v *vehicle) fenceStatus() *common.MessageFenceStatus {
	st := uint8(0)
	if v.fen.breached {
		st = 1
	}
	return &common.MessageFenceStatus{BreachStatus: st, BreachCount: v.fen.count, BreachType: v.fen.typ,
		BreachTime: v.fen.at, BreachMitigation: common.FENCE_MITIGATE_NONE}
}
