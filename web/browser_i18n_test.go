package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/web/webtest"
	"github.com/chromedp/chromedp"
)

// TestBrowserMissionMismatchLang: the page says what differs in a
// mission_mismatch event (its stable code and values, as the server sends
// it) in the reader's language and units; an old record's English detail
// shows as it came.
func TestBrowserMissionMismatchLang(t *testing.T) {
	path := webtest.RequireChromium(t)
	if testing.Short() {
		t.Skip("Chromium: skipped with -short")
	}
	at := time.Now().UTC()
	event := func(d fleet.MissionDiff) string {
		rec, ok := app.EventRecordOf(fleet.MissionMismatch{DroneID: "sysid-1", At: at, MissionID: "m-1", NewMissionID: "m-2", Seq: d.Item, Detail: d}, "")
		if !ok {
			t.Fatal("no record")
		}
		b, err := json.Marshal(eventOf(rec))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	param := event(fleet.MissionDiff{Code: fleet.DiffParam, Item: 3, Param: 1, Want: "5", Got: "0"})
	alt := event(fleet.MissionDiff{Code: fleet.DiffAltitude, Item: 4, Want: "40", Got: "40.5"})
	old := `{"kind":"mission_mismatch","drone":"sysid-1","at":"2026-12-02T03:00:00Z","params":{"mission_id":"m-1","seq":"3","detail":"item 3: param1 5, vehicle has 0"}}`
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	for _, tc := range []struct {
		lang            string
		param, alt, old string
	}{
		{"en", "item 3: param1 = 5, the vehicle has 0", "item 4: altitude 40.00 m, the vehicle has 40.50 m", "item 3: param1 5, vehicle has 0"},
		{"es", "elemento 3: parámetro 1 = 5, el vehículo tiene 0", "elemento 4: altitud 40,00 m, el vehículo tiene 40,50 m", "item 3: param1 5, vehicle has 0"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := webtest.New(t, path, tc.lang)
			b.Run("open the map", chromedp.Navigate(h.Srv.URL()+"#token="+h.Supervisor))
			b.Poll("the drone", `window.centinela && centinela.state.drones.size === 1`, 30*time.Second)
			for _, c := range []struct{ ev, want string }{{param, tc.param}, {alt, tc.alt}, {old, tc.old}} {
				var got string
				b.Eval(`centinela.alertText(`+c.ev+`)`, &got)
				if !strings.Contains(got, c.want) {
					t.Errorf("%s: %q, want it to say %q", tc.lang, got, c.want)
				}
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %q", errs)
			}
		})
	}
}
