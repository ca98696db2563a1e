package packages

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/errs"
)

// Limits bound what an import reads. A zip bomb is refused by the sizes its
// directory declares, before anything is decompressed; an entry that
// inflates to more than it declared is refused while it is read.
type Limits struct {
	MaxZipBytes   int64 // the zip file itself
	MaxTotalBytes int64 // all entries, uncompressed
	MaxEntries    int   // entries, directories included
	// MaxRatio bounds uncompressed/compressed size of each entry larger
	// than RatioFloor bytes: deflate reaches about 1,000:1 on a run of one
	// byte, real course files (HTML, scripts, JSON, SVG) stay far below
	// 100:1.
	MaxRatio   int64
	RatioFloor int64
	// MaxManifestBytes bounds the manifest, which is parsed in memory.
	MaxManifestBytes int64
}

// DefaultLimits are the limits of an import unless configured otherwise.
var DefaultLimits = Limits{
	MaxZipBytes:      512 << 20,
	MaxTotalBytes:    2 << 30,
	MaxEntries:       20000,
	MaxRatio:         200,
	RatioFloor:       1 << 20,
	MaxManifestBytes: 8 << 20,
}

// WithDefaults returns l with every zero limit set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MaxZipBytes > 0 {
		d.MaxZipBytes = l.MaxZipBytes
	}
	if l.MaxTotalBytes > 0 {
		d.MaxTotalBytes = l.MaxTotalBytes
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.RatioFloor > 0 {
		d.RatioFloor = l.RatioFloor
	}
	if l.MaxManifestBytes > 0 {
		d.MaxManifestBytes = l.MaxManifestBytes
	}
	return d
}

// Archive is a zip file whose every entry has been checked: its files are
// safe to store under their names. It is a Source.
type Archive struct {
	files map[string]*zip.File
	paths []string // sorted
	lower map[string]string
	size  int64 // uncompressed bytes of the files
	lim   Limits
}

// maxNameBytes bounds an entry name, and maxSegmentBytes one segment of it
// (a file name on common file systems).
const (
	maxNameBytes    = 1024
	maxSegmentBytes = 255
)

// bad is the error of a package the client must fix.
func bad(rule, format string, args ...any) error {
	return errs.Invalidf("", rule, format, args...)
}

// OpenArchive reads the directory of the zip file r (size bytes) and checks
// every entry against lim and the rules of a safe name: a relative path of
// UTF-8 segments separated by "/", without ".", ".." or empty segments,
// backslashes, control characters or a drive letter; a regular file or a
// directory, neither a symlink nor encrypted; no name twice, and no file
// where another entry needs a directory. Every failure is an errs.Invalid
// error naming the entry.
func OpenArchive(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	lim = lim.WithDefaults()
	if size > lim.MaxZipBytes {
		return nil, &errs.Error{Kind: errs.TooLarge, Rule: "package-size",
			Message: fmt.Sprintf("the package is %d bytes; the limit is %d", size, lim.MaxZipBytes)}
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names get their own message below
		return nil, bad("zip-format", "the body is not a zip file (%v): send the package as a .zip archive", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, bad("zip-entries", "the zip has %d entries; the limit is %d", len(zr.File), lim.MaxEntries)
	}
	a := &Archive{files: map[string]*zip.File{}, lower: map[string]string{}, lim: lim}
	dirs := map[string]bool{}
	for _, f := range zr.File {
		name := f.Name
		isDir := strings.HasSuffix(name, "/")
		if err := checkName(strings.TrimSuffix(name, "/")); err != nil {
			return nil, err
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, bad("zip-symlink", "zip entry %q is a symbolic link; a package holds regular files only: replace the link by the file", name)
		case mode&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice|fs.ModeIrregular) != 0:
			return nil, bad("zip-irregular", "zip entry %q is not a regular file (mode %v)", name, mode)
		case f.Flags&0x1 != 0:
			return nil, bad("zip-encrypted", "zip entry %q is encrypted; make the zip without a password", name)
		}
		if isDir || mode.IsDir() {
			name = strings.TrimSuffix(name, "/")
			if _, isFile := a.files[name]; isFile {
				return nil, bad("zip-duplicate", "%q is both a file and a directory in the zip", name)
			}
			dirs[name] = true
			continue
		}
		if _, dup := a.files[name]; dup {
			return nil, bad("zip-duplicate", "zip entry %q appears twice", name)
		}
		if dirs[name] {
			return nil, bad("zip-duplicate", "%q is both a file and a directory in the zip", name)
		}
		if f.UncompressedSize64 > uint64(lim.MaxTotalBytes) {
			return nil, bad("zip-size", "zip entry %q inflates to %d bytes; a package may hold at most %d bytes uncompressed",
				name, f.UncompressedSize64, lim.MaxTotalBytes)
		}
		us, cs := int64(f.UncompressedSize64), int64(f.CompressedSize64)
		if us > lim.RatioFloor && (cs == 0 || us/cs > lim.MaxRatio) {
			return nil, bad("zip-ratio", "zip entry %q inflates %d bytes to %d, more than %d times: refused as a zip bomb",
				name, cs, us, lim.MaxRatio)
		}
		a.size += us
		if a.size > lim.MaxTotalBytes {
			return nil, bad("zip-size", "the zip's entries inflate to more than %d bytes, the limit of a package", lim.MaxTotalBytes)
		}
		a.files[name] = f
		a.paths = append(a.paths, name)
		a.lower[strings.ToLower(name)] = name
	}
	// A file must not stand where another entry needs a directory: a/b
	// and a/b/c cannot both be stored.
	for _, p := range a.paths {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, isFile := a.files[d]; isFile {
				return nil, bad("zip-duplicate", "%q is a file in the zip, but %q needs it to be a directory", d, p)
			}
		}
	}
	sort.Strings(a.paths)
	if len(a.paths) == 0 {
		return nil, bad("zip-empty", "the zip holds no files")
	}
	return a, nil
}

// checkName returns an errs.Invalid error unless name is a safe relative
// path inside a package.
func checkName(name string) error {
	switch {
	case name == "":
		return bad("zip-path", "the zip has an entry without a name")
	case !utf8.ValidString(name):
		return bad("zip-path", "zip entry %q has a name that is not UTF-8: make the zip with a tool that stores UTF-8 names", name)
	case len(name) > maxNameBytes:
		return bad("zip-path", "zip entry %q…: a name may have at most %d bytes", name[:64], maxNameBytes)
	case strings.Contains(name, `\`):
		return bad("zip-path", "zip entry %q has a backslash in its name; paths inside a package use /", name)
	case strings.HasPrefix(name, "/"):
		return bad("zip-path", "zip entry %q has an absolute path; paths inside a package are relative", name)
	case len(name) >= 2 && name[1] == ':' && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z'):
		return bad("zip-path", "zip entry %q starts with a drive letter; paths inside a package are relative", name)
	}
	for _, seg := range strings.Split(name, "/") {
		switch {
		case seg == "..":
			return bad("zip-path", "zip entry %q leads out of the package (..): refused", name)
		case seg == "." || seg == "":
			return bad("zip-path", "zip entry %q has an empty or \".\" segment; write it as a plain relative path", name)
		case len(seg) > maxSegmentBytes:
			return bad("zip-path", "zip entry %q has a segment longer than %d bytes", name, maxSegmentBytes)
		}
		for _, c := range seg {
			if unicode.IsControl(c) {
				return bad("zip-path", "zip entry %q has a control character in its name", name)
			}
		}
	}
	return nil
}

// Paths lists the files of the archive, sorted.
func (a *Archive) Paths() []string { return a.paths }

// Size is the uncompressed size of the files, as declared.
func (a *Archive) Size() int64 { return a.size }

// Has reports whether the archive holds a file at p.
func (a *Archive) Has(p string) bool {
	_, ok := a.files[p]
	return ok
}

// caseVariant returns the name of a file whose path differs from p only in
// case, or "".
func (a *Archive) caseVariant(p string) string {
	return a.lower[strings.ToLower(p)]
}

// Open opens the file at p. Reading it fails with an errs.Invalid error if
// the entry is broken: an unsupported compression method, a bad checksum,
// more bytes than its directory declares.
func (a *Archive) Open(p string) (io.ReadCloser, error) {
	f, ok := a.files[p]
	if !ok {
		return nil, errs.E(errs.NotFound, "no file %q in the package", p)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, entryError(p, err)
	}
	return &entryReader{rc: rc, name: p}, nil
}

// ReadFile reads the whole file at p, which must not exceed max bytes.
func (a *Archive) ReadFile(p string, max int64) ([]byte, error) {
	f, ok := a.files[p]
	if !ok {
		return nil, errs.E(errs.NotFound, "no file %q in the package", p)
	}
	if f.UncompressedSize64 > uint64(max) {
		return nil, bad("manifest-size", "%s has %d bytes; the limit is %d", p, f.UncompressedSize64, max)
	}
	rc, err := a.Open(p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// entryReader reads a zip entry, turning its errors into errs.Invalid ones.
type entryReader struct {
	rc   io.ReadCloser
	name string
}

func (r *entryReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = entryError(r.name, err)
	}
	return n, err
}

func (r *entryReader) Close() error { return r.rc.Close() }

func entryError(name string, err error) error {
	switch {
	case errors.Is(err, zip.ErrAlgorithm):
		return &errs.Error{Kind: errs.Invalid, Rule: "zip-method", Err: err,
			Message: fmt.Sprintf("zip entry %q uses a compression method other than deflate or store; make the zip with a common tool", name)}
	case errors.Is(err, zip.ErrChecksum):
		return &errs.Error{Kind: errs.Invalid, Rule: "zip-corrupt", Err: err,
			Message: fmt.Sprintf("zip entry %q is corrupt: its checksum does not match", name)}
	case errors.Is(err, zip.ErrFormat):
		return &errs.Error{Kind: errs.Invalid, Rule: "zip-corrupt", Err: err,
			Message: fmt.Sprintf("zip entry %q is corrupt or inflates to more than its declared size", name)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &errs.Error{Kind: errs.Invalid, Rule: "zip-corrupt", Err: err,
			Message: fmt.Sprintf("zip entry %q is truncated", name)}
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return &errs.Error{Kind: errs.Invalid, Rule: "zip-corrupt", Err: err,
		Message: fmt.Sprintf("zip entry %q cannot be read: %v", name, err)}
}

// ValidPath reports whether p is a path a package file may have (see
// OpenArchive): stores and the content route refuse any other.
func ValidPath(p string) bool { return checkName(p) == nil }
