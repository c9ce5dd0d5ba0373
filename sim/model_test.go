package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

var testLimits = limits{HSpeed: 10, HAccel: 2.5, Up: 2.5, Down: 1.5, VAccel: 1}

// flyModel steps m toward t for at most maxS seconds, calling each after
// every step; it returns the seconds flown until within 0.5 m.
func flyModel(m *model, t target, maxS float64, each func()) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	dt := physDT.Seconds()
	for s := 0.0; s < maxS; s += dt {
		sp := setpoint{Limits: testLimits}
		sp.VN, sp.VE = toward(m.N, m.E, t.n, t.e, testLimits.HSpeed, testLimits.HAccel*0.8)
		du := t.u - m.U
		if du > 0 {
			sp.VU = approach(du, testLimits.Up, testLimits.VAccel*0.8)
		} else {
			sp.VU = -approach(-du, testLimits.Down, testLimits.VAccel*0.8)
		}
		m.step(dt, sp, rng)
		if each != nil {
			each()
		}
		if math.Hypot(m.N-t.n, m.E-t.e) < 0.5 && math.Abs(m.U-t.u) < 0.5 && m.groundSpeed() < 0.3 {
			return s
		}
	}
	return math.Inf(1)
}

func TestModelReachesTargetWithinLimits(t *testing.T) {
	m := newModel()
	m.Motors = true
	var maxH, maxUp float64
	took := flyModel(&m, target{n: 0, e: 0, u: 30}, 60, func() { maxUp = math.Max(maxUp, m.VU) })
	if math.IsInf(took, 1) {
		t.Fatalf("takeoff never reached 30 m: at %.1f m", m.U)
	}
	// 30 m at 2.5 m/s with 1 m/s² ramps: about 15 s.
	if took < 12 || took > 25 {
		t.Errorf("climb to 30 m took %.1f s, want 12..25", took)
	}
	took = flyModel(&m, target{n: 150, e: 0, u: 30}, 60, func() { maxH = math.Max(maxH, m.groundSpeed()) })
	if math.IsInf(took, 1) {
		t.Fatalf("go-to never arrived: at %.1f,%.1f", m.N, m.E)
	}
	// The recording: 150 m in 18.7 s at WPNAV_SPEED 10 m/s.
	if took < 15 || took > 25 {
		t.Errorf("150 m took %.1f s, want 15..25", took)
	}
	if maxH > testLimits.HSpeed+1e-9 {
		t.Errorf("horizontal speed %.2f above limit %.1f", maxH, testLimits.HSpeed)
	}
	if maxUp > testLimits.Up+1e-9 {
		t.Errorf("climb rate %.2f above limit %.1f", maxUp, testLimits.Up)
	}
	if h := headingCdeg(m.Yaw) / 100; math.Abs(wrapPi((h-0)*math.Pi/180)) > 0.1 {
		t.Errorf("heading %.1f° after flying north, want ~0", h)
	}
}

func TestModelWindDrift(t *testing.T) {
	m := newModel()
	m.Motors = true
	m.WindSpeed, m.WindFrom = 5, 0 // from the north: blows south
	flyModel(&m, target{u: 20}, 60, nil)
	n0 := m.N
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 1000; i++ { // 20 s drifting
		m.step(physDT.Seconds(), setpoint{Drift: true, Limits: testLimits}, rng)
	}
	drift := m.N - n0
	if drift > -80 || drift < -100 {
		t.Errorf("drifted %.1f m north in 20 s of 5 m/s north wind, want about -95", drift)
	}
	if math.Abs(m.E) > 1 {
		t.Errorf("drifted %.1f m east, want ~0", m.E)
	}
}

func TestModelHoldsInGusts(t *testing.T) {
	m := newModel()
	m.Motors = true
	m.WindSpeed, m.WindFrom, m.GustSigma = 8, 90, 3
	worst := 0.0
	flyModel(&m, target{u: 20}, 30, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		sp := setpoint{Limits: testLimits}
		sp.VN, sp.VE = toward(m.N, m.E, 0, 0, testLimits.HSpeed, testLimits.HAccel*0.8)
		m.step(physDT.Seconds(), sp, rng)
		worst = math.Max(worst, math.Hypot(m.N, m.E))
	}
	if worst > 5 {
		t.Errorf("position hold wandered %.1f m in gusts, want < 5", worst)
	}
	if worst == 0 {
		t.Error("gusts moved nothing")
	}
}

func TestModelDeterministic(t *testing.T) {
	run := func() (float64, float64) {
		m := newModel()
		m.Motors = true
		m.WindSpeed, m.GustSigma = 4, 2
		rng := rand.New(rand.NewPCG(42, 7))
		for i := 0; i < 2000; i++ {
			m.step(physDT.Seconds(), setpoint{Drift: true, VU: 1, Limits: testLimits}, rng)
		}
		return m.N, m.E
	}
	n1, e1 := run()
	n2, e2 := run()
	if n1 != n2 || e1 != e2 {
		t.Errorf("same seed, different flights: %v,%v vs %v,%v", n1, e1, n2, e2)
	}
}

func TestModelBatteryDrain(t *testing.T) {
	drain := func(motors, fly bool, k float64) float64 {
		m := newModel()
		m.Motors, m.Drain = motors, k
		rng := rand.New(rand.NewPCG(1, 1))
		sp := setpoint{Limits: testLimits}
		if fly {
			sp.VU = 1
		}
		for i := 0; i < 3000; i++ { // 60 s
			m.step(physDT.Seconds(), sp, rng)
		}
		return m.ConsumedMAh
	}
	idle, hover, fast := drain(false, false, 1), drain(true, true, 1), drain(true, true, 3)
	if !(idle < hover && hover < fast) {
		t.Fatalf("consumed idle %.1f, flying %.1f, flying ×3 %.1f mAh: want increasing", idle, hover, fast)
	}
	// 15 A for 60 s is 250 mAh.
	if hover < 200 || hover > 400 {
		t.Errorf("a minute of flight used %.0f mAh, want 200..400", hover)
	}
	if r := math.Abs(fast/hover - 3); r > 0.01 {
		t.Errorf("drain factor 3 used %.2f× the charge", fast/hover)
	}
	m := newModel()
	full := m.voltage()
	m.ConsumedMAh = m.Capacity * 0.8
	if v := m.voltage(); v >= full || v < 9.9 {
		t.Errorf("voltage at 20%% is %.2f V (full %.2f V)", v, full)
	}
}

func TestModelLandingDetection(t *testing.T) {
	m := newModel()
	m.Motors = true
	flyModel(&m, target{u: 5}, 30, nil)
	if m.Landed {
		t.Fatal("landed while hovering at 5 m")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	touch := -1.0
	for i := 0; i < 2000 && touch < 0; i++ {
		touch = m.step(physDT.Seconds(), setpoint{VU: -0.5, Limits: testLimits}, rng)
	}
	if touch < 0 {
		t.Fatal("never touched down")
	}
	if !m.Landed || m.U != 0 {
		t.Errorf("after touchdown landed=%v alt=%.2f", m.Landed, m.U)
	}
	if math.Abs(touch-0.5) > 0.05 {
		t.Errorf("touchdown at %.2f m/s, want 0.5", touch)
	}
	// Unpowered in the air: it falls.
	m2 := newModel()
	m2.Motors = true
	flyModel(&m2, target{u: 10}, 30, nil)
	m2.Motors = false
	touch = -1
	for i := 0; i < 500 && touch < 0; i++ {
		touch = m2.step(physDT.Seconds(), setpoint{}, rng)
	}
	if touch < 10 {
		t.Errorf("fell from 10 m, hit at %.1f m/s, want > 10", touch)
	}
}
