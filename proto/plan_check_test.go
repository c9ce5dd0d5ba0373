package proto

import (
	"maps"
	"testing"

	"github.com/centinela-gcs/centinela/geofence/plan"
)

// A plan's checks reach clients with their parameters, so a client says
// them in its reader's language.
func TestPlanCheckParamsToPB(t *testing.T) {
	in := []plan.Check{{Name: "margin", Passed: true, Detail: "at least 30 m from the edges", Params: map[string]string{"margin_m": "30"}}}
	out := checksToPB(in)
	if len(out) != 1 || out[0].GetName() != "margin" || !out[0].GetPassed() || out[0].GetDetail() != in[0].Detail || !maps.Equal(out[0].GetParams(), in[0].Params) {
		t.Errorf("%v", out)
	}
}
