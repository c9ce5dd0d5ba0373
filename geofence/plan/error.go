package plan

import "fmt"

// Code classifies a planning error. Package fleet/patrol maps each code to
// a fleet error code.
type Code string

// Error codes.
const (
	// CodeInvalid: the request is wrong (bad values, missing area or line,
	// unknown kind). fleet: Invalid.
	CodeInvalid Code = "invalid"
	// CodeNotFound: the request names an agency the zone set does not hold.
	// fleet: NotFound.
	CodeNotFound Code = "not_found"
	// CodeNoRoute: no valid route exists inside the allowed space (the
	// message says why and where). fleet: Conflict.
	CodeNoRoute Code = "no_route"
	// CodeEndurance: the route does not fit the battery (the message gives
	// the numbers). fleet: Conflict with reason "endurance".
	CodeEndurance Code = "endurance"
	// CodeConflict: a patrol's 4D volume meets one already reserved (the
	// message names it, where and when). fleet: Conflict.
	CodeConflict Code = "conflict"
)

// Error is the error type of this package. Every error Plan, Check and the
// Registry return is an *Error.
type Error struct {
	Code    Code
	Message string
	// Conflict is set for CodeConflict: the reserved volume met.
	Conflict *Conflict
}

// Error implements error.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}
