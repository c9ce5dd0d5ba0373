package mavlink

// maxConsoleLine bounds the plain text (ArduPilot SITL's boot console, see
// the connection guard) kept per channel before it is counted as a line.
const maxConsoleLine = 256
