package mavlink

import (
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// MAVLink "unknown" sentinels.
const (
	unknownU16 = math.MaxUint16
	unknownI16 = -1
)

// statusTextTimeout is how long an incomplete chunked STATUSTEXT waits for
// its remaining chunks before it is delivered as it is.
const statusTextTimeout = time.Second

// statusTextLen is the text length of one STATUSTEXT chunk.
const statusTextLen = 50

// decoder turns one vehicle's messages into fleet updates. It keeps the
// state of chunked STATUSTEXT reassembly. It is owned by the transport's
// event goroutine.
type decoder struct {
	// cut counts texts cut at fleet.MaxStatusText (optional).
	cut *atomic.Uint64

	// pending chunked STATUSTEXT
	textID       uint16
	textSeverity uint8
	textNext     uint8
	textStart    time.Time
	text         strings.Builder
}

// decode returns the updates that m carries (none for messages the fleet does
// not use). compID is the sender's component id, now the time it was heard.
func (d *decoder) decode(m message.Message, compID uint8, now time.Time, emit func(fleet.Update)) {
	switch m := m.(type) {
	case *common.MessageHeartbeat:
		emit(fleet.Heartbeat{
			VehicleType:  uint8(m.Type),
			Autopilot:    uint8(m.Autopilot),
			BaseMode:     uint8(m.BaseMode),
			CustomMode:   m.CustomMode,
			SystemStatus: uint8(m.SystemStatus),
			ComponentID:  compID,
		})
	case *common.MessageGlobalPositionInt:
		hdg := math.NaN()
		if m.Hdg != unknownU16 {
			hdg = float64(m.Hdg) / 100
		}
		emit(fleet.GlobalPosition{
			TimeBoot:   time.Duration(m.TimeBootMs) * time.Millisecond,
			Lat:        float64(m.Lat) / 1e7,
			Lon:        float64(m.Lon) / 1e7,
			AltMSL:     float64(m.Alt) / 1000,
			RelAlt:     float64(m.RelativeAlt) / 1000,
			VN:         float64(m.Vx) / 100,
			VE:         float64(m.Vy) / 100,
			VD:         float64(m.Vz) / 100,
			HeadingDeg: hdg,
		})
	case *common.MessageAttitude:
		emit(fleet.Attitude{
			TimeBoot: time.Duration(m.TimeBootMs) * time.Millisecond,
			Roll:     float64(m.Roll),
			Pitch:    float64(m.Pitch),
			Yaw:      float64(m.Yaw),
		})
	case *common.MessageSysStatus:
		u := fleet.SysStatus{
			VoltageV:       math.NaN(),
			CurrentA:       math.NaN(),
			RemainingPct:   int(m.BatteryRemaining),
			DropRateComm:   float64(m.DropRateComm) / 100,
			SensorsPresent: uint32(m.OnboardControlSensorsPresent),
			SensorsEnabled: uint32(m.OnboardControlSensorsEnabled),
			SensorsHealth:  uint32(m.OnboardControlSensorsHealth),
		}
		if m.VoltageBattery != unknownU16 {
			u.VoltageV = float64(m.VoltageBattery) / 1000
		}
		if m.CurrentBattery != unknownI16 {
			u.CurrentA = float64(m.CurrentBattery) / 100
		}
		if u.RemainingPct < 0 {
			u.RemainingPct = -1
		}
		emit(u)
	case *common.MessageBatteryStatus:
		emit(decodeBattery(m))
	case *common.MessageGpsRawInt:
		u := fleet.GPSRaw{
			FixType:    uint8(m.FixType),
			Satellites: int(m.SatellitesVisible),
			Lat:        float64(m.Lat) / 1e7,
			Lon:        float64(m.Lon) / 1e7,
			AltMSL:     float64(m.Alt) / 1000,
			HDOP:       math.NaN(),
		}
		if m.SatellitesVisible == math.MaxUint8 {
			u.Satellites = -1
		}
		if m.Eph != unknownU16 {
			u.HDOP = float64(m.Eph) / 100
		}
		emit(u)
	case *common.MessageVfrHud:
		emit(fleet.VFRHUD{
			Airspeed:    float64(m.Airspeed),
			Groundspeed: float64(m.Groundspeed),
			HeadingDeg:  float64(m.Heading),
			ThrottlePct: float64(m.Throttle),
			AltMSL:      float64(m.Alt),
			Climb:       float64(m.Climb),
		})
	case *common.MessageHomePosition:
		emit(fleet.Home{
			Lat:    float64(m.Latitude) / 1e7,
			Lon:    float64(m.Longitude) / 1e7,
			AltMSL: float64(m.Altitude) / 1000,
		})
	case *common.MessageExtendedSysState:
		emit(fleet.ExtendedState{Landed: uint8(m.LandedState)})
	case *common.MessageStatustext:
		d.statusText(m, now, emit)
	case *common.MessageMissionCurrent:
		total := int(m.Total)
		if m.Total == unknownU16 || (m.Total == 0 && m.MissionState == 0) {
			// UINT16_MAX says "not supported"; an all-zero extension was
			// never sent (MAVLink 1 or an old autopilot).
			total = -1
		}
		emit(fleet.MissionCurrent{Seq: int(m.Seq), Total: total, State: uint8(m.MissionState)})
	case *common.MessageMissionItemReached:
		emit(fleet.MissionItemReached{Seq: int(m.Seq)})
	case *common.MessageFenceStatus:
		emit(fleet.FenceStatus{
			Breached:   m.BreachStatus != 0,
			Count:      int(m.BreachCount),
			BreachType: uint8(m.BreachType),
			Mitigation: uint8(m.BreachMitigation),
			BreachTime: time.Duration(m.BreachTime) * time.Millisecond,
		})
	case *common.MessageAutopilotVersion:
		emit(fleet.AutopilotVersion{
			Capabilities:  uint64(m.Capabilities),
			FlightSW:      m.FlightSwVersion,
			CustomVersion: cString(m.FlightCustomVersion[:]),
			VendorID:      m.VendorId,
			ProductID:     m.ProductId,
			UID:           m.Uid,
		})
	case *common.MessageParamValue:
		emit(fleet.ParamValue{Param: paramFromMessage(m)})
	}
}

func decodeBattery(m *common.MessageBatteryStatus) fleet.Battery {
	u := fleet.Battery{
		VoltageV:     math.NaN(),
		CurrentA:     math.NaN(),
		RemainingPct: int(m.BatteryRemaining),
		ConsumedMAh:  math.NaN(),
	}
	if m.Voltages[0] != unknownU16 {
		// Cells up to the first UINT16_MAX; a battery without cell
		// voltages puts its total in cell 0 (and the excess over 65534 mV
		// in cell 1).
		var mv float64
		for _, c := range m.Voltages {
			if c == unknownU16 {
				break
			}
			mv += float64(c)
		}
		for _, c := range m.VoltagesExt {
			if c == 0 || c == unknownU16 {
				break
			}
			mv += float64(c)
		}
		u.VoltageV = mv / 1000
	}
	if m.CurrentBattery != unknownI16 {
		u.CurrentA = float64(m.CurrentBattery) / 100
	}
	if m.CurrentConsumed != -1 {
		u.ConsumedMAh = float64(m.CurrentConsumed)
	}
	if u.RemainingPct < 0 {
		u.RemainingPct = -1
	}
	return u
}

// statusText reassembles MAVLink 2 STATUSTEXT chunks: id 0 is a whole text;
// otherwise chunks 0, 1, … of one id follow each other and the first chunk
// shorter than 50 characters ends the text.
func (d *decoder) statusText(m *common.MessageStatustext, now time.Time, emit func(fleet.Update)) {
	if m.Id == 0 {
		d.flushText(emit)
		emit(fleet.StatusText{Severity: uint8(m.Severity), Text: m.Text})
		return
	}
	if d.text.Len() > 0 || d.textNext > 0 {
		if m.Id != d.textID || m.ChunkSeq != d.textNext {
			// A new text, or a chunk lost: deliver what we have.
			d.flushText(emit)
		}
	}
	if d.textNext == 0 && d.text.Len() == 0 {
		if m.ChunkSeq != 0 {
			// The start of this text was lost: keep what is left of it.
			d.text.WriteString("…")
		}
		d.textID, d.textSeverity, d.textStart = m.Id, uint8(m.Severity), now
	}
	if d.text.Len()+len(m.Text) > fleet.MaxStatusText {
		// A chunk sequence that never ends (or wraps): deliver what fits.
		if d.cut != nil {
			d.cut.Add(1)
		}
		d.text.WriteString(m.Text[:max(0, fleet.MaxStatusText-d.text.Len())])
		d.flushText(emit)
		return
	}
	d.text.WriteString(m.Text)
	d.textNext = m.ChunkSeq + 1
	if len(m.Text) < statusTextLen {
		d.flushText(emit)
	}
}

func (d *decoder) flushText(emit func(fleet.Update)) {
	if d.text.Len() == 0 && d.textNext == 0 {
		return
	}
	emit(fleet.StatusText{Severity: d.textSeverity, Text: d.text.String()})
	d.text.Reset()
	d.textNext = 0
}

// tick delivers a chunked text whose last chunk has not come in time.
func (d *decoder) tick(now time.Time, emit func(fleet.Update)) {
	if (d.text.Len() > 0 || d.textNext > 0) && now.Sub(d.textStart) >= statusTextTimeout {
		d.flushText(emit)
	}
}

func paramFromMessage(m *common.MessageParamValue) fleet.Param {
	idx := int(m.ParamIndex)
	if m.ParamIndex == unknownU16 {
		idx = -1
	}
	return fleet.Param{
		Name:  m.ParamId,
		Value: float64(m.ParamValue),
		Type:  fleet.ParamType(m.ParamType),
		Index: idx,
		Count: int(m.ParamCount),
	}
}

// cString returns b up to its first NUL byte.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
