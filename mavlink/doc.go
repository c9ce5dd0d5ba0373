// Package mavlink is Centinela's MAVLink transport: it talks to ArduPilot and
// PX4 vehicles over UDP, TCP or serial links with gomavlib, and turns what it
// hears into fleet.Update values and what the fleet asks into frames.
//
// # Main types
//
// Transport owns one gomavlib Node with every configured endpoint
// (ParseEndpoint reads MAVProxy-style strings such as "udp:0.0.0.0:14550").
// Each remote autopilot, identified by the channel it is heard on and its
// system id, becomes a link that implements fleet.Vehicle: commands with
// COMMAND_ACK and retries, the mission protocol (mission, fence, rally), the
// parameter protocol and stream requests. Every decoded message goes to the
// configured fleet.Ingest from a single goroutine.
//
// The transport identifies itself as a ground station: system id 255 and
// component id 190 by default (ArduCopter's GCS failsafe only counts
// heartbeats from MAV_GCS_SYSID, 255 by default), HEARTBEAT at 1 Hz with type
// GCS, autopilot INVALID and state ACTIVE.
//
// # Hardening
//
// The transport trusts nothing it hears. Every connection passes through a
// guard (conn_guard.go) that drops bytes outside frames, disconnects slow
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
// One goroutine drains the Node's events: it decodes frames, calls
// Ingest.Handle, and hands protocol replies (COMMAND_ACK, MISSION_*,
// PARAM_VALUE, STATUSTEXT) to the operations waiting for them with
// non-blocking sends; it never blocks on a caller. Every fleet.Vehicle method
// runs its protocol state machine in the caller's goroutine and may be called
// concurrently; exclusive operations (a mission transfer, a parameter list
// download, a second command with the same MAV_CMD, or for REQUEST_MESSAGE and
// SET_MESSAGE_INTERVAL the same MAV_CMD about the same message) return
// fleet.Busy.
//
// # Caveats
//
// gomavlib's own UDP endpoints read only the first frame of each datagram,
// while ArduPilot packs several frames into one (a COMMAND_ACK and the
// STATUSTEXT giving its reason arrive together). The transport therefore reads
// UDP as a byte stream of whole datagrams, so every frame of a datagram is
// decoded; a truncated frame at the end of a datagram may cost the next frame.
//
// Frames with a message id outside the ardupilotmega dialect pass gomavlib's
// reader unchecked; the transport counts them with the parse errors and drops
// them.
//
// ArduPilot SITL writes its boot console (`Init ArduCopter V4.7.0-dev …`) as
// plain text on its MAVLink port. Printable bytes between frames are counted
// as lines of console text (Stats.ConsoleText), not as parse errors.
//
// No ArduPilot stream group carries EXTENDED_SYS_STATE; RequestStreams asks
// for it at the stream rate with SET_MESSAGE_INTERVAL (without waiting for
// the ACK), so the landed state is the vehicle's own where the firmware
// sends it.
package mavlink
