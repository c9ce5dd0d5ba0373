package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
)

// TestWSProtocolV2Tel: after the snapshot, a change of a drone's battery,
// GPS or link quality reaches protocol 2 clients as a status entry with
// the drone's compact entry, never as a full object, whether they watch
// every drone (shared frames, catch-up messages of a client at a low rate)
// or some (messages of their own); each ends with the objects a protocol 1
// client gets. A drone without a position still gets full objects, and a
// change of mode still comes as a full object.
func TestWSProtocolV2Tel(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	h.addDrone(2, baseLat, baseLon+0.01, true)
	h.addDrone(3, 0, 0, false) // no fix: never compact
	h.waitHub(3)
	// The drones' first states reach the hub through the watch, some
	// maybe after it knows all three: wait until it has them all and has
	// sent them in a frame, so that no message after the snapshots repeats
	// them as full objects.
	hub := h.Srv.hub
	// framed reports whether the hub has sent every state it has in a
	// frame and cond holds of them.
	framed := func(cond func(ds map[string]*droneEntry) bool) bool {
		hub.mu.RLock()
		defer hub.mu.RUnlock()
		return len(hub.dirty) == 0 && hub.frameV == hub.version && cond(hub.drones)
	}
	quiet := 0
	waitFor(t, "the hub to take the drones' first states", 10*time.Second, func() bool {
		if !framed(func(ds map[string]*droneEntry) bool { return ds["sysid-2"].state.HasHome }) {
			quiet = 0
			return false
		}
		quiet++
		return quiet >= 20 // 100 ms
	})
	c1 := h.dial(h.Operator)
	all, some, slow := h.dialProto(h.Operator, ProtocolV2), h.dialProto(h.Operator, ProtocolV2), h.dialProto(h.Operator, ProtocolV2)
	c1.send(map[string]any{"type": "subscribe"})
	all.send(map[string]any{"type": "subscribe"})
	some.send(map[string]any{"type": "subscribe", "drones": []string{"sysid-1", "sysid-3"}})
	tSub := time.Now() // the slow client's first states message is due a second after
	slow.send(map[string]any{"type": "subscribe", "max_rate_hz": 1})

	v1 := dronesOf(c1.next("snapshot", 5*time.Second))
	type v2Client struct {
		name string
		c    *wsClient
		m    *v2Model
		snap map[string]int // full objects by drone after the snapshot
	}
	v2s := []*v2Client{{name: "all", c: all}, {name: "some", c: some}, {name: "slow", c: slow}}
	for _, v := range v2s {
		v.m = newV2Model()
		if _, err := v.m.apply(v.c.next("snapshot", 5*time.Second)); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		v.snap = map[string]int{}
		for id, n := range v.m.fullOf {
			v.snap[id] = n
		}
	}
	if len(v2s[1].m.drones) != 2 {
		t.Fatalf("some: snapshot of %d drones, want 2", len(v2s[1].m.drones))
	}
	catch0 := hub.catchSent.Load()

	feed := func(sys uint8, us ...fleet.Update) {
		h.mu.Lock()
		v := h.vehicles[sys]
		h.mu.Unlock()
		fleettest.Feed(h.Fleet, v, us...)
	}
	// In two frames, so that the slow client, whose next message is due a
	// second after its snapshot, misses one and catches up.
	feed(1, fleet.SysStatus{VoltageV: 11.874, CurrentA: 15.26, RemainingPct: 77})
	feed(3, fleet.LinkStats{Received: 90, Lost: 10, Rate: 3.3})
	waitFor(t, "a frame of the first changes", 5*time.Second, func() bool {
		return framed(func(ds map[string]*droneEntry) bool {
			return ds["sysid-1"].state.Battery.RemainingPct == 77 && ds["sysid-3"].state.Quality.RateHz == 3.3
		})
	})
	feed(1, fleet.LinkStats{Received: 480, Lost: 20, Rate: 9.64})
	feed(2, fleet.GPSRaw{FixType: 4, Satellites: 14, HDOP: 1.256, Lat: baseLat, Lon: baseLon + 0.01},
		fleet.LinkStats{Received: 500, Rate: 10.04})
	waitFor(t, "a frame of the second changes", 5*time.Second, func() bool {
		return framed(func(ds map[string]*droneEntry) bool {
			return ds["sysid-1"].state.Quality.Lost == 20 && ds["sysid-2"].state.Quality.Received == 500
		})
	})
	// If both frames came before the slow client's first states message
	// was due, that message is a catch-up message.
	catchUp := time.Since(tSub) < 900*time.Millisecond

	field := func(d map[string]any, obj, k string) any {
		o, _ := d[obj].(map[string]any)
		return o[k]
	}
	telDone := func(ds map[string]map[string]any) bool {
		d1, d2, d3 := ds["sysid-1"], ds["sysid-2"], ds["sysid-3"]
		return field(d1, "battery", "voltage_v") == 11.87 && field(d1, "link_quality", "rate_hz") == 9.6 &&
			(d2 == nil || (field(d2, "gps", "fix") == float64(4) && field(d2, "link_quality", "rate_hz") == float64(10))) &&
			field(d3, "link_quality", "rate_hz") == 3.3
	}
	// readV1 and readV2 read a client's states until until(its drones)
	// holds.
	readV1 := func(until func(map[string]map[string]any) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !until(v1) {
			for id, d := range dronesOf(c1.next("states", time.Until(deadline))) {
				v1[id] = d
			}
		}
	}
	readV2 := func(v *v2Client, until func(map[string]map[string]any) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !until(v.m.drones) {
			msg := v.c.next("states", time.Until(deadline))
			if _, err := v.m.apply(msg); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
		}
	}
	same := func(when string) {
		t.Helper()
		for _, v := range v2s {
			for id, d := range v.m.drones {
				if err := sameDrone(v1[id], d); err != nil {
					t.Errorf("%s, %s %s: %v", v.name, id, when, err)
				}
			}
		}
	}
	readV1(telDone)
	for _, v := range v2s {
		readV2(v, telDone)
		for _, id := range []string{"sysid-1", "sysid-2"} {
			if _, ok := v.m.drones[id]; ok && v.m.fullOf[id] != v.snap[id] {
				t.Errorf("%s: %s's battery, GPS or link quality came in %d full objects", v.name, id, v.m.fullOf[id]-v.snap[id])
			}
		}
		if v.m.tel == 0 {
			t.Errorf("%s: no status entry", v.name)
		}
		if v.m.fullOf["sysid-3"] == v.snap["sysid-3"] {
			t.Errorf("%s: the drone without a position got no full object", v.name)
		}
	}
	if catchUp {
		// The server counts the message after writing it.
		waitFor(t, "the slow client's catch-up message", 5*time.Second, func() bool { return hub.catchSent.Load() > catch0 })
	} else {
		t.Log("the second frame came too late for the slow client to catch up with it")
	}
	if field(v1["sysid-2"], "gps", "sats") != float64(14) || field(v1["sysid-1"], "battery", "pct") != float64(77) {
		t.Fatalf("protocol 1 objects %v, %v", v1["sysid-1"], v1["sysid-2"])
	}
	same("after the status changes")

	// A change of mode is a full object.
	feed(1, fleettest.Copter(fleettest.RTL, false, fleettest.StatusStandby))
	rtl := func(ds map[string]map[string]any) bool { return ds["sysid-1"]["mode"] == "RTL" }
	readV1(rtl)
	for _, v := range v2s {
		full0 := v.m.fullOf["sysid-1"]
		readV2(v, rtl)
		if v.m.fullOf["sysid-1"] == full0 {
			t.Errorf("%s: the mode change came in no full object", v.name)
		}
	}
	same("after the mode change")
}

// TestStatesMsgTel: a protocol 2 message for a client current to a
// version has a drone's status entry, with its compact entry, only if
// its status telemetry changed after that version; protocol 1's has
// neither list.
func TestStatesMsgTel(t *testing.T) {
	h := newHarness(t, nil)
	hub := h.Srv.hub
	ctx := context.Background()
	a, b := testStates()[0], testStates()[1]
	a.ID, b.ID = "tel-a", "tel-b"
	hub.onState(ctx, a)
	hub.onState(ctx, b)
	version := func() uint64 {
		hub.mu.RLock()
		defer hub.mu.RUnlock()
		return hub.version
	}
	sub := &subscription{drones: map[string]bool{"tel-a": true, "tel-b": true}}
	// msg returns the message for a client of proto current to since, and
	// the model of a client that had the snapshot.
	msg := func(proto int, since uint64) map[string]any {
		t.Helper()
		var m statesMsg
		m.reset(proto)
		hub.collect(&m, sub, since, nil)
		var out map[string]any
		if err := json.Unmarshal(m.appendTo(nil, "states"), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	model := newV2Model()
	if _, err := model.apply(msg(ProtocolV2, 0)); err != nil || model.full != 2 {
		t.Fatalf("snapshot: %d full objects, %v", model.full, err)
	}
	v0 := version()

	a.Battery.CurrentA, a.Quality.RateHz, a.Quality.Lost = 3.33, 12.25, 31 // status only
	hub.onState(ctx, a)
	b.Position.Lat += 1e-4 // position only
	hub.onState(ctx, b)
	v1 := version()
	m := msg(ProtocolV2, v0)
	if len(m["drones"].([]any)) != 0 || len(m["pos"].([]any)) != 2 || len(m["tel"].([]any)) != 1 {
		t.Fatalf("since the snapshot: %v, want 2 compact entries and tel-a's status entry", m)
	}
	if _, err := model.apply(m); err != nil {
		t.Fatal(err)
	}
	for _, d := range []fleet.DroneState{a, b} {
		j, _ := json.Marshal(droneOf(d))
		var obj map[string]any
		json.Unmarshal(j, &obj)
		if err := sameDrone(obj, model.drones[d.ID]); err != nil {
			t.Errorf("%s: %v", d.ID, err)
		}
	}
	if p1 := msg(ProtocolV1, v0); len(p1["drones"].([]any)) != 2 || p1["pos"] != nil || p1["tel"] != nil {
		t.Errorf("protocol 1: %v", p1)
	}

	a.Position.Lat += 1e-4 // position only: the status entry is not sent again
	hub.onState(ctx, a)
	if m := msg(ProtocolV2, v1); len(m["drones"].([]any)) != 0 || len(m["pos"].([]any)) != 1 || len(m["tel"].([]any)) != 0 {
		t.Errorf("after a move: %v, want one compact entry, no status entry", m)
	}
	// For a client current to v0 the status change is still news.
	if m := msg(ProtocolV2, v0); len(m["pos"].([]any)) != 2 || len(m["tel"].([]any)) != 1 {
		t.Errorf("since the snapshot, after a move: %v", m)
	}

	a.Mode = "RTL"
	a.Battery.RemainingPct--
	hub.onState(ctx, a)
	if m := msg(ProtocolV2, v1); len(m["drones"].([]any)) != 1 || len(m["pos"].([]any)) != 0 || len(m["tel"].([]any)) != 0 {
		t.Errorf("after a mode change: %v, want tel-a's full object only", m)
	}
}
