// Package reminders sends the reminder e-mails of compliance reporting: to
// each learner who is due soon or overdue on a mandatory module (one
// message listing their modules with the due dates), and to each manager a
// digest of their people. A run plans from the reminders report
// (reporting.StreamReminders), keeps to a schedule evaluated against the
// reminders already sent (Schedule), so that a run sends only what is due
// that day, caps the messages of a run, sends over SMTP (SMTPSender) with
// retries, and records every message sent or failed in a Store. Like the
// other domain packages it imports neither the HTTP framework nor a
// database driver; package sqlite and package mongo implement its Store,
// and package storetest holds the contract tests both pass.
package reminders

import (
	"context"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// Templates of the messages (Sent.Template, with the language: "learner/nb").
const (
	TemplateLearner = "learner" // to a learner: their modules due soon or overdue
	TemplateManager = "manager" // to a manager: a digest of their people
)

// Outcomes of a message.
const (
	OutcomeSent   = "sent"
	OutcomeFailed = "failed" // every attempt failed; the next run tries again
	// OutcomeSkipped is a message of a run not tried after messages
	// before it failed (GiveUpAfter); not recorded, the next run sends it.
	OutcomeSkipped = "skipped"
	// OutcomeNoAddress records a requirement of a person with no e-mail
	// address, told to their manager only: like a message sent, it
	// counts for the schedule.
	OutcomeNoAddress = "no-address"
)

// Sent is the record of one reminder: for a learner's message one record
// per module it names (sharing the message id), for a manager's digest
// one record with no module.
type Sent struct {
	Tenant    string
	Person    string         // employee id of the recipient
	Module    string         // "" for a manager's digest
	Due       reporting.Date // the deadline reminded of (learner records)
	Template  string         // e.g. "learner/nb"
	Time      time.Time      // UTC
	MessageID string         // the Message-ID header, without <>
	Outcome   string         // OutcomeSent or OutcomeFailed
	Error     string         // the last error, when failed
	Attempts  int
}

// Store keeps the record of reminders sent.
type Store interface {
	// RecordReminders stores the records (one write for all).
	RecordReminders(ctx context.Context, recs []*Sent) error
	// RemindersSince returns the records of a tenant at or after since,
	// oldest first.
	RemindersSince(ctx context.Context, tenant string, since time.Time) ([]*Sent, error)
	// RemindersTo returns the records of a tenant's person (recipient),
	// newest first, at most limit (> 0).
	RemindersTo(ctx context.Context, tenant, person string, limit int) ([]*Sent, error)
	// RecentReminders returns the records of a tenant, newest first, at
	// most limit (> 0): the record as hr reads it on the pages.
	RecentReminders(ctx context.Context, tenant string, limit int) ([]*Sent, error)
}

// Schedule says on which days a requirement is reminded of: Before days
// before its deadline (e.g. 14 and 3), then every Every days while it is
// overdue, from the first day overdue (0: not while overdue). A
// requirement is reminded of on a run when no reminder was sent for it
// since the start of the current step: a person who comes into view 10
// days before the deadline is reminded at once, and a run missed on a
// step's day catches up the next. The service has one (Config.Schedule);
// a rule or a campaign of the catalog may have its own
// (reporting.Rule.Reminders, reporting.Campaign.Reminders).
type Schedule reporting.ReminderSchedule

// DefaultSchedule reminds 14 and 3 days before the deadline, then weekly.
var DefaultSchedule = Schedule{Before: []int{14, 3}, Every: 7}

// Step returns the first day of the schedule's step that day is in, for a
// deadline (the last day the requirement may be met), and false when day
// is before the first step.
func (s Schedule) Step(deadline, day reporting.Date) (reporting.Date, bool) {
	if day > deadline {
		if s.Every <= 0 {
			return 0, false
		}
		overdue := int(day - deadline - 1) // days since the first day overdue
		return deadline.AddDays(1 + overdue/s.Every*s.Every), true
	}
	var start reporting.Date
	for _, b := range s.Before {
		if d := deadline.AddDays(-b); d <= day && d > start {
			start = d
		}
	}
	return start, start != 0
}

// Window is how far ahead of a deadline the schedule looks.
func (s Schedule) Window() int {
	w := 0
	for _, b := range s.Before {
		w = max(w, b)
	}
	return w
}

// merge returns a schedule reminding on the days of s and of o: the days
// before of both, and the shorter interval while overdue.
func (s Schedule) merge(o Schedule) Schedule {
	before := slices.Concat(s.Before, o.Before)
	slices.Sort(before)
	every := s.Every
	if every <= 0 || o.Every > 0 && o.Every < every {
		every = o.Every
	}
	return Schedule{Before: slices.Compact(before), Every: every}
}

// lookback is how many days back a run reads the reminders sent, to know
// whether the current step of a requirement has had one.
func (s Schedule) lookback() int { return s.Window() + max(s.Every, 1) }

// schedules are the schedules of a tenant's rules and campaigns.
type schedules struct {
	def       Schedule
	rules     map[string]Schedule
	campaigns map[string]Schedule
}

func newSchedules(cat *reporting.Catalog, def Schedule) *schedules {
	t := &schedules{def: def, rules: map[string]Schedule{}, campaigns: map[string]Schedule{}}
	for _, r := range cat.Rules {
		if r.Reminders != nil {
			t.rules[r.ID] = Schedule(*r.Reminders)
		}
	}
	for _, c := range cat.Campaigns {
		if c.Reminders != nil {
			t.campaigns[c.ID] = Schedule(*c.Reminders)
		}
	}
	return t
}

// of returns the schedule of a row of the reminders report: its
// campaign's, or the merged schedules of the rules requiring it that have
// one, else the service's.
func (t *schedules) of(row *reporting.Row) Schedule {
	if row.Campaign != "" {
		if s, ok := t.campaigns[row.Campaign]; ok {
			return s
		}
		return t.def
	}
	var out *Schedule
	for _, id := range row.Rules {
		if s, ok := t.rules[id]; ok {
			if out != nil {
				s = out.merge(s)
			}
			out = &s
		}
	}
	if out == nil {
		return t.def
	}
	return *out
}

// all calls fn with every schedule (the service's first).
func (t *schedules) all(fn func(Schedule)) {
	fn(t.def)
	for _, s := range t.rules {
		fn(s)
	}
	for _, s := range t.campaigns {
		fn(s)
	}
}

// Deadline is the last day of a row of the reminders report: its due date,
// or for a completion expiring the day before it expires.
func Deadline(row *reporting.Row) reporting.Date {
	if row.Due != 0 {
		return row.Due
	}
	return row.Expires.AddDays(-1)
}
