package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
)

// grpcOptions configure serve's gRPC API.
type grpcOptions struct {
	// Addr is the address to serve the API on ("" or "off": no API). The
	// --grpc flag defaults to proto.DefaultAddr, loopback; a serveConfig
	// built in code (tests) has none until it sets one.
	Addr string
	// TLSCert and TLSKey are PEM files of the server's certificate and key.
	TLSCert, TLSKey string
	// TLSSelfSigned makes a certificate in memory at start and logs its
	// SHA-256 fingerprint (ctl --tls-fingerprint pins it).
	TLSSelfSigned bool
	// AllowPlaintext serves without TLS on an address that is not loopback.
	AllowPlaintext bool
}

// register adds the gRPC flags to fs.
func (o *grpcOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Addr, "grpc", proto.DefaultAddr, "serve the gRPC API (and ctl) on `ADDR` (\"off\": do not)")
	fs.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "PEM `file` of the gRPC server's TLS certificate (with --tls-key)")
	fs.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "PEM `file` of the gRPC server's TLS private key")
	fs.BoolVar(&o.TLSSelfSigned, "tls-self-signed", o.TLSSelfSigned, "serve gRPC over TLS with a certificate made at start (its fingerprint is logged)")
	fs.BoolVar(&o.AllowPlaintext, "allow-plaintext", o.AllowPlaintext, "allow gRPC without TLS on an address that is not loopback")
}

func (o *grpcOptions) enabled() bool { return o.Addr != "" && o.Addr != "off" }

func (o *grpcOptions) validate() error {
	if !o.enabled() {
		return nil
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("--grpc %q: want HOST:PORT", o.Addr)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if o.TLSCert != "" && o.TLSSelfSigned {
		return errors.New("--tls-self-signed and --tls-cert exclude each other")
	}
	return nil
}

// startGRPC serves the API over s.App, when configured.
func (s *server) startGRPC() error {
	o := s.cfg.GRPC
	if !o.enabled() {
		return nil
	}
	var tlsCfg *tls.Config
	switch {
	case o.TLSCert != "":
		c, err := proto.LoadTLS(o.TLSCert, o.TLSKey)
		if err != nil {
			return err
		}
		tlsCfg = c
	case o.TLSSelfSigned:
		host, _, _ := net.SplitHostPort(o.Addr)
		c, fp, err := proto.SelfSignedTLS(host)
		if err != nil {
			return err
		}
		tlsCfg = c
		s.GRPCFingerprint = fp
		s.log.Info("grpc self-signed certificate", "fingerprint", fp)
	}
	g := &proto.Server{Addr: o.Addr, App: s.App, TLS: tlsCfg, AllowPlaintext: o.AllowPlaintext, Logger: s.log}
	if err := g.Initialize(); err != nil {
		return fmt.Errorf("start grpc: %w", err)
	}
	s.GRPC = g
	return nil
}

// closeGRPC stops the API first, so no call reaches a closing fleet.
func (s *server) closeGRPC() {
	if s.GRPC != nil {
		s.GRPC.Close()
	}
}

// printDemoTokens makes an operator, a supervisor and an admin token for
// the demo and prints them with ctl commands to try.
func printDemoTokens(s *server, w io.Writer) error {
	if s.GRPC == nil {
		return nil
	}
	root := app.Principal{Role: app.RoleAdmin, Label: "demo"}
	type tok struct {
		role   app.Role
		agency string
	}
	var secrets []string
	for _, t := range []tok{{app.RoleOperator, s.cfg.DefaultAgency}, {app.RoleSupervisor, ""}, {app.RoleAdmin, ""}} {
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
	fmt.Fprintln(w, i18n.T(s.cfg.Lang, "demo.grpc_tokens", "addr", addr, "agency", s.cfg.DefaultAgency,
		"operator", secrets[0], "supervisor", secrets[1], "admin", secrets[2], "server", server))
	return nil
}
