package lmsimport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// DefaultMaxRows bounds the rows of one file: a few years of a large
// municipality's modules, stored in well under the request timeout.
const DefaultMaxRows = 100_000

// Source is where an import reads the roster and the catalog
// (reporting.Store has both).
type Source interface {
	Catalog(ctx context.Context, tenant string) (*reporting.Catalog, error)
	RosterRows(ctx context.Context, tenant string, f reporting.RosterFilter) ([]reporting.RosterRow, error)
}

// Config is what a Service reads and writes.
type Config struct {
	Ingest     *ingest.Service           // stores the statements
	Statements reporting.StatementGetter // looks up the statements stored already
	Source     Source
	// Batch is the most statements given to the ingest service at once
	// (its MaxBatch); 0: 1000.
	Batch   int
	MaxRows int              // 0: DefaultMaxRows
	Now     func() time.Time // nil: time.Now
}

// Service is the import use case: read, resolve, plan, look up, store.
type Service struct {
	cfg Config
}

// NewService returns a Service for cfg.
func NewService(cfg Config) *Service {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

// Request is one import.
type Request struct {
	Writer  ingest.Writer // who imports: the statements' authority, and the tenant
	Data    []byte        // the file, CSV or XLSX
	Sheet   string        // the XLSX sheet; "": the first
	Options Options       // Now is set by the service
	DryRun  bool          // plan and look up, store nothing
}

// Result is what an import recorded, or with DryRun would record.
type Result struct {
	Rows            int    `json:"rows"`            // data rows of the file
	Recorded        int    `json:"recorded"`        // statements stored by this import
	AlreadyRecorded int    `json:"alreadyRecorded"` // completions stored before (by any import)
	Skipped         []Skip `json:"skipped"`
	// Statements are the ids of the file's completions, recorded now or
	// before, in row order.
	Statements []string   `json:"statements"`
	DryRun     bool       `json:"dryRun"`
	SHA256     string     `json:"sha256"` // of the file
	Format     string     `json:"format"` // csv or xlsx
	ScoreScale ScoreScale `json:"scoreScale,omitempty"`
}

// Import reads the file of req, plans its statements and stores the ones
// not stored yet (all of them or none, batch by batch), unless
// req.DryRun. A file that cannot be read is an errs.Invalid error (or
// errs.TooLarge, for too many rows).
func (s *Service) Import(ctx context.Context, req Request) (*Result, error) {
	sum := sha256.Sum256(req.Data)
	res := &Result{SHA256: hex.EncodeToString(sum[:]), DryRun: req.DryRun, Statements: []string{}}
	t, err := ReadTable(req.Data, req.Sheet, s.cfg.MaxRows)
	if err != nil {
		return nil, err
	}
	res.Format = t.Format
	now := s.cfg.Now()
	opts := req.Options
	opts.Now, opts.MaxRows = now, s.cfg.MaxRows
	if opts.Location == nil {
		opts.Location = DefaultLocation
	}
	parsed, err := Parse(t, opts)
	if err != nil {
		return nil, err
	}
	res.ScoreScale = parsed.ScoreScale

	tenant := req.Writer.Tenant
	cat, err := s.cfg.Source.Catalog(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rows, err := s.cfg.Source.RosterRows(ctx, tenant, reporting.RosterFilter{})
	if err != nil {
		return nil, err
	}
	dir := NewDirectory(rows, cat, reporting.DateOf(now, opts.Location))
	plan := Build(parsed, dir, Provenance{Tenant: tenant, Credential: req.Writer.Key, FileSHA256: res.SHA256})
	res.Rows, res.Skipped = plan.Rows, plan.Skipped
	for _, st := range plan.Statements {
		res.Statements = append(res.Statements, st.ID)
	}

	fresh, err := s.unstored(ctx, tenant, plan.Statements)
	if err != nil {
		return nil, err
	}
	res.AlreadyRecorded = len(plan.Statements) - len(fresh)
	res.Recorded = len(fresh)
	if req.DryRun {
		return res, nil
	}
	for len(fresh) > 0 {
		batch := fresh[:min(len(fresh), s.cfg.Batch)]
		fresh = fresh[len(batch):]
		stored, err := s.store(ctx, req.Writer, batch)
		if err != nil {
			return nil, err
		}
		res.AlreadyRecorded += len(batch) - stored
		res.Recorded -= len(batch) - stored
	}
	return res, nil
}

// unstored returns the statements of list whose ids are not stored.
func (s *Service) unstored(ctx context.Context, tenant string, list []Planned) ([]Planned, error) {
	var out []Planned
	for _, st := range list {
		_, err := s.cfg.Statements.Get(ctx, tenant, st.ID)
		switch {
		case errs.Is(err, errs.NotFound):
			out = append(out, st)
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// store posts a batch of statements not stored a moment ago and returns
// how many it stored. Another import may have stored some since, with
// other provenance (a conflict): those are left out and the rest posted
// again.
func (s *Service) store(ctx context.Context, w ingest.Writer, batch []Planned) (int, error) {
	for try := 0; ; try++ {
		var body bytes.Buffer
		body.WriteByte('[')
		for i, st := range batch {
			if i > 0 {
				body.WriteByte(',')
			}
			body.Write(st.JSON)
		}
		body.WriteByte(']')
		_, err := s.cfg.Ingest.Post(ctx, ingest.Request{Writer: w, Version: statements.V103, Body: body.Bytes()})
		switch {
		case err == nil:
			return len(batch), nil
		case !errs.Is(err, errs.Conflict) || try > 0:
			return 0, err
		}
		if batch, err = s.unstored(ctx, w.Tenant, batch); err != nil || len(batch) == 0 {
			return 0, err
		}
	}
}
