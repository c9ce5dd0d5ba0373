package i18n

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/centinela-gcs/centinela/geofence"
	"github.com/centinela-gcs/centinela/geofence/plan"
)

// Every check the planner makes has a message; said in English from its
// parameters it is its detail, and in Spanish it is Spanish.
func TestPlanCheckLang(t *testing.T) {
	for _, n := range plan.CheckNames {
		if !Has(En, "plan_check."+strings.ReplaceAll(n, " ", "_")) {
			t.Errorf("check %q has no message", n)
		}
	}
	set, err := geofence.Default(geofence.Agency{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
	if err != nil {
		t.Fatal(err)
	}
	d := 0.003
	lat, lon := 32.55, -117.06
	area := orb.Polygon{{{lon - d, lat + d}, {lon + d, lat + d}, {lon + d, lat - d}, {lon - d, lat - d}, {lon - d, lat + d}}}
	home := plan.LatLon{Lat: 32.548, Lon: -117.0293}
	res, err := plan.Plan(set, plan.Request{Kind: plan.Coverage, Agency: "us-agency", Area: area, MaxLegM: 400, MaxTurnDeg: 180,
		Drones: []plan.Drone{{ID: "a", Home: home}, {ID: "b", Home: home}}, Endurance: 25 * time.Minute}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	checks := res.Checks
	for _, rt := range res.Routes {
		checks = append(checks, rt.Checks...)
	}
	for _, ch := range checks {
		seen[ch.Name] = true
		if got := PlanCheck(En, ch.Name, ch.Params, ch.Detail); got != ch.Detail {
			t.Errorf("%s: %q, detail %q", ch.Name, got, ch.Detail)
		}
		es := PlanCheck(Es, ch.Name, ch.Params, ch.Detail)
		if es == ch.Detail || strings.Contains(es, "{") {
			t.Errorf("%s in Spanish: %q", ch.Name, es)
		}
	}
	for _, n := range plan.CheckNames {
		if !seen[n] {
			t.Errorf("the plan made no %q check", n)
		}
	}
	if got := PlanCheck(Es, "margin", nil, "as it came"); got != "as it came" {
		t.Errorf("without parameters: %q", got)
	}
}
