package sim

import "github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

// fenceState is the on-board fence.
type fenceState struct {
	enabled  bool
	breached bool
	count    uint16
	typ      common.FENCE_BREACH
	at       uint32
}

func (v *vehicle) setFenceEnabled(on bool) { v.fen.enabled = on }

func (v *vehicle) fenceAllows(n, e, u float64) bool { return true }

func (v *vehicle) fenceCheck() {}

func (v *vehicle) fenceStatus() *common.MessageFenceStatus {
	st := uint8(0)
	if v.fen.breached {
		st = 1
	}
	return &common.MessageFenceStatus{BreachStatus: st, BreachCount: v.fen.count, BreachType: v.fen.typ,
		BreachTime: v.fen.at, BreachMitigation: common.FENCE_MITIGATE_NONE}
}

// fenceLoaded is called when a fence plan is stored.
func (v *vehicle) fenceLoaded() {}
