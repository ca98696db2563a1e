package browsertest

import (
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const goodPage = `<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Min opplæring</title></head>
<body><a href="#main">Hopp til innhold</a>
<main id="main"><h1>Min opplæring</h1>
<form action="/next" method="get"><label for="name">Navn</label> <input id="name" name="name">
<button type="submit">Neste</button></form>
<p><a id="dl" href="/file.csv">Last ned</a></p></main></body></html>`

// badPage breaks three WCAG rules: no lang on html, an image without a
// text alternative, a field without a label.
const badPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Bad</title></head>
<body><main><h1>Bad</h1><img src="/x.png"><input id="q"></main></body></html>`

// cspPage has an inline style its Content-Security-Policy refuses.
const cspPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CSP</title><style>p{color:red}</style></head>
<body><main><h1>CSP</h1><p>styled</p></main></body></html>`

func testServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
			w.Write([]byte(body))
		}
	}
	mux.HandleFunc("/good", page(goodPage))
	mux.HandleFunc("/bad", page(badPage))
	mux.HandleFunc("/csp", page(cspPage))
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`<!doctype html><html lang="nb"><head><title>Neste</title></head><body><main><h1 id="who">` +
			r.URL.Query().Get("name") + `</h1></main></body></html>`))
	})
	mux.HandleFunc("/lang", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><head><title>Lang</title></head><body><main><h1 id="lang">` +
			html.EscapeString(r.Header.Get("Accept-Language")) + `</h1></main></body></html>`))
	})
	mux.HandleFunc("/file.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="status-2026-10-31.csv"`)
		w.Write([]byte("\uFEFFperson,status\r\n1001,completed\r\n"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestHarness drives a page through forms, a download and axe-core, and
// checks that axe-core finds the violations of a bad page and that a style
// the Content-Security-Policy refuses is reported as a problem.
func TestHarness(t *testing.T) {
	srv := testServer(t)
	b := Start(t)
	tab := b.NewTab(t)

	if status := tab.Open(srv.URL + "/good"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	tab.CheckAccessibility()
	if vs := tab.Axe(); len(vs) != 0 {
		t.Errorf("the good page has violations: %v", vs)
	}
	name, data := tab.Download("#dl")
	if name != "status-2026-10-31.csv" || !strings.Contains(string(data), "1001,completed") {
		t.Errorf("download = %q, %q", name, data)
	}
	tab.SetValue("#name", "Kari Nordmann")
	if status := tab.Click("button[type=submit]"); status != http.StatusAccepted {
		t.Errorf("the form led to status %d", status)
	}
	if got := tab.Text("#who"); got != "Kari Nordmann" {
		t.Errorf("the next page says %q", got)
	}
	if !strings.HasSuffix(tab.URL(), "/next?name=Kari+Nordmann") {
		t.Errorf("URL = %s", tab.URL())
	}
	if p := tab.Problems(); len(p) != 0 {
		t.Errorf("problems on good pages: %v", p)
	}

	tab.Open(srv.URL + "/bad")
	var ids []string
	for _, v := range tab.Axe() {
		ids = append(ids, v.ID)
	}
	for _, want := range []string{"html-has-lang", "image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe-core did not report %s on the bad page (it reported %v)", want, ids)
		}
	}

	tab.SetLanguage("nb-NO", "nb")
	tab.Open(srv.URL + "/lang")
	if got := tab.Text("#lang"); !strings.HasPrefix(got, "nb-NO,nb;q=0.") {
		t.Errorf("Accept-Language after SetLanguage: %q", got)
	}

	csp := b.NewTab(t)
	csp.Open(srv.URL + "/csp")
	if p := csp.Problems(); len(p) == 0 || !strings.Contains(strings.Join(p, " "), "Content Security Policy") {
		t.Errorf("the refused inline style was not reported: %v", p)
	}
	if got := csp.Count("p"); got != 1 {
		t.Errorf("Count(p) = %d", got)
	}
}
