package sim

import (
	"strings"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// paramsPerTick paces PARAM_REQUEST_LIST answers (about 1000/s at the
// default 10 ms tick, like ArduCopter over loopback), below gomavlib's
// per-channel write buffer.
const paramsPerTick = 10

// paramValue builds PARAM_VALUE for index i, reporting index idx.
func (v *vehicle) paramValue(i int, idx uint16) *common.MessageParamValue {
	d := paramDefs[i]
	return &common.MessageParamValue{ParamId: d.name, ParamValue: float32(v.p.vals[i]), ParamType: d.typ,
		ParamCount: uint16(len(paramDefs)), ParamIndex: idx}
}

// paramRequestList queues the whole list, after the version banner as
// ArduCopter sends it.
func (v *vehicle) paramRequestList() {
	v.text(common.MAV_SEVERITY_INFO, "ArduCopter V4.7.0-dev (centinela-sim)")
	v.text(common.MAV_SEVERITY_INFO, "Frame: QUAD/PLUS")
	v.paramQueue = v.paramQueue[:0]
	for i := range paramDefs {
		v.paramQueue = append(v.paramQueue, i)
	}
}

// pumpParams sends the next queued parameters.
func (v *vehicle) pumpParams() {
	n := min(paramsPerTick, len(v.paramQueue))
	for _, i := range v.paramQueue[:n] {
		v.send(v.paramValue(i, uint16(i)))
	}
	v.paramQueue = v.paramQueue[n:]
}

// paramRequestRead answers by name (index 65535, as ArduCopter) or by
// index (-1 = by name). Unknown names and indexes get no answer.
func (v *vehicle) paramRequestRead(name string, index int16) {
	if index >= 0 {
		if int(index) < len(paramDefs) {
			v.send(v.paramValue(int(index), uint16(index)))
		}
		return
	}
	if i, ok := paramIndex[strings.TrimRight(name, "\x00")]; ok {
		v.send(v.paramValue(i, 65535))
	}
}

// paramSet stores a value (any type may be sent as REAL32) and echoes the
// stored value with its true type and index 65535. Unknown names are ignored.
func (v *vehicle) paramSet(name string, val float64) {
	i, _, ok := v.p.set(name, val)
	if !ok {
		return
	}
	v.applyParam(paramDefs[i].name)
	v.send(v.paramValue(i, 65535))
}

// applyParam makes a parameter take effect at once.
func (v *vehicle) applyParam(name string) {
	switch name {
	case "SIM_WIND_SPD", "SIM_WIND_DIR", "SIM_WIND_TURB":
		v.m.WindSpeed, v.m.WindFrom, v.m.GustSigma = v.p.get("SIM_WIND_SPD"), v.p.get("SIM_WIND_DIR"), v.p.get("SIM_WIND_TURB")
	case "BATT_CAPACITY":
		if c := v.p.get("BATT_CAPACITY"); c > 0 {
			v.m.Capacity = c
		}
	case "SIM_BATT_VOLTAGE":
		if x := v.p.get("SIM_BATT_VOLTAGE"); x > 0 {
			v.m.FullVoltage = x
		}
	case "FENCE_ENABLE":
		v.setFenceEnabled(v.p.get("FENCE_ENABLE") != 0)
	}
}
