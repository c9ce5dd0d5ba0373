package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ArmOptions tune Arm.
type ArmOptions struct {
	// Force arms without pre-arm checks.
	Force bool
	// Wait, if positive, retries a refused arming (pre-arm checks not yet
	// passed, as after a fresh boot) until it is accepted or Wait has
	// passed; the last refusal, with the vehicle's reason, is returned.
	Wait time.Duration
	// RetryInterval is the pause between attempts (optional, default the
	// fleet's ArmRetryInterval).
	RetryInterval time.Duration
}

// GoToOptions tune GoTo.
type GoToOptions struct {
	// SkipGuard skips the fleet's Guard (an authorised override).
	SkipGuard bool
}

// target finds a drone that can be reached now. Returns NotFound for an
// unknown id and NoDrone for a lost link.
func (f *Fleet) target(id string) (*drone, Vehicle, DroneState, error) {
	d := f.droneByID(id)
	if d == nil {
		return nil, nil, DroneState{}, errNotFound(id)
	}
	d.mu.Lock()
	st, v := d.st, d.vehicle
	d.mu.Unlock()
	if st.LinkState != LinkStateUp {
		return nil, nil, st, Errorf(NoDrone, "drone %q: link lost", id)
	}
	return d, v, st, nil
}

// opCtx bounds an operation by the fleet's CommandTimeout when ctx has no
// deadline, and ends it when the fleet closes.
func (f *Fleet) opCtx(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		stop := context.AfterFunc(f.ctx, cancel)
		return ctx, func() { stop(); cancel() }
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(f.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// vehicleErr maps what a Vehicle returned onto the fleet's codes: *Error as
// it is, an expired or cancelled context as Timeout, anything else Internal.
func vehicleErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: Timeout, Message: what + ": no answer in time"}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: Timeout, Message: what + ": cancelled"}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// send sends one command and maps its error.
func (f *Fleet) send(ctx context.Context, v Vehicle, cmd Command) error {
	return vehicleErr(v.Command(ctx, cmd), cmd.Kind.String())
}

// finish records an operation's result: a CommandResult event and a log line.
func (f *Fleet) finish(d *drone, op string, err error) error {
	e := CommandResult{DroneID: d.id, At: f.now(), Command: op}
	if err != nil {
		e.Code, e.Message = ErrorCode(err), ErrorMessage(err)
		d.log.Info("command failed", "cmd", op, "err", err)
		if e.Code == Denied && (op == "arm" || isArmRefusal(e.Message)) && f.noteRefusal(d, e.Message) {
			f.publishState(d)
		}
	} else {
		d.log.Info("command accepted", "cmd", op)
	}
	f.Publish(e)
	return err
}

// noteRefusal keeps a refused arm's message as the drone's LastRefusal;
// true when it changed.
func (f *Fleet) noteRefusal(d *drone, msg string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st.Armed || msg == "" || d.st.LastRefusal == msg {
		return false
	}
	d.st.LastRefusal = msg
	return true
}

// setMode switches d to the named mode and records it as the fleet's own.
func (f *Fleet) setMode(ctx context.Context, d *drone, v Vehicle, st DroneState, name string) error {
	num, ok := ModeNumber(st.Autopilot, st.VehicleType, name)
	if !ok {
		return Errorf(Invalid, "drone %q has no mode %q", d.id, name)
	}
	d.expect(f.now(), ModeName(st.Autopilot, st.VehicleType, num))
	return f.send(ctx, v, Command{Kind: CommandSetMode, Mode: num})
}

// ensureMode switches to name unless the drone is in it already.
func (f *Fleet) ensureMode(ctx context.Context, d *drone, v Vehicle, st DroneState, name string) error {
	if st.Mode == name {
		return nil
	}
	return f.setMode(ctx, d, v, st, name)
}

// SetMode switches drone id to the named mode (see ModeName for names).
// Returns NotFound, NoDrone, Invalid for a mode the autopilot does not have,
// and the vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) SetMode(ctx context.Context, id, mode string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	return f.finish(d, "set_mode", f.setMode(ctx, d, v, st, mode))
}

// Arm arms drone id's motors. A disarmed ArduPilot drone in a mode
// ArduCopter does not arm in (AUTO after a mission, RTL, LAND, BRAKE, …:
// "Arm: Mode not armable") is switched to GUIDED first, as Takeoff and
// StartMission do. With opts.Wait it retries while the vehicle refuses
// (Denied), every opts.RetryInterval, and returns the last refusal with its
// reason if the wait ends first. Returns NotFound, NoDrone, and the
// vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) Arm(ctx context.Context, id string, opts ArmOptions) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	timeout := f.CommandTimeout
	if opts.Wait > 0 {
		timeout = opts.Wait
	}
	ctx, cancel := f.opCtx(ctx, timeout)
	defer cancel()
	if st.Autopilot == AutopilotArduPilot && !st.Armed && !arduCopterArmable(st.Mode) {
		if err := f.setMode(ctx, d, v, st, "GUIDED"); err != nil {
			err = &Error{Code: ErrorCode(err), Reason: "mode_not_armable",
				Message: fmt.Sprintf("drone %q is in %s, where ArduCopter does not arm, and switching to GUIDED failed: %s (set an armable mode such as GUIDED or LOITER first)",
					d.id, st.Mode, ErrorMessage(err))}
			return f.finish(d, "arm", err)
		}
	}
	return f.finish(d, "arm", f.arm(ctx, v, opts))
}

// arduCopterArmable reports whether ArduCopter arms in mode (its
// allows_arming): not in AUTO (by default), RTL, SMART_RTL, LAND, BRAKE,
// CIRCLE, FOLLOW or AVOID_ADSB. An unknown mode ("") counts as armable.
func arduCopterArmable(mode string) bool {
	switch mode {
	case "AUTO", "RTL", "SMART_RTL", "AUTO_RTL", "LAND", "BRAKE", "CIRCLE", "FOLLOW", "AVOID_ADSB":
		return false
	}
	return true
}

func (f *Fleet) arm(ctx context.Context, v Vehicle, opts ArmOptions) error {
	cmd := Command{Kind: CommandArm, Force: opts.Force}
	if opts.Wait <= 0 {
		return f.send(ctx, v, cmd)
	}
	interval := opts.RetryInterval
	if interval <= 0 {
		interval = f.ArmRetryInterval
	}
	wctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	var last error
	for {
		err := f.send(wctx, v, cmd)
		if err == nil {
			return nil
		}
		if ErrorCode(err) != Denied {
			if last != nil && wctx.Err() != nil {
				return last
			}
			return err
		}
		last = err
		t := time.NewTimer(interval)
		select {
		case <-wctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
	}
}

// Disarm disarms drone id (force disarms in flight). Returns NotFound,
// NoDrone, and the vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) Disarm(ctx context.Context, id string, force bool) error {
	d, v, _, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	return f.finish(d, "disarm", f.send(ctx, v, Command{Kind: CommandDisarm, Force: force}))
}

func (f *Fleet) checkAlt(alt float64) error {
	if !finite(alt) || alt <= 0 || alt > f.MaxAltitude {
		return Errorf(Invalid, "altitude %v m out of range (0, %v]", alt, f.MaxAltitude)
	}
	return nil
}

// Takeoff climbs drone id to alt metres above home. An ArduPilot drone is
// switched to GUIDED first (ArduCopter takes off only in GUIDED, armed); the
// drone must be armed. Returns Invalid for a bad altitude, NotFound, NoDrone,
// and the vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) Takeoff(ctx context.Context, id string, alt float64) error {
	if err := f.checkAlt(alt); err != nil {
		return err
	}
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	return f.finish(d, "takeoff", f.takeoff(ctx, d, v, st, alt))
}

func (f *Fleet) takeoff(ctx context.Context, d *drone, v Vehicle, st DroneState, alt float64) error {
	if st.Autopilot == AutopilotArduPilot {
		if err := f.ensureMode(ctx, d, v, st, "GUIDED"); err != nil {
			return err
		}
	}
	p := Position{RelAlt: alt}
	if st.HasPosition {
		p.Lat, p.Lon = st.Position.Lat, st.Position.Lon
	}
	return f.send(ctx, v, Command{Kind: CommandTakeoff, Position: p})
}

// Land lands drone id where it is. Returns NotFound, NoDrone, and the
// vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) Land(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	d.expect(f.now(), roleModeName(st, roleLand))
	return f.finish(d, "land", f.send(ctx, v, Command{Kind: CommandLand}))
}

// ReturnToLaunch flies drone id home to land. Returns NotFound, NoDrone, and
// the vehicle's Denied, Timeout or Unsupported.
func (f *Fleet) ReturnToLaunch(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	d.expect(f.now(), roleModeName(st, roleReturn))
	return f.finish(d, "return_to_launch", f.send(ctx, v, Command{Kind: CommandReturnToLaunch}))
}

// roleModeName is the mode the autopilot shows for a fleet action.
func roleModeName(st DroneState, r modeRole) string {
	px4 := st.Autopilot == AutopilotPX4
	switch r {
	case roleLand:
		if px4 {
			return "AUTO.LAND"
		}
		return "LAND"
	case roleReturn:
		if px4 {
			return "AUTO.RTL"
		}
		return "RTL"
	case roleMission:
		if px4 {
			return "AUTO.MISSION"
		}
		return "AUTO"
	case roleGuided:
		if px4 {
			return "AUTO.LOITER"
		}
		return "GUIDED"
	}
	return ""
}

func (f *Fleet) holdMode(st DroneState) (string, error) {
	switch st.Autopilot {
	case AutopilotArduPilot:
		return f.HoldMode, nil
	case AutopilotPX4:
		return "AUTO.LOITER", nil
	}
	return "", Errorf(Unsupported, "no hold mode known for autopilot %d", st.Autopilot)
}

// Hold stops drone id and holds its position (ArduCopter: the fleet's
// HoldMode, BRAKE by default; PX4: AUTO.LOITER). Returns NotFound, NoDrone,
// Unsupported for other autopilots, and the vehicle's errors.
func (f *Fleet) Hold(ctx context.Context, id string) error {
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	mode, err := f.holdMode(st)
	if err == nil {
		err = f.setMode(ctx, d, v, st, mode)
	}
	return f.finish(d, "hold", err)
}

func checkPosition(p Position, maxAlt float64) error {
	if !finite(p.Lat) || !finite(p.Lon) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return Errorf(Invalid, "position %v, %v out of range", p.Lat, p.Lon)
	}
	if !validFix(p.Lat, p.Lon) {
		return Errorf(Invalid, "position 0, 0 is not a target")
	}
	if !finite(p.RelAlt) || p.RelAlt <= 0 || p.RelAlt > maxAlt {
		return Errorf(Invalid, "altitude %v m out of range (0, %v]", p.RelAlt, maxAlt)
	}
	return nil
}

// guardErr makes a Guard's refusal an *Error (Conflict unless it says).
func guardErr(err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Code: Conflict, Message: err.Error()}
}

// GoTo flies drone id to target (altitude above home) in guided flight:
// ArduPilot drones are switched to GUIDED first, then sent DO_REPOSITION, or a
// position target if the vehicle does not support it. The fleet's Guard may
// refuse first (Conflict) unless opts.SkipGuard. Returns Invalid for a bad
// target, NotFound, NoDrone, and the vehicle's errors.
func (f *Fleet) GoTo(ctx context.Context, id string, target Position, opts GoToOptions) error {
	if err := checkPosition(target, f.MaxAltitude); err != nil {
		return err
	}
	d, v, st, err := f.target(id)
	if err != nil {
		return err
	}
	if f.Guard != nil && !opts.SkipGuard {
		if err := guardErr(f.Guard.CheckGoTo(st, target)); err != nil {
			return f.finish(d, "goto", err)
		}
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	return f.finish(d, "goto", f.goTo(ctx, d, v, st, target))
}

func (f *Fleet) goTo(ctx context.Context, d *drone, v Vehicle, st DroneState, target Position) error {
	if st.Autopilot == AutopilotArduPilot {
		if err := f.ensureMode(ctx, d, v, st, "GUIDED"); err != nil {
			return err
		}
	}
	// DO_REPOSITION travels as COMMAND_INT: a vehicle whose AUTOPILOT_VERSION
	// lacks COMMAND_INT but has SET_POSITION_TARGET_GLOBAL_INT gets the
	// position target at once.
	if st.Version.Known && !st.Version.Has(CapabilityCommandInt) && st.Version.Has(CapabilitySetPositionTarget) {
		return vehicleErr(v.SetPositionTarget(ctx, target), "set_position_target")
	}
	err := f.send(ctx, v, Command{Kind: CommandReposition, Position: target})
	if ErrorCode(err) == Unsupported {
		err = vehicleErr(v.SetPositionTarget(ctx, target), "set_position_target")
	}
	return err
}

// SetSpeed changes drone id's ground speed to mps metres per second.
// Returns Invalid, NotFound, NoDrone, and the vehicle's errors.
func (f *Fleet) SetSpeed(ctx context.Context, id string, mps float64) error {
	if !finite(mps) || mps <= 0 || mps > 100 {
		return Errorf(Invalid, "speed %v m/s out of range (0, 100]", mps)
	}
	d, v, _, err := f.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	return f.finish(d, "set_speed", f.send(ctx, v, Command{Kind: CommandSetSpeed, Speed: mps}))
}
