package reporting

import (
	"slices"
	"testing"
)

// TestBatchStarts: a report reads the facts of a few people first, so that
// its first rows come soon, then of more at a time, up to batchSize.
func TestBatchStarts(t *testing.T) {
	for n, want := range map[int][]int{
		0:    {0},
		1:    {0, 1},
		50:   {0, 50},
		1155: {0, 50, 150, 350, 750, 1155},
		3000: {0, 50, 150, 350, 750, 1550, 2550, 3000},
	} {
		if got := batchStarts(n); !slices.Equal(got, want) {
			t.Errorf("batchStarts(%d) = %v, want %v", n, got, want)
		}
	}
}
