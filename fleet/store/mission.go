package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// maxMissionChanges bounds a mission's stored status history.
const maxMissionChanges = 1000

// MissionRecord is a mission (or patrol) as uploaded to a drone, with its
// status history, as the Recorder stores it.
type MissionRecord struct {
	DroneID   string
	MissionID string
	// Uploaded is when the plan was uploaded (zero for a plan the fleet
	// learnt otherwise, for example downloaded after a restart).
	Uploaded time.Time
	// Items is the plan as uploaded (nil when not known).
	Items []fleet.MissionItem
	// Changes is its status history, oldest first (at most 1,000 kept):
	// started, paused, resumed, finished, interrupted.
	Changes []MissionChange
	// Updated is the time of the latest upload or change.
	Updated time.Time
}

// MissionChange is one change of a mission's status.
type MissionChange struct {
	At time.Time
	// Kind is the event's kind (app.KindMissionStarted, …).
	Kind string
	// Seq is the current item, when the event names one (-1 otherwise).
	Seq int
	// Reason and Mode are an interruption's.
	Reason, Mode string
}

// storedMission is MissionRecord on disk: the items in their binary form.
type storedMission struct {
	DroneID, MissionID string
	Uploaded, Updated  time.Time
	Items              []byte `json:",omitempty"`
	Changes            []MissionChange
}

func missionKey(drone, mission string) []byte {
	return []byte(drone + "\x00" + mission)
}

// missionUpdate is one write to a mission record: an upload (items set) or a
// status change.
type missionUpdate struct {
	drone, mission string
	at             time.Time
	upload         bool
	// adopted marks the start of a plan the fleet read from the vehicle
	// (after a restart): items is that plan, compared with the stored one.
	adopted bool
	items   []fleet.MissionItem
	change  MissionChange
}

// putMission applies u to the missions bucket b. For the start of an
// adopted plan not stored yet it stores the plan and returns the record of
// its comparison with the drone's last uploaded plan (nil if none).
func putMission(b *bolt.Bucket, u missionUpdate) (*app.EventRecord, error) {
	key := missionKey(u.drone, u.mission)
	var m storedMission
	raw := b.Get(key)
	if raw != nil {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
	}
	var report *app.EventRecord
	if u.adopted && raw == nil && len(u.items) > 0 {
		m.Items = appendItems(nil, u.items)
		var err error
		if report, err = resyncReport(b, u); err != nil {
			return nil, err
		}
	}
	m.DroneID, m.MissionID = u.drone, u.mission
	if u.upload {
		m.Uploaded, m.Items, m.Changes = u.at, appendItems(nil, u.items), nil
	} else {
		m.Changes = append(m.Changes, u.change)
		if len(m.Changes) > maxMissionChanges {
			m.Changes = m.Changes[len(m.Changes)-maxMissionChanges:]
		}
	}
	if u.at.After(m.Updated) {
		m.Updated = u.at
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return report, b.Put(key, data)
}

// KindMissionResynced is app.KindMissionResynced: the record of a plan the
// fleet read back from a vehicle compared with the drone's last upload.
const KindMissionResynced = app.KindMissionResynced

// resyncReport compares u's plan with the newest plan uploaded to its drone.
func resyncReport(b *bolt.Bucket, u missionUpdate) (*app.EventRecord, error) {
	prefix := []byte(u.drone + "\x00")
	var last storedMission
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var m storedMission
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, err
		}
		if !m.Uploaded.IsZero() && m.Uploaded.After(last.Uploaded) && len(m.Items) > 0 {
			last = m
		}
	}
	if last.MissionID == "" {
		return nil, nil
	}
	stored, err := decodeItems(last.Items)
	if err != nil {
		return nil, err
	}
	r := &app.EventRecord{At: u.at, DroneID: u.drone, Kind: KindMissionResynced, Severity: app.SevNotice,
		Params: map[string]string{"mission_id": u.mission, "stored_mission_id": last.MissionID, "same": "true"}}
	if diff := planDifference(stored, u.items); diff != "" {
		r.Severity = app.SevWarning
		r.Params["same"], r.Params["difference"] = "false", diff
	}
	return r, nil
}

// planDifference says how the vehicle's plan differs from the stored one
// ("" when it does not), as a vehicle stores plans: item 0's position
// (ArduPilot's home, rewritten) and frames are not compared.
func planDifference(stored, vehicle []fleet.MissionItem) string {
	if len(stored) != len(vehicle) {
		return fmt.Sprintf("the vehicle holds %d items, %d were uploaded", len(vehicle), len(stored))
	}
	near := func(x, y, tol float64) bool { return (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) <= tol }
	for i := range stored {
		a, v := stored[i], vehicle[i]
		same := a.Command == v.Command && near(a.Param1, v.Param1, 1e-3) && near(a.Param2, v.Param2, 1e-3) &&
			near(a.Param3, v.Param3, 1e-3) && near(a.Param4, v.Param4, 1e-3)
		if i > 0 {
			same = same && near(a.Lat, v.Lat, 1e-6) && near(a.Lon, v.Lon, 1e-6) && near(a.Alt, v.Alt, 0.01)
		}
		if !same {
			return fmt.Sprintf("item %d: uploaded command %d at %.7f,%.7f alt %.2f, the vehicle holds command %d at %.7f,%.7f alt %.2f",
				i, a.Command, a.Lat, a.Lon, a.Alt, v.Command, v.Lat, v.Lon, v.Alt)
		}
	}
	return ""
}

// Missions returns the missions stored for drone droneID ("" for every
// drone) updated in [from, to) (zero times: unbounded), oldest upload first.
func (db *DB) Missions(droneID string, from, to time.Time) ([]MissionRecord, error) {
	var out []MissionRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMissions).Cursor()
		prefix := []byte(droneID + "\x00")
		k, v := c.First()
		if droneID != "" {
			k, v = c.Seek(prefix)
		}
		for ; k != nil && (droneID == "" || strings.HasPrefix(string(k), string(prefix))); k, v = c.Next() {
			var m storedMission
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			if (!from.IsZero() && m.Updated.Before(from)) || (!to.IsZero() && !m.Updated.Before(to)) {
				continue
			}
			items, err := decodeItems(m.Items)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				items = nil
			}
			out = append(out, MissionRecord{DroneID: m.DroneID, MissionID: m.MissionID, Uploaded: m.Uploaded,
				Updated: m.Updated, Items: items, Changes: m.Changes})
		}
		return nil
	})
	if err != nil {
		return nil, internal("missions", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ta, tb := a.Uploaded, b.Uploaded
		if ta.IsZero() {
			ta = a.Updated
		}
		if tb.IsZero() {
			tb = b.Updated
		}
		return ta.Before(tb)
	})
	return out, nil
}
