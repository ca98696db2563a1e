// Package evidence builds and checks the auditor's evidence pack: for a
// unit (with its sub-units) and a period, every requirement row of the
// people in it with its proof — the statements that record each
// completion, with their ids, timestamps, stored times, the credential
// that stored them and a SHA-256 of each statement's JSON as the LRS holds
// it — and the reminder e-mails sent to them in the period, as one JSON
// document signed by the LRS as a JWS (RFC 7515, compact serialization).
//
// Anyone holding the LRS's public keys (its JWK Set, /api/v1/jwks.json)
// can check that a pack is the one the LRS signed, byte for byte (Verify,
// or `lrs evidence verify`); with the statement ids and hashes, that the
// statements in the LRS are the ones the pack was built from.
package evidence

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// Type and Version identify the document a pack holds (its "type" and
// "version"); PackType is the "typ" of the JWS header.
const (
	Type     = "lrs-evidence-pack"
	Version  = 1
	PackType = "lrs-evidence-pack+json"
)

// MediaType is the media type of a signed pack (a compact JWS).
const MediaType = "application/jose"

// Request says what a pack covers.
type Request struct {
	// Units are the roots of the unit subtrees covered; none: the whole
	// organisation. Each must exist on the period's last day.
	Units []string
	// Period: the pack shows the state at the end of its last day To
	// (required), and marks the completions made from its first day From
	// (zero: no start) to To.
	Period Period
	// KnownAt, when not zero, limits the pack to what the LRS had recorded
	// by then (see reporting.Options).
	KnownAt time.Time
	// Location is the time zone of the organisation's calendar days; nil:
	// UTC.
	Location *time.Location
	// DueWithin and ExpiringWithin are as in reporting.Options (zero: the
	// defaults).
	DueWithin, ExpiringWithin reporting.Period
	// Reminders, when set, adds the reminder e-mails sent within the
	// period to the people of the pack (Pack.Reminders).
	Reminders reminders.Store
}

// Period is a span of calendar days, both included.
type Period struct {
	From reporting.Date `json:"from,omitzero"`
	To   reporting.Date `json:"to"`
}

// Pack is the document an evidence pack signs.
type Pack struct {
	Type      string    `json:"type"`    // Type
	Version   int       `json:"version"` // Version
	Issuer    string    `json:"issuer"`  // the LRS that signed it (its token issuer)
	Tenant    string    `json:"tenant"`
	Generated time.Time `json:"generated"`
	Units     []string  `json:"units"` // as requested; empty: the whole organisation
	Period    Period    `json:"period"`
	TimeZone  string    `json:"timeZone"` // of the days in the pack
	// AsOf is the instant the rows describe: the end of the period's last
	// day; KnownAt as in the Request.
	AsOf    time.Time          `json:"asOf"`
	KnownAt time.Time          `json:"knownAt,omitzero"`
	Summary *reporting.Summary `json:"summary"`
	Rows    []Row              `json:"rows"`
	// Reminders are the reminder e-mails sent within the period (as known
	// at KnownAt) to the people of the rows, oldest first: learners'
	// reminders of modules and managers' digests (no module).
	Reminders []Reminder `json:"reminders,omitempty"`

	// KeyID and Algorithm name the key that signed the pack; Verify sets
	// them.
	KeyID     string `json:"-"`
	Algorithm string `json:"-"`
}

// Row is a requirement row of the pack: a reporting.Row whose evidence
// carries authority and hash.
type Row struct {
	reporting.Row
	// InPeriod reports whether the completion was made within the period
	// (by its day in the pack's time zone).
	InPeriod bool `json:"inPeriod"`
}

// Reminder is the record of a reminder e-mail (reminders.Sent).
type Reminder struct {
	Person    string         `json:"person"`           // the recipient's employee id
	Module    string         `json:"module,omitempty"` // none for a manager's digest
	Due       reporting.Date `json:"due,omitzero"`
	Template  string         `json:"template"`
	Time      time.Time      `json:"time"`
	MessageID string         `json:"messageId"`
	Outcome   string         `json:"outcome"`
}

// Statements returns the number of distinct statements the pack's rows
// cite as evidence.
func (p *Pack) Statements() int {
	seen := map[string]bool{}
	for i := range p.Rows {
		for _, e := range p.Rows[i].Evidence {
			seen[e.Statement] = true
		}
	}
	return len(seen)
}

// Collect builds the pack of tenant that req describes: the rows of
// reporting.Report for the units as of the end of the period, with the
// proof of every evidence statement read from stmts (see
// reporting.AddProof). It fails with errs.Invalid for a bad period and
// errs.NotFound for a unit not in the roster on the period's last day.
// The pack is unsigned; see Sign.
func Collect(ctx context.Context, st reporting.Store, stmts reporting.StatementGetter, tenant string, req Request) (*Pack, error) {
	if err := req.Period.check(); err != nil {
		return nil, err
	}
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	units := slices.Clone(req.Units)
	if units == nil {
		units = []string{}
	}
	if err := checkUnits(ctx, st, tenant, units, req.Period.To, req.KnownAt); err != nil {
		return nil, err
	}
	p := &Pack{Type: Type, Version: Version, Tenant: tenant, Generated: time.Now().UTC().Truncate(time.Millisecond),
		Units: units, Period: req.Period, TimeZone: loc.String(),
		AsOf: req.Period.To.AddDays(1).Start(loc).Add(-time.Nanosecond).UTC(), KnownAt: req.KnownAt, Rows: []Row{}}
	if !p.KnownAt.IsZero() {
		p.KnownAt = p.KnownAt.UTC()
	}
	q := reporting.Query{Units: units, Options: reporting.Options{AsOf: p.AsOf, KnownAt: req.KnownAt, Location: loc,
		DueWithin: req.DueWithin, ExpiringWithin: req.ExpiringWithin}}
	sum, err := reporting.Report(ctx, st, tenant, q, func(r *reporting.Row) error {
		row := Row{Row: *r}
		row.Evidence = slices.Clone(r.Evidence) // addProof fills it in
		if !r.Completed.IsZero() {
			day := reporting.DateOf(r.Completed, loc)
			row.InPeriod = (req.Period.From == 0 || day >= req.Period.From) && day <= req.Period.To
		}
		p.Rows = append(p.Rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Summary = sum
	if err := addProof(ctx, stmts, tenant, p.Rows); err != nil {
		return nil, err
	}
	if req.Reminders != nil {
		if p.Reminders, err = collectReminders(ctx, req.Reminders, tenant, p, loc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// collectReminders returns the reminders sent to the people of p's rows
// within its period, as known at its KnownAt.
func collectReminders(ctx context.Context, st reminders.Store, tenant string, p *Pack, loc *time.Location) ([]Reminder, error) {
	var since time.Time
	if p.Period.From != 0 {
		since = p.Period.From.Start(loc)
	}
	until := p.AsOf
	if !p.KnownAt.IsZero() && p.KnownAt.Before(until) {
		until = p.KnownAt
	}
	people := map[string]bool{}
	for i := range p.Rows {
		people[p.Rows[i].Person] = true
	}
	recs, err := st.RemindersSince(ctx, tenant, since)
	if err != nil {
		return nil, err
	}
	var out []Reminder
	for _, r := range recs {
		if r.Time.After(until) || !people[r.Person] {
			continue
		}
		out = append(out, Reminder{Person: r.Person, Module: r.Module, Due: r.Due, Template: r.Template, Time: r.Time.UTC(),
			MessageID: r.MessageID, Outcome: r.Outcome})
	}
	return out, nil
}

// ParsePeriod reads a period from its first and last days as given in a
// query (from, to: YYYY-MM-DD or DD.MM.YYYY; from may be empty), as the
// API and the pages take them. It fails with errs.Invalid for a day that
// is not one, an empty to, or a from after to.
func ParsePeriod(from, to string) (Period, error) {
	var pd Period
	for _, p := range []struct {
		name, value string
		dst         *reporting.Date
	}{{"from", from, &pd.From}, {"to", to, &pd.To}} {
		if p.value == "" {
			continue
		}
		d, err := reporting.ParseDate(p.value)
		if err != nil {
			return pd, errs.Invalidf(p.name, "date", "parameter %s must be a day like 2026-10-31, got %q", p.name, p.value)
		}
		*p.dst = d
	}
	return pd, pd.check()
}

// check validates a requested period.
func (pd Period) check() error {
	if pd.To == 0 {
		return errs.Invalidf("to", "period", "give the period's last day")
	}
	if pd.From != 0 && pd.From > pd.To {
		return errs.Invalidf("from", "period", "the period starts (%s) after it ends (%s)", pd.From, pd.To)
	}
	return nil
}

// checkUnits fails with errs.NotFound for a unit not in the roster on day
// d, so that a misspelt unit does not make an empty pack.
func checkUnits(ctx context.Context, st reporting.Store, tenant string, units []string, d reporting.Date, knownAt time.Time) error {
	if len(units) == 0 {
		return nil
	}
	rows, err := st.RosterRows(ctx, tenant, reporting.RosterFilter{KnownAt: knownAt, UnitsOnly: true})
	if err != nil {
		return err
	}
	v := reporting.NewView(rows, d)
	for _, u := range units {
		if v.Units[u] == nil {
			return errs.E(errs.NotFound, "no unit %q in the roster on %s", u, d)
		}
	}
	return nil
}

// addProof fills the authority and hash of the evidence of rows, reading
// each statement once.
func addProof(ctx context.Context, stmts reporting.StatementGetter, tenant string, rows []Row) error {
	proofs := map[string]reporting.Evidence{}
	for i := range rows {
		evs := rows[i].Evidence
		for j := range evs {
			e := &evs[j]
			if p, ok := proofs[e.Statement]; ok {
				e.Authority, e.SHA256 = p.Authority, p.SHA256
				continue
			}
			if err := reporting.AddProof(ctx, stmts, tenant, evs[j:j+1]); err != nil {
				return err
			}
			proofs[e.Statement] = *e
		}
	}
	return nil
}

// Signer signs documents for the LRS: tokens.Service, with its newest key.
type Signer interface {
	// Issuer names the LRS (the "iss" of its tokens).
	Issuer() string
	// SignJWS returns payload signed as a JWS in compact serialization
	// whose protected header holds alg, kid (a key of the LRS's JWK Set)
	// and typ.
	SignJWS(payload []byte, typ string) (string, error)
}

// Sign sets the issuer of p to the signer's and returns p signed: a JWS
// in compact serialization (MediaType) of p's JSON.
func Sign(p *Pack, s Signer) ([]byte, error) {
	p.Issuer = s.Issuer()
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, errs.Wrap(err, "encoding an evidence pack")
	}
	jws, err := s.SignJWS(payload, PackType)
	if err != nil {
		return nil, err
	}
	return []byte(jws), nil
}
