package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
)

// TestRuntimeCommitsThroughBridge posts the commits the LRS's runtime made
// in the good sessions of compare.mjs to POST /api/v1/scorm/commits of the
// real server, as a player would: each is stored, and the passed SCO of
// each edition is a completion fact of the SCO, not of the course in the
// grouping of its statements (a SCORM course counts as completed by a
// statement about the course, the rollup the LRS's own player sends, or
// by a module's parts: see reporting.Project).
func TestRuntimeCommitsThroughBridge(t *testing.T) {
	report := compare(t)
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.CreateCredential(ctx, &auth.Credential{Key: "player", SecretHash: auth.HashSecret("player-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeSCORMWrite}, Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: db, Documents: db, Activities: db, Credentials: db, Reporting: db,
		BaseURL: "https://lrs.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	t.Cleanup(srv.Close)

	for i, name := range []string{"1.2 good session", "2004 good session"} {
		k := slices.IndexFunc(report, func(s scenario) bool { return s.Name == name })
		if k < 0 {
			t.Fatalf("no scenario %q", name)
		}
		course := "https://scorm.example/course" + string(rune('a'+i))
		q := url.Values{"agent": {`{"account":{"homePage":"https://lms.example.org","name":"ann"}}`},
			"activityId": {course + "/sco"}, "course": {course}, "registration": {"6b0b5a1e-4d0f-4d36-9a1e-8f3c5b2a7c1" + string(rune('0'+i))}}
		for _, body := range report[k].Commits.Ours {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/scorm/commits?"+q.Encode(), bytes.NewReader(body))
			req.SetBasicAuth("player", "player-secret")
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			ans, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var r struct{ Result string }
			if res.StatusCode != http.StatusOK || json.Unmarshal(ans, &r) != nil || r.Result != "true" {
				t.Fatalf("%s: commit answered %d %s", name, res.StatusCode, ans)
			}
		}
		passed, ofCourse := false, false
		err := db.Facts(ctx, auth.DefaultTenant, nil, func(agent string, facts []reporting.Fact) error {
			for _, f := range facts {
				if f.Outcome.Has(reporting.OutcomePassed|reporting.OutcomeCompleted) && slices.Contains(f.Activities, course+"/sco") {
					passed = true
				}
				ofCourse = ofCourse || slices.Contains(f.Activities, course)
			}
			return nil
		})
		if err != nil || !passed {
			t.Errorf("%s: no completed and passed fact of %s/sco (%v)", name, course, err)
		}
		if ofCourse {
			t.Errorf("%s: a SCO's statement counts for the course %s in its grouping", name, course)
		}
	}
}
