// Package lineartest checks in tests that the cost of an operation grows
// linearly with the size of its input: that no step compares every element
// of a list with every other, which let one statement naming 80,000
// activities hold the write lock for 53 seconds.
package lineartest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Factor is how much larger the second input of Check is than the first.
const Factor = 16

// maxRatio is the most the larger input may cost relative to the smaller:
// a linear operation costs about Factor (16) times as much, a quadratic one
// Factor² (256) times. Caches and the garbage collector make large inputs
// dearer per element: linear operations measured 1.2 to 2.7 times Factor
// here, so the bound leaves them a margin of 2 and stays well below a
// quadratic cost (the quadratic statements.Index measured 363 times).
const maxRatio = 6 * Factor

// Check times the operation prepare(n) returns and the one prepare(Factor*n)
// returns (the best of three runs each, in CPU time; preparing is not timed) and fails t
// when the larger costs more than maxRatio times the smaller. It logs both
// times and returns them.
func Check(t testing.TB, what string, n int, prepare func(n int) func()) (small, large time.Duration) {
	t.Helper()
	small = best(prepare, n)
	large = best(prepare, Factor*n)
	ratio := float64(large) / float64(max(small, time.Microsecond))
	t.Logf("%s: n=%d %v, n=%d %v (×%.1f; linear ×%d, quadratic ×%d)", what, n, small, Factor*n, large, ratio, Factor, Factor*Factor)
	if ratio > maxRatio {
		t.Errorf("%s: %d times the input cost %.1f times as long (%v vs %v); a linear cost grows about %d times",
			what, Factor, ratio, large, small, Factor)
	}
	return small, large
}

// best returns the least CPU time of three runs of the operation: the CPU
// time of the process (every goroutine, the garbage collector's included),
// which unlike the wall time does not depend on what else the machine runs.
func best(prepare func(n int) func(), n int) time.Duration {
	var b time.Duration
	for i := 0; i < 3; i++ {
		op := prepare(n)
		runtime.GC()
		start := cpuTime()
		op()
		if d := cpuTime() - start; i == 0 || d < b {
			b = d
		}
	}
	return b
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
