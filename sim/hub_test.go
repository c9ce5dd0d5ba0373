package sim

import "net"

// streamListener hands out UDP connections read as byte streams, so that a
// test ground station on gomavlib decodes every frame of a datagram
// (gomavlib's datagram mode reads only the first), as the Centinela server
// and other ground stations do.
type streamListener struct{ net.Listener }

func (l streamListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &streamConn{Conn: c, buf: make([]byte, 0, 65536)}, nil
}

// streamConn returns the bytes of each datagram in turn.
type streamConn struct {
	net.Conn
	buf []byte
	pos int
}

func (c *streamConn) Read(p []byte) (int, error) {
	for c.pos >= len(c.buf) {
		n, err := c.Conn.Read(c.buf[:cap(c.buf)])
		if n == 0 && err != nil {
			return 0, err
		}
		c.buf, c.pos = c.buf[:n], 0
	}
	n := copy(p, c.buf[c.pos:])
	c.pos += n
	return n, nil
}

// frameHeaders returns the system id of each MAVLink 2 frame in a datagram.
func frameHeaders(b []byte) []uint8 {
	var out []uint8
	for len(b) >= 12 && b[0] == 0xfd {
		n := 12 + int(b[1])
		if b[2]&1 != 0 {
			n += 13
		}
		if n > len(b) {
			break
		}
		out = append(out, b[5])
		b = b[n:]
	}
	return out
}
