module github.com/centinela-gcs/centinela

go 1.26.8

require (
	github.com/bluenviron/gomavlib/v3 v3.3.5
	github.com/paulmach/orb v0.14.0
	github.com/pion/transport/v2 v2.2.10
)

require (
	github.com/pion/logging v0.2.2 // indirect
	go.bug.st/serial v1.7.1 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	golang.org/x/net v0.38.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
