package metrics

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
)

// Server is a small HTTP server for operations: /metrics (Handler over
// Sources) and, only when Pprof is set, /debug/pprof/. It is for a
// loopback or management address, separate from the operators' API.
//
// Set the fields, call Initialize, and Close when done.
type Server struct {
	// Addr is the listen address, for example "127.0.0.1:9100" (":0" picks
	// a port; see BoundAddr).
	Addr string
	// Sources are served at /metrics (optional: nil serves no /metrics).
	Sources *Sources
	// Pprof serves the runtime profiles at /debug/pprof/ (optional,
	// default off).
	Pprof bool
	// Logger receives the server's logs (optional, default discard).
	Logger *slog.Logger

	ln  net.Listener
	srv *http.Server
	wg  sync.WaitGroup
	log *slog.Logger
}

// Initialize listens on Addr and starts serving. Returns Invalid when
// neither Sources nor Pprof is set, and the listen error (port in use).
func (s *Server) Initialize() error {
	if s.Sources == nil && !s.Pprof {
		return fleet.Errorf(fleet.Invalid, "metrics server: nothing to serve")
	}
	s.log = s.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.log = s.log.With("component", "metrics")
	mux := http.NewServeMux()
	if s.Sources != nil {
		mux.Handle("/metrics", Handler(*s.Sources))
	}
	if s.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("metrics server stopped", "err", err)
		}
	}()
	s.log.Info("metrics server listening", "addr", ln.Addr().String(), "metrics", s.Sources != nil, "pprof", s.Pprof)
	return nil
}

// BoundAddr returns the address the server listens on.
func (s *Server) BoundAddr() net.Addr { return s.ln.Addr() }

// Close stops the server and waits for it.
func (s *Server) Close() {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	s.wg.Wait()
}
