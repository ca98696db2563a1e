package reminders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// LinkRequest asks a LinkFunc for the link that starts module Module
// for person Person.
type LinkRequest struct {
	Tenant, Person string
	Module         *reporting.Module
	BaseURL        string // the service's public address (Run.BaseURL)
	// Plan asks only what kind of link there would be: no personal link
	// is made while a run is planned (a dry run shows none; those of a
	// run are made as each message is sent, and never shown).
	Plan bool
}

// LinkFunc returns the link of r: the module's web address, or a personal
// link (personal true) that opens the module for that person alone. A
// personal link is a credential: it goes only into the learner's own
// message, never into a result, a record or a manager's digest. With
// r.Plan, a personal link is not made: link is "" and personal says
// whether there would be one.
type LinkFunc func(ctx context.Context, r LinkRequest) (link string, personal bool, err error)

// ModuleAddress is the module's first activity IRI that is a web address
// (http or https) in the catalog ("" for none).
func ModuleAddress(m *reporting.Module) string {
	for _, a := range m.Activities {
		if strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://") {
			return a
		}
	}
	return ""
}

// ModuleLink is the default LinkFunc: the module's address in the catalog
// (ModuleAddress). A personal launch link plugs in as Config.Link.
func ModuleLink(_ context.Context, r LinkRequest) (string, bool, error) {
	return ModuleAddress(r.Module), false, nil
}

// Config configures a Service.
type Config struct {
	Reporting reporting.Store
	Store     Store
	Sender    Sender // nil: only dry runs
	From      string // the sender's address, e.g. "kurs@kommune.no"
	Schedule  Schedule
	Link      LinkFunc
	// DigestEvery is how many days apart a manager's digests are (default
	// 7: weekly): a run sends one when the last was that long ago or
	// more, listing every requirement of their people that a schedule
	// reminds of, overdue or in its days before the deadline.
	DigestEvery int
	// Rate is the most messages a run sends a second (0: no limit), for
	// SMTP servers that refuse a burst.
	Rate float64
	// Attempts is how many times a message is tried (default 3), waiting
	// Backoff (default 2s), then twice that, and so on, between attempts.
	Attempts int
	Backoff  time.Duration
	Now      func() time.Time
}

// Service plans and sends reminder runs.
type Service struct {
	cfg     Config
	running sync.Map // tenant -> struct{}: a run sending
}

// New returns the service of cfg, with its defaults filled in.
func New(cfg Config) *Service {
	if len(cfg.Schedule.Before) == 0 && cfg.Schedule.Every == 0 {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Link == nil {
		cfg.Link = ModuleLink
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DigestEvery <= 0 {
		cfg.DigestEvery = 7
	}
	return &Service{cfg: cfg}
}

// CanSend reports whether the service has a Sender (else only dry runs).
func (s *Service) CanSend() bool { return s.cfg.Sender != nil }

// Languages are the languages of the templates.
var Languages = []string{"nb", "en"}

// DefaultMax is the cap of a run's messages when none is given.
const DefaultMax = 500

// GiveUpAfter is how many messages may fail in a row (each after all its
// attempts) before a run stops trying the rest (OutcomeSkipped): the
// server is down, and a run must not spend minutes a message on it.
const GiveUpAfter = 2

// Run are the options of a run.
type Run struct {
	Tenant string
	Query  reporting.Query // the people and modules; AsOf is the run's time
	Lang   string          // "nb" (default) or "en"
	Max    int             // the most messages to send; 0: DefaultMax
	DryRun bool
	// BaseURL is the service's public address, for personal links
	// (LinkRequest.BaseURL).
	BaseURL string
}

// Item is one line of a message: a module a learner must complete, or in
// a manager's digest one of their people's modules.
type Item struct {
	Person string           `json:"person"`
	Name   string           `json:"name"`
	Module string           `json:"module"`
	Title  string           `json:"title"`
	Status reporting.Status `json:"status"`
	Due    reporting.Date   `json:"due"`            // the deadline
	Link   string           `json:"link,omitempty"` // the module's address
	// Personal says that the learner's message carries a personal link
	// to start the module, made as it is sent (never shown: see LinkFunc).
	Personal bool   `json:"personalLink,omitempty"`
	href     string // the personal link, in the message only
}

// Href is the link of the item in its message: the personal link when
// there is one, else the module's address.
func (it Item) Href() string {
	if it.href != "" {
		return it.href
	}
	return it.Link
}

// Planned is one message of a run, and what came of it.
type Planned struct {
	Template  string `json:"template"` // e.g. "learner/nb"
	Person    string `json:"person"`   // the recipient's employee id
	Name      string `json:"name"`
	Email     string `json:"email"`
	Items     []Item `json:"items"`
	MessageID string `json:"messageId,omitempty"`
	Outcome   string `json:"outcome"` // "planned" on a dry run, else OutcomeSent, OutcomeFailed or OutcomeSkipped
	Error     string `json:"error,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
}

// Result is what a run would send (dry run) or sent.
type Result struct {
	Day         reporting.Date `json:"day"`
	DryRun      bool           `json:"dryRun"`
	Schedule    Schedule       `json:"schedule"`    // the service's; rules and campaigns may have their own
	DigestEvery int            `json:"digestEvery"` // days between a manager's digests
	Messages    []*Planned     `json:"messages"`
	Sent        int            `json:"sent"`
	Failed      int            `json:"failed"`
	// Deferred are the messages over the cap, left for the next run.
	Deferred int `json:"deferred"`
	// Skipped are the messages not tried after GiveUpAfter failed in a
	// row (each after all its attempts), left for the next run.
	Skipped int `json:"skipped"`
	// NoAddress are the people to remind who have no e-mail address.
	NoAddress []string `json:"noAddress"`
	// unaddressed are the items of the people with no address, recorded
	// OutcomeNoAddress by a run.
	unaddressed []Item
}

// Run plans the reminders due on the run's day and, unless it is a dry
// run, sends and records them.
func (s *Service) Run(ctx context.Context, r Run) (*Result, error) {
	if r.Lang == "" {
		r.Lang = "nb"
	}
	if !slices.Contains(Languages, r.Lang) {
		return nil, errs.Invalidf("lang", "language", "reminders are written in nb or en, got %q", r.Lang)
	}
	if r.Max <= 0 {
		r.Max = DefaultMax
	}
	if !r.DryRun && s.cfg.Sender == nil {
		return nil, errs.E(errs.Unavailable, "no SMTP server is configured (lrs serve --smtp-url, LRS_SMTP_URL): only dry runs are possible")
	}
	if !r.DryRun {
		// Two runs of a tenant at once would both send what is due.
		if _, busy := s.running.LoadOrStore(r.Tenant, struct{}{}); busy {
			return nil, errs.E(errs.Conflict, "a reminder run of this tenant is under way; try again when it is done")
		}
		defer s.running.Delete(r.Tenant)
	}
	now := s.cfg.Now().UTC()
	r.Query.AsOf = now
	res, err := s.plan(ctx, r, now)
	if err != nil || r.DryRun {
		return res, err
	}
	// The messages are sent and recorded even when the caller goes away.
	return res, s.send(context.WithoutCancel(ctx), r, res, now)
}

// key names a requirement reminded of.
type key struct {
	person, module string
	due            reporting.Date
}

// plan computes the messages of a run.
func (s *Service) plan(ctx context.Context, r Run, now time.Time) (*Result, error) {
	loc := r.Query.Location
	day := reporting.DateOf(now, loc)
	res := &Result{Day: day, DryRun: r.DryRun, Schedule: s.cfg.Schedule, DigestEvery: s.cfg.DigestEvery, Messages: []*Planned{}, NoAddress: []string{}}
	cat, err := s.cfg.Reporting.Catalog(ctx, r.Tenant)
	if err != nil {
		return nil, err
	}
	scheds := newSchedules(cat, s.cfg.Schedule)
	window, lookback := 0, s.cfg.DigestEvery
	scheds.all(func(sch Schedule) { window, lookback = max(window, sch.Window()), max(lookback, sch.lookback()) })
	recs, err := s.cfg.Store.RemindersSince(ctx, r.Tenant, day.AddDays(-lookback).Start(loc))
	if err != nil {
		return nil, err
	}
	learnerSent := map[key]reporting.Date{} // the day of the latest reminder
	digestSent := map[string]reporting.Date{}
	for _, rec := range recs {
		if rec.Outcome != OutcomeSent && rec.Outcome != OutcomeNoAddress {
			continue
		}
		d := reporting.DateOf(rec.Time, loc)
		if rec.Module == "" {
			digestSent[rec.Person] = max(digestSent[rec.Person], d)
			continue
		}
		k := key{rec.Person, rec.Module, rec.Due}
		learnerSent[k] = max(learnerSent[k], d)
	}
	digestDue := func(manager string) bool {
		last, ok := digestSent[manager]
		return !ok || int(day-last) >= s.cfg.DigestEvery
	}
	learners := map[string]*Planned{}
	managers := map[string]*Planned{}
	seen := map[key]bool{}
	noAddress := map[string]bool{}
	err = reporting.StreamReminders(ctx, s.cfg.Reporting, r.Tenant, r.Query, reporting.Period{Days: window},
		func(g *reporting.ReminderGroup, row *reporting.Row) error {
			deadline := Deadline(row)
			step, ok := scheds.of(row).Step(deadline, day)
			if !ok {
				return nil
			}
			k := key{row.Person, row.Module, deadline}
			item := Item{Person: row.Person, Name: row.Name, Module: row.Module, Title: row.Module, Status: row.Status, Due: deadline}
			m := cat.Module(row.Module)
			if m != nil {
				item.Title = title(m.Title, r.Lang, row.Module)
			}
			if learnerSent[k] < step && !seen[k] { // a person with two managers comes twice
				seen[k] = true
				if m != nil {
					link, personal, err := s.cfg.Link(ctx, LinkRequest{Tenant: r.Tenant, Person: row.Person, Module: m, BaseURL: r.BaseURL, Plan: true})
					if err != nil {
						return err
					}
					item.Link, item.Personal = link, personal
				}
				if row.Email == "" {
					noAddress[row.Person] = true
					res.unaddressed = append(res.unaddressed, item)
				} else {
					p := learners[row.Person]
					if p == nil {
						p = &Planned{Template: TemplateLearner + "/" + r.Lang, Person: row.Person, Name: row.Name, Email: row.Email}
						learners[row.Person] = p
					}
					p.Items = append(p.Items, item)
				}
			}
			if g.Manager == "" || !digestDue(g.Manager) {
				return nil
			}
			if g.Email == "" {
				noAddress[g.Manager] = true
				return nil
			}
			mp := managers[g.Manager]
			if mp == nil {
				mp = &Planned{Template: TemplateManager + "/" + r.Lang, Person: g.Manager, Name: g.Name, Email: g.Email}
				managers[g.Manager] = mp
			}
			item.Link, item.Personal = "", false // the learner's own link is for the learner
			mp.Items = append(mp.Items, item)
			return nil
		})
	if err != nil {
		return nil, err
	}
	byPerson := func(a, b *Planned) int { return cmp.Compare(a.Person, b.Person) }
	ls := slices.SortedFunc(mapValues(learners), byPerson)
	ms := slices.SortedFunc(mapValues(managers), byPerson)
	res.Messages = append(ls, ms...)
	if len(res.Messages) > r.Max {
		res.Deferred = len(res.Messages) - r.Max
		res.Messages = res.Messages[:r.Max]
	}
	for _, p := range res.Messages {
		p.Outcome = "planned"
	}
	for id := range noAddress {
		res.NoAddress = append(res.NoAddress, id)
	}
	slices.Sort(res.NoAddress)
	return res, nil
}

func mapValues(m map[string]*Planned) func(func(*Planned) bool) {
	return func(yield func(*Planned) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// title picks a module's title in lang: a tag of that language, else
// Norwegian, else the first tag in order, else the id.
func title(m map[string]string, lang, id string) string {
	tags := slices.Sorted(func(yield func(string) bool) {
		for t := range m {
			if !yield(t) {
				return
			}
		}
	})
	for _, want := range []string{lang, "nb", "no", "nn"} {
		for _, t := range tags {
			if t == want || strings.HasPrefix(strings.ToLower(t), want+"-") {
				return m[t]
			}
		}
	}
	if len(tags) > 0 {
		return m[tags[0]]
	}
	return id
}

// attempt sends msg, trying again after Backoff, twice that, and so on,
// Attempts times in all; n counts the attempts.
func (s *Service) attempt(ctx context.Context, msg *Message, n *int) error {
	for *n = 1; ; *n++ {
		err := s.cfg.Sender.Send(ctx, msg)
		if err == nil || *n >= s.cfg.Attempts {
			return err
		}
		select {
		case <-time.After(s.cfg.Backoff << (*n - 1)):
		case <-ctx.Done():
			return err
		}
	}
}

// send renders, sends (with retries) and records each planned message.
// Every message is recorded as soon as it is sent or has failed, and the
// requirements of people with no address as OutcomeNoAddress; the error
// is the recording's.
// personalLinks makes the personal links of a learner's message p.
func (s *Service) personalLinks(ctx context.Context, r Run, cat *reporting.Catalog, p *Planned) error {
	if !strings.HasPrefix(p.Template, TemplateLearner+"/") {
		return nil
	}
	for i := range p.Items {
		it := &p.Items[i]
		m := cat.Module(it.Module)
		if !it.Personal || m == nil {
			continue
		}
		link, _, err := s.cfg.Link(ctx, LinkRequest{Tenant: r.Tenant, Person: p.Person, Module: m, BaseURL: r.BaseURL})
		if err != nil {
			return fmt.Errorf("reminders: making the personal link of %s: %w", it.Module, err)
		}
		it.href = link // a personal link, or the address it fell back to
	}
	return nil
}

func (s *Service) send(ctx context.Context, r Run, res *Result, now time.Time) error {
	if len(res.unaddressed) > 0 {
		var recs []*Sent
		for _, it := range res.unaddressed {
			recs = append(recs, &Sent{Tenant: r.Tenant, Person: it.Person, Module: it.Module, Due: it.Due,
				Template: TemplateLearner + "/" + r.Lang, Time: now, Outcome: OutcomeNoAddress})
		}
		if err := s.cfg.Store.RecordReminders(ctx, recs); err != nil {
			return err
		}
	}
	var limit *rate.Limiter
	if s.cfg.Rate > 0 {
		limit = rate.NewLimiter(rate.Limit(s.cfg.Rate), 1)
	}
	cat, err := s.cfg.Reporting.Catalog(ctx, r.Tenant)
	if err != nil {
		return err
	}
	failedInARow := 0
	for i, p := range res.Messages {
		if failedInARow == GiveUpAfter {
			// The server is down: the rest wait for the next run.
			for _, q := range res.Messages[i:] {
				q.Outcome = OutcomeSkipped
			}
			res.Skipped = len(res.Messages) - i
			break
		}
		var err error
		if a, aerr := mail.ParseAddress(p.Email); aerr != nil || a.Address != p.Email {
			// Never into a header: not tried, recorded failed.
			err = fmt.Errorf("reminders: %q is not an e-mail address", p.Email)
		} else {
			err = s.personalLinks(ctx, r, cat, p) // not sent without its links: tried again next run
		}
		msg, rerr := render(p, s.cfg.From, now)
		if rerr != nil {
			return rerr
		}
		p.MessageID = msg.ID
		if err == nil {
			if limit != nil {
				limit.Wait(ctx) // fails only when ctx ends, and then so does the attempt
			}
			err = s.attempt(ctx, msg, &p.Attempts)
		}
		p.Outcome, p.Error = OutcomeSent, ""
		if err != nil {
			p.Outcome, p.Error = OutcomeFailed, err.Error()
			res.Failed++
			if p.Attempts > 0 {
				failedInARow++
			}
		} else {
			res.Sent++
			failedInARow = 0
		}
		var recs []*Sent
		at := s.cfg.Now().UTC()
		rec := func(module string, due reporting.Date) *Sent {
			return &Sent{Tenant: r.Tenant, Person: p.Person, Module: module, Due: due, Template: p.Template, Time: at,
				MessageID: msg.ID, Outcome: p.Outcome, Error: p.Error, Attempts: p.Attempts}
		}
		if strings.HasPrefix(p.Template, TemplateManager+"/") {
			recs = append(recs, rec("", 0))
		} else {
			for _, it := range p.Items {
				recs = append(recs, rec(it.Module, it.Due))
			}
		}
		if err := s.cfg.Store.RecordReminders(ctx, recs); err != nil {
			return errors.Join(fmt.Errorf("reminders: the message %s to %s was %s but not recorded", msg.ID, p.Person, p.Outcome), err)
		}
	}
	return nil
}
