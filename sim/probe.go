package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
)

// Probe is a minimal MAVLink vehicle for measurements (centinela bench): an
// ArduCopter-looking heartbeat once a second and a GLOBAL_POSITION_INT each
// time SendPosition is called, from a UDP socket of its own. It flies
// nothing and answers nothing.
//
// Set the fields, call Initialize, and Close when done. SendPosition may
// be called from any goroutine.
type Probe struct {
	// Connect is the ground station's "udpout:HOST:PORT" (required).
	Connect string
	// SysID is the probe's system id (optional, default 254).
	SysID uint8

	node  *gomavlib.Node
	start time.Time
	done  chan struct{}
}

// Initialize opens the probe's socket.
func (p *Probe) Initialize() error {
	addr, ok := strings.CutPrefix(p.Connect, "udpout:")
	if !ok || addr == "" {
		return fmt.Errorf("sim: probe: want udpout:HOST:PORT, got %q", p.Connect)
	}
	if p.SysID == 0 {
		p.SysID = 254
	}
	p.node = &gomavlib.Node{
		Endpoints:              []gomavlib.EndpointConf{gomavlib.EndpointUDPClient{Address: addr}},
		Dialect:                ardupilotmega.Dialect,
		OutVersion:             gomavlib.V2,
		OutSystemID:            p.SysID,
		OutComponentID:         1,
		HeartbeatPeriod:        time.Second,
		HeartbeatSystemType:    int(common.MAV_TYPE_QUADROTOR),
		HeartbeatAutopilotType: int(common.MAV_AUTOPILOT_ARDUPILOTMEGA),
	}
	if err := p.node.Initialize(); err != nil {
		return fmt.Errorf("sim: probe: %w", err)
	}
	p.start = time.Now()
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		for range p.node.Events() { // drained until Close closes it
		}
	}()
	return nil
}

// SendPosition queues a GLOBAL_POSITION_INT at lat, lon (degrees) and relAlt
// metres above home.
func (p *Probe) SendPosition(lat, lon, relAlt float64) error {
	return p.node.WriteMessageAll(&common.MessageGlobalPositionInt{
		TimeBootMs:  uint32(time.Since(p.start).Milliseconds()),
		Lat:         int32(math.Round(lat * 1e7)),
		Lon:         int32(math.Round(lon * 1e7)),
		Alt:         int32(relAlt * 1000),
		RelativeAlt: int32(relAlt * 1000),
		Hdg:         math.MaxUint16,
	})
}

// Close closes the probe's socket.
func (p *Probe) Close() {
	if p.node != nil {
		p.node.Close()
		<-p.done
	}
}
