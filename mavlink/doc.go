// Package mavlink is Centinela's MAVLink transport: it talks to ArduPilot and
// PX4 vehicles over UDP, TCP or serial links with gomavlib, and turns what it
// hears into fleet.Update values and what the fleet asks into frames.
//
// # Main types
//
// Transport owns the sockets of every configured endpoint (ParseEndpoint
// reads MAVProxy-style strings such as "udp:0.0.0.0:14550") and reads and
// writes them itself, with its own frame parser (channel_framer.go: frames
// and the hot telemetry messages decoded into reused values, no allocation
// per frame, the same results as gomavlib's frame reader), gomavlib's
// decoder for the other messages, its frame writer and dialect: there is no
// gomavlib Node. A channel is one connection (a TCP
// connection, a serial port, a udpout socket) or one source address of a
// UDP listener. Each remote autopilot, identified by the channel it is
// heard on and its system id, becomes a link that implements
// fleet.Vehicle: commands with COMMAND_ACK and retries, the mission
// protocol (mission, fence, rally), the parameter protocol and stream
// requests. Every decoded message goes to the configured fleet.Ingest, one
// call at a time.
//
// The transport identifies itself as a ground station: system id 255 and
// component id 190 by default (ArduCopter's GCS failsafe only counts
// heartbeats from MAV_GCS_SYSID, 255 by default), HEARTBEAT at 1 Hz with type
// GCS, autopilot INVALID and state ACTIVE.
//
// # Hardening
//
// The transport trusts nothing it hears. Every connection and UDP peer
// passes through a guard (conn_guard.go) that drops bytes outside frames, disconnects slow
// senders (FrameTimeout, FrameIdle), slows a flooding peer (PeerRate) and
// keeps a small budget of peers not yet proven to be a vehicle by a valid
// heartbeat (MaxUnproven, evicted first) within MaxPeers per listener.
// MaxLinks and MaxLinksPerChannel bound the vehicles; a reassembled
// STATUSTEXT is cut at fleet.MaxStatusText; a mission download refuses more
// than MaxMissionItems or an invalid item. The server's own system id is
// never a vehicle. Each limit counts in Stats when it bites and logs at
// most once a second. With Keys, links are MAVLink 2 signed (signing.go;
// keys pushed to live vehicles in signing_link.go, replay marks kept
// across restarts in signing_marks.go);
// with or without, another ground station's heartbeat or a COMMAND_ACK sent
// to another system is reported as a fleet.SecurityNotice. The threat model
// is docs/SECURITY.md.
//
// # Concurrency
//
// Each UDP listener has one reader goroutine for all its peers: it reads
// datagrams in batches (recvmmsg) into reused buffers, finds the peer by
// source address and handles the frames in place (endpoint_udp.go). Each
// TCP connection and serial port has one reader goroutine
// (endpoint_stream.go); a tcpin endpoint one more that accepts. One more
// goroutine ticks (link stats, UDP peer timeouts) and sends the transport's
// heartbeats. The handling of a frame (identity, signing, sanity, the
// link's protocols, Ingest.Handle, and the hand-off of protocol replies
// such as COMMAND_ACK, MISSION_*, PARAM_VALUE and STATUSTEXT to the
// operations waiting for them with non-blocking sends) runs in the reader
// that read it, serialized across readers by one lock, so each link's
// updates reach Ingest in order; it never blocks on a caller. Frames are
// written straight to the socket by whoever sends them. Every fleet.Vehicle method
// runs its protocol state machine in the caller's goroutine and may be called
// concurrently; exclusive operations (a mission transfer, a parameter list
// download, a second command with the same MAV_CMD, or for REQUEST_MESSAGE and
// SET_MESSAGE_INTERVAL the same MAV_CMD about the same message) return
// fleet.Busy.
//
// # Caveats
//
// ArduPilot packs several frames into one datagram (a COMMAND_ACK and the
// STATUSTEXT giving its reason arrive together); every frame of a datagram
// is decoded. Frames do not span datagrams: a frame cut short at the end of
// one is a parse error.
//
// A UDP peer over PeerRate has its datagrams dropped (counted in
// Stats.Throttled): the shared reader cannot wait for one peer. A UDP peer
// is dropped, like a closed connection, after 10 s without a datagram or
// FrameIdle without a whole frame. Writes to a TCP connection that does not
// read for 5 s close it; with Keys the signed heartbeats are written while
// the handling lock is held, so such a connection can delay every link by
// that much once.
//
// Frames with a message id outside the ardupilotmega dialect pass the
// framer unchecked, as gomavlib's reader passes them; the transport counts them with the parse errors and drops
// them.
//
// ArduPilot SITL writes its boot console (`Init ArduCopter V4.7.0-dev …`) as
// plain text on its MAVLink port. Printable bytes between frames are counted
// as lines of console text (Stats.ConsoleText), not as parse errors. Serial
// ports pass through the same guard as TCP connections, without the frame
// timeouts (a serial line cannot be disconnected).
//
// No ArduPilot stream group carries EXTENDED_SYS_STATE; RequestStreams asks
// for it at the stream rate with SET_MESSAGE_INTERVAL (without waiting for
// the ACK), so the landed state is the vehicle's own where the firmware
// sends it.
package mavlink
