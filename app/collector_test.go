package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestCollectorTuning(t *testing.T) {
	// A percent no setting of litepaste's would give, so a tuning that
	// forgot to act shows.
	const untouched = 77
	prevPercent := debug.SetGCPercent(untouched)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	const uploads = 64 << 20

	tuneCollector(envOf(nil), uploads)
	if got := debug.SetGCPercent(untouched); got != gcPercent {
		t.Errorf("GC percent = %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != uploads+memoryHeadroom {
		t.Errorf("memory limit = %d, want %d", got, uploads+memoryHeadroom)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	tuneCollector(envOf(map[string]string{"GOGC": "300", "GOMEMLIMIT": "1GiB"}), uploads)
	if got := debug.SetGCPercent(untouched); got != untouched {
		t.Errorf("with GOGC set, GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, memory limit changed to %d", got)
	}
}
