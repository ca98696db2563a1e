package privacy

import (
	"archive/zip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Sources are the stores of one database that hold people's data.
type Sources struct {
	Reporting  reporting.Store
	Statements statements.Store
	Documents  documents.Store
	Privacy    Store
	Reminders  reminders.Store // nil: no reminders-sent.json
}

// Person is what the roster says identifies a person: the employee id,
// the roster rows, and the identifiers their statements, facts and
// documents carry.
type Person struct {
	ID   string
	Rows []reporting.RosterRow
	// MatchKeys are the identifiers as the projection matches them
	// (reporting.IdentMatchKeys: lowercased e-mail addresses, with their
	// mbox_sha1sum).
	MatchKeys []string
	// AgentKeys are the identifier keys statements may carry
	// (statements.AgentKey): the match keys, and the person's e-mail
	// addresses as the roster gives them (the local part of an address
	// keeps its case in a statement), with their mbox_sha1sum.
	AgentKeys []string
	// Emails and Names are the person's e-mail addresses and names as HR
	// gave them, now and before.
	Emails, Names []string
}

// Subjects returns the access log subjects of the person.
func (p *Person) Subjects() []string {
	out := []string{PersonSubject(p.ID)}
	for _, k := range p.MatchKeys {
		out = append(out, AgentSubject(k))
	}
	return out
}

// FindPerson reads the person with the employee id from the roster, or
// returns an errs.NotFound error when the roster has no such person.
func FindPerson(ctx context.Context, st reporting.RosterStore, tenant, id string) (*Person, error) {
	rows, err := st.RosterRows(ctx, tenant, reporting.RosterFilter{People: []string{id}})
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(rows, func(r reporting.RosterRow) bool { return r.Kind == reporting.RowPerson }) {
		return nil, errs.E(errs.NotFound, "no person %q in the roster", id)
	}
	p := &Person{ID: id, Rows: rows, MatchKeys: reporting.IdentMatchKeys(rows)}
	p.AgentKeys = slices.Clone(p.MatchKeys)
	addMail := func(email string) {
		if email = strings.TrimSpace(email); email == "" {
			return
		}
		p.Emails = append(p.Emails, email)
		k := statements.AgentKey(map[string]any{"mbox": "mailto:" + email})
		if !slices.Contains(p.AgentKeys, k) {
			p.AgentKeys = append(p.AgentKeys, k, statements.AgentKey(map[string]any{"mbox_sha1sum": mboxSHA1(k)}))
		}
	}
	for _, r := range rows {
		if r.Kind == reporting.RowPerson {
			addMail(r.Email)
			p.Names = append(p.Names, r.Name)
		}
	}
	// The addresses and names the person had before, as HR gave them
	// (statements keep the case of an address's local part).
	changes, err := rosterChanges(ctx, st, tenant, id)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Kind == reporting.RowPerson {
			for _, r := range append(slices.Clone(c.Before), c.After...) {
				addMail(r.Email)
				p.Names = append(p.Names, r.Name)
			}
		}
	}
	slices.Sort(p.AgentKeys)
	p.AgentKeys = slices.Compact(p.AgentKeys)
	slices.Sort(p.Emails)
	p.Emails = slices.Compact(p.Emails)
	slices.Sort(p.Names)
	p.Names = slices.Compact(p.Names)
	return p, nil
}

// statementPage is how many statements an export or erasure reads at once.
const statementPage = 200

// PersonStatements calls fn for each statement (voided ones included,
// Record.Voided set) that names one of the person's agent keys as actor, object, authority,
// context instructor, team or agent, group member, or in a SubStatement
// (statements.Query with RelatedAgents), each once, a page at a time.
func PersonStatements(ctx context.Context, st statements.Store, tenant string, p *Person, fn func(*statements.Record) error) error {
	seen := map[string]bool{}
	for _, k := range p.AgentKeys {
		q := statements.Query{Tenant: tenant, Agent: k, RelatedAgents: true, Limit: statementPage, Ascending: true, IncludeVoided: true}
		for {
			page, err := st.Query(ctx, q)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				if seen[r.ID] {
					continue
				}
				seen[r.ID] = true
				if err := fn(r); err != nil {
					return err
				}
			}
			if page.Cursor == "" {
				break
			}
			q.Cursor = page.Cursor
		}
	}
	return nil
}

// ExportCounts says how much an export holds.
type ExportCounts struct {
	RosterRows    int `json:"rosterRows"`
	RosterChanges int `json:"rosterChanges"`
	Statements    int `json:"statements"`
	Voided        int `json:"voided"` // of the statements
	Attachments   int `json:"attachments"`
	Documents     int `json:"documents"`
	Facts         int `json:"facts"`
	StatusRows    int `json:"statusRows"`
	AccessLog     int `json:"accessLog"`
	Reminders     int `json:"reminders"`
}

// Export writes everything the stores hold about the person as a zip
// archive to w (GDPR articles 15 and 20), a file at a time, so that its
// memory does not grow with the person's statements:
//
//	README.md            a summary in Norwegian and English
//	person.json          the employee id, identifiers, the time of the export
//	roster.json          the person's roster rows (employment, units, roles, identifiers over time)
//	roster-changes.json  what each roster import changed about the person
//	statements.json      the statements naming the person, as stored, voided ones too
//	voided.json          the ids of those that were voided (retracted) by a voiding statement
//	attachments.json     their attachments (statement, sha2, content type, bytes); the files under attachments/
//	documents.json       State and Agent Profile documents of the person's agents; the contents under documents/
//	facts.json           the completion facts projected from the statements
//	status.json          the person's requirements as of now (status report rows)
//	transcript.json      the person's transcript with evidence
//	access-log.json      who read the person's data, when
//	reminders-sent.json  the reminder e-mails sent to the person (module, deadline, time, outcome)
//
// The reminders report is computed from the status when asked for, never
// stored; the e-mails sent are recorded, not their text.
func Export(ctx context.Context, src Sources, tenant string, p *Person, now time.Time, w io.Writer) (ExportCounts, error) {
	var n ExportCounts
	z := zip.NewWriter(w)
	put := func(name string, v any) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	raw := func(name string, b []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err == nil {
			_, err = f.Write(b)
		}
		return err
	}
	if err := put("person.json", map[string]any{"person": p.ID, "tenant": tenant, "exported": now.UTC(),
		"identifiers": p.AgentKeys}); err != nil {
		return n, err
	}
	n.RosterRows = len(p.Rows)
	if err := put("roster.json", p.Rows); err != nil {
		return n, err
	}

	changes, err := rosterChanges(ctx, src.Reporting, tenant, p.ID)
	if err != nil {
		return n, err
	}
	n.RosterChanges = len(changes)
	if err := put("roster-changes.json", changes); err != nil {
		return n, err
	}

	// Statements, streamed into one JSON array; their attachments after.
	f, err := z.CreateHeader(&zip.FileHeader{Name: "statements.json", Method: zip.Deflate, Modified: now})
	if err != nil {
		return n, err
	}
	io.WriteString(f, "[")
	type attachment struct {
		Statement   string `json:"statement"`
		SHA2        string `json:"sha2"`
		ContentType string `json:"contentType,omitempty"`
		Bytes       int    `json:"bytes"`
		File        string `json:"file,omitempty"`
	}
	var atts []attachment
	voided := []string{}
	err = PersonStatements(ctx, src.Statements, tenant, p, func(r *statements.Record) error {
		if n.Statements > 0 {
			io.WriteString(f, ",\n")
		}
		n.Statements++
		if r.Voided {
			voided = append(voided, r.ID)
		}
		if _, err := f.Write(r.JSON); err != nil {
			return err
		}
		for _, h := range r.AttachmentHashes {
			atts = append(atts, attachment{Statement: r.ID, SHA2: h})
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	io.WriteString(f, "]\n")
	n.Voided = len(voided)
	if err := put("voided.json", voided); err != nil {
		return n, err
	}
	written := map[string]int{}
	for i := range atts {
		a := &atts[i]
		if b, ok := written[a.SHA2]; ok {
			a.Bytes, a.File = b, "attachments/"+a.SHA2
			continue
		}
		got, err := src.Statements.Attachments(ctx, tenant, []string{a.SHA2})
		if err != nil {
			return n, err
		}
		if len(got) == 0 {
			continue // delivered by fileUrl only: the LRS holds no bytes
		}
		a.ContentType, a.Bytes, a.File = got[0].ContentType, len(got[0].Data), "attachments/"+a.SHA2
		if err := raw(a.File, got[0].Data); err != nil {
			return n, err
		}
		written[a.SHA2] = a.Bytes
		n.Attachments++
	}
	if atts == nil {
		atts = []attachment{}
	}
	if err := put("attachments.json", atts); err != nil {
		return n, err
	}

	keys, err := src.Privacy.AgentDocumentKeys(ctx, tenant, p.MatchKeys)
	if err != nil {
		return n, err
	}
	type document struct {
		Kind         documents.Kind `json:"kind"`
		ActivityID   string         `json:"activityId,omitempty"`
		Agent        string         `json:"agent"`
		Registration string         `json:"registration,omitempty"`
		ID           string         `json:"id"`
		ContentType  string         `json:"contentType"`
		Updated      time.Time      `json:"updated"`
		File         string         `json:"file"`
	}
	docs := []document{}
	for _, k := range keys {
		d, err := src.Documents.Document(ctx, k)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		file := "documents/" + strconv.Itoa(len(docs)+1)
		if err := raw(file, d.Content); err != nil {
			return n, err
		}
		docs = append(docs, document{Kind: k.Kind, ActivityID: k.ActivityID, Agent: k.Agent, Registration: k.Registration,
			ID: k.ID, ContentType: d.ContentType, Updated: d.Updated, File: file})
	}
	n.Documents = len(docs)
	if err := put("documents.json", docs); err != nil {
		return n, err
	}

	type fact struct {
		Agent string `json:"agent"`
		reporting.Fact
	}
	facts := []fact{}
	if len(p.MatchKeys) > 0 {
		err = src.Reporting.Facts(ctx, tenant, p.MatchKeys, func(agent string, fs []reporting.Fact) error {
			for _, f := range fs {
				facts = append(facts, fact{agent, f})
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	n.Facts = len(facts)
	if err := put("facts.json", facts); err != nil {
		return n, err
	}

	opts := reporting.Options{AsOf: now}
	rows := []*reporting.Row{}
	if _, err := reporting.Report(ctx, src.Reporting, tenant, reporting.Query{Options: opts, People: []string{p.ID}},
		func(r *reporting.Row) error {
			c := *r // the row is valid only during the call
			rows = append(rows, &c)
			return nil
		}); err != nil {
		return n, err
	}
	n.StatusRows = len(rows)
	if err := put("status.json", rows); err != nil {
		return n, err
	}
	t, err := reporting.PersonTranscript(ctx, src.Reporting, src.Statements, tenant, p.ID, opts)
	if err != nil {
		return n, err
	}
	if err := put("transcript.json", t); err != nil {
		return n, err
	}

	log, err := src.Privacy.AccessesAbout(ctx, tenant, p.Subjects(), time.Time{}, 1<<30)
	if err != nil {
		return n, err
	}
	n.AccessLog = len(log)
	type entry struct {
		Time      time.Time `json:"time"`
		Actor     string    `json:"actor"`
		ActorKind string    `json:"actorKind"`
		What      string    `json:"what"`
		Count     int       `json:"count"`
		Total     int       `json:"people"`
	}
	entries := make([]entry, len(log))
	for i, e := range log {
		entries[i] = entry{e.Time, e.Actor, e.ActorKind, e.What, e.Count, e.Total}
	}
	if err := put("access-log.json", entries); err != nil {
		return n, err
	}
	if src.Reminders != nil {
		sent, err := src.Reminders.RemindersTo(ctx, tenant, p.ID, 1<<30)
		if err != nil {
			return n, err
		}
		n.Reminders = len(sent)
		type reminder struct {
			Time      time.Time      `json:"time"`
			Module    string         `json:"module,omitempty"`
			Due       reporting.Date `json:"due,omitzero"`
			Template  string         `json:"template"`
			MessageID string         `json:"messageId,omitempty"`
			Outcome   string         `json:"outcome"`
		}
		out := make([]reminder, len(sent))
		for i, r := range sent {
			out[i] = reminder{r.Time, r.Module, r.Due, r.Template, r.MessageID, r.Outcome}
		}
		if err := put("reminders-sent.json", out); err != nil {
			return n, err
		}
	}
	if err := raw("README.md", []byte(exportReadme(tenant, p, now, n))); err != nil {
		return n, err
	}
	return n, z.Close()
}

// rosterChange is a change of a roster import about the person.
type rosterChange struct {
	Import   int64     `json:"import"`
	Recorded time.Time `json:"recorded"`
	reporting.Change
}

// rosterChanges returns what each import changed about the person: the
// timelines keyed by them, and the units they were made manager of.
func rosterChanges(ctx context.Context, st reporting.RosterStore, tenant, person string) ([]rosterChange, error) {
	imps, err := st.Imports(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := []rosterChange{}
	for _, imp := range imps {
		rec, err := st.ImportRecord(ctx, tenant, imp.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range rec.Changes {
			if AboutPerson(c.Kind, c.Key, c.Value, person) {
				out = append(out, rosterChange{rec.ID, rec.Recorded, c})
			}
		}
	}
	return out, nil
}

// AboutPerson reports whether a roster row or change of kind, key and
// value is about the person: keyed by their employee id, or naming them
// as a unit's manager.
func AboutPerson(kind reporting.RowKind, key, value, person string) bool {
	switch kind {
	case reporting.RowPerson, reporting.RowMember, reporting.RowRole, reporting.RowIdent:
		return key == person
	case reporting.RowManager:
		return value == person
	}
	return false
}

// exportReadme is the summary of an export, in Norwegian and English.
func exportReadme(tenant string, p *Person, now time.Time, n ExportCounts) string {
	var b strings.Builder
	day := now.UTC().Format("2006-01-02 15:04 UTC")
	fmt.Fprintf(&b, "# Innsyn / Access export: %s\n\n", p.ID)
	fmt.Fprintf(&b, "## Norsk\n\nDette arkivet inneholder alt læringsregisteret (LRS) lagrer om ansatt %s i virksomheten %q, hentet %s "+
		"(personvernforordningen artikkel 15 og 20). Filene er JSON og kan leses maskinelt.\n\n", p.ID, tenant, day)
	files := []struct {
		file, nb, en string
		n            int
	}{
		{"roster.json", "ansettelse, enheter, roller og identifikatorer over tid", "employment, units, roles and identifiers over time", n.RosterRows},
		{"roster-changes.json", "endringer fra HR-importer", "changes made by HR imports", n.RosterChanges},
		{"statements.json", "xAPI-utsagn (statements) om deg", "xAPI statements about you", n.Statements},
		{"voided.json", "utsagn som senere er trukket tilbake (voided); de er med i statements.json", "statements later voided (retracted); they are in statements.json", n.Voided},
		{"attachments.json", "vedlegg til utsagnene (filene i attachments/)", "their attachments (the files under attachments/)", n.Attachments},
		{"documents.json", "xAPI-dokumenter (State, Agent Profile; innhold i documents/)", "xAPI documents (State, Agent Profile; contents under documents/)", n.Documents},
		{"facts.json", "fullføringer utledet av utsagnene", "completions derived from the statements", n.Facts},
		{"status.json", "dine påkrevde kurs og status nå", "your required modules and their status now", n.StatusRows},
		{"access-log.json", "hvem som har sett dine opplysninger, og når", "who read your data, and when", n.AccessLog},
		{"reminders-sent.json", "påminnelser sendt deg på e-post (kurs, frist, tid, utfall)", "reminder e-mails sent to you (module, deadline, time, outcome)", n.Reminders},
	}
	fmt.Fprintf(&b, "| fil | innhold | antall |\n|---|---|---|\n")
	for _, f := range files {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", f.file, f.nb, f.n)
	}
	fmt.Fprintf(&b, "\nUtsagnene lagres slik læringsplattformen sendte dem. Påminnelsesrapporten beregnes fra statusen når den bes om, og lagres ikke; om påminnelser på e-post lagres når og om hva de ble sendt, ikke teksten.\n\n")
	fmt.Fprintf(&b, "## English\n\nThis archive holds everything the Learning Record Store keeps about employee %s of the organisation %q, "+
		"exported %s (GDPR articles 15 and 20), as machine-readable JSON.\n\n", p.ID, tenant, day)
	fmt.Fprintf(&b, "| file | content | count |\n|---|---|---|\n")
	for _, f := range files {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", f.file, f.en, f.n)
	}
	fmt.Fprintf(&b, "\nStatements are kept as the learning platform sent them. The reminders report is computed from the status when asked for and is not stored; of reminder e-mails, when and about what they were sent is kept, not their text. "+
		"transcript.json lists your completions with the evidence of each.\n\nIdentifiers: %s\n", strings.Join(p.AgentKeys, ", "))
	return b.String()
}

// mboxSHA1 returns the mbox_sha1sum of an mbox identifier key: the hex
// SHA-1 of its mailto IRI.
func mboxSHA1(mboxKey string) string {
	sum := sha1.Sum([]byte(strings.TrimPrefix(mboxKey, "mbox:")))
	return hex.EncodeToString(sum[:])
}
