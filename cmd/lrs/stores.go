package main

import (
	"context"
	"fmt"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// stores is an opened backend: every store interface the service needs.
type stores struct {
	Backend     string // "sqlite" or "mongodb"
	Statements  statements.Store
	Documents   documents.Store
	Activities  statements.ActivityStore
	Credentials auth.CredentialStore
	Tenants     auth.TenantStore
	Audit       auth.AuditLog
	// Reporting is the compliance reporting store; nil when the backend
	// has none (compliance reporting is then off).
	Reporting reporting.Store
	close     func() error
}

func (s *stores) Close() error { return s.close() }

// admin returns the administrative actions on these stores.
func (s *stores) admin() *auth.Admin {
	return &auth.Admin{Credentials: s.Credentials, Tenants: s.Tenants, Audit: s.Audit}
}

// openStores opens the backend db names: a mongodb:// or mongodb+srv:// URL
// selects MongoDB, anything else is the path of a SQLite database file.
func openStores(ctx context.Context, db string) (*stores, error) {
	if isMongoURL(db) {
		m, err := mongo.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("open MongoDB: %w", err)
		}
		st := &stores{Backend: "mongodb", Statements: m, Documents: m, Activities: m, Credentials: m,
			Tenants: m, Audit: m, close: m.Close}
		if rp, ok := any(m).(reporting.Store); ok { // as the MongoDB backend gains it
			st.Reporting = rp
		}
		return st, nil
	}
	s, err := sqlite.Open(db)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", db, err)
	}
	return &stores{Backend: "sqlite", Statements: s, Documents: s, Activities: s, Credentials: s,
		Tenants: s, Audit: s, Reporting: s, close: s.Close}, nil
}
