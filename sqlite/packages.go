package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
)

var _ packages.Store = (*DB)(nil)

// Package files live on disk, in the directory "content" beside the
// database file: content/<tenant>/<storage>/<path>, one storage directory
// per package version, named by 128 random bits. Their records are rows of
// the packages table.
//
// Why on disk and not in SQLite: packages run to hundreds of megabytes
// (videos), and every byte written to the database passes through the
// write-ahead log, the checkpoint and the one writer that statements
// queue behind; a file on disk is written beside the writer, served with
// range requests straight from the file system (os.File is the
// io.ReadSeeker http.ServeContent wants), and leaves the database small,
// so that its backups stay quick. The price: a backup copies the files
// apart (BackupContent, which `lrs backup` runs after the database copy).
//
// A version's files are written to a temporary directory, synced, and
// renamed into place before its row is committed, so a committed row
// always has all its files. A crash between the rename and the commit, or
// between a delete's commit and the removal of the files, leaves a
// directory no row names: harmless, and removable by hand.

// contentDir is the directory of the package files.
func (db *DB) contentDir() string { return filepath.Join(filepath.Dir(db.path), "content") }

// storageDir is the directory of one version's files.
func (db *DB) storageDir(tenant, storage string) (string, error) {
	if !auth.ValidTenantName(tenant) {
		return "", errs.E(errs.Internal, "sqlite: bad tenant name %q for package files", tenant)
	}
	if len(storage) != 32 {
		return "", errs.E(errs.NotFound, "no such package version")
	}
	if _, err := hex.DecodeString(storage); err != nil {
		return "", errs.E(errs.NotFound, "no such package version")
	}
	return filepath.Join(db.contentDir(), tenant, storage), nil
}

// PutVersion stores the files of src on disk and p as the next version of
// its package.
func (db *DB) PutVersion(ctx context.Context, p *packages.Package, src packages.Source) error {
	var b [16]byte
	rand.Read(b[:])
	storage := hex.EncodeToString(b[:])
	dir, err := db.storageDir(p.Tenant, storage)
	if err != nil {
		return err
	}
	if err := writeFiles(dir, src); err != nil {
		return err
	}
	p.Storage = storage
	err = db.w.do(ctx, 1, nil, func(tx *wtx) error {
		var v int
		err := tx.conn.QueryRowContext(context.Background(), `SELECT coalesce(max(version), 0) FROM packages
			WHERE tenant = ? AND id = ?`, p.Tenant, p.ID).Scan(&v)
		if err != nil {
			return err
		}
		p.Version = v + 1
		j, err := json.Marshal(p)
		if err != nil {
			return err
		}
		_, err = tx.conn.ExecContext(context.Background(), `INSERT INTO packages (tenant, id, version, storage, json)
			VALUES (?, ?, ?, ?, ?)`, p.Tenant, p.ID, p.Version, storage, j)
		return err
	})
	if err != nil {
		os.RemoveAll(dir)
		p.Version, p.Storage = 0, ""
		return errs.Wrap(err, "sqlite: storing a package version")
	}
	return nil
}

// writeFiles writes the files of src under dir, through a temporary
// directory beside it, each file synced, and renames it to dir. On an error
// nothing is left behind, and the error of src is returned as it is.
func writeFiles(dir string, src packages.Source) (err error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return errs.Wrap(err, "sqlite: making the content directory")
	}
	tmp := filepath.Join(parent, ".tmp-"+filepath.Base(dir))
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Mkdir(tmp, 0o750); err != nil {
		return errs.Wrap(err, "sqlite: making a package directory")
	}
	for _, p := range src.Paths() {
		if !packages.ValidPath(p) {
			return errs.E(errs.Internal, "sqlite: refusing the package path %q", p)
		}
		if err := writeFile(filepath.Join(tmp, filepath.FromSlash(p)), p, src); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return errs.Wrap(err, "sqlite: moving a package directory into place")
	}
	return syncDir(parent)
}

func writeFile(name, p string, src packages.Source) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return errs.Wrap(err, "sqlite: writing a package file")
	}
	rc, err := src.Open(p)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return errs.Wrap(err, "sqlite: writing a package file")
	}
	_, err = io.Copy(f, rc)
	if err != nil {
		f.Close()
		var e *errs.Error
		if errors.As(err, &e) {
			return err // the source's: a broken zip entry
		}
		return errs.Wrap(err, "sqlite: writing a package file")
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return errs.Wrap(err, "sqlite: syncing a package file")
	}
	if err := f.Close(); err != nil {
		return errs.Wrap(err, "sqlite: writing a package file")
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errs.Wrap(err, "sqlite: syncing a package directory")
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return errs.Wrap(err, "sqlite: syncing a package directory")
	}
	return nil
}

const packageColumns = `json, version, storage`

func scanPackage(tenant string, sc interface{ Scan(...any) error }) (*packages.Package, error) {
	var j []byte
	var p packages.Package
	var v int
	var storage string
	if err := sc.Scan(&j, &v, &storage); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(j, &p); err != nil {
		return nil, fmt.Errorf("decoding a package record: %w", err)
	}
	p.Tenant, p.Version, p.Storage = tenant, v, storage
	return &p, nil
}

// queryPackages runs a query for package rows of tenant.
func (db *DB) queryPackages(ctx context.Context, tenant, q string, args ...any) ([]*packages.Package, error) {
	s, err := db.stmt(ctx, q)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: packages")
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: packages")
	}
	defer rows.Close()
	out := []*packages.Package{}
	for rows.Next() {
		p, err := scanPackage(tenant, rows)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: packages")
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: packages")
	}
	return out, nil
}

func (db *DB) onePackage(ctx context.Context, tenant, q string, args ...any) (*packages.Package, error) {
	list, err := db.queryPackages(ctx, tenant, q, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.E(errs.NotFound, "no package %q", args[1])
	}
	return list[0], nil
}

// Package returns the latest version of a package.
func (db *DB) Package(ctx context.Context, tenant, id string) (*packages.Package, error) {
	return db.onePackage(ctx, tenant, `SELECT `+packageColumns+` FROM packages
		WHERE tenant = ? AND id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1`, tenant, id)
}

// Version returns one version of a package.
func (db *DB) Version(ctx context.Context, tenant, id string, version int) (*packages.Package, error) {
	return db.onePackage(ctx, tenant, `SELECT `+packageColumns+` FROM packages
		WHERE tenant = ? AND id = ? AND version = ? AND deleted = 0`, tenant, id, version)
}

// Versions lists the versions of a package, oldest first.
func (db *DB) Versions(ctx context.Context, tenant, id string) ([]*packages.Package, error) {
	return db.queryPackages(ctx, tenant, `SELECT `+packageColumns+` FROM packages
		WHERE tenant = ? AND id = ? AND deleted = 0 ORDER BY version`, tenant, id)
}

// Packages lists the latest version of each package of a tenant.
func (db *DB) Packages(ctx context.Context, tenant string) ([]*packages.Package, error) {
	return db.queryPackages(ctx, tenant, `SELECT `+packageColumns+` FROM packages p
		WHERE tenant = ? AND deleted = 0
		  AND version = (SELECT max(version) FROM packages q WHERE q.tenant = p.tenant AND q.id = p.id)
		ORDER BY id`, tenant)
}

// DeletePackage marks every version of a package deleted, then removes
// their files.
func (db *DB) DeletePackage(ctx context.Context, tenant, id string) error {
	var dirs []string
	err := db.w.do(ctx, 1, func(tx *wtx) error {
		dirs = dirs[:0]
		rows, err := tx.conn.QueryContext(context.Background(), `SELECT storage FROM packages
			WHERE tenant = ? AND id = ? AND deleted = 0`, tenant, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			if d, err := db.storageDir(tenant, s); err == nil {
				dirs = append(dirs, d)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(dirs) == 0 {
			return errs.E(errs.NotFound, "no package %q", id)
		}
		return nil
	}, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `UPDATE packages SET deleted = 1
			WHERE tenant = ? AND id = ?`, tenant, id)
		return err
	})
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return err
		}
		return errs.Wrap(err, "sqlite: deleting a package")
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return errs.Wrap(err, "sqlite: removing the files of a deleted package")
		}
	}
	return nil
}

// OpenFile opens a file of a package version, through an os.Root on the
// version's directory: no path, symlink or ".." leads out of it.
func (db *DB) OpenFile(ctx context.Context, p *packages.Package, path string) (packages.File, error) {
	notFound := errs.E(errs.NotFound, "no file %q in version %d of package %q", path, p.Version, p.ID)
	if !packages.ValidPath(path) {
		return nil, notFound
	}
	dir, err := db.storageDir(p.Tenant, p.Storage)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: opening a package directory")
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(path))
	if err != nil {
		var pe *fs.PathError
		if errors.Is(err, fs.ErrNotExist) || errors.As(err, &pe) {
			return nil, notFound
		}
		return nil, errs.Wrap(err, "sqlite: opening a package file")
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: opening a package file")
		}
		return nil, notFound
	}
	return diskFile{File: f, size: st.Size()}, nil
}

type diskFile struct {
	*os.File
	size int64
}

func (f diskFile) Size() int64 { return f.size }

// BackupContent copies into dst the package files that the backup at
// backup (a copy Backup made of this database) names: those of every
// version it holds that is not deleted, laid out as the content directory
// (dst/<tenant>/<storage>/<path>), so that a restore puts dst in place of
// the content directory beside the restored database. Files are
// hard-linked where the file system allows (a version's files never
// change once stored), copied otherwise. It returns the number of files.
// A version whose files are gone (deleted after the backup's snapshot)
// is an error naming it.
func (db *DB) BackupContent(ctx context.Context, backup, dst string) (int, error) {
	b, err := sql.Open("sqlite", dsn(backup, "query_only(1)"))
	if err != nil {
		return 0, err
	}
	defer b.Close()
	rows, err := b.QueryContext(ctx, `SELECT DISTINCT tenant, storage FROM packages WHERE deleted = 0 ORDER BY tenant, storage`)
	if err != nil {
		return 0, errs.Wrap(err, "sqlite: listing the package versions of the backup")
	}
	type version struct{ tenant, storage string }
	var versions []version
	for rows.Next() {
		var v version
		if err := rows.Scan(&v.tenant, &v.storage); err != nil {
			rows.Close()
			return 0, err
		}
		versions = append(versions, v)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	files := 0
	for _, v := range versions {
		src, err := db.storageDir(v.tenant, v.storage)
		if err != nil {
			return files, err
		}
		to := filepath.Join(dst, v.tenant, v.storage)
		err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			out := filepath.Join(to, rel)
			if d.IsDir() {
				return os.MkdirAll(out, 0o750)
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s is not a regular file", path)
			}
			files++
			if os.Link(path, out) == nil {
				return nil
			}
			return copyFile(path, out)
		})
		if errors.Is(err, fs.ErrNotExist) {
			return files, fmt.Errorf("the files of a package version of tenant %s (storage %s) are gone: deleted after the backup's snapshot? Run the backup again", v.tenant, v.storage)
		}
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// copyFile copies the file src to the new file dst, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return errors.Join(out.Sync(), out.Close())
}
