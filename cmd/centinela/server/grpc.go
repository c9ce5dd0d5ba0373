package server

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/centinela-gcs/centinela/proto"
)

// startGRPC serves the API over s.App, when configured.
func (s *Server) startGRPC() error {
	o := s.cfg.GRPC
	if !o.enabled() {
		return nil
	}
	var tlsCfg *tls.Config
	switch {
	case o.TLSCert != "":
		c, err := proto.LoadTLS(o.TLSCert, o.TLSKey)
		if err != nil {
			return invalidErr("GRPC.TLSCert", "file", err)
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
func (s *Server) closeGRPC() {
	if s.GRPC != nil {
		s.GRPC.Close()
	}
}
