package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// TestPagesOverview: the overview is the start page of hr, auditors and
// managers, refused to learners and to nobody; it shows the whole
// organisation to hr and auditors and the subtrees of their units to
// managers, with a campaign's progress, and its trend of twelve month ends
// equals the API's summary report as of each of them. The chart is SVG
// with a title and a description, no inline style or script.
func TestPagesOverview(t *testing.T) {
	e := startPages(t)
	e.api(t, "PUT", "/api/v1/campaigns/sikkerhetsmaned", map[string]any{"title": map[string]string{"nb-NO": "Sikkerhetsmåneden", "en": "Security month"},
		"modules": []string{"personvern-5"}, "start": e.day(-5), "end": e.day(20)}, http.StatusCreated)

	for role, want := range map[string]int{acctHR: 200, acctAuditor: 200, acctManager: 200, acctHelse: 200, acctLearner: 403, acctNobody: 403} {
		b := e.browser(t)
		b.signIn(role)
		res, _ := b.get("/")
		if loc := res.Header.Get("Location"); want == 200 && loc != "/overview" {
			t.Errorf("%s: / sent to %q", role, loc)
		}
		if res, _ := b.get("/overview"); res.StatusCode != want {
			t.Errorf("%s: /overview: %d, want %d", role, res.StatusCode, want)
		}
		knownAt := map[bool]int{true: 200, false: 403}[role == acctHR || role == acctAuditor]
		if res, _ := b.get("/overview?knownAt=" + e.day(0)); res.StatusCode != knownAt {
			t.Errorf("%s: /overview?knownAt=: %d, want %d", role, res.StatusCode, knownAt)
		}
	}
	if res, _ := e.browser(t).get("/overview"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /overview: %d", res.StatusCode)
	}

	hr := e.browser(t)
	hr.signIn(acctHR)
	_, page := hr.get("/overview")
	// Six people, two modules each and the campaign's module for all:
	// 18 rows, Kari's module 1 completed, the other 11 role rows overdue.
	for _, want := range []string{`<dd id="people">6</dd>`, `<dd id="percent">5,6` + "\u00a0%</dd>", `<dd id="overdue">11</dd>`,
		`<a href="/units/oppvekst">Oppvekst</a>`, `<th scope="row">Grunnleggende personvern</th>`,
		`<th scope="row" id="campaign-sikkerhetsmaned">Sikkerhetsmåneden</th><td>` + dateNB(e.day(-5)) + "–" + dateNB(e.day(20)) + `</td>`,
		`<svg class="chart" role="img" aria-labelledby="chart-title chart-desc"`, `<title id="chart-title">Andel fullført de siste 12 månedene</title>`,
		`<desc id="chart-desc">Linjediagram`} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<script") || strings.Contains(page, "<style") {
		t.Error("the overview has inline styles or scripts")
	}

	// The trend: each month end's share as the summary report gives it.
	rows := regexp.MustCompile(`<tr><th scope="row">(\d\d\.\d\d\.\d{4})</th><td class="num">(\d+)</td><td class="num">([^<]*)</td>`).FindAllStringSubmatch(page, -1)
	if len(rows) != 12 {
		t.Fatalf("the trend table has %d rows", len(rows))
	}
	withRows := 0
	for _, row := range rows {
		day, err := time.Parse("02.01.2006", row[1])
		if err != nil {
			t.Fatal(err)
		}
		var sum reporting.Summary
		body := e.api(t, "GET", "/api/v1/reports/summary?tz=Europe/Oslo&asOf="+day.Format("2006-01-02"), nil, 200)
		if err := json.Unmarshal(body, &sum); err != nil {
			t.Fatal(err)
		}
		share := "–"
		if sum.Total.Rows > 0 {
			withRows++
			share = strings.Replace(strconv.FormatFloat(sum.Total.Percent, 'f', 1, 64), ".", ",", 1) + "\u00a0%"
		}
		if row[2] != strconv.Itoa(sum.Total.Rows) || row[3] != share {
			t.Errorf("trend on %s: %s rows, %s; the summary report: %d rows, %s", row[1], row[2], row[3], sum.Total.Rows, share)
		}
	}
	if withRows < 2 || rows[11][1] != dateNB(e.day(0)) {
		t.Errorf("the trend has %d days with requirements and ends on %s", withRows, rows[11][1])
	}
	if n := strings.Count(page, `<circle class="point"`); n != withRows {
		t.Errorf("the chart has %d points for %d days with requirements", n, withRows)
	}

	// A manager sees their subtree: Oppvekst with Solberg skole, not Helse.
	m := e.browser(t)
	m.signIn(acctManager)
	_, page = m.get("/overview?asOf=" + e.day(-1))
	for _, want := range []string{`<dd id="people">3</dd>`, `<a href="/units/skole?asOf=` + e.day(-1) + `">Solberg skole</a>`,
		`<p class="lead">Enhetene du leder, med underenhetene.</p>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the manager's overview lacks %q", want)
		}
	}
	if strings.Contains(page, "Helse og omsorg") || strings.Contains(page, "Kommunen") {
		t.Error("the manager's overview shows units outside their subtree")
	}
}

// dateNB writes a YYYY-MM-DD day as the Norwegian pages do.
func dateNB(day string) string {
	t, _ := time.Parse("2006-01-02", day)
	return t.Format("02.01.2006")
}
