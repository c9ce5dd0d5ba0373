package qgcplan

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: no input makes Decode, MissionItems, Zones or Encode panic,
// and what decodes re-encodes and decodes again.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.plan")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"fileType":"Plan","version":1,"mission":{"version":2,"items":[{"type":"SimpleItem","command":177,"params":[9,1,0,0,0,0,0]}]}}`))
	f.Add([]byte(`{"fileType":"Plan","version":1,"mission":{"version":2,"items":[{"type":"ComplexItem","complexItemType":"survey"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			return
		}
		_, _ = p.MissionItems()
		_, _ = p.Zones("f", "US")
		out, err := Encode(p)
		if err != nil {
			t.Fatalf("encode a decoded plan: %v", err)
		}
		if _, err := Decode(out); err != nil {
			t.Fatalf("decode an encoded plan: %v", err)
		}
	})
}
