package proto

import (
	"errors"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/centinela-gcs/centinela/fleet"
)

// The house style's table, plus Forbidden and Exhausted: written out again
// here so that a change to the table in error.go is a deliberate one.
var wantCodes = map[fleet.Code]codes.Code{
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

func TestStatusErrorEveryCode(t *testing.T) {
	for _, c := range fleet.Codes {
		t.Run(string(c), func(t *testing.T) {
			want, ok := wantCodes[c]
			if !ok {
				t.Fatalf("code %q has no expected gRPC code in this test: add it to the table in error.go and here", c)
			}
			in := &fleet.Error{Code: c, Message: "the message", Reason: "MAV_RESULT_DENIED"}
			err, internal := statusError(in)
			st, _ := status.FromError(err)
			if st.Code() != want {
				t.Fatalf("gRPC code %s, want %s", st.Code(), want)
			}
			if internal != (c == fleet.Internal) {
				t.Errorf("internal = %v", internal)
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if d, ok := d.(*errdetails.ErrorInfo); ok {
					info = d
				}
			}
			if info == nil || info.Reason != string(c) || info.Domain != ErrorDomain {
				t.Fatalf("ErrorInfo %v, want reason %q domain %q", info, c, ErrorDomain)
			}
			back := ErrorFromStatus(err)
			var fe *fleet.Error
			if !errors.As(back, &fe) || fe.Code != c {
				t.Fatalf("ErrorFromStatus = %v, want code %s", back, c)
			}
			if c == fleet.Internal {
				if st.Message() != "internal error" || fe.Reason != "" {
					t.Errorf("internal error leaks: %q reason %q", st.Message(), fe.Reason)
				}
				return
			}
			if st.Message() != "the message" || fe.Reason != "MAV_RESULT_DENIED" {
				t.Errorf("message %q reason %q", st.Message(), fe.Reason)
			}
		})
	}
}

func TestStatusErrorOther(t *testing.T) {
	err, internal := statusError(errors.New("disk on fire at /var/secret"))
	st, _ := status.FromError(err)
	if st.Code() != codes.Internal || st.Message() != "internal error" || !internal {
		t.Fatalf("got %v internal=%v", st, internal)
	}
	if err, _ := statusError(nil); err != nil {
		t.Fatalf("nil became %v", err)
	}
	// An unknown code is internal too.
	err, internal = statusError(&fleet.Error{Code: "bogus", Message: "x"})
	if st, _ := status.FromError(err); st.Code() != codes.Internal || !internal {
		t.Fatalf("unknown code: %v", st)
	}
}

func TestStatusErrorFieldViolation(t *testing.T) {
	for _, tc := range []struct {
		msg, field string
	}{
		{"lat_deg: not a number", "lat_deg"},
		{"items[3].alt_m: out of range", "items[3].alt_m"},
		{"no such thing here: really", ""},
		{"plain message", ""},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			err, _ := statusError(&fleet.Error{Code: fleet.Invalid, Message: tc.msg})
			st, _ := status.FromError(err)
			var br *errdetails.BadRequest
			for _, d := range st.Details() {
				if d, ok := d.(*errdetails.BadRequest); ok {
					br = d
				}
			}
			if tc.field == "" {
				if br != nil {
					t.Fatalf("unexpected BadRequest %v", br)
				}
				return
			}
			if br == nil || len(br.FieldViolations) != 1 || br.FieldViolations[0].Field != tc.field {
				t.Fatalf("BadRequest %v, want field %q", br, tc.field)
			}
		})
	}
}
