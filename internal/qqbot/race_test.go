//go:build race

package qqbot

// raceEnabled reports whether the race detector is on: it changes what
// allocation counts may be asserted.
const raceEnabled = true
