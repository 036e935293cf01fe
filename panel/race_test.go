//go:build race

package panel_test

// raceEnabled makes the slow tests smaller under the race detector, which
// makes bcrypt about ten times slower.
const raceEnabled = true
