package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/errs"
)

// The accounts and sessions of the pages for people (accounts.Store): one
// document each, keyed by the account name and by the session id (the
// SHA-256 of the secret its browser holds), so that both are unique.
const (
	collAccounts = "accounts"
	collSessions = "sessions"
)

type accountDoc struct {
	Name         string   `bson:"_id"`
	Tenant       string   `bson:"t"`
	Person       string   `bson:"p"`
	PasswordHash string   `bson:"ph"`
	Grants       []string `bson:"g"`
	Disabled     bool     `bson:"x"`
	Created      int64    `bson:"c"` // Unix nanoseconds
}

func grantStrings(rs []accounts.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func (a *accountDoc) account() *accounts.Account {
	out := &accounts.Account{Name: a.Name, Tenant: a.Tenant, Person: a.Person, PasswordHash: a.PasswordHash,
		Disabled: a.Disabled, Created: time.Unix(0, a.Created).UTC()}
	for _, g := range a.Grants {
		out.Grants = append(out.Grants, accounts.Role(g))
	}
	return out
}

// CreateAccount stores a; an existing name is an errs.Conflict error.
func (db *DB) CreateAccount(ctx context.Context, a *accounts.Account) error {
	_, err := db.db.Collection(collAccounts).InsertOne(ctx, accountDoc{Name: a.Name, Tenant: a.Tenant, Person: a.Person,
		PasswordHash: a.PasswordHash, Grants: grantStrings(a.Grants), Disabled: a.Disabled, Created: a.Created.UnixNano()})
	if mdb.IsDuplicateKeyError(err) {
		return errs.E(errs.Conflict, "an account named %q exists", a.Name)
	}
	return wrap(err, "mongo: storing an account")
}

// Account returns the account with the name, or an errs.NotFound error.
func (db *DB) Account(ctx context.Context, name string) (*accounts.Account, error) {
	var doc accountDoc
	err := db.db.Collection(collAccounts).FindOne(ctx, d("_id", name)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no account named %q", name)
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading an account")
	}
	return doc.account(), nil
}

// Accounts lists the accounts of a tenant ("" = all tenants), by name.
func (db *DB) Accounts(ctx context.Context, tenant string) ([]*accounts.Account, error) {
	filter := bson.D{}
	if tenant != "" {
		filter = d("t", tenant)
	}
	cur, err := db.db.Collection(collAccounts).Find(ctx, filter, options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: listing accounts")
	}
	var docs []accountDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: listing accounts")
	}
	out := make([]*accounts.Account, len(docs))
	for i := range docs {
		out[i] = docs[i].account()
	}
	return out, nil
}

// UpdateAccount replaces the account named a.Name (all but Name, Tenant and
// Created), or returns an errs.NotFound error.
func (db *DB) UpdateAccount(ctx context.Context, a *accounts.Account) error {
	res, err := db.db.Collection(collAccounts).UpdateOne(ctx, d("_id", a.Name), d("$set", bson.D{
		{Key: "p", Value: a.Person}, {Key: "ph", Value: a.PasswordHash}, {Key: "g", Value: grantStrings(a.Grants)},
		{Key: "x", Value: a.Disabled},
	}))
	if err != nil {
		return wrap(err, "mongo: updating an account")
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.NotFound, "no account named %q", a.Name)
	}
	return nil
}

type sessionDoc struct {
	ID       string `bson:"_id"`
	Tenant   string `bson:"t"`
	Account  string `bson:"a"`
	Person   string `bson:"p"`
	Method   string `bson:"m"`
	Label    string `bson:"l"`
	CSRF     string `bson:"csrf"`
	Created  int64  `bson:"c"` // Unix nanoseconds
	LastSeen int64  `bson:"s"`
	Expires  int64  `bson:"e"`
}

// CreateSession stores s; an existing id is an errs.Conflict error.
func (db *DB) CreateSession(ctx context.Context, s *accounts.Session) error {
	_, err := db.db.Collection(collSessions).InsertOne(ctx, sessionDoc{ID: s.ID, Tenant: s.Tenant, Account: s.Account,
		Person: s.Person, Method: s.Method, Label: s.Label, CSRF: s.CSRF, Created: s.Created.UnixNano(),
		LastSeen: s.LastSeen.UnixNano(), Expires: s.Expires.UnixNano()})
	if mdb.IsDuplicateKeyError(err) {
		return errs.E(errs.Conflict, "a session with this id exists")
	}
	return wrap(err, "mongo: storing a session")
}

// Session returns the session with the id, or an errs.NotFound error.
func (db *DB) Session(ctx context.Context, id string) (*accounts.Session, error) {
	var doc sessionDoc
	err := db.db.Collection(collSessions).FindOne(ctx, d("_id", id)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no such session")
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading a session")
	}
	return &accounts.Session{ID: doc.ID, Tenant: doc.Tenant, Account: doc.Account, Person: doc.Person, Method: doc.Method,
		Label: doc.Label, CSRF: doc.CSRF, Created: time.Unix(0, doc.Created).UTC(), LastSeen: time.Unix(0, doc.LastSeen).UTC(),
		Expires: time.Unix(0, doc.Expires).UTC()}, nil
}

// TouchSession sets the LastSeen of a session, or returns an errs.NotFound
// error.
func (db *DB) TouchSession(ctx context.Context, id string, seen time.Time) error {
	res, err := db.db.Collection(collSessions).UpdateOne(ctx, d("_id", id), d("$set", d("s", seen.UnixNano())))
	if err != nil {
		return wrap(err, "mongo: updating a session")
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.NotFound, "no such session")
	}
	return nil
}

// deleteSessions deletes the sessions filter selects and returns how many.
func (db *DB) deleteSessions(ctx context.Context, filter bson.D) (int, error) {
	res, err := db.db.Collection(collSessions).DeleteMany(ctx, filter)
	if err != nil {
		return 0, wrap(err, "mongo: deleting sessions")
	}
	return int(res.DeletedCount), nil
}

// DeleteSession deletes a session; a missing one is no error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.deleteSessions(ctx, d("_id", id))
	return err
}

// DeleteAccountSessions deletes the sessions of an account.
func (db *DB) DeleteAccountSessions(ctx context.Context, account string) (int, error) {
	return db.deleteSessions(ctx, d("a", account))
}

// DeleteExpiredSessions deletes the sessions last seen before idleBefore
// or expiring at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int, error) {
	return db.deleteSessions(ctx, d("$or", bson.A{d("s", d("$lt", idleBefore.UnixNano())), d("e", d("$lte", now.UnixNano()))}))
}
