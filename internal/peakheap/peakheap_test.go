package peakheap

import (
	"runtime"
	"testing"
)

// TestStart: memory held through a collection shows in both peaks;
// garbage made and dropped shows in neither peak of the live heap.
func TestStart(t *testing.T) {
	stop := Start()
	var held [][]byte
	for range 64 {
		held = append(held, make([]byte, 1<<20))
	}
	runtime.GC()
	p := stop()
	runtime.KeepAlive(held)
	if p.InUse < 60<<20 || p.Live < 60<<20 || p.GCs == 0 {
		t.Errorf("64 MiB held: %+v", p)
	}
	held = nil

	stop = Start()
	for range 256 {
		b := make([]byte, 1<<20)
		b[0] = 1
	}
	runtime.GC()
	if p := stop(); p.Live > 8<<20 || p.GCs == 0 {
		t.Errorf("256 MiB of garbage, nothing held: %+v", p)
	}
}
