package fleet_test

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

// logLine is one record a capture handler kept.
type logLine struct {
	msg   string
	attrs map[string]string
}

// capture is a slog.Handler that keeps every record.
type capture struct {
	mu    *sync.Mutex
	lines *[]logLine
	with  []slog.Attr
}

func newCapture() *capture { return &capture{mu: &sync.Mutex{}, lines: &[]logLine{}} }

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	return &capture{mu: c.mu, lines: c.lines, with: append(append([]slog.Attr(nil), c.with...), as...)}
}
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	l := logLine{msg: r.Message, attrs: map[string]string{}}
	for _, a := range c.with {
		l.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { l.attrs[a.Key] = a.Value.String(); return true })
	c.mu.Lock()
	*c.lines = append(*c.lines, l)
	c.mu.Unlock()
	return nil
}

// count returns the lines with message msg whose attribute key is val.
func (c *capture) count(msg, key, val string) []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logLine
	for _, l := range *c.lines {
		if l.msg == msg && (key == "" || l.attrs[key] == val) {
			out = append(out, l)
		}
	}
	return out
}

// One source's flood logs one line per interval with the count it left
// out; another source's line is written meanwhile; 10,000 sources keep
// the memory at MaxKeys and the log at LinesPerSecond.
func TestKeyedRateLog(t *testing.T) {
	clock := fleettest.NewClock(epoch)
	c := newCapture()
	log := slog.New(c)
	r := &fleet.KeyedRateLog{Now: clock.Now, MaxKeys: 100, LinesPerSecond: 20}
	for range 1000 {
		r.Warn(log, "drone-a", "bad values", "drone_id", "drone-a")
	}
	r.Warn(log, "drone-b", "bad values", "drone_id", "drone-b")
	r.Warn(log, "drone-a", "link lost", "drone_id", "drone-a") // another message of a
	if a, b := c.count("bad values", "drone_id", "drone-a"), c.count("bad values", "drone_id", "drone-b"); len(a) != 1 || len(b) != 1 {
		t.Fatalf("a flood: %d lines of a, %d of b; want 1 and 1", len(a), len(b))
	}
	if n := len(c.count("link lost", "", "")); n != 1 {
		t.Fatalf("a's other message: %d lines", n)
	}
	clock.Advance(1100 * time.Millisecond)
	r.Warn(log, "drone-a", "bad values", "drone_id", "drone-a")
	a := c.count("bad values", "drone_id", "drone-a")
	if len(a) != 2 || a[0].attrs["suppressed"] != "0" || a[1].attrs["suppressed"] != "999" {
		t.Fatalf("after the interval: %+v", a)
	}

	// 10,000 sources in one second: at most LinesPerSecond lines, MaxKeys
	// remembered; what the evicted suppressed is reported later.
	clock.Advance(2 * time.Second)
	before := len(c.count("claim", "", ""))
	for i := range 10_000 {
		id := "fake-" + strconv.Itoa(i)
		r.Warn(log, id, "claim", "drone_id", id)
		r.Warn(log, id, "claim", "drone_id", id)
	}
	if n := len(c.count("claim", "", "")) - before; n != 20 {
		t.Fatalf("10,000 sources wrote %d lines in a second, want 20", n)
	}
	if n := r.Len(); n > 100 {
		t.Fatalf("%d pairs remembered, at most 100", n)
	}
	clock.Advance(2 * time.Second)
	r.Warn(log, "drone-b", "bad values", "drone_id", "drone-b")
	b := c.count("bad values", "drone_id", "drone-b")
	if ev, _ := strconv.Atoi(b[len(b)-1].attrs["suppressed_evicted"]); ev < 10_000 {
		t.Fatalf("evicted pairs' suppressed lines not reported: %+v", b[len(b)-1])
	}
}

// In a fleet, one drone's flood of impossible values and flapping modes is
// logged once a second and bounded on the bus, while another drone's bad
// value is still logged and its events still published.
func TestPerDroneLogAndEventLimits(t *testing.T) {
	c := newCapture()
	f, _ := mustFleet(t, func(f *fleet.Fleet) { f.Logger = slog.New(c) })
	a, b := fleettest.NewVehicle("udp:a", 1), fleettest.NewVehicle("udp:b", 2)
	discover(t, f, a, fleettest.Copter(fleettest.Guided, false, fleettest.StatusStandby))
	discover(t, f, b, fleettest.Copter(fleettest.Guided, false, fleettest.StatusStandby))
	ev := subscribe(t, f, fleet.SubscribeOptions{QueueSize: 100_000})
	bad := fleet.Attitude{TimeBoot: time.Second, Roll: math.NaN(), Pitch: math.Inf(1), Yaw: 0}
	for i := range 2000 {
		f.Handle(a, bad)
		// A flapping mode: every heartbeat changes it.
		mode := fleettest.Guided
		if i%2 == 0 {
			mode = fleettest.Loiter
		}
		f.Handle(a, fleettest.Copter(mode, false, fleettest.StatusStandby))
	}
	f.Handle(b, bad)
	f.Handle(b, fleettest.Copter(fleettest.Loiter, false, fleettest.StatusStandby))
	if la, lb := c.count("impossible values dropped", "link", "udp:a"), c.count("impossible values dropped", "link", "udp:b"); len(la) != 1 || len(lb) != 1 {
		t.Fatalf("impossible values: %d lines of a, %d of b; want 1 and 1", len(la), len(lb))
	}
	// b's mode change arrives; a's 2,000 are cut to the budget.
	modes := map[string]int{}
	waitFor(ev, func(e fleet.ModeChanged) bool { return e.DroneID == "sysid-2" })
	for _, e := range ev.drain() {
		if m, ok := e.(fleet.ModeChanged); ok {
			modes[m.DroneID]++
		}
	}
	if dropped := c.count("events over the rate: dropped", "drone_id", "sysid-1"); len(dropped) != 1 {
		t.Fatalf("%d 'events over the rate' lines for a", len(dropped))
	}
	if st := f.Stats(); st.EventsDropped < 1800 {
		t.Fatalf("dropped events %d, want most of a's 2,000 mode changes", st.EventsDropped)
	}
	// Once a second, a's next line says how many it left out.
	poll(t, "a's second line", func() bool {
		f.Handle(a, bad)
		return len(c.count("impossible values dropped", "link", "udp:a")) == 2
	})
	la := c.count("impossible values dropped", "link", "udp:a")
	if n, _ := strconv.Atoi(la[1].attrs["suppressed"]); n < 1999 {
		t.Fatalf("second line of a: %+v", la[1])
	}
}
