package web

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Protocol 2 (PROTOCOL.md, "Protocol 2: compact positions") sends a drone
// whose only change since the client's last message is the part that
// changes with every position (position, velocity, heading, last_seen and,
// on a mission, its progress) as a compact entry instead of its whole
// object:
//
//	[ix, lat, lon, alt_m, alt_msl_m, heading_deg, speed_ms, climb_ms, t_ms]
//
// followed, while the drone has a mission, by [pct, remaining_m, eta_s].
// ix is the drone's index, given in its full objects ("ix"); t_ms is
// last_seen in milliseconds since the Unix epoch. Numbers are rounded as
// in the full object, so both forms of the same state carry the same
// values.
//
// A drone whose only other changes are its status telemetry (battery, GPS
// and link quality, which change about once a second while it flies: the
// transport measures its link rate every second) goes as a compact entry
// and, in the message's "tel" list, a status entry:
//
//	[ix, battery_pct, voltage_v, current_a, gps_fix, sats, hdop, rate_hz, loss_pct, lost]
//
// the fields of the full object's "battery", "gps" and "link_quality",
// rounded as there. A drone is in "tel" only if it is in "pos" too.

// posFields is the number of fields of a compact entry without mission
// progress; posMissionFields with it.
const (
	posFields        = 9
	posMissionFields = 12
)

// telFields is the number of fields of a status entry.
const telFields = 10

// appendNum appends n as the full object encodes it (num.MarshalJSON).
func appendNum(b []byte, n num) []byte {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// compactable reports whether d's state can go as a compact entry: it has
// a position and a time (else its object lacks the entry's fields).
func compactable(d fleet.DroneState) bool {
	return d.HasPosition && !d.LastSeen.IsZero()
}

// appendPos appends d's compact entry with index ix (d is compactable).
func appendPos(b []byte, ix int, d fleet.DroneState) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(ix), 10)
	for _, n := range [...]num{round(d.Position.Lat, 7), round(d.Position.Lon, 7), round(d.Position.RelAlt, 1),
		round(d.AltMSL, 1), round(d.Heading, 1), round(d.GroundSpeed, 2), round(d.Climb, 2)} {
		b = append(b, ',')
		b = appendNum(b, n)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, d.LastSeen.UnixMilli(), 10)
	if d.Mission.State != fleet.MissionStateNone {
		m := missionOf(d.Mission)
		b = append(b, ',')
		b = appendNum(b, m.Percent)
		b = append(b, ',')
		b = appendNum(b, m.RemainingM)
		b = append(b, ',')
		b = appendNum(b, m.ETAS)
	}
	return append(b, ']')
}

// appendTel appends d's status entry with index ix.
func appendTel(b []byte, ix int, d fleet.DroneState) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(ix), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(d.Battery.RemainingPct), 10)
	b = append(b, ',')
	b = appendNum(b, round(d.Battery.VoltageV, 2))
	b = append(b, ',')
	b = appendNum(b, round(d.Battery.CurrentA, 2))
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(d.GPS.FixType), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(d.GPS.Satellites), 10)
	b = append(b, ',')
	b = appendNum(b, round(d.GPS.HDOP, 2))
	b = append(b, ',')
	b = appendNum(b, round(d.Quality.RateHz, 1))
	b = append(b, ',')
	b = appendNum(b, round(d.Quality.LossPct, 2))
	b = append(b, ',')
	b = strconv.AppendUint(b, d.Quality.Lost, 10)
	return append(b, ']')
}

// lastSeenEvery is how far a drone's last_seen moves before a state that
// changes nothing else of its object goes to the clients.
const lastSeenEvery = time.Second

// lastSeenOnly reports whether a state whose only change is a last_seen
// moved by dt may wait (a clock that went back may not).
func lastSeenOnly(dt time.Duration) bool { return dt >= 0 && dt < lastSeenEvery }

// posTimeField is the index of t_ms in a compact entry.
const posTimeField = 8

// samePosButTime reports whether compact entries a and b are equal but for
// their t_ms (fields are numbers or null, never holding a comma).
func samePosButTime(a, b []byte) bool {
	for f := 0; ; f++ {
		i, j := bytes.IndexByte(a, ','), bytes.IndexByte(b, ',')
		if i < 0 || j < 0 {
			return i < 0 && j < 0 && (f == posTimeField || bytes.Equal(a, b))
		}
		if f != posTimeField && !bytes.Equal(a[:i], b[:j]) {
			return false
		}
		a, b = a[i+1:], b[j+1:]
	}
}

// appendIx returns the full object v1 (a JSON object) with the drone's
// index added as its last field "ix".
func appendIx(dst, v1 []byte, ix int) []byte {
	dst = append(dst, v1[:len(v1)-1]...)
	dst = append(dst, `,"ix":`...)
	dst = strconv.AppendInt(dst, int64(ix), 10)
	return append(dst, '}')
}

// slowKey is everything of a drone's full object that neither a compact
// entry nor a status entry carries, as the object encodes it: two states
// with the same key differ only in what those entries say. Floats are kept
// as the bits of their rounded value (NaN made one value, so that equal
// objects have equal keys).
type slowKey struct {
	id, name, agency, link, mode string
	flightSW                     uint32
	sysID, autopilot, system     uint8
	linkState                    fleet.LinkState
	landed                       fleet.LandedState
	armed, hasPos, seen, flying  bool
	hasHome                      bool
	homeLat, homeLon, homeAlt    uint64
	fenceKnown, fenceBreached    bool
	fenceCount                   int
	mission                      fleet.MissionState
	missionID, reason            string
	items, seq, laps             int
	// The mission's progress, only while it has none (a compact entry
	// carries it otherwise).
	pct, remaining, eta uint64
}

// bits returns n's bits, one value for every NaN.
func bits(n num) uint64 {
	if math.IsNaN(float64(n)) {
		return math.Float64bits(math.NaN())
	}
	return math.Float64bits(float64(n))
}

// slowOf returns d's slowKey. It rounds as droneOf does; a test checks
// that every change of the full object outside a compact entry's and a
// status entry's fields changes the key.
func slowOf(d fleet.DroneState) slowKey {
	k := slowKey{id: d.ID, name: d.Name, agency: d.Agency, link: d.Link, mode: d.Mode,
		sysID: d.SysID, autopilot: d.Autopilot, system: d.SystemStatus,
		linkState: d.LinkState, landed: d.Landed, armed: d.Armed, hasPos: d.HasPosition,
		seen: !d.LastSeen.IsZero(), flying: d.Flying(),
		hasHome:    d.HasHome,
		fenceKnown: d.Fence.Known, fenceBreached: d.Fence.Breached, fenceCount: d.Fence.Count,
		mission: d.Mission.State, missionID: d.Mission.MissionID, reason: string(d.Mission.Reason),
		items: d.Mission.Items, seq: d.Mission.CurrentSeq, laps: d.Mission.Laps, flightSW: d.Version.FlightSW,
	}
	if d.HasHome {
		k.homeLat, k.homeLon, k.homeAlt = bits(round(d.Home.Lat, 7)), bits(round(d.Home.Lon, 7)), bits(round(d.Home.AltMSL, 1))
	}
	if d.Mission.State == fleet.MissionStateNone {
		m := missionOf(d.Mission)
		k.pct, k.remaining, k.eta = bits(m.Percent), bits(m.RemainingM), bits(m.ETAS)
	}
	return k
}

// telKey is what a status entry carries, as the full object encodes it:
// two states with the same key have the same status entry.
type telKey struct {
	battPct, sats    int
	gpsFix           uint8
	volt, curr, hdop uint64
	rate, loss, lost uint64
}

// telOf returns d's telKey. It rounds as droneOf and appendTel do.
func telOf(d fleet.DroneState) telKey {
	return telKey{battPct: d.Battery.RemainingPct, sats: d.GPS.Satellites, gpsFix: d.GPS.FixType,
		volt: bits(round(d.Battery.VoltageV, 2)), curr: bits(round(d.Battery.CurrentA, 2)), hdop: bits(round(d.GPS.HDOP, 2)),
		rate: bits(round(d.Quality.RateHz, 1)), loss: bits(round(d.Quality.LossPct, 2)), lost: d.Quality.Lost}
}
