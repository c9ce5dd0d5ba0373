package server

import (
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/mavlink"
	"github.com/centinela-gcs/centinela/web/metrics"
)

// limitSamples are the hardening counters: what the limits and checks on
// the links refused, dropped or noticed (docs/SECURITY.md), one counter
// per reason.
func limitSamples(t *mavlink.Transport, f *fleet.Fleet) func() []metrics.Sample {
	return func() []metrics.Sample {
		ts, fs := t.Stats(), f.Stats()
		s := func(name, help string, v uint64) metrics.Sample {
			return metrics.Sample{Name: name, Help: help, Counter: true, Value: float64(v)}
		}
		r := func(reason string, v uint64) metrics.Sample {
			return metrics.Sample{Name: "centinela_link_refused_total", Help: "Input the links' limits and checks refused or dropped, by reason.",
				Counter: true, Labels: []string{"reason", reason}, Value: float64(v)}
		}
		return []metrics.Sample{
			r("junk_bytes", ts.JunkBytes), r("slow_closed", ts.SlowClosed), r("throttled", ts.Throttled),
			r("peer_refused", ts.PeersRefused), r("unproven_evicted", ts.UnprovenEvicted), r("link_refused", ts.LinksRefused),
			r("text_cut", ts.TextsCut), r("bad_mission", ts.BadMissions), r("unsigned", ts.Unsigned),
			r("bad_signature", ts.BadSignatures), r("replay", ts.Replays),
			r("drone_refused", fs.DronesRefused), r("claimant_refused", fs.ClaimantsRefused),
			r("bad_field", fs.BadFields), r("param_refused", fs.ParamsRefused), r("event_dropped", fs.EventsDropped),
			s("centinela_console_text_lines_total", "Lines of non-MAVLink console text read on links (ArduPilot SITL's boot output).", ts.ConsoleText),
			s("centinela_foreign_gcs_total", "Frames from another ground station noticed on the links.", ts.ForeignGCS),
			s("centinela_unasked_acks_total", "COMMAND_ACKs the server did not ask for.", ts.UnaskedAcks),
			s("centinela_identity_claims_total", "Identity claims decided (a second link claiming a drone's ids).", fs.Claims),
		}
	}
}
