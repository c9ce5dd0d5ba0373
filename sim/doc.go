// Package sim is Centinela's software-in-the-loop simulator: simulated
// ArduCopter multicopters that speak real MAVLink 2 over real sockets, so the
// server's code path is the one it takes with ArduPilot SITL or hardware.
//
// A [Swarm] runs N drones in one process. Each [Drone] has its own socket
// (its own link at the ground station) and system id (component 1, dialect
// ardupilotmega): drones sending to a UDP ground station (udpout) share
// the swarm's hub, others have a gomavlib Node each. A drone behaves like ArduCopter 4.7 as recorded in the project's SITL reference
// traffic: heartbeat and status texts, streams only on request, pre-arm
// checks during a simulated boot, commands answered with COMMAND_ACK,
// the parameter protocol, GUIDED/LOITER/RTL/LAND/AUTO flight, missions,
// fences and failsafes.
//
// sim never imports the server's packages (fleet/, mavlink/): it is a drone,
// and reaches the server only over a socket.
//
// # Time
//
// Flight physics, boot timing, hold times and battery drain run on a
// simulated clock sped up by [Config.Speedup] (the SIM_SPEEDUP parameter, per
// drone). The radio link runs in wall-clock time: heartbeats (1 Hz),
// telemetry stream rates, parameter pacing, the mission protocol's timeouts
// and the GCS failsafe are measured in real time, so a 1 Hz ground station
// never trips the failsafe at speed-up 20.
//
// # Concurrency
//
// One scheduler goroutine owned by the Swarm steps every drone (physics,
// streams, timers). udpout drones share one reader goroutine (epoll over
// every socket, Linux) and send from the goroutine that has the frames,
// encoding them with gomavlib's frame writer into a buffer per drone,
// several to a datagram as ArduPilot does; a drone with a Node has one
// goroutine draining its events and no lock is held while a message is
// handed to gomavlib. A drone's state is guarded by its own mutex. Nothing per message starts a goroutine or
// a timer. All exported methods are safe for concurrent use.
//
// # Differences from ArduCopter
//
// Where the simulator and ArduCopter 4.7 differ, ArduCopter is the
// reference. Known differences: the boot to a position estimate takes
// Config.BootDelay (default 6 s of simulated time; ArduCopter SITL takes
// about 40 s). There is no RC input: LOITER, ALT_HOLD and POSHOLD hold the
// altitude, where ArduCopter SITL, its throttle stick at minimum without RC
// overrides, descends and lands. Missions are stored as AP_Mission stores
// them for Copter (a NAV_WAYPOINT keeps only its hold time, so waypoints are
// reached at WPNAV_RADIUS); inclusion fences intersect unless FENCE_OPTIONS
// has bit value 2 (union).
//
// # Faults
//
// [Faults] injects packet loss each way, latency and jitter, link cuts, GPS
// loss, battery drain, wind and a system id override, at start and at run
// time. Loss and latency are applied per message inside the simulator, with
// the drone's seeded random number generator.
package sim
