package web

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// TestTrendCache: figures asked for at once are computed once; they are
// kept for trendTTL, then computed again; an error is not kept; keys are
// kept apart.
func TestTrendCache(t *testing.T) {
	var c trendCache
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func() ([]*reporting.Summary, error) {
		calls.Add(1)
		<-release
		return []*reporting.Summary{{People: int(calls.Load())}}, nil
	}
	t0 := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Go(func() {
			sums, at, err := c.get("a", t0, compute)
			if err != nil || !at.Equal(t0) {
				t.Errorf("get: %v at %v", err, at)
				return
			}
			got[i] = sums[0].People
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all ask
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("eight requests at once computed %d times", calls.Load())
	}
	for _, n := range got {
		if n != 1 {
			t.Errorf("a request got the figures of computation %d", n)
		}
	}
	if sums, at, _ := c.get("a", t0.Add(trendTTL-time.Second), compute); sums[0].People != 1 || !at.Equal(t0) || calls.Load() != 1 {
		t.Errorf("within trendTTL: computation %d at %v (%d calls)", sums[0].People, at, calls.Load())
	}
	later := t0.Add(trendTTL)
	if sums, at, _ := c.get("a", later, compute); sums[0].People != 2 || !at.Equal(later) {
		t.Errorf("after trendTTL: computation %d at %v", sums[0].People, at)
	}
	if sums, _, _ := c.get("b", later, compute); sums[0].People != 3 {
		t.Errorf("another key: computation %d", sums[0].People)
	}

	fail := errors.New("the database is gone")
	if _, _, err := c.get("c", later, func() ([]*reporting.Summary, error) { return nil, fail }); err != fail {
		t.Errorf("an error: %v", err)
	}
	if sums, _, err := c.get("c", later, compute); err != nil || sums[0].People != 4 {
		t.Errorf("after an error: %v, computation %d", err, sums[0].People)
	}
	if len(c.entries) != 3 {
		t.Errorf("%d entries kept", len(c.entries))
	}
	c.get("d", later.Add(trendTTL), compute) // the others have expired
	if len(c.entries) != 1 {
		t.Errorf("%d entries kept after the others expired", len(c.entries))
	}
}

// TestFormPage: the language switch of a page answering a POST leads to
// the page of its form.
func TestFormPage(t *testing.T) {
	for path, want := range map[string]string{
		"/admin/roster/preview": "/admin/roster", "/admin/roster/apply": "/admin/roster", "/admin/erasure": "/admin/erasure",
		"/admin/modules/m1/delete": "/admin/modules", "/admin": "/admin", "/me/start": "/me", "/login": "/login",
	} {
		if got := formPage(path); got != want {
			t.Errorf("formPage(%s) = %s, want %s", path, got, want)
		}
	}
}
