// Package plan turns patrol requests into routes a drone can fly inside its
// agency's allowed space (package geofence), within its battery, shared
// among drones, and reserves each accepted patrol's 4D volume so that no
// two patrols hold the same airspace at the same time. It is transport-free
// domain code on github.com/paulmach/orb; it imports geofence and nothing of
// package fleet (fleet/patrol converts routes to missions and maps errors,
// fleet/qgcplan reads and writes QGroundControl .plan files).
//
// # Planning
//
// Plan(set, Request, now) → *Result. A Request names the Kind, the Agency,
// the Drones (home, optional airborne position, battery, endurance) and
// the pattern's inputs:
//
//   - Perimeter: Area's outer ring inset by MarginM, counter-clockwise (or
//     Clockwise), Laps times. Where the area leaves the allowed space the lap
//     follows the allowed part's edge.
//   - Coverage: a boustrophedon over Area with its holes: lines
//     SwathM×(1−Overlap) apart, across the direction in which the area is
//     narrowest (fewest lines, so fewest turns) unless SweepDeg is given;
//     free stretches of the lines are joined nearest-first, the next line's
//     stretch when one is in reach (cells), else by the shortest detour.
//     ReturnNearStart flies every other line out and the rest back.
//   - Corridor: Line (for example the bundled boundary, geofence
//     BoundaryLineID), clipped to Area when given, simplified and offset by
//     OffsetM on the drone's own side, out and back Laps times. The own side
//     is the one inside the agency's jurisdictions; when both are (a JOINT
//     agency), the side of the country the drone starts in.
//   - Transit: the shortest safe path to To and back.
//   - Waypoints: the operator's route, each leg checked with
//     geofence.Set.CheckSegment and the margin; violations are Issues (leg,
//     zone, where), repaired with detours when Repair is set, else an error.
//
// Every route is a transit from the drone's start to the pattern, the
// pattern, and a transit home, each leg split at MaxLegM. Its Waypoints
// carry altitude, speed and ETA; the Route has its distance, flight time
// (take-off at ClimbMPS and landing at DescentMPS included) and battery
// share, and the Checks passed: "allowed space" (geofence.Set.CheckRoute
// over the whole flown route, altitude bands included), "margin", "leg
// length", "turn angle" and "endurance". A route needing more than the
// usable battery (charge minus ReservePct) is refused with the numbers
// (CodeEndurance), or with Sorties split into sorties returning home. With
// several drones a coverage or corridor pattern is cut into one piece per
// drone, each given to the drone nearest to it, the cuts placed so that the
// flight times (transits included) are equal; the "balance" check reports
// the spread (10 % at most to pass).
//
// # Geometry
//
// Planning is planar, in a local equirectangular projection around the
// request's region (affine in longitude/latitude, so a straight leg in the
// plane is the straight leg geofence checks). The free space is: inside
// the area (if any), inside a usable inclusion zone (authorised, active at
// Start, the altitude in its band; AMSL bands need the home's AMSL), outside
// every exclusion zone active during Start..Start+Window at that altitude,
// and MarginM from every wall: the area's rings, the exclusion rings, and
// the edges of usable inclusion zones that bound their union. Exclusion
// circles are exact (radius plus margin); inclusion circles are taken as
// inscribed 72-gons; holes of exclusion zones are flown around (fail
// closed). Walls and circles are held in a uniform grid; a leg is checked
// by walking its cells. Transit is A* over a visibility graph whose nodes
// stand just off every convex obstacle corner (and inside every concave
// corner of the free region), exclusion circles by circumscribed 24-gons;
// an edge is checked only when it would improve a node. The result is
// within a few per cent of the true shortest path (circles cost up to about
// 2 % on their arcs); the property tests compare it with a brute-force
// search.
//
// # Deconfliction
//
// A Volume is a patrol's 4D volume (ASTM F3548 operational intent): its
// path buffered by BufferM, AltM ± VerticalM, Start..End (planned end plus
// reserve; VolumeOf builds one from routes). A Registry holds the accepted
// volumes: Check previews, Reserve reserves or refuses (CodeConflict with a
// Conflict naming the patrol met, where its paths come closest, the time
// window and band shared) or, with Resolve, takes another altitude layer
// (AltitudeLayers lists those inside the zones' bands; Route.WithAltitude
// re-flies a route there) or a later start. Release frees a volume when its
// patrol ends or is aborted, Extend lengthens it when the patrol runs late,
// and Conform tells whether a drone is outside its volume, for the caller
// to raise the event. Reserve checks and inserts under one lock: of two
// overlapping patrols reserved at the same moment, exactly one wins.
//
// # Errors
//
// Every error is an *Error with a Code: CodeInvalid, CodeNotFound,
// CodeNoRoute, CodeEndurance, CodeConflict. fleet/patrol.Err maps them to
// fleet codes (Invalid, NotFound, Conflict).
//
// # Concurrency
//
// Plan is a pure function of its arguments and safe for concurrent use;
// the Registry's methods are safe for concurrent use and never block but
// on its short lock.
//
// # Performance
//
// On the 2-core development machine (bench_test.go): coverage of 10 km²
// with 20 holes (swath 50 m, 378 waypoints) about 6 ms; a transit across a
// field of 100 exclusion hexagons about 12 ms; checking a new 200-point
// patrol against 1,000 reserved volumes about 0.2 ms.
package plan
