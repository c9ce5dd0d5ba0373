package plan

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/paulmach/orb"
)

// Volume is the 4D volume a patrol reserves (like an ASTM F3548
// operational intent): its path buffered horizontally by BufferM, the band
// AltM ± VerticalM, from Start to End (the planned end plus a reserve).
//
// Altitudes of volumes are compared as they are: give them in one
// reference (above a common home level, or AMSL) for the drones that share
// airspace.
type Volume struct {
	// PatrolID identifies the patrol (a stable id, unique in a Registry).
	PatrolID string
	// DroneID and Agency say who flies it (for people).
	DroneID, Agency string
	// Path is the route's horizontal path.
	Path []LatLon
	// BufferM is the horizontal margin around Path (> 0).
	BufferM float64
	// AltM and VerticalM give the band AltM − VerticalM … AltM + VerticalM.
	AltM, VerticalM float64
	// Start and End bound the time window (Start < End).
	Start, End time.Time
}

// Floor and Ceiling return the volume's band.
func (v *Volume) Floor() float64   { return v.AltM - v.VerticalM }
func (v *Volume) Ceiling() float64 { return v.AltM + v.VerticalM }

// VolumeOf returns the volume of routes flown from start: the paths of all
// of them (one drone's sorties, or several drones'), buffered by bufferM,
// at the routes' altitude ± verticalM, from start to the end of the last
// route plus reserve.
func VolumeOf(patrolID string, routes []Route, start time.Time, bufferM, verticalM float64, reserve time.Duration) Volume {
	v := Volume{PatrolID: patrolID, BufferM: bufferM, VerticalM: verticalM, Start: start}
	var total time.Duration
	for _, rt := range routes {
		if v.DroneID == "" {
			v.DroneID = rt.DroneID
		}
		v.Path = append(v.Path, rt.Home)
		for _, w := range rt.Waypoints {
			v.Path = append(v.Path, w.LatLon)
			v.AltM = w.AltM
		}
		v.Path = append(v.Path, rt.Home)
		total += rt.Duration
	}
	v.End = start.Add(total + reserve)
	return v
}

func (v *Volume) validate() error {
	if v.PatrolID == "" {
		return errorf(CodeInvalid, "volume without a patrol id")
	}
	if len(v.Path) == 0 {
		return errorf(CodeInvalid, "volume %q has no path", v.PatrolID)
	}
	for i, p := range v.Path {
		if !validLL(p) {
			return errorf(CodeInvalid, "volume %q: path point %d is not a WGS84 point", v.PatrolID, i)
		}
	}
	if !finite(v.BufferM) || v.BufferM <= 0 || !finite(v.VerticalM) || v.VerticalM < 0 || !finite(v.AltM) {
		return errorf(CodeInvalid, "volume %q: bad buffer or band", v.PatrolID)
	}
	if !v.End.After(v.Start) {
		return errorf(CodeInvalid, "volume %q: end %v is not after start %v", v.PatrolID, v.End, v.Start)
	}
	if len(v.Path) > MaxVertices {
		return errorf(CodeInvalid, "volume %q: %d path points, at most %d", v.PatrolID, len(v.Path), MaxVertices)
	}
	return nil
}

// Conflict says where and when two volumes meet.
type Conflict struct {
	// PatrolID and DroneID name the reserved patrol met.
	PatrolID, DroneID string
	// At is the middle of the closest approach of the two paths; DistanceM
	// their horizontal distance there (less than the buffers added).
	At        LatLon
	DistanceM float64
	// From and Until bound the time both hold their volumes.
	From, Until time.Time
	// FloorM and CeilingM bound the altitudes both use.
	FloorM, CeilingM float64
}

func (c *Conflict) String() string {
	return fmt.Sprintf("patrol %q (drone %q) near %.5f,%.5f (%.0f m apart) between %.0f and %.0f m, from %s to %s",
		c.PatrolID, c.DroneID, c.At.Lat, c.At.Lon, c.DistanceM, c.FloorM, c.CeilingM, c.From.UTC().Format(time.RFC3339), c.Until.UTC().Format(time.RFC3339))
}

// indexed is a reserved volume with its search bound.
type indexed struct {
	v  Volume
	bb orb.Bound // lon/lat, padded by the buffer
}

func boundOf(v *Volume) orb.Bound {
	b := orb.Bound{Min: orb.Point{v.Path[0].Lon, v.Path[0].Lat}, Max: orb.Point{v.Path[0].Lon, v.Path[0].Lat}}
	for _, p := range v.Path[1:] {
		b = b.Extend(orb.Point{p.Lon, p.Lat})
	}
	dlat := v.BufferM / degToM
	dlon := v.BufferM / (degToM * math.Max(0.01, math.Cos(b.Center()[1]*math.Pi/180)))
	return orb.Bound{Min: orb.Point{b.Min[0] - dlon, b.Min[1] - dlat}, Max: orb.Point{b.Max[0] + dlon, b.Max[1] + dlat}}
}

// meet reports where volumes a and b intersect, nil if they do not.
func meet(a *indexed, b *indexed) *Conflict {
	va, vb := &a.v, &b.v
	if !va.Start.Before(vb.End) || !vb.Start.Before(va.End) {
		return nil
	}
	lo, hi := math.Max(va.Floor(), vb.Floor()), math.Min(va.Ceiling(), vb.Ceiling())
	if lo > hi {
		return nil
	}
	if !a.bb.Intersects(b.bb) {
		return nil
	}
	pr := newProj(a.bb.Union(b.bb).Center())
	pa, pb := projPath(pr, va.Path), projPath(pr, vb.Path)
	limit := va.BufferM + vb.BufferM
	best, bi, bj := math.Inf(1), -1, -1
	// Boxes of b's segments, for pruning.
	bbs := make([]box, len(pb))
	for j := range pb {
		k := min(j+1, len(pb)-1)
		bbs[j] = emptyBox().extend(pb[j]).extend(pb[k]).pad(limit)
	}
	for i := range pa {
		k := min(i+1, len(pa)-1)
		sa := emptyBox().extend(pa[i]).extend(pa[k])
		for j := range pb {
			if !sa.overlaps(bbs[j]) {
				continue
			}
			l := min(j+1, len(pb)-1)
			if d := segSegDist(pa[i], pa[k], pb[j], pb[l]); d < best {
				best, bi, bj = d, i, j
			}
		}
	}
	if bi < 0 || best >= limit {
		return nil
	}
	ka, kb := min(bi+1, len(pa)-1), min(bj+1, len(pb)-1)
	p, q := closestPoints(pa[bi], pa[ka], pb[bj], pb[kb])
	mid := lerp(p, q, 0.5)
	return &Conflict{PatrolID: vb.PatrolID, DroneID: vb.DroneID, At: pr.toLL(mid), DistanceM: best,
		From: later(va.Start, vb.Start), Until: earlier(va.End, vb.End), FloorM: lo, CeilingM: hi}
}

func projPath(pr proj, p []LatLon) []vec {
	out := make([]vec, len(p))
	for i, q := range p {
		out[i] = pr.ll(q)
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Resolve says how Reserve may resolve a conflict instead of refusing.
type Resolve struct {
	// Layers are other altitudes the patrol may fly at (inside its zones'
	// bands: see AltitudeLayers), tried in order.
	Layers []float64
	// MaxDelay is how much later the patrol may start (0: not at all).
	MaxDelay time.Duration
}

// Reservation is an accepted volume.
type Reservation struct {
	// Volume is the volume reserved, with the altitude and start changed
	// when a conflict was resolved.
	Volume Volume
	// AltM is the altitude to fly (the volume's); Delay how much later than
	// asked it starts.
	AltM  float64
	Delay time.Duration
	// Resolved is "" when the volume was accepted as asked, else
	// "altitude" or "delay", and Resolves the conflict it avoided.
	Resolved string
	Resolves *Conflict
}

// Deviation says how a drone is outside its patrol's reserved volume.
type Deviation struct {
	PatrolID, DroneID string
	// Reason is "horizontal", "vertical", "early" or "late".
	Reason string
	// ByM is how far outside (metres) for horizontal and vertical.
	ByM float64
	// At is the position checked.
	At LatLon
}

// Registry holds the reserved volumes of accepted patrols. All its methods
// are safe for concurrent use: Reserve checks and inserts under one lock, so
// of two overlapping patrols reserved at the same moment exactly one wins.
// Nothing blocks but that short lock. The zero Registry is ready to use.
type Registry struct {
	// Now returns the current time (optional, default time.Now): volumes
	// whose End has passed are dropped.
	Now func() time.Time

	mu   sync.Mutex
	vols map[string]*indexed
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// prune drops expired volumes; r.mu is held.
func (r *Registry) prune() {
	now := r.now()
	for id, x := range r.vols {
		if !x.v.End.After(now) {
			delete(r.vols, id)
		}
	}
}

// conflict returns the first reserved volume x meets (by patrol id, for a
// stable answer), skipping skip; r.mu is held.
func (r *Registry) conflict(x *indexed, skip string) *Conflict {
	var found *Conflict
	for id, y := range r.vols {
		if id == skip {
			continue
		}
		if c := meet(x, y); c != nil && (found == nil || c.PatrolID < found.PatrolID) {
			found = c
		}
	}
	return found
}

// Check returns where v meets a reserved volume, nil when it meets none.
// It reserves nothing (a preview). Returns CodeInvalid for a bad volume.
func (r *Registry) Check(v Volume) (*Conflict, error) {
	if err := v.validate(); err != nil {
		return nil, err
	}
	x := &indexed{v: v, bb: boundOf(&v)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	return r.conflict(x, v.PatrolID), nil
}

// Reserve reserves v, or with opt, the first of its altitude layers, then
// of its later starts (stepping to the end of the volume met), that meets
// no reserved volume. Returns CodeInvalid for a bad volume or a patrol id
// already reserved, CodeConflict naming the patrol met, where and when,
// when no resolution is allowed or found.
func (r *Registry) Reserve(v Volume, opt Resolve) (Reservation, error) {
	if err := v.validate(); err != nil {
		return Reservation{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	if _, ok := r.vols[v.PatrolID]; ok {
		return Reservation{}, errorf(CodeInvalid, "patrol %q already holds a reservation", v.PatrolID)
	}
	x := &indexed{v: v, bb: boundOf(&v)}
	first := r.conflict(x, "")
	if first == nil {
		r.put(x)
		return Reservation{Volume: v, AltM: v.AltM}, nil
	}
	for _, alt := range opt.Layers {
		if !finite(alt) || alt == v.AltM {
			continue
		}
		y := *x
		y.v.AltM = alt
		if r.conflict(&y, "") == nil {
			r.put(&y)
			return Reservation{Volume: y.v, AltM: alt, Resolved: "altitude", Resolves: first}, nil
		}
	}
	if opt.MaxDelay > 0 {
		y := *x
		c := first
		for c != nil {
			delay := c.Until.Sub(v.Start) + time.Second
			if delay > opt.MaxDelay {
				break
			}
			y.v.Start, y.v.End = v.Start.Add(delay), v.End.Add(delay)
			c = r.conflict(&y, "")
			if c == nil {
				r.put(&y)
				return Reservation{Volume: y.v, AltM: v.AltM, Delay: delay, Resolved: "delay", Resolves: first}, nil
			}
		}
	}
	return Reservation{}, &Error{Code: CodeConflict, Conflict: first,
		Message: fmt.Sprintf("patrol %q meets reserved %s", v.PatrolID, first)}
}

func (r *Registry) put(x *indexed) {
	if r.vols == nil {
		r.vols = map[string]*indexed{}
	}
	r.vols[x.v.PatrolID] = x
}

// Release frees patrol id's volume, when it ended or was aborted. Returns
// CodeNotFound if it holds none.
func (r *Registry) Release(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.vols[id]; !ok {
		return errorf(CodeNotFound, "patrol %q holds no reservation", id)
	}
	delete(r.vols, id)
	return nil
}

// Extend moves the end of patrol id's volume to end, when it runs late.
// Returns CodeNotFound if it holds none, CodeInvalid if end is not after
// its start, CodeConflict naming the patrol met when the longer window
// would meet another volume (nothing changes then).
func (r *Registry) Extend(id string, end time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.vols[id]
	if !ok {
		return errorf(CodeNotFound, "patrol %q holds no reservation", id)
	}
	if !end.After(x.v.Start) {
		return errorf(CodeInvalid, "patrol %q: new end %v is not after its start", id, end)
	}
	y := *x
	y.v.End = end
	if c := r.conflict(&y, id); c != nil {
		return &Error{Code: CodeConflict, Conflict: c, Message: fmt.Sprintf("patrol %q cannot be extended: it would meet reserved %s", id, c)}
	}
	r.vols[id] = &y
	return nil
}

// Get returns patrol id's reserved volume.
func (r *Registry) Get(id string) (Volume, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.vols[id]
	if !ok {
		return Volume{}, false
	}
	return x.v, true
}

// List returns every reserved volume, sorted by patrol id.
func (r *Registry) List() []Volume {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Volume, 0, len(r.vols))
	for _, x := range r.vols {
		out = append(out, x.v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PatrolID < out[j].PatrolID })
	return out
}

// Conform checks a drone's position (altitude in the volumes' reference)
// at time at against patrol id's volume: nil when inside, else how it
// deviates, for the caller to raise an event. Returns CodeNotFound if the
// patrol holds no reservation.
func (r *Registry) Conform(id string, p LatLon, altM float64, at time.Time) (*Deviation, error) {
	r.mu.Lock()
	x, ok := r.vols[id]
	r.mu.Unlock()
	if !ok {
		return nil, errorf(CodeNotFound, "patrol %q holds no reservation", id)
	}
	v := &x.v
	dev := &Deviation{PatrolID: id, DroneID: v.DroneID, At: p}
	switch {
	case at.Before(v.Start):
		dev.Reason = "early"
		return dev, nil
	case !at.Before(v.End):
		dev.Reason = "late"
		return dev, nil
	}
	if altM < v.Floor() || altM > v.Ceiling() {
		dev.Reason, dev.ByM = "vertical", math.Max(v.Floor()-altM, altM-v.Ceiling())
		return dev, nil
	}
	pr := newProj(orb.Point{p.Lon, p.Lat})
	q, path := pr.ll(p), projPath(pr, v.Path)
	best := q.dist(path[0])
	for i := 1; i < len(path); i++ {
		best = math.Min(best, segDist(path[i-1], path[i], q))
	}
	if best > v.BufferM {
		dev.Reason, dev.ByM = "horizontal", best-v.BufferM
		return dev, nil
	}
	return nil, nil
}

// closestPoints returns the closest points of segments ab and cd.
func closestPoints(a, b, c, d vec) (vec, vec) {
	if t, ok := lineCross(a, b, c, d); ok {
		x := lerp(a, b, t)
		return x, x
	}
	proj := func(u, v, p vec) vec {
		e := v.sub(u)
		l2 := e.dot(e)
		if l2 == 0 {
			return u
		}
		return lerp(u, v, math.Max(0, math.Min(1, p.sub(u).dot(e)/l2)))
	}
	cands := [][2]vec{{a, proj(c, d, a)}, {b, proj(c, d, b)}, {proj(a, b, c), c}, {proj(a, b, d), d}}
	best := cands[0]
	for _, k := range cands[1:] {
		if k[0].dist(k[1]) < best[0].dist(best[1]) {
			best = k
		}
	}
	return best[0], best[1]
}
