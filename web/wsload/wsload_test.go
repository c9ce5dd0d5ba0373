package wsload

import (
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/web"
)

// TestTake: messages of both protocols are counted (full objects,
// compact entries and status entries) and the probe's latitudes found,
// from its full object and, in protocol 2, from its compact entries by the
// index its full object gave (never from a status entry, which starts with
// the index too); other messages are not counted.
func TestTake(t *testing.T) {
	full := func(id string, lat string, ix string) string {
		s := `{"id":"` + id + `","name":"n","has_position":true,"lat":` + lat + `,"lon":-117.03,"battery":{"pct":80},"mission":{"state":"none"}`
		if ix != "" {
			s += `,"ix":` + ix
		}
		return s + "}"
	}
	for _, tc := range []struct {
		name          string
		proto         int
		msgs          []string
		full, compact uint64
		tel           uint64
		lats          []float64
		drones        int
	}{
		{"protocol 1", web.ProtocolV1, []string{
			`{"type":"hello","protocol":1}`,
			`{"type":"snapshot","drones":[` + full("a", "32.1", "") + `,` + full("probe", "32.6", "") + `]}`,
			`{"type":"states","drones":[` + full("probe", "32.600001", "") + `]}`,
			`{"type":"event","event":{"drone":"probe","lat":"32.7"}}`,
		}, 3, 0, 0, []float64{32.6, 32.600001}, 2},
		{"protocol 2", web.ProtocolV2, []string{
			`{"type":"snapshot","drones":[` + full("a", "32.1", "0") + `,` + full("probe", "32.6", "1") + `],"pos":[],"tel":[]}`,
			`{"type":"states","drones":[],"pos":[[0,32.1,-117.03,30,50,null,0,0,1764630000123],[1,32.600002,-117.03,30,50,271.5,9.8,0,1764630000123,37.5,820,84]],"tel":[]}`,
			`{"type":"states","drones":[` + full("a", "32.2", "0") + `],"pos":[[10,32.9,-117,1,1,1,1,1,1],[1,32.600003,-117.03,30,50,null,0,0,1764630000223]],"tel":[[10,80,12.1,14.2,3,10,0.7,47.3,0.1,3]]}`,
			`{"type":"states","drones":[],"pos":[[11,32.9,-117,1,1,1,1,1,1]],"tel":[[11,80,12.1,14.2,3,10,null,47.3,0.1,3]]}`,
			// The probe's status entry alone: no latitude in it (1.5 would be
			// its battery level taken for one).
			`{"type":"states","drones":[],"pos":[[10,32.9,-117,1,1,1,1,1,1]],"tel":[[10,80,12,1,3,10,1,2,0,0],[1,1.5,12,1,3,10,1,2,0,0]]}`,
		}, 3, 6, 4, []float64{32.6, 32.600002, 32.600003}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lats []float64
			c := &Client{Probe: "probe", Protocol: tc.proto, seen: map[string]bool{},
				OnProbe: func(lat float64, at time.Time) { lats = append(lats, lat) }}
			for _, m := range tc.msgs {
				c.take([]byte(m), time.Now())
			}
			st := c.Stats()
			if st.Full != tc.full || st.Compact != tc.compact || st.Tel != tc.tel || st.States != tc.full+tc.compact || st.Drones != tc.drones {
				t.Errorf("stats %+v, want %d full, %d compact, %d tel, %d drones", st, tc.full, tc.compact, tc.tel, tc.drones)
			}
			if len(lats) != len(tc.lats) {
				t.Fatalf("probe latitudes %v, want %v", lats, tc.lats)
			}
			for i := range lats {
				if lats[i] != tc.lats[i] {
					t.Errorf("probe latitudes %v, want %v", lats, tc.lats)
				}
			}
		})
	}
}
