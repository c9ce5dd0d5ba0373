package proto

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// Defaults of the Server's options.
const (
	// DefaultAddr is the loopback address serve listens on by default.
	DefaultAddr = "127.0.0.1:50051"
	// DefaultMaxRecvBytes bounds one request message: 17 MiB, room for the
	// largest GeoJSON import (16 MiB) and its envelope.
	DefaultMaxRecvBytes = 17 << 20
	// DefaultMaxSendBytes bounds one response message (an export, a track).
	DefaultMaxSendBytes = 64 << 20
	// DefaultMaxStreams bounds the concurrent streams of one connection.
	DefaultMaxStreams = 256
)

// Server serves the gRPC API over the application layer. Set the fields,
// call Initialize, and Close when done. Its methods may be called from any
// goroutine.
type Server struct {
	// Addr is the TCP address to listen on (optional, default DefaultAddr).
	// Port 0 picks a free port; see Addr after Initialize.
	Addr string
	// App is the application layer every call goes to (required).
	App *app.Service
	// TLS, if not nil, serves TLS with this configuration. Without it the
	// server speaks plaintext, which Initialize refuses on an address that
	// is not loopback unless AllowPlaintext.
	TLS *tls.Config
	// AllowPlaintext allows plaintext on any address (optional).
	AllowPlaintext bool
	// MaxRecvBytes bounds one request message (optional, default
	// DefaultMaxRecvBytes); a larger one is RESOURCE_EXHAUSTED.
	MaxRecvBytes int
	// MaxSendBytes bounds one response message (optional, default
	// DefaultMaxSendBytes).
	MaxSendBytes int
	// WriteTimeout is how long a message of a long-lived stream (watches,
	// telemetry) may wait for a client that does not read before the
	// stream is ended with RESOURCE_EXHAUSTED (optional, default
	// DefaultWriteTimeout). Until then the client gets coalesced state.
	WriteTimeout time.Duration
	// Logger receives the server's logs (optional, default discard).
	Logger *slog.Logger

	ln     net.Listener
	grpc   *grpc.Server
	health *health.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Initialize checks the options, listens and starts serving. It fails at
// once if the address is in use, or plaintext is asked of a non-loopback
// address without AllowPlaintext.
func (s *Server) Initialize() error {
	if s.App == nil {
		return errors.New("grpc server: no application layer")
	}
	if s.Addr == "" {
		s.Addr = DefaultAddr
	}
	if s.MaxRecvBytes <= 0 {
		s.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if s.MaxSendBytes <= 0 {
		s.MaxSendBytes = DefaultMaxSendBytes
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.Logger = s.Logger.With("component", "grpc")
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("grpc listen: %w", err)
	}
	if s.TLS == nil && !s.AllowPlaintext {
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			ln.Close()
			return fmt.Errorf("grpc %s: plaintext only on a loopback address; give TLS (--tls-cert/--tls-key or --tls-self-signed) or --allow-plaintext", s.Addr)
		}
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())

	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(s.MaxRecvBytes),
		grpc.MaxSendMsgSize(s.MaxSendBytes),
		grpc.MaxConcurrentStreams(DefaultMaxStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			// Clients may ping every 10 s, even without a stream; more
			// often and the connection is closed (GOAWAY too_many_pings).
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			// Ping a quiet client after 30 s and drop it if it does not
			// answer in 10 s: a vanished client frees its streams.
			Time:    30 * time.Second,
			Timeout: 10 * time.Second,
		}),
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	}
	if s.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	s.register()
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	reflection.Register(s.grpc)

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.Logger.Error("grpc serve", "err", err)
		}
	}()
	s.Logger.Info("grpc serving", "addr", ln.Addr().String(), "tls", s.TLS != nil)
	return nil
}

// register registers every Centinela service.
func (s *Server) register() {
	pb.RegisterFleetServer(s.grpc, &fleetServer{s: s})
	pb.RegisterControlServer(s.grpc, &controlServer{s: s})
	pb.RegisterEmergencyServer(s.grpc, &emergencyServer{s: s})
	pb.RegisterMissionServer(s.grpc, &missionServer{s: s})
	pb.RegisterParamServer(s.grpc, &paramServer{s: s})
	pb.RegisterGeofenceServer(s.grpc, &geofenceServer{s: s})
	pb.RegisterTelemetryServer(s.grpc, &telemetryServer{s: s})
	pb.RegisterAdminServer(s.grpc, &adminServer{s: s})
	pb.RegisterPatrolServer(s.grpc, &patrolServer{s: s})
}

// Address returns the address the server listens on (after Initialize).
func (s *Server) Address() net.Addr { return s.ln.Addr() }

// Close ends every stream, stops serving (waiting up to 5 s for unary calls
// in flight) and waits for the serving goroutine.
func (s *Server) Close() {
	if s.grpc == nil {
		return
	}
	s.health.Shutdown()
	s.cancel() // streams see it and end
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	t := time.NewTimer(5 * time.Second)
	select {
	case <-done:
	case <-t.C:
		s.grpc.Stop()
		<-done
	}
	t.Stop()
	s.wg.Wait()
}

// publicMethod reports whether a method needs no token: health and
// reflection.
func publicMethod(full string) bool {
	return strings.HasPrefix(full, "/grpc.health.v1.") || strings.HasPrefix(full, "/grpc.reflection.")
}

type principalKey struct{}

// principal returns the caller the interceptor authenticated.
func principal(ctx context.Context) app.Principal {
	p, _ := ctx.Value(principalKey{}).(app.Principal)
	return p
}

// authenticate reads the bearer token of ctx's metadata and asks the
// application layer who it is.
func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var bearer string
	if v := md.Get("authorization"); len(v) > 0 {
		scheme, tok, ok := strings.Cut(v[0], " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			bearer = strings.TrimSpace(tok)
		}
	}
	if bearer == "" {
		return nil, fleet.Errorf(fleet.Unauthenticated, "no bearer token: send \"authorization: Bearer TOKEN\"")
	}
	p, err := s.App.Authenticate(ctx, bearer)
	if err != nil {
		return nil, err
	}
	return context.WithValue(ctx, principalKey{}, p), nil
}

// unaryInterceptor authenticates the caller, runs the handler, and maps
// its error onto a status (logging internal errors once).
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (_ any, err error) {
	if publicMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	actx, err := s.authenticate(ctx)
	if err != nil {
		return nil, s.status(info.FullMethod, err)
	}
	defer s.recoverPanic(info.FullMethod, &err)
	resp, err := handler(actx, req)
	if err != nil {
		return nil, s.status(info.FullMethod, err)
	}
	return resp, nil
}

// recoverPanic turns a handler's panic into INTERNAL, logged with its
// stack, so that one bad request does not stop the server.
func (s *Server) recoverPanic(method string, err *error) {
	if r := recover(); r != nil {
		s.Logger.Error("panic in handler", "cmd", method, "err", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err, _ = statusError(fleet.Errorf(fleet.Internal, "panic"))
	}
}

// streamInterceptor is unaryInterceptor for streams; the stream's context
// also ends when the server closes.
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	if publicMethod(info.FullMethod) {
		return handler(srv, ss)
	}
	actx, err := s.authenticate(ss.Context())
	if err != nil {
		return s.status(info.FullMethod, err)
	}
	actx, cancel := context.WithCancel(actx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	defer s.recoverPanic(info.FullMethod, &err)
	if err := handler(srv, &authStream{ServerStream: ss, ctx: actx}); err != nil {
		return s.status(info.FullMethod, err)
	}
	return nil
}

// status maps err onto a gRPC status, logging internal errors.
func (s *Server) status(method string, err error) error {
	st, internal := statusError(err)
	if internal {
		s.Logger.Error("internal error", "cmd", method, "err", err)
	}
	return st
}

// authStream is a server stream whose context holds the Principal.
type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authStream) Context() context.Context { return a.ctx }
