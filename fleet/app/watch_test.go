package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	ft "github.com/centinela-gcs/centinela/fleet/fleettest"
)

// TestWatchSnapshotEventsAndRateCap: a watch starts with every drone's
// state, caps each drone's state rate (latest wins), and passes the events
// of its kinds and agency.
func TestWatchSnapshotEventsAndRateCap(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	w, err := e.s.Watch(c, e.who["sup"], app.WatchOptions{Agency: agUS, Snapshot: true, MaxRateHz: 5,
		Kinds: []string{app.KindStatusText, app.KindOperatorAction}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	seen := map[string]bool{}
	for len(seen) < 2 {
		it, err := w.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if it.State == nil {
			continue
		}
		if it.State.Agency != agUS {
			t.Fatalf("state of %s (%s) passed the agency filter", it.State.ID, it.State.Agency)
		}
		seen[it.State.ID] = true
	}
	// 100 positions of us-1 in a burst: at 5 Hz only a few states get out
	// in 600 ms, and the last one carries the last position.
	v := e.vehicles["us-1"]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 100; i++ {
			ft.Feed(e.f, v, ft.Position(time.Duration(i)*time.Millisecond+2*time.Second, posUS.Lat+float64(i)*1e-5, posUS.Lon, 50))
			time.Sleep(3 * time.Millisecond)
		}
		ft.Feed(e.f, e.vehicles["mx-1"], fleet.StatusText{Severity: 4, Text: "mx text"})
		ft.Feed(e.f, v, fleet.StatusText{Severity: 4, Text: "PreArm: test"})
	}()
	defer func() { <-done }()
	var states int
	var lastLat float64
	var texts []string
	wctx, cancel := context.WithTimeout(c, 900*time.Millisecond)
	defer cancel()
	for {
		it, err := w.Next(wctx)
		if err != nil {
			break
		}
		switch {
		case it.State != nil && it.State.ID == "us-1":
			states++
			lastLat = it.State.Position.Lat
		case it.Event != nil:
			if it.Event.Kind != app.KindStatusText {
				t.Errorf("event kind %s passed the kind filter", it.Event.Kind)
			}
			texts = append(texts, it.Event.Params["text"])
		}
	}
	if states < 1 || states > 6 {
		t.Errorf("%d states of us-1 in 900 ms at 5 Hz", states)
	}
	if want := posUS.Lat + 100e-5; lastLat < want-1e-9 || lastLat > want+1e-9 {
		t.Errorf("last state at lat %.6f, want the latest %.6f", lastLat, want)
	}
	if len(texts) != 1 || texts[0] != "PreArm: test" {
		t.Errorf("texts %q, want only us-1's", texts)
	}
	if w.Coalesced() == 0 {
		t.Errorf("no state was coalesced")
	}
	w.Close()
	if _, err := w.Next(c); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestAlertsAndAck(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	ft.Feed(e.f, e.vehicles["us-1"], fleet.SysStatus{VoltageV: 14, CurrentA: 10, RemainingPct: 20})
	var alerts []app.Alert
	deadline := time.Now().Add(3 * time.Second)
	for len(alerts) == 0 && time.Now().Before(deadline) {
		alerts, _ = e.s.Alerts(c, e.who["sup"])
		time.Sleep(5 * time.Millisecond)
	}
	if len(alerts) != 1 || alerts[0].Kind != app.KindLowBattery || alerts[0].DroneID != "us-1" || alerts[0].Acked {
		t.Fatalf("alerts %+v", alerts)
	}
	if _, err := e.s.AckAlert(c, e.who["sup"], alerts[0].ID); fleet.ErrorCode(err) != fleet.Forbidden {
		t.Errorf("supervisor ack: %v", err)
	}
	a, err := e.s.AckAlert(c, e.who["op-mx"], alerts[0].ID)
	if err != nil || !a.Acked || a.AckedBy != "op-mx" {
		t.Fatalf("ack: %+v %v", a, err)
	}
	if _, err := e.s.AckAlert(c, e.who["op-us"], alerts[0].ID); fleet.ErrorCode(err) != fleet.Conflict {
		t.Errorf("second ack: %v", err)
	}
	if _, err := e.s.AckAlert(c, e.who["op-us"], "nope"); fleet.ErrorCode(err) != fleet.NotFound {
		t.Errorf("unknown alert: %v", err)
	}
	after, _ := e.s.Alerts(c, e.who["op-us"])
	if !after[0].Acked {
		t.Errorf("ack not seen by another operator")
	}
	audit, _ := e.s.Audit(c, e.who["admin"], app.AuditQuery{})
	found := false
	for _, en := range audit {
		if en.Action == "Alerts.Ack" && en.Label == "op-mx" && en.Code == "" {
			found = true
		}
	}
	if !found {
		t.Errorf("ack not audited: %+v", audit)
	}
}

// A watch with Alerts delivers each alert as it is raised (the recording
// stopping, a drone's low battery) and when it is acknowledged; one
// without does not.
func TestWatchDeliversAlerts(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	w, err := e.s.Watch(c, e.who["sup"], app.WatchOptions{Alerts: true, NoState: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	plain, err := e.s.Watch(c, e.who["sup"], app.WatchOptions{NoState: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	next := func(w *app.Watcher) *app.Alert {
		for {
			it, err := w.Next(c)
			if err != nil {
				t.Fatalf("no alert: %v", err)
			}
			if it.Alert != nil {
				return it.Alert
			}
			if it.Event != nil && it.Event.Kind == app.KindRecordingStopped && w == plain {
				return nil
			}
		}
	}
	e.f.Publish(fleet.RecordingStopped{At: epoch, Err: "write c.db: no space left on device", Path: "/var/lib/centinela/c.db"})
	a := next(w)
	if a.Kind != app.KindRecordingStopped || a.Severity != app.SevCritical || a.Params["err"] != "write c.db: no space left on device" || a.Acked {
		t.Fatalf("alert %+v", a)
	}
	if got := next(plain); got != nil {
		t.Fatalf("a watch without Alerts delivered %+v", got)
	}
	if _, err := e.s.AckAlert(c, e.who["admin"], a.ID); err != nil {
		t.Fatal(err)
	}
	if acked := next(w); acked.ID != a.ID || !acked.Acked || acked.AckedBy != "admin" {
		t.Fatalf("acknowledged %+v", acked)
	}
}
