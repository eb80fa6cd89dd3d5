//go:build !race

package sqlite_test

// madeUpIDs is how many random IDs TestCopyCountsAsUnseenOnlyRecentNumbers
// tries (see race_test.go).
const madeUpIDs = 1_000_000
