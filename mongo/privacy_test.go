package mongo

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/xapi-lrs/lrs/privacy"
	privacytest "github.com/xapi-lrs/lrs/privacy/storetest"
)

func TestAccessLog(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunAccessLog(t, func(t *testing.T) privacy.AccessLog { return openDB(t, uri) })
		})
	}
}

func TestAgentDocuments(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunAgentDocuments(t, func(t *testing.T) privacytest.DocumentStore { return openDB(t, uri) })
		})
	}
}

func TestErasure(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunErasure(t, func(t *testing.T) (privacytest.Backend, privacytest.Scanner) {
				db := openDB(t, uri)
				return db, db.scanner(t)
			})
		})
	}
}

// scanner reads every document of every collection of the database: its
// BSON bytes (strings and binary values verbatim), and each binary value
// of its top level on its own (compressed ones are expanded).
func (db *DB) scanner(t *testing.T) privacytest.Scanner {
	return func(fn func(where string, value []byte)) error {
		ctx := context.Background()
		names, err := db.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return err
		}
		if len(names) < 15 {
			t.Errorf("the scan lists only the collections %v", names)
		}
		for _, name := range names {
			c, err := db.db.Collection(name).Find(ctx, bson.D{})
			if err != nil {
				return err
			}
			for c.Next(ctx) {
				fn(name, c.Current)
				elems, _ := c.Current.Elements()
				for _, e := range elems {
					if _, b, ok := e.Value().BinaryOK(); ok {
						fn(name+"."+e.Key(), b)
					}
				}
			}
			if err := c.Close(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestRetention(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunRetention(t, func(t *testing.T) (privacytest.Backend, privacytest.Scanner) {
				db := openDB(t, uri)
				return db, db.scanner(t)
			})
		})
	}
}
