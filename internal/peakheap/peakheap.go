// Package peakheap measures the peak heap in use while some work runs, for
// benchmarks that must show a report or an export streams instead of
// holding its output in memory.
package peakheap

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Start samples the heap in use every 5 ms until stop is called; stop
// returns the peak above the heap in use at the start (after a GC).
func Start() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak.Load() < base {
			return 0
		}
		return peak.Load() - base
	}
}
