package server_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
)

// A server with one simulated drone, its only link a loopback UDP socket
// on a free port: the program waits for the drone's first position
// through the fleet, as any Go program using the server would.
func Example() {
	cfg := server.DefaultConfig()
	cfg.MAVLink = []string{"udp:127.0.0.1:0"} // real vehicles would use this one
	cfg.Sim = 1                               // one simulated drone on its own loopback socket
	cfg.SimSpeedup = 10
	cfg.SimBootDelay = 0
	cfg.DroneNames.BySysID = map[uint8]string{1: "halcon-1"}
	srv, err := server.Start(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := srv.Fleet.WaitState(ctx, "halcon-1", func(d fleet.DroneState) bool {
		return d.LinkState == fleet.LinkStateUp && d.HasPosition
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.ID, d.SysID, d.LinkState, d.Agency)
	// Output: halcon-1 1 up joint-task-force
}
