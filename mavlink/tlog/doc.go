// Package tlog reads MAVLink telemetry logs (the .tlog format of MAVProxy and
// QGroundControl: each record is an 8-byte big-endian count of microseconds
// since the Unix epoch followed by one MAVLink 1 or 2 frame) and replays them
// onto a connection at recorded timing, for replay tests of the whole ground
// station. It does not decode messages and exposes no gomavlib types: a
// Record carries the frame's raw bytes and its header fields.
//
// # Caveats
//
// Replay writes the records that share a timestamp as one write (one UDP
// datagram), the way an autopilot packs several frames into a datagram and a
// recording relay stamps them all with the datagram's time.
package tlog
