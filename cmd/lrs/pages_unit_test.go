package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/reporting/evidence"
)

// xlsxRows returns the rows of each sheet of a workbook, by sheet name.
func xlsxRows(t *testing.T, data []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		out[s] = rows
	}
	return out
}

// jwksOf returns the public keys the service publishes.
func (e *pagesEnv) jwksOf(t *testing.T) *evidence.JWKS {
	t.Helper()
	res, err := http.Get(e.base + "/api/v1/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	keys, err := evidence.ParseJWKS(b)
	if err != nil || keys.Len() == 0 {
		t.Fatalf("the published keys: %v (%d)", err, keys.Len())
	}
	return keys
}

// packContent is what two packs of the same request share (all but the
// time each was generated and the key that signed it).
func packContent(t *testing.T, p *evidence.Pack) string {
	t.Helper()
	c := *p
	c.Generated = time.Time{}
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPagesUnitDownloads: the unit page's filters (status, module) and its
// downloads, the XLSX workbook and the signed evidence pack, for each
// role: the workbook is the API's XLSX status report of the unit, row for
// row; the pack verifies with the published keys and holds what the API's
// pack of the unit and period holds; both are in the access log; bad
// dates and filters answer a 400 page.
func TestPagesUnitDownloads(t *testing.T) {
	e := startPages(t)
	period := "?from=" + e.day(-30) + "&to=" + e.day(0)
	filtered := "?status=overdue&module=personvern-5"
	pages := []string{"/units/oppvekst/status.xlsx", "/units/helse/status.xlsx", "/units/oppvekst/evidence" + period,
		"/units/helse/evidence" + period, "/units/oppvekst" + filtered, "/units/skole/status.csv?status=open",
		"/units/skole/status.xlsx" + filtered, "/units/nope/status.xlsx", "/units/nope/evidence" + period,
		"/units/oppvekst/evidence" + period + "&knownAt=" + e.day(0)}
	want := map[string][]int{ // by role, in the order of pages
		"anonymous": {303, 303, 303, 303, 303, 303, 303, 303, 303, 303},
		acctHR:      {200, 200, 200, 200, 200, 200, 200, 404, 404, 200},
		acctAuditor: {200, 200, 200, 200, 200, 200, 200, 404, 404, 200},
		acctManager: {200, 403, 200, 403, 200, 200, 200, 403, 403, 403}, // oppvekst and skole
		acctHelse:   {403, 200, 403, 200, 403, 403, 403, 403, 403, 403}, // helse
		acctLearner: {403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
		acctNobody:  {403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
	}
	for role, statuses := range want {
		t.Run(role, func(t *testing.T) {
			b := e.browser(t)
			if role != "anonymous" {
				b.signIn(role)
			}
			for i, path := range pages {
				res, body := b.get(path)
				ct := res.Header.Get("Content-Type")
				switch {
				case res.StatusCode != statuses[i]:
					t.Errorf("%s: %d, want %d", path, res.StatusCode, statuses[i])
				case role == "anonymous" && res.Header.Get("Location") != "/login?next="+url.QueryEscape(path):
					t.Errorf("%s: sent to %q", path, res.Header.Get("Location"))
				case res.StatusCode == 403 || res.StatusCode == 404:
					if !strings.Contains(body, "<main") || res.Header.Get("Content-Disposition") != "" {
						t.Errorf("%s: the refusal is not a page", path)
					}
				case res.StatusCode != 200:
				case strings.Contains(path, ".xlsx") && ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
					strings.Contains(path, "/evidence") && ct != "application/jose",
					strings.Contains(path, ".csv") && !strings.HasPrefix(ct, "text/csv"),
					!strings.Contains(path, "/status.") && !strings.Contains(path, "/evidence") && !strings.HasPrefix(ct, "text/html"):
					t.Errorf("%s: Content-Type %s", path, ct)
				}
			}
		})
	}

	hr := e.browser(t)
	hr.signIn(acctHR)
	// The workbook is the API's, sheet for sheet, with and without a
	// module filter and a past as-of day.
	for _, q := range []string{"", "?module=personvern-5", "?asOf=" + e.day(-20)} {
		res, page := hr.get("/units/oppvekst/status.xlsx" + q)
		apiQ := "&asOf=" + e.day(0)
		if strings.HasPrefix(q, "?asOf=") {
			apiQ = "&" + q[1:]
		} else if q != "" {
			apiQ += "&" + q[1:]
		}
		api := e.api(t, "GET", "/api/v1/reports/status?format=xlsx&unit=oppvekst&tz=Europe/Oslo"+apiQ, nil, http.StatusOK)
		got, wantRows := xlsxRows(t, []byte(page)), xlsxRows(t, api)
		asOf := e.day(0)
		if strings.HasPrefix(q, "?asOf=") {
			asOf = e.day(-20)
		}
		if len(got["Report"]) < 2 || !equalSheets(got, wantRows) {
			t.Errorf("the workbook%s differs from the API's:\n%v\n---\n%v", q, got, wantRows)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="status-oppvekst-`+asOf+`.xlsx"` {
			t.Errorf("%s: Content-Disposition %q", q, cd)
		}
	}
	// The status filter: the rows of the status (or of all not done), in
	// the page, the CSV and the workbook, whose summary counts them.
	_, page := hr.get("/units/oppvekst?status=overdue&module=personvern-5")
	if !strings.Contains(page, `<option value="overdue" selected>`) || !strings.Contains(page, `<option value="personvern-5" selected>`) ||
		!strings.Contains(page, `href="/units/oppvekst/status.xlsx?module=personvern-5&amp;status=overdue"`) ||
		!strings.Contains(page, `href="/units/skole?module=personvern-5&amp;status=overdue"`) ||
		strings.Count(page, `<span class="status s-overdue">`) != 3 || strings.Contains(page, "s-completed") {
		t.Errorf("the filtered page:\n%s", page)
	}
	_, csv := hr.get("/units/oppvekst/status.csv?status=open")
	if lines := strings.Split(strings.TrimSpace(csv), "\r\n"); len(lines) != 1+5 || strings.Count(csv, ";overdue;") != 5 {
		t.Errorf("the CSV of the rows not done (%d lines):\n%q", len(lines), csv)
	}
	_, page = hr.get("/units/oppvekst/status.xlsx?status=completed")
	sheets := xlsxRows(t, []byte(page))
	if r := sheets["Report"]; len(r) != 2 || r[1][1] != "Kari Nordmann" || r[1][9] != "completed" ||
		len(sheets["Summary"]) < 4 || !slices.Equal(sheets["Summary"][3], []string{"People", "1"}) {
		t.Errorf("the workbook of the completed rows: %v", sheets)
	}
	if _, page := hr.get("/units/helse?status=completed"); !strings.Contains(page, `id="nobody"`) || !strings.Contains(page, "passer filteret") {
		t.Errorf("a filter that keeps nothing:\n%s", page)
	}

	// The pack is the API's pack of the unit and period, signed with the
	// published keys; knownAt is kept.
	keys := e.jwksOf(t)
	for _, q := range []string{period, period + "&knownAt=" + e.day(0)} {
		res, page := hr.get("/units/oppvekst/evidence" + q)
		pack, err := evidence.Verify([]byte(page), keys)
		if err != nil {
			t.Fatalf("the page's pack does not verify: %v\n%s", err, page)
		}
		apiPack, err := evidence.Verify(e.api(t, "GET", "/api/v1/reports/evidence"+q+"&unit=oppvekst&tz=Europe/Oslo", nil, http.StatusOK), keys)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pack.Units, []string{"oppvekst"}) || len(pack.Rows) != 6 || pack.Statements() != 1 ||
			packContent(t, pack) != packContent(t, apiPack) || pack.KnownAt.IsZero() != !strings.Contains(q, "knownAt") {
			t.Errorf("the page's pack%s differs from the API's:\n%s\n---\n%s", q, packContent(t, pack), packContent(t, apiPack))
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="evidence-oppvekst-`+e.day(0)) {
			t.Errorf("Content-Disposition %q", cd)
		}
	}

	// Bad dates and filters: a 400 page saying what is wrong.
	for path, msg := range map[string]string{
		"/units/oppvekst/evidence?to=31.13.2026":                         "to must be a day",
		"/units/oppvekst/evidence?from=yesterday&to=" + e.day(0):         "from must be a day",
		"/units/oppvekst/evidence?from=" + e.day(0) + "&to=" + e.day(-1): "starts",
		"/units/oppvekst/evidence":                                       "last day",
		"/units/oppvekst/status.xlsx?asOf=2026-02-30":                    "asOf must be a date",
		"/units/oppvekst/status.xlsx?status=late":                        "status must be",
		"/units/oppvekst/status.csv?module=nope":                         "not in the catalog",
		"/units/oppvekst?status=nope":                                    "status must be",
		"/units/oppvekst?module=nope":                                    "not in the catalog",
	} {
		res, body := hr.get(path)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<main") || !strings.Contains(body, msg) ||
			res.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s: %d, want 400 saying %q:\n%s", path, res.StatusCode, msg, body)
		}
	}

	// The downloads are in the access log, with the account as the actor.
	reads := func() []string {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/access-log?person=202", nil)
		req.SetBasicAuth(e.key, e.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var log struct {
			Entries []struct{ Actor, What string } `json:"entries"`
		}
		if err := json.NewDecoder(res.Body).Decode(&log); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range log.Entries {
			if x.Actor == acctManager {
				out = append(out, x.What)
			}
		}
		return out
	}
	before := len(reads())
	m := e.browser(t)
	m.signIn(acctManager)
	for _, path := range []string{"/units/skole/status.xlsx", "/units/skole/evidence" + period} {
		if res, _ := m.get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	if got, want := reads()[before:], []string{"page/unit.xlsx", "page/unit.evidence"}; !slices.Equal(got, want) {
		t.Errorf("the manager's reads of Ola in the access log: %q, want %q", got, want)
	}
}

// equalSheets reports whether two workbooks have the same sheets with the
// same cells.
func equalSheets(a, b map[string][][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for name, rows := range a {
		if !slices.EqualFunc(rows, b[name], slices.Equal) {
			return false
		}
	}
	return true
}

// TestPagesUnitNoTokens: without the token keys (--tokens=false) the unit
// page offers no evidence pack, and its address answers 404; the other
// downloads stay.
func TestPagesUnitNoTokens(t *testing.T) {
	e := startPages(t, "--tokens=false")
	b := e.browser(t)
	b.signIn(acctAuditor)
	if res, page := b.get("/units/k"); res.StatusCode != http.StatusOK || strings.Contains(page, "/evidence") || !strings.Contains(page, "status.xlsx") {
		t.Errorf("/units/k without tokens: %d\n%s", res.StatusCode, page)
	}
	if res, page := b.get("/units/k/evidence?to=" + e.day(0)); res.StatusCode != http.StatusNotFound || !strings.Contains(page, "<main") {
		t.Errorf("the pack without tokens: %d\n%s", res.StatusCode, page)
	}
}
