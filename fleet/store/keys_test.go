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

// Signing marks outlive the file being closed and never go back.
func TestSigningMarksRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := mustOpen(t, path, Options{})
	if got, err := db.SigningMarks(); err != nil || got.Out != 0 || len(got.In) != 0 {
		t.Fatalf("empty file: %+v %v", got, err)
	}
	must(t, db.PutSigningMarks(fleet.SigningMarks{Out: 500, In: map[uint8]uint64{7: 100, 8: 200}}))
	// An older write does not lower them; a newer one raises them.
	must(t, db.PutSigningMarks(fleet.SigningMarks{Out: 400, In: map[uint8]uint64{7: 150, 8: 50, 9: 1}}))
	must(t, db.Close())
	db = mustOpen(t, path, Options{})
	got, err := db.SigningMarks()
	must(t, err)
	want := map[uint8]uint64{7: 150, 8: 200, 9: 1}
	if got.Out != 500 || len(got.In) != len(want) {
		t.Fatalf("after reopen: %+v", got)
	}
	for sys, ts := range want {
		if got.In[sys] != ts {
			t.Errorf("sys %d: %d, want %d", sys, got.In[sys], ts)
		}
	}
}
