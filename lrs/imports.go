package lrs

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/lmsimport"
)

// The import of an LMS's completion export (package lmsimport does the
// work), with compliance reporting on and scope roster/write:
//
//	POST /api/v1/imports/completions[?dryRun=true][&tz=Europe/Oslo][&scoreScale=percent|fraction][&sheet=NAME]
//
// The body is the file: CSV (text/csv or another CSV media type) or XLSX
// (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet);
// application/octet-stream is taken too, the format told by the bytes. tz
// is the time zone of the file's dates (default Europe/Oslo), scoreScale
// how its scores are written (default: detected), sheet the XLSX sheet
// (default: the first). The answer is 200 with lmsimport.Result:
//
//	{"rows": 120, "recorded": 95, "alreadyRecorded": 3,
//	 "skipped": [{"row": 7, "reason": "unknown person: …"}, …],
//	 "statements": [ids…], "dryRun": false, "sha256": "…", "format": "csv", "scoreScale": "percent"}
//
// dryRun=true answers the same without storing anything. A file that
// cannot be read is a 400 naming the row and column; one over
// maxImportBodyBytes or lmsimport.DefaultMaxRows rows a 413.

// maxImportBodyBytes bounds a completion export: some 100,000 rows of CSV.
const maxImportBodyBytes = 32 << 20

// importMediaTypes are the Content-Types a completion export is taken in.
var importMediaTypes = append([]string{xlsxType, "application/octet-stream"}, csvMediaTypes...)

// newImports returns the import service, with reporting on.
func (s *Server) newImports() *lmsimport.Service {
	if s.cfg.Reporting == nil {
		return nil
	}
	return lmsimport.NewService(lmsimport.Config{Ingest: s.ingest, Statements: s.cfg.Store, Source: s.cfg.Reporting,
		Batch: s.cfg.MaxBatch, Now: s.now})
}

func (s *Server) postCompletionsImport(c *echo.Context) error {
	r := c.Request()
	q, err := parseParams(r)
	if err != nil {
		return err
	}
	if err := allowOnly(q, "dryRun", "tz", "scoreScale", "sheet"); err != nil {
		return err
	}
	req := lmsimport.Request{Writer: s.writer(c), Sheet: q.Get("sheet")}
	if req.DryRun, err = boolParam(q, "dryRun"); err != nil {
		return err
	}
	if v := q.Get("tz"); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil || v == "Local" {
			return errs.Invalidf("tz", "time-zone", "parameter tz must be an IANA time zone like Europe/Oslo, got %q", v)
		}
		req.Options.Location = loc
	}
	switch v := lmsimport.ScoreScale(q.Get("scoreScale")); v {
	case lmsimport.ScaleAuto, lmsimport.Percent, lmsimport.Fraction:
		req.Options.ScoreScale = v
	default:
		return errs.Invalidf("scoreScale", "score-scale", "parameter scoreScale must be percent (scores 0–100) or fraction (0–1), got %q", v)
	}
	ct := r.Header.Get("Content-Type")
	mt, _, perr := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return errs.E(errs.UnsupportedMedia, "give the Content-Type: text/csv for a CSV file, %s for an XLSX workbook", xlsxType)
	case perr != nil:
		return errs.Invalidf("", "content-type", "malformed Content-Type %q: %v", ct, perr)
	case !slices.Contains(importMediaTypes, mt):
		return errs.E(errs.UnsupportedMedia, "Content-Type %s is not accepted: send text/csv or %s", mt, xlsxType)
	}
	if req.Data, err = readLimited(c, maxImportBodyBytes,
		fmt.Sprintf("a completion export may be at most %d bytes; split it into several imports", maxImportBodyBytes)); err != nil {
		return err
	}
	if len(bytes.TrimSpace(req.Data)) == 0 {
		return errs.Invalidf("", "body-required", "the body is empty: send the CSV or XLSX file")
	}
	res, err := s.imports.Import(r.Context(), req)
	if err != nil {
		return err
	}
	if !req.DryRun {
		if res.Recorded > 0 {
			s.metrics.countAccepted(res.Recorded)
		}
		s.audit(c, "completions.import", res.SHA256, "rows "+strconv.Itoa(res.Rows)+", recorded "+strconv.Itoa(res.Recorded)+
			", already recorded "+strconv.Itoa(res.AlreadyRecorded)+", skipped "+strconv.Itoa(len(res.Skipped)))
	}
	return writeJSON(c, http.StatusOK, res)
}
