// Package proto is Centinela's gRPC adapter: the server of the API defined
// in proto/centinela/v1 (package centinelav1, generated), and a small
// client for tools such as `centinela ctl`. It only translates: every call
// goes to the application layer (fleet/app), which checks permissions,
// validates, audits and acts on the fleet. It is the only package that
// imports gRPC.
//
// # Server
//
// Server serves the services Fleet, Control, Emergency, Mission, Param,
// Geofence, Telemetry, Admin and Patrol, plus the standard health service
// (grpc.health.v1) and server reflection, so grpcurl and grpc-health-probe
// work. Set its fields, call Initialize (which listens, so a port in use
// fails at once) and Close when done.
//
// Callers authenticate with a bearer token in the "authorization" metadata
// ("Bearer …"); interceptors hand it to app.Service.Authenticate and put the
// Principal in the handler's context. Health and reflection need no token.
//
// # Errors
//
// A *fleet.Error becomes a gRPC status through one table (see GRPCCode).
// Its details carry a google.rpc.ErrorInfo whose Reason is the fleet code
// ("not_found", "denied", …), Domain "centinela", and Metadata "reason" the
// domain detail (the zone, the MAV_RESULT name); INVALID_ARGUMENT also
// carries a google.rpc.BadRequest naming the field when the message has the
// form "field: problem". Any other error is INTERNAL "internal error",
// logged once here. The client side turns a status back into a *fleet.Error
// (ErrorFromStatus).
//
// # Streams
//
// Each long-lived server stream (WatchFleet, StreamTelemetry,
// WatchProgress) has its own writer goroutine; its handler pulls from the
// application layer's watcher, which coalesces state per drone, so a slow
// client gets the latest state and a count of what it missed, and never
// slows the fleet or other clients. A client that stops reading is
// disconnected with RESOURCE_EXHAUSTED once a message has waited
// WriteTimeout. A client that leaves cancels the stream's context and its
// goroutines end at once; Close ends every stream. Progress streams (Arm,
// Mission.Upload, Param.List) coalesce progress in a pump, so the fleet's
// transfer never waits for the client.
//
// # Regenerating
//
// The generated code is committed. After changing a .proto file, run
//
//	go generate ./proto/...
//
// which runs proto/gen.sh: protoc (Debian's protobuf-compiler) with
// protoc-gen-go and protoc-gen-go-grpc at the versions pinned there
// (proto/gen.sh --install installs them). CI regenerates and fails on a
// difference.
package proto

//go:generate ./gen.sh
