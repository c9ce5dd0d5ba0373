package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/gorilla/websocket"
)

// posKeys are the full object's fields a compact entry carries, in its
// order after ix; missionPosKeys those of "mission" it carries after them.
var (
	posKeys        = []string{"lat", "lon", "alt_m", "alt_msl_m", "heading_deg", "speed_ms", "climb_ms", "last_seen"}
	missionPosKeys = []string{"pct", "remaining_m", "eta_s"}
)

// telKeys are the full object's fields a status entry carries, in its
// order after ix: an object's name and a field of it.
var telKeys = [][2]string{{"battery", "pct"}, {"battery", "voltage_v"}, {"battery", "current_a"},
	{"gps", "fix"}, {"gps", "sats"}, {"gps", "hdop"},
	{"link_quality", "rate_hz"}, {"link_quality", "loss_pct"}, {"link_quality", "lost"}}

// v2Model is what a protocol 2 client knows of the drones: their objects
// with the compact and status entries applied, as the page does.
type v2Model struct {
	drones map[string]map[string]any
	byIx   map[int]string
	// full, compact and tel count what it applied; fullOf counts the full
	// objects by drone.
	full, compact, tel int
	fullOf             map[string]int
}

func newV2Model() *v2Model {
	return &v2Model{drones: map[string]map[string]any{}, byIx: map[int]string{}, fullOf: map[string]int{}}
}

// apply applies a snapshot or states message and returns the drones it
// changed, by id (their objects after it).
func (v *v2Model) apply(m map[string]any) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	list, _ := m["drones"].([]any)
	for _, d := range list {
		dm := d.(map[string]any)
		id, _ := dm["id"].(string)
		ix, ok := dm["ix"].(float64)
		if !ok {
			return nil, fmt.Errorf("full object of %s without ix: %v", id, dm)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("drone %s twice in a message", id)
		}
		v.byIx[int(ix)] = id
		v.drones[id] = dm
		out[id] = dm
		v.full++
		v.fullOf[id]++
	}
	pos, ok := m["pos"].([]any)
	if !ok {
		return nil, fmt.Errorf("protocol 2 message without pos: %v", m)
	}
	inPos := map[string]bool{}
	for _, p := range pos {
		e := p.([]any)
		if len(e) != posFields && len(e) != posMissionFields {
			return nil, fmt.Errorf("compact entry of %d fields: %v", len(e), e)
		}
		id, ok := v.byIx[int(e[0].(float64))]
		if !ok {
			return nil, fmt.Errorf("compact entry before the drone's full object: %v", e)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("drone %s twice in a message", id)
		}
		inPos[id] = true
		d := map[string]any{}
		for k, x := range v.drones[id] {
			d[k] = x
		}
		for i, k := range posKeys[:len(posKeys)-1] {
			d[k] = e[i+1]
		}
		d["last_seen"] = time.UnixMilli(int64(e[posFields-1].(float64))).UTC().Format(time.RFC3339Nano)
		if len(e) == posMissionFields {
			mis := map[string]any{}
			for k, x := range d["mission"].(map[string]any) {
				mis[k] = x
			}
			for i, k := range missionPosKeys {
				mis[k] = e[posFields+i]
			}
			d["mission"] = mis
		}
		v.drones[id] = d
		out[id] = d
		v.compact++
	}
	tel, ok := m["tel"].([]any)
	if !ok {
		return nil, fmt.Errorf("protocol 2 message without tel: %v", m)
	}
	inTel := map[string]bool{}
	for _, p := range tel {
		e := p.([]any)
		if len(e) != telFields {
			return nil, fmt.Errorf("status entry of %d fields: %v", len(e), e)
		}
		id, ok := v.byIx[int(e[0].(float64))]
		if !ok {
			return nil, fmt.Errorf("status entry before the drone's full object: %v", e)
		}
		if inTel[id] {
			return nil, fmt.Errorf("drone %s twice in tel", id)
		}
		if !inPos[id] {
			return nil, fmt.Errorf("status entry of %s, not in pos: %v", id, e)
		}
		inTel[id] = true
		d := v.drones[id]
		for _, obj := range []string{"battery", "gps", "link_quality"} {
			o := map[string]any{}
			for k, x := range d[obj].(map[string]any) {
				o[k] = x
			}
			d[obj] = o
		}
		for i, k := range telKeys {
			d[k[0]].(map[string]any)[k[1]] = e[i+1]
		}
		v.tel++
	}
	return out, nil
}

// sameDrone compares a protocol 1 object with a protocol 2 client's, ix
// left out and last_seen to the millisecond (a compact entry's precision).
func sameDrone(v1, v2 map[string]any) error {
	a, b := map[string]any{}, map[string]any{}
	for k, x := range v1 {
		a[k] = x
	}
	for k, x := range v2 {
		b[k] = x
	}
	delete(b, "ix")
	for _, m := range []map[string]any{a, b} {
		if s, ok := m["last_seen"].(string); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return err
			}
			m["last_seen"] = t.UnixMilli()
		}
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return fmt.Errorf("protocol 1 %s\nprotocol 2 %s", ja, jb)
	}
	return nil
}

// testStates are drone states of every shape a compact entry and a
// status entry have.
func testStates() []fleet.DroneState {
	seen := time.Date(2026, 12, 1, 23, 0, 0, 123456789, time.UTC)
	base := fleet.DroneState{ID: "sysid-1", Name: "halcon-1", Agency: agencyJoint, SysID: 1, Link: "udp:127.0.0.1:14550",
		LinkState: fleet.LinkStateUp, Mode: "AUTO", Armed: true, Landed: fleet.LandedInAir, HasPosition: true,
		Position: fleet.Position{Lat: 32.54312345678, Lon: -117.02987654321, RelAlt: 40.26}, AltMSL: 62.14,
		GroundSpeed: 9.8765, Climb: -0.125, Heading: 271.55, LastSeen: seen,
		Battery: fleet.Battery{VoltageV: 12.1049, CurrentA: 14.2, RemainingPct: 81, ConsumedMAh: 1200},
		GPS:     fleet.GPSState{FixType: 3, Satellites: 11, HDOP: 0.7451},
		Quality: fleet.LinkQuality{RateHz: 47.26, LossPct: 0.12345, Received: 24301, Lost: 30, ParseErrors: 2},
		Mission: fleet.MissionStatus{ETA: -1}}
	onMission := base
	onMission.Mission = fleet.MissionStatus{State: fleet.MissionStateRunning, MissionID: "m-1", Items: 9, CurrentSeq: 4,
		Percent: 37.54, Remaining: 820.4, ETA: 84400 * time.Millisecond}
	noHeading := base // and unknown battery, satellites and HDOP, no link rate yet
	noHeading.Heading, noHeading.Climb = math.NaN(), 0
	noHeading.Battery = fleet.Battery{VoltageV: math.NaN(), CurrentA: math.NaN(), RemainingPct: -1, ConsumedMAh: math.NaN()}
	noHeading.GPS = fleet.GPSState{FixType: 1, Satellites: -1, HDOP: math.NaN()}
	noHeading.Quality = fleet.LinkQuality{}
	noETA := onMission
	noETA.Mission.ETA = -1
	noETA.Battery.CurrentA = math.Inf(1)
	far := base
	far.Position = fleet.Position{Lat: -89.9999999, Lon: 179.9999999, RelAlt: -3.04}
	far.AltMSL, far.GroundSpeed = 8848.86, 0
	return []fleet.DroneState{base, onMission, noHeading, noETA, far}
}

// TestPosEntryRoundTrip: a compact entry decodes to the same values as
// the state's full object, with and without mission progress, unknown
// heading or ETA (null).
func TestPosEntryRoundTrip(t *testing.T) {
	for i, d := range testStates() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			full, err := json.Marshal(droneOf(d))
			if err != nil {
				t.Fatal(err)
			}
			var obj, objIx map[string]any
			if err := json.Unmarshal(full, &obj); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(appendIx(nil, full, 17), &objIx); err != nil || objIx["ix"] != float64(17) {
				t.Fatalf("with ix: %v %v", objIx, err)
			}
			entry := appendPos(nil, 17, d)
			var e []any
			if err := json.Unmarshal(entry, &e); err != nil {
				t.Fatalf("entry %s: %v", entry, err)
			}
			m := newV2Model()
			stale := map[string]any{}
			for k, x := range objIx {
				stale[k] = x
			}
			for _, k := range posKeys {
				stale[k] = "stale"
			}
			m.byIx[17], m.drones[d.ID] = d.ID, stale
			if d.Mission.State != fleet.MissionStateNone {
				mis := map[string]any{}
				for k, x := range obj["mission"].(map[string]any) {
					mis[k] = x
				}
				for _, k := range missionPosKeys {
					mis[k] = "stale"
				}
				stale["mission"] = mis
			}
			got, err := m.apply(map[string]any{"drones": []any{}, "pos": []any{e}, "tel": []any{}})
			if err != nil {
				t.Fatalf("entry %s: %v", entry, err)
			}
			if err := sameDrone(obj, got[d.ID]); err != nil {
				t.Errorf("entry %s:\n%v", entry, err)
			}
		})
	}
}

// TestTelEntryRoundTrip: a status entry, applied after the compact
// entry of the same message, leaves a protocol 2 client with the state's
// full object, its battery, GPS and link quality included: the same
// values, unknown ones (NaN, ±Inf) null.
func TestTelEntryRoundTrip(t *testing.T) {
	for i, d := range testStates() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			full, err := json.Marshal(droneOf(d))
			if err != nil {
				t.Fatal(err)
			}
			var obj, stale map[string]any
			if err := json.Unmarshal(full, &obj); err != nil {
				t.Fatal(err)
			}
			// The client's object is of an older state: other position
			// and status telemetry.
			old := d
			old.Position.Lat += 0.001
			old.Battery = fleet.Battery{VoltageV: 16.8, CurrentA: 0.5, RemainingPct: 100}
			old.GPS = fleet.GPSState{FixType: 6, Satellites: 20, HDOP: 0.4}
			old.Quality = fleet.LinkQuality{RateHz: 9.9, LossPct: 50, Lost: 1}
			b, _ := json.Marshal(droneOf(old))
			if err := json.Unmarshal(appendIx(nil, b, 17), &stale); err != nil {
				t.Fatal(err)
			}
			pos, tel := appendPos(nil, 17, d), appendTel(nil, 17, d)
			var pe, te []any
			if err := json.Unmarshal(pos, &pe); err != nil {
				t.Fatalf("entry %s: %v", pos, err)
			}
			if err := json.Unmarshal(tel, &te); err != nil {
				t.Fatalf("status entry %s: %v", tel, err)
			}
			if len(te) != telFields || te[0] != float64(17) {
				t.Fatalf("status entry %s: want %d fields, ix 17", tel, telFields)
			}
			for j, k := range telKeys {
				if want := obj[k[0]].(map[string]any)[k[1]]; te[j+1] != want {
					t.Errorf("status entry %s: %s.%s %v, the full object's %v", tel, k[0], k[1], te[j+1], want)
				}
			}
			if math.IsNaN(d.GPS.HDOP) && te[6] != nil {
				t.Errorf("status entry %s: hdop of NaN not null", tel)
			}
			m := newV2Model()
			m.byIx[17], m.drones[d.ID] = d.ID, stale
			got, err := m.apply(map[string]any{"drones": []any{}, "pos": []any{pe}, "tel": []any{te}})
			if err != nil {
				t.Fatalf("entries %s %s: %v", pos, tel, err)
			}
			if err := sameDrone(obj, got[d.ID]); err != nil {
				t.Errorf("entries %s %s:\n%v", pos, tel, err)
			}
			if m.compact != 1 || m.tel != 1 {
				t.Errorf("applied %d compact, %d status entries", m.compact, m.tel)
			}
		})
	}
	// What the model refuses, as a client should never see it.
	d := testStates()[0]
	b, _ := json.Marshal(droneOf(d))
	for _, tc := range []struct {
		name string
		msg  string
	}{
		{"no tel", `{"drones":[],"pos":[` + string(appendPos(nil, 3, d)) + `]}`},
		{"tel without pos", `{"drones":[],"pos":[],"tel":[` + string(appendTel(nil, 3, d)) + `]}`},
		{"tel before the full object", `{"drones":[],"pos":[` + string(appendPos(nil, 3, d)) + `],"tel":[` + string(appendTel(nil, 4, d)) + `]}`},
		{"twice in tel", `{"drones":[],"pos":[` + string(appendPos(nil, 3, d)) + `],"tel":[` + string(appendTel(nil, 3, d)) + `,` + string(appendTel(nil, 3, d)) + `]}`},
		{"short tel", `{"drones":[],"pos":[` + string(appendPos(nil, 3, d)) + `],"tel":[[3,1,2]]}`},
	} {
		m := newV2Model()
		var obj, msg map[string]any
		json.Unmarshal(appendIx(nil, b, 3), &obj)
		m.byIx[3], m.drones[d.ID] = d.ID, obj
		if err := json.Unmarshal([]byte(tc.msg), &msg); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := m.apply(msg); err == nil {
			t.Errorf("%s: applied %s", tc.name, tc.msg)
		}
	}
}

// TestSlowKeyCoversObject: changing any field of a drone's state changes
// its compact entry, its status entry or its slowKey whenever it changes
// its full object, so that no change reaches a protocol 2 client as
// entries that leave it out; a change of the status entry's part changes
// its telKey (else the hub would not send it), and a change of battery,
// GPS or link quality leaves the slowKey as it was (it goes as entries,
// not as a full object). Each numeric, boolean, string and time leaf of
// fleet.DroneState is changed in turn.
func TestSlowKeyCoversObject(t *testing.T) {
	var paths [][]int // the leaves of DroneState, as field index paths
	var walk func(path []int, typ reflect.Type)
	walk = func(path []int, typ reflect.Type) {
		if typ.Kind() == reflect.Struct && typ != reflect.TypeOf(time.Time{}) {
			for i := 0; i < typ.NumField(); i++ {
				if typ.Field(i).IsExported() {
					walk(append(append([]int(nil), path...), i), typ.Field(i).Type)
				}
			}
			return
		}
		paths = append(paths, path)
	}
	walk(nil, reflect.TypeOf(fleet.DroneState{}))
	if len(paths) < 40 {
		t.Fatalf("%d fields of DroneState", len(paths))
	}
	// telPart is what of d's full object a status entry carries.
	telPart := func(d fleet.DroneState) map[string]any {
		b, _ := json.Marshal(droneOf(d))
		var o map[string]any
		json.Unmarshal(b, &o)
		return map[string]any{"battery": o["battery"], "gps": o["gps"], "link_quality": o["link_quality"]}
	}
	// slowPart is d's full object without what a compact entry and a
	// status entry carry.
	slowPart := func(d fleet.DroneState) map[string]any {
		b, _ := json.Marshal(droneOf(d))
		var o map[string]any
		json.Unmarshal(b, &o)
		for _, k := range posKeys {
			delete(o, k)
		}
		for k := range telPart(d) {
			delete(o, k)
		}
		if d.Mission.State != fleet.MissionStateNone {
			for _, k := range missionPosKeys {
				delete(o["mission"].(map[string]any), k)
			}
		}
		return o
	}
	for i, d := range testStates()[:3] {
		full0, _ := json.Marshal(droneOf(d))
		pos0, slow0, part0 := string(appendPos(nil, 0, d)), slowOf(d), slowPart(d)
		tel0, telK0, telPart0 := string(appendTel(nil, 0, d)), telOf(d), telPart(d)
		telChanges := 0 // the fields whose change changed the status entry
		for _, path := range paths {
			d2 := d
			f := reflect.ValueOf(&d2).Elem().FieldByIndex(path)
			name := reflect.TypeOf(d).FieldByIndex(path[:1]).Name
			switch f.Kind() {
			case reflect.Struct: // time.Time
				f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(1500 * time.Millisecond)))
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				if f.Type() == reflect.TypeOf(time.Duration(0)) {
					f.SetInt(f.Int() + int64(3*time.Second))
				} else {
					f.SetInt(f.Int() + 1)
				}
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				f.SetUint(f.Uint() + 1)
			case reflect.Float32, reflect.Float64:
				if math.IsNaN(f.Float()) {
					f.SetFloat(1)
				} else {
					f.SetFloat(f.Float() + 1.5)
				}
			default:
				t.Fatalf("field %s of kind %s: extend the test", name, f.Kind())
			}
			full1, _ := json.Marshal(droneOf(d2))
			keyChanged := slowOf(d2) != slow0
			tel1 := string(appendTel(nil, 0, d2))
			telChanged := tel1 != tel0
			if !reflect.DeepEqual(slowPart(d2), part0) && !keyChanged {
				t.Errorf("state %d, %s %v: the full object changed outside the compact and status entries, the slowKey did not", i, name, path)
			}
			if !reflect.DeepEqual(telPart(d2), telPart0) && !telChanged {
				t.Errorf("state %d, %s %v: battery, gps or link_quality changed, the status entry %s did not", i, name, path, tel1)
			}
			if telChanged && telOf(d2) == telK0 {
				t.Errorf("state %d, %s %v: the status entry changed (%s to %s), its telKey did not", i, name, path, tel0, tel1)
			}
			if string(full1) != string(full0) && !keyChanged && compactable(d2) && string(appendPos(nil, 0, d2)) == pos0 && !telChanged {
				t.Errorf("state %d, %s %v: the full object changed, neither the compact entry, the status entry nor the slowKey did", i, name, path)
			}
			switch name {
			case "Battery", "GPS", "Quality":
				if keyChanged {
					t.Errorf("state %d, %s %v: a status telemetry change changed the slowKey: it would go as a full object", i, name, path)
				}
				if telChanged {
					telChanges++
				}
			default:
				if telChanged {
					t.Errorf("state %d, %s %v: changed the status entry", i, name, path)
				}
			}
		}
		if telChanges != telFields-1 {
			t.Errorf("state %d: %d fields of Battery, GPS and Quality changed the status entry, want %d", i, telChanges, telFields-1)
		}
	}
}

// TestWSProtocolV2: a protocol 2 client gets full objects with ix in its
// snapshot, compact entries for moves, a full object again when anything
// else changes, and ends with the same picture as a protocol 1 client
// connected at the same time, which gets today's format (no ix, no pos).
func TestWSProtocolV2(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	h.addDrone(2, 0, 0, false) // no fix: never compact
	h.addDrone(3, baseLat, baseLon+0.01, true)
	h.waitHub(3)
	c1, c2 := h.dial(h.Operator), h.dialProto(h.Operator, ProtocolV2)
	for _, c := range []*wsClient{c1, c2} {
		c.send(map[string]any{"type": "subscribe"})
	}
	s1 := c1.next("snapshot", 5*time.Second)
	if _, ok := s1["pos"]; ok {
		t.Errorf("protocol 1 snapshot with pos: %v", s1)
	}
	v1 := dronesOf(s1)
	for id, d := range v1 {
		if _, ok := d["ix"]; ok {
			t.Errorf("protocol 1 object of %s with ix", id)
		}
	}
	m := newV2Model()
	snap, err := m.apply(c2.next("snapshot", 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap) != 3 || m.full != 3 || m.compact != 0 {
		t.Fatalf("protocol 2 snapshot: %d drones, %d full, %d compact", len(snap), m.full, m.compact)
	}
	if len(m.byIx) != 3 {
		t.Errorf("indexes %v, want 3 distinct", m.byIx)
	}

	// read reads c's states until until(its drones) holds.
	read := func(c *wsClient, proto int, until func(map[string]map[string]any) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !until(map[int]map[string]map[string]any{ProtocolV1: v1, ProtocolV2: m.drones}[proto]) {
			msg := c.next("states", time.Until(deadline))
			if proto == ProtocolV1 {
				if _, ok := msg["pos"]; ok {
					t.Fatalf("protocol 1 states with pos: %v", msg)
				}
				for id, d := range dronesOf(msg) {
					if _, ok := d["ix"]; ok {
						t.Fatalf("protocol 1 object of %s with ix", id)
					}
					v1[id] = d
				}
			} else if _, err := m.apply(msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := func(lat float64) func(map[string]map[string]any) bool {
		return func(ds map[string]map[string]any) bool {
			return ds["sysid-1"]["lat"] == lat && ds["sysid-3"]["lat"] == lat
		}
	}
	const moves = 20
	lat := baseLat
	for i := 1; i <= moves; i++ {
		lat = baseLat + float64(i)*1e-4
		lat = float64(round(lat, 7))
		h.move(1, lat, baseLon)
		h.move(3, lat, baseLon+0.01)
		time.Sleep(2 * time.Millisecond) // some moves in frames of their own
	}
	read(c1, ProtocolV1, at(lat))
	full0 := m.full
	read(c2, ProtocolV2, at(lat))
	if m.compact == 0 {
		t.Fatalf("no compact entry in %d moves (%d full objects)", moves, m.full-full0)
	}
	for id := range v1 {
		if err := sameDrone(v1[id], m.drones[id]); err != nil {
			t.Errorf("%s after moves: %v", id, err)
		}
	}

	// A change of mode is a full object; moves after it compact again.
	h.mu.Lock()
	v := h.vehicles[1]
	h.mu.Unlock()
	fleettest.Feed(h.Fleet, v, fleettest.Copter(fleettest.RTL, false, fleettest.StatusStandby))
	rtl := func(ds map[string]map[string]any) bool { return ds["sysid-1"]["mode"] == "RTL" }
	read(c1, ProtocolV1, rtl)
	full0 = m.full
	read(c2, ProtocolV2, rtl)
	if m.full == full0 {
		t.Error("the mode change came in no full object")
	}
	compact0 := m.compact
	lat = float64(round(lat+1e-4, 7))
	h.move(1, lat, baseLon)
	h.move(3, lat, baseLon+0.01)
	read(c1, ProtocolV1, at(lat))
	read(c2, ProtocolV2, at(lat))
	if m.compact == compact0 {
		t.Error("the moves after the mode change came in no compact entry")
	}
	for id := range v1 {
		if err := sameDrone(v1[id], m.drones[id]); err != nil {
			t.Errorf("%s at the end: %v", id, err)
		}
	}
	if m.drones["sysid-2"]["has_position"] != false {
		t.Errorf("sysid-2 without a fix: %v", m.drones["sysid-2"])
	}
}

// TestWSNegotiation: the subprotocol offered chooses the version; a
// client offering only versions the server does not speak is refused
// with a clear error, and nothing is upgraded.
func TestWSNegotiation(t *testing.T) {
	h := newHarness(t, nil)
	url := "ws://" + h.Srv.ListenAddr().String() + "/ws"
	origin := http.Header{"Origin": {strings.TrimSuffix(h.Srv.URL(), "/")}}
	for _, tc := range []struct {
		name    string
		offered []string
		chosen  string
		proto   int
	}{
		{"v2 and v1", []string{SubprotocolV2, Subprotocol}, SubprotocolV2, ProtocolV2},
		{"v1 and v2", []string{Subprotocol, SubprotocolV2}, SubprotocolV2, ProtocolV2},
		{"v2 and a newer one", []string{"centinela.v3", SubprotocolV2}, SubprotocolV2, ProtocolV2},
		{"v1", []string{Subprotocol}, Subprotocol, ProtocolV1},
		{"none", nil, "", ProtocolV1},
		{"another kind only", []string{"graphql-ws"}, "", ProtocolV1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := websocket.Dialer{Subprotocols: append(tc.offered, "bearer."+h.Supervisor)}
			conn, res, err := d.Dial(url, origin)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := res.Header.Get("Sec-WebSocket-Protocol"); got != tc.chosen {
				t.Errorf("subprotocol %q, want %q", got, tc.chosen)
			}
			c := &wsClient{t: t, Conn: conn}
			if m := c.next("hello", 5*time.Second); m["protocol"] != float64(tc.proto) {
				t.Errorf("hello %v, want protocol %d", m, tc.proto)
			}
		})
	}
	t.Run("only unknown versions", func(t *testing.T) {
		// The clients above are closed; the server notices each a moment
		// later.
		waitFor(t, "the earlier clients gone", 5*time.Second, func() bool { return h.Srv.Stats().Clients == 0 })
		d := websocket.Dialer{Subprotocols: []string{"centinela.v9", "bearer." + h.Supervisor}}
		conn, res, err := d.Dial(url, origin)
		if err == nil {
			conn.Close()
			t.Fatal("upgraded")
		}
		if res == nil || res.StatusCode != http.StatusBadRequest {
			t.Fatalf("answer %v, want 400", res)
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if body.Error.Code != string(fleet.Invalid) || !strings.Contains(body.Error.Message, "centinela.v9") ||
			!strings.Contains(body.Error.Message, SubprotocolV2) {
			t.Errorf("error %+v", body.Error)
		}
		if n := h.Srv.Stats().Clients; n != 0 {
			t.Errorf("%d clients connected", n)
		}
	})
}

// TestWSLastSeenOnly: states that move nothing of a drone's object but
// last_seen (a vehicle's attitude, heartbeats) reach the clients at most
// about once a second, in both protocols, while a move still comes at
// once; a client connecting later gets the latest state.
func TestWSLastSeenOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.addDrone(1, baseLat, baseLon, true)
	h.waitHub(1)
	c1, c2 := h.dial(h.Operator), h.dialProto(h.Operator, ProtocolV2)
	for _, c := range []*wsClient{c1, c2} {
		c.send(map[string]any{"type": "subscribe"})
	}
	c1.next("snapshot", 5*time.Second)
	m := newV2Model()
	if _, err := m.apply(c2.next("snapshot", 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The same position again and again for 1.5 s: only last_seen moves.
	stop := time.Now().Add(1500 * time.Millisecond)
	fed := 0
	for time.Now().Before(stop) {
		h.move(1, baseLat, baseLon)
		fed++
		time.Sleep(10 * time.Millisecond)
	}
	// Then a move, which must come at once.
	lat := float64(round(baseLat+1e-4, 7))
	h.move(1, lat, baseLon)
	count := func(c *wsClient, proto int) int {
		n := 0
		deadline := time.Now().Add(5 * time.Second)
		for {
			msg := c.next("states", time.Until(deadline))
			var ds map[string]map[string]any
			if proto == ProtocolV1 {
				ds = dronesOf(msg)
			} else {
				var err error
				if ds, err = m.apply(msg); err != nil {
					t.Fatal(err)
				}
			}
			d, ok := ds["sysid-1"]
			if !ok {
				continue
			}
			if d["lat"] == lat {
				return n
			}
			n++
		}
	}
	// 150 states over 1.5 s: one a second, and one more for the timing of
	// the first, may go.
	for _, c := range []struct {
		c     *wsClient
		proto int
	}{{c1, ProtocolV1}, {c2, ProtocolV2}} {
		if n := count(c.c, c.proto); n > 3 {
			t.Errorf("protocol %d: %d states of the %d that moved only last_seen, want at most 3", c.proto, n, fed)
		}
	}
	// The latest state is what the hub keeps for a new client: its
	// last_seen is the move's.
	d, err := h.Fleet.Drone("sysid-1")
	if err != nil {
		t.Fatal(err)
	}
	c3 := h.dial(h.Operator)
	c3.send(map[string]any{"type": "subscribe"})
	got := dronesOf(c3.next("snapshot", 5*time.Second))["sysid-1"]
	if got["lat"] != lat || got["last_seen"] != d.LastSeen.UTC().Format(time.RFC3339Nano) {
		t.Errorf("snapshot lat %v last_seen %v, want %v and %v", got["lat"], got["last_seen"], lat, d.LastSeen.UTC().Format(time.RFC3339Nano))
	}
}

// TestSamePosButTime: compact entries equal but for t_ms, with and
// without mission progress.
func TestSamePosButTime(t *testing.T) {
	for _, d := range testStates() {
		a := appendPos(nil, 3, d)
		later := d
		later.LastSeen = later.LastSeen.Add(300 * time.Millisecond)
		moved := later
		moved.Position.Lat += 1e-5
		if !samePosButTime(a, appendPos(nil, 3, later)) {
			t.Errorf("%s and %s: only t_ms differs", a, appendPos(nil, 3, later))
		}
		if samePosButTime(a, appendPos(nil, 3, moved)) || samePosButTime(a, appendPos(nil, 4, d)) {
			t.Errorf("%s: a move or another index counted as the same", a)
		}
		if d.Mission.State != fleet.MissionStateNone {
			progressed := later
			progressed.Mission.Percent += 1
			if samePosButTime(a, appendPos(nil, 3, progressed)) {
				t.Errorf("%s: mission progress counted as the same", a)
			}
		}
	}
}
