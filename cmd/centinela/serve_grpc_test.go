package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/proto"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

func TestGRPCFlags(t *testing.T) {
	parse := func(args ...string) (grpcOptions, error) {
		var o grpcOptions
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.register(fs)
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		return o, o.validate()
	}
	o, err := parse()
	if err != nil || o.Addr != proto.DefaultAddr || !o.enabled() {
		t.Fatalf("default: %+v %v", o, err)
	}
	if o, err := parse("--grpc", "off"); err != nil || o.enabled() {
		t.Fatalf("off: %+v %v", o, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--grpc", "nohostport"}, "HOST:PORT"},
		{[]string{"--tls-cert", "c.pem"}, "go together"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-self-signed"}, "exclude"},
	} {
		if _, err := parse(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// serve --tls-self-signed: clients that pin the fingerprint get in; the
// certificate files of --tls-cert must exist.
func TestServeTLSSelfSigned(t *testing.T) {
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.GRPC = grpcOptions{Addr: "127.0.0.1:0", TLSSelfSigned: true}
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
	bad := testServeConfig("udp:127.0.0.1:0")
	bad.GRPC = grpcOptions{Addr: "127.0.0.1:0", TLSCert: "/nonexistent/c.pem", TLSKey: "/nonexistent/k.pem"}
	if _, err := startServer(bad, testLogger(t)); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("missing certificate files: %v", err)
	}
}
