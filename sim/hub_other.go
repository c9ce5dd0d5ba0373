//go:build !linux

package sim

import (
	"errors"
	"log/slog"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// hubSupported says whether udpout drones share a hub on this system: not
// here, where each drone has its own gomavlib Node.
const hubSupported = false

type hub struct{}

type udpLink struct{ local string }

func newHub(string, *slog.Logger) (*hub, error) { return nil, errors.New("sim: no hub on this system") }
func (h *hub) open(*Drone, uint8) (*udpLink, error) {
	return nil, errors.New("sim: no hub on this system")
}
func (h *hub) closeLink(*udpLink)                       {}
func (h *hub) close()                                   {}
func (l *udpLink) writeMessages(msgs []message.Message) {}
