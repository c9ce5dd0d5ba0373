package store

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Chunk encoding (schema 2): one drone's points, in strictly increasing
// time, in one value:
//
//	0      version (2)
//	1–8    the first point's time, big-endian Unix nanoseconds
//	9–16   the last point's time
//	17–    uvarint count (at least 1), then each point: uvarint nanoseconds
//	       since the previous point (0 for the first), bytes 1–28 of its
//	       version 1 encoding (codec.go), then its mode: 0xFF for the
//	       previous point's, else the name's length (at most 32) and bytes.
//
// A drone's bucket in "tracks" maps a time to a chunk whose first point is
// at that time, or (files of schema 1) to one point of version 1; its
// entries' times never overlap, so that the entries in key order are the
// points in time order. A value of the recent bucket (the journal: one or
// more a commit, keyed by an 8-byte sequence) is
//
//	0      journal version (1)
//	1–     sections, each: uvarint length of a drone's id, the id, uvarint
//	       length of a chunk, the chunk.
const (
	chunkVersion   = 2
	chunkHeader    = 17
	journalVersion = 1
	pointBody      = pointFixed - 2 // bytes 1–28 of a version 1 point
	sameMode       = 0xFF
	// chunkMax bounds a track chunk's bytes: three fit in a page.
	chunkMax = 1300
	// journalMax bounds a journal value's bytes: two fit in a page, so
	// that no node needs contiguous pages (bbolt puts at least two keys in
	// a node), which a fragmented file may lack.
	journalMax = 1900
)

// rawPoint is an encoded point: its time, its 28 fixed bytes and its mode,
// slices of a value or of a batch's buffer.
type rawPoint struct {
	at    uint64
	fixed []byte
	mode  []byte
}

// chunkPointLen is the encoded size of p after a point of mode prevMode (nil for
// the first of a chunk), without its time delta.
func chunkPointLen(p rawPoint, prevMode []byte) int {
	if prevMode != nil && bytes.Equal(p.mode, prevMode) {
		return pointBody + 1
	}
	return pointBody + 1 + len(p.mode)
}

// appendChunk appends the chunk of pts (at least one, strictly increasing
// times).
func appendChunk(b []byte, pts []rawPoint) []byte {
	b = append(b, chunkVersion)
	b = binary.BigEndian.AppendUint64(b, pts[0].at)
	b = binary.BigEndian.AppendUint64(b, pts[len(pts)-1].at)
	b = binary.AppendUvarint(b, uint64(len(pts)))
	prev := pts[0].at
	var prevMode []byte
	for i, p := range pts {
		b = binary.AppendUvarint(b, p.at-prev)
		prev = p.at
		b = append(b, p.fixed...)
		if i > 0 && bytes.Equal(p.mode, prevMode) {
			b = append(b, sameMode)
		} else {
			b = append(b, byte(len(p.mode)))
			b = append(b, p.mode...)
		}
		prevMode = p.mode
	}
	return b
}

// splitChunks calls fn with runs of pts whose chunks are at most max
// bytes (a run holds at least one point).
func splitChunks(pts []rawPoint, max int, fn func(run []rawPoint) error) error {
	for len(pts) > 0 {
		size, n := chunkHeader+binary.MaxVarintLen64, 0
		var prevMode []byte
		var prev uint64
		for n < len(pts) {
			d := uvarintLen(pts[n].at - prev)
			if n == 0 {
				d = 1
			}
			add := d + chunkPointLen(pts[n], prevMode)
			if n > 0 && size+add > max {
				break
			}
			size += add
			prevMode, prev = pts[n].mode, pts[n].at
			if prevMode == nil {
				prevMode = []byte{}
			}
			n++
		}
		if err := fn(pts[:n]); err != nil {
			return err
		}
		pts = pts[n:]
	}
	return nil
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// sortPoints sorts pts by time and keeps, of points at the same time, the
// last one (the latest written), in place; it returns the points kept.
func sortPoints(pts []rawPoint) []rawPoint {
	sorted := true
	for i := 1; i < len(pts); i++ {
		if pts[i].at <= pts[i-1].at {
			sorted = false
			break
		}
	}
	if sorted {
		return pts
	}
	slices.SortStableFunc(pts, func(a, b rawPoint) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	out := pts[:0]
	for i, p := range pts {
		if i+1 < len(pts) && pts[i+1].at == p.at {
			continue
		}
		out = append(out, p)
	}
	return out
}

// chunkIter reads a track entry (a chunk or a version 1 point) point by
// point.
type chunkIter struct {
	rest        []byte
	left        int
	v1, started bool
	at, last    uint64
	fixed, mode []byte
	err         error
}

// reset starts reading the entry of key k and value v of a drone's bucket.
func (it *chunkIter) reset(k, v []byte) error {
	if len(v) > 0 && v[0] == pointVersion {
		*it = chunkIter{}
		if len(k) != 8 || len(v) < pointFixed || v[29] > maxModeLen || len(v) != pointFixed+int(v[29]) {
			return errBadPoint
		}
		it.at = binary.BigEndian.Uint64(k)
		it.last, it.fixed, it.mode, it.left, it.v1 = it.at, v[1:29], v[30:], 1, true
		return nil
	}
	if err := it.resetChunk(v); err != nil {
		return err
	}
	if len(k) != 8 || binary.BigEndian.Uint64(k) != it.at {
		return errBadPoint
	}
	return nil
}

// resetChunk starts reading chunk v.
func (it *chunkIter) resetChunk(v []byte) error {
	*it = chunkIter{}
	if len(v) < chunkHeader+1 || v[0] != chunkVersion {
		return errBadPoint
	}
	n, l := binary.Uvarint(v[chunkHeader:])
	if l <= 0 || n == 0 || n > uint64(len(v)) {
		return errBadPoint
	}
	it.at, it.last = binary.BigEndian.Uint64(v[1:]), binary.BigEndian.Uint64(v[9:])
	if it.last < it.at {
		return errBadPoint
	}
	it.rest, it.left = v[chunkHeader+l:], int(n)
	return nil
}

// count is the number of points of the entry (before any next).
func (it *chunkIter) count() int { return it.left }

// next moves to the next point; false at the end or on bad bytes (err).
func (it *chunkIter) next() bool {
	if it.left == 0 {
		return false
	}
	if it.v1 {
		it.left = 0
		return true
	}
	d, l := binary.Uvarint(it.rest)
	if l <= 0 || len(it.rest) < l+pointBody+1 {
		return it.fail()
	}
	if it.started {
		if d == 0 || it.at+d < it.at {
			return it.fail()
		}
		it.at += d
	} else if d != 0 {
		return it.fail()
	}
	it.fixed = it.rest[l : l+pointBody]
	m := it.rest[l+pointBody]
	it.rest = it.rest[l+pointBody+1:]
	switch {
	case m == sameMode && it.started:
	case m <= maxModeLen && len(it.rest) >= int(m):
		it.mode, it.rest = it.rest[:m:m], it.rest[m:]
	default:
		return it.fail()
	}
	it.started = true
	it.left--
	if it.at > it.last || (it.left == 0 && (it.at != it.last || len(it.rest) > 0)) {
		return it.fail()
	}
	return true
}

func (it *chunkIter) fail() bool {
	it.err, it.left = errBadPoint, 0
	return false
}

// point is the current point.
func (it *chunkIter) point() rawPoint { return rawPoint{it.at, it.fixed, it.mode} }

// eachSection calls fn with the drone id and chunk of each section of
// journal value v.
func eachSection(v []byte, fn func(id, chunk []byte) error) error {
	if len(v) == 0 || v[0] != journalVersion {
		return errBadPoint
	}
	for v = v[1:]; len(v) > 0; {
		n, l := binary.Uvarint(v)
		if l <= 0 || n > uint64(len(v)-l) {
			return errBadPoint
		}
		id := v[l : l+int(n)]
		v = v[l+int(n):]
		if n, l = binary.Uvarint(v); l <= 0 || n > uint64(len(v)-l) {
			return errBadPoint
		}
		if err := fn(id, v[l:l+int(n)]); err != nil {
			return err
		}
		v = v[l+int(n):]
	}
	return nil
}

// journalPoints counts the points of journal value v.
func journalPoints(v []byte) (int, error) {
	total := 0
	var it chunkIter
	err := eachSection(v, func(_, chunk []byte) error {
		if err := it.resetChunk(chunk); err != nil {
			return err
		}
		total += it.count()
		return nil
	})
	return total, err
}
