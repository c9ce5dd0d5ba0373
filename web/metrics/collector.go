package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads Sources on each scrape.
type collector struct {
	src Sources

	drones, linkFrames, subs, missed                               *prometheus.Desc
	framesIn, framesOut, decoded, parseErrs, unknown, ignored      *prometheus.Desc
	dropped, links, lost, ops                                      *prometheus.Desc
	checks, checkSecs, unchanged, transitions, responses, respFail *prometheus.Desc
	recFailed, recorded, recDropped                                *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(src Sources) *collector {
	return &collector{
		src:         src,
		drones:      desc("centinela_drones", "Drones known, by link state.", "link_state"),
		linkFrames:  desc("centinela_drone_link_frames", "Frames on the drones' current links (received, lost from sequence gaps, parse_error), added up; a drone changing link starts again.", "kind"),
		subs:        desc("centinela_bus_subscriptions", "Open subscriptions to the fleet's event bus."),
		missed:      desc("centinela_bus_missed_events_total", "Discrete events dropped for slow bus subscribers."),
		framesIn:    desc("centinela_mavlink_frames_received_total", "MAVLink frames received and decoded, by configured endpoint and message.", "endpoint", "message"),
		framesOut:   desc("centinela_mavlink_frames_sent_total", "MAVLink frames queued for sending, by configured endpoint and message (the GCS heartbeat excluded).", "endpoint", "message"),
		decoded:     desc("centinela_mavlink_frames_decoded_total", "MAVLink frames received and decoded."),
		parseErrs:   desc("centinela_mavlink_parse_errors_total", "Malformed MAVLink input: bad bytes, bad checksums, truncated frames, unknown message ids."),
		unknown:     desc("centinela_mavlink_unknown_messages_total", "MAVLink frames with a message id outside the dialect."),
		ignored:     desc("centinela_mavlink_frames_ignored_total", "MAVLink frames from systems that are not vehicles or from other components."),
		dropped:     desc("centinela_mavlink_replies_dropped_total", "Replies an operation was too slow to take."),
		links:       desc("centinela_mavlink_links", "Vehicles linked."),
		lost:        desc("centinela_frames_lost_total", "Frames lost, by where: sequence (gaps in the vehicles' sequence numbers), socket (dropped by the kernel).", "where"),
		ops:         desc("centinela_mavlink_operation_duration_seconds", "Round-trip time of commands (until COMMAND_ACK) and mission and parameter transfers, by operation and result.", "op", "result"),
		checks:      desc("centinela_zone_checks_total", "Positions checked against the allowed space."),
		checkSecs:   desc("centinela_zone_check_seconds_total", "Time spent checking positions against the allowed space."),
		unchanged:   desc("centinela_zone_checks_unchanged_total", "States not checked again because the drone had not moved."),
		transitions: desc("centinela_zone_transitions_total", "Zone status transitions, by new status (approaching, breached, inside after a breach).", "to"),
		responses:   desc("centinela_zone_responses_total", "Breach responses published (warn, hold, rtl, land, skipped ones included)."),
		respFail:    desc("centinela_zone_responses_failed_total", "Breach responses whose command failed."),
		recFailed:   desc("centinela_recording_failed", "1 once recording stopped because the store cannot be written (disk full, read-only), else 0."),
		recorded:    desc("centinela_recorded_total", "Track points and events recorded into the store.", "kind"),
		recDropped:  desc("centinela_recording_dropped_total", "Track points and events not recorded: the queue was full or recording had stopped.", "kind"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.drones, c.linkFrames, c.subs, c.missed, c.framesIn, c.framesOut,
		c.decoded, c.parseErrs, c.unknown, c.ignored, c.dropped, c.links, c.lost, c.ops, c.checks,
		c.checkSecs, c.unchanged, c.transitions, c.responses, c.respFail, c.recFailed, c.recorded, c.recDropped} {
		ch <- d
	}
}

func counter(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Fleet != nil {
		s := c.src.Fleet()
		ch <- gauge(c.drones, float64(s.LinkUp), "up")
		ch <- gauge(c.drones, float64(s.LinkLost), "lost")
		ch <- gauge(c.drones, float64(s.Drones-s.LinkUp-s.LinkLost), "unknown")
		ch <- gauge(c.linkFrames, float64(s.FramesReceived), "received")
		ch <- gauge(c.linkFrames, float64(s.FramesLost), "lost")
		ch <- gauge(c.linkFrames, float64(s.ParseErrors), "parse_error")
		ch <- gauge(c.subs, float64(s.Subscriptions))
		ch <- counter(c.missed, s.SubscriptionMissed)
	}
	if c.src.Transport != nil {
		t := c.src.Transport()
		ch <- counter(c.decoded, t.Frames)
		ch <- counter(c.parseErrs, t.ParseErrors)
		ch <- counter(c.unknown, t.UnknownMessages)
		ch <- counter(c.ignored, t.Ignored)
		ch <- counter(c.dropped, t.Dropped)
		ch <- gauge(c.links, float64(t.Links))
		ch <- counter(c.lost, t.FramesLost, "sequence")
		for _, m := range t.Messages {
			if m.In > 0 {
				ch <- counter(c.framesIn, m.In, m.Endpoint, m.Name)
			}
			if m.Out > 0 {
				ch <- counter(c.framesOut, m.Out, m.Endpoint, m.Name)
			}
		}
		for _, op := range t.Operations {
			buckets := make(map[float64]uint64, len(t.Buckets))
			for i, b := range t.Buckets {
				if i < len(op.Buckets) {
					buckets[b.Seconds()] = op.Buckets[i]
				}
			}
			ch <- prometheus.MustNewConstHistogram(c.ops, op.Count, op.Sum.Seconds(), buckets, op.Op, op.Result)
		}
	}
	if c.src.Recording != nil {
		r := c.src.Recording()
		failed := 0.0
		if r.Stopped {
			failed = 1
		}
		ch <- gauge(c.recFailed, failed)
		ch <- counter(c.recorded, r.Points, "points")
		ch <- counter(c.recorded, r.Events, "events")
		ch <- counter(c.recDropped, r.DroppedPoints, "points")
		ch <- counter(c.recDropped, r.DroppedEvents, "events")
	}
	if c.src.SocketDrops != nil {
		ch <- counter(c.lost, c.src.SocketDrops(), "socket")
	}
	if c.src.ZoneWatch != nil {
		z := c.src.ZoneWatch()
		ch <- counter(c.checks, z.Checks)
		ch <- prometheus.MustNewConstMetric(c.checkSecs, prometheus.CounterValue, z.CheckTime.Seconds())
		ch <- counter(c.unchanged, z.Unchanged)
		ch <- counter(c.transitions, z.Approaches, "approaching")
		ch <- counter(c.transitions, z.Breaches, "breached")
		ch <- counter(c.transitions, z.Returns, "inside")
		ch <- counter(c.responses, z.Responses)
		ch <- counter(c.respFail, z.ResponsesFailed)
	}
}

// extraCollector turns Extra samples into metrics. It is unchecked (it
// describes nothing), since its metrics are only known when collected.
type extraCollector struct {
	src []func() []Sample
}

func (e *extraCollector) Describe(chan<- *prometheus.Desc) {}

func (e *extraCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range e.src {
		for _, s := range f() {
			var names, values []string
			for i := 0; i+1 < len(s.Labels); i += 2 {
				names = append(names, s.Labels[i])
				values = append(values, s.Labels[i+1])
			}
			kind := prometheus.GaugeValue
			if s.Counter {
				kind = prometheus.CounterValue
			}
			m, err := prometheus.NewConstMetric(prometheus.NewDesc(s.Name, s.Help, slices.Clip(names), nil), kind, s.Value, values...)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(prometheus.NewDesc(s.Name, s.Help, nil, nil), err)
				continue
			}
			ch <- m
		}
	}
}
