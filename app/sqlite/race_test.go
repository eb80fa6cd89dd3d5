//go:build race

package sqlite_test

// madeUpIDs is how many random IDs TestCopyCountsAsUnseenOnlyRecentNumbers
// tries: fewer under the race detector, which makes each about ten times
// slower.
const madeUpIDs = 200_000
