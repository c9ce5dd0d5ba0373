package proto

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// mustApp starts an application layer over a fleet without drones.
func mustApp(t *testing.T) (*app.Service, string) {
	t.Helper()
	f := &fleet.Fleet{}
	if err := f.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	set, err := geofence.Default(geofence.Agency{ID: "us-agency", Jurisdictions: []geofence.Jurisdiction{geofence.US}})
	if err != nil {
		t.Fatal(err)
	}
	s := &app.Service{Fleet: f, Zones: geofence.NewStore(set), Store: app.NewMemStore()}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	secret, _, err := s.CreateToken(context.Background(), app.Principal{Role: app.RoleAdmin, Label: "root"}, app.RoleSupervisor, "", "sup")
	if err != nil {
		t.Fatal(err)
	}
	return s, secret
}

func mustServe(t *testing.T, s *Server) *Server {
	t.Helper()
	if s.Addr == "" {
		s.Addr = "127.0.0.1:0"
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestServerHealthReflectionAuth(t *testing.T) {
	a, token := mustApp(t)
	s := mustServe(t, &Server{App: a})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(s.Address().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Health and reflection need no token.
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "centinela.v1.Fleet"})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", h, err)
	}
	rs, err := reflectpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	r, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sv := range r.GetListServicesResponse().GetService() {
		names = append(names, sv.GetName())
	}
	for _, want := range []string{"centinela.v1.Fleet", "centinela.v1.Control", "centinela.v1.Emergency", "centinela.v1.Mission",
		"centinela.v1.Param", "centinela.v1.Geofence", "centinela.v1.Telemetry", "centinela.v1.Admin", "grpc.health.v1.Health"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("reflection lacks %s: %v", want, names)
		}
	}
	// The API needs a token.
	_, err = pb.NewFleetClient(conn).ListDrones(ctx, &pb.ListDronesRequest{})
	if Code(err) != "Unauthenticated" {
		t.Fatalf("no token: %v", err)
	}
	cl, err := Dial(DialOptions{Addr: s.Address().String(), Token: token, Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Fleet.ListDrones(ctx, &pb.ListDronesRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestServerStartErrors(t *testing.T) {
	a, _ := mustApp(t)
	busy := mustServe(t, &Server{App: a})
	for _, tc := range []struct {
		name string
		s    *Server
		want string
	}{
		{"no app", &Server{Addr: "127.0.0.1:0"}, "no application layer"},
		{"address in use", &Server{App: a, Addr: busy.Address().String()}, "address already in use"},
		{"plaintext off loopback", &Server{App: a, Addr: "0.0.0.0:0"}, "plaintext only on a loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Initialize()
			if err == nil {
				tc.s.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
	// With --allow-plaintext it starts (and listens on every address; the
	// test talks to it over loopback only).
	s := mustServe(t, &Server{App: a, Addr: "0.0.0.0:0", AllowPlaintext: true})
	if s.Address() == nil {
		t.Fatal("no address")
	}
}

func TestServerSelfSignedTLS(t *testing.T) {
	a, token := mustApp(t)
	cfg, fp, err := SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	s := mustServe(t, &Server{App: a, TLS: cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(o DialOptions) error {
		o.Addr, o.Token = s.Address().String(), token
		cl, err := Dial(o)
		if err != nil {
			return err
		}
		defer cl.Close()
		_, err = cl.Fleet.ListDrones(ctx, &pb.ListDronesRequest{})
		return err
	}
	if err := call(DialOptions{Fingerprint: fp}); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	// The certificate as a CA file works too.
	der := cfg.Certificates[0].Certificate[0]
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := call(DialOptions{CAFile: ca}); err != nil {
		t.Fatalf("CA file: %v", err)
	}
	wrong := strings.Repeat("AB:", 31) + "AB"
	if err := call(DialOptions{Fingerprint: wrong}); Code(err) != "Unavailable" {
		t.Fatalf("wrong pin: %v", err)
	}
	if err := call(DialOptions{}); Code(err) != "Unavailable" {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if err := call(DialOptions{Plaintext: true}); Code(err) != "Unavailable" {
		t.Fatalf("plaintext to TLS: %v", err)
	}
}

// Close ends open streams at once.
func TestServerCloseEndsStreams(t *testing.T) {
	a, token := mustApp(t)
	s := &Server{App: a, Addr: "127.0.0.1:0"}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	cl, err := Dial(DialOptions{Addr: s.Address().String(), Token: token, Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	st, err := cl.Fleet.WatchFleet(context.Background(), &pb.WatchFleetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := st.Recv()
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the stream reach the server
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("stream still open")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream not ended by Close")
	}
}

func TestPumpCoalesces(t *testing.T) {
	release := make(chan struct{})
	var got []int
	p := startPump(context.Background(), func(v int) error {
		<-release
		got = append(got, v)
		return nil
	})
	p.Set(1)
	time.Sleep(20 * time.Millisecond) // the first send is blocked
	for i := 2; i <= 100; i++ {
		p.Set(i) // never blocks
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		idle := !p.has
		p.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	if len(got) == 0 || len(got) > 3 || got[len(got)-1] != 100 {
		t.Fatalf("sent %v, want a few values ending in 100", got)
	}
	errStop := startPump(context.Background(), func(int) error { return errors.New("client gone") })
	errStop.Set(1)
	errStop.Stop()
}

// A client that stops reading a watch is disconnected with
// RESOURCE_EXHAUSTED once a message waits longer than WriteTimeout; the
// fleet never waits for it.
func TestServerSlowConsumerDisconnected(t *testing.T) {
	a, token := mustApp(t)
	s := mustServe(t, &Server{App: a, WriteTimeout: 300 * time.Millisecond})
	cl, err := Dial(DialOptions{Addr: s.Address().String(), Token: token, Plaintext: true, WindowBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := cl.Fleet.WatchFleet(ctx, &pb.WatchFleetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the watch is set up
	summary := strings.Repeat("x", 500)
	start := time.Now()
	for i := 0; i < 3000; i++ {
		a.Fleet.Publish(fleet.OperatorAction{At: time.Now(), Actor: "load", Action: "Test.Load", Summary: summary})
		if i%500 == 0 {
			time.Sleep(20 * time.Millisecond) // let the stream drain into the window
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing waited for the stalled client: %s", d)
	}
	time.Sleep(time.Second) // past the write timeout
	n := 0
	for {
		_, err = st.Recv()
		if err != nil {
			break
		}
		n++
	}
	if Code(err) != "ResourceExhausted" || !strings.Contains(err.Error(), "slow consumer") {
		t.Fatalf("after %d messages: %v, want RESOURCE_EXHAUSTED slow consumer", n, err)
	}
}

// A panicking handler answers INTERNAL and the server goes on.
func TestInterceptorRecoversPanic(t *testing.T) {
	a, token := mustApp(t)
	s := mustServe(t, &Server{App: a})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+token))
	_, err := s.unaryInterceptor(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/centinela.v1.Fleet/ListDrones"},
		func(context.Context, any) (any, error) { panic("boom") })
	if Code(err) != "Internal" || strings.Contains(err.Error(), "boom") {
		t.Fatalf("%v, want INTERNAL without the panic's text", err)
	}
	_, err = s.unaryInterceptor(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/centinela.v1.Fleet/ListDrones"},
		func(context.Context, any) (any, error) { t.Fatal("handler ran without a token"); return nil, nil })
	if Code(err) != "Unauthenticated" {
		t.Fatalf("no token: %v", err)
	}
}
