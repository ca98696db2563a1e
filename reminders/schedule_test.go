package reminders_test

import (
	"testing"

	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// TestScheduleStep: the step a day is in, for a deadline of 2026-03-31
// and the default schedule (14 and 3 days before, then weekly).
func TestScheduleStep(t *testing.T) {
	deadline := reporting.MustDate("2026-03-31")
	for _, tc := range []struct{ day, want string }{
		{"2026-03-16", ""},           // 15 days before: nothing yet
		{"2026-03-17", "2026-03-17"}, // 14 days before
		{"2026-03-27", "2026-03-17"},
		{"2026-03-28", "2026-03-28"}, // 3 days before
		{"2026-03-31", "2026-03-28"}, // the last day
		{"2026-04-01", "2026-04-01"}, // first day overdue
		{"2026-04-07", "2026-04-01"},
		{"2026-04-08", "2026-04-08"}, // a week overdue
		{"2026-04-20", "2026-04-15"},
	} {
		got, ok := reminders.DefaultSchedule.Step(deadline, reporting.MustDate(tc.day))
		if got.String() != tc.want || ok != (tc.want != "") {
			t.Errorf("Step(%s, %s) = %s, %v; want %q", deadline, tc.day, got, ok, tc.want)
		}
	}
}

// TestScheduleNotWhileOverdue: a schedule with every 0 (a campaign's, say)
// reminds before the deadline only.
func TestScheduleNotWhileOverdue(t *testing.T) {
	s := reminders.Schedule{Before: []int{1}}
	deadline := reporting.MustDate("2026-03-31")
	for day, want := range map[string]string{"2026-03-29": "", "2026-03-30": "2026-03-30", "2026-03-31": "2026-03-30", "2026-04-01": "", "2026-05-01": ""} {
		got, ok := s.Step(deadline, reporting.MustDate(day))
		if got.String() != want || ok != (want != "") {
			t.Errorf("Step(%s, %s) = %s, %v; want %q", deadline, day, got, ok, want)
		}
	}
}
