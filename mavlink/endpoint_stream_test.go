package mavlink

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master side, written by the
// test as a radio would, and the path of the slave side, opened by the
// transport as a serial port.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal on this system: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// A serial endpoint passes through the connection guard like a TCP
// connection: console text is counted as text, binary junk as junk bytes
// (no parse-error event per byte), and the vehicle's frames around them
// decode. The serial port is a pseudo-terminal pair.
func TestSerialGuarded(t *testing.T) {
	master, dev := openPTY(t)
	go io.Copy(io.Discard, master) // the transport's heartbeats; ends when master closes
	rec := newRecorder()
	tr := testTransport(t, "serial:"+dev+":57600", rec)
	enc := newFrameEncoder(t, 5, 1)
	hb := enc.encode(t, vehicleHB())
	// Until the transport opened the port (and set it raw), what is
	// written may be lost: send heartbeats until one is heard.
	waitFor(t, 5*time.Second, "the vehicle on the serial port", func() bool {
		if _, err := master.Write(hb); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return heartbeatsFrom(rec, 5) > 0
	})
	if v := rec.vehicle(5); v == nil || v.Key().Link != "serial:"+dev+":57600" {
		t.Fatalf("vehicle %v, want one on link serial:%s:57600", v, dev)
	}
	before := tr.Stats()
	n := heartbeatsFrom(rec, 5)
	junk := []byte{0x01, 0x02, 0x80, 0x81, 0x00}
	var b []byte
	b = append(b, "Init ArduCopter V4.7.0-dev (90700977)\r\n"...)
	b = append(b, junk...)
	b = append(b, hb...)
	if _, err := master.Write(b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the heartbeat after the junk", func() bool { return heartbeatsFrom(rec, 5) > n })
	st := tr.Stats()
	text := len("Init ArduCopter V4.7.0-dev (90700977)\r\n")
	if got := st.JunkBytes - before.JunkBytes; got != uint64(text+len(junk)) {
		t.Errorf("%d junk bytes counted, want %d (the guard drops them)", got, text+len(junk))
	}
	if got := st.ConsoleText - before.ConsoleText; got != 1 {
		t.Errorf("%d console lines, want 1", got)
	}
	if got := st.ParseErrors - before.ParseErrors; got != uint64(len(junk)) {
		t.Errorf("%d parse errors, want %d (one per binary byte)", got, len(junk))
	}
}
