package sim

import (
	"fmt"
	"sync/atomic"

	"github.com/bluenviron/gomavlib/v3/pkg/frame"
)

// Signing
//
// A drone with a key (Config.SigningKeys) signs every frame it sends with
// MAVLink 2 signing and, like ArduPilot with signing enabled, drops every
// incoming frame that is unsigned, badly signed or more than 10 s older
// than the newest one heard (gomavlib's check). A sender without the key
// cannot command it.

// SigningKeyLen is the length of a MAVLink 2 signing key.
const SigningKeyLen = 32

// signingKey returns the key of the drone with starting system id sysID, or
// nil for an unsigned drone.
func (c *Config) signingKey(sysID uint8) *frame.V2Key {
	k, ok := c.SigningKeys[sysID]
	if !ok {
		k, ok = c.SigningKeys[0]
	}
	if !ok {
		return nil
	}
	return frame.NewV2Key(k)
}

// validateKeys checks the length of every signing key.
func (c *Config) validateKeys() error {
	for sys, k := range c.SigningKeys {
		if len(k) != SigningKeyLen {
			return fmt.Errorf("sim: signing key of system id %d: %d bytes, want %d", sys, len(k), SigningKeyLen)
		}
	}
	return nil
}

// Rejected returns how many incoming frames the drone dropped for a missing
// or wrong signature (or any other parse error).
func (d *Drone) Rejected() uint64 { return d.rejected.Load() }

// rejectedCounter is embedded in Drone.
type rejectedCounter struct{ rejected atomic.Uint64 }
