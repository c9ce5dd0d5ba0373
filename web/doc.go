// Package web is the operator map: an HTTP server with the embedded page
// (web/ui: HTML, CSS and JavaScript, no build step, no third-party code),
// a JSON API, and a WebSocket endpoint that streams the fleet's state,
// zones, routes, events and alerts (PROTOCOL.md). It is the only package
// that imports net/http and gorilla/websocket, and it reaches the fleet
// only through the application layer (App, implemented by *app.Service),
// with the same tokens, roles, grants and audit as the gRPC API.
//
// # Main types
//
// Server serves it all: set its options, Initialize (which listens, so a
// port in use fails at once), and Close. Status is the one table from
// fleet.Code to HTTP status. Planner is the hook for the patrol planner;
// PatternPlanner is the built-in one (perimeter, sweep, line).
//
// # Fan-out
//
// One hub goroutine reads one app.Watcher for every client. Each drone's
// state is kept with a version, its compact entry encoded at once, its
// status entry when its status telemetry changed, and its full object when
// a message first needs it (once per change at most).
// Every FlushInterval the hub encodes the drones changed since its last
// frame into one shared message per protocol version, which every client
// watching every drone and up to date writes as is; others get a shared
// catch-up message or one of their own (latest state wins, nothing
// queues). Protocol 2 clients (subprotocol centinela.v2) get a drone whose
// only changes since their last message are its position part and its
// status telemetry (battery, GPS, link quality) as a compact entry, with a
// status entry if the telemetry changed (the version at which it last did
// decides), and its full object when anything else changed (a slowKey of
// the object's other fields decides); protocol 1 clients get full objects
// only, and the hub builds their shared frames only while one is
// connected. Events and alerts are encoded once
// and queued to each subscribed client, bounded by SendBuffer bytes; a
// client past it, or one whose write misses WriteTimeout, is closed with
// code 4008. The hub never blocks on a client, so neither does the fleet.
//
// # Security
//
// Tokens travel only in the Authorization header or, for WebSockets, in
// the first message or a "bearer.TOKEN" subprotocol, never in URLs. Every
// answer carries a Content-Security-Policy without inline scripts,
// frame-ancestors 'none' and X-Frame-Options DENY, nosniff and
// no-referrer. WebSocket upgrades must come from the page's origin.
// Request bodies are bounded (MaxBodyBytes) and decoded strictly.
//
// # Caveats
//
// The page keeps the token in sessionStorage (the tab's lifetime). It may
// also take it from the URL's fragment (#token=…), which browsers never
// send to servers, and removes it from the address bar at once; the demo
// prints such URLs. Alert ids and acknowledgements live in app.Service, in
// memory. History calls need the Service's History; without it they answer
// 501 and the page says the server keeps no history.
package web
