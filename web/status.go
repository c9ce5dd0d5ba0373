package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/centinela-gcs/centinela/fleet"
)

// statusOf maps every fleet.Code onto its HTTP status: the one table of
// the web transport (see STYLE.md; a test runs every fleet.Codes entry).
var statusOf = map[fleet.Code]int{
	fleet.Invalid:         http.StatusBadRequest,
	fleet.NotFound:        http.StatusNotFound,
	fleet.Conflict:        http.StatusConflict,
	fleet.Unauthenticated: http.StatusUnauthorized,
	fleet.Forbidden:       http.StatusForbidden,
	fleet.Exhausted:       http.StatusRequestEntityTooLarge,
	fleet.NoDrone:         http.StatusServiceUnavailable,
	fleet.Busy:            http.StatusServiceUnavailable,
	fleet.Denied:          http.StatusUnprocessableEntity,
	fleet.Timeout:         http.StatusGatewayTimeout,
	fleet.Unsupported:     http.StatusNotImplemented,
	fleet.Internal:        http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code (500 for an unknown one).
func Status(c fleet.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every error answer:
// {"error":{"code":"…","message":"…","reason":"…"}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    fleet.Code `json:"code"`
	Message string     `json:"message"`
	Reason  string     `json:"reason,omitempty"`
}

// errorOf turns any error into what a client may see: the *fleet.Error's
// code, message and reason, or "internal error".
func errorOf(err error) errorJSON {
	var fe *fleet.Error
	if errors.As(err, &fe) && fe.Code != fleet.Internal && fe.Code != "" {
		return errorJSON{Code: fe.Code, Message: fe.Message, Reason: fe.Reason}
	}
	return errorJSON{Code: fleet.Internal, Message: "internal error"}
}

// writeError answers err as JSON with its status, logging internal errors
// once, here at the edge.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := errorOf(err)
	if e.Code == fleet.Internal {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, Status(e.Code), errorBody{Error: e})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
