package mavlink

import (
	"strconv"
	"strings"

	"github.com/bluenviron/gomavlib/v3"
)

// maxConsoleLine bounds the plain text kept per channel before it is
// counted as a line.
const maxConsoleLine = 256

// invalidMagicPrefix is how gomavlib's frame reader reports a byte that
// starts no frame (one event per byte).
const invalidMagicPrefix = "invalid magic byte: "

// consoleLine is plain text being read on one channel, between frames.
type consoleLine struct {
	buf []byte
}

// consoleByte returns the byte of a parse error that is printable text
// (ASCII, tab, CR, LF), as written by ArduPilot SITL on its TCP port at
// boot (`Init ArduCopter V4.7.0-dev …`); ok is false for any other error.
func consoleByte(err error) (b byte, ok bool) {
	if err == nil {
		return 0, false
	}
	s, found := strings.CutPrefix(err.Error(), invalidMagicPrefix)
	if !found {
		return 0, false
	}
	v, perr := strconv.ParseUint(s, 16, 8)
	if perr != nil {
		return 0, false
	}
	b = byte(v)
	return b, b == '\t' || b == '\n' || b == '\r' || (b >= 0x20 && b < 0x7f)
}

// consoleText takes a parse error that may be a byte of plain text on ch. It
// returns false when the error is not text (a real parse error). A line of
// text is counted once (Stats.ConsoleText), when its newline arrives, when it
// reaches maxConsoleLine bytes, or when something else ends it.
// Owned by run.
func (t *Transport) consoleText(ch *gomavlib.Channel, err error) bool {
	b, ok := consoleByte(err)
	if !ok {
		t.endConsoleLine(ch)
		return false
	}
	cl := t.console[ch]
	if cl == nil {
		cl = &consoleLine{}
		t.console[ch] = cl
	}
	if b == '\n' || b == '\r' {
		t.endConsoleLine(ch)
		return true
	}
	cl.buf = append(cl.buf, b)
	if len(cl.buf) >= maxConsoleLine {
		t.endConsoleLine(ch)
	}
	return true
}

// endConsoleLine counts and logs the text read so far on ch, if any.
func (t *Transport) endConsoleLine(ch *gomavlib.Channel) {
	cl := t.console[ch]
	if cl == nil {
		return
	}
	delete(t.console, ch)
	line := strings.TrimSpace(string(cl.buf))
	if line == "" {
		return
	}
	t.stats.consoleText.Add(1)
	t.log.Debug("console text", "link", ch.String(), "err", "not MAVLink: "+strconv.Quote(line))
}
