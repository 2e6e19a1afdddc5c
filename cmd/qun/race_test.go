//go:build race

package main

// raceEnabled reports whether the race detector is on: the multi-node test
// then builds the qun nodes it runs with it too.
const raceEnabled = true
