//go:build !race

package panel_test

const raceEnabled = false
