package mavlink

import (
	"maps"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// memMarks is a fleet.SigningMarkStore in memory that records its writes.
type memMarks struct {
	mu     sync.Mutex
	m      fleet.SigningMarks
	writes []time.Time
}

func (s *memMarks) SigningMarks() (fleet.SigningMarks, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fleet.SigningMarks{Out: s.m.Out, In: maps.Clone(s.m.In)}, nil
}

func (s *memMarks) PutSigningMarks(m fleet.SigningMarks) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = fleet.SigningMarks{Out: m.Out, In: maps.Clone(m.In)}
	s.writes = append(s.writes, time.Now())
	return nil
}

func (s *memMarks) get() (fleet.SigningMarks, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fleet.SigningMarks{Out: s.m.Out, In: maps.Clone(s.m.In)}, append([]time.Time(nil), s.writes...)
}

// The signing marks outlive a transport: a frame recorded before a restart
// and replayed after it is refused and counted, a newer one is accepted;
// the marks are written at most once a MarkInterval; and the restarted
// transport's own timestamps start above its stored mark, even one ahead
// of the clock (the clock went back).
func TestSigningMarksAcrossRestart(t *testing.T) {
	key := testKey(1)
	keys := &fleet.MemKeyStore{}
	keys.SetSysID(1, key)
	marks := &memMarks{}
	const interval = 300 * time.Millisecond
	opts := func(tr *Transport) { tr.Keys, tr.SigningMarks, tr.MarkInterval = keys, marks, interval }

	rec := newRecorder()
	tr := testTransport(t, "udp:127.0.0.1:0", rec, opts)
	veh := startRawVehicle(t, tr.Addrs()[0].(*net.UDPAddr), key)
	enc := signedEncoder(t, 1, key)
	recorded := enc.encode(t, vehicleHB())
	veh.conn.Write(recorded)
	waitFor(t, 5*time.Second, "signed vehicle linked", func() bool { return rec.vehicle(1) != nil })
	// Traffic for a while: the marks change all along.
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	for time.Since(start) < 4*interval {
		<-tick.C
		veh.conn.Write(enc.encode(t, vehicleHB()))
	}
	tick.Stop()
	waitFor(t, 2*time.Second, "server heartbeats signed", func() bool { return veh.newestTS() > 0 })
	tr.Close()
	m, writes := marks.get()
	if len(writes) < 2 {
		t.Fatalf("%d writes", len(writes))
	}
	for i := 1; i < len(writes)-1; i++ { // the last one is Close's
		if gap := writes[i].Sub(writes[i-1]); gap < interval-50*time.Millisecond {
			t.Errorf("writes %d and %d %v apart, MarkInterval %v", i-1, i, gap, interval)
		}
	}
	if m.In[1] == 0 || m.Out < veh.newestTS() {
		t.Fatalf("marks %+v, newest server timestamp %d", m, veh.newestTS())
	}

	// The clock went back an hour: the stored mark is ahead of it.
	ahead := m.Out + uint64(time.Hour/(10*time.Microsecond))
	must(t, marks.PutSigningMarks(fleet.SigningMarks{Out: ahead, In: m.In}))
	rec2 := newRecorder()
	tr2 := testTransport(t, "udp:127.0.0.1:0", rec2, opts)
	veh2 := startRawVehicle(t, tr2.Addrs()[0].(*net.UDPAddr), key)
	veh2.conn.Write(recorded)
	waitFor(t, 2*time.Second, "the replay refused", func() bool { return tr2.Stats().Replays == 1 })
	if rec2.vehicle(1) != nil {
		t.Fatal("a replayed frame linked a vehicle")
	}
	veh2.conn.Write(signedEncoder(t, 1, key).encode(t, vehicleHB()))
	waitFor(t, 2*time.Second, "a fresh frame accepted", func() bool { return rec2.vehicle(1) != nil })
	waitFor(t, 2*time.Second, "the restarted server signs", func() bool { return veh2.newestTS() > 0 })
	if got := veh2.newestTS(); got <= ahead {
		t.Errorf("restarted server's timestamp %d not above its stored mark %d", got, ahead)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
