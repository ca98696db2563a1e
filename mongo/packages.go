package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
)

var _ packages.Store = (*DB)(nil)

// Package versions are documents of the packages collection, _id
// "<tenant>/<package id>/<version>" (so that the primary key, which every
// server of the wire protocol keeps unique, decides which of two racing
// imports gets a version number); a deleted package's documents stay,
// marked, so that its version numbers are never reused.
//
// Their files are in GridFS, the bucket "content" (collections
// content.files and content.chunks), so that every replica of the service
// serves every package: a file's _id is "<storage>/<path>", its metadata
// the tenant and the storage (the version's random 128-bit name). Files
// are read chunk by chunk, so that a range request reads only the chunks
// it needs.
const (
	collPackages  = "packages"
	contentBucket = "content"
)

// packageDoc is a package version.
type packageDoc struct {
	ID      string `bson:"_id"`
	Tenant  string `bson:"t"`
	Package string `bson:"p"`
	Version int    `bson:"v"`
	Deleted bool   `bson:"x"`
	Storage string `bson:"s"`
	JSON    []byte `bson:"j"` // packages.Package as JSON
}

func packageDocID(tenant, id string, version int) string {
	return tenant + "/" + id + "/" + strconv.Itoa(version)
}

func (db *DB) packages() *mdb.Collection { return db.db.Collection(collPackages) }

// bucket returns the content bucket. Each upload needs a bucket of its
// own: a bucket's upload buffer is not safe for concurrent use.
func (db *DB) bucket() *mdb.GridFSBucket {
	return db.db.GridFSBucket(options.GridFSBucket().SetName(contentBucket))
}

// PutVersion uploads the files of src to GridFS, then inserts p as the next
// version of its package.
func (db *DB) PutVersion(ctx context.Context, p *packages.Package, src packages.Source) error {
	storage := newID()
	b := db.bucket()
	meta := bson.D{{Key: "t", Value: p.Tenant}, {Key: "s", Value: storage}}
	for _, path := range src.Paths() {
		if err := db.upload(ctx, b, storage, path, src, meta); err != nil {
			db.deleteStorage(context.WithoutCancel(ctx), p.Tenant, storage)
			return err
		}
	}
	p.Storage = storage
	for attempt := 0; ; attempt++ {
		var last packageDoc
		err := db.packages().FindOne(ctx, bson.D{{Key: "t", Value: p.Tenant}, {Key: "p", Value: p.ID}},
			options.FindOne().SetSort(bson.D{{Key: "v", Value: -1}})).Decode(&last)
		if err != nil && !errors.Is(err, mdb.ErrNoDocuments) {
			db.deleteStorage(context.WithoutCancel(ctx), p.Tenant, storage)
			p.Storage = ""
			return wrap(err, "mongo: reading the versions of a package")
		}
		p.Version = last.Version + 1
		j, err := json.Marshal(p)
		if err != nil {
			return errs.Wrap(err, "mongo: encoding a package")
		}
		_, err = db.packages().InsertOne(ctx, packageDoc{ID: packageDocID(p.Tenant, p.ID, p.Version), Tenant: p.Tenant,
			Package: p.ID, Version: p.Version, Storage: storage, JSON: j})
		if err == nil {
			return nil
		}
		if !mdb.IsDuplicateKeyError(err) || attempt == 20 {
			db.deleteStorage(context.WithoutCancel(ctx), p.Tenant, storage)
			p.Version, p.Storage = 0, ""
			return wrap(err, "mongo: storing a package version")
		}
		// Another import took the number: take the next.
	}
}

func (db *DB) upload(ctx context.Context, b *mdb.GridFSBucket, storage, path string, src packages.Source, meta bson.D) error {
	if !packages.ValidPath(path) {
		return errs.E(errs.Internal, "mongo: refusing the package path %q", path)
	}
	rc, err := src.Open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	err = b.UploadFromStreamWithID(ctx, storage+"/"+path, path, rc, options.GridFSUpload().SetMetadata(meta))
	var e *errs.Error
	if errors.As(err, &e) {
		return err // the source's: a broken zip entry
	}
	return wrap(err, "mongo: uploading a package file")
}

// deleteStorage removes the files of one storage (a version), best effort:
// what a failure leaves is unreachable, as no version names it.
func (db *DB) deleteStorage(ctx context.Context, tenant, storage string) error {
	b := db.bucket()
	cur, err := b.GetFilesCollection().Find(ctx, bson.D{{Key: "metadata.s", Value: storage}, {Key: "metadata.t", Value: tenant}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return wrap(err, "mongo: listing the files of a package version")
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return wrap(err, "mongo: listing the files of a package version")
	}
	for i := 0; i < len(docs); i += 500 {
		var ids bson.A
		for _, d := range docs[i:min(i+500, len(docs))] {
			ids = append(ids, d.ID)
		}
		// Chunks first: a files document without chunks is a broken file,
		// chunks without a files document are merely unreachable.
		if _, err := b.GetChunksCollection().DeleteMany(ctx, bson.D{{Key: "files_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return wrap(err, "mongo: deleting package files")
		}
		if _, err := b.GetFilesCollection().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return wrap(err, "mongo: deleting package files")
		}
	}
	return nil
}

func decodePackage(d *packageDoc) (*packages.Package, error) {
	var p packages.Package
	if err := json.Unmarshal(d.JSON, &p); err != nil {
		return nil, errs.Wrap(err, "mongo: decoding a package record")
	}
	p.Tenant, p.Version, p.Storage = d.Tenant, d.Version, d.Storage
	return &p, nil
}

// findPackages returns the live versions filter selects, sorted by
// version.
func (db *DB) findPackages(ctx context.Context, filter bson.D) ([]*packages.Package, error) {
	filter = append(filter, bson.E{Key: "x", Value: false})
	cur, err := db.packages().Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "v", Value: 1}}))
	if err != nil {
		return nil, wrap(err, "mongo: packages")
	}
	var docs []packageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: packages")
	}
	out := []*packages.Package{}
	for i := range docs {
		p, err := decodePackage(&docs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Package returns the latest version of a package.
func (db *DB) Package(ctx context.Context, tenant, id string) (*packages.Package, error) {
	vs, err := db.Versions(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, errs.E(errs.NotFound, "no package %q", id)
	}
	return vs[len(vs)-1], nil
}

// Version returns one version of a package.
func (db *DB) Version(ctx context.Context, tenant, id string, version int) (*packages.Package, error) {
	var d packageDoc
	err := db.packages().FindOne(ctx, bson.D{{Key: "_id", Value: packageDocID(tenant, id, version)}}).Decode(&d)
	if errors.Is(err, mdb.ErrNoDocuments) || err == nil && (d.Deleted || d.Tenant != tenant) {
		return nil, errs.E(errs.NotFound, "no version %d of package %q", version, id)
	}
	if err != nil {
		return nil, wrap(err, "mongo: package version")
	}
	return decodePackage(&d)
}

// Versions lists the versions of a package, oldest first.
func (db *DB) Versions(ctx context.Context, tenant, id string) ([]*packages.Package, error) {
	return db.findPackages(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: id}})
}

// Packages lists the latest version of each package of a tenant, by ID.
// (The grouping is done here, not in an aggregation: see the package doc.)
func (db *DB) Packages(ctx context.Context, tenant string) ([]*packages.Package, error) {
	all, err := db.findPackages(ctx, bson.D{{Key: "t", Value: tenant}})
	if err != nil {
		return nil, err
	}
	latest := map[string]*packages.Package{}
	for _, p := range all {
		if l := latest[p.ID]; l == nil || p.Version > l.Version {
			latest[p.ID] = p
		}
	}
	out := make([]*packages.Package, 0, len(latest))
	for _, p := range latest {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeletePackage marks every version of a package deleted, then removes
// their files from GridFS.
func (db *DB) DeletePackage(ctx context.Context, tenant, id string) error {
	vs, err := db.Versions(ctx, tenant, id)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return errs.E(errs.NotFound, "no package %q", id)
	}
	_, err = db.packages().UpdateMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: true}}}})
	if err != nil {
		return wrap(err, "mongo: deleting a package")
	}
	for _, v := range vs {
		if err := db.deleteStorage(ctx, tenant, v.Storage); err != nil {
			return err
		}
	}
	return nil
}

// gridFileDoc is the part of a GridFS files document a read needs.
type gridFileDoc struct {
	Length    int64 `bson:"length"`
	ChunkSize int64 `bson:"chunkSize"`
}

// OpenFile opens a file of a package version in GridFS.
func (db *DB) OpenFile(ctx context.Context, p *packages.Package, path string) (packages.File, error) {
	notFound := errs.E(errs.NotFound, "no file %q in version %d of package %q", path, p.Version, p.ID)
	if !packages.ValidPath(path) || p.Storage == "" {
		return nil, notFound
	}
	b := db.bucket()
	id := p.Storage + "/" + path
	var fd gridFileDoc
	err := b.GetFilesCollection().FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "metadata.t", Value: p.Tenant}}).Decode(&fd)
	if errors.Is(err, mdb.ErrNoDocuments) {
		return nil, notFound
	}
	if err != nil {
		return nil, wrap(err, "mongo: opening a package file")
	}
	if fd.ChunkSize <= 0 && fd.Length > 0 {
		return nil, errs.E(errs.Internal, "mongo: GridFS file %q has chunk size %d", id, fd.ChunkSize)
	}
	return &gridFile{ctx: ctx, chunks: b.GetChunksCollection(), id: id, size: fd.Length, chunkSize: fd.ChunkSize, n: -1}, nil
}

// gridFile reads a GridFS file chunk by chunk, from any offset.
type gridFile struct {
	ctx             context.Context
	chunks          *mdb.Collection
	id              string
	size, chunkSize int64
	off             int64
	n               int64  // the chunk in buf; -1: none
	buf             []byte // chunk n
}

func (f *gridFile) Size() int64 { return f.size }

func (f *gridFile) Read(p []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	n := f.off / f.chunkSize
	if n != f.n {
		var c struct {
			Data []byte `bson:"data"`
		}
		err := f.chunks.FindOne(f.ctx, bson.D{{Key: "files_id", Value: f.id}, {Key: "n", Value: n}}).Decode(&c)
		if err != nil {
			return 0, wrap(err, fmt.Sprintf("mongo: reading chunk %d of %q", n, f.id))
		}
		want := min(f.chunkSize, f.size-n*f.chunkSize)
		if int64(len(c.Data)) != want {
			return 0, errs.E(errs.Internal, "mongo: chunk %d of %q has %d bytes, want %d", n, f.id, len(c.Data), want)
		}
		f.n, f.buf = n, c.Data
	}
	k := copy(p, f.buf[f.off-f.n*f.chunkSize:])
	f.off += int64(k)
	return k, nil
}

func (f *gridFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, errors.New("mongo: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("mongo: seek before the start of the file")
	}
	f.off = offset
	return offset, nil
}

func (f *gridFile) Close() error { f.buf = nil; return nil }
