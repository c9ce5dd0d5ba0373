package geofence

import (
	"math"
	"testing"
	"time"
)

// TestApproachFiresBeforeBreach flies a US drone south toward the border at
// 10 m/s and checks that the states come in order: inside, approaching,
// breached.
func TestApproachFiresBeforeBreach(t *testing.T) {
	s := MustDefault(t)
	p := sdNorth
	v := Velocity{VN: -10}
	m := Margin{HorizontalM: 100, Time: 30 * time.Second}
	const dt = 0.5
	var firstApproach, firstBreach = -1.0, -1.0
	var approachZone, breachZone string
	var prev WatchState
	for step := 0; step < 1000 && firstBreach < 0; step++ {
		now := float64(step) * dt
		r, err := s.Watch("cbp", p, v, m, t0)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 && r.State != Inside {
			t.Fatalf("start state %v, want inside (boundary %.0f m)", r.State, r.BoundaryM)
		}
		if r.State < prev {
			t.Fatalf("state went back from %v to %v at %.1f s", prev, r.State, now)
		}
		prev = r.State
		switch r.State {
		case Approaching:
			if firstApproach < 0 {
				firstApproach, approachZone = now, r.ZoneID
				if r.TimeToBreach < 0 || r.TimeToBreach > m.Time {
					t.Errorf("approaching with time to breach %v", r.TimeToBreach)
				}
			}
		case Breached:
			firstBreach, breachZone = now, r.ZoneID
		}
		p = ahead(p, v, dt)
	}
	if firstApproach < 0 || firstBreach < 0 {
		t.Fatalf("approach at %v s, breach at %v s: want both", firstApproach, firstBreach)
	}
	if firstBreach-firstApproach < 25 {
		t.Fatalf("approach at %.1f s, breach at %.1f s: want about 30 s warning", firstApproach, firstBreach)
	}
	if approachZone != "mx-sandiego-tijuana" || breachZone != "mx-sandiego-tijuana" {
		t.Fatalf("zones: approach %q, breach %q", approachZone, breachZone)
	}
}

func TestWatchMargins(t *testing.T) {
	s := MustDefault(t)
	line, _ := s.Line(BoundaryLineID)
	// Hovering (no velocity): only the distance margin can fire.
	d := distToLine(line.Path, sdNorth.orb())
	r, _ := s.Watch("cbp", sdNorth, Velocity{}, Margin{HorizontalM: d - 50}, t0)
	if r.State != Inside || r.TimeToBreach != -1 {
		t.Fatalf("margin below the distance: %+v", r)
	}
	r, _ = s.Watch("cbp", sdNorth, Velocity{}, Margin{HorizontalM: d + 50}, t0)
	if r.State != Approaching || r.ZoneID != "us-sandiego-tijuana" || math.Abs(r.BoundaryM-d) > 2 {
		t.Fatalf("margin above the distance (%.0f m): %+v", d, r)
	}
	// Vertical: 100 m above home under a 120 m ceiling.
	hi := sdNorth
	hi.RelAlt = 100
	r, _ = s.Watch("cbp", hi, Velocity{}, Margin{VerticalM: 30}, t0)
	if r.State != Approaching || math.Abs(r.VerticalM-20) > 1e-9 || r.ZoneID == "" {
		t.Fatalf("vertical: %+v", r)
	}
	// Climbing at 5 m/s: breach of the ceiling in 4 s.
	r, _ = s.Watch("cbp", hi, Velocity{VD: -5}, Margin{Time: 10 * time.Second}, t0)
	if r.State != Approaching || r.Violation == nil || r.Violation.Reason != ReasonAboveCeiling ||
		(r.TimeToBreach-4*time.Second).Abs() > time.Millisecond {
		t.Fatalf("climb: %+v", r)
	}
	// Breached: south of the line.
	r, _ = s.Watch("cbp", sdSouth, Velocity{}, Margin{}, t0)
	if r.State != Breached || r.Violation == nil || r.ZoneID != "mx-sandiego-tijuana" {
		t.Fatalf("breach: %+v", r)
	}
	if Inside.String() != "inside" || Approaching.String() != "approaching" || Breached.String() != "breached" {
		t.Fatal("state names")
	}
}
