// Package app is Centinela's application layer: the one place where the
// people and tools that reach the server (the gRPC API in package proto, the
// operator map in package web, the ctl client through gRPC) meet the fleet.
// It knows who is calling (a Principal, from a bearer token), what they may
// do (roles, agencies, control grants), checks every input, carries the call
// out on fleet.Fleet, fleet.ZoneWatch and geofence.Store, and records it in
// the audit log. It knows no transport: adapters only translate.
//
// # Roles
//
// A supervisor reads and watches everything of every agency. An operator
// also commands the drones of its own agency, and those of agencies that
// granted it control (a Grant, until its expiry). An admin manages zones,
// agencies, drones' names and agencies, tokens and grants, may order
// fleet-wide emergency actions, and reads everything; it does not fly drones.
// Every method takes the caller's Principal and returns *fleet.Error:
// Unauthenticated for a bad token, Forbidden for what the role, agency or
// grant does not allow, Invalid naming the field ("lat: …") for bad input,
// Exhausted for input over a limit, NotFound for unknown ids, and the fleet's
// and vehicle's codes.
//
// # Audit
//
// Every command and change, allowed or refused, is appended to the Store's
// audit log (who, what, when, the result code) and published on the fleet's
// bus as a fleet.OperatorAction, so every operator sees commands issued by
// others. Reads are not audited.
//
// # Tokens
//
// A bearer token is "cnt_<id>_<secret>". Only the SHA-256 of the secret is
// stored; the secret is shown once, when the token is made (CreateToken),
// and is never logged.
//
// # Watching
//
// Watch returns a Watcher: a snapshot, then each drone's state (coalesced,
// at most MaxRateHz per drone: the latest state wins) and the events the
// caller selected, with a count of those a slow reader missed. It never slows
// the fleet's ingest.
//
// # Patrols
//
// PlanPatrol previews a planned patrol (package geofence/plan) against the
// reserved 4D volumes and reserves nothing; operators and admins may preview,
// a supervisor may not. DispatchPatrol plans for live drones, reserves one
// volume per drone in the Service's registry (refusing a conflict with the
// patrol met, where and when, or resolving it by altitude layer or later
// start), uploads and starts each mission through UploadMission and
// StartMission, so the zone guard and the audit apply; only operators who
// may command the drones dispatch. The Service's goroutine releases a volume
// when its mission finishes or is interrupted, extends it while the drone
// flies late, and publishes fleet.PatrolConformance when a drone leaves (or
// re-enters) its volume; fleet.PatrolChanged tells every dispatch and end.
// When the Store is also a PatrolStore (fleet/store's DB, MemStore), every
// change of a patrol is saved and Initialize reloads them after a restart:
// active ones reserve their volume again and keep following their mission
// by id (the fleet re-syncs it, see fleet.Fleet.KnownMission), ending as
// finished or interrupted when the re-synced mission is (a vehicle that
// completed it while the server was down); a fleet.MissionMismatch naming a
// patrol's mission ends it as interrupted.
// Without one, patrols live in memory and a restart forgets them.
//
// # Concurrency
//
// A Service is safe for concurrent use once Initialize returned. It owns one
// goroutine (grant expiry, alerts, refusals, patrol volumes), stopped by
// Close, and one per patrol waiting for a later start, stopped by Close too.
package app
