package sim

import "math"

const earthRadius = 6378137.0 // metres, WGS84 equatorial

// offset moves lat, lon by north and east metres (flat earth, fine within
// tens of kilometres).
func offset(lat, lon, north, east float64) (float64, float64) {
	dLat := north / earthRadius * 180 / math.Pi
	dLon := east / (earthRadius * math.Cos(lat*math.Pi/180)) * 180 / math.Pi
	return lat + dLat, lon + dLon
}

// toNE returns the north and east metres of lat, lon from lat0, lon0.
func toNE(lat0, lon0, lat, lon float64) (float64, float64) {
	n := (lat - lat0) * math.Pi / 180 * earthRadius
	e := (lon - lon0) * math.Pi / 180 * earthRadius * math.Cos(lat0*math.Pi/180)
	return n, e
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// wrapPi wraps an angle to (-π, π].
func wrapPi(a float64) float64 {
	for a > math.Pi {
		a -= 2 * math.Pi
	}
	for a <= -math.Pi {
		a += 2 * math.Pi
	}
	return a
}
