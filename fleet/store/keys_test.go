package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

func TestSigningKeysRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db := mustOpen(t, path, Options{})
	if got, err := db.SigningKeys(); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %v %v", got, err)
	}
	k, err := fleet.NewSigningKey()
	must(t, err)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	must(t, db.PutSigningKey(app.SigningKeyRecord{SysID: 9, Key: k, Created: at, CreatedBy: "root"}))
	if err := db.PutSigningKey(app.SigningKeyRecord{SysID: 0, Key: k}); fleet.ErrorCode(err) != fleet.Invalid {
		t.Errorf("sys_id 0: %v", err)
	}
	must(t, db.Close())
	db = mustOpen(t, path, Options{})
	got, err := db.SigningKeys()
	must(t, err)
	if len(got) != 1 || got[0].SysID != 9 || got[0].Key != k || !got[0].Created.Equal(at) || got[0].CreatedBy != "root" {
		t.Fatalf("after reopen: %+v", got)
	}
}
