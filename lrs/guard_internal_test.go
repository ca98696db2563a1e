package lrs

import (
	"strconv"
	"testing"
	"time"
)

// TestLimitersStayBounded checks that idle limiters are dropped (they are
// the same as new ones) and that a set full of busy ones does not grow.
func TestLimitersStayBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ls := newLimiters(1, 2, func() time.Time { return now })
	for i := range 1000 {
		if !ls.get(strconv.Itoa(i)).AllowN(now, 1) {
			t.Fatal("a new limiter refused its first event")
		}
	}
	if len(ls.m) != 1000 {
		t.Fatalf("%d limiters, want 1000", len(ls.m))
	}
	// 59 s later they have refilled, but the sweep, once a minute, has not
	// come yet: kept.
	now = now.Add(time.Minute - time.Second)
	ls.get("late")
	if n := len(ls.m); n != 1001 {
		t.Fatalf("after 59 s: %d limiters, want 1001 (none idle)", n)
	}
	// A full minute on, every one of them is full again: dropped.
	now = now.Add(time.Minute)
	lim := ls.get("x")
	if n := len(ls.m); n != 1 {
		t.Errorf("after a minute idle: %d limiters, want 1", n)
	}
	lim.AllowN(now, 2)
	if ls.get("x").AllowN(now, 1) {
		t.Error("a live limiter was dropped")
	}

	// A set full of busy limiters drops some rather than grow.
	for i := range maxLimiters + 10 {
		ls.get("busy"+strconv.Itoa(i)).AllowN(now, 2)
	}
	if n := len(ls.m); n > maxLimiters {
		t.Errorf("%d limiters, more than %d", n, maxLimiters)
	}
}
