package mavlink

import (
	"context"
	"fmt"
	"math"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// Parameter protocol constants.
const (
	maxParamName = 16
	// paramBatch is how many PARAM_REQUEST_READ by index are in flight at
	// once while filling the gaps of a list download: few enough not to
	// overflow gomavlib's 64-message write buffer or ArduPilot's request queue.
	paramBatch = 10
)

func checkParamName(name string) error {
	if name == "" || len(name) > maxParamName {
		return fleet.Errorf(fleet.Invalid, "bad parameter name %q: 1 to %d characters", name, maxParamName)
	}
	return nil
}

func (l *link) paramWaiter(size int, want func(m *common.MessageParamValue) bool) *waiter {
	return l.addWaiter(size, func(r *reply) bool {
		m, ok := r.msg.(*common.MessageParamValue)
		return ok && want(m)
	})
}

// ReadParams implements fleet.Vehicle: PARAM_REQUEST_LIST, then
// PARAM_REQUEST_READ by index for every index missed, a batch at a time,
// until every index is known or the retries run out (Timeout).
func (l *link) ReadParams(ctx context.Context, progress func(got, total int)) (_ []fleet.Param, err error) {
	defer l.t.observeOp("params_read", opStart(), &err)
	select {
	case <-l.done:
		return nil, errNoDrone()
	default:
	}
	if !l.tryLock(&l.paramList) {
		return nil, errBusy("a parameter download")
	}
	defer l.unlock(&l.paramList)
	w := l.paramWaiter(1024, func(m *common.MessageParamValue) bool { return m.ParamIndex != unknownU16 })
	defer l.removeWaiter(w)

	list := &common.MessageParamRequestList{TargetSystem: l.key.SysID, TargetComponent: l.compID}
	if err := l.send(list); err != nil {
		return nil, err
	}
	timer := newStepTimer(l.t.ParamTimeout)
	defer timer.Stop()
	total := -1
	var params []fleet.Param
	var have []bool
	got := 0
	tries := 0
	listing := true // the first pass: the vehicle sends the list by itself
	var asked []int // indices of the batch in flight
	askBatch := func() error {
		asked = asked[:0]
		for i := 0; i < total && len(asked) < paramBatch; i++ {
			if !have[i] {
				asked = append(asked, i)
			}
		}
		for _, i := range asked {
			err := l.send(&common.MessageParamRequestRead{
				TargetSystem: l.key.SysID, TargetComponent: l.compID, ParamIndex: int16(i),
			})
			if err != nil {
				return err
			}
		}
		timer.reset(l.t.ParamTimeout)
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		case <-l.done:
			return nil, errNoDrone()
		case <-timer.C:
			if total < 0 {
				tries++
				if tries > l.t.ParamRetries {
					return nil, errTimeout("the parameter list request")
				}
				if err := l.send(list); err != nil {
					return nil, err
				}
				timer.reset(l.t.ParamTimeout)
				continue
			}
			if !listing {
				tries++ // a whole batch timed out
				if tries > l.t.ParamRetries {
					return nil, &fleet.Error{
						Code:    fleet.Timeout,
						Message: fmt.Sprintf("parameter download incomplete: %d of %d", got, total),
						Reason:  "timeout",
					}
				}
			}
			listing = false
			if err := askBatch(); err != nil {
				return nil, err
			}
		case r := <-w.ch:
			m := r.msg.(*common.MessageParamValue)
			if total < 0 {
				if m.ParamCount == 0 || m.ParamCount == unknownU16 {
					continue
				}
				total = int(m.ParamCount)
				params = make([]fleet.Param, total)
				have = make([]bool, total)
				tries = 0
			}
			i := int(m.ParamIndex)
			if i >= total || have[i] {
				if listing {
					timer.reset(l.t.ParamTimeout)
				}
				continue
			}
			have[i] = true
			params[i] = paramFromMessage(m)
			params[i].Count = total
			got++
			if progress != nil {
				progress(got, total)
			}
			if got == total {
				return params, nil
			}
			if listing {
				timer.reset(l.t.ParamTimeout)
				continue
			}
			tries = 0
			if batchDone(asked, have) {
				if err := askBatch(); err != nil {
					return nil, err
				}
			}
		}
	}
}

func batchDone(asked []int, have []bool) bool {
	for _, i := range asked {
		if !have[i] {
			return false
		}
	}
	return true
}

// ReadParam implements fleet.Vehicle: PARAM_REQUEST_READ by name. Returns
// NotFound if the vehicle does not answer for that name.
func (l *link) ReadParam(ctx context.Context, name string) (_ fleet.Param, err error) {
	defer l.t.observeOp("param_read", opStart(), &err)
	if err := checkParamName(name); err != nil {
		return fleet.Param{}, err
	}
	req := &common.MessageParamRequestRead{
		TargetSystem: l.key.SysID, TargetComponent: l.compID, ParamId: name, ParamIndex: -1,
	}
	p, err := l.paramExchange(ctx, name, req)
	if fleet.ErrorCode(err) == fleet.Timeout {
		return p, &fleet.Error{Code: fleet.NotFound, Message: "no answer for parameter " + name, Reason: "param_not_found"}
	}
	return p, err
}

// SetParam implements fleet.Vehicle: PARAM_SET with the value as REAL32
// (ArduPilot converts it to the parameter's type; C-cast encoding), confirmed
// by the echoed PARAM_VALUE. Returns Denied if the echoed value differs.
func (l *link) SetParam(ctx context.Context, name string, value float64) (_ fleet.Param, err error) {
	defer l.t.observeOp("param_set", opStart(), &err)
	if err := checkParamName(name); err != nil {
		return fleet.Param{}, err
	}
	if !finite(value) || math.Abs(value) > math.MaxFloat32 {
		return fleet.Param{}, fleet.Errorf(fleet.Invalid, "bad value %v for parameter %s", value, name)
	}
	req := &common.MessageParamSet{
		TargetSystem: l.key.SysID, TargetComponent: l.compID,
		ParamId: name, ParamValue: float32(value), ParamType: common.MAV_PARAM_TYPE_REAL32,
	}
	p, err := l.paramExchange(ctx, name, req)
	if err != nil {
		return p, err
	}
	if float32(p.Value) != float32(value) {
		return p, &fleet.Error{
			Code:    fleet.Denied,
			Message: fmt.Sprintf("vehicle kept %s at %v (asked %v)", name, p.Value, value),
			Reason:  "param_value_rejected",
		}
	}
	return p, nil
}

// paramExchange sends req until a PARAM_VALUE named name comes back.
func (l *link) paramExchange(ctx context.Context, name string, req message.Message) (fleet.Param, error) {
	select {
	case <-l.done:
		return fleet.Param{}, errNoDrone()
	default:
	}
	w := l.paramWaiter(8, func(m *common.MessageParamValue) bool { return m.ParamId == name })
	defer l.removeWaiter(w)
	var p fleet.Param
	err := l.exchange(ctx, w, l.t.ParamTimeout, l.t.ParamRetries,
		func(int) message.Message { return req },
		func(r reply) (replyAction, error) {
			p = paramFromMessage(r.msg.(*common.MessageParamValue))
			return finished, nil
		})
	if err == errExhausted {
		return fleet.Param{}, errTimeout("parameter " + name)
	}
	if err != nil {
		return fleet.Param{}, err
	}
	return p, nil
}
