package proto

import pb "github.com/centinela-gcs/centinela/proto/centinela/v1"

// Patrol returns the client of the Patrol service on c's connection.
func (c *Client) Patrol() pb.PatrolClient { return pb.NewPatrolClient(c.conn) }
