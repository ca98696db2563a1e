package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// StoredLayout is the format of "stored" and of the timestamps the LRS
// sets: RFC 3339, millisecond precision, UTC.
const StoredLayout = "2006-01-02T15:04:05.000Z"

// Config is what a Service writes to and how.
type Config struct {
	// Store commits the units.
	Store Store
	// Facts, when set, keeps the completion projection: units carry the
	// statements' facts, and Facts writes them when committing them with
	// the statements failed (the statements are then committed alone).
	// nil: reporting off, units carry no facts.
	Facts reporting.FactWriter
	// MaxBatch is the most statements one Post takes; 0: no limit.
	MaxBatch int
	Logger   *slog.Logger     // nil: slog.Default()
	Now      func() time.Time // nil: time.Now
	// ProjectionFailed, when set, is called for each failed projection of
	// statements stored without it (a rebuild repairs it).
	ProjectionFailed func()
}

// Service is the ingest use case (see the package doc).
type Service struct {
	cfg Config
	// small and large bound the requests parsing, validating and
	// deriving at once, those of bodies under largeBody and the others,
	// each to one fewer than the processors (at least one): the store's
	// writer (one goroutine on SQLite) then finds a processor free when
	// its sync returns, instead of queueing behind requests that each run
	// for up to the scheduler's 10 ms time slice. On two cores this raised
	// single-statement POSTs at 16 clients by a fifth to a third (see
	// BENCHMARKS.md). Small requests (a browser's statement) never wait
	// behind a large one (a back end's batch, or a statement naming
	// thousands of group members).
	small, large chan struct{}
}

// largeBody is the size from which a request's body is large (see
// Service.small).
const largeBody = 64 << 10

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n := max(1, runtime.GOMAXPROCS(0)-1)
	return &Service{cfg: cfg, small: make(chan struct{}, n), large: make(chan struct{}, n)}
}

// slot is a request's hold on Service.small or large.
type slot struct {
	pool chan struct{}
	held bool
}

// acquire waits for a place among the requests of req's size working on
// the CPU.
func (s *Service) acquire(ctx context.Context, req Request) (*slot, error) {
	pool := s.small
	if len(req.Body) >= largeBody {
		pool = s.large
	}
	select {
	case pool <- struct{}{}:
		return &slot{pool: pool, held: true}, nil
	case <-ctx.Done():
		return nil, errs.Wrap(ctx.Err(), "waiting to parse statements")
	}
}

// release gives the place back (once; later calls do nothing).
func (sl *slot) release() {
	if sl.held {
		sl.held = false
		<-sl.pool
	}
}

// Writer is who writes the statements: the credential and the Agent the
// LRS puts as their authority (xAPI Data 2.4.9: the LRS overwrites the
// authority with the Agent of the credential), identified by an account
// whose homePage is the LRS and whose name is the credential key.
type Writer struct {
	Tenant string
	Key    string // the credential key: the authority's account name
	Name   string // the credential's name, if any: the authority's name
	Home   string // the LRS's public URL: the authority's account homePage
}

// Request is one write of statements as the client sent it.
type Request struct {
	Writer  Writer
	Version statements.Version // the request's xAPI version
	// Body is the statement JSON: one statement, or for Post an array.
	Body []byte
	// Attachments are the raw data the request carried (multipart/mixed).
	Attachments []statements.Attachment
	// Restrict, when set, is called with the validated statements before
	// anything is stored; its error refuses the request (e.g. a learner's
	// launch session writing as another learner).
	Restrict func(stmts []map[string]any) error
}

// Post stores the one statement or the array of statements of req.Body,
// all or none, and returns their ids in order.
func (s *Service) Post(ctx context.Context, req Request) ([]string, error) {
	sl, err := s.acquire(ctx, req)
	if err != nil {
		return nil, err
	}
	defer sl.release()
	stmts, err := statements.ParseStatements(req.Body, req.Version)
	if err != nil {
		return nil, err
	}
	if s.cfg.MaxBatch > 0 && len(stmts) > s.cfg.MaxBatch {
		return nil, errs.E(errs.TooLarge, "a batch may hold at most %d statements; this one has %d", s.cfg.MaxBatch, len(stmts))
	}
	return s.store(ctx, sl, req, stmts)
}

// Put stores the one statement of req.Body under id: the same statement
// stored again is a no-op, a different one with the same id a Conflict.
func (s *Service) Put(ctx context.Context, id string, req Request) error {
	if t := bytes.TrimLeft(req.Body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return errs.Invalidf("", "put-single", "PUT /statements takes one statement object, not an array; POST a batch instead")
	}
	sl, err := s.acquire(ctx, req)
	if err != nil {
		return err
	}
	defer sl.release()
	st, err := statements.ParseStatement(req.Body, req.Version)
	if err != nil {
		return err
	}
	if got, ok := st["id"]; ok {
		if gs, _ := got.(string); !strings.EqualFold(gs, id) {
			return errs.Invalidf("id", "put-id-match", "the statement id %v differs from the statementId parameter %s", got, id)
		}
	}
	st["id"] = id
	_, err = s.store(ctx, sl, req, []map[string]any{st})
	return err
}

// store checks, completes and derives the validated statements stmts of
// req into a unit, and commits it, releasing sl once the unit is made.
func (s *Service) store(ctx context.Context, sl *slot, req Request, stmts []map[string]any) ([]string, error) {
	if req.Restrict != nil {
		if err := req.Restrict(stmts); err != nil {
			return nil, err
		}
	}
	if err := statements.CheckAttachments(stmts, req.Attachments); err != nil {
		return nil, err
	}
	if err := verifySignatures(stmts, req.Attachments); err != nil {
		return nil, err
	}
	u, err := s.complete(req, stmts)
	if err != nil {
		return nil, err
	}
	if err := s.commit(ctx, sl, u, stmts); err != nil {
		return nil, err
	}
	ids := make([]string, len(u.Records))
	for i, rec := range u.Records {
		ids[i] = rec.ID
	}
	return ids, nil
}

// complete completes the statements as the LRS must (id, stored,
// timestamp, authority, version) and indexes them into the records of a
// unit, with the activity definitions they carry.
func (s *Service) complete(req Request, stmts []map[string]any) (*Unit, error) {
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	stored := now.Format(StoredLayout)
	authority := req.Writer.authority()
	version := statementVersion(req.Version)

	u := &Unit{Tenant: req.Writer.Tenant, Records: make([]*statements.Record, len(stmts)), Attachments: req.Attachments}
	entries := 0 // index entries of the records
	var buf []byte
	for i, stmt := range stmts {
		hash := statements.ContentHash(stmt) // of the statement as the client sent it
		id, _ := stmt["id"].(string)
		if id == "" {
			id = uuid.NewString()
		} else {
			id = strings.ToLower(id)
		}
		stmt["id"] = id
		stmt["stored"] = stored
		if t, ok := stmt["timestamp"]; !ok || t == nil {
			stmt["timestamp"] = stored
		}
		stmt["authority"] = authority
		statements.Normalize(stmt)
		if v, ok := stmt["version"]; !ok || v == nil {
			stmt["version"] = version
		}

		var err error
		if buf, err = statements.AppendJSON(buf[:0], stmt); err != nil {
			return nil, errs.Wrap(err, "encoding a validated statement")
		}
		rec := &statements.Record{
			Tenant:    req.Writer.Tenant,
			ID:        id,
			Stored:    now,
			Authority: req.Writer.Key,
			Hash:      hash,
			JSON:      bytes.Clone(buf),
		}
		statements.Index(stmt, rec)
		if rec.Timestamp.IsZero() {
			rec.Timestamp = now
		}
		rec.AttachmentHashes = heldAttachments(stmt, req.Attachments)
		u.Records[i] = rec
		entries += rec.IndexEntries()
	}
	if entries > statements.MaxIndexEntries {
		return nil, &errs.Error{Kind: errs.TooLarge, Rule: "index-entries",
			Message: fmt.Sprintf("the statements of this request name %d people and activities in all; this LRS accepts at most %d in one request (send fewer statements per request)",
				entries, statements.MaxIndexEntries)}
	}
	u.Definitions = definitions(stmts)
	return u, nil
}

// commit writes u: the statements and, with reporting on, their
// projection into completion facts (voiding statements retract their
// targets' facts) and the activity definitions in one Commit. The
// projection is derived data: when the Commit fails for the projection's
// sake, the statements are committed alone all the same and projected
// again, and a failure of that is logged (and counted), not reported to
// the client, whose retry would not bring it again; a rebuild repairs it.
func (s *Service) commit(ctx context.Context, sl *slot, u *Unit, stmts []map[string]any) error {
	if s.cfg.Facts == nil {
		sl.release()
		return s.cfg.Store.Commit(ctx, u)
	}
	var err error
	u.Facts, u.Retractions, err = reporting.Projection(u.Records, stmts)
	sl.release()
	if err == nil {
		err = s.cfg.Store.Commit(ctx, u)
		if err == nil || errs.KindOf(err) != errs.Internal || ctx.Err() != nil {
			return err // stored, or the statements' own error (a conflict, a timeout)
		}
	}
	// Maybe the projection failed: store the statements without it.
	s.cfg.Logger.Warn("storing statements with their projection failed; storing them alone", "tenant", u.Tenant, "err", err)
	alone := *u
	alone.Facts, alone.Retractions = nil, nil
	if err := s.cfg.Store.Commit(ctx, &alone); err != nil {
		return err
	}
	s.project(ctx, u, stmts)
	return nil
}

// project projects statements just stored alone into completion facts. It
// runs to the end even when the client has gone: its statements are
// stored.
func (s *Service) project(ctx context.Context, u *Unit, stmts []map[string]any) {
	ctx = context.WithoutCancel(ctx)
	if err := reporting.Ingest(ctx, s.cfg.Facts, u.Tenant, u.Records, stmts); err != nil {
		if s.cfg.ProjectionFailed != nil {
			s.cfg.ProjectionFailed()
		}
		s.cfg.Logger.Error("projecting statements into compliance facts; run a projection rebuild",
			"tenant", u.Tenant, "statements", len(u.Records), "err", err)
	}
}

// authority is the Agent the LRS puts as authority on w's statements.
func (w Writer) authority() map[string]any {
	a := map[string]any{
		"objectType": "Agent",
		"account":    map[string]any{"homePage": w.Home, "name": w.Key},
	}
	if w.Name != "" {
		a["name"] = w.Name
	}
	return a
}

// statementVersion is the "version" property the LRS sets on a statement
// that has none: 1.0.0 for 1.0.x clients (xAPI 1.0.3 Data 2.4.10), 2.0.0
// for 2.0 clients.
func statementVersion(v statements.Version) string {
	if v == statements.V103 {
		return "1.0.0"
	}
	return "2.0.0"
}

// verifySignatures checks the JWS of every signed statement (xAPI Data 2.6)
// against the statement as the client sent it. CheckAttachments has made
// sure that each signature came as a part.
func verifySignatures(stmts []map[string]any, atts []statements.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	for i, stmt := range stmts {
		list, _ := stmt["attachments"].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			if m["usageType"] != statements.SignatureUsageType {
				continue
			}
			sha, _ := m["sha2"].(string)
			for _, att := range atts {
				if !strings.EqualFold(att.SHA2, sha) {
					continue
				}
				if err := statements.VerifySignature(stmt, att.Data); err != nil {
					var e *errs.Error
					if len(stmts) > 1 && errors.As(err, &e) {
						ce := *e
						ce.Path = fmt.Sprintf("[%d].%s", i, e.Path)
						return &ce
					}
					return err
				}
				break
			}
		}
	}
	return nil
}

// heldAttachments returns the sha2 of the attachments of the statement (and
// of its SubStatement) whose raw data came with the request.
func heldAttachments(stmt map[string]any, atts []statements.Attachment) []string {
	if len(atts) == 0 {
		return nil
	}
	held := make(map[string]bool, len(atts))
	for _, att := range atts {
		held[strings.ToLower(att.SHA2)] = true
	}
	var out []string
	add := func(st map[string]any) {
		list, _ := st["attachments"].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			sha, _ := m["sha2"].(string)
			sha = strings.ToLower(sha)
			if held[sha] {
				held[sha] = false // listed once
				out = append(out, sha)
			}
		}
	}
	add(stmt)
	if obj, ok := stmt["object"].(map[string]any); ok && obj["objectType"] == "SubStatement" {
		add(obj)
	}
	return out
}
