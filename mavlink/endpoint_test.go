package mavlink

import (
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
)

func TestParseEndpoint(t *testing.T) {
	good := []struct {
		in   string
		want Endpoint
		str  string
	}{
		{"udp:0.0.0.0:14550", Endpoint{Kind: EndpointUDP, Address: "0.0.0.0:14550"}, ""},
		{"udp::14550", Endpoint{Kind: EndpointUDP, Address: ":14550"}, ""},
		{"udp:127.0.0.1:0", Endpoint{Kind: EndpointUDP, Address: "127.0.0.1:0"}, ""},
		{"udp:[::1]:14550", Endpoint{Kind: EndpointUDP, Address: "[::1]:14550"}, ""},
		{"udpout:127.0.0.1:14550", Endpoint{Kind: EndpointUDPOut, Address: "127.0.0.1:14550"}, ""},
		{"udpout:localhost:14550", Endpoint{Kind: EndpointUDPOut, Address: "localhost:14550"}, ""},
		{"tcp:127.0.0.1:5760", Endpoint{Kind: EndpointTCP, Address: "127.0.0.1:5760"}, ""},
		{"tcpin:0.0.0.0:5760", Endpoint{Kind: EndpointTCPIn, Address: "0.0.0.0:5760"}, ""},
		{"serial:/dev/ttyUSB0:57600", Endpoint{Kind: EndpointSerial, Address: "/dev/ttyUSB0", Baud: 57600}, ""},
		{"serial:/dev/ttyACM0:115200", Endpoint{Kind: EndpointSerial, Address: "/dev/ttyACM0", Baud: 115200}, ""},
		{"serial:/dev/ttyUSB0", Endpoint{Kind: EndpointSerial, Address: "/dev/ttyUSB0", Baud: DefaultBaud}, "serial:/dev/ttyUSB0:57600"},
	}
	for _, c := range good {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseEndpoint(c.in)
			if err != nil {
				t.Fatalf("ParseEndpoint: %v", err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			str := c.str
			if str == "" {
				str = c.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
		})
	}
	bad := []string{
		"", "udp", "14550", "udp:", "udp:127.0.0.1", "udp:127.0.0.1:", "udp:127.0.0.1:port",
		"udp:127.0.0.1:70000", "udp:127.0.0.1:-1", "udpout::14550", "udpout:127.0.0.1:0",
		"tcp:127.0.0.1", "tcp::5760", "tcpin:5760", "http://127.0.0.1:80", "UDP:127.0.0.1:14550",
		"serial:", "serial::57600", "serial:/dev/ttyUSB0:fast", "serial:/dev/ttyUSB0:0",
		"udp:a b:14550", "udp:1.2.3.4:5:6",
	}
	for _, s := range bad {
		t.Run("bad "+s, func(t *testing.T) {
			_, err := ParseEndpoint(s)
			if err == nil {
				t.Fatal("accepted")
			}
			if fleet.ErrorCode(err) != fleet.Invalid {
				t.Errorf("code %s", fleet.ErrorCode(err))
			}
			for _, form := range []string{"udp:HOST:PORT", "udpout:HOST:PORT", "tcp:HOST:PORT", "tcpin:HOST:PORT", "serial:"} {
				if !strings.Contains(err.Error(), form) {
					t.Errorf("error %q does not name %s", err, form)
				}
			}
		})
	}
}
