package mavlink

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// The framer
//
// The framer parses MAVLink 1 and 2 frames (https://mavlink.io/en/guide/serialization.html)
// itself, into frame values it reuses, and decodes the hot telemetry
// messages with hand-written decoders into message structs it reuses
// (channel_framer_decode.go): no allocation per frame. Every other message
// of the dialect is decoded by gomavlib, as before.
//
// What the rest of the transport sees is what gomavlib's frame.Reader with
// a DialectRW gives, frame for frame: the same frames (a *frame.V1Frame or
// *frame.V2Frame with the same fields), the same errors at the same places
// in the bytes (so that resynchronization after junk, a truncated frame or
// an unknown incompatibility flag consumes the same bytes), ids outside the
// dialect passed as *message.MessageRaw without a checksum check, and the
// checksum recomputed over the re-encoded payload where gomavlib does so
// (messages with strings, MAVLink 2 payloads with trailing zeros), which
// the signing check relies on. framer_test.go compares the two.
//
// A frame and its message are valid until the framer's next parse: the
// transport's handling of a frame must copy what it keeps (link.deliver
// copies a reused message handed to a waiter).

// MAVLink frame layout.
const (
	v1Header = 6  // magic, len, seq, sysid, compid, msgid
	v2Header = 10 // magic, len, incompat, compat, seq, sysid, compid, msgid (3)
	crcLen   = 2
	sigLen   = 13 // link id, timestamp (6), signature (6)
)

// Framing errors. A malformed frame is one parse error; the framer goes on
// with the next bytes.
var (
	errBadMagic  = errors.New("invalid magic byte")
	errTruncated = errors.New("truncated frame")
)

// checksumError is a frame of the dialect whose checksum does not match.
type checksumError struct {
	id        uint32
	want, got uint16
}

func (e *checksumError) Error() string {
	return fmt.Sprintf("wrong checksum, expected %.4x, got %.4x, message id is %d", e.want, e.got, e.id)
}

// x25Table is the table of MAVLink's CRC-16/MCRF4XX (X.25), one entry per
// value of the low byte of the running CRC xor the input byte.
var x25Table = func() (t [256]uint16) {
	for i := range t {
		tmp := uint16(i)
		tmp ^= tmp << 4
		tmp &= 0xFF
		t[i] = (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)
	}
	return t
}()

const x25Init = 0xFFFF

func crcX25(crc uint16, b []byte) uint16 {
	for _, c := range b {
		crc = (crc >> 8) ^ x25Table[byte(crc)^c]
	}
	return crc
}

func crcX25Byte(crc uint16, c byte) uint16 {
	return (crc >> 8) ^ x25Table[byte(crc)^c]
}

// msgInfo is what the framer knows of one message of the dialect.
type msgInfo struct {
	rw       *message.ReadWriter
	crcExtra byte
	// sizeV1 is the payload length without extensions (a MAVLink 1
	// payload must have exactly that), sizeV2 with them.
	sizeV1, sizeV2 int
	// strings: the message has string fields (gomavlib then recomputes the
	// checksum over the re-encoded payload).
	strings bool
	// hot is the message's hand-written decoder, or -1.
	hot int
}

// msgTable is the dialect's messages by id: an array for the low ids
// (every hot message), a map for the rest.
type msgTable struct {
	low  [512]*msgInfo
	high map[uint32]*msgInfo
}

func (mt *msgTable) get(id uint32) *msgInfo {
	if id < uint32(len(mt.low)) {
		return mt.low[id]
	}
	return mt.high[id]
}

// newMsgTable builds the table of drw's dialect, once per transport.
func newMsgTable(drw *dialect.ReadWriter) *msgTable {
	mt := &msgTable{high: make(map[uint32]*msgInfo)}
	for _, m := range drw.Dialect.Messages {
		rw := drw.GetMessage(m.GetID())
		if rw == nil {
			continue
		}
		info := &msgInfo{rw: rw, crcExtra: rw.CRCExtra(), hot: -1}
		info.sizeV1, info.sizeV2, info.strings = payloadSizes(m)
		if d, ok := hotIndex[m.GetID()]; ok && reflect.TypeOf(m) == reflect.TypeOf(hotDecoders[d].proto) {
			info.hot = d
		}
		if id := m.GetID(); id < uint32(len(mt.low)) {
			mt.low[id] = info
		} else {
			mt.high[id] = info
		}
	}
	return mt
}

// payloadSizes returns the encoded length of m's fields without and with
// its extensions, and whether it has string fields, from the struct tags
// gomavlib encodes with.
func payloadSizes(m message.Message) (v1, v2 int, hasStrings bool) {
	typ := reflect.TypeOf(m).Elem()
	for i := range typ.NumField() {
		f := typ.Field(i)
		n := 1
		t := f.Type
		if t.Kind() == reflect.Array {
			n = t.Len()
			t = t.Elem()
		}
		var size int
		switch enum := f.Tag.Get("mavenum"); {
		case enum != "":
			size = map[string]int{"uint8": 1, "int8": 1, "uint16": 2, "uint32": 4, "int32": 4, "uint64": 8}[enum]
		case t.Kind() == reflect.String:
			hasStrings = true
			size = 1
			if l := f.Tag.Get("mavlen"); l != "" {
				fmt.Sscan(l, &size)
			}
		default:
			size = int(t.Size())
		}
		v2 += n * size
		if f.Tag.Get("mavext") != "true" {
			v1 += n * size
		}
	}
	return v1, v2, hasStrings
}

// framer parses the frames of one reader goroutine's bytes: datagrams
// (parse) or a stream (next). Its frames and messages are reused (see
// "The framer" above).
type framer struct {
	mt *msgTable
	br *bufio.Reader // a stream's, nil for datagrams

	v1    frame.V1Frame
	v2    frame.V2Frame
	sig   frame.V2Signature
	raw   message.MessageRaw // an id outside the dialect
	rawIn message.MessageRaw // a payload handed to gomavlib's decoder
	pad   [256]byte          // a payload zero-padded to its full length
	hot   hotMessages
}

// framerBuf is a stream framer's buffer: one whole frame fits.
const framerBuf = 512

// newDatagramFramer returns a framer fed one datagram at a time (parse).
func newDatagramFramer(mt *msgTable) *framer {
	return &framer{mt: mt}
}

// newStreamFramer returns a framer reading a stream (next).
func newStreamFramer(src io.Reader, mt *msgTable) *framer {
	return &framer{mt: mt, br: bufio.NewReaderSize(src, framerBuf)}
}

// parse hands every frame of b, and every parse error, to ch's handling.
// The caller holds t.mu.
func (f *framer) parse(t *Transport, ch *channel, b []byte) {
	for len(b) > 0 {
		n, fr, err := f.frameAt(b)
		b = b[n:]
		if err != nil {
			t.parseError(ch, err)
			continue
		}
		t.handleFrame(ch, fr)
	}
}

// next reads the stream's next frame. A malformed frame returns a nil
// frame and a parse error perr (read on); the stream's own error err ends
// it.
func (f *framer) next() (fr frame.Frame, perr, err error) {
	br := f.br
	p, err := br.Peek(1)
	if len(p) == 0 {
		return nil, nil, err
	}
	need := 1
	switch p[0] {
	case frame.V1MagicByte:
		need = v1Header
	case frame.V2MagicByte:
		need = v2Header
	}
	if need > 1 {
		// A short Peek leaves what the stream had: frameAt then consumes
		// what gomavlib's reader would of a truncated frame.
		if p, _ = br.Peek(need); len(p) == need {
			if l := frameLen(p); l > need {
				p, _ = br.Peek(l)
			}
		}
	}
	n, fr, perr := f.frameAt(p)
	_, _ = br.Discard(n)
	return fr, perr, nil
}

// frameLen is the length of the frame whose header is h, or len(h) for a
// MAVLink 2 frame with an unknown incompatibility flag (refused from its
// header).
func frameLen(h []byte) int {
	if h[0] == frame.V1MagicByte {
		return v1Header + int(h[1]) + crcLen
	}
	if h[2]&^frame.V2FlagSigned != 0 {
		return len(h)
	}
	n := v2Header + int(h[1]) + crcLen
	if h[2]&frame.V2FlagSigned != 0 {
		n += sigLen
	}
	return n
}

// frameAt parses the frame at the start of b, which holds the frame or,
// when it is cut short, every byte there is. It returns the bytes it
// consumed: those gomavlib's reader consumes, frame or error, for the same
// input (a cut header consumes only its magic byte, a cut payload all of b,
// a cut checksum or signature what came before it).
func (f *framer) frameAt(b []byte) (int, frame.Frame, error) {
	switch b[0] {
	case frame.V1MagicByte:
		if len(b) < v1Header {
			return 1, nil, errTruncated
		}
		l := int(b[1])
		if len(b) < v1Header+l {
			return len(b), nil, errTruncated
		}
		if len(b) < v1Header+l+crcLen {
			return v1Header + l, nil, errTruncated
		}
		n := v1Header + l + crcLen
		fr, err := f.v1Frame(b[:n])
		return n, fr, err
	case frame.V2MagicByte:
		if len(b) < v2Header {
			return 1, nil, errTruncated
		}
		if flags := b[2]; flags&^frame.V2FlagSigned != 0 {
			return v2Header, nil, fmt.Errorf("unknown incompatibility flag: %d", flags)
		}
		l := int(b[1])
		if len(b) < v2Header+l {
			return len(b), nil, errTruncated
		}
		if len(b) < v2Header+l+crcLen {
			return v2Header + l, nil, errTruncated
		}
		n := v2Header + l + crcLen
		if b[2]&frame.V2FlagSigned != 0 {
			if len(b) < n+sigLen {
				return n, nil, errTruncated
			}
			n += sigLen
		}
		fr, err := f.v2Frame(b[:n])
		return n, fr, err
	}
	return 1, nil, errBadMagic
}

// v1Frame decodes a whole MAVLink 1 frame.
func (f *framer) v1Frame(b []byte) (frame.Frame, error) {
	l := int(b[1])
	payload := b[v1Header : v1Header+l]
	fr := &f.v1
	*fr = frame.V1Frame{
		SequenceNumber: b[2], SystemID: b[3], ComponentID: b[4],
		Checksum: binary.LittleEndian.Uint16(b[v1Header+l:]),
	}
	id := uint32(b[5])
	info := f.mt.get(id)
	if info == nil {
		fr.Message = f.rawMessage(id, payload)
		return fr, nil
	}
	if sum := frameSum(b[2:v1Header], payload, info.crcExtra); sum != fr.Checksum {
		return nil, &checksumError{id: id, want: sum, got: fr.Checksum}
	}
	if l != info.sizeV1 {
		return nil, fmt.Errorf("unable to decode message: wrong size: expected %d, got %d", info.sizeV1, l)
	}
	if info.hot >= 0 {
		fr.Message = f.decodeHot(info, payload)
		return fr, nil
	}
	f.rawIn = message.MessageRaw{ID: id, Payload: payload}
	m, err := info.rw.Read(&f.rawIn, false)
	if err != nil {
		return nil, fmt.Errorf("unable to decode message: %w", err)
	}
	if info.strings {
		// As gomavlib: the checksum of the message as it re-encodes it.
		raw := info.rw.Write(m, false)
		fr.Checksum = frameSum(b[2:v1Header], raw.Payload, info.crcExtra)
	}
	fr.Message = m
	return fr, nil
}

// frameSum is the checksum of a frame of header h (after the magic byte
// and the length: MAVLink 1 seq, sysid, compid, msgid; MAVLink 2 incompat,
// compat, seq, sysid, compid, msgid) and payload p.
func frameSum(h, p []byte, crcExtra byte) uint16 {
	crc := crcX25Byte(x25Init, byte(len(p)))
	crc = crcX25(crc, h)
	crc = crcX25(crc, p)
	return crcX25Byte(crc, crcExtra)
}

// v2Frame decodes a whole MAVLink 2 frame.
func (f *framer) v2Frame(b []byte) (frame.Frame, error) {
	l := int(b[1])
	payload := b[v2Header : v2Header+l]
	fr := &f.v2
	*fr = frame.V2Frame{
		IncompatibilityFlag: b[2], CompatibilityFlag: b[3],
		SequenceNumber: b[4], SystemID: b[5], ComponentID: b[6],
		Checksum: binary.LittleEndian.Uint16(b[v2Header+l:]),
	}
	if fr.IncompatibilityFlag&frame.V2FlagSigned != 0 {
		s := b[v2Header+l+crcLen:]
		fr.SignatureLinkID = s[0]
		fr.SignatureTimestamp = uint64(s[1]) | uint64(s[2])<<8 | uint64(s[3])<<16 |
			uint64(s[4])<<24 | uint64(s[5])<<32 | uint64(s[6])<<40
		copy(f.sig[:], s[7:13])
		fr.Signature = &f.sig
	}
	id := uint32(b[7]) | uint32(b[8])<<8 | uint32(b[9])<<16
	info := f.mt.get(id)
	if info == nil {
		fr.Message = f.rawMessage(id, payload)
		return fr, nil
	}
	if sum := frameSum(b[2:v2Header], payload, info.crcExtra); sum != fr.Checksum {
		return nil, &checksumError{id: id, want: sum, got: fr.Checksum}
	}
	trailingZero := l > 1 && payload[l-1] == 0
	if info.hot >= 0 {
		fr.Message = f.decodeHot(info, payload)
		if trailingZero {
			// As gomavlib: the checksum of the payload re-encoded, that
			// is cut to the message's length and without trailing zeros.
			p := payload[:min(l, info.sizeV2)]
			for len(p) > 1 && p[len(p)-1] == 0 {
				p = p[:len(p)-1]
			}
			fr.Checksum = frameSum(b[2:v2Header], p, info.crcExtra)
		}
		return fr, nil
	}
	// Zero-padded here: gomavlib pads a short payload in place when its
	// slice has room, which would write over the bytes that follow it.
	n := copy(f.pad[:], payload)
	clear(f.pad[n:max(n, info.sizeV2)])
	f.rawIn = message.MessageRaw{ID: id, Payload: f.pad[:max(n, info.sizeV2)]}
	m, err := info.rw.Read(&f.rawIn, true)
	if err != nil {
		return nil, fmt.Errorf("unable to decode message: %w", err)
	}
	if info.strings || trailingZero {
		fr.Checksum = frameSum(b[2:v2Header], info.rw.Write(m, true).Payload, info.crcExtra)
	}
	fr.Message = m
	return fr, nil
}

// rawMessage is a message outside the dialect, as gomavlib passes it: a
// MessageRaw, nil payload when empty.
func (f *framer) rawMessage(id uint32, payload []byte) *message.MessageRaw {
	f.raw.ID = id
	f.raw.Payload = nil
	if len(payload) > 0 {
		f.raw.Payload = payload
	}
	return &f.raw
}

// decodeHot decodes a hot message from its payload, zero-padded (a
// MAVLink 2 payload cut of its trailing zeros, a MAVLink 1 payload of its
// extensions) or cut to the message's length.
func (f *framer) decodeHot(info *msgInfo, payload []byte) message.Message {
	n := copy(f.pad[:info.sizeV2], payload)
	clear(f.pad[n:info.sizeV2])
	return hotDecoders[info.hot].decode(&f.hot, f.pad[:info.sizeV2])
}
