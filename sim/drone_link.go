package sim

import (
	"fmt"
	"net"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/pion/transport/v2/udp"
)

// Start opens the drone's socket (again, after Stop). It returns an error if
// the socket cannot be opened (for example a port in use).
func (d *Drone) Start() error {
	d.linkMu.Lock()
	defer d.linkMu.Unlock()
	d.mu.Lock()
	if d.v.node != nil || d.v.udp != nil {
		d.mu.Unlock()
		return nil
	}
	sysid := d.v.baseSysID
	if d.v.faults.SysID != 0 {
		sysid = d.v.faults.SysID
	}
	d.mu.Unlock()

	// A drone started with a signing key keeps a gomavlib Node; either
	// way the drone signs and verifies itself (see drone_signing.go).
	if h := d.swarm.hub; h != nil && d.spec.kind == epUDPOut && d.sig.current() == nil {
		l, err := h.open(d, sysid)
		if err != nil {
			return err
		}
		d.mu.Lock()
		d.v.udp = l
		d.v.addr = d.spec.address()
		d.v.sysid = sysid
		d.mu.Unlock()
		d.log.Info("drone link up", "link", d.spec.address(), "local", l.local, "sys_id", sysid)
		return nil
	}
	ep, addr, err := d.endpoint()
	if err != nil {
		return err
	}
	node := &gomavlib.Node{
		Endpoints:        []gomavlib.EndpointConf{ep},
		Dialect:          ardupilotmega.Dialect,
		OutVersion:       gomavlib.V2,
		OutSystemID:      sysid,
		OutComponentID:   1,
		HeartbeatDisable: true,
		IdleTimeout:      time.Hour,
	}
	if err := node.Initialize(); err != nil {
		return fmt.Errorf("sim: drone %d: open %s: %w", d.index, d.spec.address(), err)
	}
	if *addr == "" {
		*addr = d.spec.address()
	}
	done := make(chan struct{})
	d.mu.Lock()
	d.v.node = node
	d.v.loopDone = done
	d.v.addr = *addr
	d.v.sysid = sysid
	d.mu.Unlock()
	go d.readLoop(node, done)
	d.log.Info("drone link up", "link", *addr, "sys_id", sysid)
	return nil
}

// Stop closes the drone's socket; the drone keeps flying. Messages to and
// from it are lost until Start.
func (d *Drone) Stop() {
	d.linkMu.Lock()
	defer d.linkMu.Unlock()
	d.mu.Lock()
	node, done, udp := d.v.node, d.v.loopDone, d.v.udp
	d.v.node, d.v.loopDone, d.v.addr, d.v.udp = nil, nil, "", nil
	d.v.delayed = d.v.delayed[:0]
	d.v.inbox = d.v.inbox[:0]
	d.mu.Unlock()
	if udp != nil {
		d.swarm.hub.closeLink(udp)
		d.log.Debug("drone link down")
		return
	}
	if node == nil {
		return
	}
	node.Close()
	<-done
	d.log.Info("drone link down")
}

// endpoint builds the gomavlib endpoint; addr is filled with the actual
// listen address once the listener exists.
func (d *Drone) endpoint() (gomavlib.EndpointConf, *string, error) {
	addr := new(string)
	a := d.spec.address()
	switch d.spec.kind {
	case epUDPOut:
		return gomavlib.EndpointUDPClient{Address: a}, addr, nil
	case epTCPOut:
		return gomavlib.EndpointTCPClient{Address: a}, addr, nil
	case epTCPIn:
		ln, err := net.Listen("tcp4", a)
		if err != nil {
			return nil, nil, fmt.Errorf("sim: drone %d: listen %s: %w", d.index, a, err)
		}
		*addr = ln.Addr().String()
		return gomavlib.EndpointCustomServer{
			Listen: func() (net.Listener, error) { return ln, nil },
			Label:  "tcp",
		}, addr, nil
	case epUDPIn:
		ua, err := net.ResolveUDPAddr("udp4", a)
		if err != nil {
			return nil, nil, fmt.Errorf("sim: drone %d: %w", d.index, err)
		}
		ln, err := udp.Listen("udp4", ua)
		if err != nil {
			return nil, nil, fmt.Errorf("sim: drone %d: listen %s: %w", d.index, a, err)
		}
		*addr = ln.Addr().String()
		return gomavlib.EndpointCustomServer{
			Listen:     func() (net.Listener, error) { return ln, nil },
			Label:      "udp",
			IsDatagram: true,
		}, addr, nil
	}
	return nil, nil, fmt.Errorf("sim: unknown endpoint kind %d", d.spec.kind)
}

// readLoop drains the node's events until the node closes. It never blocks
// on anything but the drone's mutex and the node's write queue.
func (d *Drone) readLoop(node *gomavlib.Node, done chan struct{}) {
	defer close(done)
	for evt := range node.Events() {
		switch e := evt.(type) {
		case *gomavlib.EventFrame:
			if !d.sig.accept(e.Frame) {
				d.rejected.Add(1)
				continue
			}
			d.receive(time.Now(), e.SystemID(), e.ComponentID(), e.Message())
		case *gomavlib.EventParseError:
			d.rejected.Add(1)
		case *gomavlib.EventChannelOpen:
			d.log.Debug("channel open", "link", e.Channel.String())
		case *gomavlib.EventChannelClose:
			d.log.Debug("channel closed", "link", e.Channel.String())
		}
	}
}

// receive applies the inbound faults and handles one message.
func (d *Drone) receive(now time.Time, sysid, compid uint8, msg message.Message) {
	d.mu.Lock()
	v := &d.v
	v.now = now
	switch {
	case now.Before(v.cutUntil), v.faults.LossIn > 0 && v.linkRNG.Float64() < v.faults.LossIn:
		// dropped
	case v.faults.Latency > 0 || v.faults.Jitter > 0:
		v.inbox = append(v.inbox, timedIn{due: now.Add(v.delay()), sysid: sysid, compid: compid, msg: msg})
	default:
		v.handle(sysid, compid, msg)
	}
	out, link := v.takeOut()
	d.mu.Unlock()
	link.write(out)
}

func (v *vehicle) delay() time.Duration {
	dl := v.faults.Latency
	if v.faults.Jitter > 0 {
		dl += time.Duration(v.linkRNG.Int64N(int64(v.faults.Jitter)))
	}
	return dl
}

// send queues msg for the link, through the outbound faults.
func (v *vehicle) send(msg message.Message) {
	if v.now.Before(v.cutUntil) || (v.faults.LossOut > 0 && v.linkRNG.Float64() < v.faults.LossOut) {
		v.dropped++
		return
	}
	if v.faults.Latency > 0 || v.faults.Jitter > 0 {
		v.delayed = append(v.delayed, timedMsg{due: v.now.Add(v.delay()), msg: msg})
		return
	}
	v.out = append(v.out, msg)
}

// linkOut is the gomavlib node a drone's messages go to, outside its lock.
type linkOut struct {
	node  *gomavlib.Node
	sig   *droneSigning
	sysid uint8
}

// takeOut returns the messages ready to write and the link to write them
// to. A drone in the swarm's hub sends them at once instead, under the
// drone's lock (a non-blocking datagram send), reusing its outbox.
func (v *vehicle) takeOut() ([]message.Message, linkOut) {
	if len(v.out) == 0 {
		return nil, linkOut{}
	}
	if v.udp != nil {
		v.udp.writeMessages(v.out)
		clear(v.out)
		v.out = v.out[:0]
		return nil, linkOut{}
	}
	out := v.out
	v.out = nil
	if v.node == nil {
		return nil, linkOut{}
	}
	return out, linkOut{node: v.node, sig: &v.d.sig, sysid: v.sysid}
}

// pumpQueues moves due delayed messages to the outbox and handles due
// inbound messages.
func (v *vehicle) pumpQueues() {
	if len(v.delayed) > 0 {
		keep := v.delayed[:0]
		for _, t := range v.delayed {
			if !t.due.After(v.now) {
				v.out = append(v.out, t.msg)
			} else {
				keep = append(keep, t)
			}
		}
		v.delayed = keep
	}
	if len(v.inbox) > 0 {
		in := v.inbox
		v.inbox = nil
		var keep []timedIn
		for _, t := range in {
			if !t.due.After(v.now) {
				v.handle(t.sysid, t.compid, t.msg)
			} else {
				keep = append(keep, t)
			}
		}
		v.inbox = append(keep, v.inbox...)
	}
}

// write hands messages to gomavlib, outside the drone's lock. It returns at
// once if the link has been closed.
func (l linkOut) write(msgs []message.Message) {
	switch {
	case len(msgs) == 0:
	case l.node != nil:
		for _, m := range msgs {
			if fr := l.sig.sign(l.sysid, m); fr != nil {
				_ = l.node.WriteFrameAll(fr)
				continue
			}
			_ = l.node.WriteMessageAll(m)
		}
	}
}

// tick advances the drone to wall time now; called by the swarm's scheduler.
func (d *Drone) tick(now time.Time) {
	d.mu.Lock()
	v := &d.v
	v.advance(now)
	out, link := v.takeOut()
	d.mu.Unlock()
	link.write(out)
}
