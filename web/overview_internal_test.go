package web

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// TestTrendCache: figures asked for at once are computed once; fresh ones
// are shown as they are; stale ones are shown at once while new ones are
// computed in the background (once), which the next request gets; older
// ones are computed while the request waits; an error is not kept; keys
// are kept apart.
func TestTrendCache(t *testing.T) {
	var c trendCache
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func() ([]*reporting.Summary, error) {
		n := calls.Add(1)
		<-release
		return []*reporting.Summary{{People: int(n)}}, nil
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
	get := func(key string, now time.Time) (int, time.Time) {
		t.Helper()
		sums, at, err := c.get(key, now, compute)
		if err != nil {
			t.Fatal(err)
		}
		return sums[0].People, at
	}
	if n, at := get("a", t0.Add(trendFresh-time.Second)); n != 1 || !at.Equal(t0) || calls.Load() != 1 {
		t.Errorf("fresh: computation %d at %v (%d calls)", n, at, calls.Load())
	}

	// Stale: the old figures at once, new ones computed once behind them.
	stale := t0.Add(trendFresh)
	for range 3 {
		if n, at := get("a", stale); n != 1 || !at.Equal(t0) {
			t.Errorf("stale: computation %d at %v", n, at)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		e := c.entries["a"]
		renewed := e.at.Equal(stale)
		c.mu.Unlock()
		if renewed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale figures were not renewed")
		}
	}
	if calls.Load() != 2 {
		t.Errorf("three requests of stale figures computed %d times in all", calls.Load())
	}
	if n, at := get("a", stale.Add(time.Second)); n != 2 || !at.Equal(stale) {
		t.Errorf("after the renewal: computation %d at %v", n, at)
	}

	// Too old: computed while the request waits.
	late := stale.Add(trendStale)
	if n, at := get("a", late); n != 3 || !at.Equal(late) {
		t.Errorf("after trendStale: computation %d at %v", n, at)
	}
	if n, _ := get("b", late); n != 4 {
		t.Errorf("another key: computation %d", n)
	}

	fail := errors.New("the database is gone")
	if _, _, err := c.get("c", late, func() ([]*reporting.Summary, error) { return nil, fail }); err != fail {
		t.Errorf("an error: %v", err)
	}
	if n, _ := get("c", late); n != 5 {
		t.Errorf("after an error: computation %d", n)
	}
	if len(c.entries) != 3 {
		t.Errorf("%d entries kept", len(c.entries))
	}
	get("d", late.Add(trendStale)) // the others have expired
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
