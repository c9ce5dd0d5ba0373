package proto

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// DialOptions say how a client reaches the server.
type DialOptions struct {
	// Addr is the server's host:port (default DefaultAddr).
	Addr string
	// Token is the bearer token sent with every call.
	Token string
	// CAFile is a PEM file of the CA (or self-signed certificate) to trust
	// (optional; default the system roots).
	CAFile string
	// Fingerprint pins the server's certificate by its SHA-256 (optional;
	// for a --tls-self-signed server).
	Fingerprint string
	// Plaintext speaks without TLS (a loopback server without TLS).
	Plaintext bool
	// MaxRecvBytes bounds one response (optional, default DefaultMaxSendBytes).
	MaxRecvBytes int
	// WindowBytes fixes the flow-control window of each stream and of the
	// connection (optional; default gRPC's, which grows with the measured
	// bandwidth). A client that reads slowly holds at most this much.
	WindowBytes int32
}

// Client holds the service clients of one connection. Its methods may be
// called from any goroutine; Close it when done.
type Client struct {
	conn      *grpc.ClientConn
	Fleet     pb.FleetClient
	Control   pb.ControlClient
	Emergency pb.EmergencyClient
	Mission   pb.MissionClient
	Param     pb.ParamClient
	Geofence  pb.GeofenceClient
	Telemetry pb.TelemetryClient
	Admin     pb.AdminClient
}

// Dial makes a client. It does not wait for the connection: the first call
// does, and fails with UNAVAILABLE if the server cannot be reached.
func Dial(o DialOptions) (*Client, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("--server %q: want HOST:PORT", o.Addr)
	}
	if o.MaxRecvBytes <= 0 {
		o.MaxRecvBytes = DefaultMaxSendBytes
	}
	var creds credentials.TransportCredentials
	if o.Plaintext {
		if o.CAFile != "" || o.Fingerprint != "" {
			return nil, errors.New("plaintext and a TLS CA or fingerprint exclude each other")
		}
		creds = insecure.NewCredentials()
	} else {
		cfg, err := clientTLS(o.CAFile, o.Fingerprint, host)
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(o.MaxRecvBytes)),
	}
	if o.WindowBytes > 0 {
		opts = append(opts, grpc.WithInitialWindowSize(o.WindowBytes), grpc.WithInitialConnWindowSize(o.WindowBytes))
	}
	if o.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: o.Token, secure: !o.Plaintext}))
	}
	conn, err := grpc.NewClient("passthrough:///"+o.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", o.Addr, err)
	}
	return &Client{
		conn:      conn,
		Fleet:     pb.NewFleetClient(conn),
		Control:   pb.NewControlClient(conn),
		Emergency: pb.NewEmergencyClient(conn),
		Mission:   pb.NewMissionClient(conn),
		Param:     pb.NewParamClient(conn),
		Geofence:  pb.NewGeofenceClient(conn),
		Telemetry: pb.NewTelemetryClient(conn),
		Admin:     pb.NewAdminClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// bearer sends the token as "authorization: Bearer …".
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false only for plaintext, which the server
// allows on loopback (or when told to).
func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Code returns the name of the gRPC status code of err ("OK",
// "PermissionDenied", "ResourceExhausted", …), "Unknown" for an error that
// is not a status. For tools and tests that must check the exact status.
func Code(err error) string {
	return status.Code(err).String()
}
