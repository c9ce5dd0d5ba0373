package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
)

// grpcFlags adds the gRPC flags to fs. The --grpc flag defaults to
// proto.DefaultAddr, loopback; a server.Config built in code (tests) has
// no API until it sets one.
func grpcFlags(fs *flag.FlagSet, o *server.GRPCConfig) {
	fs.StringVar(&o.Addr, "grpc", proto.DefaultAddr, "serve the gRPC API (and ctl) on `ADDR` (\"off\": do not)")
	fs.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "PEM `file` of the gRPC server's TLS certificate (with --tls-key)")
	fs.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "PEM `file` of the gRPC server's TLS private key")
	fs.BoolVar(&o.TLSSelfSigned, "tls-self-signed", o.TLSSelfSigned, "serve gRPC over TLS with a certificate made at start (its fingerprint is logged)")
	fs.BoolVar(&o.AllowPlaintext, "allow-plaintext", o.AllowPlaintext, "allow gRPC without TLS on an address that is not loopback")
}

// printDemoTokens makes an operator, a supervisor and an admin token for
// the demo and prints them with ctl commands to try.
func printDemoTokens(s *server.Server, w io.Writer) error {
	if s.GRPC == nil {
		return nil
	}
	root := app.Principal{Role: app.RoleAdmin, Label: "demo"}
	type tok struct {
		role   app.Role
		agency string
	}
	var secrets []string
	for _, t := range []tok{{app.RoleOperator, s.Config().DefaultAgency}, {app.RoleSupervisor, ""}, {app.RoleAdmin, ""}} {
		secret, _, err := s.App.CreateToken(context.Background(), root, t.role, t.agency, "demo-"+string(t.role))
		if err != nil {
			return fmt.Errorf("demo token: %w", err)
		}
		secrets = append(secrets, secret)
	}
	addr := s.GRPC.Address().String()
	server := ""
	if addr != proto.DefaultAddr {
		server = " --server " + addr
	}
	lang := s.Config().Lang
	fmt.Fprintln(w, i18n.T(lang, "demo.grpc_tokens", "addr", addr, "agency", s.Config().DefaultAgency,
		"operator", secrets[0], "supervisor", secrets[1], "admin", secrets[2], "server", server))
	return nil
}
