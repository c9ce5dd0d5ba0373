package i18n

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// Every mission difference code has a message.
func TestEveryMissionDiffCode(t *testing.T) {
	for _, c := range fleet.MissionDiffCodes {
		if !Has(En, "mission_diff."+string(c)) {
			t.Errorf("mission difference %q has no message", c)
		}
	}
}

// A mission_mismatch event renders what differs in the reader's language
// from its code and values; its record holds no English text; a record
// from before the code shows its English detail as it is.
func TestRenderMissionMismatch(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		diff   fleet.MissionDiff
		en, es string
	}{
		{fleet.MissionDiff{Code: fleet.DiffParam, Item: 3, Param: 1, Want: "5", Got: "0"},
			"the vehicle's mission differs from m-1: item 3: param1 = 5, the vehicle has 0",
			"la misión del vehículo difiere de m-1: elemento 3: parámetro 1 = 5, el vehículo tiene 0"},
		{fleet.MissionDiff{Code: fleet.DiffPosition, Item: 2, Want: "32.5480000,-117.0290000", Got: "32.5490000,-117.0290000"},
			"the vehicle's mission differs from m-1: item 2: position 32.5480000,-117.0290000, the vehicle has 32.5490000,-117.0290000",
			"la misión del vehículo difiere de m-1: elemento 2: posición 32.5480000,-117.0290000, el vehículo tiene 32.5490000,-117.0290000"},
		{fleet.MissionDiff{Code: fleet.DiffAltitude, Item: 4, Want: "40", Got: "45.5"},
			"the vehicle's mission differs from m-1: item 4: altitude 40 m, the vehicle has 45.5 m",
			"la misión del vehículo difiere de m-1: elemento 4: altitud 40 m, el vehículo tiene 45.5 m"},
		{fleet.MissionDiff{Code: fleet.DiffCommand, Item: 1, Want: "16", Got: "21"},
			"the vehicle's mission differs from m-1: item 1: command 16, the vehicle has 21",
			"la misión del vehículo difiere de m-1: elemento 1: comando 16, el vehículo tiene 21"},
		{fleet.MissionDiff{Code: fleet.DiffCount, Item: 6, Want: "8", Got: "6"},
			"the vehicle's mission differs from m-1: 8 items, the vehicle has 6",
			"la misión del vehículo difiere de m-1: 8 elementos, el vehículo tiene 6"},
	} {
		rec, ok := app.EventRecordOf(fleet.MissionMismatch{DroneID: "sysid-1", At: at, MissionID: "m-1", NewMissionID: "m-2", Seq: tc.diff.Item, Detail: tc.diff}, "")
		if !ok || rec.Kind != app.KindMissionMismatch {
			t.Fatalf("record %+v", rec)
		}
		if _, ok := rec.Params["detail"]; ok {
			t.Errorf("%s: the record carries English text: %v", tc.diff.Code, rec.Params)
		}
		if rec.Params["diff"] != string(tc.diff.Code) || rec.Params["want"] != tc.diff.Want || rec.Params["got"] != tc.diff.Got {
			t.Errorf("%s: params %v", tc.diff.Code, rec.Params)
		}
		if got := Event(En, rec.Kind, rec.Params); got != tc.en {
			t.Errorf("en: %q\nwant %q", got, tc.en)
		}
		if got := Event(Es, rec.Kind, rec.Params); got != tc.es {
			t.Errorf("es: %q\nwant %q", got, tc.es)
		}
	}
	old := map[string]string{"mission_id": "m-1", "seq": "3", "detail": "item 3: param1 5, vehicle has 0"}
	if got := Event(Es, app.KindMissionMismatch, old); got != "la misión del vehículo difiere de m-1: item 3: param1 5, vehicle has 0" {
		t.Errorf("record without a code: %q", got)
	}
}
