package store

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
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
	items          []fleet.MissionItem
	change         MissionChange
}

func putMission(b *bolt.Bucket, u missionUpdate) error {
	key := missionKey(u.drone, u.mission)
	var m storedMission
	if raw := b.Get(key); raw != nil {
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
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
		return err
	}
	return b.Put(key, data)
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
