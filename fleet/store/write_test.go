package store

import (
	"testing"
	"time"
)

// Points written in one transaction keep their own values: bbolt holds a
// Put's value until the commit, so reusing one buffer corrupted them.
func TestWriteBatchPointsDistinct(t *testing.T) {
	db := mustOpen(t, "", Options{})
	b := &batch{}
	modes := []string{"STABILIZE", "GUIDED", "AUTO", "RTL"}
	for i, m := range modes {
		p := samplePoint(t0.Add(time.Duration(i)*time.Second), i)
		p.Mode = m
		b.points = append(b.points, dronePoint{"alpha", p})
	}
	must(t, db.write(b))
	pts, err := db.Track("alpha", t0, t0.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != len(modes) {
		t.Fatalf("%d points", len(pts))
	}
	for i, p := range pts {
		if p.Mode != modes[i] || p.Lat != samplePoint(t0, i).Lat {
			t.Errorf("point %d: mode %q lat %v", i, p.Mode, p.Lat)
		}
	}
}
