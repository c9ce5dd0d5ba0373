package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

// An alert reaches the map's clients when it is raised and when it is
// acknowledged, without waiting for the hub's poll (an hour here: only the
// push can deliver it in time).
func TestAlertsArePushed(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AlertPoll = time.Hour })
	v := h.addDrone(1, baseLat, baseLon, true)
	h.waitHub(1)
	c := h.dial(h.Operator)
	c.send(map[string]any{"type": "subscribe", "events": true})
	if a := c.next("alerts", 5*time.Second); a["alerts"] == nil {
		t.Fatalf("alerts message without a list: %v", a)
	}
	start := time.Now()
	fleettest.Feed(h.Fleet, v, fleet.SysStatus{VoltageV: 14, CurrentA: 10, RemainingPct: 20})
	m := c.next("alert", 5*time.Second)
	a, _ := m["alert"].(map[string]any)
	ev, _ := a["event"].(map[string]any)
	if ev["kind"] != "low_battery" || ev["drone"] != "sysid-1" || a["acked"] == true {
		t.Fatalf("alert %v", m)
	}
	t.Logf("raised alert pushed in %s", time.Since(start))
	id, _ := a["id"].(string)
	if code, body := h.call("POST", "/api/alerts/"+url.PathEscape(id)+"/ack", h.Operator, ``); code != 200 {
		t.Fatalf("ack: %d %v", code, body)
	}
	acked := c.next("alert", 5*time.Second)
	if a, _ := acked["alert"].(map[string]any); a["id"] != id || a["acked"] != true || a["acked_by"] != "op-joint" {
		t.Fatalf("acknowledged alert %v", acked)
	}
}
