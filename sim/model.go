package sim

import (
	"math"
	"math/rand/v2"
)

const gravity = 9.80665

// limits are the flight model's speed and acceleration limits, SI units.
type limits struct {
	HSpeed float64 // horizontal speed, m/s (WPNAV_SPEED)
	HAccel float64 // horizontal acceleration, m/s² (WPNAV_ACCEL)
	Up     float64 // climb rate, m/s (WPNAV_SPEED_UP)
	Down   float64 // descent rate, m/s (WPNAV_SPEED_DN)
	VAccel float64 // vertical acceleration, m/s² (WPNAV_ACCEL_Z)
}

// setpoint is what guidance asks of the model for one step.
type setpoint struct {
	// Drift makes the vehicle hold no horizontal position: it moves with
	// the air (pilot-controlled modes without stick input).
	Drift bool
	// VN, VE and VU are the desired ground velocity (ignored horizontally
	// when Drift).
	VN, VE, VU float64
	// Limits bound the velocity and its change.
	Limits limits
}

// model is the point-mass flight model of one multicopter, positions in
// metres north/east/up of the drone's origin (its first home). It is not safe
// for concurrent use; its owner is the Drone.
type model struct {
	N, E, U    float64 // position; U is height above the (flat) ground
	VN, VE, VU float64 // ground velocity, m/s
	AN, AE     float64 // last horizontal acceleration, for attitude
	Yaw        float64 // radians, 0 north, clockwise
	Motors     bool    // motors spinning (armed)
	Landed     bool    // on the ground

	// wind
	WindSpeed, WindFrom, GustSigma float64 // m/s, degrees from, m/s
	gustN, gustE                   float64

	// battery
	Capacity    float64 // mAh
	FullVoltage float64 // volts at rest when full
	ConsumedMAh float64
	Current     float64 // amps, last step
	Drain       float64 // current multiplier
}

func newModel() model {
	return model{Landed: true, Capacity: 3300, FullVoltage: 12.6, Drain: 1, WindFrom: 180}
}

// wind returns the air's velocity over ground (north, east), gusts included.
func (m *model) wind() (float64, float64) {
	to := (m.WindFrom + 180) * math.Pi / 180
	return m.WindSpeed*math.Cos(to) + m.gustN, m.WindSpeed*math.Sin(to) + m.gustE
}

// approach returns the speed at which to close a distance d so as to stop on
// it with deceleration a, capped at max.
func approach(d, max, a float64) float64 {
	if d <= 0 {
		return 0
	}
	return math.Min(max, math.Sqrt(2*a*d))
}

// toward returns a velocity vector from (n, e) toward (tn, te), with the
// speed of approach. A small tolerance avoids hunting.
func toward(n, e, tn, te, max, a float64) (float64, float64) {
	dn, de := tn-n, te-e
	d := math.Hypot(dn, de)
	if d < 0.05 {
		return 0, 0
	}
	s := approach(d, max, a)
	return dn / d * s, de / d * s
}

// step advances the model by dt seconds. It returns the descent speed at
// touchdown when the vehicle touched the ground in this step, else -1.
func (m *model) step(dt float64, sp setpoint, rng *rand.Rand) float64 {
	// Gusts: an Ornstein-Uhlenbeck process with a 3 s time constant.
	if m.GustSigma > 0 {
		const tau = 3.0
		k := m.GustSigma * math.Sqrt(2*dt/tau)
		m.gustN += -m.gustN/tau*dt + k*rng.NormFloat64()
		m.gustE += -m.gustE/tau*dt + k*rng.NormFloat64()
	} else {
		m.gustN, m.gustE = 0, 0
	}
	touchdown := -1.0
	m.Current = 0.3
	if !m.Motors {
		// Unpowered: a vehicle in the air falls; on the ground it rests.
		m.AN, m.AE = 0, 0
		if !m.Landed {
			m.VU -= gravity * dt
			m.N += m.VN * dt
			m.E += m.VE * dt
			m.U += m.VU * dt
			if m.U <= 0 {
				touchdown = -m.VU
				m.U, m.VN, m.VE, m.VU, m.Landed = 0, 0, 0, 0, true
			}
		}
		m.drain(dt)
		return touchdown
	}
	lim := sp.Limits
	if m.Landed && sp.VU <= 0 {
		// Armed on the ground: idle props.
		m.VN, m.VE, m.VU, m.AN, m.AE = 0, 0, 0, 0, 0
		m.Current = 2
		m.drain(dt)
		return -1
	}
	m.Landed = false

	// Horizontal.
	wn, we := m.wind()
	dvn, dve := sp.VN, sp.VE
	if sp.Drift {
		dvn, dve = wn, we
	} else if s := math.Hypot(dvn, dve); s > lim.HSpeed && s > 0 {
		dvn, dve = dvn/s*lim.HSpeed, dve/s*lim.HSpeed
	}
	an, ae := (dvn-m.VN)/dt, (dve-m.VE)/dt
	if a := math.Hypot(an, ae); a > lim.HAccel && a > 0 {
		an, ae = an/a*lim.HAccel, ae/a*lim.HAccel
	}
	m.AN, m.AE = an, ae
	m.VN += an * dt
	m.VE += ae * dt
	// A position controller cancels the mean wind but only part of a gust.
	gn, ge := 0.0, 0.0
	if !sp.Drift {
		gn, ge = 0.3*m.gustN, 0.3*m.gustE
	}
	m.N += (m.VN + gn) * dt
	m.E += (m.VE + ge) * dt

	// Vertical.
	dvu := clamp(sp.VU, -lim.Down, lim.Up)
	au := clamp((dvu-m.VU)/dt, -lim.VAccel, lim.VAccel)
	m.VU += au * dt
	m.U += m.VU * dt
	if m.U <= 0 {
		touchdown = -m.VU
		m.U, m.VN, m.VE, m.VU, m.AN, m.AE, m.Landed = 0, 0, 0, 0, 0, 0, true
	}

	// Yaw toward travel, at most 90°/s.
	if hs := math.Hypot(m.VN, m.VE); hs > 1 {
		want := math.Atan2(m.VE, m.VN)
		d := wrapPi(want - m.Yaw)
		maxd := math.Pi / 2 * dt
		m.Yaw = wrapPi(m.Yaw + clamp(d, -maxd, maxd))
	}

	// Battery: hover current plus a speed term.
	if !m.Landed {
		air := math.Hypot(m.VN-wn, m.VE-we)
		m.Current = 15 + 0.05*air*air + 3*math.Max(0, m.VU)
	}
	m.drain(dt)
	return touchdown
}

func (m *model) drain(dt float64) {
	d := m.Drain
	if d <= 0 {
		d = 1
	}
	m.Current *= d
	m.ConsumedMAh += m.Current * dt / 3.6
}

// remaining returns the battery's remaining fraction, 0..1.
func (m *model) remaining() float64 {
	if m.Capacity <= 0 {
		return 1
	}
	return clamp(1-m.ConsumedMAh/m.Capacity, 0, 1)
}

// voltage returns the battery voltage: a 3S pack from 12.6 V full down to
// 9.9 V empty, less a sag under load.
func (m *model) voltage() float64 {
	empty := m.FullVoltage * 9.9 / 12.6
	return empty + (m.FullVoltage-empty)*m.remaining() - 0.01*m.Current
}

// groundSpeed returns the horizontal speed over ground.
func (m *model) groundSpeed() float64 { return math.Hypot(m.VN, m.VE) }

// attitude returns roll and pitch (radians) from the acceleration.
func (m *model) attitude() (roll, pitch float64) {
	if m.Landed {
		return 0, 0
	}
	// Body-frame forward/right acceleration.
	c, s := math.Cos(m.Yaw), math.Sin(m.Yaw)
	fwd := m.AN*c + m.AE*s
	right := -m.AN*s + m.AE*c
	return math.Atan(right / gravity), -math.Atan(fwd / gravity)
}
