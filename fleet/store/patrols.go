package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

var _ app.PatrolStore = (*DB)(nil)

// bucketPatrols holds the dispatched patrols (app.PatrolRecord as JSON, by
// patrol id). It is setup, not history: retention never trims it; the
// application layer deletes the ended patrols it stops keeping
// (app.MaxEndedPatrols). The bucket is made by the first PutPatrol, so a
// file of schema 1 needs no migration, and a build that does not know it
// ignores it.
var bucketPatrols = []byte("patrols")

// PutPatrol creates or replaces patrol r.ID. Returns Invalid for a bad id.
func (db *DB) PutPatrol(r app.PatrolRecord) error {
	if err := checkID("patrol", r.ID); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fleet.Errorf(fleet.Invalid, "encode patrol %q: %v", r.ID, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPatrols)
		if err != nil {
			return err
		}
		return b.Put([]byte(r.ID), data)
	})
	if err != nil {
		return internal("put patrol", err)
	}
	return nil
}

// DeletePatrol removes patrol id (nothing when it is not stored).
func (db *DB) DeletePatrol(id string) error {
	if err := checkID("patrol", id); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPatrols)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return internal("delete patrol", err)
	}
	return nil
}

// Patrols returns every stored patrol, by id.
func (db *DB) Patrols() ([]app.PatrolRecord, error) {
	var out []app.PatrolRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPatrols)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var r app.PatrolRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, internal("read patrols", err)
	}
	return out, nil
}
