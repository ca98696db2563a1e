// Package storetest holds the contract tests of the record of reminders
// sent (reminders.Store) that package sqlite and package mongo pass.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// Run runs the contract tests of reminders.Store against the stores open
// returns: a fresh, empty store each time.
func Run(t *testing.T, open func(t *testing.T) reminders.Store) {
	t.Run("RecordAndRead", func(t *testing.T) { testRecordAndRead(t, open(t)) })
}

var t0 = time.Date(2026, 10, 1, 7, 0, 0, 0, time.UTC)

func rec(tenant, person, module string, hour int, outcome string) *reminders.Sent {
	r := &reminders.Sent{Tenant: tenant, Person: person, Module: module, Template: "learner/nb",
		Time: t0.Add(time.Duration(hour) * time.Hour), MessageID: fmt.Sprintf("m%d-%s@kommune.no", hour, person),
		Outcome: outcome, Attempts: 1}
	if module != "" {
		r.Due = reporting.MustDate("2026-10-15")
	} else {
		r.Template = "manager/nb"
	}
	if outcome == reminders.OutcomeFailed {
		r.Error, r.Attempts = "smtp: 451 try again later", 3
	}
	return r
}

func line(r *reminders.Sent) string {
	return fmt.Sprintf("%s %s %s %s due %s %s %s %s %q %d", r.Time.UTC().Format("02T15"), r.Tenant, r.Person, r.Module, r.Due,
		r.Template, r.MessageID, r.Outcome, r.Error, r.Attempts)
}

func lines(rs []*reminders.Sent) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, line(r))
	}
	return out
}

func testRecordAndRead(t *testing.T, st reminders.Store) {
	ctx := context.Background()
	all := []*reminders.Sent{
		rec("oslo", "e1", "m1", 0, reminders.OutcomeSent),
		rec("oslo", "e1", "m2", 0, reminders.OutcomeSent),
		rec("oslo", "e9", "", 1, reminders.OutcomeSent),
		rec("oslo", "e2", "m1", 2, reminders.OutcomeFailed),
		rec("bergen", "e1", "m1", 3, reminders.OutcomeSent),
		rec("oslo", "e1", "m1", 26, reminders.OutcomeSent),
	}
	if err := st.RecordReminders(ctx, all[:3]); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordReminders(ctx, all[3:]); err != nil {
		t.Fatal(err)
	}
	got, err := st.RemindersSince(ctx, "oslo", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := lines([]*reminders.Sent{all[2], all[3], all[5]}); !slices.Equal(lines(got), want) {
		t.Errorf("RemindersSince(oslo, 01T08) =\n%q\nwant\n%q", lines(got), want)
	}
	got, err = st.RemindersTo(ctx, "oslo", "e1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := lines([]*reminders.Sent{all[5], all[0]}); !slices.Equal(lines(got)[:1], want[:1]) || len(got) != 2 ||
		got[1].Time != all[0].Time || got[1].Person != "e1" {
		t.Errorf("RemindersTo(oslo, e1, 2) =\n%q\nwant the newest first, like\n%q", lines(got), want)
	}
	got, err = st.RemindersTo(ctx, "bergen", "e2", 10)
	if err != nil || len(got) != 0 {
		t.Errorf("RemindersTo(bergen, e2) = %q, %v; want none", lines(got), err)
	}

	// The tenant's records, newest first (those of one time in any order).
	got, err = st.RecentReminders(ctx, "oslo", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := lines([]*reminders.Sent{all[5], all[3], all[2]}); !slices.Equal(lines(got), want) {
		t.Errorf("RecentReminders(oslo, 3) =\n%q\nwant\n%q", lines(got), want)
	}
	got, err = st.RecentReminders(ctx, "oslo", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := lines([]*reminders.Sent{all[5], all[3], all[2], all[1], all[0]}); len(got) != len(want) ||
		!slices.Equal(lines(got)[:3], want[:3]) || !slices.Contains(lines(got)[3:], want[3]) || !slices.Contains(lines(got)[3:], want[4]) {
		t.Errorf("RecentReminders(oslo, 10) =\n%q\nwant\n%q", lines(got), want)
	}
	got, err = st.RecentReminders(ctx, "tromsø", 10)
	if err != nil || len(got) != 0 {
		t.Errorf("RecentReminders(tromsø) = %q, %v; want none", lines(got), err)
	}
}
