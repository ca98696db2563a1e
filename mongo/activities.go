package mongo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

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
// definition of its activity (statements.MergeDefinition). One query reads
// the current definitions; only those a definition changes are written,
// each by revise, which reads it again. An empty definition defines
// nothing and is skipped.
func (db *DB) MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) error {
	var keys []string
	for id, def := range defs {
		if len(def) > 0 {
			keys = append(keys, activityKey(tenant, id))
		}
	}
	if len(keys) == 0 {
		return nil
	}
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
	for _, id := range slices.Sorted(maps.Keys(defs)) {
		def := defs[id]
		if len(def) == 0 {
			continue
		}
		// Most statements define nothing new: those cost no write.
		merged, err := mergeInto(stored[id], id, def)
		if err != nil {
			return err
		}
		if merged == nil {
			continue
		}
		err = revise(ctx, db, collActivities, activityKey(tenant, id), nil, func(cur *actRev) (*actRev, error) {
			merged, err := mergeInto(cur, id, def)
			if err != nil || merged == nil {
				return nil, err
			}
			return &actRev{Tenant: tenant, ActivityID: id, Definition: merged}, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// mergeInto returns the JSON of def merged into the definition of activity
// id in revision cur (nil: none), or nil when that changes nothing.
func mergeInto(cur *actRev, id string, def map[string]any) ([]byte, error) {
	var old map[string]any
	var oldJSON []byte
	if cur != nil {
		var err error
		if old, err = decodeDefinition(cur.Definition); err != nil {
			return nil, errs.Wrap(err, "mongo: stored definition of activity "+id)
		}
		oldJSON = cur.Definition
	}
	merged, err := json.Marshal(statements.MergeDefinition(old, def))
	if err != nil {
		return nil, errs.Wrap(err, "mongo: encoding an activity definition")
	}
	if bytes.Equal(merged, oldJSON) {
		return nil, nil
	}
	return merged, nil
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
