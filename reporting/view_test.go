package reporting

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestCachedView: reports of a store that gives out the same rows while
// the roster is unchanged share one view per day; other rows (a changed
// roster, or a store that reads them afresh) and other days get views of
// their own, and a view is forgotten once its rows are freed.
func TestCachedView(t *testing.T) {
	rows := func() []RosterRow {
		return []RosterRow{
			{Kind: RowUnit, Key: "u", Name: "Enhet"},
			{Kind: RowPerson, Key: "p2", Name: "To"},
			{Kind: RowPerson, Key: "p1", Name: "En", Interval: Interval{From: MustDate("2025-01-01")}},
			{Kind: RowMember, Key: "p1", Value: "u"},
		}
	}
	shared := rows()
	day := MustDate("2025-06-01")
	v := cachedView(shared, day)
	if got := []string{v.people[0].ID, v.people[1].ID}; !slices.Equal(got, []string{"p1", "p2"}) || len(v.people) != 2 {
		t.Fatalf("people %v, want p1, p2 in order", got)
	}
	if again := cachedView(shared, day); again != v {
		t.Error("the same rows on the same day built a second view")
	}
	if other := cachedView(rows(), day); other == v {
		t.Error("a copy of the rows found the view of the first")
	}
	early := cachedView(shared, MustDate("2024-06-01"))
	if early == v || len(early.people) != 1 || early.people[0].ID != "p2" {
		t.Errorf("the view of another day: %v", early.people)
	}

	// Once the rows are freed, their views go.
	inCache := func() int {
		views.mu.Lock()
		defer views.mu.Unlock()
		n := 0
		for _, e := range views.entries {
			if e.view == v || e.view == early {
				n++
			}
		}
		return n
	}
	if n := inCache(); n != 2 {
		t.Fatalf("%d views of the rows kept, want 2", n)
	}
	shared = nil
	for i := 0; inCache() > 0; i++ {
		if i == 100 {
			t.Fatal("the views of freed rows are still kept")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
