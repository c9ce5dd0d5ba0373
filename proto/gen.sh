#!/usr/bin/env bash
# Regenerates the Go code of the gRPC API (proto/centinela/v1/*.pb.go) from
# the .proto files beside it. Run it as `go generate ./proto/...` or
# directly. Needs Debian's protobuf-compiler (protoc) and the two plugins at
# the pinned versions below; with --install it installs the plugins first.
set -euo pipefail
cd "$(dirname "$0")"

# Pinned plugin versions: the generated code must not depend on who ran this.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if [ "${1:-}" = "--install" ]; then
	go install "$PROTOC_GEN_GO"
	go install "$PROTOC_GEN_GO_GRPC"
fi
export PATH="$gobin:$PATH"

want_go="${PROTOC_GEN_GO##*@}"
want_grpc="${PROTOC_GEN_GO_GRPC##*@}"
have_go="$(protoc-gen-go --version 2>/dev/null | awk '{print $2}')" || true
have_grpc="$(protoc-gen-go-grpc --version 2>/dev/null | awk '{print $2}')" || true
if [ "$have_go" != "$want_go" ] || [ "${have_grpc#v}" != "${want_grpc#v}" ]; then
	echo "proto/gen.sh: need protoc-gen-go $want_go and protoc-gen-go-grpc $want_grpc (have '$have_go', '$have_grpc'); run proto/gen.sh --install" >&2
	exit 1
fi
command -v protoc >/dev/null || { echo "proto/gen.sh: protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

rm -f centinela/v1/*.pb.go
protoc -I . -I /usr/include \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	centinela/v1/*.proto
