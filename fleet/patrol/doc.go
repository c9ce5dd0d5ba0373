// Package patrol turns planned patrols (package geofence/plan) into
// ArduCopter missions the fleet can upload, checks them with the fleet's
// zone guard, and maps planning errors to fleet errors. It is the thin layer
// a transport (gRPC, the map) or the demo calls.
//
// # Missions
//
// Mission converts a plan.Route to mission items as ArduCopter flies them:
// seq 0 is home (FrameGlobal, the home altitude above sea level or 0), then
// NAV_TAKEOFF to the patrol altitude (unless the route starts airborne),
// DO_CHANGE_SPEED before the first leg and wherever the speed changes (it
// takes effect at once, in the current leg), NAV_WAYPOINT items above home,
// the laps of a Loop as one lap and a DO_JUMP when Options.Jump is set, and
// NAV_RETURN_TO_LAUNCH.
package patrol
