package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

// maxIDLen bounds the ids used as keys.
const maxIDLen = 256

func checkID(what, id string) error {
	if id == "" || len(id) > maxIDLen {
		return fleet.Errorf(fleet.Invalid, "%s id: want 1 to %d bytes", what, maxIDLen)
	}
	return nil
}

// putJSON stores v as JSON under key in bucket.
func (db *DB) putJSON(bucket []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fleet.Errorf(fleet.Invalid, "encode %s %q: %v", bucket, key, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), data)
	})
	if err != nil {
		return internal("put "+string(bucket), err)
	}
	return nil
}

// getJSON reads key of bucket into v. Returns NotFound.
func (db *DB) getJSON(bucket []byte, what, key string, v any) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get([]byte(key))
		if data == nil {
			return fleet.Errorf(fleet.NotFound, "no %s %q", what, key)
		}
		return json.Unmarshal(data, v)
	})
	if err != nil {
		return internal("get "+string(bucket), err)
	}
	return nil
}

// allJSON decodes every value of bucket with decode.
func (db *DB) allJSON(bucket []byte, decode func(data []byte) error) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error { return decode(v) })
	})
	if err != nil {
		return internal("read "+string(bucket), err)
	}
	return nil
}

// PutToken creates or replaces a token. Returns Invalid for a bad id.
func (db *DB) PutToken(t app.Token) error {
	if err := checkID("token", t.ID); err != nil {
		return err
	}
	return db.putJSON(bucketTokens, t.ID, t)
}

// Token returns token id. Returns NotFound.
func (db *DB) Token(id string) (app.Token, error) {
	var t app.Token
	err := db.getJSON(bucketTokens, "token", id, &t)
	return t, err
}

// Tokens returns every token, revoked ones too, oldest first.
func (db *DB) Tokens() ([]app.Token, error) {
	var out []app.Token
	err := db.allJSON(bucketTokens, func(data []byte) error {
		var t app.Token
		err := json.Unmarshal(data, &t)
		out = append(out, t)
		return err
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// PutGrant creates or replaces a grant. Returns Invalid for a bad id.
func (db *DB) PutGrant(g app.Grant) error {
	if err := checkID("grant", g.ID); err != nil {
		return err
	}
	return db.putJSON(bucketGrants, g.ID, g)
}

// Grants returns every grant, revoked and expired ones too, oldest first.
func (db *DB) Grants() ([]app.Grant, error) {
	var out []app.Grant
	err := db.allJSON(bucketGrants, func(data []byte) error {
		var g app.Grant
		err := json.Unmarshal(data, &g)
		out = append(out, g)
		return err
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// PutDrone creates or replaces a drone's configuration. Returns Invalid
// for a bad id.
func (db *DB) PutDrone(c app.DroneConfig) error {
	if err := checkID("drone", c.ID); err != nil {
		return err
	}
	return db.putJSON(bucketDrones, c.ID, c)
}

// Drone returns drone id's configuration. Returns NotFound.
func (db *DB) Drone(id string) (app.DroneConfig, error) {
	var c app.DroneConfig
	err := db.getJSON(bucketDrones, "drone", id, &c)
	return c, err
}

// DeleteDrone removes drone id's configuration. Returns NotFound.
func (db *DB) DeleteDrone(id string) error {
	return db.deleteKey(bucketDrones, "drone", id)
}

// Drones returns every configured drone, by id.
func (db *DB) Drones() ([]app.DroneConfig, error) {
	var out []app.DroneConfig
	err := db.allJSON(bucketDrones, func(data []byte) error {
		var c app.DroneConfig
		err := json.Unmarshal(data, &c)
		out = append(out, c)
		return err
	})
	return out, err
}

// PutAgency creates or replaces an agency made at run time. Returns
// Invalid for a bad id or jurisdiction.
func (db *DB) PutAgency(a geofence.Agency) error {
	if err := checkID("agency", a.ID); err != nil {
		return err
	}
	for _, j := range a.Jurisdictions {
		if !j.Valid() {
			return fleet.Errorf(fleet.Invalid, "agency %q: unknown jurisdiction %q", a.ID, j)
		}
	}
	return db.putJSON(bucketAgencies, a.ID, a)
}

// Agencies returns the agencies made at run time, by id.
func (db *DB) Agencies() ([]geofence.Agency, error) {
	var out []geofence.Agency
	err := db.allJSON(bucketAgencies, func(data []byte) error {
		var a geofence.Agency
		err := json.Unmarshal(data, &a)
		out = append(out, a)
		return err
	})
	return out, err
}

// PutZone creates or replaces a zone made or imported at run time. It is
// stored as a GeoJSON feature in geofence's schema, and must read back:
// Returns Invalid (with geofence's validation message) otherwise.
func (db *DB) PutZone(z geofence.Zone) error {
	if err := checkID("zone", z.ID); err != nil {
		return err
	}
	data, err := geofence.EncodeGeoJSON([]geofence.Zone{z}, nil, nil)
	if err == nil {
		_, _, err = geofence.ParseGeoJSON(data, geofence.DefaultLimits())
	}
	if err != nil {
		return fleet.Errorf(fleet.Invalid, "zone %q: %v", z.ID, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketZones).Put([]byte(z.ID), data)
	})
	if err != nil {
		return internal("put zone", err)
	}
	return nil
}

// DeleteZone removes a zone made at run time. Returns NotFound.
func (db *DB) DeleteZone(id string) error {
	return db.deleteKey(bucketZones, "zone", id)
}

// Zones returns the zones made or imported at run time, by id.
func (db *DB) Zones() ([]geofence.Zone, error) {
	var out []geofence.Zone
	err := db.allJSON(bucketZones, func(data []byte) error {
		zs, _, err := geofence.ParseGeoJSON(data, geofence.DefaultLimits())
		if err != nil {
			return fmt.Errorf("stored zone: %w", err)
		}
		out = append(out, zs...)
		return nil
	})
	return out, err
}

func (db *DB) deleteKey(bucket []byte, what, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get([]byte(id)) == nil {
			return fleet.Errorf(fleet.NotFound, "no %s %q", what, id)
		}
		return b.Delete([]byte(id))
	})
	var fe *fleet.Error
	if errors.As(err, &fe) {
		return fe
	}
	if err != nil {
		return internal("delete "+what, err)
	}
	return nil
}
