package proto

import (
	"context"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// adminServer implements the Admin service.
type adminServer struct {
	pb.UnimplementedAdminServer
	s *Server
}

func (a *adminServer) CreateToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	role := roleFromPB(req.GetRole())
	if role == "" {
		return nil, fleet.Errorf(fleet.Invalid, "role: want supervisor, operator or admin")
	}
	secret, tok, err := a.s.App.CreateToken(ctx, principal(ctx), role, req.GetAgency(), req.GetLabel())
	if err != nil {
		return nil, err
	}
	return &pb.CreateTokenResponse{Token: tokenToPB(tok), Secret: secret}, nil
}

func (a *adminServer) ListTokens(ctx context.Context, _ *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	toks, err := a.s.App.ListTokens(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListTokensResponse{Tokens: make([]*pb.Token, len(toks))}
	for i, t := range toks {
		out.Tokens[i] = tokenToPB(t)
	}
	return out, nil
}

func (a *adminServer) RevokeToken(ctx context.Context, req *pb.RevokeTokenRequest) (*pb.RevokeTokenResponse, error) {
	return &pb.RevokeTokenResponse{}, a.s.App.RevokeToken(ctx, principal(ctx), req.GetTokenId())
}

func (a *adminServer) CreateGrant(ctx context.Context, req *pb.CreateGrantRequest) (*pb.CreateGrantResponse, error) {
	var until time.Time
	switch e := req.GetEnd().(type) {
	case *pb.CreateGrantRequest_Until:
		until = fromTS(e.Until)
	case *pb.CreateGrantRequest_Duration:
		if e.Duration.CheckValid() != nil || e.Duration.AsDuration() <= 0 {
			return nil, fleet.Errorf(fleet.Invalid, "duration: want a positive duration")
		}
		until = time.Now().UTC().Add(e.Duration.AsDuration())
	default:
		return nil, fleet.Errorf(fleet.Invalid, "until: give until or duration")
	}
	g, err := a.s.App.CreateGrant(ctx, principal(ctx), app.GrantRequest{
		From: req.GetFromAgency(), To: req.GetToAgency(), Drones: req.GetDroneIds(), Until: until})
	if err != nil {
		return nil, err
	}
	return &pb.CreateGrantResponse{Grant: grantToPB(g, time.Now())}, nil
}

func (a *adminServer) ListGrants(ctx context.Context, req *pb.ListGrantsRequest) (*pb.ListGrantsResponse, error) {
	gs, err := a.s.App.ListGrants(ctx, principal(ctx), req.GetAll())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := &pb.ListGrantsResponse{Grants: make([]*pb.Grant, len(gs))}
	for i, g := range gs {
		out.Grants[i] = grantToPB(g, now)
	}
	return out, nil
}

func (a *adminServer) RevokeGrant(ctx context.Context, req *pb.RevokeGrantRequest) (*pb.RevokeGrantResponse, error) {
	return &pb.RevokeGrantResponse{}, a.s.App.RevokeGrant(ctx, principal(ctx), req.GetGrantId())
}

func (a *adminServer) QueryAudit(ctx context.Context, req *pb.QueryAuditRequest) (*pb.QueryAuditResponse, error) {
	es, err := a.s.App.Audit(ctx, principal(ctx), app.AuditQuery{From: fromTS(req.GetFrom()), To: fromTS(req.GetTo()),
		DroneID: req.GetDroneId(), Agency: req.GetAgency(), Limit: int(req.GetLimit())})
	if err != nil {
		return nil, err
	}
	out := &pb.QueryAuditResponse{Entries: make([]*pb.AuditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = auditToPB(e)
	}
	return out, nil
}

func (a *adminServer) UpdateDrone(ctx context.Context, req *pb.UpdateDroneRequest) (*pb.UpdateDroneResponse, error) {
	u := app.DroneUpdate{Name: req.GetName(), Agency: req.GetAgency()}
	if pr := req.GetProfile(); pr != nil {
		u.Profile = &app.Profile{CruiseSpeedMS: pr.GetCruiseSpeedMS(), Endurance: pr.GetEndurance().AsDuration(), ReservePct: pr.GetReservePct()}
	}
	c, err := a.s.App.UpdateDrone(ctx, principal(ctx), req.GetDroneId(), u)
	if err != nil {
		return nil, err
	}
	return &pb.UpdateDroneResponse{Drone: droneConfigToPB(c)}, nil
}

func signingKeyToPB(k app.SigningKeyInfo) *pb.SigningKey {
	return &pb.SigningKey{SysId: uint32(k.SysID), Fingerprint: k.Fingerprint, Created: ts(k.Created), CreatedBy: k.CreatedBy}
}

func (a *adminServer) CreateSigningKey(ctx context.Context, req *pb.CreateSigningKeyRequest) (*pb.CreateSigningKeyResponse, error) {
	sys := int(min(req.GetSysId(), 1<<16))
	made, err := a.s.App.CreateSigningKey(ctx, principal(ctx), sys, app.KeyOptions{Rotate: req.GetRotate(), Push: req.GetPush()})
	if err != nil {
		return nil, err
	}
	out := &pb.CreateSigningKeyResponse{KeyHex: made.Hex, Key: signingKeyToPB(made.Info)}
	for _, d := range made.Drones {
		r := &pb.KeyPushResult{DroneId: d.DroneID}
		if d.Err != nil {
			r.Code, r.Message = string(fleet.ErrorCode(d.Err)), fleet.ErrorMessage(d.Err)
		}
		out.Drones = append(out.Drones, r)
	}
	return out, nil
}

func (a *adminServer) PushSigningKey(ctx context.Context, req *pb.PushSigningKeyRequest) (*pb.PushSigningKeyResponse, error) {
	info, err := a.s.App.PushSigningKey(ctx, principal(ctx), req.GetDroneId())
	if err != nil {
		return nil, err
	}
	return &pb.PushSigningKeyResponse{Key: signingKeyToPB(info)}, nil
}

func (a *adminServer) ListSigningKeys(ctx context.Context, _ *pb.ListSigningKeysRequest) (*pb.ListSigningKeysResponse, error) {
	keys, err := a.s.App.ListSigningKeys(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := &pb.ListSigningKeysResponse{Keys: make([]*pb.SigningKey, len(keys))}
	for i, k := range keys {
		out.Keys[i] = signingKeyToPB(k)
	}
	return out, nil
}
