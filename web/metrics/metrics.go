package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/centinela-gcs/centinela/fleet"
)

// Sources are the counters read on each scrape. Every field is optional; a
// nil one exports nothing. The functions are called from the HTTP server's
// goroutines, concurrently with everything else, and must be safe for that
// and fast (they run on every scrape).
type Sources struct {
	// Fleet returns the fleet's counters (fleet.Fleet.Stats).
	Fleet func() fleet.Stats
	// ZoneWatch returns the breach watch's counters (fleet.ZoneWatch.Stats).
	ZoneWatch func() fleet.ZoneWatchStats
	// Transport returns the MAVLink transport's counters.
	Transport func() Transport
	// Recording returns the history recorder's counters.
	Recording func() Recording
	// SocketDrops returns the datagrams the kernel dropped at the server's
	// sockets (for example from /proc/net/udp).
	SocketDrops func() uint64
	// Extra are further sources of samples, for components that come later
	// (WebSocket and gRPC clients, the recording queue).
	Extra []func() []Sample
}

// Recording is what the history recorder (fleet/store) did since it
// started.
type Recording struct {
	// Stopped is set once a write failed and recording stopped (a full
	// disk, a read-only file).
	Stopped bool
	// Points and Events count what was recorded; DroppedPoints and
	// DroppedEvents what was not (the queue was full, or recording had
	// stopped).
	Points, Events, DroppedPoints, DroppedEvents uint64
}

// Transport is what the MAVLink transport counted since it started.
type Transport struct {
	// Frames counts frames decoded; ParseErrors malformed input;
	// UnknownMessages frames outside the dialect; Ignored frames from
	// systems that are not vehicles; Dropped replies no operation took.
	Frames, ParseErrors, UnknownMessages, Ignored, Dropped uint64
	// Links is the number of vehicles linked now.
	Links int
	// FramesLost counts frames missing from sequence numbers.
	FramesLost uint64
	// Messages counts frames by endpoint and message.
	Messages []Message
	// Buckets are the upper bounds of every Operation's Buckets.
	Buckets []time.Duration
	// Operations are round-trip times by operation and result.
	Operations []Operation
}

// Message counts the frames of one message on one endpoint.
type Message struct {
	Endpoint, Name string
	In, Out        uint64
}

// Operation is the histogram of one operation's durations with one result.
type Operation struct {
	Op, Result string
	Count      uint64
	Sum        time.Duration
	// Buckets[i] counts operations of at most Transport.Buckets[i]
	// (cumulative).
	Buckets []uint64
}

// Sample is one value of an Extra source. Samples of one Name must keep the
// same Help, kind and label names from scrape to scrape.
type Sample struct {
	// Name is the metric name, for example "centinela_ws_clients".
	Name, Help string
	// Counter marks a counter (monotonic); otherwise a gauge.
	Counter bool
	// Labels are label name and value pairs: "client", "map", ….
	Labels []string
	Value  float64
}

// Handler returns an http.Handler serving src in the Prometheus text format,
// with the Go runtime and process collectors. Each call builds its own
// registry, so handlers are independent; mount one wherever /metrics lives.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(newCollector(src))
	if len(src.Extra) > 0 {
		reg.MustRegister(&extraCollector{src: src.Extra})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
