// Package geofence is the authority on where each drone may fly: zones,
// jurisdictions, agencies and the geometry of routes, built on
// github.com/paulmach/orb.
package geofence
