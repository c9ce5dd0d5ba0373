package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// KindLowBattery is the alert kind of a drone whose battery fell to
// LowBatteryPct or below (an alert, not a fleet event).
const KindLowBattery = "low_battery"

// Battery levels of the low-battery alert: raised at LowBatteryPct, armed
// again above LowBatteryClearPct.
const (
	LowBatteryPct      = 25
	LowBatteryClearPct = 30
)

// alertKinds are the event kinds that raise an alert on the map.
var alertKinds = []string{KindZoneApproaching, KindZoneBreached, KindLinkLost, KindFailsafe,
	KindVehicleFence, KindCommandResult, KindZoneResponse, KindMissionInterrupted, KindLowBattery, KindRecordingStopped}

// Alert is something an operator must see: highlighted until acknowledged.
type Alert struct {
	// ID is stable: drone, kind and time.
	ID string
	EventRecord
	// Acked is set once someone acknowledged it; AckedBy and AckedAt say who
	// and when.
	Acked   bool
	AckedBy string
	AckedAt time.Time
}

// noteAlert turns fleet events into alerts. Called from the Service's own
// goroutine only.
func (s *Service) noteAlert(ev fleet.Event) {
	var rec EventRecord
	switch e := ev.(type) {
	case fleet.StateChanged:
		s.noteState(&e.Drone)
		return
	default:
		var ok bool
		if rec, ok = EventRecordOf(ev, ""); !ok || !slices.Contains(alertKinds, rec.Kind) {
			return
		}
	}
	switch rec.Kind {
	case KindCommandResult:
		if rec.Params["code"] == "" {
			return
		}
		rec.Severity = SevWarning
	case KindVehicleFence:
		if rec.Params["breached"] != "true" {
			return
		}
	case KindZoneResponse:
		if rec.Params["action"] == "warn" {
			return
		}
	}
	if rec.Agency == "" && rec.DroneID != "" {
		if st, err := s.Fleet.Drone(rec.DroneID); err == nil {
			rec.Agency = st.Agency
		}
	}
	s.addAlert(rec)
}

// noteState raises a low-battery alert when d's state calls for one.
// Called from the Service's own goroutine only.
func (s *Service) noteState(d *fleet.DroneState) {
	if rec, ok := s.lowBattery(d); ok {
		s.addAlert(rec)
	}
}

// lowBattery returns a low-battery alert the first time d's battery falls
// to LowBatteryPct, and re-arms above LowBatteryClearPct.
func (s *Service) lowBattery(d *fleet.DroneState) (EventRecord, bool) {
	pct := d.Battery.RemainingPct
	if pct < 0 {
		return EventRecord{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lowBatt == nil {
		s.lowBatt = make(map[string]bool)
	}
	if pct > LowBatteryClearPct {
		delete(s.lowBatt, d.ID)
		return EventRecord{}, false
	}
	if pct > LowBatteryPct || s.lowBatt[d.ID] {
		return EventRecord{}, false
	}
	s.lowBatt[d.ID] = true
	return EventRecord{At: d.LastSeen, DroneID: d.ID, Agency: d.Agency, Kind: KindLowBattery, Severity: SevWarning,
		Params: map[string]string{"battery_pct": fmt.Sprint(pct)}}, true
}

func (s *Service) addAlert(rec EventRecord) {
	if rec.At.IsZero() {
		rec.At = s.Now()
	}
	a := Alert{ID: fmt.Sprintf("%s.%s.%d", rec.DroneID, rec.Kind, rec.At.UnixNano()), EventRecord: rec}
	if s.keepAlert(a) {
		// Readers (the map) learn of it at once; Publish never blocks.
		s.Fleet.Publish(fleet.AlertChanged{At: s.Now(), AlertID: a.ID, DroneID: a.DroneID})
	}
}

// keepAlert adds a, false when it is already kept.
func (s *Service) keepAlert(a Alert) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.alertIdx[a.ID]; dup {
		return false
	}
	if len(s.alerts) >= s.MaxAlerts {
		drop := len(s.alerts) - s.MaxAlerts + 1
		for _, old := range s.alerts[:drop] {
			delete(s.alertIdx, old.ID)
		}
		s.alerts = slices.Delete(s.alerts, 0, drop)
		for i, x := range s.alerts {
			s.alertIdx[x.ID] = i
		}
	}
	s.alertIdx[a.ID] = len(s.alerts)
	s.alerts = append(s.alerts, a)
	return true
}

// alert returns alert id (a copy), false when it is not (or no longer)
// kept.
func (s *Service) alert(id string) (Alert, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.alertIdx[id]
	if !ok {
		return Alert{}, false
	}
	a := s.alerts[i]
	a.Params = cloneParams(a.Params)
	return a, true
}

// Alerts returns the recent alerts, oldest first (any role).
func (s *Service) Alerts(_ context.Context, p Principal) ([]Alert, error) {
	if err := s.authorize(p, accessRead, nil); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := slices.Clone(s.alerts)
	for i := range out {
		out[i].Params = cloneParams(out[i].Params)
	}
	return out, nil
}

func cloneParams(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// AckAlert acknowledges alert id for everyone (operators and admins). The
// acknowledgement is audited and published as an OperatorAction
// ("Alerts.Ack", summary "alert_id=…"). Returns NotFound, Conflict when
// already acknowledged.
func (s *Service) AckAlert(_ context.Context, p Principal, id string) (Alert, error) {
	err := s.authorize(p, accessRead, nil)
	if err == nil && p.Role == RoleSupervisor {
		err = fleet.Errorf(fleet.Forbidden, "a supervisor watches; operators and admins acknowledge alerts")
	}
	if err == nil {
		err = checkID("alert_id", id)
	}
	var a Alert
	if err == nil {
		s.mu.Lock()
		i, ok := s.alertIdx[id]
		switch {
		case !ok:
			err = fleet.Errorf(fleet.NotFound, "alert_id: no alert %q", id)
		case s.alerts[i].Acked:
			err = fleet.Errorf(fleet.Conflict, "alert %s was acknowledged by %s", id, s.alerts[i].AckedBy)
		default:
			s.alerts[i].Acked, s.alerts[i].AckedBy, s.alerts[i].AckedAt = true, p.Label, s.Now().UTC()
			a = s.alerts[i]
			a.Params = cloneParams(a.Params)
		}
		s.mu.Unlock()
	}
	s.audit(p, "Alerts.Ack", a.DroneID, a.Agency, "alert_id="+id, err)
	if err == nil {
		s.Fleet.Publish(fleet.AlertChanged{At: a.AckedAt, AlertID: a.ID, DroneID: a.DroneID, Acked: true})
	}
	return a, err
}
