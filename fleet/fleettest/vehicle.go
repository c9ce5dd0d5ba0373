package fleettest

import (
	"context"
	"sync"

	"github.com/centinela-gcs/centinela/fleet"
)

var _ fleet.Vehicle = (*Vehicle)(nil)

// Vehicle is a fake fleet.Vehicle. Each method calls its Fn field, or, when
// that is nil, succeeds without doing anything (reads return nothing). Every
// call is recorded. Safe for concurrent use.
type Vehicle struct {
	// K is what Key returns.
	K fleet.VehicleKey

	CommandFn           func(ctx context.Context, cmd fleet.Command) error
	SetPositionTargetFn func(ctx context.Context, p fleet.Position) error
	UploadMissionFn     func(ctx context.Context, t fleet.MissionType, items []fleet.MissionItem, progress func(done, total int)) error
	DownloadMissionFn   func(ctx context.Context, t fleet.MissionType, progress func(done, total int)) ([]fleet.MissionItem, error)
	ClearMissionFn      func(ctx context.Context, t fleet.MissionType) error
	SetCurrentItemFn    func(ctx context.Context, seq int) error
	ReadParamsFn        func(ctx context.Context, progress func(got, total int)) ([]fleet.Param, error)
	ReadParamFn         func(ctx context.Context, name string) (fleet.Param, error)
	SetParamFn          func(ctx context.Context, name string, value float64) (fleet.Param, error)
	RequestStreamsFn    func(ctx context.Context, rates fleet.StreamRates) error

	mu       sync.Mutex
	calls    map[string]int
	commands []fleet.Command
}

// NewVehicle returns a fake vehicle with the given link and system id.
func NewVehicle(link string, sysID uint8) *Vehicle {
	return &Vehicle{K: fleet.VehicleKey{Link: link, SysID: sysID}}
}

func (v *Vehicle) record(name string) {
	v.mu.Lock()
	if v.calls == nil {
		v.calls = make(map[string]int)
	}
	v.calls[name]++
	v.mu.Unlock()
}

// Calls returns how many calls of the method name (for example "Command",
// "RequestStreams") have returned.
func (v *Vehicle) Calls(name string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls[name]
}

// Commands returns the commands sent so far, in order.
func (v *Vehicle) Commands() []fleet.Command {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]fleet.Command(nil), v.commands...)
}

// CommandKinds returns the kinds of the commands sent so far, in order.
func (v *Vehicle) CommandKinds() []fleet.CommandKind {
	var ks []fleet.CommandKind
	for _, c := range v.Commands() {
		ks = append(ks, c.Kind)
	}
	return ks
}

// Key implements fleet.Vehicle.
func (v *Vehicle) Key() fleet.VehicleKey { return v.K }

// Command implements fleet.Vehicle.
func (v *Vehicle) Command(ctx context.Context, cmd fleet.Command) error {
	defer v.record("Command")
	v.mu.Lock()
	v.commands = append(v.commands, cmd)
	v.mu.Unlock()
	if v.CommandFn != nil {
		return v.CommandFn(ctx, cmd)
	}
	return nil
}

// SetPositionTarget implements fleet.Vehicle.
func (v *Vehicle) SetPositionTarget(ctx context.Context, p fleet.Position) error {
	defer v.record("SetPositionTarget")
	if v.SetPositionTargetFn != nil {
		return v.SetPositionTargetFn(ctx, p)
	}
	return nil
}

// UploadMission implements fleet.Vehicle.
func (v *Vehicle) UploadMission(ctx context.Context, t fleet.MissionType, items []fleet.MissionItem, progress func(done, total int)) error {
	defer v.record("UploadMission")
	if v.UploadMissionFn != nil {
		return v.UploadMissionFn(ctx, t, items, progress)
	}
	return nil
}

// DownloadMission implements fleet.Vehicle.
func (v *Vehicle) DownloadMission(ctx context.Context, t fleet.MissionType, progress func(done, total int)) ([]fleet.MissionItem, error) {
	defer v.record("DownloadMission")
	if v.DownloadMissionFn != nil {
		return v.DownloadMissionFn(ctx, t, progress)
	}
	return nil, nil
}

// ClearMission implements fleet.Vehicle.
func (v *Vehicle) ClearMission(ctx context.Context, t fleet.MissionType) error {
	defer v.record("ClearMission")
	if v.ClearMissionFn != nil {
		return v.ClearMissionFn(ctx, t)
	}
	return nil
}

// SetCurrentItem implements fleet.Vehicle.
func (v *Vehicle) SetCurrentItem(ctx context.Context, seq int) error {
	defer v.record("SetCurrentItem")
	if v.SetCurrentItemFn != nil {
		return v.SetCurrentItemFn(ctx, seq)
	}
	return nil
}

// ReadParams implements fleet.Vehicle.
func (v *Vehicle) ReadParams(ctx context.Context, progress func(got, total int)) ([]fleet.Param, error) {
	defer v.record("ReadParams")
	if v.ReadParamsFn != nil {
		return v.ReadParamsFn(ctx, progress)
	}
	return nil, nil
}

// ReadParam implements fleet.Vehicle.
func (v *Vehicle) ReadParam(ctx context.Context, name string) (fleet.Param, error) {
	defer v.record("ReadParam")
	if v.ReadParamFn != nil {
		return v.ReadParamFn(ctx, name)
	}
	return fleet.Param{}, fleet.Errorf(fleet.NotFound, "no parameter %s", name)
}

// SetParam implements fleet.Vehicle.
func (v *Vehicle) SetParam(ctx context.Context, name string, value float64) (fleet.Param, error) {
	defer v.record("SetParam")
	if v.SetParamFn != nil {
		return v.SetParamFn(ctx, name, value)
	}
	return fleet.Param{Name: name, Value: value, Type: fleet.ParamReal32, Index: -1}, nil
}

// RequestStreams implements fleet.Vehicle.
func (v *Vehicle) RequestStreams(ctx context.Context, rates fleet.StreamRates) error {
	defer v.record("RequestStreams")
	if v.RequestStreamsFn != nil {
		return v.RequestStreamsFn(ctx, rates)
	}
	return nil
}
