package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Erasure of a person (GDPR article 17), as the tenant chooses:
//
//   - Pseudonymise replaces every identifier of the person by a keyed
//     pseudonym: in statements (actor, object, authority, context
//     instructor, team, agents and groups, group members, SubStatements:
//     each agent object of the person becomes an account of PseudonymHome
//     without a name; the person's names and e-mail addresses in free
//     text are replaced too), completion facts, roster rows and the
//     changes of roster imports, exemptions, reminder records, the access
//     log and the audit log. The statements stay, so completions keep
//     counting: unit and module totals for past dates stay the same.
//   - Delete deletes the person's own statements (those whose actor is
//     the person) outright; statements of others that name the person
//     (as object, instructor, team member or authority) are
//     pseudonymised as above, so their actors keep their evidence; the
//     roster rows, completion facts and logs are pseudonymised as above
//     (they carry no statement content), so aggregates stay the same
//     here too.
//
// In both modes the person's State and Agent Profile documents, the
// attachments of their statements (files the LRS cannot read: signed
// statements' JWS signatures hold the original statement, certificates
// their name) and their accounts of the pages with their sessions are
// deleted. What was done is recorded as an Erasure record naming the
// pseudonym, never an erased identifier.
//
// A pseudonym is an HMAC-SHA-256 of the identifier under a secret key of
// the tenant kept in the store (PseudonymKey): the same person gets the
// same pseudonym every time (an erasure run again finds nothing left to
// change), and nobody without the key can link a pseudonym to a person,
// even by trying every employee id or e-mail address.
const (
	Pseudonymise = "pseudonymise"
	Delete       = "delete"
)

// PseudonymHome is the account homePage of the agents that replace an
// erased person in statements and the roster.
const PseudonymHome = "https://pseudonym.invalid"

// ErasureCounts says how much an erasure changed (or, dry, would change).
type ErasureCounts struct {
	Statements    int `json:"statements"`  // rewritten (pseudonymise) or deleted
	Attachments   int `json:"attachments"` // removed from those statements
	Referrers     int `json:"referrers"`   // other statements whose index named the person through a StatementRef
	Documents     int `json:"documents"`
	Facts         int `json:"facts"`
	RosterRows    int `json:"rosterRows"`
	RosterChanges int `json:"rosterChanges"`
	Exemptions    int `json:"exemptions"`
	Reminders     int `json:"reminders"`
	AccessLog     int `json:"accessLog"`
	Accounts      int `json:"accounts"`
	Audit         int `json:"audit"`
}

// Erasure is the record of one erasure: who asked, when, how, and how
// much it changed. It names the person by their pseudonym only.
type Erasure struct {
	Tenant    string        `json:"tenant"`
	Time      time.Time     `json:"time"`
	Actor     string        `json:"actor"`     // a credential key, or "cli:<user>"
	Mode      string        `json:"mode"`      // Pseudonymise or Delete
	Pseudonym string        `json:"pseudonym"` // the employee id that replaced the person's
	DryRun    bool          `json:"dryRun,omitempty"`
	Counts    ErasureCounts `json:"counts"`

	// What the erasure changed (or, dry, would change), for retention
	// (RunRetention); not part of the record.
	statements []string        // the ids of the statements rewritten or deleted
	documents  []documents.Key // the documents deleted
}

// StatementEdit is one statement an erasure changes: Record holds its
// new JSON and index fields (the id, stored time, authority and voided
// mark unchanged), or is nil to delete the statement.
type StatementEdit struct {
	ID     string
	Record *statements.Record
	// Attachments are the hashes of the attachments the statement had:
	// a store deletes those no remaining statement of the tenant lists.
	Attachments []string
}

// ErasureStore is what an erasure writes, beside the statements,
// documents and reporting stores. Each method is idempotent; with dryRun
// it changes nothing and returns what it would change.
type ErasureStore interface {
	// PseudonymKey returns the tenant's secret pseudonym key (32 bytes),
	// made and stored on first use.
	PseudonymKey(ctx context.Context, tenant string) ([]byte, error)
	// EditStatements applies the edits, deletes the attachments no
	// remaining statement lists, and then replaces, in the index fields
	// of every statement of the tenant (own and inherited through
	// StatementRefs), each agent key of agents by its value. It returns
	// how many attachments it deleted and how many other statements'
	// index fields it changed.
	EditStatements(ctx context.Context, tenant string, edits []StatementEdit, agents map[string]string) (attachments, referrers int, err error)
	// DeleteFactAgents deletes the completion facts of the agents (match
	// keys), and their names.
	DeleteFactAgents(ctx context.Context, tenant string, agents []string) error
	// RewriteRoster calls row for every roster row of the tenant, current
	// or superseded, keyed by the person (person, member, role, ident) or
	// naming them (manager), and change for every change of every import
	// about them (see AboutPerson), and stores those the functions
	// changed (returned true); it returns how many of each.
	RewriteRoster(ctx context.Context, tenant, person string, row func(*reporting.RosterRow) bool,
		change func(*reporting.Change) bool, dryRun bool) (rows, changes int, err error)
	// RewriteReminders gives the person's reminder records the pseudonym
	// and clears their error texts (which may quote the address).
	RewriteReminders(ctx context.Context, tenant, person, pseudonym string, dryRun bool) (int, error)
	// RewriteAudit applies replace to the actor, target and detail of
	// the tenant's audit entries and stores those it changed.
	RewriteAudit(ctx context.Context, tenant string, replace func(string) string, dryRun bool) (int, error)
	// DeletePersonAccounts deletes the tenant's accounts of the pages
	// belonging to the person and every session of them, and returns
	// the accounts' names.
	DeletePersonAccounts(ctx context.Context, tenant, person string, dryRun bool) ([]string, error)
	// AddErasure stores an erasure record; Erasures lists a tenant's,
	// oldest first.
	AddErasure(ctx context.Context, e *Erasure) error
	Erasures(ctx context.Context, tenant string) ([]*Erasure, error)
}

// Pseudonyms derives the pseudonyms of one tenant from its key.
type Pseudonyms struct{ key []byte }

// NewPseudonyms returns the pseudonyms of the key (PseudonymKey).
func NewPseudonyms(key []byte) *Pseudonyms { return &Pseudonyms{key: key} }

func (p *Pseudonyms) mac(kind, s string) string {
	h := hmac.New(sha256.New, p.key)
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Person returns the employee id that replaces the person's.
func (p *Pseudonyms) Person(id string) string { return "erased-" + p.mac("person", id) }

// Agent returns the agent key (and match key) that replaces an
// identifier (a match key).
func (p *Pseudonyms) Agent(matchKey string) string {
	return statements.AgentKey(p.AgentObject(matchKey))
}

// AgentObject returns the agent that replaces an identifier in
// statements.
func (p *Pseudonyms) AgentObject(matchKey string) map[string]any {
	return map[string]any{"account": map[string]any{"homePage": PseudonymHome, "name": p.mac("agent", matchKey)}}
}

// Account returns the name that replaces an account of the pages in the
// access and audit logs.
func (p *Pseudonyms) Account(name string) string { return "erased-account-" + p.mac("account", name) }

// plan is what an erasure of one person replaces.
type plan struct {
	person    *Person
	pseudonym string
	// agents maps each of the person's identifier keys as statements and
	// facts carry them (agent keys and match keys, with the mbox_sha1sum
	// of each address) to its pseudonym; an address's mbox_sha1sum gets
	// the address's pseudonym, so that facts stay with the person.
	agents map[string]string
	// idents maps the roster's identifier values (match keys) to theirs.
	idents   map[string]string
	accounts map[string]string // account names of the pages -> pseudonyms
	text     *strings.Replacer // names and addresses in free text
}

func newPlan(ps *Pseudonyms, p *Person, accounts []string) *plan {
	pl := &plan{person: p, pseudonym: ps.Person(p.ID), agents: map[string]string{}, idents: map[string]string{},
		accounts: map[string]string{}}
	for _, r := range p.Rows {
		if r.Kind == reporting.RowIdent {
			pk := ps.Agent(r.Value)
			pl.idents[r.Value] = pk
			pl.agents[r.Value] = pk
			if strings.HasPrefix(r.Value, "mbox:") {
				pl.agents[statements.AgentKey(map[string]any{"mbox_sha1sum": mboxSHA1(r.Value)})] = pk
			}
		}
	}
	for _, k := range p.AgentKeys {
		if _, ok := pl.agents[k]; !ok {
			if pk, ok := pl.agents[reporting.MatchKey(k)]; ok {
				pl.agents[k] = pk
			} else {
				pl.agents[k] = ps.Agent(reporting.MatchKey(k))
			}
		}
	}
	// Free text: the person's names and addresses, longest first (a
	// name inside an address is replaced with the address).
	olds := append(slices.Clone(p.Names), p.Emails...)
	for _, r := range p.Rows {
		if r.Kind == reporting.RowIdent {
			olds = append(olds, identText(r.Value)...)
		}
	}
	for _, a := range accounts {
		pl.accounts[a] = ps.Account(a)
		olds = append(olds, a)
	}
	olds = slices.DeleteFunc(olds, func(s string) bool { return len(strings.TrimSpace(s)) < 3 })
	slices.SortFunc(olds, func(a, b string) int { return len(b) - len(a) })
	olds = slices.Compact(olds)
	var pairs []string
	for _, o := range olds {
		pairs = append(pairs, strings.TrimSpace(o), "[erased]")
	}
	pl.text = strings.NewReplacer(pairs...)
	return pl
}

// identText returns the parts of an identifier that can stand in free
// text: an address, an OpenID, an account name.
func identText(matchKey string) []string {
	kind, v, _ := strings.Cut(matchKey, ":")
	switch kind {
	case "mbox":
		return []string{strings.TrimPrefix(v, "mailto:")}
	case "openid":
		return []string{v}
	case "account":
		if _, name, ok := strings.Cut(v, " "); ok {
			return []string{name}
		}
	}
	return nil
}

// rewriteStatement replaces, anywhere in the statement tree v, each agent
// (any object with an identifier) of the person by their pseudonym agent,
// and the person's names and addresses in strings, and reports whether
// anything changed.
func (pl *plan) rewrite(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		changed := false
		if k := statements.AgentKey(x); k != "" {
			if pk, ok := pl.agents[k]; ok || pl.agents[reporting.MatchKey(k)] != "" {
				if !ok {
					pk = pl.agents[reporting.MatchKey(k)]
				}
				for _, f := range []string{"mbox", "mbox_sha1sum", "openid", "name"} {
					delete(x, f)
				}
				_, name, _ := strings.Cut(strings.TrimPrefix(pk, "account:"), " ")
				x["account"] = map[string]any{"homePage": PseudonymHome, "name": name}
				changed = true
			}
		}
		for k, e := range x {
			if n, ok := pl.rewrite(e); ok {
				x[k], changed = n, true
			}
		}
		return x, changed
	case []any:
		changed := false
		for i, e := range x {
			if n, ok := pl.rewrite(e); ok {
				x[i], changed = n, true
			}
		}
		return x, changed
	case string:
		if s := pl.text.Replace(x); s != x {
			return s, true
		}
	}
	return v, false
}

// ErasureRequest says whom to erase and how.
type ErasureRequest struct {
	Tenant string
	Person string // employee id
	Mode   string // Pseudonymise or Delete
	Actor  string
	DryRun bool
}

// Erase erases the person of req as req.Mode says (see Pseudonymise and
// Delete) and records it, or with req.DryRun only counts what it would
// change. A person erased already (the roster knows only their
// pseudonym) is no error: the answer is the counts of what was still
// left, all zero after a complete erasure.
func Erase(ctx context.Context, src Sources, st ErasureStore, req ErasureRequest, now time.Time) (*Erasure, error) {
	if req.Mode != Pseudonymise && req.Mode != Delete {
		return nil, errs.Invalidf("mode", "erasure-mode", "mode must be %q or %q, got %q", Pseudonymise, Delete, req.Mode)
	}
	key, err := st.PseudonymKey(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	ps := NewPseudonyms(key)
	p, err := FindPerson(ctx, src.Reporting, req.Tenant, req.Person)
	if errs.Is(err, errs.NotFound) {
		// Erased already (or never there): the roster holds the
		// pseudonym, or nothing of the id.
		if _, err2 := FindPerson(ctx, src.Reporting, req.Tenant, ps.Person(req.Person)); err2 != nil {
			return nil, err
		}
		p = &Person{ID: req.Person}
	} else if err != nil {
		return nil, err
	}
	accounts, err := st.DeletePersonAccounts(ctx, req.Tenant, p.ID, true)
	if err != nil {
		return nil, err
	}
	pl := newPlan(ps, p, accounts)
	e := &Erasure{Tenant: req.Tenant, Time: now.UTC(), Actor: req.Actor, Mode: req.Mode, Pseudonym: pl.pseudonym, DryRun: req.DryRun}
	n := &e.Counts

	// Statements, voided ones too.
	var edits []StatementEdit
	err = PersonStatements(ctx, src.Statements, req.Tenant, p, func(r *statements.Record) error {
		if !pl.names(r) {
			// Found through a StatementRef to one of the person's: the
			// referrer is someone else's, and only its index changes.
			return nil
		}
		ed := StatementEdit{ID: r.ID, Attachments: r.AttachmentHashes}
		n.Attachments += len(r.AttachmentHashes)
		own, err := pl.own(r)
		if err != nil {
			return err
		}
		if req.Mode == Pseudonymise || !own {
			rec, err := pl.rewriteRecord(r)
			if err != nil {
				return err
			}
			ed.Record = rec
		}
		edits = append(edits, ed)
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.Statements = len(edits)
	for _, ed := range edits {
		e.statements = append(e.statements, ed.ID)
	}

	docs, err := src.Privacy.AgentDocumentKeys(ctx, req.Tenant, p.MatchKeys)
	if err != nil {
		return nil, err
	}
	n.Documents = len(docs)
	e.documents = docs

	var facts []reporting.Fact
	var factAgents []string
	if len(pl.agents) > 0 {
		keys := make([]string, 0, len(pl.agents))
		for k := range pl.agents {
			if k == reporting.MatchKey(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		err = src.Reporting.Facts(ctx, req.Tenant, keys, func(agent string, fs []reporting.Fact) error {
			factAgents = append(factAgents, agent)
			for _, f := range fs {
				f.Agent, f.Name, f.VoidedAt = pl.agents[agent], "", time.Time{}
				f.Activities = slices.Clone(f.Activities)
				facts = append(facts, f)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	n.Facts = len(facts)

	cat, err := src.Reporting.Catalog(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	var exemptions []*reporting.Exemption
	for _, x := range cat.Exemptions {
		if x.Person == p.ID {
			c := *x
			c.Person = pl.pseudonym
			c.Reason = pl.text.Replace(c.Reason)
			exemptions = append(exemptions, &c)
		}
	}
	n.Exemptions = len(exemptions)

	subjects := map[string]string{PersonSubject(p.ID): PersonSubject(pl.pseudonym)}
	for k, pk := range pl.agents {
		subjects[AgentSubject(k)] = AgentSubject(pk)
	}

	// Everything is read: write (or, dry, count what the writes would
	// change). The order makes a run cut short finishable by running it
	// again: the roster goes last, since it is what finds the person.
	dry := req.DryRun
	if !dry {
		if n.Attachments, n.Referrers, err = st.EditStatements(ctx, req.Tenant, edits, pl.agents); err != nil {
			return nil, err
		}
		if err := src.Privacy.PurgeDocuments(ctx, docs); err != nil {
			return nil, err
		}
		if len(facts) > 0 {
			if err := src.Reporting.AddFacts(ctx, req.Tenant, facts); err != nil {
				return nil, err
			}
		}
		if err := st.DeleteFactAgents(ctx, req.Tenant, factAgents); err != nil {
			return nil, err
		}
		for _, x := range exemptions {
			if err := src.Reporting.PutExemption(ctx, req.Tenant, x); err != nil {
				return nil, err
			}
		}
		for _, x := range cat.Exemptions {
			if x.Person == p.ID {
				if err := src.Reporting.DeleteExemption(ctx, req.Tenant, x.ID); err != nil && !errs.Is(err, errs.NotFound) {
					return nil, err
				}
			}
		}
		if _, err := st.DeletePersonAccounts(ctx, req.Tenant, p.ID, false); err != nil {
			return nil, err
		}
	}
	if n.AccessLog, err = src.Privacy.RewriteAccess(ctx, req.Tenant, subjects, pl.accounts, dry); err != nil {
		return nil, err
	}
	n.Accounts = len(accounts)
	if n.Reminders, err = st.RewriteReminders(ctx, req.Tenant, p.ID, pl.pseudonym, dry); err != nil {
		return nil, err
	}
	if n.Audit, err = st.RewriteAudit(ctx, req.Tenant, pl.auditText, dry); err != nil {
		return nil, err
	}
	n.RosterRows, n.RosterChanges, err = st.RewriteRoster(ctx, req.Tenant, p.ID, pl.rosterRow, pl.rosterChange, dry)
	if err != nil {
		return nil, err
	}
	if !dry {
		if err := st.AddErasure(ctx, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// names reports whether the statement itself names the person (not
// only a statement it refers to).
func (pl *plan) names(r *statements.Record) bool {
	for _, l := range [][]string{r.Agents, r.RelatedAgents} {
		for _, k := range l {
			if _, ok := pl.agents[k]; ok {
				return true
			}
			if _, ok := pl.agents[reporting.MatchKey(k)]; ok {
				return true
			}
		}
	}
	return false
}

// own reports whether the person is the actor of the statement: their
// own statement, which Delete deletes. A statement that names them
// elsewhere only (the object, an instructor, a member of a team, the
// authority) is someone else's record, and is pseudonymised in both
// modes: its actor's completions keep their evidence.
func (pl *plan) own(r *statements.Record) (bool, error) {
	v, err := statements.DecodeJSON(r.JSON)
	if err != nil {
		return false, errs.Wrap(err, "privacy: a stored statement")
	}
	s, _ := v.(map[string]any)
	actor, _ := s["actor"].(map[string]any)
	k := statements.AgentKey(actor)
	if k == "" {
		return false, nil
	}
	_, ok := pl.agents[k]
	if !ok {
		_, ok = pl.agents[reporting.MatchKey(k)]
	}
	return ok, nil
}

// rewriteRecord returns the statement of r pseudonymised, without
// attachments, with its index fields and content hash derived anew.
func (pl *plan) rewriteRecord(r *statements.Record) (*statements.Record, error) {
	v, err := statements.DecodeJSON(r.JSON)
	if err != nil {
		return nil, errs.Wrap(err, "privacy: a stored statement")
	}
	s, ok := v.(map[string]any)
	if !ok {
		return nil, errs.E(errs.Internal, "privacy: stored statement %s is not an object", r.ID)
	}
	delete(s, "attachments")
	pl.rewrite(s)
	out := *r
	statements.Index(s, &out)
	out.Hash = statements.ContentHash(s)
	out.AttachmentHashes = nil
	if out.JSON, err = statements.AppendJSON(nil, s); err != nil {
		return nil, err
	}
	return &out, nil
}

// rosterRow pseudonymises a roster row of the person.
func (pl *plan) rosterRow(r *reporting.RosterRow) bool {
	old := *r
	switch {
	case r.Kind == reporting.RowManager && r.Value == pl.person.ID:
		r.Value = pl.pseudonym
	case r.Kind == reporting.RowManager:
	case r.Key == pl.person.ID:
		r.Key, r.Name, r.Email = pl.pseudonym, "", ""
		if r.Kind == reporting.RowIdent {
			if pk, ok := pl.idents[r.Value]; ok {
				r.Value = pk
			}
		}
	}
	return *r != old
}

// rosterChange pseudonymises a roster import's change about the person.
func (pl *plan) rosterChange(c *reporting.Change) bool {
	if !AboutPerson(c.Kind, c.Key, c.Value, pl.person.ID) {
		return false
	}
	r := reporting.RosterRow{Kind: c.Kind, Key: c.Key, Value: c.Value}
	pl.rosterRow(&r)
	c.Key, c.Value = r.Key, r.Value
	for _, ps := range [][]reporting.RowPeriod{c.Before, c.After} {
		for i := range ps {
			ps[i].Name, ps[i].Email = "", ""
		}
	}
	return true
}

// auditText pseudonymises the person in an audit entry's text: their
// employee id as a whole word, their accounts, names and addresses.
func (pl *plan) auditText(s string) string {
	for a, pa := range pl.accounts {
		s = strings.ReplaceAll(s, a, pa)
	}
	s = pl.text.Replace(s)
	return replaceWord(s, pl.person.ID, pl.pseudonym)
}

// replaceWord replaces old in s where it stands as a whole word (not
// inside a longer id).
func replaceWord(s, old, new string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		if (i == 0 || !idChar(s[i-1])) && (end == len(s) || !idChar(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(new)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':'
}
