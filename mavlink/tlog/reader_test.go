package tlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

func record(us uint64, frame ...byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, us)
	return append(b, frame...)
}

// v2 is a MAVLink 2 frame: HEARTBEAT-sized payload of n zero bytes (the
// checksum is not checked by this package).
func v2(seq, sys, comp uint8, msgID uint32, n int, signed bool) []byte {
	flags := byte(0)
	if signed {
		flags = 1
	}
	b := []byte{0xfd, byte(n), flags, 0, seq, sys, comp, byte(msgID), byte(msgID >> 8), byte(msgID >> 16)}
	b = append(b, make([]byte, n+2)...)
	if signed {
		b = append(b, make([]byte, 13)...)
	}
	return b
}

func TestRead(t *testing.T) {
	var log []byte
	log = append(log, record(1_000_000, v2(5, 1, 1, 0, 9, false)...)...)
	log = append(log, record(1_000_000, v2(6, 1, 1, 11030, 3, true)...)...)
	v1 := []byte{0xfe, 2, 7, 255, 190, 76, 0, 0, 0, 0}
	log = append(log, record(2_500_000, v1...)...)
	recs, err := Read(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	want := []Record{
		{Time: time.UnixMicro(1_000_000).UTC(), SysID: 1, CompID: 1, MsgID: 0, Seq: 5},
		{Time: time.UnixMicro(1_000_000).UTC(), SysID: 1, CompID: 1, MsgID: 11030, Seq: 6},
		{Time: time.UnixMicro(2_500_000).UTC(), SysID: 255, CompID: 190, MsgID: 76, Seq: 7},
	}
	lens := []int{21, 28, 10}
	for i, r := range recs {
		w := want[i]
		if !r.Time.Equal(w.Time) || r.SysID != w.SysID || r.CompID != w.CompID || r.MsgID != w.MsgID ||
			r.Seq != w.Seq || len(r.Frame) != lens[i] {
			t.Errorf("record %d: %+v (%d bytes), want %+v (%d)", i, r, len(r.Frame), w, lens[i])
		}
	}
	if got := Filter(recs, FromSystem(1)); len(got) != 2 {
		t.Errorf("filter kept %d", len(got))
	}

	_, err = Read(bytes.NewReader(log[:len(log)-3]))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v", err)
	}
	_, err = Read(bytes.NewReader(record(1, 0x55, 1, 2, 3)))
	if !errors.Is(err, ErrBadRecord) {
		t.Errorf("bad magic: %v", err)
	}
}

type writes struct {
	at  []time.Time
	buf [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.at = append(w.at, time.Now())
	w.buf = append(w.buf, append([]byte(nil), p...))
	return len(p), nil
}

func TestReplay(t *testing.T) {
	base := time.Unix(1000, 0)
	recs := []Record{
		{Time: base, Frame: []byte{1}},
		{Time: base, Frame: []byte{2}},
		{Time: base.Add(time.Second), Frame: []byte{3}},
		{Time: base.Add(2 * time.Second), Frame: []byte{4}},
	}
	var w writes
	start := time.Now()
	if err := Replay(context.Background(), &w, recs, 20); err != nil {
		t.Fatal(err)
	}
	if len(w.buf) != 3 || !bytes.Equal(w.buf[0], []byte{1, 2}) || !bytes.Equal(w.buf[2], []byte{4}) {
		t.Fatalf("writes %v", w.buf)
	}
	if d := w.at[2].Sub(start); d < 100*time.Millisecond || d > time.Second {
		t.Errorf("2 s at ×20 took %v", d)
	}
	// MinInterval spaces a burst out.
	w = writes{}
	burst := []Record{{Time: base, Frame: []byte{1}}, {Time: base.Add(time.Microsecond), Frame: []byte{2}},
		{Time: base.Add(2 * time.Microsecond), Frame: []byte{3}}}
	if err := (Replayer{Speedup: 1, MinInterval: 20 * time.Millisecond}).Replay(context.Background(), &w, burst); err != nil {
		t.Fatal(err)
	}
	if len(w.at) != 3 || w.at[2].Sub(w.at[0]) < 40*time.Millisecond {
		t.Errorf("burst writes at %v", w.at)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Replay(ctx, &w, recs, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled replay: %v", err)
	}
}

// FuzzRead: any bytes give records and at most an error, never a panic, and
// every record returned holds a whole frame of the length its header says.
func FuzzRead(f *testing.F) {
	hb := []byte{0, 0, 0, 0, 0, 0, 0, 1, // timestamp
		0xfd, 9, 0, 0, 7, 1, 1, 0, 0, 0, // v2 header: len 9, seq 7, sys 1, comp 1, msg 0
		0, 0, 0, 0, 2, 3, 0x51, 3, 3, 0x12, 0x34}
	f.Add(hb)
	f.Add(append(append([]byte(nil), hb...), hb...))
	f.Add(hb[:12])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0xfe, 2, 0, 1, 1, 0, 9, 9, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := Read(bytes.NewReader(data))
		for i, r := range recs {
			if len(r.Frame) < 8 || (r.Frame[0] != 0xfd && r.Frame[0] != 0xfe) {
				t.Fatalf("record %d: frame % x", i, r.Frame)
			}
		}
	})
}
