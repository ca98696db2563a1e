package packages

import (
	"context"
	"io"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// Importer is the import use case: it reads a zip, parses its manifest,
// finds the versions of the package imported before, gives the new
// version their activity IRIs, and stores its files and record.
type Importer struct {
	Store  Store
	Limits Limits           // zero fields: DefaultLimits
	Now    func() time.Time // nil: time.Now
}

// ImportRequest says who imports, for which tenant, under which public
// base URL (of the LRS: SCORM activity IRIs are made under it), and which
// kind of package the zip holds ("" to find out from its manifest).
type ImportRequest struct {
	Tenant string
	Base   string
	By     string // the importing credential's key
	Kind   Kind
}

// Imported is the result of an import.
type Imported struct {
	Package *Package
	// Previous is the latest version before this one; nil for a first
	// import.
	Previous *Package
}

// Import imports the zip file r of size bytes. A package whose identifier
// (SCORM manifest identifier, cmi5 course id, Tin Can activity id) was
// imported before becomes its next version and keeps its activity IRIs:
// the SCORM course IRI of the first import (items keep theirs by their
// identifiers), the ids of cmi5 and Tin Can, which the manifest gives. Every
// fault of the package is an errs.Invalid error (errs.TooLarge for a zip
// over the size limit) saying what to change.
func (im *Importer) Import(ctx context.Context, req ImportRequest, r io.ReaderAt, size int64) (*Imported, error) {
	lim := im.Limits.WithDefaults()
	a, err := OpenArchive(r, size, lim)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(a, req.Kind, lim.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	id := PackageID(m.Identifier)
	prev, err := im.Store.Package(ctx, req.Tenant, id)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	p := &Package{Tenant: req.Tenant, ID: id, Kind: m.Kind, SchemaVersion: m.SchemaVersion, Identifier: m.Identifier,
		Title: m.Title, Titles: m.Titles, ActivityID: m.ActivityID, Launchables: m.Launchables,
		Files: len(a.Paths()), Size: a.Size(), Imported: now().UTC(), ImportedBy: req.By}
	if m.Kind == SCORM12 || m.Kind == SCORM2004 {
		if req.Base == "" && prev == nil {
			return nil, errs.E(errs.Internal, "packages: no base URL to make a SCORM package's activity IRIs under")
		}
		p.ActivityID = SCORMCourseIRI(req.Base, req.Tenant, m.Identifier)
		if prev != nil && prev.ActivityID != "" {
			p.ActivityID = prev.ActivityID
		}
		for i := range p.Launchables {
			p.Launchables[i].ActivityID = SCORMItemIRI(p.ActivityID, p.Launchables[i].ID)
		}
	}
	if err := im.Store.PutVersion(ctx, p, a); err != nil {
		return nil, err
	}
	return &Imported{Package: p, Previous: prev}, nil
}
