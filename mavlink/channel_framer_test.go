package mavlink

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// parsed is one result of a frame reader: a frame's fields and message, or
// a parse error.
type parsed struct {
	err                                  bool
	v2                                   bool
	incompat, compat, seq, sysID, compID byte
	checksum                             uint16
	sigLink                              byte
	sigTS                                uint64
	sig                                  *frame.V2Signature
	msg                                  message.Message // a copy
	rawID                                uint32          // a MessageRaw's
	raw                                  []byte
}

func (p parsed) String() string {
	if p.err {
		return "error"
	}
	return fmt.Sprintf("v2=%v flags=%d/%d seq=%d sys=%d comp=%d sum=%04x sig=%d/%d/%v raw=%d:%x msg=%#v",
		p.v2, p.incompat, p.compat, p.seq, p.sysID, p.compID, p.checksum, p.sigLink, p.sigTS, p.sig,
		p.rawID, p.raw, p.msg)
}

// summarize copies what a reader returned: the framer reuses its frames.
func summarize(fr frame.Frame) parsed {
	var p parsed
	switch f := fr.(type) {
	case *frame.V1Frame:
		p.seq, p.sysID, p.compID, p.checksum = f.SequenceNumber, f.SystemID, f.ComponentID, f.Checksum
	case *frame.V2Frame:
		p.v2 = true
		p.incompat, p.compat = f.IncompatibilityFlag, f.CompatibilityFlag
		p.seq, p.sysID, p.compID, p.checksum = f.SequenceNumber, f.SystemID, f.ComponentID, f.Checksum
		p.sigLink, p.sigTS = f.SignatureLinkID, f.SignatureTimestamp
		if f.Signature != nil {
			s := *f.Signature
			p.sig = &s
		}
	default:
		panic(fmt.Sprintf("frame %T", fr))
	}
	if raw, ok := fr.GetMessage().(*message.MessageRaw); ok {
		p.rawID, p.raw = raw.ID, bytes.Clone(raw.Payload)
		return p
	}
	m := reflect.ValueOf(fr.GetMessage())
	c := reflect.New(m.Type().Elem())
	c.Elem().Set(m.Elem())
	p.msg = c.Interface().(message.Message)
	return p
}

// sameParsed compares two results; messages field by field with floats
// compared by their bits (reflect.DeepEqual, but a NaN equals itself).
func sameParsed(a, b parsed) bool {
	if a.err || b.err {
		return a.err == b.err
	}
	if a.v2 != b.v2 || a.incompat != b.incompat || a.compat != b.compat || a.seq != b.seq ||
		a.sysID != b.sysID || a.compID != b.compID || a.checksum != b.checksum ||
		a.sigLink != b.sigLink || a.sigTS != b.sigTS || (a.sig == nil) != (b.sig == nil) ||
		(a.sig != nil && *a.sig != *b.sig) || a.rawID != b.rawID || !bytes.Equal(a.raw, b.raw) ||
		(a.msg == nil) != (b.msg == nil) {
		return false
	}
	return a.msg == nil || sameBits(reflect.ValueOf(a.msg), reflect.ValueOf(b.msg))
}

func sameBits(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer:
		return sameBits(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameBits(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameBits(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Float32:
		return math.Float32bits(float32(a.Float())) == math.Float32bits(float32(b.Float()))
	case reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	}
	return a.Interface() == b.Interface()
}

// readGomavlib reads data with gomavlib's frame reader, as the transport
// did before its own framer.
func readGomavlib(drw *dialect.ReadWriter, data []byte) []parsed {
	r := &frame.Reader{BufByteReader: bufio.NewReaderSize(bytes.NewReader(data), framerBuf), DialectRW: drw}
	var out []parsed
	for {
		fr, err := r.Read()
		if err != nil {
			if _, ok := err.(frame.ReadError); ok {
				out = append(out, parsed{err: true})
				continue
			}
			return out
		}
		out = append(out, summarize(fr))
	}
}

// readDatagram parses data as the UDP listener does.
func readDatagram(mt *msgTable, data []byte) []parsed {
	f := newDatagramFramer(mt)
	var out []parsed
	for b := data; len(b) > 0; {
		n, fr, err := f.frameAt(b)
		if n <= 0 {
			panic("no progress")
		}
		b = b[n:]
		if err != nil {
			out = append(out, parsed{err: true})
			continue
		}
		out = append(out, summarize(fr))
	}
	return out
}

// readStream parses data as a TCP connection's reader does.
func readStream(mt *msgTable, data []byte) []parsed {
	f := newStreamFramer(bytes.NewReader(data), mt)
	var out []parsed
	for {
		fr, err, end := f.next()
		if end != nil {
			return out
		}
		if err != nil {
			out = append(out, parsed{err: true})
			continue
		}
		out = append(out, summarize(fr))
	}
}

// framerFixture is the dialect in both readers' forms.
type framerFixture struct {
	drw *dialect.ReadWriter
	mt  *msgTable
}

func newFramerFixture(tb testing.TB) framerFixture {
	tb.Helper()
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		tb.Fatal(err)
	}
	return framerFixture{drw, newMsgTable(drw)}
}

// compare fails unless the framer, on datagrams and on streams, reads data
// as gomavlib does.
func (fx framerFixture) compare(tb testing.TB, what string, data []byte) {
	tb.Helper()
	want := readGomavlib(fx.drw, data)
	for _, c := range []struct {
		name string
		got  []parsed
	}{{"datagram", readDatagram(fx.mt, data)}, {"stream", readStream(fx.mt, data)}} {
		for i := range max(len(want), len(c.got)) {
			switch {
			case i >= len(c.got):
				tb.Fatalf("%s, %s: result %d missing, gomavlib: %v\ninput %x", what, c.name, i, want[i], data)
			case i >= len(want):
				tb.Fatalf("%s, %s: result %d extra: %v\ninput %x", what, c.name, i, c.got[i], data)
			case !sameParsed(want[i], c.got[i]):
				tb.Fatalf("%s, %s: result %d\n got %v\nwant %v\ninput %x", what, c.name, i, c.got[i], want[i], data)
			}
		}
	}
}

// randomMessage returns a message of proto's type with random fields,
// each left zero with probability zero (so that MAVLink 2 payloads are
// truncated).
func randomMessage(rnd *rand.Rand, proto message.Message, zero float64) message.Message {
	v := reflect.New(reflect.TypeOf(proto).Elem())
	e := v.Elem()
	for i := range e.NumField() {
		if rnd.Float64() < zero {
			continue
		}
		sf := e.Type().Field(i)
		fv := e.Field(i)
		if fv.Kind() == reflect.Array {
			for j := range fv.Len() {
				randomValue(rnd, fv.Index(j), sf)
			}
			continue
		}
		randomValue(rnd, fv, sf)
	}
	return v.Interface().(message.Message)
}

func randomValue(rnd *rand.Rand, v reflect.Value, sf reflect.StructField) {
	if enum := sf.Tag.Get("mavenum"); enum != "" {
		bits := map[string]int{"uint8": 8, "int8": 8, "uint16": 16, "uint32": 32, "int32": 32, "uint64": 64}[enum]
		x := rnd.Uint64()
		if bits < 64 {
			x &= 1<<bits - 1
		}
		v.SetUint(x)
		return
	}
	switch v.Kind() {
	case reflect.String:
		n := 1
		if l := sf.Tag.Get("mavlen"); l != "" {
			n, _ = strconv.Atoi(l)
		}
		b := make([]byte, rnd.IntN(n+1))
		for i := range b {
			b[i] = byte(' ' + rnd.IntN(95))
		}
		v.SetString(string(b))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rnd.Uint64()) >> (64 - v.Type().Bits()))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rnd.Uint64() >> (64 - v.Type().Bits()))
	case reflect.Float32:
		v.SetFloat(float64(math.Float32frombits(rnd.Uint32())))
		if math.IsNaN(v.Float()) {
			v.SetFloat(rnd.Float64())
		}
	case reflect.Float64:
		v.SetFloat(math.Float64frombits(rnd.Uint64()))
		if math.IsNaN(v.Float()) {
			v.SetFloat(rnd.Float64())
		}
	default:
		panic(fmt.Sprintf("field %s: kind %v", sf.Name, v.Kind()))
	}
}

// gomavlibFrames encodes every message of the dialect, random fields, with
// gomavlib's writer: MAVLink 1 (ids up to 255), MAVLink 2 unsigned and
// signed, with all fields set and with many left zero (truncated payloads).
func gomavlibFrames(tb testing.TB, rnd *rand.Rand, drw *dialect.ReadWriter) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	key := frame.NewV2Key(bytes.Repeat([]byte{7}, 32))
	var frames [][]byte
	for vi, w := range []*frame.Writer{
		{ByteWriter: &buf, DialectRW: drw, OutVersion: frame.V1, OutSystemID: 1, OutComponentID: 1},
		{ByteWriter: &buf, DialectRW: drw, OutVersion: frame.V2, OutSystemID: 2, OutComponentID: 1},
		{ByteWriter: &buf, DialectRW: drw, OutVersion: frame.V2, OutSystemID: 3, OutComponentID: 1,
			OutKey: key, OutSignatureLinkID: 5},
	} {
		if err := w.Initialize(); err != nil {
			tb.Fatal(err)
		}
		for _, proto := range drw.Dialect.Messages {
			if vi == 0 && proto.GetID() > 255 {
				continue
			}
			for _, zero := range []float64{0, 0.5, 1} {
				buf.Reset()
				if err := w.WriteMessage(randomMessage(rnd, proto, zero)); err != nil {
					tb.Fatalf("%T: %v", proto, err)
				}
				frames = append(frames, bytes.Clone(buf.Bytes()))
			}
		}
	}
	return frames
}

// craftedFrame is a frame with a good checksum whatever its payload: any
// length (gomavlib's writer only makes standard ones: MAVLink 2 payloads
// with trailing zeros, too long or too short, MAVLink 1 payloads of the
// wrong size), ids outside the dialect, any flags and signature bytes.
func craftedFrame(rnd *rand.Rand, drw *dialect.ReadWriter, ids []uint32) []byte {
	id := ids[rnd.IntN(len(ids))]
	if rnd.IntN(8) == 0 {
		id = rnd.Uint32() & 0xFFFFFF // mostly outside the dialect
	}
	var size int
	if mp := drw.GetMessage(id); mp != nil && rnd.IntN(2) == 0 {
		size = len(mp.Write(randomMessage(rnd, mp.Message, 0.3), rnd.IntN(2) == 0).Payload)
		size += rnd.IntN(5) - 2
	} else {
		size = rnd.IntN(256)
	}
	size = min(max(size, 0), 255)
	payload := make([]byte, size)
	for i := range payload {
		if rnd.IntN(3) > 0 {
			payload[i] = byte(rnd.Uint32())
		}
	}
	if size > 0 && rnd.IntN(3) == 0 {
		clear(payload[rnd.IntN(size):]) // trailing zeros
	}
	crcExtra := byte(0)
	if mp := drw.GetMessage(id); mp != nil {
		crcExtra = mp.CRCExtra()
	}
	raw := &message.MessageRaw{ID: id, Payload: payload}
	seq, sys, comp := byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32())
	var out []byte
	if id < 256 && rnd.IntN(3) == 0 {
		f := frame.V1Frame{SequenceNumber: seq, SystemID: sys, ComponentID: comp, Message: raw}
		sum := f.GenerateChecksum(crcExtra)
		out = append([]byte{frame.V1MagicByte, byte(size), seq, sys, comp, byte(id)}, payload...)
		return binary.LittleEndian.AppendUint16(out, sum)
	}
	f := frame.V2Frame{CompatibilityFlag: byte(rnd.Uint32()), SequenceNumber: seq, SystemID: sys, ComponentID: comp, Message: raw}
	if rnd.IntN(3) == 0 {
		f.IncompatibilityFlag = frame.V2FlagSigned
	}
	sum := f.GenerateChecksum(crcExtra)
	out = append([]byte{frame.V2MagicByte, byte(size), f.IncompatibilityFlag, f.CompatibilityFlag, seq, sys, comp,
		byte(id), byte(id >> 8), byte(id >> 16)}, payload...)
	out = binary.LittleEndian.AppendUint16(out, sum)
	if f.IsSigned() {
		for range sigLen {
			out = append(out, byte(rnd.Uint32()))
		}
	}
	return out
}

// corrupt damages frames: flipped bytes, a cut, junk between frames.
func corrupt(rnd *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	switch rnd.IntN(4) {
	case 0: // flipped bytes
		for range 1 + rnd.IntN(3) {
			if len(b) > 0 {
				b[rnd.IntN(len(b))] ^= byte(1 + rnd.IntN(255))
			}
		}
	case 1: // cut
		if len(b) > 0 {
			b = b[:rnd.IntN(len(b))]
		}
	case 2: // junk inserted, magic bytes included
		at := rnd.IntN(len(b) + 1)
		junk := make([]byte, rnd.IntN(20))
		for i := range junk {
			junk[i] = []byte{0xFD, 0xFE, byte(rnd.Uint32()), 0}[rnd.IntN(4)]
		}
		b = append(b[:at:at], append(junk, b[at:]...)...)
	case 3: // a bad incompatibility flag or length
		for i, c := range b {
			if c == frame.V2MagicByte && i+2 < len(b) && rnd.IntN(2) == 0 {
				b[i+1+rnd.IntN(2)] = byte(rnd.Uint32())
				break
			}
		}
	}
	return b
}

// The framer reads every message of the dialect, from gomavlib's writer
// and from crafted frames, as gomavlib's reader does, on datagrams and on
// streams; and so it does with corrupted input: the same frames, the same
// errors, in the same places.
func TestFramerMatchesGomavlib(t *testing.T) {
	fx := newFramerFixture(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	frames := gomavlibFrames(t, rnd, fx.drw)
	var ids []uint32
	for _, m := range fx.drw.Dialect.Messages {
		ids = append(ids, m.GetID())
	}
	for range 3000 {
		frames = append(frames, craftedFrame(rnd, fx.drw, ids))
	}
	// Each frame alone, then in datagrams of a few.
	for i, b := range frames {
		fx.compare(t, fmt.Sprintf("frame %d", i), b)
	}
	rounds := 3000
	if testing.Short() {
		rounds = 500
	}
	for i := range rounds {
		var d []byte
		for range 1 + rnd.IntN(5) {
			d = append(d, frames[rnd.IntN(len(frames))]...)
		}
		fx.compare(t, fmt.Sprintf("datagram %d", i), d)
		fx.compare(t, fmt.Sprintf("corrupted datagram %d", i), corrupt(rnd, d))
	}
	for i := range 200 {
		junk := make([]byte, rnd.IntN(300))
		for j := range junk {
			junk[j] = byte(rnd.Uint32())
		}
		fx.compare(t, fmt.Sprintf("junk %d", i), junk)
	}
}

// The comparison catches a wrong decoder: a GLOBAL_POSITION_INT whose
// latitude is read from the longitude's place differs from gomavlib's.
func TestFramerComparisonCatchesWrongDecoder(t *testing.T) {
	fx := newFramerFixture(t)
	info := fx.mt.get(33)
	if info == nil || info.hot < 0 {
		t.Fatal("GLOBAL_POSITION_INT has no hot decoder")
	}
	enc := newFrameEncoder(t, 1, 1)
	b := enc.encode(t, &common.MessageGlobalPositionInt{Lat: 1, Lon: 2})
	want := readGomavlib(fx.drw, b)
	got := readDatagram(fx.mt, b)
	if len(got) != 1 || len(want) != 1 || !sameParsed(got[0], want[0]) {
		t.Fatalf("got %v, want %v", got, want)
	}
	bad := got[0]
	m := *bad.msg.(*common.MessageGlobalPositionInt)
	m.Lat = m.Lon
	bad.msg = &m
	if sameParsed(bad, want[0]) {
		t.Fatal("a wrong latitude compares equal")
	}
}

// The hot telemetry frames parse and decode without allocating.
func TestFramerHotAllocs(t *testing.T) {
	fx := newFramerFixture(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	w := &frame.Writer{ByteWriter: &buf, DialectRW: fx.drw, OutVersion: frame.V2, OutSystemID: 1, OutComponentID: 1}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for _, d := range hotDecoders {
		for _, zero := range []float64{0, 0.6} {
			buf.Reset()
			if err := w.WriteMessage(randomMessage(rnd, d.proto, zero)); err != nil {
				t.Fatal(err)
			}
			b := bytes.Clone(buf.Bytes())
			f := newDatagramFramer(fx.mt)
			allocs := testing.AllocsPerRun(100, func() {
				if _, fr, err := f.frameAt(b); err != nil || fr.GetMessage().GetID() != d.proto.GetID() {
					t.Fatalf("%T: %v", d.proto, err)
				}
			})
			if allocs != 0 {
				t.Errorf("%T: %.1f allocations per frame, want 0", d.proto, allocs)
			}
		}
	}
}

// Every hot decoder is used: its id is in the dialect, with its type.
func TestFramerHotDecodersInDialect(t *testing.T) {
	fx := newFramerFixture(t)
	for i, d := range hotDecoders {
		if info := fx.mt.get(d.proto.GetID()); info == nil || info.hot != i {
			t.Errorf("%T: not the decoder of id %d", d.proto, d.proto.GetID())
		}
	}
}

// A reused message handed to a waiter is a copy: the next frame does not
// change it.
func TestOwnMessageCopiesReused(t *testing.T) {
	fx := newFramerFixture(t)
	enc := newFrameEncoder(t, 1, 1)
	f := newDatagramFramer(fx.mt)
	_, fr, err := f.frameAt(enc.encode(t, &common.MessageMissionCurrent{Seq: 3}))
	if err != nil {
		t.Fatal(err)
	}
	kept := ownMessage(fr.GetMessage())
	if kept == fr.GetMessage() {
		t.Fatal("a reused message is not copied")
	}
	if _, _, err := f.frameAt(enc.encode(t, &common.MessageMissionCurrent{Seq: 4})); err != nil {
		t.Fatal(err)
	}
	if got := kept.(*common.MessageMissionCurrent).Seq; got != 3 {
		t.Fatalf("kept message has seq %d, want 3", got)
	}
	other := &common.MessageCommandAck{}
	if ownMessage(other) != message.Message(other) {
		t.Fatal("a message gomavlib decoded is copied")
	}
}

// FuzzFramer compares the framer with gomavlib's reader on any bytes.
func FuzzFramer(f *testing.F) {
	fx := newFramerFixture(f)
	rnd := rand.New(rand.NewPCG(5, 6))
	frames := gomavlibFrames(f, rnd, fx.drw)
	for i := 0; i < len(frames); i += 97 {
		f.Add(frames[i])
	}
	var ids []uint32
	for _, m := range fx.drw.Dialect.Messages {
		ids = append(ids, m.GetID())
	}
	for range 20 {
		f.Add(craftedFrame(rnd, fx.drw, ids))
	}
	f.Add([]byte{0xfd, 0xff, 0, 0, 0, 1, 1, 0xfd, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fx.compare(t, "fuzz", data)
	})
}
