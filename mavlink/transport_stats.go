package mavlink

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// Traffic is what the transport counted of its frames since Initialize, for
// metrics. Counts are by configured endpoint (not by remote peer, so that
// their number stays bounded however many drones are heard) and by message.
type Traffic struct {
	// Messages holds one entry per endpoint and message seen at least once,
	// sorted by endpoint then message.
	Messages []MessageCount
	// FramesLost counts frames missing from the vehicles' sequence numbers,
	// over every link the transport had.
	FramesLost uint64
	// Operations holds one entry per operation and result seen at least
	// once, sorted by operation then result.
	Operations []OperationStats
}

// MessageCount counts the frames of one message on one endpoint.
type MessageCount struct {
	// Endpoint is the configured endpoint, as in Transport.Endpoints.
	Endpoint string
	// Message is the message's name, for example "GLOBAL_POSITION_INT".
	Message string
	// In counts frames received and decoded; Out counts frames the
	// transport queued for sending (the node's own heartbeats excluded).
	In, Out uint64
}

// OperationBuckets are the upper bounds of the duration buckets of
// OperationStats.
var OperationBuckets = []time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
	10 * time.Second, 30 * time.Second, 60 * time.Second,
}

// OperationStats is the round-trip time of one kind of protocol operation
// with one result: a command until its COMMAND_ACK ("arm", "takeoff", …), a
// mission transfer ("mission_upload", "mission_download", "mission_clear")
// or a parameter transfer ("params_read", "param_read", "param_set").
type OperationStats struct {
	Op string
	// Result is "ok" or the fleet error code ("denied", "timeout", …).
	Result string
	Count  uint64
	Sum    time.Duration
	// Buckets[i] counts the operations that took at most
	// OperationBuckets[i] (cumulative, as in a Prometheus histogram).
	Buckets []uint64
}

// msgIndex numbers the dialect's messages densely, for counter arrays.
var msgIndex, msgNames = messageIndex()

// msgIndexLow is msgIndex of the ids below 512 (every telemetry message),
// +1, 0 for an id outside the dialect: an array read per frame, not a map.
var msgIndexLow = func() (low [512]int32) {
	for id, i := range msgIndex {
		if id < uint32(len(low)) {
			low[id] = int32(i) + 1
		}
	}
	return low
}()

// messageIndexOf returns msgIndex[id].
func messageIndexOf(id uint32) (int, bool) {
	if id < uint32(len(msgIndexLow)) {
		i := msgIndexLow[id]
		return int(i) - 1, i > 0
	}
	i, ok := msgIndex[id]
	return i, ok
}

func messageIndex() (map[uint32]int, []string) {
	idx := make(map[uint32]int, len(ardupilotmega.Dialect.Messages))
	var names []string
	for _, m := range ardupilotmega.Dialect.Messages {
		if _, ok := idx[m.GetID()]; ok {
			continue
		}
		idx[m.GetID()] = len(names)
		names = append(names, messageName(m))
	}
	return idx, names
}

// messageName turns *common.MessageGlobalPositionInt into GLOBAL_POSITION_INT.
func messageName(m message.Message) string {
	name := fmt.Sprintf("%T", m)
	if i := strings.LastIndex(name, ".Message"); i >= 0 {
		name = name[i+len(".Message"):]
	}
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			prev := name[i-1]
			if prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' && r != 'D' {
				b.WriteByte('_')
			}
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// endpointTraffic counts one endpoint's frames by message index.
type endpointTraffic struct {
	name    string
	in, out []atomic.Uint64
}

// trafficCounters are the transport's frame and operation counters. frameIn
// runs on the event goroutine, frameOut and observeOp on any goroutine.
type trafficCounters struct {
	once sync.Once
	eps  []*endpointTraffic // one per Transport.endpoints, plus "other"
	lost atomic.Uint64

	opMu sync.Mutex
	ops  map[opKey]*opHist
}

type opKey struct{ op, result string }

type opHist struct {
	count   uint64
	sum     time.Duration
	buckets []uint64
}

func (t *Transport) trafficInit() {
	c := &t.traffic
	c.once.Do(func() {
		for _, st := range t.endpoints {
			c.eps = append(c.eps, newEndpointTraffic(st.ep.String()))
		}
		c.eps = append(c.eps, newEndpointTraffic("other"))
		c.ops = make(map[opKey]*opHist)
	})
}

func newEndpointTraffic(name string) *endpointTraffic {
	return &endpointTraffic{name: name, in: make([]atomic.Uint64, len(msgNames)), out: make([]atomic.Uint64, len(msgNames))}
}

// channelTraffic returns the counters of ch's endpoint.
func (t *Transport) channelTraffic(ch *channel) *endpointTraffic {
	t.trafficInit()
	if ch == nil || ch.ep < 0 || ch.ep >= len(t.endpoints) {
		return t.traffic.eps[len(t.traffic.eps)-1]
	}
	return t.traffic.eps[ch.ep]
}

// frameIn counts a decoded frame received on ch. Event goroutine only.
func (t *Transport) frameIn(ch *channel, m message.Message) {
	if i, ok := messageIndexOf(m.GetID()); ok {
		t.channelTraffic(ch).in[i].Add(1)
	}
}

// frameOut counts a frame queued for ch.
func (t *Transport) frameOut(ch *channel, m message.Message) {
	if i, ok := messageIndexOf(m.GetID()); ok {
		t.channelTraffic(ch).out[i].Add(1)
	}
}

// observeOp records an operation that started at t0 and ended with *err.
// Use it deferred: defer l.t.observeOp("arm", opStart(), &err).
func (t *Transport) observeOp(op string, t0 time.Time, err *error) {
	d := time.Since(t0)
	result := "ok"
	if *err != nil {
		result = string(fleet.ErrorCode(*err))
	}
	t.trafficInit()
	c := &t.traffic
	c.opMu.Lock()
	defer c.opMu.Unlock()
	h := c.ops[opKey{op, result}]
	if h == nil {
		h = &opHist{buckets: make([]uint64, len(OperationBuckets))}
		c.ops[opKey{op, result}] = h
	}
	h.count++
	h.sum += d
	for i, b := range OperationBuckets {
		if d <= b {
			h.buckets[i]++
		}
	}
}

// Traffic returns the transport's frame and operation counters. It may be
// called from any goroutine.
func (t *Transport) Traffic() Traffic {
	t.trafficInit()
	c := &t.traffic
	out := Traffic{FramesLost: c.lost.Load()}
	for _, ep := range c.eps {
		for i := range msgNames {
			in, o := ep.in[i].Load(), ep.out[i].Load()
			if in == 0 && o == 0 {
				continue
			}
			out.Messages = append(out.Messages, MessageCount{Endpoint: ep.name, Message: msgNames[i], In: in, Out: o})
		}
	}
	slices.SortFunc(out.Messages, func(a, b MessageCount) int {
		if x := strings.Compare(a.Endpoint, b.Endpoint); x != 0 {
			return x
		}
		return strings.Compare(a.Message, b.Message)
	})
	c.opMu.Lock()
	for k, h := range c.ops {
		out.Operations = append(out.Operations, OperationStats{Op: k.op, Result: k.result, Count: h.count,
			Sum: h.sum, Buckets: slices.Clone(h.buckets)})
	}
	c.opMu.Unlock()
	slices.SortFunc(out.Operations, func(a, b OperationStats) int {
		if x := strings.Compare(a.Op, b.Op); x != 0 {
			return x
		}
		return strings.Compare(a.Result, b.Result)
	})
	return out
}

// opStart is the start time of an operation for observeOp (real time, not
// the transport's clock: durations are measured, not simulated).
func opStart() time.Time { return time.Now() }
