package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// credDoc is one credential; the key is the _id, so it is unique.
type credDoc struct {
	Key        string   `bson:"_id"`
	SecretHash string   `bson:"sh"`
	Name       string   `bson:"n"`
	Tenant     string   `bson:"t"`
	Scopes     []string `bson:"sc"`
	Created    int64    `bson:"c"` // Unix nanoseconds
	Revoked    bool     `bson:"r"`
	PrevHash   string   `bson:"ph,omitempty"`
	PrevUntil  int64    `bson:"pu,omitempty"` // Unix nanoseconds
}

func (c *credDoc) credential() *auth.Credential {
	cred := &auth.Credential{Key: c.Key, SecretHash: c.SecretHash, Name: c.Name, Tenant: c.Tenant,
		Scopes: nilIfEmpty(c.Scopes), Revoked: c.Revoked, PreviousSecretHash: c.PrevHash}
	if c.Created != 0 {
		cred.Created = time.Unix(0, c.Created).UTC()
	}
	if c.PrevUntil != 0 {
		cred.PreviousUntil = time.Unix(0, c.PrevUntil).UTC()
	}
	return cred
}

// CreateCredential stores c; an existing key is an errs.Conflict error.
func (db *DB) CreateCredential(ctx context.Context, c *auth.Credential) error {
	if c.Key == "" {
		return errs.Invalidf("key", "credential-key", "a credential needs a key")
	}
	doc := credDoc{Key: c.Key, SecretHash: c.SecretHash, Name: c.Name, Tenant: c.Tenant,
		Scopes: union(nil, c.Scopes), Revoked: c.Revoked}
	if !c.Created.IsZero() {
		doc.Created = c.Created.UnixNano()
	}
	_, err := db.creds.InsertOne(ctx, doc)
	if mdb.IsDuplicateKeyError(err) {
		return errs.E(errs.Conflict, "a credential with key %q already exists", c.Key)
	}
	return wrap(err, "mongo: storing a credential")
}

// Credential returns the credential with the key, or an errs.NotFound error.
func (db *DB) Credential(ctx context.Context, key string) (*auth.Credential, error) {
	var doc credDoc
	err := db.creds.FindOne(ctx, d("_id", key)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no credential with key %q", key)
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading a credential")
	}
	return doc.credential(), nil
}

// Credentials lists the credentials of a tenant ("" = all tenants), by key.
func (db *DB) Credentials(ctx context.Context, tenant string) ([]*auth.Credential, error) {
	filter := bson.D{}
	if tenant != "" {
		filter = d("t", tenant)
	}
	c, err := db.creds.Find(ctx, filter, options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: listing credentials")
	}
	var docs []credDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: listing credentials")
	}
	out := make([]*auth.Credential, len(docs))
	for i := range docs {
		out[i] = docs[i].credential()
	}
	return out, nil
}

// UpdateCredential replaces the credential with key c.Key (all but Key,
// Tenant and Created), or returns an errs.NotFound error.
func (db *DB) UpdateCredential(ctx context.Context, c *auth.Credential) error {
	var until int64
	if !c.PreviousUntil.IsZero() {
		until = c.PreviousUntil.UnixNano()
	}
	res, err := db.creds.UpdateOne(ctx, d("_id", c.Key), d("$set", bson.D{
		{Key: "sh", Value: c.SecretHash}, {Key: "n", Value: c.Name}, {Key: "sc", Value: union(nil, c.Scopes)},
		{Key: "r", Value: c.Revoked}, {Key: "ph", Value: c.PreviousSecretHash}, {Key: "pu", Value: until},
	}))
	if err != nil {
		return wrap(err, "mongo: updating a credential")
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.NotFound, "no credential with key %q", c.Key)
	}
	return nil
}
