package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSimplifyWithinTolerance checks the simplified boundary against every
// one of the source's 39,665 vertices.
func TestSimplifyWithinTolerance(t *testing.T) {
	full, _, err := ReadBoundary(filepath.Join("source", "us-mx-boundary.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 39665 {
		t.Fatalf("source has %d vertices", len(full))
	}
	simple := Simplify(full, DefaultToleranceM)
	if dev := MaxDeviation(full, simple); dev > DefaultToleranceM {
		t.Fatalf("max deviation %.1f m over the %.0f m tolerance", dev, DefaultToleranceM)
	}
	if len(simple) > len(full)/5 {
		t.Fatalf("simplified to %d vertices only", len(simple))
	}
	// Independent check on a sample: the distance from source vertices to the
	// nearest segment anywhere on the simplified line.
	for i := 0; i < len(full); i += 397 {
		if d := DistanceToLine(simple, full[i]); d > DefaultToleranceM {
			t.Fatalf("source vertex %d is %.1f m from the simplified line", i, d)
		}
	}
}

// TestGeneratedFileIsCurrent regenerates the dataset and compares it with
// the embedded file: the generator is deterministic and the file up to date.
func TestGeneratedFileIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates the dataset")
	}
	out := filepath.Join(t.TempDir(), "default.geojson")
	if err := Run(Config{SourceDir: "source", Out: out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "data", "default.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("data/default.geojson is stale: run `cd geofence && go run ./internal/gendata`")
	}
}
