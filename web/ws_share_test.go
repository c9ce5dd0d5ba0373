package web

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWSSharedFrames: clients of different roles, subscriptions and
// protocol versions, some on the hub's shared frames and some on their
// own messages, each get exactly the drones they subscribed to, every
// one's latest state (protocol 2 clients: with the compact entries
// applied), and their own role's commandable answers.
func TestWSSharedFrames(t *testing.T) {
	h := newHarness(t, nil)
	const drones, rounds = 20, 5
	for i := 1; i <= drones; i++ {
		h.addDrone(uint8(i), baseLat, baseLon, true)
	}
	h.waitHub(drones)
	all := map[string]bool{}
	for i := 1; i <= drones; i++ {
		all[fmt.Sprintf("sysid-%d", i)] = true
	}
	some := map[string]bool{"sysid-2": true, "sysid-7": true}
	type tc struct {
		name, bearer string
		sub          map[string]any
		want         map[string]bool // the drones it must get, and only those
		commandable  bool
		proto        int
	}
	cases := []tc{
		{"supervisor, every drone", h.Supervisor, map[string]any{"type": "subscribe"}, all, false, ProtocolV1},
		{"joint operator, every drone", h.Operator, map[string]any{"type": "subscribe", "events": true}, all, true, ProtocolV1},
		{"US operator, every drone", h.OperatorUS, map[string]any{"type": "subscribe"}, all, false, ProtocolV1},
		{"joint operator, two drones", h.Operator, map[string]any{"type": "subscribe", "drones": []string{"sysid-2", "sysid-7"}}, some, true, ProtocolV1},
		{"supervisor at 2 Hz", h.Supervisor, map[string]any{"type": "subscribe", "max_rate_hz": 2}, all, false, ProtocolV1},
		{"v2 supervisor, every drone", h.Supervisor, map[string]any{"type": "subscribe"}, all, false, ProtocolV2},
		{"v2 US operator, every drone", h.OperatorUS, map[string]any{"type": "subscribe"}, all, false, ProtocolV2},
		{"v2 joint operator, two drones", h.Operator, map[string]any{"type": "subscribe", "drones": []string{"sysid-2", "sysid-7"}}, some, true, ProtocolV2},
		{"v2 supervisor at 2 Hz", h.Supervisor, map[string]any{"type": "subscribe", "max_rate_hz": 2}, all, false, ProtocolV2},
	}
	cs := make([]*wsClient, len(cases))
	controls := make([]map[string]bool, len(cases))
	models := make([]*v2Model, len(cases))
	takeControl := func(i int, m map[string]any) {
		for id, v := range m["commandable"].(map[string]any) {
			controls[i][id] = v.(bool)
		}
	}
	for i, c := range cases {
		cs[i] = h.dialProto(c.bearer, c.proto)
		cs[i].send(c.sub)
		controls[i] = map[string]bool{}
		if c.proto == ProtocolV2 {
			models[i] = newV2Model()
		}
		for {
			m, err := cs[i].read(5 * time.Second)
			if err != nil {
				t.Fatalf("%s: before the snapshot: %v", c.name, err)
			}
			if m["type"] == "control" {
				takeControl(i, m)
			}
			if m["type"] != "snapshot" {
				continue
			}
			if models[i] != nil {
				if _, err := models[i].apply(m); err != nil {
					t.Fatalf("%s: snapshot: %v", c.name, err)
				}
			}
			if got := dronesOf(m); len(got) != len(c.want) {
				t.Fatalf("%s: snapshot of %d drones, want %d", c.name, len(got), len(c.want))
			}
			break
		}
	}
	final := baseLat
	for r := 1; r <= rounds; r++ {
		final = baseLat + float64(r)*1e-4
		h.moveAll(final)
		time.Sleep(5 * time.Millisecond) // let some rounds go in frames of their own
	}
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := cs[i]
			latest := map[string]bool{}
			control := controls[i]
			deadline := time.Now().Add(15 * time.Second)
			for len(latest) < len(c.want) {
				m, err := cl.read(time.Until(deadline))
				if err != nil {
					t.Errorf("%s: %d of %d drones current: %v", c.name, len(latest), len(c.want), err)
					return
				}
				switch m["type"] {
				case "control":
					takeControl(i, m)
				case "states":
					ds := dronesOf(m)
					if models[i] != nil {
						if ds, err = models[i].apply(m); err != nil {
							t.Errorf("%s: %v", c.name, err)
							return
						}
					}
					for id, d := range ds {
						if !c.want[id] {
							t.Errorf("%s: got drone %s, not subscribed", c.name, id)
						}
						lat, _ := d["lat"].(float64)
						if lat > final-1e-9 {
							latest[id] = true
						} else {
							delete(latest, id) // an older state after the latest: not current
						}
					}
				}
			}
			if len(control) != len(c.want) {
				t.Errorf("%s: commandable answers for %d drones, want %d", c.name, len(control), len(c.want))
			}
			for id, v := range control {
				if !c.want[id] {
					t.Errorf("%s: control for drone %s, not subscribed", c.name, id)
				}
				if v != c.commandable {
					t.Errorf("%s: commandable[%s] %v, want %v", c.name, id, v, c.commandable)
				}
			}
		}()
	}
	wg.Wait()
	for i, m := range models {
		if m != nil && m.compact == 0 {
			t.Errorf("%s: no compact entry (%d full objects)", cases[i].name, m.full)
		}
	}
	if n := h.Srv.hub.sharedSent.Load(); n == 0 {
		t.Errorf("no shared frame was written (own messages %d)", h.Srv.hub.ownSent.Load())
	}
	if n := h.Srv.hub.ownSent.Load(); n == 0 {
		t.Errorf("no client got a message of its own (shared %d)", h.Srv.hub.sharedSent.Load())
	}
}
