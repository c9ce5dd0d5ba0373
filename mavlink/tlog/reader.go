package tlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Record is one frame of a telemetry log.
type Record struct {
	// Time is when the frame was recorded.
	Time time.Time
	// SysID and CompID are the sender's MAVLink system and component ids.
	SysID, CompID uint8
	// MsgID is the frame's message id.
	MsgID uint32
	// Seq is the frame's sequence number.
	Seq uint8
	// Frame is the whole frame as it was on the wire.
	Frame []byte
}

// MAVLink framing.
const (
	magicV1      = 0xfe
	magicV2      = 0xfd
	headerV1     = 6
	headerV2     = 10
	checksumLen  = 2
	signatureLen = 13
	flagSigned   = 0x01
)

// ErrBadRecord is returned when a record does not hold a MAVLink frame.
var ErrBadRecord = errors.New("tlog: bad record")

// Read reads every record of a telemetry log. It returns the records read
// so far and an error wrapping ErrBadRecord if a record is malformed, or
// io.ErrUnexpectedEOF if the log ends inside a record.
func Read(r io.Reader) ([]Record, error) {
	br := bufio.NewReader(r)
	var out []Record
	var ts [8]byte
	for {
		if _, err := io.ReadFull(br, ts[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		rec, err := readFrame(br)
		if err != nil {
			return out, fmt.Errorf("record %d: %w", len(out), err)
		}
		rec.Time = time.UnixMicro(int64(binary.BigEndian.Uint64(ts[:]))).UTC()
		out = append(out, rec)
	}
}

func readFrame(br *bufio.Reader) (Record, error) {
	magic, err := br.Peek(2)
	if err != nil {
		return Record{}, io.ErrUnexpectedEOF
	}
	var n int
	switch magic[0] {
	case magicV1:
		n = headerV1 + int(magic[1]) + checksumLen
	case magicV2:
		h, err := br.Peek(3)
		if err != nil {
			return Record{}, io.ErrUnexpectedEOF
		}
		n = headerV2 + int(h[1]) + checksumLen
		if h[2]&flagSigned != 0 {
			n += signatureLen
		}
	default:
		return Record{}, fmt.Errorf("%w: magic byte %#x", ErrBadRecord, magic[0])
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return Record{}, io.ErrUnexpectedEOF
	}
	rec := Record{Frame: b}
	if b[0] == magicV1 {
		rec.Seq, rec.SysID, rec.CompID, rec.MsgID = b[2], b[3], b[4], uint32(b[5])
	} else {
		rec.Seq, rec.SysID, rec.CompID = b[4], b[5], b[6]
		rec.MsgID = uint32(b[7]) | uint32(b[8])<<8 | uint32(b[9])<<16
	}
	return rec, nil
}

// ReadFile reads the telemetry log at path.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := Read(f)
	if err != nil {
		return recs, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// Filter returns the records for which keep returns true.
func Filter(recs []Record, keep func(Record) bool) []Record {
	var out []Record
	for _, r := range recs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// FromSystem returns a filter that keeps the frames of system sysID.
func FromSystem(sysID uint8) func(Record) bool {
	return func(r Record) bool { return r.SysID == sysID }
}
