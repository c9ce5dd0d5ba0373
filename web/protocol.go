package web

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

// The versions of the WebSocket protocol (PROTOCOL.md). A client chooses
// one by the subprotocol it offers; one that offers neither gets version 1.
const (
	// ProtocolV1 sends every drone state as its whole object.
	ProtocolV1 = 1
	// ProtocolV2 sends a drone whose only changes are its position part
	// and its status telemetry as compact entries (protocol_v2.go).
	ProtocolV2 = 2
	// ProtocolVersion is the newest version.
	ProtocolVersion = ProtocolV2
)

// Subprotocol is the WebSocket subprotocol of protocol version 1, and
// SubprotocolV2 that of version 2; a client offering both gets version 2.
// A client may also offer "bearer.TOKEN" to authenticate without a first
// message.
const (
	Subprotocol   = "centinela.v1"
	SubprotocolV2 = "centinela.v2"
)

// num is a float64 that encodes NaN and ±Inf as null.
type num float64

// MarshalJSON implements json.Marshaler.
func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// round returns f rounded to d decimals (NaN stays NaN).
func round(f float64, d int) num {
	p := math.Pow10(d)
	return num(math.Round(f*p) / p)
}

// droneJSON is a drone's state as the map receives it: SI units, angles in
// degrees, times in RFC 3339 UTC. Lat, Lon and the position fields are
// absent until the drone has a real fix (HasPosition).
type droneJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Agency    string  `json:"agency"`
	SysID     uint8   `json:"sys_id"`
	Link      string  `json:"link"`
	LinkState string  `json:"link_state"`
	Mode      string  `json:"mode"`
	Armed     bool    `json:"armed"`
	Landed    string  `json:"landed"`
	System    string  `json:"system_status"`
	Autopilot uint8   `json:"autopilot"`
	HasPos    bool    `json:"has_position"`
	Lat       *num    `json:"lat,omitempty"`
	Lon       *num    `json:"lon,omitempty"`
	AltM      *num    `json:"alt_m,omitempty"`
	AltMSL    *num    `json:"alt_msl_m,omitempty"`
	Speed     num     `json:"speed_ms"`
	Climb     num     `json:"climb_ms"`
	Heading   num     `json:"heading_deg"`
	Battery   battery `json:"battery"`
	GPS       gps     `json:"gps"`
	Home      *home   `json:"home,omitempty"`
	Fence     fence   `json:"fence"`
	Quality   quality `json:"link_quality"`
	Firmware  string  `json:"firmware,omitempty"`
	Mission   mission `json:"mission"`
	LastSeen  string  `json:"last_seen,omitempty"`
	Flying    bool    `json:"flying"`
}

type battery struct {
	Pct      int `json:"pct"`
	VoltageV num `json:"voltage_v"`
	CurrentA num `json:"current_a"`
}

type gps struct {
	Fix  uint8 `json:"fix"`
	Sats int   `json:"sats"`
	HDOP num   `json:"hdop"`
}

type home struct {
	Lat    num `json:"lat"`
	Lon    num `json:"lon"`
	AltMSL num `json:"alt_msl_m"`
}

type fence struct {
	Known    bool `json:"known"`
	Breached bool `json:"breached"`
	Count    int  `json:"breaches"`
}

type quality struct {
	RateHz  num    `json:"rate_hz"`
	LossPct num    `json:"loss_pct"`
	Lost    uint64 `json:"lost"`
}

type mission struct {
	State      string `json:"state"`
	ID         string `json:"id,omitempty"`
	Items      int    `json:"items"`
	Seq        int    `json:"seq"`
	Percent    num    `json:"pct"`
	RemainingM num    `json:"remaining_m"`
	ETAS       num    `json:"eta_s"`
	Laps       int    `json:"laps,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func ptr(n num) *num { return &n }

// droneOf converts a drone's state for the map.
func droneOf(d fleet.DroneState) droneJSON {
	j := droneJSON{
		ID: d.ID, Name: d.Name, Agency: d.Agency, SysID: d.SysID, Link: d.Link,
		LinkState: d.LinkState.String(), Mode: d.Mode, Armed: d.Armed,
		Landed: d.Landed.String(), System: fleet.SystemStatusName(d.SystemStatus), Autopilot: d.Autopilot,
		HasPos: d.HasPosition, Speed: round(d.GroundSpeed, 2), Climb: round(d.Climb, 2),
		Heading: round(d.Heading, 1), Flying: d.Flying(),
		Battery: battery{Pct: d.Battery.RemainingPct, VoltageV: round(d.Battery.VoltageV, 2), CurrentA: round(d.Battery.CurrentA, 2)},
		GPS:     gps{Fix: d.GPS.FixType, Sats: d.GPS.Satellites, HDOP: round(d.GPS.HDOP, 2)},
		Quality: quality{RateHz: round(d.Quality.RateHz, 1), LossPct: round(d.Quality.LossPct, 2), Lost: d.Quality.Lost},
		Mission: missionOf(d.Mission),
	}
	j.Fence = fence{Known: d.Fence.Known, Breached: d.Fence.Breached, Count: d.Fence.Count}
	if d.HasPosition {
		j.Lat, j.Lon = ptr(round(d.Position.Lat, 7)), ptr(round(d.Position.Lon, 7))
		j.AltM, j.AltMSL = ptr(round(d.Position.RelAlt, 1)), ptr(round(d.AltMSL, 1))
	}
	if d.HasHome {
		j.Home = &home{Lat: round(d.Home.Lat, 7), Lon: round(d.Home.Lon, 7), AltMSL: round(d.Home.AltMSL, 1)}
	}
	if d.Version.FlightSW != 0 {
		j.Firmware = fleet.FirmwareString(d.Version.FlightSW)
	}
	if !d.LastSeen.IsZero() {
		j.LastSeen = d.LastSeen.UTC().Format(time.RFC3339Nano)
	}
	return j
}

// missionOf converts a drone's mission status for the map.
func missionOf(m fleet.MissionStatus) mission {
	j := mission{State: m.State.String(), ID: m.MissionID, Items: m.Items,
		Seq: m.CurrentSeq, Percent: round(m.Percent, 1), RemainingM: round(m.Remaining, 0),
		ETAS: num(math.NaN()), Laps: m.Laps, Reason: string(m.Reason)}
	if m.ETA >= 0 {
		j.ETAS = round(m.ETA.Seconds(), 0)
	}
	return j
}

// eventJSON is an event record as the map receives it: its stable kind and
// parameters, rendered in the reader's language by the page.
type eventJSON struct {
	Seq      uint64            `json:"seq,omitempty"`
	At       string            `json:"at"`
	Drone    string            `json:"drone,omitempty"`
	Agency   string            `json:"agency,omitempty"`
	Kind     string            `json:"kind"`
	Severity uint8             `json:"severity"`
	Params   map[string]string `json:"params,omitempty"`
}

func eventOf(r app.EventRecord) eventJSON {
	at := ""
	if !r.At.IsZero() {
		at = r.At.UTC().Format(time.RFC3339Nano)
	}
	return eventJSON{Seq: r.Seq, At: at, Drone: r.DroneID, Agency: r.Agency, Kind: r.Kind, Severity: r.Severity, Params: r.Params}
}

// alertJSON is an alert: an event people must see until someone
// acknowledges it.
type alertJSON struct {
	ID    string    `json:"id"`
	Event eventJSON `json:"event"`
	Acked bool      `json:"acked"`
	By    string    `json:"acked_by,omitempty"`
	AckAt string    `json:"acked_at,omitempty"`
}

// clientMsg is any message a client sends.
type clientMsg struct {
	Type  string `json:"type"`
	Token string `json:"token,omitempty"`
	// subscribe
	Drones    *[]string `json:"drones,omitempty"`
	Zones     bool      `json:"zones,omitempty"`
	Routes    bool      `json:"routes,omitempty"`
	Events    bool      `json:"events,omitempty"`
	Kinds     []string  `json:"kinds,omitempty"`
	MaxRateHz float64   `json:"max_rate_hz,omitempty"`
	// ping
	ID json.RawMessage `json:"id,omitempty"`
}

// Server messages. Each has a "type".
type helloMsg struct {
	Type       string     `json:"type"`
	Protocol   int        `json:"protocol"`
	Principal  principalJ `json:"principal"`
	ServerTime string     `json:"server_time"`
	MaxRateHz  float64    `json:"max_rate_hz"`
}

type principalJ struct {
	Label  string `json:"label"`
	Role   string `json:"role"`
	Agency string `json:"agency,omitempty"`
}

func principalOf(p app.Principal) principalJ {
	return principalJ{Label: p.Label, Role: string(p.Role), Agency: p.Agency}
}

type errorMsg struct {
	Type  string    `json:"type"`
	Error errorJSON `json:"error"`
}

type controlMsg struct {
	Type string `json:"type"`
	// Commandable maps drone ids to whether this client may command
	// them (only the drones whose answer changed).
	Commandable map[string]bool `json:"commandable"`
}

type routeMsg struct {
	Type      string    `json:"type"`
	Drone     string    `json:"drone"`
	MissionID string    `json:"mission_id,omitempty"`
	Points    []routePt `json:"points"`
}

// routePt is one navigation item of a route: [lat, lon, alt_m, seq].
type routePt [4]num
