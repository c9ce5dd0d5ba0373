//go:build !race

package geofence

const raceEnabled = false
