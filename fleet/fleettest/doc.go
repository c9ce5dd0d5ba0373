// Package fleettest holds fakes for testing code built on package fleet: a
// Vehicle whose behaviour is set with function fields, a settable clock, and
// helpers that build and feed Updates.
package fleettest
