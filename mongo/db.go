package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// DefaultDatabase is the database used when the URL names none.
const DefaultDatabase = "lrs"

// Collection names.
const (
	collStatements  = "statements"
	collBatches     = "batches"
	collAttachments = "attachments"
	collCredentials = "credentials"
	collMeta        = "meta"
	collTenants     = "tenants"
	collAudit       = "audit"
)

// Batch states (batchDoc.State).
const (
	statePending   = "pending"   // documents being written; invisible
	stateCommitted = "committed" // visible; follow-up work may be unfinished
	stateAborting  = "aborting"  // being removed; invisible
)

// DB is a MongoDB-backed statements.Store and auth.CredentialStore.
type DB struct {
	client *mdb.Client
	db     *mdb.Database
	stmts  *mdb.Collection
	bats   *mdb.Collection
	atts   *mdb.Collection
	creds  *mdb.Collection
	meta   *mdb.Collection
	log    *slog.Logger
	defs   *statements.DefinitionCache // canonical activity definitions (activities.go)

	// staleAfter is how long a pending batch may stay uncommitted before
	// recovery aborts it (its writer is presumed dead).
	staleAfter time.Duration
	// finishAfter is how long a committed batch may wait for its writer to
	// finish the follow-up work before recovery does it.
	finishAfter time.Duration
	// waitPending bounds how long an insert waits for another writer's
	// in-flight batch that holds the same statement id.
	waitPending time.Duration
	// registrationTTL is how long the registration of a document write
	// holds back the deletion of old revisions (see documents.go).
	registrationTTL time.Duration
	// beforeInsert, when set (by tests), runs between the read of a
	// document write and its insert, to let other writers overtake it.
	beforeInsert func()
	// inflight holds the earliest stored time of each Insert call of this
	// process from its start, before its batch record exists.
	mu       sync.Mutex
	inflight map[string]int64

	stop chan struct{}
	wg   sync.WaitGroup
}

var (
	_ statements.Store     = (*DB)(nil)
	_ auth.CredentialStore = (*DB)(nil)
	_ auth.TenantStore     = (*DB)(nil)
	_ auth.AuditLog        = (*DB)(nil)
)

// Open connects to the MongoDB deployment at uri (mongodb:// or
// mongodb+srv://), uses the database named in the URL path (default "lrs"),
// creates the indexes it needs (idempotent, safe when several LRS instances
// start together), finishes or removes batches left behind by a crash, and
// starts a background sweep that keeps doing so.
//
// Unless the URL says otherwise, writes use write concern "majority" with
// journaling (an acknowledged statement survives a crash or a fail-over),
// reads use read concern "majority" on the primary.
func Open(ctx context.Context, uri string) (*DB, error) {
	return open(ctx, uri, nil)
}

// open is Open with a hook to adjust the client options (tests add a
// command monitor).
func open(ctx context.Context, uri string, adjust func(*options.ClientOptions)) (*DB, error) {
	if !strings.HasPrefix(uri, "mongodb://") && !strings.HasPrefix(uri, "mongodb+srv://") {
		return nil, errs.E(errs.Invalid, "mongo: the database URL must start with mongodb:// or mongodb+srv://")
	}
	name, err := databaseName(uri)
	if err != nil {
		return nil, err
	}
	opts := options.Client().ApplyURI(uri)
	if opts.WriteConcern == nil {
		j := true
		opts.SetWriteConcern(&writeconcern.WriteConcern{W: writeconcern.WCMajority, Journal: &j})
	}
	if opts.ReadConcern == nil {
		opts.SetReadConcern(readconcern.Majority())
	}
	if opts.ReadPreference == nil {
		opts.SetReadPreference(readpref.Primary())
	}
	if opts.AppName == nil {
		opts.SetAppName("xapi-lrs")
	}
	if adjust != nil {
		adjust(opts)
	}
	client, err := mdb.Connect(opts)
	if err != nil {
		return nil, errs.Wrap(err, "mongo: bad connection settings")
	}
	database := client.Database(name)
	db := &DB{defs: &statements.DefinitionCache{TTL: defTTL},
		client:          client,
		db:              database,
		stmts:           database.Collection(collStatements),
		bats:            database.Collection(collBatches),
		atts:            database.Collection(collAttachments),
		creds:           database.Collection(collCredentials),
		meta:            database.Collection(collMeta),
		log:             slog.Default().With("component", "mongo"),
		staleAfter:      5 * time.Minute,
		finishAfter:     time.Minute,
		waitPending:     30 * time.Second,
		registrationTTL: 15 * time.Minute,
		inflight:        make(map[string]int64),
		stop:            make(chan struct{}),
	}
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		client.Disconnect(context.Background())
		return nil, wrap(err, "mongo: cannot reach the database")
	}
	if err := db.createIndexes(ctx); err != nil {
		client.Disconnect(context.Background())
		return nil, err
	}
	if err := db.ensureDefaultTenant(ctx); err != nil {
		client.Disconnect(context.Background())
		return nil, err
	}
	if err := db.Recover(ctx); err != nil {
		client.Disconnect(context.Background())
		return nil, err
	}
	db.wg.Add(1)
	go db.sweep()
	return db, nil
}

// databaseName returns the database named in the path of a MongoDB URL, or
// DefaultDatabase. (The driver parses the rest; it does not expose the path.)
func databaseName(uri string) (string, error) {
	rest := uri[strings.Index(uri, "://")+3:]
	slash := strings.IndexByte(rest, '/')
	if q := strings.IndexByte(rest, '?'); slash < 0 || (q >= 0 && q < slash) {
		return DefaultDatabase, nil
	}
	path := rest[slash+1:]
	if q := strings.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	name, err := url.PathUnescape(path)
	if err != nil || strings.ContainsAny(name, `/\. "$`) {
		return "", errs.E(errs.Invalid, "mongo: bad database name %q in the database URL", path)
	}
	if name == "" {
		return DefaultDatabase, nil
	}
	return name, nil
}

// createIndexes creates every index the store uses. createIndexes with the
// same names and keys is a no-op on a second call, and concurrent identical
// builds are allowed, so every instance can run it at start.
func (db *DB) createIndexes(ctx context.Context) error {
	sets := []struct {
		c    *mdb.Collection
		idxs []index
	}{
		{db.stmts, []index{
			// Every statement query is (tenant [, one filter value]) ordered by
			// the key; each filter has its own index, the arrays are multikey.
			{"tenant_key", "t -k"},
			{"tenant_agent_key", "t qa -k"},
			{"tenant_relagent_key", "t qra -k"},
			{"tenant_verb_key", "t qv -k"},
			{"tenant_activity_key", "t qc -k"},
			{"tenant_relactivity_key", "t qrc -k"},
			{"tenant_registration_key", "t qr -k"},
			{"tenant_authority_key", "t au -k"},
			{"tenant_ref", "t ref"},        // statements referring to a statement
			{"tenant_voids", "t vd"},       // voiding statements targeting a statement
			{"tenant_attachments", "t ah"}, // statements listing an attachment (erasure, retention)
			{"pending_batch", "p"},         // documents of an unfinished batch
		}},
		{db.bats, []index{{"min_stored", "ms"}, {"created", "c"}}},
		{db.atts, []index{{"tenant_sha2", "t sha"}, {"pending_batch", "p"}}},
		{db.creds, []index{{"tenant_key", "t _id"}}},
		{db.db.Collection(collAudit), []index{{"tenant_time", "t tm"}, {"time", "tm"}}},
		// The accounts of a tenant; the sessions of an account, and those
		// to clean up (accounts.go).
		{db.db.Collection(collAccounts), []index{{"tenant_name", "t _id"}}},
		{db.db.Collection(collSessions), []index{{"account", "a"}, {"last_seen", "s"}, {"expires", "e"}}},
		// Revisions of documents and activity definitions: the current one
		// of a key; documents of a list or delete-all (see documents.go).
		{db.db.Collection(collDocuments), []index{{"key_version", "k -v"}, {"tenant_kind_activity_agent_reg", "t kd a g r"}}},
		{db.db.Collection(collActivities), []index{{"key_version", "k -v"}}},
		{db.db.Collection(collWriters), []index{{"key", "k"}}},
		// Compliance reporting (see reporting.go): catalog revisions; the
		// current roster rows, the rows of some people, the members of
		// units; the facts of agents; the retractions of statements.
		{db.db.Collection(collCatalog), []index{{"key_version", "k -v"}}},
		{db.db.Collection(collRoster), []index{{"tenant_superseded_kind", "t x kd"}, {"tenant_key_kind", "t k kd"}, {"tenant_kind_value", "t kd v"}}},
		{db.db.Collection(collFacts), []index{{"tenant_agent", "t g"}}},
		{db.db.Collection(collRetractions), []index{{"tenant_statement", "t s"}}},
		// Package versions (see packages.go): the versions of a package;
		// the GridFS files of a version, to delete them.
		{db.db.Collection(collPackages), []index{{"tenant_package_version", "t p v"}}},
		{db.db.Collection(contentBucket + ".files"), []index{{"metadata_storage", "metadata.s"}}},
		// The access log (privacy.go): a tenant's entries by time and by
		// subject set; the sets of a tenant.
		{db.db.Collection(collAccessLog), []index{{"tenant_time", "t tm"}, {"tenant_set", "t s"}}},
		{db.db.Collection(collAccessSets), []index{{"tenant", "t"}}},
		// The reminders sent (reminders.go): a tenant's by time and a
		// person's.
		{db.db.Collection(collReminders), []index{{"tenant_time", "t tm"}, {"tenant_person_time", "t p tm"}}},
		// Retention (retention.go): a tenant's runs by time.
		{db.db.Collection(collRetentionRuns), []index{{"tenant_time", "t tm"}}},
	}
	for _, s := range sets {
		var models []mdb.IndexModel
		for _, i := range s.idxs {
			models = append(models, i.model())
		}
		// MongoDB lets identical builds run concurrently; other servers of
		// the wire protocol may fail one of two racing builds. A restart
		// finds the indexes in place and does not ask again; a retry after
		// a failed race finds them too.
		for attempt := 1; ; attempt++ {
			missing, err := db.missingIndexes(ctx, s.c, s.idxs)
			if err == nil && missing {
				_, err = s.c.Indexes().CreateMany(ctx, models)
			}
			if err == nil {
				break
			}
			if attempt == 5 || ctx.Err() != nil {
				return wrap(err, "mongo: creating indexes on "+s.c.Name())
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
	}
	return nil
}

// index is an index: its name and its keys, e.g. "t qa -k" (- for descending).
type index struct{ name, keys string }

func (i index) model() mdb.IndexModel {
	keys := bson.D{}
	for _, k := range strings.Fields(i.keys) {
		dir := 1
		if strings.HasPrefix(k, "-") {
			k, dir = k[1:], -1
		}
		keys = append(keys, bson.E{Key: k, Value: dir})
	}
	return mdb.IndexModel{Keys: keys, Options: options.Index().SetName(i.name)}
}

// missingIndexes reports whether c lacks an index of idxs (by name).
func (db *DB) missingIndexes(ctx context.Context, c *mdb.Collection, idxs []index) (bool, error) {
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		return false, err
	}
	var have []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &have); err != nil {
		return false, err
	}
	var names []string
	for _, h := range have {
		names = append(names, h.Name)
	}
	for _, i := range idxs {
		if !slices.Contains(names, i.name) {
			return true, nil
		}
	}
	return false, nil
}

// sweep periodically finishes or removes batches whose writer died.
func (db *DB) sweep() {
	defer db.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := db.Recover(ctx); err != nil {
				db.log.Warn("recovering unfinished batches", "err", err)
			}
			cancel()
		}
	}
}

// Ping checks that the deployment is reachable and accepts writes with the
// configured write concern.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: "ping"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: time.Now().UnixNano()}}}},
		options.UpdateOne().SetUpsert(true))
	return wrap(err, "mongo: ping")
}

// Close stops the background sweep and disconnects.
func (db *DB) Close() error {
	select {
	case <-db.stop:
		return nil
	default:
	}
	close(db.stop)
	db.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return wrap(db.client.Disconnect(ctx), "mongo: disconnect")
}

// wrap turns a driver error into an *errs.Error: Unavailable when the
// deployment cannot be reached or the context ended, Internal otherwise.
func wrap(err error, msg string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	var sel topology.ServerSelectionError
	if mdb.IsNetworkError(err) || mdb.IsTimeout(err) || errors.As(err, &sel) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mdb.ErrClientDisconnected) {
		return &errs.Error{Kind: errs.Unavailable, Message: "the statement store is unavailable", Err: fmt.Errorf("%s: %w", msg, err)}
	}
	return errs.Wrap(err, msg)
}

// newID returns a random 128-bit hex id for a batch.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// d is shorthand for a one-element bson.D.
func d(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
