package mongo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Canonical activity definitions live in collection "activities" as
// revisions (see documents.go), the key being hashID("activity", tenant,
// id); a revision also holds:
//
//	t, id the tenant and the activity id
//	d     the definition as JSON, binary (never a BSON tree: extension
//	      keys are IRIs full of dots)
//
// A merge reads the current revision, merges, and inserts the next one
// unless the merge changed nothing.

var _ statements.ActivityStore = (*DB)(nil)

// actRev is one revision of a canonical activity definition.
type actRev struct {
	Rev        rev    `bson:",inline"`
	Tenant     string `bson:"t"`
	ActivityID string `bson:"id"`
	Definition []byte `bson:"d"`
}

func (r *actRev) revision() *rev { return &r.Rev }

func activityKey(tenant, id string) string { return hashID("activity", tenant, id) }

// MergeActivities merges each definition into the stored canonical
// definition of its activity (statements.MergeDefinition). Definitions the
// DB's cache knows to change nothing cost nothing; one query reads the
// current definitions of the others; only those a definition changes are
// written, each by revise, which reads it again. An empty definition
// defines nothing and is skipped.
//
// The cache trusts an entry for defTTL: another replica's change to a
// definition reaches this one's cache within that time (until then, a
// statement repeating this replica's older definition does not restore
// it; the xAPI specification leaves the canonical definition to the LRS).
func (db *DB) MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) error {
	var ids, keys []string
	for id, def := range defs {
		if len(def) > 0 && !db.defs.Unchanged(tenant, id, def) {
			ids = append(ids, id)
			keys = append(keys, activityKey(tenant, id))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(ids)
	cur, err := db.latest(collActivities).Find(ctx, d("k", d("$in", keys)))
	if err != nil {
		return wrap(err, "mongo: reading activities")
	}
	var revs []*actRev
	if err := cur.All(ctx, &revs); err != nil {
		return wrap(err, "mongo: reading activities")
	}
	stored := map[string]*actRev{} // activity id -> current revision
	for _, r := range revs {
		if c, ok := stored[r.ActivityID]; !ok || r.Rev.V > c.Rev.V {
			stored[r.ActivityID] = r
		}
	}
	for _, id := range ids {
		def := defs[id]
		// Most statements define nothing new: those cost no write.
		merged, js, err := mergeInto(stored[id], id, def)
		if err != nil {
			return err
		}
		if js != nil {
			err = revise(ctx, db, collActivities, activityKey(tenant, id), nil, func(cur *actRev) (*actRev, error) {
				var js []byte
				var err error
				merged, js, err = mergeInto(cur, id, def)
				if err != nil || js == nil {
					return nil, err
				}
				return &actRev{Tenant: tenant, ActivityID: id, Definition: js}, nil
			})
			if err != nil {
				return err
			}
		}
		db.defs.Put(tenant, id, merged)
	}
	return nil
}

// defTTL is how long a replica trusts the definitions it cached.
const defTTL = time.Minute

// mergeInto returns def merged into the definition of activity id in
// revision cur (nil: none), and its JSON, nil when that changes nothing.
func mergeInto(cur *actRev, id string, def map[string]any) (map[string]any, []byte, error) {
	var old map[string]any
	var oldJSON []byte
	if cur != nil {
		var err error
		if old, err = decodeDefinition(cur.Definition); err != nil {
			return nil, nil, errs.Wrap(err, "mongo: stored definition of activity "+id)
		}
		oldJSON = cur.Definition
	}
	merged := statements.MergeDefinition(old, def)
	js, err := json.Marshal(merged)
	if err != nil {
		return nil, nil, errs.Wrap(err, "mongo: encoding an activity definition")
	}
	if bytes.Equal(js, oldJSON) {
		return merged, nil, nil
	}
	return merged, js, nil
}

// Activity returns the canonical definition of the activity, or an
// errs.NotFound error.
func (db *DB) Activity(ctx context.Context, tenant, id string) (map[string]any, error) {
	r, err := current[actRev](ctx, db.db.Collection(collActivities), activityKey(tenant, id))
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errs.E(errs.NotFound, "no statement has defined activity %s", id)
	}
	def, err := decodeDefinition(r.Definition)
	if err != nil {
		return nil, errs.Wrap(err, "mongo: stored definition of activity "+id)
	}
	return def, nil
}

// decodeDefinition decodes a stored definition.
func decodeDefinition(b []byte) (map[string]any, error) {
	v, err := statements.DecodeJSON(b)
	if err != nil {
		return nil, err
	}
	def, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return def, nil
}
