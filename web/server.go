package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
)

//go:embed ui
var uiFiles embed.FS

// Defaults of the Server's options.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxMessageBytes = 64 << 10
	DefaultSendBuffer      = 4 << 20
	DefaultMaxRateHz       = 40.0
	DefaultFlushInterval   = 25 * time.Millisecond
	DefaultWriteTimeout    = 10 * time.Second
	DefaultPingInterval    = 20 * time.Second
	DefaultPongTimeout     = 60 * time.Second
	DefaultAuthTimeout     = 10 * time.Second
)

// Server is the operator map: the embedded page, the JSON API and the
// WebSocket endpoint, all through App.
//
// Set the options, call Initialize (which listens, so a port in use fails
// at once), and Close when done. Its methods may be called from any
// goroutine.
type Server struct {
	// Addr is the TCP address to listen on (optional, default
	// 127.0.0.1:8080; port 0 picks a free one, see Addr()).
	Addr string
	// App is the application layer (required).
	App App
	// Logger receives the server's logs (optional, default discard).
	Logger *slog.Logger
	// Now is the clock (optional, default time.Now).
	Now func() time.Time
	// AlertPoll is how often the alerts are read again in full (optional,
	// default DefaultAlertPoll): a fallback, since each alert raised or
	// acknowledged is pushed to the clients as it happens.
	AlertPoll time.Duration
	// Tiles is a raster tile URL template with {z}, {x} and {y}
	// (optional, default none: the page draws only the bundled vectors).
	Tiles string
	// Planner previews patrol routes (optional, default the built-in
	// pattern planner; see Planner).
	Planner Planner
	// Metrics, if not nil, is served at GET /metrics without a token (for
	// example web/metrics.Handler); keep the map on loopback or behind a
	// proxy if the counters must stay private (optional, default none).
	Metrics http.Handler
	// MaxBodyBytes bounds request bodies (optional, default 1 MiB).
	MaxBodyBytes int64
	// MaxMessageBytes bounds a WebSocket message from a client (optional,
	// default 64 KiB).
	MaxMessageBytes int64
	// SendBuffer bounds the bytes queued to one WebSocket client; past it
	// the client is closed as a slow consumer (optional, default 4 MiB).
	SendBuffer int
	// MaxRateHz caps the states messages sent to one client per second
	// (optional, default 40).
	MaxRateHz float64
	// FlushInterval is how often the hub encodes the drones that changed
	// into one frame shared by the clients (optional, default 25 ms): a
	// state waits at most this long before it is sent.
	FlushInterval time.Duration
	// WriteTimeout is a WebSocket write's deadline; a client that misses
	// it is closed (optional, default 10 s).
	WriteTimeout time.Duration
	// PingInterval and PongTimeout keep WebSockets alive (optional,
	// defaults 20 s and 60 s).
	PingInterval, PongTimeout time.Duration
	// AuthTimeout is how long a WebSocket may take to authenticate
	// (optional, default 10 s).
	AuthTimeout time.Duration

	ln     net.Listener
	http   *http.Server
	hub    *hub
	watch  *app.Watcher
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wsWG   sync.WaitGroup
	csp    string
	once   sync.Once
}

// Initialize checks the options, fills defaults, starts the feed's hub and
// listens. Returns Invalid for a missing App or a bad Tiles template.
func (s *Server) Initialize() error {
	if s.App == nil {
		return fleet.Errorf(fleet.Invalid, "web: App is required")
	}
	if s.Addr == "" {
		s.Addr = DefaultAddr
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.Logger = s.Logger.With("component", "web")
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.AlertPoll <= 0 {
		s.AlertPoll = DefaultAlertPoll
	}
	if s.Planner == nil {
		s.Planner = PatternPlanner{}
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&s.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&s.MaxMessageBytes, DefaultMaxMessageBytes)
	if s.SendBuffer <= 0 {
		s.SendBuffer = DefaultSendBuffer
	}
	if !(s.MaxRateHz > 0) {
		s.MaxRateHz = DefaultMaxRateHz
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&s.FlushInterval, DefaultFlushInterval)
	dur(&s.WriteTimeout, DefaultWriteTimeout)
	dur(&s.PingInterval, DefaultPingInterval)
	dur(&s.PongTimeout, DefaultPongTimeout)
	dur(&s.AuthTimeout, DefaultAuthTimeout)
	tileOrigin := ""
	if s.Tiles != "" {
		u, err := url.Parse(s.Tiles)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			!strings.Contains(s.Tiles, "{z}") || !strings.Contains(s.Tiles, "{x}") || !strings.Contains(s.Tiles, "{y}") {
			return fleet.Errorf(fleet.Invalid, "web: tiles %q: want an http(s) URL template with {z}, {x} and {y}", s.Tiles)
		}
		tileOrigin = " " + u.Scheme + "://" + u.Host
	}
	s.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:" + tileOrigin +
		"; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fleet.Errorf(fleet.Invalid, "web: listen %s: %v", s.Addr, err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	w, err := s.App.Watch(s.ctx, hubPrincipal, app.WatchOptions{Snapshot: true, QueueSize: 4096, Alerts: true})
	if err != nil {
		s.cancel()
		ln.Close()
		return err
	}
	s.watch = w
	s.hub = newHub(s.App, s.Logger, s.Now)
	s.hub.prime(s.ctx)
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		s.hub.run(s.ctx, s.watch)
	}()
	go func() {
		defer s.wg.Done()
		s.hub.runFrames(s.ctx, s.FlushInterval)
	}()
	go func() {
		defer s.wg.Done()
		s.hub.runAlerts(s.ctx, s.AlertPoll)
	}()
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve http", "err", err)
		}
	}()
	s.Logger.Info("serving the operator map", "addr", ln.Addr().String())
	return nil
}

// ListenAddr returns the address the server listens on.
func (s *Server) ListenAddr() net.Addr { return s.ln.Addr() }

// URL returns the page's URL, http://ADDR/.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops listening, closes every WebSocket with "going away", ends the
// watch and waits for every goroutine the server started. It may be called
// more than once.
func (s *Server) Close() {
	if s.cancel == nil {
		return
	}
	s.once.Do(func() {
		s.cancel() // WebSocket clients are told and closed
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.http.Shutdown(ctx) // hijacked WebSockets are not waited for by Shutdown
		s.wsWG.Wait()
		s.watch.Close()
		s.wg.Wait()
	})
}

// Stats are the server's WebSocket counters.
type Stats struct {
	// Clients is the number of connected WebSocket clients.
	Clients int
	// SlowClosed counts clients closed as slow consumers.
	SlowClosed uint64
	// Dropped counts messages not queued because a client's buffer was full.
	Dropped uint64
}

// Stats returns the WebSocket counters.
func (s *Server) Stats() Stats {
	return Stats{Clients: s.hub.clientCount(), SlowClosed: s.hub.slowClosed.Load(), Dropped: s.hub.dropped.Load()}
}

// routes builds the handler: security headers on everything, the API, the
// WebSocket and the embedded page.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.apiRoutes(mux)
	mux.HandleFunc("GET /ws", s.serveWS)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	ui, _ := fs.Sub(uiFiles, "ui")
	files := http.FileServerFS(ui)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorJSON{Code: fleet.Invalid, Message: "method " + r.Method + " not allowed"}})
			return
		}
		files.ServeHTTP(w, r)
	})
	return s.secure(mux)
}

// secure sets the security headers of every answer.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// sameOrigin accepts a WebSocket upgrade only from the page's own origin
// (or from a client that sends no Origin, which no browser does).
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) && (u.Scheme == "http" || u.Scheme == "https")
}

func newClientID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
