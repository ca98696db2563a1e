package lmsimport

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/statements"
)

// IRIs of the import's statements.
const (
	// ExtensionIRI is the context extension naming where a statement was
	// imported from: {"fileSha256", "row", "credential", "cells"}.
	ExtensionIRI = "https://w3id.org/xapi/lrs/extensions/import"
	// CategoryIRI is the context category of every imported completion:
	// GET /xapi/statements?activity=CategoryIRI&related_activities=true
	// lists them.
	CategoryIRI = "https://w3id.org/xapi/lrs/activities/completions-import"
)

// Namespace is the UUID v5 namespace of the statement ids (see the
// package doc): the name-based UUID of CategoryIRI in the URL namespace.
var Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(CategoryIRI))

// StatementID returns the id of the statement recording that person
// (a person key) had the outcome verb on module (its id) on day
// (YYYY-MM-DD) in tenant.
func StatementID(tenant, person, module, day string, verb Verb) string {
	return uuid.NewSHA1(Namespace, []byte(strings.Join([]string{tenant, person, module, day, verb.String()}, "\n"))).String()
}

// Provenance is who imports which file.
type Provenance struct {
	Tenant     string
	Credential string // the importing credential's key
	FileSHA256 string // lowercase hex
}

// Planned is a statement a row records.
type Planned struct {
	Row  int
	ID   string
	JSON []byte // the statement, as sent to the ingest service
}

// Skip is a row left out, and why.
type Skip struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// Plan is what a file records: a statement for each row that can be
// recorded, and the rows skipped.
type Plan struct {
	Rows       int
	Statements []Planned
	Skipped    []Skip
}

// Build plans the statements of the rows of p, resolved through d. A row
// repeating an earlier row's completion (the same id) is skipped.
func Build(p *Parsed, d *Directory, prov Provenance) *Plan {
	plan := &Plan{Rows: p.Rows, Statements: []Planned{}, Skipped: []Skip{}}
	first := map[string]int{} // statement id -> the row recording it
	for i := range p.Lines {
		l := &p.Lines[i]
		st, reason := build(l, d, prov)
		if reason == "" {
			if row, ok := first[st.ID]; ok {
				reason = fmt.Sprintf("the same completion as row %d", row)
			}
		}
		if reason != "" {
			plan.Skipped = append(plan.Skipped, Skip{Row: l.Row, Reason: reason})
			continue
		}
		first[st.ID] = l.Row
		plan.Statements = append(plan.Statements, st)
	}
	return plan
}

// build makes the statement of one row, or says why it cannot.
func build(l *Line, d *Directory, prov Provenance) (Planned, string) {
	if l.Skip != "" {
		return Planned{}, l.Skip
	}
	key, reason := d.Person(l.People)
	if reason != "" {
		return Planned{}, reason
	}
	m, reason := d.Module(l.Module)
	if reason != "" {
		return Planned{}, reason
	}
	if len(m.Activities) == 0 {
		return Planned{}, "module " + m.ID + " has no activity IRI"
	}
	agent, reason := d.Agent(key, l.Day)
	if reason != "" {
		return Planned{}, reason
	}
	id := StatementID(prov.Tenant, key, m.ID, l.Day.String(), l.Verb)
	st := statement{
		ID:     id,
		Actor:  agent,
		Verb:   verb{ID: "http://adlnet.gov/expapi/verbs/" + l.Verb.String(), Display: map[string]string{"en-US": l.Verb.String()}},
		Object: object{ObjectType: "Activity", ID: m.Activities[0]},
		Context: stmtContext{
			ContextActivities: contextActivities{Category: []object{{ObjectType: "Activity", ID: CategoryIRI}}},
			Extensions: map[string]provenance{ExtensionIRI: {
				FileSHA256: prov.FileSHA256, Row: l.Row, Credential: prov.Credential, Cells: l.Cells}},
		},
		Timestamp: l.Time.UTC().Format(ingest.StoredLayout),
	}
	yes, no := true, false
	switch l.Verb {
	case Completed:
		st.Result.Completion = &yes
	case Passed:
		st.Result.Completion, st.Result.Success = &yes, &yes
	case Failed:
		st.Result.Success = &no
	}
	if sc := l.Score; sc != nil {
		st.Result.Score = &score{Scaled: sc.Scaled}
		if sc.Percent {
			lo, hi := 0.0, 100.0
			st.Result.Score.Raw, st.Result.Score.Min, st.Result.Score.Max = &sc.Value, &lo, &hi
		}
	}
	data, err := json.Marshal(st)
	if err == nil {
		_, err = statements.ParseStatement(data, statements.V103)
	}
	if err != nil {
		return Planned{}, "the row makes no valid statement: " + err.Error()
	}
	return Planned{Row: l.Row, ID: id, JSON: data}, ""
}

// The statement's JSON: structs and maps, whose encoding is the same on
// every run.
type (
	statement struct {
		ID        string         `json:"id"`
		Actor     map[string]any `json:"actor"`
		Verb      verb           `json:"verb"`
		Object    object         `json:"object"`
		Result    result         `json:"result"`
		Context   stmtContext    `json:"context"`
		Timestamp string         `json:"timestamp"`
	}
	verb struct {
		ID      string            `json:"id"`
		Display map[string]string `json:"display"`
	}
	object struct {
		ObjectType string `json:"objectType"`
		ID         string `json:"id"`
	}
	result struct {
		Score      *score `json:"score,omitempty"`
		Success    *bool  `json:"success,omitempty"`
		Completion *bool  `json:"completion,omitempty"`
	}
	score struct {
		Scaled float64  `json:"scaled"`
		Raw    *float64 `json:"raw,omitempty"`
		Min    *float64 `json:"min,omitempty"`
		Max    *float64 `json:"max,omitempty"`
	}
	stmtContext struct {
		ContextActivities contextActivities     `json:"contextActivities"`
		Extensions        map[string]provenance `json:"extensions"`
	}
	contextActivities struct {
		Category []object `json:"category"`
	}
	provenance struct {
		FileSHA256 string            `json:"fileSha256"`
		Row        int               `json:"row"`
		Credential string            `json:"credential"`
		Cells      map[string]string `json:"cells"`
	}
)
