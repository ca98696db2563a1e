// Package packages is the content domain: e-learning packages (SCORM 1.2,
// SCORM 2004 2nd–4th edition, cmi5 and Tin Can) imported as zip files,
// their manifests, the activity IRIs they are tracked by, and the storage
// of their files.
//
// It holds:
//
//   - the zip reader that refuses what must not be stored (OpenArchive:
//     path traversal, absolute paths, backslashes, symlinks, encrypted
//     entries, zip bombs by size, entry count and compression ratio);
//   - the manifest parsers (imsmanifest.xml, cmi5.xml, tincan.xml) and the
//     check that every file a manifest names is in the zip (ParseManifest);
//   - the import use case (Importer): a new version of a package keeps the
//     activity IRIs of the versions before it, so completions keep counting;
//   - the catalog suggestion that links a package to a reporting module
//     (SuggestModule, LinkModule);
//   - the signed, expiring content link (ContentToken);
//   - the Store interface for package versions and their files, which
//     package sqlite (files on disk) and package mongo (GridFS) implement
//     and package packages/storetest checks.
//
// Every error a client can cause is an errs.Invalid error whose message
// says what to change in the package. The package imports neither the
// HTTP framework, nor net/http, nor a database driver.
package packages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
	"time"
)

// Kind says which standard a package follows.
type Kind string

const (
	SCORM12   Kind = "scorm12"   // imsmanifest.xml, SCORM 1.2
	SCORM2004 Kind = "scorm2004" // imsmanifest.xml, SCORM 2004 2nd, 3rd or 4th edition
	CMI5      Kind = "cmi5"      // cmi5.xml
	TinCan    Kind = "tincan"    // tincan.xml
)

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool {
	switch k {
	case SCORM12, SCORM2004, CMI5, TinCan:
		return true
	}
	return false
}

// Package is one version of an imported package. Versions of a package
// share its ID (derived from Identifier) and its ActivityID; each has its
// own files, which never change.
type Package struct {
	Tenant string `json:"-"`
	// ID names the package in URLs: 20 hex digits derived from Identifier
	// (see PackageID), the same for every version.
	ID      string `json:"id"`
	Version int    `json:"version"` // 1, 2, …; never reused, even after a delete
	Kind    Kind   `json:"kind"`
	// SchemaVersion is what a SCORM manifest says of itself, e.g. "1.2",
	// "CAM 1.3" (2004 2nd edition), "2004 3rd Edition", "2004 4th Edition".
	SchemaVersion string `json:"schemaVersion,omitempty"`
	// Identifier names the package across versions: the manifest
	// identifier (SCORM), the course id (cmi5), the launched activity's id
	// (Tin Can).
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
	// Titles is the title in each language the manifest gives it in (cmi5,
	// Tin Can), keyed "und" when it names no language.
	Titles map[string]string `json:"titles,omitempty"`
	// ActivityID is the IRI of the package as a whole: the course. For
	// SCORM it is made by the LRS at the first import (SCORMCourseIRI) and
	// kept by later versions; for cmi5 it is the course id, for Tin Can the
	// launched activity's id.
	ActivityID  string       `json:"activityId"`
	Launchables []Launchable `json:"launchables"`
	Files       int          `json:"files"` // files stored
	Size        int64        `json:"size"`  // their bytes, uncompressed
	Imported    time.Time    `json:"imported"`
	ImportedBy  string       `json:"importedBy"` // the key of the credential that imported it
	// Storage names the version's files in the store; set by
	// Store.PutVersion, never shown.
	Storage string `json:"-"`
}

// Launchable is something a learner launches: a SCORM item with a
// resource (a SCO or an asset), a cmi5 AU, a Tin Can activity with a
// launch URL.
type Launchable struct {
	// ID is the SCORM item identifier, the cmi5 AU id, the Tin Can
	// activity id.
	ID    string `json:"id"`
	Title string `json:"title"`
	// ActivityID is the IRI statements about it use: for SCORM, the
	// course IRI and the item identifier (SCORMItemIRI); for cmi5 the AU
	// id; for Tin Can the activity id.
	ActivityID string `json:"activityId"`
	// Href is the launch location: a path inside the package, with the
	// query and fragment the manifest gives (SCORM: the resource's href
	// with xml:base and the item's parameters), or an absolute http(s) URL
	// (cmi5 and Tin Can content hosted elsewhere).
	Href string `json:"href"`
	// Parents are the ids of the enclosing SCORM items or cmi5 blocks,
	// outermost first.
	Parents []string `json:"parents,omitempty"`

	// SCORM.
	SCORMType string `json:"scormType,omitempty"` // "sco" or "asset"
	// MasteryScore: SCORM 1.2 adlcp:masteryscore (0–100); cmi5
	// masteryScore (0–1).
	MasteryScore *float64 `json:"masteryScore,omitempty"`
	// MinNormalizedMeasure is the SCORM 2004 primary objective's
	// imsss:minNormalizedMeasure (-1–1), set when it has
	// satisfiedByMeasure="true", i.e. when it becomes
	// cmi.scaled_passing_score.
	MinNormalizedMeasure *float64 `json:"minNormalizedMeasure,omitempty"`
	// CompletionThreshold is SCORM 2004's adlcp:completionThreshold
	// (its minProgressMeasure in the 4th edition).
	CompletionThreshold *float64 `json:"completionThreshold,omitempty"`
	DataFromLMS         string   `json:"dataFromLMS,omitempty"`     // adlcp:datafromlms / adlcp:dataFromLMS
	MaxTimeAllowed      string   `json:"maxTimeAllowed,omitempty"`  // adlcp:maxtimeallowed (1.2)
	TimeLimitAction     string   `json:"timeLimitAction,omitempty"` // adlcp:timelimitaction / timeLimitAction

	// cmi5.
	MoveOn           string `json:"moveOn,omitempty"`       // Passed, Completed, CompletedAndPassed, CompletedOrPassed, NotApplicable
	LaunchMethod     string `json:"launchMethod,omitempty"` // AnyWindow, OwnWindow
	ActivityType     string `json:"activityType,omitempty"`
	LaunchParameters string `json:"launchParameters,omitempty"`
	EntitlementKey   string `json:"entitlementKey,omitempty"`
}

// PackageID derives a package's ID from its identifier, so that a new
// version of a package finds the versions before it.
func PackageID(identifier string) string {
	h := sha256.Sum256([]byte("lrs-package\x00" + identifier))
	return hex.EncodeToString(h[:10])
}

// ValidID reports whether id has the form of a package ID.
func ValidID(id string) bool {
	if len(id) != 20 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// SCORMCourseIRI is the activity IRI the LRS gives a SCORM package at its
// first import: base (the LRS's public URL), the tenant and the manifest
// identifier, after the ADL xAPI SCORM Profile's advice that a course IRI
// be <scheme>://<authority>/<course path> under a domain the organisation
// controls. Later versions keep the IRI of the first.
func SCORMCourseIRI(base, tenant, identifier string) string {
	return strings.TrimRight(base, "/") + "/activities/scorm/" + url.PathEscape(tenant) + "/" + url.PathEscape(identifier)
}

// SCORMItemIRI is the activity IRI of a SCORM item (a SCO): the course IRI
// and the item identifier, as the profile's <courseIRI>/<sco path>.
func SCORMItemIRI(course, item string) string {
	return course + "/" + url.PathEscape(item)
}

// File is an open file of a stored package version.
type File interface {
	io.ReadSeekCloser
	Size() int64
}

// Source is what a store reads a version's files from: an Archive.
type Source interface {
	// Paths lists the files, in a stable order.
	Paths() []string
	// Open opens the file at a path of Paths. Reading it fails with an
	// errs.Invalid error when the file turns out broken (a bad checksum,
	// more bytes than declared).
	Open(path string) (io.ReadCloser, error)
}

// Store keeps package versions and their files, per tenant. Every method
// is safe for concurrent use and isolates tenants: nothing of one tenant's
// packages is visible or served to another. Implementations: package
// sqlite (metadata in the database, files on disk beside it) and package
// mongo (metadata in a collection, files in GridFS); package
// packages/storetest holds the contract tests.
type Store interface {
	// PutVersion stores the files of src, then p as the next version of
	// package p.ID of p.Tenant: it sets p.Version to one more than the
	// highest version ever stored for that package (deleted versions
	// included, so that a version number never names two contents) and
	// p.Storage. Concurrent calls for one package get different versions.
	// If reading src fails, nothing is stored and that error is returned
	// as it is.
	PutVersion(ctx context.Context, p *Package, src Source) error
	// Package returns the latest version of a package, or an errs.NotFound
	// error (also for a deleted package).
	Package(ctx context.Context, tenant, id string) (*Package, error)
	// Version returns one version of a package, or an errs.NotFound error.
	Version(ctx context.Context, tenant, id string, version int) (*Package, error)
	// Versions lists the versions of a package, oldest first (none for an
	// unknown or deleted package).
	Versions(ctx context.Context, tenant, id string) ([]*Package, error)
	// Packages lists the latest version of each package of a tenant, by
	// ID.
	Packages(ctx context.Context, tenant string) ([]*Package, error)
	// DeletePackage deletes every version of a package and their files,
	// or returns an errs.NotFound error. Statements about it are not
	// touched.
	DeletePackage(ctx context.Context, tenant, id string) error
	// OpenFile opens the file at path of the version p (as Version or
	// Package returned it), or returns an errs.NotFound error.
	OpenFile(ctx context.Context, p *Package, path string) (File, error)
}
