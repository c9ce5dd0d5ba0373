package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// GRPC.TLSSelfSigned: clients that pin the fingerprint get in; the
// certificate files of GRPC.TLSCert must exist.
func TestTLSSelfSigned(t *testing.T) {
	cfg := testConfig("udp:127.0.0.1:0")
	cfg.GRPC = GRPCConfig{Addr: "127.0.0.1:0", TLSSelfSigned: true}
	srv := mustServer(t, cfg)
	if len(srv.GRPCFingerprint) != 95 {
		t.Fatalf("fingerprint %q", srv.GRPCFingerprint)
	}
	secret, _, err := srv.App.CreateToken(context.Background(), app.Principal{Role: app.RoleAdmin, Label: "root"}, app.RoleSupervisor, "", "sup")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := proto.Dial(proto.DialOptions{Addr: srv.GRPC.Address().String(), Token: secret, Fingerprint: srv.GRPCFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cl.Fleet.ListDrones(ctx, &pb.ListDronesRequest{}); err != nil {
		t.Fatal(err)
	}
	bad := testConfig("udp:127.0.0.1:0")
	bad.GRPC = GRPCConfig{Addr: "127.0.0.1:0", TLSCert: "/nonexistent/c.pem", TLSKey: "/nonexistent/k.pem"}
	if _, err := Start(bad, testLogger(t)); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("missing certificate files: %v", err)
	}
}
