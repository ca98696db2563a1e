package scorm

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/statements"
)

// StateID is the reserved stateId of an attempt's runtime state: an xAPI
// State document of the SCO (activityId), the learner (agent) and the
// attempt (registration), which the State resource shows like any other.
const StateID = "https://w3id.org/xapi/scorm/lrs/runtime-state"

// Service is the commit use case: it maps each commit of an attempt
// against the attempt's state and stores the statements and the new state.
type Service struct {
	docs   documents.Store
	ingest *ingest.Service
	now    func() time.Time
}

// NewService returns a Service keeping attempt states in docs and storing
// statements through in; now is the clock (nil: time.Now).
func NewService(docs documents.Store, in *ingest.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{docs: docs, ingest: in, now: now}
}

// Request is one commit of an attempt.
type Request struct {
	Writer  ingest.Writer // who writes: the statements' authority, and the tenant
	Context Context       // Time is set by the service
	Body    []byte        // the commit, as ParseCommit takes it
	// Terminate marks the commit of LMSFinish/Terminate even when the body
	// does not (scorm-again's terminateCommitParam).
	Terminate bool
}

// Result is what a commit stored.
type Result struct {
	Statements []string // ids of the statements it added, in order
	State      *State   // the attempt's state after it
}

// stored is the State document's content: the state, and the statements
// of its last commit until they are known to be stored (Pending).
type stored struct {
	State   *State            `json:"state"`
	Pending []json.RawMessage `json:"pending,omitempty"`
}

// maxRounds bounds the retries of a commit that other commits of the same
// attempt keep overtaking.
const maxRounds = 8

// Commit maps the commit of req against the attempt's state and stores the
// statements and the new state, so that each statement is stored exactly
// once whatever fails or runs at the same time:
//
//  1. read the state (and its ETag); if it holds pending statements, a
//     commit stored its state but maybe not its statements: store them
//     (their ids and content are fixed, so storing them again is a no-op);
//  2. map the commit against the state (Map);
//  3. write the new state with the new statements as pending, if the state
//     is still the one read (If-Match): when another commit came first,
//     start again from 1;
//  4. store the statements (ingest), then clear pending (If-Match; when
//     that fails, the next commit stores them again, harmlessly).
//
// A commit that changes nothing (the same commit posted again) stores
// nothing.
func (s *Service) Commit(ctx context.Context, req Request) (*Result, error) {
	c, err := ParseCommit(req.Body)
	if err != nil {
		return nil, err
	}
	c.Terminate = c.Terminate || req.Terminate
	x := req.Context
	if err := x.check(); err != nil {
		return nil, err
	}
	key := StateKey(req.Writer.Tenant, x)
	for range maxRounds {
		cur, st, err := s.read(ctx, key)
		if err != nil {
			return nil, err
		}
		if len(st.Pending) > 0 {
			if _, err := s.store(ctx, req.Writer, st.Pending); err != nil {
				return nil, err
			}
		}
		x.Time = s.now()
		next, stmts, err := Map(st.State, c, x)
		if err != nil {
			return nil, err
		}
		if len(stmts) == 0 && st.State != nil && sameJSON(next, st.State) {
			if len(st.Pending) > 0 {
				s.clearPending(ctx, key, cur, next)
			}
			return &Result{Statements: []string{}, State: next}, nil
		}
		pending := make([]json.RawMessage, len(stmts))
		for i, stmt := range stmts {
			if pending[i], err = json.Marshal(stmt); err != nil {
				return nil, errs.Wrap(err, "encoding a SCORM statement")
			}
		}
		doc, err := s.write(ctx, key, cur, stored{State: next, Pending: pending})
		if errs.Is(err, errs.PreconditionFailed) {
			continue // another commit of the attempt came first
		}
		if err != nil {
			return nil, err
		}
		ids, err := s.store(ctx, req.Writer, pending)
		if err != nil {
			return nil, err
		}
		if len(pending) > 0 {
			s.clearPending(ctx, key, doc, next)
		}
		return &Result{Statements: ids, State: next}, nil
	}
	return nil, errs.E(errs.Conflict, "other commits of this attempt kept arriving at the same time; send the commit again")
}

// clearPending rewrites the State document cur, whose pending statements
// are stored, without them. When that fails (another commit wrote the
// state, or the store is down), the next commit stores them again, which
// changes nothing: the commit has succeeded either way.
func (s *Service) clearPending(ctx context.Context, key documents.Key, cur *documents.Document, st *State) {
	_, _ = s.write(ctx, key, cur, stored{State: st})
}

// StateKey is the key of the State document of the attempt of x.
func StateKey(tenant string, x Context) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.State, ActivityID: x.SCO,
		Agent: statements.AgentKey(x.Learner), Registration: strings.ToLower(x.Registration), ID: StateID}
}

// State returns the state of the attempt of x (nil when it has had no
// commit), e.g. to Resume it.
func (s *Service) State(ctx context.Context, tenant string, x Context) (*State, error) {
	_, st, err := s.read(ctx, StateKey(tenant, x))
	return st.State, err
}

// read returns the attempt's State document (nil: none yet) and its
// content.
func (s *Service) read(ctx context.Context, key documents.Key) (*documents.Document, stored, error) {
	doc, err := s.docs.Document(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil, stored{}, nil
	}
	if err != nil {
		return nil, stored{}, err
	}
	var st stored
	dec := json.NewDecoder(bytes.NewReader(doc.Content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil || st.State == nil {
		return nil, stored{}, errs.E(errs.Conflict,
			"the attempt's runtime state (the State document %q of this activityId, agent and registration) was not written by this service; delete it to start the attempt afresh", StateID)
	}
	return doc, st, nil
}

// write replaces the State document cur (nil: none yet) by content, if it
// is still cur.
func (s *Service) write(ctx context.Context, key documents.Key, cur *documents.Document, content stored) (*documents.Document, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return nil, errs.Wrap(err, "encoding a SCORM attempt state")
	}
	cond := documents.Condition{IfNoneMatch: []string{"*"}}
	if cur != nil {
		cond = documents.Condition{IfMatch: []string{cur.ETag}}
	}
	doc := documents.NewDocument(key, "application/json", b, s.now())
	return doc, s.docs.PutDocument(ctx, doc, cond)
}

// store stores statements through the ingest service, as xAPI 1.0.3
// statements (those of the SCORM profile).
func (s *Service) store(ctx context.Context, w ingest.Writer, stmts []json.RawMessage) ([]string, error) {
	if len(stmts) == 0 {
		return []string{}, nil
	}
	body, err := json.Marshal(stmts)
	if err != nil {
		return nil, errs.Wrap(err, "encoding SCORM statements")
	}
	return s.ingest.Post(ctx, ingest.Request{Writer: w, Version: statements.V103, Body: body})
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
