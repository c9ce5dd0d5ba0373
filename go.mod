module github.com/centinela-gcs/centinela

go 1.26.8

require (
	github.com/bluenviron/gomavlib/v3 v3.3.5
	github.com/paulmach/orb v0.14.0
	github.com/pion/transport/v2 v2.2.10
	go.etcd.io/bbolt v1.4.3
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/pion/logging v0.2.2 // indirect
	go.bug.st/serial v1.7.1 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)
