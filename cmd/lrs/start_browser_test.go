package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// importPackage imports a package zip through the API, linked to the
// catalog module, and returns its ID.
func (e *pagesEnv) importPackage(t *testing.T, zip []byte, module string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", e.base+"/api/v1/packages?module="+module, bytes.NewReader(zip))
	req.SetBasicAuth(e.key, e.secret)
	req.Header.Set("Content-Type", "application/zip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p struct{ ID string }
	if res.StatusCode != http.StatusCreated || json.Unmarshal(b, &p) != nil {
		t.Fatalf("importing a package: %d %s", res.StatusCode, b)
	}
	return p.ID
}

// TestPagesStartModule: Kari must take personvern-5, which a SCORM
// package imported here delivers: her page offers a Start button; she
// clicks it and the player opens the package's SCO for her, in an attempt
// of her own. A module hosted elsewhere gets a link to its address in the
// catalog. Starting is a POST with the session's CSRF token, for learners.
func TestPagesStartModule(t *testing.T) {
	b := browsertest.Start(t)
	e := startPages(t)
	e.importPackage(t, packagetest.SCORM12(), "personvern-5")
	e.api(t, "PUT", "/api/v1/modules/brannvern", map[string]any{"title": map[string]string{"nb-NO": "Brannvern"},
		"activities": []string{"https://kurs.k.no/brannvern"}, "completion": "completed"}, http.StatusCreated)
	e.api(t, "PUT", "/api/v1/rules/brann", map[string]any{"role": "ansatt", "modules": []string{"brannvern"}, "dueWithin": "P90D", "dueFrom": "start"}, http.StatusCreated)

	tab := b.NewTab(t)
	tab.SetLanguage("nb-NO", "nb")
	tab.Open(e.base + "/me")
	tab.SetValue("#name", acctLearner)
	tab.SetValue("#password", pagesPassword)
	tab.Click("form.login button[type=submit]")
	if n := tab.Count("form.start button"); n != 1 {
		t.Fatalf("%d Start buttons on %s", n, tab.URL())
	}
	if row := strings.Join(strings.Fields(tab.Text("form.start button")), " "); row != "Start Grunnleggende personvern" {
		t.Errorf("the Start button reads %q", row)
	}
	if href := tab.Attr("a.button[href^='https://']", "href"); href != "https://kurs.k.no/brannvern" {
		t.Errorf("the Start link of the module hosted elsewhere: %q", href)
	}
	tab.CheckAccessibility()
	if status := tab.Click("form.start button"); status != http.StatusOK || !strings.Contains(tab.URL(), "/launch/") {
		t.Fatalf("Start led to %s (%d)", tab.URL(), status)
	}
	// The player runs the SCO in its frame, which finds the run-time API.
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for !browsertest.Eval[bool](tab, `(() => { const f = document.getElementById('lrs-sco'); return !!(f && f.contentWindow && f.contentWindow.sco && f.contentWindow.sco.ready); })()`) {
		if time.Now().After(deadline) {
			t.Fatalf("the SCO in %s did not start; problems: %v", tab.URL(), tab.Problems())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tab.CheckAccessibility()
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
	// The run-time API speaks for Kari.
	if name := browsertest.Eval[string](tab, `window.API.LMSGetValue('cmi.core.student_name')`); !strings.Contains(name, "Kari") {
		t.Errorf("the SCO's learner: %q", name)
	}

	// Without the form's token, or for someone who is nobody: refused.
	kari := e.browser(t)
	kari.signIn(acctLearner)
	if res, _ := kari.post("/me/start", map[string][]string{"module": {"personvern-5"}, "csrf": {"wrong"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("start without the token: %d", res.StatusCode)
	}
	kari.get("/me")
	if res, _ := kari.post("/me/start", map[string][]string{"module": {"brannvern"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("starting a module hosted elsewhere: %d", res.StatusCode)
	}
	if res, _ := kari.post("/me/start", map[string][]string{"module": {"personvern-5"}}); res.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(res.Header.Get("Location"), "/launch/") {
		t.Errorf("start: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	nobody := e.browser(t)
	nobody.signIn(acctNobody)
	nobody.get("/units")
	if res, _ := nobody.post("/me/start", map[string][]string{"module": {"personvern-5"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("start by nobody: %d", res.StatusCode)
	}
}
