package fleet

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Sanity
//
// Every update is checked once, when it enters the fleet (Handle), against
// what a patrol drone can do. A value outside it is dropped and counted
// (Stats.BadFields); the rest of the update is kept where that is safe: a
// battery reading with an impossible current keeps its voltage, but a
// position with an impossible altitude is dropped whole, because the breach
// watch would act on it.

// The envelope of a patrol drone. Wider than any multicopter or small fixed
// wing flies, narrower than what a corrupt or forged frame can carry.
const (
	// MinAltMSL and MaxAltMSL bound altitudes above mean sea level, metres
	// (the Dead Sea shore is at -430 m).
	MinAltMSL = -1000.0
	MaxAltMSL = 12000.0
	// MaxRelAlt bounds altitudes relative to home, metres, either way.
	MaxRelAlt = 12000.0
	// MaxSpeed bounds ground speed and velocity components, m/s.
	MaxSpeed = 150.0
	// MaxClimb bounds vertical speed, m/s.
	MaxClimb = 100.0
	// MaxVoltage and MaxCurrent bound battery readings (V, A).
	MaxVoltage = 200.0
	MaxCurrent = 1000.0
	// MaxStatusText bounds a status text, bytes.
	MaxStatusText = 1024
	// DefaultMaxMissionItems bounds a plan the fleet adopts from a vehicle.
	DefaultMaxMissionItems = 2000
)

// sanitize checks u against the envelope. It returns the update to apply
// (with bad fields set to their "unknown" value), how many fields were bad,
// and false when the update must be dropped whole. An update with nothing
// bad is returned as it came, not boxed again.
func sanitize(in Update) (Update, int, bool) {
	switch u := in.(type) {
	case GlobalPosition:
		bad := 0
		if !inGlobe(u.Lat, u.Lon) || !between(u.AltMSL, MinAltMSL, MaxAltMSL) || !between(u.RelAlt, -MaxRelAlt, MaxRelAlt) {
			return u, 1, false
		}
		if !between(u.VN, -MaxSpeed, MaxSpeed) || !between(u.VE, -MaxSpeed, MaxSpeed) || !between(u.VD, -MaxClimb, MaxClimb) {
			u.VN, u.VE, u.VD = math.NaN(), math.NaN(), math.NaN()
			bad++
		}
		if !math.IsNaN(u.HeadingDeg) && !between(u.HeadingDeg, 0, 360) {
			u.HeadingDeg = math.NaN()
			bad++
		}
		return cleaned(in, u, bad)
	case Attitude:
		lim := 2 * math.Pi
		if !between(u.Roll, -lim, lim) || !between(u.Pitch, -lim, lim) || !between(u.Yaw, -lim, lim) {
			return u, 1, false
		}
	case SysStatus:
		bad := 0
		u.VoltageV, u.CurrentA, u.RemainingPct, bad = batteryFields(u.VoltageV, u.CurrentA, u.RemainingPct)
		return cleaned(in, u, bad)
	case Battery:
		bad := 0
		u.VoltageV, u.CurrentA, u.RemainingPct, bad = batteryFields(u.VoltageV, u.CurrentA, u.RemainingPct)
		if !math.IsNaN(u.ConsumedMAh) && !between(u.ConsumedMAh, -1e6, 1e7) {
			u.ConsumedMAh = math.NaN()
			bad++
		}
		return cleaned(in, u, bad)
	case GPSRaw:
		bad := 0
		if !math.IsNaN(u.HDOP) && !between(u.HDOP, 0, 100) {
			u.HDOP = math.NaN()
			bad++
		}
		if u.FixType > 8 {
			u.FixType = 0
			bad++
		}
		return cleaned(in, u, bad)
	case VFRHUD:
		bad := 0
		if !between(u.Groundspeed, 0, MaxSpeed) {
			u.Groundspeed = math.NaN()
			bad++
		}
		if !between(u.Climb, -MaxClimb, MaxClimb) {
			u.Climb = math.NaN()
			bad++
		}
		if !between(u.HeadingDeg, 0, 360) {
			u.HeadingDeg = math.NaN()
			bad++
		}
		return cleaned(in, u, bad)
	case Home:
		if !inGlobe(u.Lat, u.Lon) || !between(u.AltMSL, MinAltMSL, MaxAltMSL) {
			return u, 1, false
		}
	case StatusText:
		if len(u.Text) > MaxStatusText || !utf8.ValidString(u.Text) {
			u.Text = strings.ToValidUTF8(truncate(u.Text, MaxStatusText), "\uFFFD")
			return u, 1, true
		}
	case MissionCurrent:
		if u.Total > math.MaxUint16 || u.Seq > math.MaxUint16 || u.Seq < 0 {
			return u, 1, false
		}
	case ParamValue:
		p := u.Param
		if !finite(p.Value) || p.Name == "" || len(p.Name) > 16 || !printable(p.Name) {
			return u, 1, false
		}
	}
	return in, 0, true
}

// cleaned returns the update sanitize keeps: in itself when nothing was
// bad, else u, its corrected copy.
func cleaned[U Update](in Update, u U, bad int) (Update, int, bool) {
	if bad == 0 {
		return in, 0, true
	}
	return u, bad, true
}

func batteryFields(v, a float64, pct int) (float64, float64, int, int) {
	bad := 0
	if !math.IsNaN(v) && !between(v, 0, MaxVoltage) {
		v = math.NaN()
		bad++
	}
	if !math.IsNaN(a) && !between(a, -MaxCurrent, MaxCurrent) {
		a = math.NaN()
		bad++
	}
	if pct > 100 {
		pct = -1
		bad++
	}
	return v, a, pct, bad
}

// between reports whether x is finite and within lo..hi.
func between(x, lo, hi float64) bool { return finite(x) && x >= lo && x <= hi }

// inGlobe reports whether lat, lon is a finite point on the globe.
func inGlobe(lat, lon float64) bool { return between(lat, -90, 90) && between(lon, -180, 180) }

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// CheckMissionItem reports whether a mission item read from a vehicle can
// be believed: finite parameters (NaN, MAVLink's "unused", is allowed), a
// position on the globe, and for navigation commands (16 to 99) a finite
// altitude within ±MaxAltMSL. It returns an *Error with code Invalid naming
// the field.
func CheckMissionItem(it MissionItem) error {
	for i, p := range [...]float64{it.Param1, it.Param2, it.Param3, it.Param4} {
		if math.IsInf(p, 0) {
			return Errorf(Invalid, "mission item %d: param%d is infinite", it.Seq, i+1)
		}
	}
	if !inGlobe(it.Lat, it.Lon) {
		return Errorf(Invalid, "mission item %d: position %v, %v is off the globe", it.Seq, it.Lat, it.Lon)
	}
	if it.Command >= 16 && it.Command < 100 {
		if !between(it.Alt, -MaxAltMSL, MaxAltMSL) {
			return Errorf(Invalid, "mission item %d: altitude %v m", it.Seq, it.Alt)
		}
	} else if math.IsInf(it.Alt, 0) {
		return Errorf(Invalid, "mission item %d: altitude is infinite", it.Seq)
	}
	return nil
}

// checkPlan checks a plan read from a vehicle before the fleet adopts it.
func (f *Fleet) checkPlan(items []MissionItem) error {
	if len(items) > f.MaxMissionItems {
		return Errorf(Invalid, "mission of %d items, more than %d", len(items), f.MaxMissionItems)
	}
	for _, it := range items {
		if err := CheckMissionItem(it); err != nil {
			return err
		}
	}
	return nil
}

// Limits on what a vehicle can make the fleet hold.
const (
	// DefaultMaxParams bounds a drone's parameter cache.
	DefaultMaxParams = 4096
	// paramForgetAfter is how long a lost drone keeps its parameter cache.
	paramForgetAfter = 10 * time.Minute
	// textRate and textBurst bound a drone's status text events.
	textRate  = 20
	textBurst = 100
	// eventRate and eventBurst bound the other events a drone's messages
	// cause (mode, arming, system status, landed state flapping); the
	// events people must see (link, failsafe, identity, security) are
	// never dropped.
	eventRate  = 20
	eventBurst = 100
)

// budgeted reports whether e counts against a drone's event budget.
func budgeted(e Event) bool {
	switch e.(type) {
	case LinkLost, LinkRegained, Failsafe, DroneDiscovered, IdentityClaimed, SecurityAlert, StatusTextEvent,
		MissionInterrupted, MissionMismatch:
		return false
	}
	return true
}

// acceptParam reports whether an unsolicited PARAM_VALUE may be cached: a
// name already cached, or a new one while the cache holds fewer names than
// the vehicle announced (param_count) and than MaxParams; an index, when
// given, must be below the count. ArduPilot announces changes it makes
// itself (FENCE_TOTAL after a fence upload) with no index. Called with d.mu
// held.
func (d *drone) acceptParam(p Param) bool {
	if _, ok := d.params[p.Name]; ok {
		return true
	}
	if p.Count > 0 && p.Index < p.Count && len(d.params) < min(p.Count, d.f.MaxParams) {
		return true
	}
	d.f.stats.paramsRefused.Add(1)
	return false
}

// tokenBucket allows rate events a second with bursts of burst (zero:
// textRate and textBurst). Guarded by its owner's lock; the zero value is
// full.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	if b.rate == 0 {
		b.rate, b.burst = textRate, textBurst
	}
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// streamCheckAfter is how long after asking for streams the fleet waits for
// a GLOBAL_POSITION_INT (with a fix or not) before asking again:
// REQUEST_DATA_STREAM has no answer, and on a lossy link it is lost like
// anything else.
const streamCheckAfter = 5 * time.Second

// checkStreams asks for the streams again when none came since they were
// asked for (mono is Fleet.Monotonic). Called with d.mu held, by the
// scheduler.
func (d *drone) checkStreams(mono time.Time) {
	if d.streamsAt.IsZero() || d.needInit || d.initQueued || mono.Sub(d.streamsAt) < streamCheckAfter {
		return
	}
	if d.lastTelemetry.Before(d.streamsAt) {
		d.log.Debug("no telemetry since the stream request: asking again", "link", d.key.Link)
		d.needInit = true
		d.initAfter = time.Time{}
	}
	d.streamsAt = time.Time{}
}
