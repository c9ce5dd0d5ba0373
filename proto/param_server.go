package proto

import (
	"context"

	pb "github.com/centinela-gcs/centinela/proto/centinela/v1"
)

// paramServer implements the Param service.
type paramServer struct {
	pb.UnimplementedParamServer
	s *Server
}

func (ps *paramServer) List(req *pb.ListParamsRequest, stream pb.Param_ListServer) error {
	ctx := stream.Context()
	var progressFn func(got, total int)
	var pm *pump[progress]
	if req.GetProgress() {
		pm = startPump(ctx, func(p progress) error {
			return stream.Send(&pb.ListParamsResponse{Item: &pb.ListParamsResponse_Progress{
				Progress: &pb.ParamProgress{Received: uint32(p.done), Total: uint32(p.total)}}})
		})
		progressFn = func(got, total int) { pm.Set(progress{got, total}) }
	}
	params, err := ps.s.App.ListParams(ctx, principal(ctx), req.GetDroneId(), progressFn)
	if pm != nil {
		pm.Stop()
	}
	if err != nil {
		return err
	}
	list := &pb.ParamList{Params: make([]*pb.ParamValue, len(params))}
	for i, p := range params {
		list.Params[i] = paramToPB(p)
	}
	return stream.Send(&pb.ListParamsResponse{Item: &pb.ListParamsResponse_Params{Params: list}})
}

func (ps *paramServer) Get(ctx context.Context, req *pb.GetParamRequest) (*pb.GetParamResponse, error) {
	p, err := ps.s.App.GetParam(ctx, principal(ctx), req.GetDroneId(), req.GetName())
	if err != nil {
		return nil, err
	}
	return &pb.GetParamResponse{Param: paramToPB(p)}, nil
}

func (ps *paramServer) Set(ctx context.Context, req *pb.SetParamRequest) (*pb.SetParamResponse, error) {
	p, err := ps.s.App.SetParam(ctx, principal(ctx), req.GetDroneId(), req.GetName(), req.GetValue())
	if err != nil {
		return nil, err
	}
	return &pb.SetParamResponse{Param: paramToPB(p)}, nil
}
