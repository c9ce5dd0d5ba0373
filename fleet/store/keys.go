package store

import (
	"encoding/hex"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

var _ app.SigningKeyStore = (*DB)(nil)

// bucketSigningKeys holds the vehicles' MAVLink 2 signing keys (JSON by
// system id, the key in hex). It is setup: retention never trims it. Like
// the token hashes it is as safe as the file: keep the file readable by the
// server only. The bucket is made by the first PutSigningKey, so a file of
// schema 1 needs no migration.
var bucketSigningKeys = []byte("signing_keys")

type keyJSON struct {
	SysID     uint8     `json:"sys_id"`
	Key       string    `json:"key"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// PutSigningKey implements app.SigningKeyStore. Returns Invalid for system
// id 0.
func (db *DB) PutSigningKey(r app.SigningKeyRecord) error {
	if r.SysID == 0 {
		return fleet.Errorf(fleet.Invalid, "sys_id: 0 is not a vehicle")
	}
	data, err := json.Marshal(keyJSON{SysID: r.SysID, Key: hex.EncodeToString(r.Key[:]), Created: r.Created, CreatedBy: r.CreatedBy})
	if err != nil {
		return internal("encode signing key", err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSigningKeys)
		if err != nil {
			return err
		}
		return b.Put([]byte{r.SysID}, data)
	})
	if err != nil {
		return internal("put signing key", err)
	}
	return nil
}

// SigningKeys implements app.SigningKeyStore.
func (db *DB) SigningKeys() ([]app.SigningKeyRecord, error) {
	var out []app.SigningKeyRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSigningKeys)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var j keyJSON
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			k, err := fleet.ParseSigningKey(j.Key)
			if err != nil {
				return err
			}
			out = append(out, app.SigningKeyRecord{SysID: j.SysID, Key: k, Created: j.Created, CreatedBy: j.CreatedBy})
			return nil
		})
	})
	if err != nil {
		return nil, internal("read signing keys", err)
	}
	return out, nil
}

var _ fleet.SigningMarkStore = (*DB)(nil)

// bucketSigningMarks holds the MAVLink 2 signature timestamps' high-water
// marks (one JSON value under keySigningMarks), written by the transport at
// a bounded rate. Retention never trims it; made by the first write.
var (
	bucketSigningMarks = []byte("signing_marks")
	keySigningMarks    = []byte("marks")
)

type marksJSON struct {
	Out uint64           `json:"out"`
	In  map[uint8]uint64 `json:"in"`
}

// SigningMarks implements fleet.SigningMarkStore.
func (db *DB) SigningMarks() (fleet.SigningMarks, error) {
	var m marksJSON
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSigningMarks)
		if b == nil {
			return nil
		}
		v := b.Get(keySigningMarks)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &m)
	})
	if err != nil {
		return fleet.SigningMarks{}, internal("read signing marks", err)
	}
	return fleet.SigningMarks{Out: m.Out, In: m.In}, nil
}

// PutSigningMarks implements fleet.SigningMarkStore. A mark never goes
// back: each stored value becomes the larger of it and m's.
func (db *DB) PutSigningMarks(m fleet.SigningMarks) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSigningMarks)
		if err != nil {
			return err
		}
		var cur marksJSON
		if v := b.Get(keySigningMarks); v != nil {
			if err := json.Unmarshal(v, &cur); err != nil {
				return err
			}
		}
		if cur.In == nil {
			cur.In = make(map[uint8]uint64, len(m.In))
		}
		cur.Out = max(cur.Out, m.Out)
		for sys, ts := range m.In {
			cur.In[sys] = max(cur.In[sys], ts)
		}
		data, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		return b.Put(keySigningMarks, data)
	})
	if err != nil {
		return internal("put signing marks", err)
	}
	return nil
}
