// Package i18n is Centinela's message catalogue for what people read
// outside the browser: event kinds (the stable codes of fleet/app with their
// parameters), error codes, explanations of known vehicle texts, the
// messages of `centinela ctl`, and what the other commands print for people
// (their help's frame, errors and terminal output; the commands' own help
// texts are in cmd/centinela). It knows no transport; the web map has its
// own catalogue in its scripts, with the same event keys.
//
// # Languages
//
// English (En) and Spanish (Es). Every key exists in both, with the same
// {placeholders}: a test fails otherwise. Lookup falls back to English, then
// to the key itself, so a missing message shows as its code, never as
// nothing.
//
// # Messages
//
// A message is a string with {name} placeholders, filled from a map of
// parameters (event parameters, or the caller's). Numbers are formatted by
// the caller; times are UTC.
package i18n
