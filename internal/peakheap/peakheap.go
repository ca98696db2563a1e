// Package peakheap measures the peak heap while some work runs, for
// benchmarks and tests that must show a report or an export streams
// instead of holding its output in memory.
//
// It gives two figures. InUse is the peak of the heap in use: live objects
// and garbage not yet collected. In a process whose live heap is large (a
// server holding a roster of 55,000 people), garbage of about the size of
// the live heap accumulates between collections whatever the work holds,
// so InUse says more about the garbage collector's pacing than about the
// work. Live is the peak of the heap the garbage collector found live at
// the end of each collection during the work: what the work holds, sampled
// once a collection (the collector runs each time the heap has grown by
// GOGC percent of the live heap).
package peakheap

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Peak is what Start measured, in bytes above the heap at the start.
type Peak struct {
	InUse uint64 // the peak of the heap in use
	Live  uint64 // the peak of the live heap, as marked by each collection
	GCs   uint32 // the collections completed during the work: Live's samples
}

var names = []string{
	"/memory/classes/heap/objects:bytes", // with heap/unused: the heap in use (MemStats.HeapInuse)
	"/memory/classes/heap/unused:bytes",
	"/gc/heap/live:bytes",
	"/gc/cycles/total:gc-cycles",
}

// sample reads the heap in use, the live heap and the collections so far.
// Unlike runtime.ReadMemStats, reading these does not stop the world, so
// sampling often barely slows the work measured.
func sample(s []metrics.Sample) (inUse, live, gcs uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64(), s[2].Value.Uint64(), s[3].Value.Uint64()
}

// Start runs a garbage collection, then samples the heap every 5 ms until
// stop is called; stop returns the peaks above the heap at the start.
func Start() (stop func() Peak) {
	runtime.GC()
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	baseInUse, baseLive, baseGCs := sample(s)
	var peak Peak
	var gcs uint64
	record := func() {
		inUse, live, n := sample(s)
		peak.InUse = max(peak.InUse, inUse)
		if n != baseGCs { // live was marked by a collection during the work
			peak.Live = max(peak.Live, live)
		}
		gcs = n
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			record()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() Peak {
		close(done)
		wg.Wait()
		record()
		above := func(v, base uint64) uint64 {
			if v < base {
				return 0
			}
			return v - base
		}
		return Peak{InUse: above(peak.InUse, baseInUse), Live: above(peak.Live, baseLive), GCs: uint32(gcs - baseGCs)}
	}
}
