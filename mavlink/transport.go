package mavlink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/centinela-gcs/centinela/fleet"
)

// Defaults of the Transport's optional fields.
const (
	DefaultSysID          = 255
	DefaultCompID         = 190 // MAV_COMP_ID_MISSIONPLANNER
	DefaultCommandTimeout = time.Second
	DefaultCommandRetries = 3
	DefaultMissionTimeout = 1500 * time.Millisecond
	DefaultMissionRetries = 5
	DefaultParamTimeout   = time.Second
	DefaultParamRetries   = 3
	DefaultStatsInterval  = time.Second

	DefaultMaxLinks           = 4096
	DefaultMaxLinksPerChannel = 8
	DefaultMaxPeers           = 512
	DefaultMaxUnproven        = 256
	DefaultFrameTimeout       = 2 * time.Second
	DefaultFrameIdle          = 15 * time.Second
	DefaultPeerRate           = 256 << 10
)

// MAVLink constants the transport uses.
const (
	mavTypeGCS          = 6
	mavAutopilotInvalid = 8
)

// Transport is the MAVLink transport: every endpoint's sockets, read by as
// few goroutines as there are sockets and connections, and one link (a
// fleet.Vehicle) per remote autopilot heard on them.
//
// Set the fields, call Initialize, then Close when done. The fields must not
// change after Initialize. Addrs, Stats and Close may be called from any
// goroutine.
type Transport struct {
	// Endpoints in the form ParseEndpoint reads, for example
	// "udp:0.0.0.0:14550" or "tcp:127.0.0.1:5760". At least one.
	Endpoints []string
	// Ingest receives every update from every vehicle, one call at a time
	// and in order for each vehicle, from the goroutine reading its
	// connection (optional: nil discards them). Handle must not wait for
	// the transport.
	Ingest fleet.Ingest
	// SysID is the transport's own MAVLink system id (optional, default 255,
	// which ArduCopter's MAV_GCS_SYSID expects).
	SysID uint8
	// CompID is the transport's component id (optional, default 190,
	// MAV_COMP_ID_MISSIONPLANNER).
	CompID uint8
	// HeartbeatPeriod is the period of the GCS HEARTBEAT (optional, default 1 s).
	HeartbeatPeriod time.Duration
	// CommandTimeout is how long a command waits for its COMMAND_ACK before
	// it is sent again (optional, default 1 s).
	CommandTimeout time.Duration
	// CommandRetries is how many times a command is sent again (optional,
	// default 3; negative means never).
	CommandRetries int
	// MissionTimeout is the wait for each step of a mission transfer
	// (optional, default 1.5 s).
	MissionTimeout time.Duration
	// MissionRetries is how many times a mission step is repeated (optional,
	// default 5; negative means never).
	MissionRetries int
	// ParamTimeout is the wait for a parameter answer, and the silence that
	// ends the first pass of a parameter list download (optional, default 1 s).
	ParamTimeout time.Duration
	// ParamRetries is how many times a parameter request is repeated
	// (optional, default 3; negative means never).
	ParamRetries int
	// StatsInterval is the period of fleet.LinkStats updates (optional,
	// default 1 s).
	StatsInterval time.Duration
	// MaxLinks bounds the vehicles linked in total (optional, default
	// 4096), MaxLinksPerChannel those heard on one connection or UDP peer
	// (optional, default 8). Vehicles over them are ignored and counted.
	MaxLinks, MaxLinksPerChannel int
	// MaxPeers bounds the connections of each listening endpoint: TCP
	// connections of a tcpin endpoint, peers of a udp endpoint (optional,
	// default 512). MaxUnproven bounds, among them, those not yet proven to
	// be a vehicle by a valid vehicle HEARTBEAT (optional, default 256):
	// they are evicted first, once they had 2 s to prove themselves; until
	// then a newcomer over the budget is refused.
	MaxPeers, MaxUnproven int
	// FrameTimeout bounds the time one frame may take to arrive once
	// started, and FrameIdle the time without any whole frame, before the
	// connection is closed (optional, defaults 2 s and 15 s).
	FrameTimeout, FrameIdle time.Duration
	// PeerRate bounds the bytes per second read from one connection or UDP
	// peer (optional, default 256 KiB/s; negative: unlimited). A faster
	// peer is slowed down: TCP pushes back, UDP datagrams queue and drop.
	PeerRate int
	// MaxMissionItems bounds a plan downloaded from a vehicle (optional,
	// default fleet.DefaultMaxMissionItems); every item must also pass
	// fleet.CheckMissionItem.
	MaxMissionItems int
	// ReadBuffer is the socket receive buffer asked for each UDP listener
	// (optional, default DefaultReadBuffer, 4 MiB; the system may grant
	// less).
	ReadBuffer int
	// ReadCoalesce is how long a UDP listener's reader waits after a read
	// that found few datagrams waiting, so that the next read takes many
	// in one system call instead of waking once a datagram (optional,
	// default DefaultReadCoalesce; negative: never wait). It adds at most
	// that much latency to a frame, and the socket's buffer holds what
	// arrives meanwhile.
	ReadCoalesce time.Duration
	// Keys holds the MAVLink 2 signing keys of the vehicles on signed links
	// (optional; nil: no link is signed). See the package doc's "MAVLink 2
	// signing".
	Keys fleet.KeyStore
	// SigningOptions tune key changes and replay marks (see signing_marks.go).
	SigningOptions
	// Logger receives the transport's logs (optional, nil discards them).
	Logger *slog.Logger
	// Now is the clock (optional, default time.Now).
	Now func() time.Time

	drw       *dialect.ReadWriter
	mt        *msgTable // drw's messages, for the framers
	endpoints []*endpointState
	udp       []*udpListener
	closers   []io.Closer // listening sockets, closed first by Close
	log       *slog.Logger
	started   time.Time
	closeOnce sync.Once
	closing   atomic.Bool // set by Close before the endpoints close
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // every goroutine the transport started

	connMu sync.Mutex
	conns  map[io.Closer]struct{} // open stream connections

	// mu serializes the handling of what every endpoint reads, the ticks
	// and the heartbeats; it guards the fields below and the channels'
	// fields marked t.mu. Nothing holding it blocks on a caller.
	mu    sync.Mutex
	links map[linkKey]*link
	// rxNow is when the frames being handled were read: one reading of
	// the clock for a batch of datagrams, not one a frame.
	rxNow time.Time

	guard    *guard
	limitLog fleet.RateLog // limits of the transport as a whole
	// srcLog limits the lines one source (a connection, a vehicle) can
	// cause, so one flooding sender never silences another's.
	srcLog fleet.KeyedRateLog
	signer *signer

	// signing and other ground stations (mu)
	channels    map[*channel]struct{}
	streams     map[streamKey]*sigStream
	signedBySys map[uint8]*link
	lastNotice  map[chanKind]time.Time
	signingState

	stats   transportStats
	traffic trafficCounters
}

// transportStats are the transport's counters, updated atomically from any
// goroutine.
type transportStats struct {
	frames, parseErrors, unknown, ignored, dropped, consoleText atomic.Uint64
	links                                                       atomic.Int64

	junkBytes, slowClosed, throttled, peersRefused, unprovenEvicted atomic.Uint64
	linksRefused, textsCut, badMissions                             atomic.Uint64
	unsigned, badSignatures, replays, foreignGCS, unaskedAcks       atomic.Uint64
}

type linkKey struct {
	ch    *channel
	sysID uint8
}

// Stats are the transport's counters since Initialize.
type Stats struct {
	// Frames counts frames received and decoded.
	Frames uint64
	// ParseErrors counts malformed input: bytes outside frames that are not
	// console text (counted by the connection guard without an event each,
	// see JunkBytes), truncated frames, bad checksums, and frames with a
	// message id outside the dialect (UnknownMessages counts those too).
	ParseErrors uint64
	// UnknownMessages counts frames with a message id outside the dialect.
	UnknownMessages uint64
	// ConsoleText counts lines of plain text read between frames (ArduPilot
	// SITL writes its boot console on the MAVLink port); they are not
	// parse errors.
	ConsoleText uint64
	// Ignored counts frames from systems that are not vehicles (ground
	// stations, systems not yet heard with a heartbeat) or from components
	// other than the autopilot.
	Ignored uint64
	// Dropped counts replies an operation was too slow to take.
	Dropped uint64
	// Links is the number of vehicles currently linked.
	Links int

	// The limits, each counted when it bites (see the Transport's options).

	// JunkBytes counts bytes dropped outside MAVLink frames (console text
	// included).
	JunkBytes uint64
	// SlowClosed counts connections closed for a frame that took longer
	// than FrameTimeout, or no whole frame for FrameIdle.
	SlowClosed uint64
	// Throttled counts the times a peer was slowed to PeerRate.
	Throttled uint64
	// PeersRefused counts connections refused by a full listener (MaxPeers,
	// or MaxUnproven with every unproven peer in its grace period);
	// UnprovenEvicted unproven peers evicted.
	PeersRefused, UnprovenEvicted uint64
	// LinksRefused counts vehicles ignored over MaxLinks or
	// MaxLinksPerChannel.
	LinksRefused uint64
	// TextsCut counts STATUSTEXTs cut at fleet.MaxStatusText.
	TextsCut uint64
	// BadMissions counts mission downloads refused: too many items or an
	// invalid one.
	BadMissions uint64

	// Signing (see Keys).

	// Unsigned counts frames dropped on a signed link for lacking a
	// signature, BadSignatures those with a wrong one, Replays those whose
	// timestamp was not newer than the last of their stream.
	Unsigned, BadSignatures, Replays uint64
	// ForeignGCS counts heartbeats of another ground station heard;
	// UnaskedAcks COMMAND_ACKs for commands this server did not send.
	ForeignGCS, UnaskedAcks uint64
}

// Initialize validates the options, opens every endpoint and starts the
// transport. A bad endpoint string or an address in use fails here.
func (t *Transport) Initialize() error {
	if len(t.Endpoints) == 0 {
		return fleet.Errorf(fleet.Invalid, "no MAVLink endpoint; %s", acceptedForms)
	}
	if t.SysID == 0 {
		t.SysID = DefaultSysID
	}
	if t.CompID == 0 {
		t.CompID = DefaultCompID
	}
	if t.HeartbeatPeriod <= 0 {
		t.HeartbeatPeriod = time.Second
	}
	if t.CommandTimeout <= 0 {
		t.CommandTimeout = DefaultCommandTimeout
	}
	t.CommandRetries = retries(t.CommandRetries, DefaultCommandRetries)
	if t.MissionTimeout <= 0 {
		t.MissionTimeout = DefaultMissionTimeout
	}
	t.MissionRetries = retries(t.MissionRetries, DefaultMissionRetries)
	if t.ParamTimeout <= 0 {
		t.ParamTimeout = DefaultParamTimeout
	}
	t.ParamRetries = retries(t.ParamRetries, DefaultParamRetries)
	if t.StatsInterval <= 0 {
		t.StatsInterval = DefaultStatsInterval
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	t.MaxLinks = positive(t.MaxLinks, DefaultMaxLinks)
	t.MaxLinksPerChannel = positive(t.MaxLinksPerChannel, DefaultMaxLinksPerChannel)
	t.MaxPeers = positive(t.MaxPeers, DefaultMaxPeers)
	t.MaxUnproven = positive(t.MaxUnproven, DefaultMaxUnproven)
	t.MaxMissionItems = positive(t.MaxMissionItems, fleet.DefaultMaxMissionItems)
	if t.FrameTimeout <= 0 {
		t.FrameTimeout = DefaultFrameTimeout
	}
	if t.FrameIdle <= 0 {
		t.FrameIdle = DefaultFrameIdle
	}
	if t.PeerRate == 0 {
		t.PeerRate = DefaultPeerRate
	}
	t.log = t.Logger
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t.log = t.log.With("component", "mavlink")
	t.limitLog.Log = t.log
	rate := float64(max(t.PeerRate, 0))
	t.guard = &guard{
		frameTimeout: t.FrameTimeout, frameIdle: t.FrameIdle,
		rate: rate, burst: max(rate/2, 64<<10), stats: &t.stats, logLimit: &t.limitLog,
	}
	if t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.guard.debug = t.log.Debug
	}

	if t.ReadCoalesce == 0 {
		t.ReadCoalesce = DefaultReadCoalesce
	}
	if t.ReadBuffer <= 0 {
		t.ReadBuffer = DefaultReadBuffer
	}
	drw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := drw.Initialize(); err != nil {
		return fmt.Errorf("mavlink: dialect: %w", err)
	}
	t.drw = drw
	t.mt = newMsgTable(drw)
	for _, s := range t.Endpoints {
		ep, err := ParseEndpoint(s)
		if err != nil {
			return err
		}
		label := string(ep.Kind) + ":" + ep.Address
		t.endpoints = append(t.endpoints, &endpointState{ep: ep, label: label, guard: t.guard,
			maxPeers: t.MaxPeers, maxUnproven: t.MaxUnproven})
	}
	t.started = time.Now()

	signer, err := newSigner(t)
	if err != nil {
		return err
	}
	t.signer = signer
	if err := t.initSigning(); err != nil {
		return err
	}
	t.links = make(map[linkKey]*link)
	t.channels = make(map[*channel]struct{})
	t.streams = make(map[streamKey]*sigStream)
	t.signedBySys = make(map[uint8]*link)
	t.lastNotice = make(map[chanKind]time.Time)
	t.conns = make(map[io.Closer]struct{})
	t.ctx, t.cancel = context.WithCancel(context.Background())

	// Open every socket first, so that an address in use fails before any
	// goroutine starts.
	var tcpLns []net.Listener
	var udpOuts []*net.UDPConn
	for i, st := range t.endpoints {
		var err error
		switch st.ep.Kind {
		case EndpointUDP:
			var u *udpListener
			if u, err = t.listenUDP(st, i); err == nil {
				t.udp = append(t.udp, u)
				t.closers = append(t.closers, u.conn)
			}
		case EndpointTCPIn:
			var ln net.Listener
			if ln, err = net.Listen("tcp", st.ep.Address); err == nil {
				st.setAddr(ln.Addr())
				tcpLns = append(tcpLns, ln)
				t.closers = append(t.closers, ln)
			}
		case EndpointUDPOut:
			var c net.Conn
			if c, err = net.Dial("udp", st.ep.Address); err == nil {
				udpOuts = append(udpOuts, c.(*net.UDPConn))
				t.closers = append(t.closers, c)
			}
		}
		if err != nil {
			for _, c := range t.closers {
				c.Close()
			}
			t.cancel()
			return fmt.Errorf("mavlink: open endpoints: %w", err)
		}
	}
	t.wg.Add(1)
	go t.run()
	for _, u := range t.udp {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			u.run()
		}()
	}
	nTCP, nOut := 0, 0
	for i, st := range t.endpoints {
		switch st.ep.Kind {
		case EndpointUDP: // started above
		case EndpointTCPIn:
			t.wg.Add(1)
			go t.serveTCP(st, i, tcpLns[nTCP])
			nTCP++
		case EndpointUDPOut:
			t.wg.Add(1)
			go t.runUDPOut(st, i, udpOuts[nOut])
			nOut++
		default: // tcp, serial
			t.wg.Add(1)
			go t.runClient(st, i)
		}
	}
	for _, st := range t.endpoints {
		t.log.Info("endpoint open", "link", st.ep.String(), "addr", addrString(st.boundAddr()))
	}
	return nil
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func retries(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Close closes every endpoint, ends every link (operations in flight return
// NoDrone) and waits for every goroutine the transport started.
func (t *Transport) Close() {
	t.closeOnce.Do(func() {
		if t.cancel == nil {
			return
		}
		t.closing.Store(true)
		t.cancel()
		for _, c := range t.closers {
			c.Close()
		}
		t.connMu.Lock()
		for c := range t.conns {
			c.Close()
		}
		t.connMu.Unlock()
		t.wg.Wait()
		t.mu.Lock()
		for _, u := range t.udp {
			u.closePeers()
		}
		for k, l := range t.links {
			l.close()
			delete(t.links, k)
		}
		t.stats.links.Store(0)
		t.mu.Unlock()
	})
}

// Addrs returns, for each entry of Endpoints, the address it is bound to if
// it listens (udp, tcpin), or nil. With port 0 this is the port the system
// chose.
func (t *Transport) Addrs() []net.Addr {
	out := make([]net.Addr, len(t.endpoints))
	for i, st := range t.endpoints {
		out[i] = st.boundAddr()
	}
	return out
}

// Stats returns the transport's counters.
func (t *Transport) Stats() Stats {
	return Stats{
		Frames:          t.stats.frames.Load(),
		ParseErrors:     t.stats.parseErrors.Load(),
		ConsoleText:     t.stats.consoleText.Load(),
		UnknownMessages: t.stats.unknown.Load(),
		Ignored:         t.stats.ignored.Load(),
		Dropped:         t.stats.dropped.Load(),
		Links:           int(t.stats.links.Load()),
		JunkBytes:       t.stats.junkBytes.Load(),
		SlowClosed:      t.stats.slowClosed.Load(),
		Throttled:       t.stats.throttled.Load(),
		PeersRefused:    t.stats.peersRefused.Load(),
		UnprovenEvicted: t.stats.unprovenEvicted.Load(),
		LinksRefused:    t.stats.linksRefused.Load(),
		TextsCut:        t.stats.textsCut.Load(),
		BadMissions:     t.stats.badMissions.Load(),
		Unsigned:        t.stats.unsigned.Load(),
		BadSignatures:   t.stats.badSignatures.Load(),
		Replays:         t.stats.replays.Load(),
		ForeignGCS:      t.stats.foreignGCS.Load(),
		UnaskedAcks:     t.stats.unaskedAcks.Load(),
	}
}

// run ticks (link stats, UDP peer timeouts) and sends the transport's
// heartbeats until the transport closes.
func (t *Transport) run() {
	defer t.wg.Done()
	t.startSigning()
	defer t.stopSigning()
	ticker := time.NewTicker(t.StatsInterval)
	defer ticker.Stop()
	hb := time.NewTicker(t.HeartbeatPeriod)
	defer hb.Stop()
	t.heartbeat()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-hb.C:
			t.heartbeat()
		case <-ticker.C:
			now := time.Now()
			t.mu.Lock()
			t.tick()
			for _, u := range t.udp {
				u.sweep(now)
			}
			t.mu.Unlock()
		}
	}
}

// heartbeat sends the transport's HEARTBEAT on every open channel: type
// GCS, autopilot INVALID, state ACTIVE. With Keys, signed per vehicle
// (sendHeartbeats).
func (t *Transport) heartbeat() {
	t.mu.Lock()
	if t.Keys != nil {
		t.sendHeartbeats()
		t.mu.Unlock()
		return
	}
	chs := make([]*channel, 0, len(t.channels))
	for ch := range t.channels {
		chs = append(chs, ch)
	}
	t.mu.Unlock()
	hb := &common.MessageHeartbeat{
		Type: mavTypeGCS, Autopilot: mavAutopilotInvalid, SystemStatus: 4, MavlinkVersion: 3,
	}
	// Not counted in Traffic, as gomavlib's own were not. The peers of a
	// UDP listener get theirs in batches (one sendmmsg for many).
	var peers map[*udpListener][]*channel
	for _, ch := range chs {
		if ch.udp == nil {
			_ = ch.writeMessage(hb)
			continue
		}
		if peers == nil {
			peers = make(map[*udpListener][]*channel, len(t.udp))
		}
		peers[ch.udp] = append(peers[ch.udp], ch)
	}
	for u, chs := range peers {
		u.writeBatch(chs, hb)
	}
}

// openChannel makes ch known (heartbeats go to it). Called with t.mu held.
func (t *Transport) openChannel(ch *channel) {
	ch.open = true
	t.channels[ch] = struct{}{}
	t.log.Debug("channel open", "link", ch.label)
}

// closeChannel ends ch and its links. Called with t.mu held.
func (t *Transport) closeChannel(ch *channel, err error) {
	if !ch.open {
		return
	}
	ch.open = false
	t.log.Info("channel closed", "link", ch.label, "err", err)
	for k, l := range t.links {
		if k.ch == ch {
			if !t.closing.Load() {
				// The peer went away (not the server shutting down,
				// which must not mark its drones lost).
				t.handle(l, fleet.LinkClosed{})
			}
			l.close()
			delete(t.links, k)
		}
	}
	ch.links = 0
	t.forgetChannel(ch)
	t.stats.links.Store(int64(len(t.links)))
}

// parseError counts a frame that failed to parse on ch. Called with t.mu
// held.
func (t *Transport) parseError(ch *channel, err error) {
	t.stats.parseErrors.Add(1)
	ch.parseErrors++
	if t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.srcLog.Debug(t.log, ch.label, "parse error", "link", ch.label, "err", err)
	}
}

// handleFrame handles one frame read on ch: identity, signing, sanity,
// the link's protocols and Ingest. Called with t.mu held.
func (t *Transport) handleFrame(ch *channel, fr frame.Frame) {
	msg := fr.GetMessage()
	if _, ok := msg.(*message.MessageRaw); ok {
		// gomavlib passes ids outside the dialect without a checksum check.
		t.stats.unknown.Add(1)
		t.stats.parseErrors.Add(1)
		ch.parseErrors++
		return
	}
	t.stats.frames.Add(1)
	t.frameIn(ch, msg)
	key := linkKey{ch, fr.GetSystemID()}
	l := t.links[key]
	sign, kind := t.checkSigned(ch, fr, l)
	if kind != "" {
		t.rejectSigned(ch, fr.GetSystemID(), l, kind)
		return
	}
	if hb, ok := msg.(*common.MessageHeartbeat); ok && hb.Type == mavTypeGCS && fr.GetSystemID() != t.SysID {
		t.stats.foreignGCS.Add(1)
		t.noticeChannel(ch, fleet.SecurityForeignGCS, fmt.Sprintf("ground station sysid %d", fr.GetSystemID()))
	}
	if l == nil {
		hb, ok := msg.(*common.MessageHeartbeat)
		if !ok || hb.Type == mavTypeGCS || hb.Autopilot == mavAutopilotInvalid || fr.GetSystemID() == 0 ||
			fr.GetSystemID() == t.SysID {
			// The server's own system id is never a vehicle.
			t.stats.ignored.Add(1)
			return
		}
		if len(t.links) >= t.MaxLinks || ch.links >= t.MaxLinksPerChannel {
			t.stats.linksRefused.Add(1)
			t.srcLog.Warn(t.log, ch.String(), "vehicles over the limit: ignored", "link", ch.String(), "sys_id", fr.GetSystemID(),
				"limit_total", t.MaxLinks, "limit_per_channel", t.MaxLinksPerChannel)
			return
		}
		l = t.newLink(ch, fr.GetSystemID(), fr.GetComponentID())
		if l == nil {
			t.stats.ignored.Add(1)
			return
		}
		l.sig.init(sign)
		if sign != nil {
			t.signedBySys[fr.GetSystemID()] = l
			l.log.Info("signed link")
		}
		t.links[key] = l
		ch.links++
		t.stats.links.Store(int64(len(t.links)))
	}
	if fr.GetComponentID() != l.compID {
		t.stats.ignored.Add(1)
		return
	}
	switch m := msg.(type) {
	case *common.MessageHeartbeat:
		l.autopilot.Store(uint32(m.Autopilot))
	case *common.MessageAutopilotVersion:
		l.caps.Store(uint64(m.Capabilities))
		l.capsKnown.Store(true)
	case *common.MessageCommandAck:
		if m.TargetSystem != 0 && m.TargetSystem != t.SysID {
			t.stats.unaskedAcks.Add(1)
			t.srcLog.Warn(t.log, l.key.Link+"/"+strconv.Itoa(int(l.key.SysID)), "vehicle answers another ground station", "link", l.key.Link, "sys_id", l.key.SysID,
				"cmd", uint32(m.Command), "to_sys_id", m.TargetSystem)
			l.notice(fleet.SecurityUnaskedAck, fmt.Sprintf("command %d acknowledged to sysid %d", m.Command, m.TargetSystem))
		}
	}
	l.handleFrame(fr.GetSequenceNumber(), msg, t.rxNow)
}

// linkName is the fleet's name of a channel: "endpoint/remote" for the
// connections of a listener, the endpoint for a client.
func (t *Transport) linkName(ch *channel) string { return ch.name }

// forgetChannel drops what the signing and notice checks keep of a closed
// channel.
func (t *Transport) forgetChannel(ch *channel) {
	delete(t.channels, ch)
	for k := range t.streams {
		if k.ch == ch {
			delete(t.streams, k)
		}
	}
	for k := range t.lastNotice {
		if k.ch == ch {
			delete(t.lastNotice, k)
		}
	}
	for sys, l := range t.signedBySys {
		if l.ch == ch {
			delete(t.signedBySys, sys)
		}
	}
	t.signer.forget(ch)
}

func (t *Transport) newLink(ch *channel, sysID, compID uint8) *link {
	l := newLink(t, ch, fleet.VehicleKey{Link: t.linkName(ch), SysID: sysID}, compID)
	l.log.Info("vehicle linked", "comp_id", compID)
	return l
}

// tick is called by run with t.mu held.
func (t *Transport) tick() {
	now := t.Now()
	for k, l := range t.links {
		l.tick(now, k.ch.parseErrors)
	}
	t.signingTick(now)
}

func (t *Transport) handle(v fleet.Vehicle, u fleet.Update) {
	if t.Ingest != nil {
		t.Ingest.Handle(v, u)
	}
}

// send writes m to the channel, from the transport's ids. It may be called
// from any goroutine; nil means written to the socket (UDP: not
// necessarily delivered).
func (t *Transport) send(ch *channel, m message.Message) error {
	t.frameOut(ch, m)
	return ch.writeMessage(m)
}

// messageIDs maps message names without underscores ("GLOBALPOSITIONINT")
// to their ids in the dialect.
func messageIDs() map[string]uint32 {
	out := make(map[string]uint32, len(ardupilotmega.Dialect.Messages))
	for _, m := range ardupilotmega.Dialect.Messages {
		name := fmt.Sprintf("%T", m) // *common.MessageGlobalPositionInt
		if i := strings.LastIndex(name, ".Message"); i >= 0 {
			name = name[i+len(".Message"):]
		}
		out[normName(name)] = m.GetID()
	}
	return out
}

// normName upper-cases a message name and removes its underscores.
func normName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// MessageID returns the id of a MAVLink message of the ardupilotmega dialect
// by name, for example 33 for "GLOBAL_POSITION_INT".
func MessageID(name string) (uint32, bool) {
	id, ok := messageIDTable[normName(name)]
	return id, ok
}

var messageIDTable = messageIDs()
