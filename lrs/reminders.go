package lrs

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// Reminder e-mails over HTTP, under /api/v1, when Config.Reminders and
// Config.Reporting are set (package reminders):
//
//	POST /api/v1/reminders/run?dryRun=true  plan (dry run) or send today's reminders (roster/write)
//	GET  /api/v1/reminders/sent[?person=ID]  the reminders sent (to a person), newest first (reports/read, roster/write)
//
// The run takes the filters of the reports (unit, role, module, person),
// tz (the time zone of the calendar days), lang (nb, the default, or en)
// and max (the most messages, default reminders.DefaultMax); it runs as of
// now. It is roster/write's: that scope decides who must complete which
// module by when (the catalog and rules, the roster with the people's
// names and addresses), and reminding them of it is acting on those
// obligations; reports/read only reads.

var (
	reminderRunScopes  = []string{auth.ScopeRosterWrite}
	reminderSentScopes = []string{auth.ScopeReportsRead, auth.ScopeRosterWrite}
)

// reminderRoutes registers the reminders API on e.
func (s *Server) reminderRoutes(e *echo.Echo) {
	if s.cfg.Reminders == nil || s.cfg.Reporting == nil {
		return
	}
	link := s.cfg.ReminderLink
	if link == nil {
		link = s.reminderLink
	}
	s.reminders = reminders.New(reminders.Config{Reporting: s.cfg.Reporting, Store: s.cfg.Reminders, Sender: s.cfg.Mail,
		From: s.cfg.MailFrom, Link: link, Backoff: s.cfg.MailBackoff, Rate: s.cfg.MailRate, Now: s.now})
	guard := func(scopes []string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, authorize(scopes...)}
	}
	g := e.Group("/api/v1/reminders")
	g.POST("/run", func(c *echo.Context) error { return s.postReminderRun(c, s.reminders) }, guard(reminderRunScopes)...)
	g.GET("/sent", s.getRemindersSent, guard(reminderSentScopes)...)
}

// Reminders returns the service that plans and sends the reminder
// e-mails, the one the API runs (with the personal links of
// reminderLink); nil when reminders are off. The pages for people run
// reminders through it too, so that a tenant has one run at a time
// whoever starts it.
func (s *Server) Reminders() *reminders.Service { return s.reminders }

// postReminderRun serves POST /api/v1/reminders/run: the messages of the
// run (reminders.Result), 200 for a dry run and for a run (whose messages
// each say "sent", "failed" or "skipped"), 503 when no SMTP server is
// configured and the run is not dry, 409 while another run of the tenant
// is sending (in this process).
func (s *Server) postReminderRun(c *echo.Context, svc *reminders.Service) error {
	q, tenant, rq, err := s.reportRequest(c, "dryRun", "lang", "max")
	if err != nil {
		return err
	}
	for _, p := range []string{"asOf", "knownAt"} {
		if q.Has(p) {
			return errs.Invalidf(p, "param-unknown", "a reminder run is as of now; parameter %s is for reports", p)
		}
	}
	dry, err := boolParam(q, "dryRun")
	if err != nil {
		return err
	}
	max, err := countParam(q, "max", reminders.DefaultMax, 100_000)
	if err != nil {
		return err
	}
	res, err := svc.Run(c.Request().Context(), reminders.Run{Tenant: tenant, Query: rq, Lang: q.Get("lang"), Max: max, DryRun: dry,
		BaseURL: s.publicBase(c)})
	if res != nil {
		var read privacy.Subjects
		for _, m := range res.Messages {
			read.Person(m.Person)
			for _, it := range m.Items {
				read.Person(it.Person)
			}
		}
		s.logAccess(c, privacy.ReadReminderRun, &read, len(res.Messages))
	}
	if err != nil {
		if res != nil && !dry {
			s.log.Error("reminder run", "sent", res.Sent, "failed", res.Failed, "err", err)
		}
		return err
	}
	if res.Failed > 0 {
		s.log.Warn("reminder run: messages failed", "tenant", tenant, "sent", res.Sent, "failed", res.Failed)
	}
	return writeJSON(c, http.StatusOK, res)
}

// getRemindersSent serves GET /api/v1/reminders/sent?person=ID&limit=N:
// the records of the reminders sent to a person (as learner or as
// manager), newest first, at most limit (100; at most 1000):
// {"person", "reminders": [{"module", "due", "template", "time",
// "messageId", "outcome", "error", "attempts"}...]}.
func (s *Server) getRemindersSent(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "person", "limit"); err != nil {
		return err
	}
	person := q.Get("person")
	if person != "" && !validReportID(person) {
		return errs.Invalidf("person", "person-id", "an employee id holds 1 to 128 letters, digits and . _ - :, got %q", person)
	}
	limit, err := countParam(q, "limit", 100, 1000)
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), tenantOf(state(c).cred)
	var recs []*reminders.Sent
	if person != "" {
		recs, err = s.cfg.Reminders.RemindersTo(ctx, tenant, person, limit)
	} else {
		recs, err = s.cfg.Reminders.RecentReminders(ctx, tenant, limit)
	}
	if err != nil {
		return err
	}
	type sent struct {
		Person    string `json:"person"`
		Module    string `json:"module,omitempty"`
		Due       string `json:"due,omitempty"`
		Template  string `json:"template"`
		Time      string `json:"time"`
		MessageID string `json:"messageId"`
		Outcome   string `json:"outcome"`
		Error     string `json:"error,omitempty"`
		Attempts  int    `json:"attempts"`
	}
	out := make([]sent, len(recs))
	var read privacy.Subjects
	for i, r := range recs {
		out[i] = sent{Person: r.Person, Module: r.Module, Due: r.Due.String(), Template: r.Template,
			Time: r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), MessageID: r.MessageID, Outcome: r.Outcome, Error: r.Error,
			Attempts: r.Attempts}
		read.Person(r.Person)
	}
	if person != "" {
		read.Person(person) // a look-up of the person, even of nothing
	}
	s.logAccess(c, privacy.ReadReminderSent, &read, len(out))
	answer := map[string]any{"reminders": out}
	if person != "" {
		answer["person"] = person
	}
	return writeJSON(c, http.StatusOK, answer)
}

// countParam parses a whole-number parameter from 1 to most, def when
// absent.
func countParam(q interface{ Get(string) string }, name string, def, most int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most || v[0] == '+' {
		return 0, errs.Invalidf(name, name, "parameter %s must be a whole number from 1 to %d, got %q", name, most, v)
	}
	return n, nil
}

// reminderLinkTTL is how long the personal launch link in a reminder
// works: two weeks, past the next reminder of the default schedule.
const reminderLinkTTL = 14 * 24 * time.Hour

// reminderLink is the default Config.ReminderLink: for a module a package
// here delivers, a personal launch link of the learner (LaunchModule)
// that works for reminderLinkTTL; else, and for a learner the package
// cannot be launched for (a cmi5 package and a person without an
// account), the module's address in the catalog.
func (s *Server) reminderLink(ctx context.Context, r reminders.LinkRequest) (string, bool, error) {
	if s.launch != nil {
		hosted, err := s.launch.Hosted(ctx, r.Tenant, []*reporting.Module{r.Module})
		if err != nil {
			return "", false, err
		}
		if hosted[r.Module.ID] != "" {
			if r.Plan {
				return "", true, nil
			}
			path, err := s.LaunchModule(ctx, r.Tenant, r.Person, r.Module, reminderLinkTTL)
			if err != nil && !errs.Is(err, errs.Invalid) {
				return "", false, err
			}
			if err == nil && path != "" {
				return r.BaseURL + path, true, nil
			}
		}
	}
	return reminders.ModuleAddress(r.Module), false, nil
}
