package geofence

import (
	"errors"
	"sync"
	"testing"
)

// TestStoreConcurrentReadsAndWrites runs readers against a Store while a
// writer adds and removes zones; run it with -race.
func TestStoreConcurrentReadsAndWrites(t *testing.T) {
	st := NewStore(MustDefault(t))
	n0 := st.Snapshot().Len()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := st.Snapshot()
				if n := s.Len(); n != n0 && n != n0+1 {
					t.Errorf("snapshot has %d zones", n)
					return
				}
				if ok, _, err := s.Allowed("cbp", sdNorth, t0); err != nil {
					t.Error(err)
					return
				} else if !ok && s.Len() == n0 {
					t.Error("refused without the extra zone")
					return
				}
			}
		}()
	}
	block := Zone{ID: "block", Kind: Exclusion, Jurisdiction: US, Center: sdNorth.orb(), RadiusM: 100}
	for i := 0; i < 50; i++ {
		if err := st.PutZone(block); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteZone("block"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if st.Snapshot().Len() != n0 {
		t.Fatal("zone count changed")
	}
}

func TestSetCopiesAndUpdates(t *testing.T) {
	zones := []Zone{square("a", Inclusion, US, 32, -111, 0.1)}
	s, err := NewSet(zones, []Agency{agencyUS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The Set owns its data: changing the caller's slice changes nothing.
	zones[0].Polygon[0][1][0] = 0
	got, _ := s.Zone("a")
	if got.Polygon[0][1][0] != -110.9 {
		t.Fatal("Set shares the caller's polygon")
	}
	got.Polygon[0][1][0] = 5
	again, _ := s.Zone("a")
	if again.Polygon[0][1][0] != -110.9 {
		t.Fatal("Zone returns shared memory")
	}
	if _, err := s.With(Zone{ID: "bad", Kind: "x"}); err == nil {
		t.Fatal("With accepted an invalid zone")
	}
	s2, err := s.WithAgency(Agency{ID: "gn", Jurisdictions: []Jurisdiction{MX}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Agency("gn"); ok {
		t.Fatal("WithAgency changed the original Set")
	}
	if a, ok := s2.Agency("gn"); !ok || !a.Authorised(MX) || a.Authorised(US) {
		t.Fatalf("agency %+v", a)
	}
	if _, err := s.Without("zz"); !errors.Is(err, ErrUnknownZone) {
		t.Fatalf("Without unknown: %v", err)
	}
	if _, err := NewSet([]Zone{zones[0], zones[0]}, nil, nil); err == nil {
		t.Fatal("duplicate ids accepted")
	}
}
