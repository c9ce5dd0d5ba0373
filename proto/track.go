package proto

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
)

// trackCSV writes a track as CSV with a header row; times RFC 3339 UTC,
// unknown values empty.
func trackCSV(pts []app.TrackPoint) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"time", "lat", "lon", "alt_msl_m", "rel_alt_m", "vel_n_m_s", "vel_e_m_s", "vel_d_m_s",
		"ground_speed_m_s", "heading_deg", "battery_pct", "mode", "armed", "link_up"})
	for _, p := range pts {
		bat := ""
		if p.BatteryPct >= 0 {
			bat = strconv.Itoa(p.BatteryPct)
		}
		w.Write([]string{p.At.UTC().Format(time.RFC3339Nano), num(p.Lat), num(p.Lon), num(p.AltMSL), num(p.RelAlt),
			num(p.VelN), num(p.VelE), num(p.VelD), num(p.GroundSpeed), num(p.Heading), bat, p.Mode,
			strconv.FormatBool(p.Armed), strconv.FormatBool(p.LinkUp)})
	}
	w.Flush()
	return b.Bytes()
}

func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// trackGeoJSON writes a track as an RFC 7946 FeatureCollection of one
// LineString ([lon, lat, rel_alt_m] positions) whose "times" property
// holds each point's RFC 3339 UTC time.
func trackGeoJSON(droneID string, pts []app.TrackPoint) ([]byte, error) {
	coords := make([][3]float64, 0, len(pts))
	times := make([]string, 0, len(pts))
	for _, p := range pts {
		coords = append(coords, [3]float64{p.Lon, p.Lat, p.RelAlt})
		times = append(times, p.At.UTC().Format(time.RFC3339Nano))
	}
	fc := map[string]any{
		"type": "FeatureCollection",
		"features": []any{map[string]any{
			"type":       "Feature",
			"geometry":   map[string]any{"type": "LineString", "coordinates": coords},
			"properties": map[string]any{"drone_id": droneID, "times": times, "alt": "rel_alt_m"},
		}},
	}
	return json.Marshal(fc)
}
