package fleet_test

import (
	"context"
	"math"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

func TestParams(t *testing.T) {
	f, _ := mustFleet(t)
	v := ft.NewVehicle("l", 1)
	list := []fleet.Param{
		{Name: "FS_GCS_ENABLE", Value: 0, Type: fleet.ParamInt8, Index: 2, Count: 3},
		{Name: "FORMAT_VERSION", Value: 120, Type: fleet.ParamInt16, Index: 0, Count: 3},
		{Name: "MAV_GCS_SYSID", Value: 255, Type: fleet.ParamInt16, Index: 1, Count: 3},
	}
	v.ReadParamsFn = func(_ context.Context, progress func(int, int)) ([]fleet.Param, error) {
		for i := range list {
			progress(i+1, len(list))
		}
		return list, nil
	}
	v.ReadParamFn = func(_ context.Context, name string) (fleet.Param, error) {
		if name == "FENCE_RADIUS" {
			return fleet.Param{Name: name, Value: 150, Type: fleet.ParamReal32, Index: -1}, nil
		}
		return fleet.Param{}, fleet.Errorf(fleet.NotFound, "no parameter %s", name)
	}
	v.SetParamFn = func(_ context.Context, name string, value float64) (fleet.Param, error) {
		// ArduPilot echoes the true type and index 65535 (-1 here).
		return fleet.Param{Name: name, Value: value, Type: fleet.ParamInt8, Index: -1}, nil
	}
	discover(t, f, v, ft.Copter(0, false, ft.StatusStandby))
	ctx := context.Background()

	var got, total int
	ps, err := f.Params(ctx, "sysid-1", func(g, n int) { got, total = g, n })
	if err != nil {
		t.Fatal(err)
	}
	if got != 3 || total != 3 || len(ps) != 3 || ps[0].Name != "FORMAT_VERSION" || ps[2].Name != "FS_GCS_ENABLE" {
		t.Fatalf("Params = %+v (progress %d/%d)", ps, got, total)
	}
	if st := state(t, f, "sysid-1"); st.Params != 3 {
		t.Errorf("state params %d", st.Params)
	}

	reads := v.Calls("ReadParam")
	p, err := f.Param(ctx, "sysid-1", "MAV_GCS_SYSID")
	if err != nil || p.Value != 255 || v.Calls("ReadParam") != reads {
		t.Errorf("cached Param = %+v, %v (reads %d)", p, err, v.Calls("ReadParam")-reads)
	}
	p, err = f.Param(ctx, "sysid-1", "FENCE_RADIUS")
	if err != nil || p.Value != 150 || v.Calls("ReadParam") != reads+1 {
		t.Errorf("uncached Param = %+v, %v", p, err)
	}
	if _, err := f.Param(ctx, "sysid-1", "SYSID_MYGCS"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("missing parameter = %v, want NotFound", err)
	}
	if _, err := f.Param(ctx, "sysid-1", "A_NAME_LONGER_THAN_16"); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("long name = %v, want Invalid", err)
	}

	p, err = f.SetParam(ctx, "sysid-1", "FS_GCS_ENABLE", 1)
	if err != nil || p.Value != 1 || p.Type != fleet.ParamInt8 || p.Index != 2 {
		t.Errorf("SetParam = %+v, %v; want value 1, INT8, cached index 2", p, err)
	}
	if _, err := f.SetParam(ctx, "sysid-1", "FS_GCS_ENABLE", math.NaN()); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("SetParam NaN = %v", err)
	}

	// A value the vehicle changes by itself (index 65535) updates the cache.
	f.Handle(v, fleet.ParamValue{Param: fleet.Param{Name: "MAV_GCS_SYSID", Value: 254, Type: fleet.ParamInt16, Index: -1}})
	cached, err := f.CachedParams("sysid-1")
	if err != nil || len(cached) != 4 {
		t.Fatalf("CachedParams = %v, %v", cached, err)
	}
	for _, c := range cached {
		if c.Name == "MAV_GCS_SYSID" && (c.Value != 254 || c.Index != 1) {
			t.Errorf("pushed value cached as %+v", c)
		}
	}
	if _, err := f.CachedParams("sysid-9"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("CachedParams unknown = %v", err)
	}
}
