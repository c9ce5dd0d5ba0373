package fleet

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and transports. Each code maps one to one
// onto an HTTP status and a gRPC status code (see the tables in web/ and proto/).
type Code string

// Error codes.
const (
	// Invalid means the request itself is wrong: bad coordinates, bad values.
	Invalid Code = "invalid"
	// NotFound means the named drone, zone or mission does not exist.
	NotFound Code = "not_found"
	// Conflict means the request clashes with the current state
	// (for example a go-to that leaves the drone's allowed space).
	Conflict Code = "conflict"
	// Unauthenticated means the caller is not known.
	Unauthenticated Code = "unauthenticated"
	// Forbidden means the caller is known but may not do this (its role,
	// its agency, or a control grant that has expired).
	Forbidden Code = "forbidden"
	// Exhausted means the request is larger than a limit allows (too many
	// items, too large a body) or a quota is used up.
	Exhausted Code = "exhausted"
	// NoDrone means the drone's link is lost: nothing can reach it now.
	NoDrone Code = "no_drone"
	// Busy means the drone is already running an exclusive operation
	// (for example a mission upload).
	Busy Code = "busy"
	// Denied means the vehicle refused the command (COMMAND_ACK DENIED/FAILED,
	// a MISSION_ACK error). The message carries the vehicle's reason when known.
	Denied Code = "denied"
	// Timeout means the vehicle did not answer within the timeout and retries.
	Timeout Code = "timeout"
	// Unsupported means the vehicle does not support the command.
	Unsupported Code = "unsupported"
	// Internal is any other failure; users see only "internal error".
	Internal Code = "internal"
)

// Codes lists every code, for transports that must map each one.
var Codes = []Code{Invalid, NotFound, Conflict, Unauthenticated, Forbidden, Exhausted, NoDrone, Busy, Denied, Timeout, Unsupported, Internal}

// Error is the only error type that crosses package boundaries.
type Error struct {
	// Code classifies the error.
	Code Code
	// Message is shown to users.
	Message string
	// Reason is a machine-readable detail (for example a MAV_RESULT or
	// MAV_MISSION_RESULT name), optional.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: that of the first *Error in its chain,
// "" for nil and Internal for any other error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the user-facing message of err: the message of its
// *Error, or "internal error" for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
