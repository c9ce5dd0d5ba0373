package plan

import (
	"container/heap"
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/paulmach/orb"
)

// Property: over random areas with holes and random exclusion zones, every
// leg of every pattern is in the allowed space, the patrol legs stay in the
// area with the margin, and coverage covers 99 % of the free area within
// the swath.
func TestPropertyPatterns(t *testing.T) {
	n := 12
	if testing.Short() {
		n = 4
	}
	for seed := int64(1); seed <= int64(n); seed++ {
		rng := rand.New(rand.NewSource(seed))
		w := newRandomWorld(t, rng, 1+rng.Intn(3), 1+rng.Intn(3), 1000)
		const margin, swath = 20.0, 80.0
		for _, k := range []Kind{Coverage, Perimeter} {
			req := Request{Kind: k, Agency: "a", Drones: []Drone{{ID: "d", Home: w.home}}, Area: w.area,
				MarginM: margin, SwathM: swath, Overlap: 0.1, SpeedMPS: 15, Endurance: 3 * time.Hour, Start: t0}
			res, err := Plan(w.set, req, t0)
			if err != nil {
				t.Fatalf("seed %d %s: %v", seed, k, err)
			}
			rt := res.Routes[0]
			checkAllowed(t, w.set, "a", rt)
			legs, ph := w.legs(rt)
			var patrol [][2][2]float64
			for i, l := range legs {
				if ph[i] != PhasePatrol {
					continue
				}
				patrol = append(patrol, l)
				n := int(math.Hypot(l[0][0]-l[1][0], l[0][1]-l[1][1])/5) + 2
				for s := 0; s <= n; s++ {
					f := float64(s) / float64(n)
					p := [2]float64{l[0][0] + f*(l[1][0]-l[0][0]), l[0][1] + f*(l[1][1]-l[0][1])}
					if !w.freeXY(p, margin*0.98) {
						t.Fatalf("seed %d %s: patrol leg %d leaves the area's free space (or its margin) at %v", seed, k, i, p)
					}
				}
			}
			if len(patrol) == 0 {
				t.Fatalf("seed %d %s: no patrol legs", seed, k)
			}
			if k == Coverage {
				cov := w.coverage(patrol, margin, swath)
				if cov < 0.99 {
					t.Errorf("seed %d: coverage %.2f %% of the free area, want ≥ 99 %%", seed, 100*cov)
				}
			}
		}
	}
}

// coverage is the share of grid samples of the free area within swath/2 of
// a patrol leg.
func (w *randomWorld) coverage(legs [][2][2]float64, margin, swath float64) float64 {
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, p := range w.rings[0] {
		lo[0], lo[1] = math.Min(lo[0], p[0]), math.Min(lo[1], p[1])
		hi[0], hi[1] = math.Max(hi[0], p[0]), math.Max(hi[1], p[1])
	}
	step := swath / 4
	total, covered := 0, 0
	for x := lo[0]; x <= hi[0]; x += step {
		for y := lo[1]; y <= hi[1]; y += step {
			p := [2]float64{x, y}
			if !w.freeXY(p, margin) {
				continue
			}
			total++
			for _, l := range legs {
				if ptSegDist(p, l[0], l[1]) <= swath/2 {
					covered++
					break
				}
			}
		}
	}
	return float64(covered) / float64(total)
}

// Property: a transit never crosses an exclusion zone and is within 5 % of
// the shortest path a brute-force search finds over dense samples.
func TestPropertyTransitNearOptimal(t *testing.T) {
	n := 8
	if testing.Short() {
		n = 3
	}
	for seed := int64(1); seed <= int64(n); seed++ {
		rng := rand.New(rand.NewSource(100 + seed))
		w := newRandomWorld(t, rng, 0, 3+rng.Intn(3), 1000)
		lat, lon := w.lc.ll(1.2*1000, 1.1*1000)
		to := LatLon{Lat: lat, Lon: lon}
		req := Request{Kind: Transit, Agency: "a", Drones: []Drone{{ID: "d", Home: w.home}}, To: to, MarginM: 20, Start: t0}
		res, err := Plan(w.set, req, t0)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		rt := res.Routes[0]
		checkAllowed(t, w.set, "a", rt)
		// The outbound path: home to the destination.
		got := 0.0
		prev := w.lc.xy(w.home.Lat, w.home.Lon)
		for _, wp := range rt.Waypoints {
			p := w.lc.xy(wp.Lat, wp.Lon)
			got += math.Hypot(p[0]-prev[0], p[1]-prev[1])
			prev = p
			if math.Abs(wp.Lat-to.Lat) < 1e-9 && math.Abs(wp.Lon-to.Lon) < 1e-9 {
				break
			}
		}
		// Every leg clear of the exclusions with the margin (independently).
		legs, _ := w.legs(rt)
		for i, l := range legs {
			for s := 0; s <= 200; s++ {
				f := float64(s) / 200
				p := [2]float64{l[0][0] + f*(l[1][0]-l[0][0]), l[0][1] + f*(l[1][1]-l[0][1])}
				for _, c := range w.circ {
					if math.Hypot(p[0]-c[0], p[1]-c[1]) < c[2]+19.9 {
						t.Fatalf("seed %d: leg %d within the margin of an exclusion circle", seed, i)
					}
				}
				for _, e := range w.exclXY {
					if inRing(e, p) || ringDist(e, p) < 19.9 {
						t.Fatalf("seed %d: leg %d within the margin of an exclusion polygon", seed, i)
					}
				}
			}
		}
		best := bruteForce(t, w, req)
		if got > best*1.05 {
			t.Errorf("seed %d: transit %.0f m, brute force %.0f m: more than 5 %% longer", seed, got, best)
		}
		if got < best*0.97 {
			t.Errorf("seed %d: transit %.0f m shorter than the brute force %.0f m by more than its sampling error", seed, got, best)
		}
	}
}

// bruteForce returns the shortest path home→To over a dense graph: a grid of
// samples plus samples hugging every obstacle, all visible pairs joined.
func bruteForce(t *testing.T, w *randomWorld, req Request) float64 {
	t.Helper()
	if err := req.normalise(t0); err != nil {
		t.Fatal(err)
	}
	ag, _ := w.set.Agency("a")
	sp := newSpace(spaceConfig{set: w.set, agency: ag, alt: req.AltM, homeAMSL: math.NaN(), at: t0, window: time.Hour, margin: req.MarginM, region: req.region()})
	a, b := sp.pr.ll(req.Drones[0].Home), sp.pr.ll(req.To)
	pts := []vec{a, b}
	bb := emptyBox().extend(a).extend(b).pad(400)
	for x := bb.min.x; x <= bb.max.x; x += (bb.max.x - bb.min.x) / 20 {
		for y := bb.min.y; y <= bb.max.y; y += (bb.max.y - bb.min.y) / 20 {
			pts = append(pts, vec{x, y})
		}
	}
	for _, c := range sp.circ {
		pts = append(pts, circlePoly(c.c, c.r*1.002+0.3, 90)...)
	}
	for _, e := range sp.excl {
		for _, v := range e.rings[0] {
			pts = append(pts, circlePoly(v, sp.margin*1.002+0.3, 36)...)
		}
	}
	var free []vec
	for _, p := range pts {
		if sp.free(p) {
			free = append(free, p)
		}
	}
	n := len(free)
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	dist[0] = 0
	done := make([]bool, n)
	h := &astarHeap{{f: 0, node: 0}}
	for h.Len() > 0 {
		it := heap.Pop(h).(astarItem)
		u := int(it.node)
		if done[u] {
			continue
		}
		done[u] = true
		if u == 1 {
			return dist[1]
		}
		for v := 0; v < n; v++ {
			if done[v] {
				continue
			}
			d := dist[u] + free[u].dist(free[v])
			if d < dist[v] && sp.segFree(free[u], free[v]) {
				dist[v] = d
				heap.Push(h, astarItem{f: d, node: int32(v)})
			}
		}
	}
	t.Fatal("brute force found no path")
	return 0
}

// The sister-city corridors of the bundled dataset: a perimeter, a coverage
// and a border-corridor patrol for a US, an MX and a JOINT drone, each
// staying on its side.
func TestSisterCityCorridors(t *testing.T) {
	set := mustDefault(t)
	boundary, _ := set.Line(geofence.BoundaryLineID)
	var airports []geofence.Zone
	for _, z := range set.Zones() {
		if z.Kind == geofence.Exclusion && z.IsCircle() {
			airports = append(airports, z)
		}
	}
	for _, c := range []string{"sandiego-tijuana", "calexico-mexicali", "nogales-nogales", "elpaso-juarez", "laredo-nuevolaredo", "mcallen-reynosa"} {
		t.Run(c, func(t *testing.T) {
			jz, _ := set.Zone("joint-" + c)
			// The boundary point in the corridor farthest from any airport.
			var centre LatLon
			best := -1.0
			jb := jz.Polygon.Bound()
			for _, q := range densePath(boundary.Path, 0.002) {
				if !jb.Contains(q) {
					continue
				}
				pos := geofence.Pos(q[1], q[0], 60)
				r, _ := set.CheckPoint("joint-task-force", pos, t0)
				if !r.Allowed || !hasZone(r.Zones, jz.ID) {
					continue
				}
				lc := newLocal(q[1], q[0])
				d := math.Inf(1)
				for _, a := range airports {
					p := lc.xy(a.Center[1], a.Center[0])
					d = math.Min(d, math.Hypot(p[0], p[1])-a.RadiusM)
				}
				if d > best {
					best, centre = d, LatLon{Lat: q[1], Lon: q[0]}
				}
			}
			homeOf := func(agency string) LatLon {
				lc := newLocal(centre.Lat, centre.Lon)
				for k := 0; k < 32; k++ {
					a := 2 * math.Pi * float64(k) / 32
					lat, lon := lc.ll(1200*math.Cos(a), 1200*math.Sin(a))
					r, _ := set.CheckPoint(agency, geofence.Pos(lat, lon, 60), t0)
					if r.Allowed && r.BoundaryM > 200 {
						return LatLon{Lat: lat, Lon: lon}
					}
				}
				t.Fatalf("no home for %s near %v", agency, centre)
				return LatLon{}
			}
			var usSide Side
			for _, ag := range []struct{ id, own string }{
				{"us-agency", "us-" + c}, {"mx-agency", "mx-" + c}, {"joint-task-force", "us-" + c},
			} {
				home := homeOf(ag.id)
				if ag.id == "joint-task-force" {
					home = homeOf("us-agency")
				}
				for _, k := range []Kind{Perimeter, Coverage, Corridor} {
					req := Request{Kind: k, Agency: ag.id, Drones: []Drone{{ID: "d", Home: home}}, Area: square(centre.Lat, centre.Lon, 1500),
						SwathM: 150, SpeedMPS: 15, Endurance: 2 * time.Hour, Start: t0}
					if k == Corridor {
						req.Line, req.Area = boundary.Path, jz.Polygon
					}
					st := time.Now()
					res, err := Plan(set, req, t0)
					if err != nil {
						t.Fatalf("%s %s: %v", ag.id, k, err)
					}
					_ = st
					rt := res.Routes[0]
					checkAllowed(t, set, ag.id, rt)
					sides := map[string]int{}
					for i, w := range rt.Waypoints {
						r, _ := set.CheckPoint(ag.id, geofence.Pos(w.Lat, w.Lon, w.AltM), t0)
						if hasZone(r.Zones, "us-"+c) {
							sides["US"]++
						}
						if hasZone(r.Zones, "mx-"+c) {
							sides["MX"]++
						}
						own := ag.own
						if ag.id == "joint-task-force" {
							own = jz.ID
						}
						if !hasZone(r.Zones, own) {
							t.Fatalf("%s %s: waypoint %d at %.5f,%.5f is not in %s", ag.id, k, i, w.Lat, w.Lon, own)
						}
					}
					if ag.id == "joint-task-force" && k == Coverage && (sides["US"] == 0 || sides["MX"] == 0) {
						t.Errorf("joint coverage of a square across the line flies only %v", sides)
					}
					if k == Corridor && ag.id == "us-agency" && sides["MX"] > 0 {
						t.Errorf("%s corridor crosses to the MX side: %v", ag.id, sides)
					}
					if k == Corridor {
						checkOffset(t, boundary, rt, req.OffsetM, airports)
						if ag.id == "us-agency" {
							usSide = res.Side
						}
						if ag.id == "joint-task-force" && res.Side != usSide {
							t.Errorf("joint corridor flown on the %s side, not on its home's (US) side %s", res.Side, usSide)
						}
					}
				}
			}
		})
	}
}

// checkOffset checks that most of a corridor's patrol legs (sampled every
// 100 m) run at the offset from the line (detours around exclusions aside).
func checkOffset(t *testing.T, line geofence.Line, rt Route, offset float64, excl []geofence.Zone) {
	t.Helper()
	if offset == 0 {
		offset = defaultOffset
	}
	near, n := 0, 0
	for i := 1; i < len(rt.Waypoints); i++ {
		a, b := rt.Waypoints[i-1], rt.Waypoints[i]
		if b.Phase != PhasePatrol {
			continue
		}
		lc := newLocal(a.Lat, a.Lon)
		q := lc.xy(b.Lat, b.Lon)
		k := int(math.Hypot(q[0], q[1])/100) + 1
		for j := 0; j < k; j++ {
			f := float64(j) / float64(k)
			lat, lon := lc.ll(f*q[0], f*q[1])
			pc0 := newLocal(lat, lon)
			detour := false
			for _, z := range excl {
				c := pc0.xy(z.Center[1], z.Center[0])
				if math.Hypot(c[0], c[1]) < z.RadiusM+offset+100 {
					detour = true
				}
			}
			if detour {
				continue // flying round an exclusion
			}
			n++
			d := math.Inf(1)
			pc := newLocal(lat, lon)
			for s := 1; s < len(line.Path); s++ {
				u, v := line.Path[s-1], line.Path[s]
				if math.Min(u[1], v[1]) > lat+0.1 || math.Max(u[1], v[1]) < lat-0.1 || math.Min(u[0], v[0]) > lon+0.1 || math.Max(u[0], v[0]) < lon-0.1 {
					continue
				}
				d = math.Min(d, ptSegDist([2]float64{0, 0}, pc.xy(u[1], u[0]), pc.xy(v[1], v[0])))
			}
			if d > offset*0.5 && d < offset*2 {
				near++
			}
		}
	}
	if float64(near) < 0.7*float64(n) {
		t.Errorf("only %d of %d corridor samples are near the %.0f m offset", near, n, offset)
	}
}

// densePath returns the points of path with at most step degrees between them.
func densePath(path orb.LineString, step float64) []orb.Point {
	var out []orb.Point
	for i := 1; i < len(path); i++ {
		a, b := path[i-1], path[i]
		n := int(math.Hypot(b[0]-a[0], b[1]-a[1])/step) + 1
		for k := 0; k < n; k++ {
			f := float64(k) / float64(n)
			out = append(out, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])})
		}
	}
	return out
}

func hasZone(zs []geofence.ZoneRef, id string) bool {
	for _, z := range zs {
		if z.ID == id {
			return true
		}
	}
	return false
}

func TestPlanErrors(t *testing.T) {
	set := mustDefault(t)
	home := LatLon{Lat: 32.5480, Lon: -117.0293}
	area := square(32.548, -117.06, 1500)
	for _, c := range []struct {
		name string
		req  Request
		code Code
		msg  string
	}{
		{"unknown kind", Request{Kind: "spiral", Agency: "us-agency", Drones: []Drone{{Home: home}}}, CodeInvalid, "unknown patrol kind"},
		{"no drone", Request{Kind: Coverage, Agency: "us-agency", Area: area}, CodeInvalid, "no drone"},
		{"no area", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}}, CodeInvalid, "area polygon"},
		{"bad swath", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: area, SwathM: -3}, CodeInvalid, "swath"},
		{"unknown agency", Request{Kind: Coverage, Agency: "nobody", Drones: []Drone{{Home: home}}, Area: area}, CodeNotFound, "unknown agency"},
		{"area on the other side", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: square(32.51, -117.06, 1000)}, CodeNoRoute, "allowed space"},
		{"destination in an airport", Request{Kind: Transit, Agency: "joint-task-force", Drones: []Drone{{Home: home}}, To: LatLon{Lat: 32.541, Lon: -116.97}}, CodeNoRoute, "apt-mmtj"},
		{"above the ceiling", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: area, AltM: 150}, CodeNoRoute, "ceiling"},
		{"battery", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home, BatteryPct: 30}}, Area: area, SwathM: 40}, CodeEndurance, "usable"},
		{"turn limit", Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{Home: home}}, Area: area, SwathM: 300, MaxTurnDeg: 45}, CodeNoRoute, "limit"},
		{"perimeter shared", Request{Kind: Perimeter, Agency: "us-agency", Drones: []Drone{{ID: "a", Home: home}, {ID: "b", Home: home}}, Area: area}, CodeInvalid, "one drone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Plan(set, c.req, t0)
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %s containing %q", err, c.code, c.msg)
			}
		})
	}
}

func TestSortiesAndSharing(t *testing.T) {
	set := mustDefault(t)
	home := LatLon{Lat: 32.5480, Lon: -117.0293}
	area := square(32.555, -117.07, 2500)
	req := Request{Kind: Coverage, Agency: "us-agency", Drones: []Drone{{ID: "d", Home: home}}, Area: area, SwathM: 60, Endurance: 30 * time.Minute, Sorties: true, Start: t0}
	res, err := Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Routes) < 2 {
		t.Fatalf("%d sorties, want several", len(res.Routes))
	}
	for i, rt := range res.Routes {
		if rt.Sortie != i+1 || rt.Duration > 24*time.Minute {
			t.Errorf("sortie %d: number %d, %v (battery %.0f %%), want ≤ 80 %% of 30 min", i, rt.Sortie, rt.Duration, rt.BatteryPct)
		}
		checkAllowed(t, set, "us-agency", rt)
	}
	// Three drones from three homes share the area within 10 %, each
	// nearest to its part.
	homes := []LatLon{{Lat: 32.545, Lon: -117.10}, {Lat: 32.57, Lon: -117.07}, {Lat: 32.548, Lon: -117.04}}
	req.Sorties, req.Endurance = false, 2*time.Hour
	req.Drones = nil
	for i, h := range homes {
		req.Drones = append(req.Drones, Drone{ID: string(rune('a' + i)), Home: h})
	}
	res, err = Plan(set, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Routes) != 3 {
		t.Fatalf("%d routes", len(res.Routes))
	}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for _, rt := range res.Routes {
		lo, hi = min(lo, rt.Duration), max(hi, rt.Duration)
		checkAllowed(t, set, "us-agency", rt)
	}
	if float64(hi-lo) > 0.10*float64(hi) {
		t.Errorf("flight times %v to %v: more than 10 %% apart", lo, hi)
	}
	if len(res.Checks) == 0 || !res.Checks[0].Passed {
		t.Errorf("balance check: %+v", res.Checks)
	}
}
