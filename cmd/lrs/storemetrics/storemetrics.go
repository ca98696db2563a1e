// Package storemetrics measures the storage backends: it wraps the store
// interfaces of the domain packages (ingest.Store, statements.Store,
// statements.ActivityStore, documents.Store, auth.CredentialStore,
// reporting.Store, packages.Store) so that
// every call is timed and every failure of the store itself is counted, by
// backend and operation, in Prometheus metrics registered on a registry the
// caller passes (never the global one):
//
//	lrs_storage_operation_duration_seconds{backend, operation}  histogram
//	lrs_storage_errors_total{backend, operation, kind}          counter
//
// Outcomes that are answers rather than failures (not found, a conflicting
// statement id, a failed If-Match) are not errors here; kind is "internal"
// or "unavailable" (errs.Kind), or "canceled" when the caller gave up.
//
// The wrappers embed the interface they wrap, so a method added to an
// interface later passes through unmeasured until it is added here; a
// wrapper never hides a method of the interface. The ingest path's write,
// statements with their projection and definitions, is "commit" (see
// ingest.Store); "insert" is the statements alone.
//
// It is part of the binary's wiring: newServer in cmd/lrs wraps the stores
// it opens with it (the service tests of package lrs wrap theirs the same
// way).
package storemetrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Metrics holds the storage metrics of one backend.
type Metrics struct {
	backend  string
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// Operations measured; their series exist from the start, so that rate()
// over them is defined before the first error.
var operations = []string{
	"insert", "get", "query", "attachments", "consistent_through", "ping",
	"merge_activities", "activity",
	"document", "put_document", "delete_document", "document_ids", "delete_documents",
	"create_credential", "credential", "credentials",
	"commit", "add_facts", "retract_facts",
	"put_package", "package_version", "open_package_file",
}

// New registers the storage metrics on reg, for the backend named (e.g.
// "sqlite" or "mongodb").
func New(reg prometheus.Registerer, backend string) *Metrics {
	m := &Metrics{
		backend: backend,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lrs_storage_operation_duration_seconds",
			Help:    "Duration of storage operations, by backend and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"backend", "operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_storage_errors_total",
			Help: "Storage operations that failed (the store's fault, not the request's), by backend, operation and error kind.",
		}, []string{"backend", "operation", "kind"}),
	}
	reg.MustRegister(m.duration, m.errors)
	for _, op := range operations {
		m.duration.WithLabelValues(backend, op)
		for _, k := range []string{errs.Internal.String(), errs.Unavailable.String()} {
			m.errors.WithLabelValues(backend, op, k)
		}
	}
	return m
}

// done records an operation that started at start and ended with err.
func (m *Metrics) done(ctx context.Context, op string, start time.Time, err error) {
	m.duration.WithLabelValues(m.backend, op).Observe(time.Since(start).Seconds())
	if err == nil {
		return
	}
	k := errs.KindOf(err)
	if k != errs.Internal && k != errs.Unavailable {
		return // an answer: not found, conflict, precondition failed, ...
	}
	kind := k.String()
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		kind = "canceled"
	}
	m.errors.WithLabelValues(m.backend, op, kind).Inc()
}

// Statements wraps s.
func (m *Metrics) Statements(s ingest.Store) ingest.Store { return stmtStore{s, m} }

// Activities wraps s.
func (m *Metrics) Activities(s statements.ActivityStore) statements.ActivityStore {
	return activityStore{s, m}
}

// Documents wraps s.
func (m *Metrics) Documents(s documents.Store) documents.Store { return docStore{s, m} }

// Credentials wraps s.
func (m *Metrics) Credentials(s auth.CredentialStore) auth.CredentialStore { return credStore{s, m} }

// Reporting wraps s, timing the writes of the ingest path (the reads of
// reports are long streams, measured by the service per request).
func (m *Metrics) Reporting(s reporting.Store) reporting.Store { return rpStore{s, m} }

// Packages wraps s, timing imports and the reads of content serving.
func (m *Metrics) Packages(s packages.Store) packages.Store { return pkgStore{s, m} }

type stmtStore struct {
	ingest.Store
	m *Metrics
}

func (s stmtStore) Commit(ctx context.Context, u *ingest.Unit) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "commit", t, err) }(time.Now())
	return s.Store.Commit(ctx, u)
}

func (s stmtStore) Insert(ctx context.Context, recs []*statements.Record, atts []statements.Attachment) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "insert", t, err) }(time.Now())
	return s.Store.Insert(ctx, recs, atts)
}

func (s stmtStore) Get(ctx context.Context, tenant, id string) (r *statements.Record, err error) {
	defer func(t time.Time) { s.m.done(ctx, "get", t, err) }(time.Now())
	return s.Store.Get(ctx, tenant, id)
}

func (s stmtStore) Query(ctx context.Context, q statements.Query) (p statements.Page, err error) {
	defer func(t time.Time) { s.m.done(ctx, "query", t, err) }(time.Now())
	return s.Store.Query(ctx, q)
}

func (s stmtStore) Attachments(ctx context.Context, tenant string, sha2s []string) (a []statements.Attachment, err error) {
	defer func(t time.Time) { s.m.done(ctx, "attachments", t, err) }(time.Now())
	return s.Store.Attachments(ctx, tenant, sha2s)
}

func (s stmtStore) ConsistentThrough(ctx context.Context) (t time.Time, err error) {
	defer func(start time.Time) { s.m.done(ctx, "consistent_through", start, err) }(time.Now())
	return s.Store.ConsistentThrough(ctx)
}

func (s stmtStore) Ping(ctx context.Context) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "ping", t, err) }(time.Now())
	return s.Store.Ping(ctx)
}

type activityStore struct {
	statements.ActivityStore
	m *Metrics
}

func (s activityStore) MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "merge_activities", t, err) }(time.Now())
	return s.ActivityStore.MergeActivities(ctx, tenant, defs)
}

func (s activityStore) Activity(ctx context.Context, tenant, id string) (a map[string]any, err error) {
	defer func(t time.Time) { s.m.done(ctx, "activity", t, err) }(time.Now())
	return s.ActivityStore.Activity(ctx, tenant, id)
}

type docStore struct {
	documents.Store
	m *Metrics
}

func (s docStore) Document(ctx context.Context, k documents.Key) (d *documents.Document, err error) {
	defer func(t time.Time) { s.m.done(ctx, "document", t, err) }(time.Now())
	return s.Store.Document(ctx, k)
}

func (s docStore) PutDocument(ctx context.Context, d *documents.Document, cond documents.Condition) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "put_document", t, err) }(time.Now())
	return s.Store.PutDocument(ctx, d, cond)
}

func (s docStore) DeleteDocument(ctx context.Context, k documents.Key, cond documents.Condition) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "delete_document", t, err) }(time.Now())
	return s.Store.DeleteDocument(ctx, k, cond)
}

func (s docStore) DocumentIDs(ctx context.Context, k documents.Key, since time.Time) (ids []string, err error) {
	defer func(t time.Time) { s.m.done(ctx, "document_ids", t, err) }(time.Now())
	return s.Store.DocumentIDs(ctx, k, since)
}

func (s docStore) DeleteDocuments(ctx context.Context, k documents.Key) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "delete_documents", t, err) }(time.Now())
	return s.Store.DeleteDocuments(ctx, k)
}

type credStore struct {
	auth.CredentialStore
	m *Metrics
}

func (s credStore) CreateCredential(ctx context.Context, c *auth.Credential) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "create_credential", t, err) }(time.Now())
	return s.CredentialStore.CreateCredential(ctx, c)
}

func (s credStore) Credential(ctx context.Context, key string) (c *auth.Credential, err error) {
	defer func(t time.Time) { s.m.done(ctx, "credential", t, err) }(time.Now())
	return s.CredentialStore.Credential(ctx, key)
}

func (s credStore) Credentials(ctx context.Context, tenant string) (cs []*auth.Credential, err error) {
	defer func(t time.Time) { s.m.done(ctx, "credentials", t, err) }(time.Now())
	return s.CredentialStore.Credentials(ctx, tenant)
}

type rpStore struct {
	reporting.Store
	m *Metrics
}

func (s rpStore) AddFacts(ctx context.Context, tenant string, facts []reporting.Fact) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "add_facts", t, err) }(time.Now())
	return s.Store.AddFacts(ctx, tenant, facts)
}

func (s rpStore) RetractFacts(ctx context.Context, tenant string, rs []reporting.Retraction) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "retract_facts", t, err) }(time.Now())
	return s.Store.RetractFacts(ctx, tenant, rs)
}

type pkgStore struct {
	packages.Store
	m *Metrics
}

func (s pkgStore) PutVersion(ctx context.Context, p *packages.Package, src packages.Source) (err error) {
	defer func(t time.Time) { s.m.done(ctx, "put_package", t, err) }(time.Now())
	return s.Store.PutVersion(ctx, p, src)
}

func (s pkgStore) Version(ctx context.Context, tenant, id string, version int) (p *packages.Package, err error) {
	defer func(t time.Time) { s.m.done(ctx, "package_version", t, err) }(time.Now())
	return s.Store.Version(ctx, tenant, id, version)
}

func (s pkgStore) OpenFile(ctx context.Context, p *packages.Package, path string) (f packages.File, err error) {
	defer func(t time.Time) { s.m.done(ctx, "open_package_file", t, err) }(time.Now())
	return s.Store.OpenFile(ctx, p, path)
}
