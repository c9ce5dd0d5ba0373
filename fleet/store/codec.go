package store

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// timeKey is the 8-byte big-endian key of t: Unix nanoseconds, so that keys
// sort by time (times before 1970 are clamped to it).
func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), timeNanos(t))
}

func timeNanos(t time.Time) uint64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint64(t.UnixNano())
}

// seqKey is timeKey(t) followed by seq: events and audit entries, ordered by
// time then by arrival.
func seqKey(t time.Time, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(timeKey(t), seq)
}

// recentKey is the key of drone's point at t in the recent bucket: the
// time, then the drone's id.
func recentKey(t time.Time, drone string) []byte {
	return append(timeKey(t), drone...)
}

func keyTime(k []byte) time.Time {
	if len(k) < 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC()
}

// Track point encoding, version 1 (30 bytes plus the mode's name):
//
//	0      version (1)
//	1–4    latitude,  int32 1e-7 degrees
//	5–8    longitude, int32 1e-7 degrees
//	9–12   altitude AMSL, int32 mm
//	13–16  altitude above home, int32 mm
//	17–22  velocity north, east, down, int16 cm/s each
//	23–24  ground speed, uint16 cm/s
//	25–26  heading, uint16 centidegrees (0xFFFF unknown; ≥ 36000 read as unknown)
//	27     battery, int8 percent (-1 unknown, as is anything outside 0..100)
//	28     flags: 1 armed, 2 link up
//	29     length of the mode's name (at most 32), then its bytes
//
// The resolution is MAVLink's (GLOBAL_POSITION_INT): nothing received is lost.
const (
	pointVersion = 1
	pointFixed   = 30
	maxModeLen   = 32
)

var errBadPoint = errors.New("bad track point encoding")

func appendPoint(b []byte, p app.TrackPoint) []byte {
	mode := p.Mode
	if len(mode) > maxModeLen {
		mode = mode[:maxModeLen]
	}
	b = append(b, pointVersion)
	b = appendPointFixed(b, p)
	b = append(b, byte(len(mode)))
	return append(b, mode...)
}

// appendPointFixed appends bytes 1–28 of p's version 1 encoding: all but
// the version and the mode.
func appendPointFixed(b []byte, p app.TrackPoint) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(clampInt32(p.Lat*1e7)))
	b = binary.BigEndian.AppendUint32(b, uint32(clampInt32(p.Lon*1e7)))
	b = binary.BigEndian.AppendUint32(b, uint32(clampInt32(p.AltMSL*1e3)))
	b = binary.BigEndian.AppendUint32(b, uint32(clampInt32(p.RelAlt*1e3)))
	b = binary.BigEndian.AppendUint16(b, uint16(clampInt16(p.VelN*100)))
	b = binary.BigEndian.AppendUint16(b, uint16(clampInt16(p.VelE*100)))
	b = binary.BigEndian.AppendUint16(b, uint16(clampInt16(p.VelD*100)))
	gs := p.GroundSpeed * 100
	switch {
	case math.IsNaN(gs) || gs < 0:
		gs = 0
	case gs > math.MaxUint16:
		gs = math.MaxUint16
	}
	b = binary.BigEndian.AppendUint16(b, uint16(math.Round(gs)))
	hdg := uint16(0xFFFF)
	if h := p.Heading; !math.IsNaN(h) && !math.IsInf(h, 0) {
		h = math.Mod(h, 360)
		if h < 0 {
			h += 360
		}
		hdg = uint16(math.Round(h*100)) % 36000
	}
	b = binary.BigEndian.AppendUint16(b, hdg)
	batt := p.BatteryPct
	if batt < -1 || batt > 100 {
		batt = -1
	}
	b = append(b, byte(int8(batt)))
	var flags byte
	if p.Armed {
		flags |= 1
	}
	if p.LinkUp {
		flags |= 2
	}
	return append(b, flags)
}

func decodePoint(at time.Time, b []byte) (app.TrackPoint, error) {
	if len(b) < pointFixed || b[0] != pointVersion || b[29] > maxModeLen || len(b) != pointFixed+int(b[29]) {
		return app.TrackPoint{}, errBadPoint
	}
	return pointFrom(at, b[1:29], string(b[pointFixed:])), nil
}

// pointFrom decodes a point at time at from bytes 1–28 of its version 1
// encoding and its mode.
func pointFrom(at time.Time, b []byte, mode string) app.TrackPoint {
	_ = b[27]
	i32 := func(o int) float64 { return float64(int32(binary.BigEndian.Uint32(b[o:]))) }
	i16 := func(o int) float64 { return float64(int16(binary.BigEndian.Uint16(b[o:]))) / 100 }
	p := app.TrackPoint{
		At:  at,
		Lat: i32(0) / 1e7, Lon: i32(4) / 1e7, AltMSL: i32(8) / 1e3, RelAlt: i32(12) / 1e3,
		VelN: i16(16), VelE: i16(18), VelD: i16(20),
		GroundSpeed: float64(binary.BigEndian.Uint16(b[22:])) / 100,
		Heading:     math.NaN(),
		BatteryPct:  -1,
		Armed:       b[27]&1 != 0,
		LinkUp:      b[27]&2 != 0,
		Mode:        mode,
	}
	if v := int(int8(b[26])); v >= 0 && v <= 100 {
		p.BatteryPct = v
	}
	if h := binary.BigEndian.Uint16(b[24:]); h < 36000 {
		p.Heading = float64(h) / 100
	}
	return p
}

// nanosTime is the time of Unix nanoseconds n (a key's).
func nanosTime(n uint64) time.Time { return time.Unix(0, int64(n)).UTC() }

func clampInt32(v float64) int32 {
	switch {
	case math.IsNaN(v):
		return 0
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(math.Round(v))
}

func clampInt16(v float64) int16 {
	switch {
	case math.IsNaN(v):
		return 0
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}

// PointOf is the track point of a drone's state: its position, altitudes,
// velocity, heading, battery, mode, armed and link state at time at.
func PointOf(d fleet.DroneState, at time.Time) app.TrackPoint {
	return app.TrackPoint{
		At: at, Lat: d.Position.Lat, Lon: d.Position.Lon, AltMSL: d.AltMSL, RelAlt: d.Position.RelAlt,
		VelN: d.VelN, VelE: d.VelE, VelD: d.VelD, GroundSpeed: d.GroundSpeed, Heading: d.Heading,
		BatteryPct: d.Battery.RemainingPct, Mode: d.Mode, Armed: d.Armed, LinkUp: d.LinkState != fleet.LinkStateLost,
	}
}

// Mission item encoding: 62 bytes an item, big-endian: seq uint16, frame
// uint8, command uint16, flags uint8 (1 current, 2 autocontinue), then
// Param1..4, Lat, Lon, Alt as float64 bits (NaN kept).
const itemSize = 2 + 1 + 2 + 1 + 7*8

func appendItems(b []byte, items []fleet.MissionItem) []byte {
	for _, it := range items {
		b = binary.BigEndian.AppendUint16(b, uint16(it.Seq))
		b = append(b, byte(it.Frame))
		b = binary.BigEndian.AppendUint16(b, uint16(it.Command))
		var f byte
		if it.Current {
			f |= 1
		}
		if it.Autocontinue {
			f |= 2
		}
		b = append(b, f)
		for _, v := range []float64{it.Param1, it.Param2, it.Param3, it.Param4, it.Lat, it.Lon, it.Alt} {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

func decodeItems(b []byte) ([]fleet.MissionItem, error) {
	if len(b)%itemSize != 0 {
		return nil, errors.New("bad mission item encoding")
	}
	out := make([]fleet.MissionItem, 0, len(b)/itemSize)
	for ; len(b) > 0; b = b[itemSize:] {
		f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[6+8*i:])) }
		out = append(out, fleet.MissionItem{
			Seq: int(binary.BigEndian.Uint16(b)), Frame: fleet.Frame(b[2]),
			Command: fleet.MissionCommand(binary.BigEndian.Uint16(b[3:])),
			Current: b[5]&1 != 0, Autocontinue: b[5]&2 != 0,
			Param1: f(0), Param2: f(1), Param3: f(2), Param4: f(3), Lat: f(4), Lon: f(5), Alt: f(6),
		})
	}
	return out, nil
}
