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

// tenantDoc is one tenant; the name is the _id, so it is unique.
type tenantDoc struct {
	Name     string `bson:"_id"`
	Created  int64  `bson:"c"` // Unix nanoseconds
	Disabled bool   `bson:"d"`
}

func (t *tenantDoc) tenant() *auth.Tenant {
	return &auth.Tenant{Name: t.Name, Created: time.Unix(0, t.Created).UTC(), Disabled: t.Disabled}
}

// ensureDefaultTenant creates the default tenant unless it exists; an upsert,
// so several instances may run it at once.
func (db *DB) ensureDefaultTenant(ctx context.Context) error {
	_, err := db.db.Collection(collTenants).UpdateOne(ctx, d("_id", auth.DefaultTenant),
		d("$setOnInsert", bson.D{{Key: "c", Value: time.Now().UnixNano()}, {Key: "d", Value: false}}),
		options.UpdateOne().SetUpsert(true))
	if mdb.IsDuplicateKeyError(err) { // two upserts raced; the other one won
		return nil
	}
	return wrap(err, "mongo: creating the default tenant")
}

// CreateTenant stores t; an existing name is an errs.Conflict error.
func (db *DB) CreateTenant(ctx context.Context, t *auth.Tenant) error {
	_, err := db.db.Collection(collTenants).InsertOne(ctx, tenantDoc{Name: t.Name, Created: t.Created.UnixNano(), Disabled: t.Disabled})
	if mdb.IsDuplicateKeyError(err) {
		return errs.E(errs.Conflict, "a tenant named %q exists", t.Name)
	}
	return wrap(err, "mongo: storing a tenant")
}

// Tenant returns the tenant with the name, or an errs.NotFound error.
func (db *DB) Tenant(ctx context.Context, name string) (*auth.Tenant, error) {
	var doc tenantDoc
	err := db.db.Collection(collTenants).FindOne(ctx, d("_id", name)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no tenant named %q", name)
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading a tenant")
	}
	return doc.tenant(), nil
}

// Tenants lists every tenant by name.
func (db *DB) Tenants(ctx context.Context) ([]*auth.Tenant, error) {
	c, err := db.db.Collection(collTenants).Find(ctx, bson.D{}, options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: listing tenants")
	}
	var docs []tenantDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: listing tenants")
	}
	out := make([]*auth.Tenant, len(docs))
	for i := range docs {
		out[i] = docs[i].tenant()
	}
	return out, nil
}

// UpdateTenant replaces the tenant named t.Name (Disabled), or returns an
// errs.NotFound error.
func (db *DB) UpdateTenant(ctx context.Context, t *auth.Tenant) error {
	res, err := db.db.Collection(collTenants).UpdateOne(ctx, d("_id", t.Name), d("$set", d("d", t.Disabled)))
	if err != nil {
		return wrap(err, "mongo: updating a tenant")
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.NotFound, "no tenant named %q", t.Name)
	}
	return nil
}

// auditDoc is one audit log entry.
type auditDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Time   int64         `bson:"tm"` // Unix nanoseconds
	Tenant string        `bson:"t"`
	Actor  string        `bson:"a"`
	Action string        `bson:"ac"`
	Target string        `bson:"tg"`
	Detail string        `bson:"dt"`
}

// AppendAudit stores e.
func (db *DB) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	_, err := db.db.Collection(collAudit).InsertOne(ctx, auditDoc{ID: bson.NewObjectID(), Time: e.Time.UnixNano(),
		Tenant: e.Tenant, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
	return wrap(err, "mongo: storing an audit entry")
}

// Audit lists the entries of a tenant ("" = all) at or after since, oldest
// first, at most limit.
func (db *DB) Audit(ctx context.Context, tenant string, since time.Time, limit int) ([]*auth.AuditEntry, error) {
	var from int64
	if !since.IsZero() {
		from = since.UnixNano()
	}
	filter := bson.D{{Key: "tm", Value: d("$gte", from)}}
	if tenant != "" {
		filter = append(bson.D{{Key: "t", Value: tenant}}, filter...)
	}
	c, err := db.db.Collection(collAudit).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "tm", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, wrap(err, "mongo: reading the audit log")
	}
	var docs []auditDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading the audit log")
	}
	out := make([]*auth.AuditEntry, len(docs))
	for i, x := range docs {
		out[i] = &auth.AuditEntry{Time: time.Unix(0, x.Time).UTC(), Tenant: x.Tenant, Actor: x.Actor,
			Action: x.Action, Target: x.Target, Detail: x.Detail}
	}
	return out, nil
}
