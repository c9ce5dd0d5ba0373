package proto

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/centinela-gcs/centinela/fleet"
)

// ErrorDomain is the Domain of the ErrorInfo detail of every status the
// server returns.
const ErrorDomain = "centinela"

// grpcCodes maps every fleet code onto its gRPC code: the one table of the
// gRPC adapter (the house style's table, plus Forbidden and Exhausted).
var grpcCodes = map[fleet.Code]codes.Code{
	fleet.Invalid:         codes.InvalidArgument,
	fleet.NotFound:        codes.NotFound,
	fleet.Conflict:        codes.FailedPrecondition,
	fleet.Unauthenticated: codes.Unauthenticated,
	fleet.Forbidden:       codes.PermissionDenied,
	fleet.Exhausted:       codes.ResourceExhausted,
	fleet.NoDrone:         codes.Unavailable,
	fleet.Busy:            codes.Unavailable,
	fleet.Denied:          codes.FailedPrecondition,
	fleet.Timeout:         codes.DeadlineExceeded,
	fleet.Unsupported:     codes.Unimplemented,
	fleet.Internal:        codes.Internal,
}

// GRPCCode returns the gRPC code of a fleet code (Internal for an unknown one).
func GRPCCode(c fleet.Code) codes.Code {
	if g, ok := grpcCodes[c]; ok {
		return g
	}
	return codes.Internal
}

// fleetCodeOf maps a gRPC code back to a fleet code when a status carries
// no ErrorInfo (a status made by gRPC itself: a deadline, a message too
// large, a connection refused).
func fleetCodeOf(c codes.Code) fleet.Code {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return fleet.Invalid
	case codes.NotFound:
		return fleet.NotFound
	case codes.FailedPrecondition, codes.AlreadyExists, codes.Aborted:
		return fleet.Conflict
	case codes.Unauthenticated:
		return fleet.Unauthenticated
	case codes.PermissionDenied:
		return fleet.Forbidden
	case codes.ResourceExhausted:
		return fleet.Exhausted
	case codes.Unavailable:
		return fleet.NoDrone
	case codes.DeadlineExceeded, codes.Canceled:
		return fleet.Timeout
	case codes.Unimplemented:
		return fleet.Unsupported
	}
	return fleet.Internal
}

// statusError turns err into a gRPC status error. A *fleet.Error keeps its
// message, with its code and reason in an ErrorInfo detail (and a
// BadRequest for an Invalid whose message names a field); any other error
// becomes Internal "internal error". The second result reports whether err
// was internal, so that the caller logs it (once).
func statusError(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	if _, ok := status.FromError(err); ok && !isFleetError(err) {
		// Already a status (made by a stream's send, or a context end).
		return err, false
	}
	if !isFleetError(err) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "canceled"), false
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "deadline exceeded"), false
		}
	}
	var fe *fleet.Error
	if !errors.As(err, &fe) {
		fe = &fleet.Error{Code: fleet.Internal, Message: "internal error"}
	}
	internal := fe.Code == fleet.Internal || grpcCodes[fe.Code] == codes.OK
	msg := fe.Message
	if internal {
		msg = "internal error"
	}
	st := status.New(GRPCCode(fe.Code), msg)
	info := &errdetails.ErrorInfo{Reason: string(fe.Code), Domain: ErrorDomain}
	if fe.Reason != "" && !internal {
		info.Metadata = map[string]string{"reason": fe.Reason}
	}
	if internal {
		info.Reason = string(fleet.Internal)
	}
	details := []*errdetails.ErrorInfo{info}
	var withDetails *status.Status
	var derr error
	if fe.Code == fleet.Invalid {
		if field, problem, ok := fieldOf(fe.Message); ok {
			withDetails, derr = st.WithDetails(details[0], &errdetails.BadRequest{
				FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: problem}},
			})
		}
	}
	if withDetails == nil {
		withDetails, derr = st.WithDetails(details[0])
	}
	if derr != nil {
		return st.Err(), internal
	}
	return withDetails.Err(), internal
}

func isFleetError(err error) bool {
	var fe *fleet.Error
	return errors.As(err, &fe)
}

// fieldOf splits a message of the form "field: problem", where field is a
// field path (letters, digits, '_', '.', '[', ']'), as the application
// layer writes its Invalid messages.
func fieldOf(msg string) (field, problem string, ok bool) {
	field, problem, ok = strings.Cut(msg, ": ")
	if !ok || field == "" || problem == "" {
		return "", "", false
	}
	for _, r := range field {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '[', r == ']':
		default:
			return "", "", false
		}
	}
	return field, problem, true
}

// ErrorFromStatus turns an error returned by a gRPC call into a
// *fleet.Error: the code and reason from the status's ErrorInfo when the
// server sent one, else from the gRPC code. It returns nil for nil and err
// itself when err is not a gRPC status.
func ErrorFromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	fe := &fleet.Error{Code: fleetCodeOf(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == ErrorDomain && d.GetReason() != "" {
				fe.Code = fleet.Code(d.GetReason())
				fe.Reason = d.GetMetadata()["reason"]
			}
		}
	}
	return fe
}
