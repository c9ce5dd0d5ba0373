package geofence

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

// secondBest returns the distance of the nearest boundary piece owned by a
// zone other than zone, with the scan's cached pieces: used to tell a tie
// between coincident edges (shared by two zones) from a wrong answer.
func secondBest(s *Set, ag *Agency, p Position, at time.Time, zone int) float64 {
	ll := p.orb()
	pr := newProj(ll)
	best := math.Inf(1)
	for R := 2000.0; R <= MaxSearchM; R *= 4 {
		cand := s.boundaryCand(ag, p, at, degBox(ll, R), nil)
		ps := s.pieceSetFor(cand, pr)
		if ps == nil {
			ps = s.pieceSetFor(cand, pr)
		}
		for _, pc := range ps.pieces {
			if pc.zone == zone {
				continue
			}
			if d, _ := segDist(pr.fwd(pc.a), pr.fwd(pc.b), vec{}); d < best {
				best = d
			}
		}
		if best <= R {
			break
		}
	}
	return best
}

// TestBoundaryIndexMatchesScan compares the indexed boundary with the scan
// on random points around the corridors, over the border and far from it,
// at altitudes in and out of the bands, for every agency of the bundled
// set and for a synthetic set of many overlapping zones.
func TestBoundaryIndexMatchesScan(t *testing.T) {
	sets := map[string]*Set{"bundled": MustDefault(t), "synthetic": syntheticSet(t, 200)}
	r := rand.New(rand.NewSource(7))
	n := 400
	if testing.Short() || raceEnabled {
		n = 40 // the scan is slow under the race detector
	}
	for name, s := range sets {
		scan := *s
		scan.scanBoundary = true
		var pts []Position
		if name == "bundled" {
			pts = corridorPoints(n, 3)
			for i := range pts {
				switch i % 10 {
				case 0: // far from everything
					pts[i].Lat -= 3
				case 1: // above the ceiling
					pts[i].RelAlt = 130
				case 2: // on the ground
					pts[i].RelAlt = 0
				}
			}
		} else {
			pts = benchPoints(s, n)
		}
		for _, ag := range s.agencies {
			for i, p := range pts {
				at := t0.Add(time.Duration(r.Intn(48)) * time.Hour)
				d1, z1 := s.boundary(&ag, p, at)
				d2, z2 := scan.boundary(&ag, p, at)
				if math.IsInf(d1, 1) && math.IsInf(d2, 1) && z1 == z2 {
					continue
				}
				if math.Abs(d1-d2) > 1e-6*math.Max(1, d2) {
					t.Fatalf("%s agency %s point %d %+v: indexed %.9f m (zone %d), scan %.9f m (zone %d)", name, ag.ID, i, p, d1, z1, d2, z2)
				}
				if z1 != z2 {
					// Only a tie between coincident edges of two zones may
					// name either zone.
					if other := secondBest(s, &ag, p, at, z1); math.Abs(other-d1) > 1e-6*math.Max(1, d1) {
						t.Fatalf("%s agency %s point %d %+v: indexed zone %d, scan zone %d at %.9f m (next zone at %.9f m)", name, ag.ID, i, p, z1, z2, d1, other)
					}
				}
			}
		}
	}
}

// TestBoundaryCacheBounded checks that the piece cache stays bounded.
func TestBoundaryCacheBounded(t *testing.T) {
	s := syntheticSet(t, 1000)
	ag, _ := s.agency("all")
	for _, p := range benchPoints(s, 2000) {
		s.boundary(ag, p, t0)
	}
	s.bcache.mu.RLock()
	n := len(s.bcache.m)
	s.bcache.mu.RUnlock()
	if n == 0 || n > boundaryCacheMax {
		t.Fatalf("cache holds %d piece sets, want 1..%d", n, boundaryCacheMax)
	}
}

// TestWatchMatchesScan compares Watch with the indexed boundary and the
// skipped look-ahead against Watch with the scan, on random corridor
// points and velocities (level and climbing).
func TestWatchMatchesScan(t *testing.T) {
	s := MustDefault(t)
	scan := *s
	scan.scanBoundary = true
	r := rand.New(rand.NewSource(11))
	n := 1500
	if testing.Short() || raceEnabled {
		n = 150
	}
	m := Margin{HorizontalM: 50, VerticalM: 10, Time: 10 * time.Second}
	skipped := 0
	for i, p := range corridorPoints(n, 5) {
		v := Velocity{VN: r.Float64()*30 - 15, VE: r.Float64()*30 - 15}
		if i%4 == 0 {
			v.VD = r.Float64()*4 - 2
		}
		for _, ag := range []string{"all", "cbp", "gn", "jtf"} {
			got, err1 := s.Watch(ag, p, v, m, t0)
			want, err2 := scan.Watch(ag, p, v, m, t0)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("point %d %s: errors %v / %v", i, ag, err1, err2)
			}
			if ag, _ := s.agency(ag); s.legClear(ag, p, ahead(p, v, m.Time.Seconds()), got.BoundaryM, v, m.Time.Seconds(), t0) {
				skipped++
			}
			same := got.State == want.State && got.ZoneID == want.ZoneID && got.TimeToBreach == want.TimeToBreach &&
				sameViolation(got.Violation, want.Violation) && math.Abs(got.BoundaryM-want.BoundaryM) <= 1e-6*math.Max(1, want.BoundaryM) &&
				(got.VerticalM == want.VerticalM)
			if !same {
				// A tie between coincident edges may name the other zone
				// for an approach by distance alone.
				if got.State == want.State && got.Violation == nil && want.Violation == nil &&
					math.Abs(got.BoundaryM-want.BoundaryM) <= 1e-6*math.Max(1, want.BoundaryM) {
					continue
				}
				t.Fatalf("point %d %+v v %+v agency %s:\n indexed %+v (violation %+v)\n scan    %+v (violation %+v)",
					i, p, v, ag, got, got.Violation, want, want.Violation)
			}
		}
	}
	if skipped == 0 {
		t.Error("the look-ahead was never skipped: the test does not cover it")
	}
}
