package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/privacy"
)

// postFile posts a multipart form with a file, as the roster upload form
// does, with the page's CSRF token (unless fields has one).
func (b *browser) postFile(path string, fields url.Values, name string, content []byte) (*http.Response, string) {
	b.t.Helper()
	if !fields.Has("csrf") {
		fields.Set("csrf", b.csrf)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		fw.Write(content)
	}
	w.Close()
	req, _ := http.NewRequest("POST", b.e.base+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// hiddenFields reads the hidden fields of the form posting to action.
func hiddenFields(page, action string) url.Values {
	i := strings.Index(page, `action="`+action+`"`)
	if i < 0 {
		return nil
	}
	form := page[i:]
	form = form[:strings.Index(form, "</form>")]
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(form, -1) {
		out.Set(m[1], htmlUnescape(m[2]))
	}
	return out
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// catalogJSON returns the API's list of a catalog kind, for comparing
// before and after a refused change.
func (e *pagesEnv) catalogJSON(t *testing.T) string {
	var out []string
	for _, k := range []string{"modules", "rules", "campaigns", "exemptions"} {
		out = append(out, string(e.api(t, "GET", "/api/v1/"+k, nil, http.StatusOK)))
	}
	out = append(out, string(e.api(t, "GET", "/api/v1/roster/imports", nil, http.StatusOK)))
	return strings.Join(out, "\n")
}

// An organisation's roster as a people CSV: everyone of startPages, but
// Ola moves to helse, Per Persen starts in skole, and 301 is gone.
const rosterCSV = "ansattnr;navn;epost;enhet;rolle;startdato\n" +
	"100;Rådmann Rød;radmann@k.no;k;ansatt;\n" +
	"200;Oppvekstsjef Ødegård;oppvekstsjef@k.no;oppvekst;ansatt;\n" +
	"201;Kari Nordmann;kari.nordmann@k.no;skole;ansatt;\n" +
	"202;Ola Nordmann;ola.nordmann@k.no;helse;ansatt;\n" +
	"203;Per Persen;per.persen@k.no;skole;ansatt|verneombud;01.02.2026\n" +
	"300;Helsesjef Hansen;helsesjef@k.no;helse;ansatt;\n"

// TestPagesAdminRoles asks for every administration page and posts every
// administration form as each role: hr alone is served; learners,
// managers, auditors and accounts without a role are refused (403) and
// change nothing; nobody signed in is sent to sign in (pages) or refused
// (forms); a form without the session's token is refused even for hr.
func TestPagesAdminRoles(t *testing.T) {
	e := startPages(t)
	pages := []string{"/admin", "/admin/roster", "/admin/modules", "/admin/modules/new", "/admin/modules/infosikkerhet-1",
		"/admin/rules", "/admin/rules/new", "/admin/rules/alle", "/admin/campaigns", "/admin/exemptions", "/admin/erasure", "/admin/reminders"}
	// Campaign and exemption to end and delete.
	e.api(t, "PUT", "/api/v1/campaigns/var-1", map[string]any{"modules": []string{"personvern-5"}, "start": e.day(-5), "end": e.day(20)}, http.StatusCreated)
	e.api(t, "PUT", "/api/v1/exemptions/x1", map[string]any{"person": "202", "module": "personvern-5"}, http.StatusCreated)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/admin/roster/apply", url.Values{"data": {"eA"}, "sha256": {"x"}, "base": {"1"}, "kind": {"people"}}},
		{"/admin/modules", url.Values{"new": {"1"}, "id": {"ny"}, "title_nb": {"Ny"}, "activities": {"https://kurs.k.no/ny"}, "completion": {"completed"}}},
		{"/admin/modules/personvern-5/delete", url.Values{}},
		{"/admin/rules", url.Values{"new": {"1"}, "id": {"ny"}, "role": {"ansatt"}, "modules": {"personvern-5"}}},
		{"/admin/rules/alle/delete", url.Values{}},
		{"/admin/campaigns", url.Values{"id": {"ny"}, "modules": {"personvern-5"}, "start": {e.day(0)}, "end": {e.day(9)}}},
		{"/admin/campaigns/var-1/end", url.Values{}},
		{"/admin/campaigns/var-1/delete", url.Values{}},
		{"/admin/exemptions", url.Values{"person": {"201"}, "module": {"personvern-5"}}},
		{"/admin/exemptions/x1/end", url.Values{}},
		{"/admin/exemptions/x1/delete", url.Values{}},
		{"/admin/erasure/preview", url.Values{"person": {"202"}, "mode": {"pseudonymise"}}},
		{"/admin/erasure", url.Values{"person": {"202"}, "mode": {"delete"}, "confirm": {"yes"}}},
		{"/admin/reminders/run", url.Values{"lang": {"nb"}}},
	}
	before := e.catalogJSON(t)
	for _, role := range []string{"anonymous", acctAuditor, acctManager, acctLearner, acctNobody, acctHR} {
		t.Run(role, func(t *testing.T) {
			b := e.browser(t)
			if role != "anonymous" {
				b.signIn(role)
			}
			for _, path := range pages {
				res, body := b.get(path)
				want := http.StatusForbidden
				switch role {
				case "anonymous":
					want = http.StatusSeeOther
				case acctHR:
					want = http.StatusOK
				}
				if res.StatusCode != want {
					t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
				}
				if role == acctHR && !strings.Contains(body, `<html lang="nb">`) {
					t.Errorf("GET %s: not a Norwegian page", path)
				}
				if want == http.StatusForbidden && strings.Contains(body, `href="/admin"`) {
					t.Errorf("GET %s: a role without hr is shown the administration link", path)
				}
			}
			b.get("/units") // a page with the session's token, if any
			token := b.csrf
			if role == acctHR {
				// hr without the token: refused.
				for _, post := range posts {
					form := url.Values{"csrf": {"forged"}}
					for k, v := range post.form {
						form[k] = v
					}
					if res, _ := b.post(post.path, form); res.StatusCode != http.StatusForbidden {
						t.Errorf("POST %s with a forged token: %d", post.path, res.StatusCode)
					}
				}
				if res, _ := b.postFile("/admin/roster/preview", url.Values{"csrf": {"forged"}, "kind": {"people"}}, "r.csv", []byte(rosterCSV)); res.StatusCode != http.StatusForbidden {
					t.Errorf("POST /admin/roster/preview with a forged token: %d", res.StatusCode)
				}
				return
			}
			for _, post := range posts {
				b.csrf = token
				form := url.Values{}
				for k, v := range post.form {
					form[k] = v
				}
				if res, _ := b.post(post.path, form); res.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: %d, want 403", post.path, res.StatusCode)
				}
			}
			b.csrf = token
			if res, body := b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}}, "r.csv", []byte(rosterCSV)); res.StatusCode != http.StatusForbidden || strings.Contains(body, "Per Persen") {
				t.Errorf("POST /admin/roster/preview: %d", res.StatusCode)
			}
		})
	}
	if after := e.catalogJSON(t); after != before {
		t.Errorf("refused posts changed the catalog or the roster:\n%s\n---\n%s", before, after)
	}
}

// TestPagesAdminRoster uploads rosters as hr over HTTP: a preview lists
// what would change and changes nothing; applying it changes the roster
// (the unit pages show it) and is audited; a preview made stale by
// another import is refused and shown again as it would be now; a
// damaged form is refused; bad files give a page saying what is wrong
// (400), never a 500; an XLSX workbook with Excel dates works as its CSV.
func TestPagesAdminRoster(t *testing.T) {
	e := startPages(t)
	b := e.browser(t)
	b.signIn(acctHR)
	b.get("/admin/roster")
	// The roster's imports take effect on the day in UTC (as the API's).

	res, page := b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}}, "hr-eksport.csv", []byte(rosterCSV))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", res.StatusCode, page)
	}
	if !strings.Contains(page, `href="/lang/en?next=%2fadmin%2froster"`) {
		t.Errorf("the preview's language switch does not lead to the roster page (a GET cannot repeat the POST)")
	}
	page = html.UnescapeString(page)
	for _, want := range []string{"Nye personer (1)", "Per Persen", "Startdato: 01.02.2026", "Roller: + ansatt, + verneombud", "Identifikatorer: + per.persen@k.no", "6 personer",
		"Endrede personer (1)", "Ola Nordmann", "Enheter: + helse, − skole", "Personer som slutter (1)", "Sykepleier Berg",
		"Siste dag: " + time.Now().UTC().AddDate(0, 0, -1).Format("02.01.2006"), "hr-eksport.csv", "Ta i bruk endringene"} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	fields := hiddenFields(page, "/admin/roster/apply")
	if fields.Get("data") == "" || len(fields.Get("sha256")) != 64 || fields.Get("base") != "1" || fields.Get("planned") != time.Now().UTC().Format("2006-01-02") {
		t.Fatalf("the apply form's fields: %v", fields)
	}
	if _, body := b.get("/units/helse"); strings.Contains(body, "Ola Nordmann") {
		t.Error("the preview changed the roster")
	}

	// A damaged form is refused.
	bad := url.Values{}
	for k, v := range fields {
		bad[k] = v
	}
	bad.Set("data", bad.Get("data")[:len(bad.Get("data"))-4])
	if res, body := b.post("/admin/roster/apply", bad); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Last opp fila på nytt") {
		t.Errorf("a damaged apply: %d", res.StatusCode)
	}

	// Stale: another import came meanwhile. Nothing is applied; the
	// preview is shown again against the roster of now.
	e.api(t, "POST", "/api/v1/roster/imports", map[string]any{"partial": true, "people": []map[string]any{
		{"id": "203", "name": "Per Persen", "email": "per.persen@k.no", "units": []string{"skole"}, "roles": []string{"ansatt"}, "start": "2026-02-01"}}},
		http.StatusCreated)
	res, page = b.post("/admin/roster/apply", fields)
	if res.StatusCode != http.StatusConflict || !strings.Contains(page, "Personallisten er endret siden forhåndsvisningen") {
		t.Fatalf("a stale apply: %d\n%s", res.StatusCode, page)
	}
	if page = html.UnescapeString(page); strings.Contains(page, "Nye personer") || !strings.Contains(page, "Roller: + verneombud") {
		t.Errorf("the renewed preview does not show the roster of now")
	}
	if _, body := b.get("/units/helse"); strings.Contains(body, "Ola Nordmann") {
		t.Error("a stale preview was applied")
	}
	fields = hiddenFields(page, "/admin/roster/apply")
	if fields.Get("base") != "2" {
		t.Fatalf("the renewed preview's base: %v", fields.Get("base"))
	}
	res, _ = b.post("/admin/roster/apply", fields)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/admin/roster?applied=3" {
		t.Fatalf("apply: %d to %q", res.StatusCode, loc)
	}
	if _, body := b.get("/admin/roster?applied=3"); !strings.Contains(body, "Endringene er tatt i bruk (import 3") || !strings.Contains(body, "hr-eksport.csv") {
		t.Errorf("after applying:\n%s", body)
	}
	if _, body := b.get("/units/helse"); !strings.Contains(body, "Ola Nordmann") || strings.Contains(body, "Sykepleier Berg") {
		t.Errorf("helse after the import:\n%s", body)
	}

	// Bad files: a page saying what is wrong.
	for _, c := range []struct {
		name, kind, content, want string
	}{
		{"tom.csv", "people", "", "the file is empty"},
		{"kolonne.csv", "people", "ansattnr;skonummer\n1;44\n", `unknown column \"skonummer\"`},
		{"dato.csv", "people", "ansattnr;navn;startdato\n1;A;31.02.2026\n", "line 2, start"},
		{"enhet.csv", "people", "ansattnr;navn;enhet\n1;A;finnesikke\n", `unit \"finnesikke\" of person \"1\" is not in the roster`},
		{"enheter.csv", "units", "id;navn;overordnet\na;A;a\n", "cannot be its own parent"},
		{"gammel.xls", "people", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "Excel 97"},
		{"ødelagt.xlsx", "people", "PK\x03\x04 not a zip", "not a readable XLSX"},
		{"feil.json", "people", `{"people": [], "extra": 1}`, "malformed JSON"},
		{"binær.csv", "people", "\x00\x01\x02", "unknown column"},
	} {
		res, body := b.postFile("/admin/roster/preview", url.Values{"kind": {c.kind}}, c.name, []byte(c.content))
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Fila kunne ikke brukes") && !strings.Contains(body, "Velg en fil") {
			t.Errorf("%s: %d\n%s", c.name, res.StatusCode, body)
			continue
		}
		if c.content != "" && !strings.Contains(htmlUnescape(body), strings.ReplaceAll(c.want, `\"`, `"`)) {
			t.Errorf("%s: the page does not say %q:\n%s", c.name, c.want, body)
		}
	}
	if res, body := b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}}, "", nil); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Velg en fil") {
		t.Errorf("no file: %d", res.StatusCode)
	}
	if res, _ := b.postFile("/admin/roster/preview", url.Values{"kind": {"pets"}}, "r.csv", []byte(rosterCSV)); res.StatusCode != http.StatusBadRequest {
		t.Errorf("kind pets: %d", res.StatusCode)
	}
	huge := bytes.Repeat([]byte("1;A\n"), 21<<20/4)
	if res, body := b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}}, "stor.csv", huge); res.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, "Fila eller skjemaet er for stort") {
		t.Errorf("a file over 20 MB: %d", res.StatusCode)
	}

	// A workbook: its dates are Excel serial numbers.
	f := excelize.NewFile()
	rows := [][]any{{"Ansattnr", "Navn", "E-post", "Enhet", "Rolle", "Startdato"}}
	for _, line := range strings.Split(strings.TrimSpace(rosterCSV), "\n")[1:] {
		cells := strings.Split(line, ";")
		row := []any{cells[0], cells[1], cells[2], cells[3], cells[4]}
		if cells[5] != "" {
			row = append(row, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
		}
		rows = append(rows, row)
	}
	rows = append(rows, []any{"204", "Nina Ny", "nina@k.no", "helse", "ansatt", time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)})
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var xlsx bytes.Buffer
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	res, page = b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}}, "hr.xlsx", xlsx.Bytes())
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Nina Ny") || !strings.Contains(page, "Startdato: 15.03.2026") ||
		strings.Contains(page, "Endrede personer") {
		t.Errorf("the workbook's preview: %d\n%s", res.StatusCode, page)
	}

	// A large partial file: the preview lists the first people of each
	// group and counts the rest; the form carries the whole file back.
	var big strings.Builder
	big.WriteString("ansattnr;navn;enhet;rolle\n")
	for i := range 10000 {
		fmt.Fprintf(&big, "%d;Person %d;helse;ansatt\n", 10000+i, i)
	}
	start := time.Now()
	res, page = b.postFile("/admin/roster/preview", url.Values{"kind": {"people"}, "partial": {"on"}}, "stor.csv", []byte(big.String()))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Nye personer (500+9500)") || !strings.Contains(page, "… og 9500 til.") {
		t.Fatalf("a large preview: %d", res.StatusCode)
	}
	if res, _ := b.post("/admin/roster/apply", hiddenFields(page, "/admin/roster/apply")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("applying a large file: %d", res.StatusCode)
	}
	t.Logf("10,000 people: preview and apply in %v (the preview page %d bytes)", time.Since(start).Round(time.Millisecond), len(page))
	if _, body := b.get("/units/helse"); !strings.Contains(body, "Person 9999") {
		t.Error("the large file was not applied")
	}

	// The import is in the audit log, by the account.
	st, err := openStores(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.Audit.Audit(context.Background(), auth.DefaultTenant, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, en := range entries {
		found = found || en.Action == "roster.import" && en.Target == "3" && en.Actor == acctHR
	}
	if !found {
		t.Errorf("no audit entry of the page's import: %+v", entries)
	}
	// Previews read people's data: they are in the access log.
	for _, person := range []string{"203", "301"} {
		reads, err := st.Privacy.AccessesAbout(context.Background(), auth.DefaultTenant, []string{privacy.PersonSubject(person)}, time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(reads) == 0 || reads[0].What != privacy.ReadPageRosterPreview || reads[0].Actor != acctHR {
			t.Errorf("the access log of %s: %+v", person, reads)
		}
	}
}

// TestPagesAdminCatalog edits the catalog as hr over HTTP: a module is
// created, refused with a mistake (said, the values kept), edited and,
// while a rule names it, not deleted; a rule is created and edited; a
// campaign is created, ended today and deleted; an exemption is created
// (for a person of the roster only), ended today and deleted. The API
// sees each change.
func TestPagesAdminCatalog(t *testing.T) {
	e := startPages(t)
	b := e.browser(t)
	b.signIn(acctHR)
	b.get("/admin/modules/new")
	apiGet := func(path string) map[string]any {
		var v map[string]any
		json.Unmarshal(e.api(t, "GET", path, nil, http.StatusOK), &v)
		return v
	}
	post := func(path string, form url.Values, want int) string {
		t.Helper()
		res, body := b.post(path, form)
		if res.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d\n%s", path, res.StatusCode, want, body)
		}
		if want == http.StatusSeeOther {
			_, body = b.get(res.Header.Get("Location"))
		}
		return body
	}

	module := url.Values{"new": {"1"}, "id": {"brann-1"}, "title_nb": {"Brannvern"}, "title_en": {"Fire safety"},
		"activities": {"https://kurs.k.no/brann\r\nhttps://lms.k.no/brann"}, "completion": {"passed"}, "minScore": {"0,8"}, "validity": {"p1y"}}
	bad := url.Values{}
	for k, v := range module {
		bad[k] = v
	}
	bad.Set("activities", "ikke en IRI")
	if body := post("/admin/modules", bad, http.StatusBadRequest); !strings.Contains(body, "Skjemaet har en feil") ||
		!strings.Contains(body, "not an absolute IRI") || !strings.Contains(body, `value="Brannvern"`) {
		t.Errorf("a module with a mistake:\n%s", body)
	}
	if body := post("/admin/modules", module, http.StatusSeeOther); !strings.Contains(body, "Lagret: brann-1") || !strings.Contains(body, "1 år") ||
		!strings.Contains(body, "0,8") || !strings.Contains(body, "bestått") {
		t.Errorf("the module list after creating:\n%s", body)
	}
	m := apiGet("/api/v1/modules/brann-1")
	if m["minScore"] != 0.8 || m["validity"] != "P1Y" || m["completion"] != "passed" || len(m["activities"].([]any)) != 2 ||
		m["title"].(map[string]any)["nb-NO"] != "Brannvern" {
		t.Errorf("the module as the API sees it: %v", m)
	}
	post("/admin/modules", module, http.StatusConflict) // new, with an id taken
	edit := url.Values{"id": {"brann-1"}, "title_nb": {"Brannvern 2026"}, "activities": {"https://kurs.k.no/brann"}, "completion": {"completed"}}
	post("/admin/modules", edit, http.StatusSeeOther)
	if m := apiGet("/api/v1/modules/brann-1"); m["title"].(map[string]any)["nb-NO"] != "Brannvern 2026" || m["minScore"] != nil || m["title"].(map[string]any)["en"] != nil {
		t.Errorf("the module after editing: %v", m)
	}

	rule := url.Values{"new": {"1"}, "id": {"brann"}, "role": {"ansatt"}, "modules": {"brann-1", "personvern-5"}, "dueWithin": {"P2W"},
		"dueFrom": {"assignment"}, "from": {"2026-01-01"}, "to": {"2026-12-31"}}
	if body := post("/admin/rules", rule, http.StatusSeeOther); !strings.Contains(body, "Brannvern 2026, Grunnleggende personvern") ||
		!strings.Contains(body, "2 uker") || !strings.Contains(body, "01.01.2026 – 31.12.2026") {
		t.Errorf("the rules after creating:\n%s", body)
	}
	if r := apiGet("/api/v1/rules/brann"); r["effective"].(map[string]any)["to"] != "2027-01-01" || r["dueWithin"] != "P2W" {
		t.Errorf("the rule: %v", r)
	}
	// The form shows the last day in force, as it was given.
	if _, body := b.get("/admin/rules/brann"); !strings.Contains(body, `value="2026-12-31"`) || !strings.Contains(body, `value="brann-1" checked`) {
		t.Errorf("the rule's form:\n%s", body)
	}
	// A module a rule names is not deleted: its form says why.
	if body := post("/admin/modules/brann-1/delete", url.Values{}, http.StatusConflict); !strings.Contains(body, "rule brann") {
		t.Errorf("deleting a module in use:\n%s", body)
	}
	post("/admin/rules/brann/delete", url.Values{}, http.StatusSeeOther)
	if body := post("/admin/modules/brann-1/delete", url.Values{}, http.StatusSeeOther); !strings.Contains(body, "Slettet: brann-1") {
		t.Errorf("after deleting:\n%s", body)
	}
	e.api(t, "GET", "/api/v1/modules/brann-1", nil, http.StatusNotFound)
	post("/admin/modules/brann-1/delete", url.Values{}, http.StatusNotFound)

	// A campaign for Oppvekst, ended today, then deleted.
	campaign := url.Values{"id": {"sikkerhetsmåned"}, "title_nb": {"Sikkerhetsmåneden"}, "modules": {"infosikkerhet-1"},
		"units": {"oppvekst"}, "roles": {"ansatt, leder"}, "start": {e.day(-3)}, "end": {e.day(27)}}
	campaign.Set("id", "sikkerhet-okt")
	if body := post("/admin/campaigns", campaign, http.StatusSeeOther); !strings.Contains(body, "Sikkerhetsmåneden") || !strings.Contains(body, "Pågår") ||
		!strings.Contains(body, "Oppvekst") {
		t.Errorf("the campaigns after creating:\n%s", body)
	}
	if c := apiGet("/api/v1/campaigns/sikkerhet-okt"); c["end"] != e.day(27) || len(c["roles"].([]any)) != 2 {
		t.Errorf("the campaign: %v", c)
	}
	reversed := url.Values{"id": {"baklengs"}, "modules": {"infosikkerhet-1"}, "start": {e.day(5)}, "end": {e.day(1)}}
	if body := post("/admin/campaigns", reversed, http.StatusBadRequest); !strings.Contains(body, "before it starts") {
		t.Errorf("a campaign ending before it starts:\n%s", body)
	}
	post("/admin/campaigns/sikkerhet-okt/end", url.Values{}, http.StatusSeeOther)
	if c := apiGet("/api/v1/campaigns/sikkerhet-okt"); c["end"] != e.day(0) {
		t.Errorf("the ended campaign: %v", c)
	}
	post("/admin/campaigns/sikkerhet-okt/end", url.Values{}, http.StatusConflict)
	post("/admin/campaigns/sikkerhet-okt/delete", url.Values{}, http.StatusSeeOther)
	e.api(t, "GET", "/api/v1/campaigns/sikkerhet-okt", nil, http.StatusNotFound)

	// An exemption: of a person of the roster only.
	if body := post("/admin/exemptions", url.Values{"person": {"999"}, "module": {"personvern-5"}}, http.StatusBadRequest); !strings.Contains(body, "nobody in the roster") {
		t.Errorf("an exemption of nobody:\n%s", body)
	}
	body := post("/admin/exemptions", url.Values{"person": {"202"}, "module": {"personvern-5"}, "from": {e.day(-10)}, "reason": {"Permisjon"}}, http.StatusSeeOther)
	id := "202-personvern-5-" + e.day(-10)
	if !strings.Contains(body, "Lagret: "+id) || !strings.Contains(body, "Ola Nordmann") || !strings.Contains(body, "Permisjon") {
		t.Errorf("the exemptions after creating:\n%s", body)
	}
	if _, body := b.get("/units/skole"); !strings.Contains(body, "Fritatt") {
		t.Error("the unit page does not show Ola exempt")
	}
	post("/admin/exemptions/"+id+"/end", url.Values{}, http.StatusSeeOther)
	if x := apiGet("/api/v1/exemptions/" + id); x["effective"].(map[string]any)["to"] != e.day(0) {
		t.Errorf("the ended exemption: %v", x)
	}
	post("/admin/exemptions/"+id+"/delete", url.Values{}, http.StatusSeeOther)
	e.api(t, "GET", "/api/v1/exemptions/"+id, nil, http.StatusNotFound)
	// The list of exemptions named Ola: it is in his access log.
	st, err := openStores(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reads, err := st.Privacy.AccessesAbout(context.Background(), auth.DefaultTenant, []string{privacy.PersonSubject("202")}, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(reads, func(a *privacy.Access) bool { return a.What == privacy.ReadPageExemptions && a.Actor == acctHR }) {
		t.Errorf("Ola's access log lacks the exemptions page: %+v", reads)
	}
}

// TestPagesAdminErasure erases a person as hr: the form, a dry run that
// shows what would change and changes nothing, a refusal without the
// confirmation, the erasure, its record (by pseudonym, with the account
// that did it), and the person gone from the pages; bad forms are
// answered with the form and a message.
func TestPagesAdminErasure(t *testing.T) {
	e := startPages(t)
	b := e.browser(t)
	b.signIn(acctHR)
	erasures := func() []privacy.Erasure {
		var out struct{ Erasures []privacy.Erasure }
		if err := json.Unmarshal(e.api(t, "GET", "/api/v1/erasures", nil, http.StatusOK), &out); err != nil {
			t.Fatal(err)
		}
		return out.Erasures
	}
	if res, page := b.get("/admin/erasure"); res.StatusCode != http.StatusOK || !strings.Contains(page, `action="/admin/erasure/preview"`) {
		t.Fatalf("GET /admin/erasure: %d\n%s", res.StatusCode, page)
	}
	for _, c := range []struct {
		form url.Values
		want int
		says string
	}{
		{url.Values{"person": {""}, "mode": {"pseudonymise"}}, http.StatusBadRequest, "Skriv ansattnummeret"},
		{url.Values{"person": {"201"}, "mode": {"shred"}}, http.StatusBadRequest, "Velg en måte"},
		{url.Values{"person": {"999"}, "mode": {"pseudonymise"}}, http.StatusNotFound, "Ingen i personallisten har ansattnummer 999"},
	} {
		res, page := b.post("/admin/erasure/preview", c.form)
		if res.StatusCode != c.want || !strings.Contains(html.UnescapeString(page), c.says) {
			t.Errorf("preview %v: %d, want %d saying %q", c.form, res.StatusCode, c.want, c.says)
		}
	}

	// The dry run: Kari's statement, her completion and her roster rows.
	res, page := b.post("/admin/erasure/preview", url.Values{"person": {"201"}, "mode": {"pseudonymise"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", res.StatusCode, page)
	}
	for _, want := range []string{`<th scope="row">Utsagn</th><td class="num">1</td>`, `name="confirm" value="yes" required`} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview lacks %s:\n%s", want, page)
		}
	}
	confirm := hiddenFields(page, "/admin/erasure")
	if confirm.Get("person") != "201" || confirm.Get("mode") != "pseudonymise" {
		t.Fatalf("the confirmation form carries %v", confirm)
	}
	if res, page := b.get("/people/201"); res.StatusCode != http.StatusOK || !strings.Contains(page, "Kari Nordmann") {
		t.Fatalf("the dry run changed Kari's page: %d", res.StatusCode)
	}
	for _, x := range erasures() {
		if !x.DryRun {
			t.Fatalf("a dry run recorded an erasure: %+v", x)
		}
	}

	// Without the box ticked: refused, nothing changed.
	form := url.Values{"person": {"201"}, "mode": {"pseudonymise"}}
	if res, page := b.post("/admin/erasure", form); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Kryss av") {
		t.Errorf("an unconfirmed erasure: %d", res.StatusCode)
	}
	if res, _ := b.get("/people/201"); res.StatusCode != http.StatusOK {
		t.Fatalf("an unconfirmed erasure changed Kari's page: %d", res.StatusCode)
	}

	confirm.Set("confirm", "yes")
	res, _ = b.post("/admin/erasure", confirm)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/erasure?erased=erased-") {
		t.Fatalf("the erasure: %d to %q", res.StatusCode, loc)
	}
	pseudonym := strings.TrimPrefix(loc, "/admin/erasure?erased=")
	res, page = b.get(loc)
	page = html.UnescapeString(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Personen er slettet. Pseudonymet er "+pseudonym) ||
		!strings.Contains(page, "<code>"+pseudonym+"</code>") || !strings.Contains(page, "Pseudonymisert") {
		t.Errorf("after the erasure: %d\n%s", res.StatusCode, page)
	}
	if strings.Contains(page, "Kari") || strings.Contains(page, "kari.nordmann") {
		t.Errorf("the erasure page names the erased person:\n%s", page)
	}
	var done []privacy.Erasure
	for _, x := range erasures() {
		if !x.DryRun {
			done = append(done, x)
		}
	}
	if len(done) != 1 || done[0].Pseudonym != pseudonym || done[0].Actor != acctHR || done[0].Counts.Statements != 1 {
		t.Errorf("the erasure records: %+v", done)
	}
	if res, page := b.get("/people/201"); res.StatusCode == http.StatusOK && strings.Contains(page, "Kari") {
		t.Errorf("Kari's page after the erasure: %d", res.StatusCode)
	}
	// Erasing again finds nothing left (the erasure is idempotent).
	if res, page := b.post("/admin/erasure/preview", url.Values{"person": {"201"}, "mode": {"pseudonymise"}}); res.StatusCode != http.StatusOK ||
		!strings.Contains(page, `<th scope="row">Utsagn</th><td class="num">0</td>`) ||
		!strings.Contains(page, `<th scope="row">Fullføringer og resultater</th><td class="num">0</td>`) {
		t.Errorf("a second erasure of 201: %d\n%s", res.StatusCode, page)
	}
}
