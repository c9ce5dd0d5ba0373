package app

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Event kinds: the stable machine codes of the events people read. The UI,
// ctl and storage render and keep these codes with their Params; they never
// change meaning.
const (
	KindDroneDiscovered    = "drone_discovered"
	KindLinkLost           = "link_lost"
	KindLinkRegained       = "link_regained"
	KindVehicleRebooted    = "vehicle_rebooted"
	KindStatusText         = "status_text"
	KindArmed              = "armed"
	KindDisarmed           = "disarmed"
	KindModeChanged        = "mode_changed"
	KindTookOff            = "took_off"
	KindLanded             = "landed"
	KindSystemStatus       = "system_status"
	KindFailsafe           = "failsafe"
	KindVehicleFence       = "vehicle_fence"
	KindCommandResult      = "command_result"
	KindMissionUploaded    = "mission_uploaded"
	KindMissionStarted     = "mission_started"
	KindMissionProgress    = "mission_progress"
	KindMissionItemReached = "mission_item_reached"
	KindMissionPaused      = "mission_paused"
	KindMissionResumed     = "mission_resumed"
	KindMissionFinished    = "mission_finished"
	KindMissionInterrupted = "mission_interrupted"
	KindMissionMismatch    = "mission_mismatch"
	KindZoneState          = "zone_state"
	KindZoneApproaching    = "zone_approaching"
	KindZoneBreached       = "zone_breached"
	KindZoneBackInside     = "zone_back_inside"
	KindZoneResponse       = "zone_response"
	KindOperatorAction     = "operator_action"
	KindGrantChanged       = "grant_changed"
	KindMissed             = "missed"
	KindIdentityClaimed    = "identity_claimed"
	KindSecurityAlert      = "security_alert"
	KindPatrolChanged      = "patrol_changed"
	KindPatrolConformance  = "patrol_conformance"
)

// Kinds of the records the store writes about itself (fleet/store's
// Recorder), not produced by EventRecordOf.
const (
	// KindRecordingDropped says the recorder dropped points or events
	// because the disk did not keep up (params "points", "events": the
	// numbers dropped since the previous such record).
	KindRecordingDropped = "recording_dropped"
	// KindMissionResynced is the record of a plan the fleet read back from
	// a vehicle (after a restart) compared with the drone's last uploaded
	// plan: params "mission_id" (the plan read), "stored_mission_id",
	// "same" (true or false) and, when they differ, "difference".
	KindMissionResynced = "mission_resynced"
	// KindRecordingStopped says recording stopped because a commit failed
	// (disk full, file read-only): params "err" and "path". Telemetry and
	// events are no longer stored; the fleet goes on. EventRecordOf makes
	// it of fleet.RecordingStopped, and it raises an alert.
	KindRecordingStopped = "recording_stopped"
)

// EventKinds lists every kind of event record: those EventRecordOf
// produces and the store's own.
var EventKinds = []string{
	KindDroneDiscovered, KindLinkLost, KindLinkRegained, KindVehicleRebooted, KindStatusText,
	KindArmed, KindDisarmed, KindModeChanged, KindTookOff, KindLanded, KindSystemStatus,
	KindFailsafe, KindVehicleFence, KindCommandResult, KindMissionUploaded, KindMissionStarted,
	KindMissionProgress, KindMissionItemReached, KindMissionPaused, KindMissionResumed,
	KindMissionFinished, KindMissionInterrupted, KindMissionMismatch, KindZoneState, KindZoneApproaching,
	KindZoneBreached, KindZoneBackInside, KindZoneResponse, KindOperatorAction, KindGrantChanged,
	KindMissed, KindPatrolChanged, KindPatrolConformance, KindIdentityClaimed, KindSecurityAlert,
	KindRecordingDropped, KindMissionResynced, KindRecordingStopped,
}

// Severities used for events (MAV_SEVERITY numbering).
const (
	SevEmergency uint8 = 0
	SevAlert     uint8 = 1
	SevCritical  uint8 = 2
	SevError     uint8 = 3
	SevWarning   uint8 = 4
	SevNotice    uint8 = 5
	SevInfo      uint8 = 6
	SevDebug     uint8 = 7
)

// EventRecordOf describes a discrete fleet event as a record: its kind, its
// severity and its parameters. ok is false for StateChanged, which is state,
// not an event. agency is the drone's agency, when the caller knows it (""
// otherwise; zone events carry their own).
func EventRecordOf(e fleet.Event, agency string) (rec EventRecord, ok bool) {
	r := EventRecord{DroneID: fleet.EventDrone(e), Agency: agency, Severity: SevInfo, Params: map[string]string{}}
	p := r.Params
	switch e := e.(type) {
	case fleet.StateChanged:
		return EventRecord{}, false
	case fleet.DroneDiscovered:
		r.Kind, r.At, r.Agency = KindDroneDiscovered, e.Drone.Discovered, e.Drone.Agency
		p["link"], p["sys_id"] = e.Drone.Link, strconv.Itoa(int(e.Drone.SysID))
	case fleet.LinkLost:
		r.Kind, r.At, r.Severity = KindLinkLost, e.At, SevWarning
		p["last_heartbeat"] = rfc3339(e.LastHeartbeat)
	case fleet.LinkRegained:
		r.Kind, r.At, r.Severity = KindLinkRegained, e.At, SevNotice
		p["link"], p["down_s"] = e.Link, num(e.Down.Seconds())
	case fleet.VehicleRebooted:
		r.Kind, r.At, r.Severity = KindVehicleRebooted, e.At, SevWarning
	case fleet.StatusTextEvent:
		r.Kind, r.At, r.Severity = KindStatusText, e.At, e.Severity
		p["text"] = e.Text
	case fleet.Armed:
		r.Kind, r.At = KindArmed, e.At
	case fleet.Disarmed:
		r.Kind, r.At = KindDisarmed, e.At
	case fleet.ModeChanged:
		r.Kind, r.At = KindModeChanged, e.At
		p["from"], p["to"], p["commanded"] = e.From, e.To, strconv.FormatBool(e.Commanded)
	case fleet.TookOff:
		r.Kind, r.At = KindTookOff, e.At
	case fleet.Landed:
		r.Kind, r.At = KindLanded, e.At
	case fleet.SystemStatusChanged:
		r.Kind, r.At = KindSystemStatus, e.At
		p["from"], p["to"] = fleet.SystemStatusName(e.From), fleet.SystemStatusName(e.To)
		if e.To >= 5 {
			r.Severity = SevCritical
		}
	case fleet.Failsafe:
		r.Kind, r.At, r.Severity = KindFailsafe, e.At, SevCritical
		p["failsafe"], p["mode"], p["text"] = string(e.Kind), e.Mode, e.Text
	case fleet.VehicleFenceChanged:
		r.Kind, r.At = KindVehicleFence, e.At
		p["breached"], p["count"] = strconv.FormatBool(e.Fence.Breached), strconv.Itoa(e.Fence.Count)
		if e.Fence.Breached {
			r.Severity = SevCritical
		}
	case fleet.CommandResult:
		r.Kind, r.At = KindCommandResult, e.At
		p["command"], p["code"], p["message"] = e.Command, string(e.Code), e.Message
		if e.Code != "" {
			r.Severity = SevWarning
		}
	case fleet.MissionUploaded:
		r.Kind, r.At = KindMissionUploaded, e.At
		p["mission_id"], p["type"], p["items"] = e.MissionID, e.Type.String(), strconv.Itoa(e.Items)
	case fleet.MissionStarted:
		r.Kind, r.At = KindMissionStarted, e.At
		p["mission_id"] = e.MissionID
	case fleet.MissionProgress:
		r.Kind, r.At, r.Severity = KindMissionProgress, e.At, SevDebug
		p["mission_id"], p["state"] = e.Status.MissionID, e.Status.State.String()
		p["seq"], p["percent"] = strconv.Itoa(e.Status.CurrentSeq), num(e.Status.Percent)
	case fleet.MissionItemReachedEvent:
		r.Kind, r.At = KindMissionItemReached, e.At
		p["mission_id"], p["seq"] = e.MissionID, strconv.Itoa(e.Seq)
	case fleet.MissionPaused:
		r.Kind, r.At = KindMissionPaused, e.At
		p["mission_id"], p["seq"] = e.MissionID, strconv.Itoa(e.Seq)
	case fleet.MissionResumed:
		r.Kind, r.At = KindMissionResumed, e.At
		p["mission_id"], p["seq"] = e.MissionID, strconv.Itoa(e.Seq)
	case fleet.MissionFinished:
		r.Kind, r.At, r.Severity = KindMissionFinished, e.At, SevNotice
		p["mission_id"] = e.MissionID
	case fleet.MissionInterrupted:
		r.Kind, r.At, r.Severity = KindMissionInterrupted, e.At, SevWarning
		p["mission_id"], p["reason"], p["mode"], p["seq"] = e.MissionID, string(e.Reason), e.Mode, strconv.Itoa(e.Seq)
	case fleet.MissionMismatch:
		r.Kind, r.At, r.Severity = KindMissionMismatch, e.At, SevWarning
		p["mission_id"], p["new_mission_id"], p["seq"] = e.MissionID, e.NewMissionID, strconv.Itoa(e.Seq)
		if d := e.Detail; d.Code != "" {
			p["diff"], p["want"], p["got"] = string(d.Code), d.Want, d.Got
			if d.Code == fleet.DiffParam {
				p["param"] = strconv.Itoa(d.Param)
			}
		}
	case fleet.ZoneStateChanged:
		r.At, r.Agency = e.At, e.Agency
		switch {
		case e.To == fleet.ZoneBreached:
			r.Kind, r.Severity = KindZoneBreached, SevCritical
		case e.BackInside():
			r.Kind, r.Severity = KindZoneBackInside, SevNotice
		case e.To == fleet.ZoneApproaching:
			r.Kind, r.Severity = KindZoneApproaching, SevWarning
		default:
			r.Kind, r.Severity = KindZoneState, SevDebug
		}
		p["from"], p["to"], p["zone_id"], p["zone_name"] = e.From.String(), e.To.String(), e.ZoneID, e.ZoneName
		p["lat"], p["lon"], p["rel_alt_m"] = num(e.Position.Lat), num(e.Position.Lon), num(e.Position.RelAlt)
		if !math.IsInf(e.BoundaryM, 0) && !math.IsNaN(e.BoundaryM) {
			p["boundary_m"] = num(e.BoundaryM)
		}
		if e.Violation != nil {
			p["reason"] = string(e.Violation.Reason)
		}
		if e.TimeToBreach >= 0 {
			p["time_to_breach_s"] = num(e.TimeToBreach.Seconds())
		}
	case fleet.ZoneResponse:
		r.Kind, r.At, r.Severity = KindZoneResponse, e.At, SevWarning
		p["zone_id"], p["zone_name"], p["action"], p["skipped"] = e.ZoneID, e.ZoneName, string(e.Action), e.Skipped
		p["code"], p["message"] = string(e.Code), e.Message
		if e.ByVehicle {
			p["by_vehicle"] = "true"
		}
	case fleet.OperatorAction:
		r.Kind, r.At = KindOperatorAction, e.At
		if r.Agency == "" {
			r.Agency = e.Agency
		}
		p["actor"], p["role"], p["actor_agency"], p["action"] = e.Actor, e.Role, e.Agency, e.Action
		p["summary"], p["code"], p["message"] = e.Summary, string(e.Code), e.Message
		if e.Code != "" {
			r.Severity = SevWarning
		}
	case fleet.GrantChanged:
		r.Kind, r.At, r.Severity = KindGrantChanged, e.At, SevNotice
		p["grant_id"], p["from"], p["to"], p["until"] = e.GrantID, e.From, e.To, rfc3339(e.Until)
		p["drones"], p["active"], p["by"] = strings.Join(e.Drones, ","), strconv.FormatBool(e.Active), e.By
	case fleet.IdentityClaimed:
		r.Kind, r.At, r.Severity = KindIdentityClaimed, e.At, SevAlert
		p["link"], p["claimed_by"], p["sys_id"] = e.Link, e.ClaimedBy, strconv.Itoa(int(e.SysID))
		p["resolution"], p["new_drone_id"], p["proven_by"] = string(e.Resolution), e.NewDroneID, e.ProvenBy
		if e.Resolution == fleet.ClaimMoved {
			r.Severity = SevNotice
		}
	case fleet.SecurityAlert:
		r.Kind, r.At, r.Severity = KindSecurityAlert, e.At, SevAlert
		p["kind"], p["link"], p["count"], p["detail"] = string(e.Kind), e.Link, strconv.FormatUint(e.Count, 10), e.Detail
	case fleet.PatrolChanged:
		r.Kind, r.At, r.Severity = KindPatrolChanged, e.At, SevNotice
		if r.Agency == "" {
			r.Agency = e.Agency
		}
		p["patrol_id"], p["mission_id"], p["change"], p["message"] = e.PatrolID, e.MissionID, string(e.Change), e.Message
		p["start"], p["end"] = rfc3339(e.Start), rfc3339(e.End)
		if e.Change == fleet.PatrolInterrupted || e.Change == fleet.PatrolFailed || e.Change == fleet.PatrolExtendRefused {
			r.Severity = SevWarning
		}
	case fleet.PatrolConformance:
		r.Kind, r.At, r.Severity = KindPatrolConformance, e.At, SevNotice
		if r.Agency == "" {
			r.Agency = e.Agency
		}
		p["patrol_id"], p["inside"], p["reason"] = e.PatrolID, strconv.FormatBool(e.Inside), e.Reason
		p["lat"], p["lon"], p["rel_alt_m"] = num(e.Position.Lat), num(e.Position.Lon), num(e.Position.RelAlt)
		if !e.Inside {
			r.Severity = SevWarning
			p["by_m"] = num(e.ByM)
		}
	case fleet.RecordingStopped:
		r.Kind, r.At, r.Severity = KindRecordingStopped, e.At, SevCritical
		p["err"], p["path"] = e.Err, e.Path
	case fleet.Missed:
		r.Kind, r.Severity = KindMissed, SevWarning
		p["n"] = strconv.FormatUint(e.N, 10)
	default:
		return EventRecord{}, false
	}
	for k, v := range p {
		if v == "" {
			delete(p, k)
		}
	}
	return r, true
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
