package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/proto"
)

func TestGRPCFlags(t *testing.T) {
	parse := func(args ...string) (server.GRPCConfig, error) {
		cfg := testServeConfig("udp:127.0.0.1:0")
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		grpcFlags(fs, &cfg.GRPC)
		if err := fs.Parse(args); err != nil {
			return cfg.GRPC, err
		}
		return cfg.GRPC, validateServe(&cfg)
	}
	o, err := parse()
	if err != nil || o.Addr != proto.DefaultAddr {
		t.Fatalf("default: %+v %v", o, err)
	}
	if o, err := parse("--grpc", "off"); err != nil || o.Addr != "off" {
		t.Fatalf("off: %+v %v", o, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--grpc", "nohostport"}, "--grpc \"nohostport\": want HOST:PORT"},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-self-signed"}, "--tls-self-signed and --tls-cert exclude each other"},
	} {
		if _, err := parse(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
