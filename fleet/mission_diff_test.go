package fleet_test

import (
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
)

// A mission difference says itself in English for logs, as the fleet
// always has.
func TestMissionDiffString(t *testing.T) {
	for _, tc := range []struct {
		d    fleet.MissionDiff
		want string
	}{
		{fleet.MissionDiff{Code: fleet.DiffCommand, Item: 2, Want: "16", Got: "21"}, "item 2: command 16, vehicle has 21"},
		{fleet.MissionDiff{Code: fleet.DiffPosition, Item: 3, Want: "32.5480000,-117.0290000", Got: "32.5480001,-117.0290000"}, "item 3: position 32.5480000, -117.0290000, vehicle has 32.5480001, -117.0290000"},
		{fleet.MissionDiff{Code: fleet.DiffAltitude, Item: 4, Want: "40", Got: "40.5"}, "item 4: altitude 40 m, vehicle has 40.5 m"},
		{fleet.MissionDiff{Code: fleet.DiffParam, Item: 5, Param: 1, Want: "5", Got: "0"}, "item 5: param1 5, vehicle has 0"},
		{fleet.MissionDiff{Code: fleet.DiffCount, Item: 6, Want: "8", Got: "6"}, "8 items, vehicle has 6"},
		{fleet.MissionDiff{}, ""},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.d, got, tc.want)
		}
	}
}
