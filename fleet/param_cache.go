package fleet

import (
	"context"
	"slices"
	"strings"
)

func sortParams(ps []Param) {
	slices.SortFunc(ps, func(a, b Param) int {
		if a.Index >= 0 && b.Index >= 0 && a.Index != b.Index {
			return a.Index - b.Index
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Params reads drone id's whole parameter list (progress, if not nil, is
// called as values arrive), replaces the fleet's cache with it and returns
// it in index order. Returns NotFound, NoDrone, and the vehicle's Timeout.
func (f *Fleet) Params(ctx context.Context, id string, progress func(got, total int)) ([]Param, error) {
	d, v, _, err := f.target(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := f.opCtx(ctx, 4*f.CommandTimeout)
	defer cancel()
	ps, err := v.ReadParams(ctx, progress)
	if err != nil {
		return nil, vehicleErr(err, "read parameters")
	}
	d.mu.Lock()
	clear(d.params)
	for _, p := range ps {
		d.params[p.Name] = p
	}
	d.st.Params = len(d.params)
	d.mu.Unlock()
	f.publishState(d)
	out := slices.Clone(ps)
	sortParams(out)
	d.log.Info("parameters read", "count", len(out))
	return out, nil
}

// CachedParams returns the parameters the fleet holds for drone id, in
// index order, without asking the vehicle. Returns NotFound.
func (f *Fleet) CachedParams(id string) ([]Param, error) {
	d := f.droneByID(id)
	if d == nil {
		return nil, errNotFound(id)
	}
	d.mu.Lock()
	out := make([]Param, 0, len(d.params))
	for _, p := range d.params {
		out = append(out, p)
	}
	d.mu.Unlock()
	sortParams(out)
	return out, nil
}

// Param returns drone id's parameter name: from the cache when present,
// else read from the vehicle and cached. Returns Invalid for a bad name,
// NotFound (no such drone, or the vehicle has no such parameter), NoDrone,
// and the vehicle's Timeout.
func (f *Fleet) Param(ctx context.Context, id, name string) (Param, error) {
	if err := checkParamName(name); err != nil {
		return Param{}, err
	}
	d := f.droneByID(id)
	if d == nil {
		return Param{}, errNotFound(id)
	}
	d.mu.Lock()
	p, ok := d.params[name]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	_, v, _, err := f.target(id)
	if err != nil {
		return Param{}, err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	p, err = v.ReadParam(ctx, name)
	if err != nil {
		return Param{}, vehicleErr(err, "read parameter")
	}
	d.mu.Lock()
	d.cacheParam(p)
	p = d.params[p.Name]
	d.mu.Unlock()
	return p, nil
}

// SetParam sets drone id's parameter name to value and returns the value
// the vehicle echoed (cached). Returns Invalid, NotFound, NoDrone, and the
// vehicle's Denied (the echo differs), Timeout.
func (f *Fleet) SetParam(ctx context.Context, id, name string, value float64) (Param, error) {
	if err := checkParamName(name); err != nil {
		return Param{}, err
	}
	if !finite(value) {
		return Param{}, Errorf(Invalid, "parameter %s: value %v is not a number", name, value)
	}
	d, v, _, err := f.target(id)
	if err != nil {
		return Param{}, err
	}
	ctx, cancel := f.opCtx(ctx, f.CommandTimeout)
	defer cancel()
	p, err := v.SetParam(ctx, name, value)
	if err != nil {
		return Param{}, f.finish(d, "set_param", vehicleErr(err, "set parameter"))
	}
	d.mu.Lock()
	d.cacheParam(p)
	p = d.params[p.Name]
	d.mu.Unlock()
	f.publishState(d)
	return p, f.finish(d, "set_param", nil)
}

func checkParamName(name string) error {
	if name == "" || len(name) > 16 {
		return Errorf(Invalid, "parameter name %q must have 1 to 16 characters", name)
	}
	return nil
}
