package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// The reminders sent (package reminders): one document per person, module
// and message; _id is an ObjectID, which orders records of the same time
// as they were written.
const collReminders = "reminders_sent"

type reminderDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Tenant    string        `bson:"t"`
	Person    string        `bson:"p"`
	Module    string        `bson:"m"`
	Due       int32         `bson:"d"`
	Template  string        `bson:"tp"`
	Time      int64         `bson:"tm"`
	MessageID string        `bson:"mid"`
	Outcome   string        `bson:"o"`
	Error     string        `bson:"e,omitempty"`
	Attempts  int           `bson:"n"`
}

var _ reminders.Store = (*DB)(nil)

// RecordReminders stores the records of reminders sent.
func (db *DB) RecordReminders(ctx context.Context, recs []*reminders.Sent) error {
	if len(recs) == 0 {
		return nil
	}
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = reminderDoc{ID: bson.NewObjectID(), Tenant: r.Tenant, Person: r.Person, Module: r.Module, Due: int32(r.Due),
			Template: r.Template, Time: r.Time.UnixNano(), MessageID: r.MessageID, Outcome: r.Outcome, Error: r.Error, Attempts: r.Attempts}
	}
	_, err := db.db.Collection(collReminders).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return wrap(err, "mongo: recording reminders sent")
}

// RemindersSince returns a tenant's records at or after since, oldest first.
func (db *DB) RemindersSince(ctx context.Context, tenant string, since time.Time) ([]*reminders.Sent, error) {
	return db.findReminders(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "tm", Value: d("$gte", since.UnixNano())}},
		options.Find().SetSort(bson.D{{Key: "tm", Value: 1}, {Key: "_id", Value: 1}}))
}

// RemindersTo returns the records of a person, newest first.
func (db *DB) RemindersTo(ctx context.Context, tenant, person string, limit int) ([]*reminders.Sent, error) {
	return db.findReminders(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: person}},
		options.Find().SetSort(bson.D{{Key: "tm", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
}

// RecentReminders returns a tenant's records, newest first.
func (db *DB) RecentReminders(ctx context.Context, tenant string, limit int) ([]*reminders.Sent, error) {
	return db.findReminders(ctx, bson.D{{Key: "t", Value: tenant}},
		options.Find().SetSort(bson.D{{Key: "tm", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
}

func (db *DB) findReminders(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*reminders.Sent, error) {
	c, err := db.db.Collection(collReminders).Find(ctx, filter, opts)
	if err != nil {
		return nil, wrap(err, "mongo: reading reminders sent")
	}
	var docs []reminderDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading reminders sent")
	}
	out := make([]*reminders.Sent, len(docs))
	for i, x := range docs {
		out[i] = &reminders.Sent{Tenant: x.Tenant, Person: x.Person, Module: x.Module, Due: reporting.Date(x.Due),
			Template: x.Template, Time: time.Unix(0, x.Time).UTC(), MessageID: x.MessageID, Outcome: x.Outcome,
			Error: x.Error, Attempts: x.Attempts}
	}
	return out, nil
}
