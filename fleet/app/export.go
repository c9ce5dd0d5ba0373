package app

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// TrackCSVHeader is the header row of WriteTrackCSV.
var TrackCSVHeader = []string{"time", "drone_id", "lat", "lon", "alt_m", "rel_alt_m", "speed_m_s", "heading_deg", "battery_pct", "mode", "armed"}

// TrackGeoJSON renders drone droneID's track as an RFC 7946 Feature: a
// LineString of [longitude, latitude, altitude AMSL] positions (a Point for a
// single sample, a null geometry for none), whose properties carry the
// drone's id, the samples' times ("times", RFC 3339 UTC, one per position),
// their altitudes above home ("rel_alt_m"), and the first and last times
// ("start", "end"). Returns Invalid for a non-finite coordinate.
func TrackGeoJSON(droneID string, pts []TrackPoint) ([]byte, error) {
	coords := make([][3]float64, len(pts))
	times := make([]string, len(pts))
	rel := make([]float64, len(pts))
	for i, p := range pts {
		for _, v := range []float64{p.Lat, p.Lon, p.AltMSL, p.RelAlt} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fleet.Errorf(fleet.Invalid, "track of %s: point %d has a non-finite coordinate", droneID, i)
			}
		}
		coords[i] = [3]float64{p.Lon, p.Lat, p.AltMSL}
		times[i] = exportTime(p.At)
		rel[i] = p.RelAlt
	}
	props := map[string]any{"drone_id": droneID, "times": times, "rel_alt_m": rel, "points": len(pts)}
	var geom any
	switch len(pts) {
	case 0:
	case 1:
		geom = map[string]any{"type": "Point", "coordinates": coords[0]}
	default:
		geom = map[string]any{"type": "LineString", "coordinates": coords}
	}
	if len(pts) > 0 {
		props["start"], props["end"] = times[0], times[len(times)-1]
	}
	out, err := json.Marshal(map[string]any{"type": "Feature", "geometry": geom, "properties": props})
	if err != nil {
		return nil, fleet.Errorf(fleet.Internal, "track of %s: %v", droneID, err)
	}
	return out, nil
}

// WriteTrackCSV writes drone droneID's track as CSV: the TrackCSVHeader
// row, then one row a sample with RFC 3339 UTC times; an unknown heading or
// battery is an empty cell. Returns w's error.
func WriteTrackCSV(w io.Writer, droneID string, pts []TrackPoint) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TrackCSVHeader); err != nil {
		return err
	}
	row := make([]string, len(TrackCSVHeader))
	for _, p := range pts {
		row[0], row[1] = exportTime(p.At), droneID
		row[2], row[3], row[4], row[5] = csvNum(p.Lat), csvNum(p.Lon), csvNum(p.AltMSL), csvNum(p.RelAlt)
		row[6], row[7] = csvNum(p.GroundSpeed), csvNum(p.Heading)
		row[8] = ""
		if p.BatteryPct >= 0 {
			row[8] = strconv.Itoa(p.BatteryPct)
		}
		row[9], row[10] = p.Mode, strconv.FormatBool(p.Armed)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func exportTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func csvNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
