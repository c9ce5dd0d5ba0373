// Package fleet is Centinela's domain core: the drones, their state and link
// health, the commands the server sends them, their missions and parameters,
// and the in-process event bus every other layer (gRPC, the map, storage)
// reads.
//
// It knows no transport. A transport (package mavlink) implements Vehicle
// for every remote system it hears and feeds decoded Updates to Fleet.Handle
// (Fleet implements Ingest). Servers call the Fleet's methods, which return
// *Error with a Code, and read events from Fleet.Subscribe.
//
// # Drones
//
// A drone is discovered by its first heartbeat (ground stations and
// components without an autopilot are ignored). Its id is its configured
// name (Fleet.NamesByKey, NamesByUID, Names) or "sysid-N"; its agency
// comes from Fleet.AgenciesByKey, AgenciesByUID or Agencies.
//
// # Identity
//
// A drone is bound to the link it was discovered on. A heartbeat asking for
// the id of a drone active on another link is a claim and never takes the
// drone over: the claimant is held (its telemetry ignored) until the
// drone's own link is lost (a reconnect: the drone follows the new link;
// a transport's LinkClosed makes that immediate), until it proves to be the
// same vehicle by a MAVLink 2 signature with the drone's key or by the
// drone's AUTOPILOT_VERSION uid (the drone follows once its own link is
// silent for 1.5 s), or until it is shown to be another vehicle (a
// different uid, or still heard after LinkTimeout): then it becomes a drone
// of its own and IdentityClaimed reports the claim. A second drone with a
// taken id is named after it: "-u" and the uid in 16 hex digits, or "-l"
// and the FNV-1a hash of its link name in 8 ("sysid-1-l9c2f61a0"), so ids
// are stable strings, never counters. MaxDrones and MaxClaimants bound what
// senders can make the fleet hold; Stats counts what the limits refused.
// DroneState is a value snapshot: the mode comes only from custom_mode
// (ArduCopter and PX4 names, see ModeName), armed only from the 0x80 flag,
// and there is no position until a real one arrives (ArduCopter streams 0,0
// before its first fix). The landed state is EXTENDED_SYS_STATE's (ArduCopter
// sends it only when asked, and the transport asks); without it, it is
// inferred from armed, altitude and climb rate. Pre-arm readiness is
// SYS_STATUS's PREARM_CHECK bit (DroneState.PrearmOK).
//
// # Link health and background work
//
// One scheduler goroutine checks every drone each TickInterval: a drone with
// no heartbeat for LinkTimeout is LOST (LinkLost), and heard again is
// regained (LinkRegained). On discovery, link regained and a reboot, a small
// pool of workers asks the drone for its telemetry streams and
// AUTOPILOT_VERSION; after a regain during a mission they download the
// mission again and let MISSION_CURRENT say where the drone is. Handle never
// waits for any of it. Timeouts and windows are measured with
// Fleet.Monotonic, timestamps taken with Fleet.Now: a wall-clock jump moves
// the timestamps, never a timeout (TestWallClockJumps).
//
// # Events
//
// Subscribe returns a Subscription whose channel delivers Events. State is
// coalesced per drone (a slow reader gets each drone's latest StateChanged,
// not a backlog); discrete events wait in a bounded queue, and when it is
// full new ones are dropped, counted (Subscription.Missed) and announced
// with a Missed event. Publishers never block. One vehicle cannot flood
// the bus: its status texts, and the other events its messages cause (mode,
// arming, system and landed state flapping), are each limited to 20 a
// second after a burst of 100, dropped beyond and counted
// (Stats.EventsDropped); link, failsafe, identity, security and mission
// interruption events are never dropped.
//
// A subscription read on C has one goroutine, and each state costs it an
// allocation and two channel hand-offs. A subscriber of a large fleet
// subscribes with Batch instead: no goroutine, and Take hands it every
// state and event waiting in one call, states in a reused buffer; Linger
// lets states gather a few milliseconds before its reader wakes, and
// NoState leaves them out for a reader of discrete events only.
//
// The log lines one drone or link can cause (impossible values, link
// flaps, failsafes, identity claims, missions not adopted, breaches) go
// through a KeyedRateLog: each message at most once a second per drone or
// link, with the count left out on the next line, so one source's flood
// neither floods the log nor hides another's lines.
//
// # Geofences
//
// ZoneGuard (a Guard over a geofence.Store) refuses go-tos and missions
// that leave a drone's allowed space, naming the zone (Conflict). ZoneWatch
// checks every position against it and publishes ZoneStateChanged and
// ZoneResponse, responding to breaches by its ZonePolicy. UploadGeofence
// puts the allowed space on the vehicle as MAVLink fence items (FenceItems).
//
// # Missions
//
// MissionStatus documents how progress is measured (DO_JUMP unrolled,
// monotonic while the plan is followed). ArduCopter quirks handled:
// MISSION_ITEM_REACHED may carry the seq of the DO item following the
// waypoint reached; MISSION_CURRENT never shows DO items; the mission ends
// with mission_state COMPLETE, or the last item reached and the drone landed
// or disarmed. A mission stops (MissionInterrupted) on a mode change by
// someone else, a lost link, or a failsafe: a mode change out of AUTO waits
// up to 2 s for a failsafe STATUSTEXT to name the reason. Progress and ETA
// are measured from where the drone is when the mission starts; reports
// that come while StartMission waits for its acks count (a drone already on
// the first waypoint reports it reached as AUTO begins: see StartMission).
// A plan read
// back from the vehicle (DownloadMission, the re-sync after a link regain)
// is compared as the vehicle stores it (StoredItem: ArduCopter keeps only a
// waypoint's hold time), so the same plan keeps its mission id and
// progress; a different one replaces it with a MissionMismatch event.
//
// # Waiting
//
// Fleet.WaitState waits for a drone state to satisfy a condition, WaitEvent
// for the next matching event of a type, and NextEvent for one on a
// subscription made before starting an operation; all take a ctx for the
// deadline and return Timeout when it ends.
//
// # Concurrency
//
// All methods are safe for concurrent use. Each drone's state is guarded by
// its own mutex, held only for in-memory updates (never across a publish, a
// channel send or a vehicle call); Handle runs on the transport's goroutine
// and does no more than that. Commands block until the vehicle answers or
// ctx (or the fleet's CommandTimeout) ends.
package fleet
