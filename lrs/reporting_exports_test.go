package lrs_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/tokens"
)

// TestReportingExports asks the KiNS status report as an Excel workbook
// and the evidence pack of a unit as a signed JWS, and checks both: the
// workbook's rows and dates, the pack's signature against the server's
// published keys, and that a changed pack fails.
func TestReportingExports(t *testing.T) {
	tok, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := newReportingServerWith(t, func(cfg *lrs.Config) { cfg.Tokens = tok })
	hr := ts.hr
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	for id, body := range kinsModules() {
		expect(t, hr("PUT", "/api/v1/modules/"+id, "", body), http.StatusCreated)
	}
	for id, body := range kinsRules {
		expect(t, hr("PUT", "/api/v1/rules/"+id, "", body), http.StatusCreated)
	}
	ts.clock.Set(at("2025-01-06T07:00:00Z"))
	expect(t, hr("POST", "/api/v1/roster/imports", "application/json", kinsRoster), http.StatusCreated)
	ids := ts.postAt("2025-01-22T12:00:00Z",
		moodle("ola.nordmann", "Ola Nordmann", "completed", 1, "2025-01-20T09:00:00Z", nil),
		moodle("ola.nordmann", "Ola Nordmann", "completed", 2, "2025-01-21T09:00:00Z", nil))
	ts.clock.Set(at("2025-02-01T12:00:00Z"))

	// The workbook.
	r := ts.do(req{method: "GET", path: "/api/v1/reports/status?format=xlsx&unit=sykehjem&tz=Europe/Oslo", key: "auditor"})
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) < 2 {
		t.Fatalf("sheets %v, want the report and the summary", sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	// Two people of sykehjem with the mobile rule's five modules each.
	if len(rows) != 1+10 {
		t.Fatalf("%d rows, want a header and 10: %v", len(rows), rows)
	}
	var completedCell string
	for i, row := range rows[1:] {
		line := strings.Join(row, "|")
		if strings.Contains(line, "Kari Ødegård") && strings.Contains(line, "completed") {
			t.Errorf("Kari completed nothing: %s", line)
		}
		if strings.Contains(line, "Ola Nordmann") && strings.Contains(line, "kins-1") {
			if !strings.Contains(line, "completed") || !strings.Contains(line, "Solbakken sykehjem") {
				t.Errorf("Ola's kins-1 row: %s", line)
			}
			for c, v := range row {
				if v == "2025-01-20" {
					completedCell, _ = excelize.CoordinatesToCellName(c+1, i+2)
				}
			}
		}
	}
	if completedCell == "" {
		t.Fatal("no completion date 2025-01-20 in Ola's kins-1 row")
	}
	if typ, _ := f.GetCellType(sheets[0], completedCell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("the completion date %s is stored as text, want a date", completedCell)
	}
	expect(t, ts.do(req{method: "GET", path: "/api/v1/reports/reminders?format=xlsx", key: "auditor"}), http.StatusBadRequest)

	// The evidence pack, verified with the keys the server publishes.
	r = ts.do(req{method: "GET", path: "/api/v1/reports/evidence?unit=sykehjem&from=2025-01-01&to=2025-01-31&tz=Europe/Oslo", key: "auditor"})
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/jose" {
		t.Errorf("Content-Type %q", ct)
	}
	jwks := ts.do(req{method: "GET", path: "/api/v1/jwks.json", noAuth: true, version: "-"})
	expect(t, jwks, http.StatusOK)
	keys, err := evidence.ParseJWKS(jwks.body)
	if err != nil {
		t.Fatal(err)
	}
	pack, err := evidence.Verify(r.body, keys)
	if err != nil {
		t.Fatalf("the pack does not verify: %v", err)
	}
	if pack.Tenant != "default" || len(pack.Rows) != 10 || pack.Statements() != 2 {
		t.Errorf("pack: tenant %q, %d rows, %d statements", pack.Tenant, len(pack.Rows), pack.Statements())
	}
	var cited []string
	for _, row := range pack.Rows {
		for _, e := range row.Evidence {
			cited = append(cited, e.Statement)
			if len(e.SHA256) != 64 || e.Authority == "" {
				t.Errorf("evidence without proof: %+v", e)
			}
		}
	}
	for _, id := range ids {
		if !contains(cited, id) {
			t.Errorf("statement %s is not in the pack", id)
		}
	}
	tampered := bytes.Clone(r.body)
	i := bytes.IndexByte(tampered, '.') + 10
	tampered[i] ^= 1
	if _, err := evidence.Verify(tampered, keys); err == nil {
		t.Error("a changed pack verified")
	}
	expect(t, ts.do(req{method: "GET", path: "/api/v1/reports/evidence?from=2025-01-01&to=2025-01-31", key: "auditor"}), http.StatusBadRequest)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/reports/evidence?unit=sykehjem&to=31.01.2025x", key: "auditor"}), http.StatusBadRequest)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/reports/evidence?unit=sykehjem&to=2025-01-31", key: "roster"}), http.StatusForbidden)
}
