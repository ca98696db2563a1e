package evidence_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/tokens"
)

const tenant = "kommune"

var ctx = context.Background()

var oslo = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return time.FixedZone("CEST", 2*3600) // the period's end is in summer time
	}
	return loc
}()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// signer returns a token service signing with a new key of alg from a key
// file, as `lrs serve --token-keys` has it.
func signer(t testing.TB, alg string) *tokens.Service {
	t.Helper()
	pem, err := tokens.GenerateKeyPEM(alg)
	must(t, err)
	file := filepath.Join(t.TempDir(), "keys.pem")
	must(t, os.WriteFile(file, pem, 0o600))
	svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.kommune.no", KeyFile: file})
	must(t, err)
	return svc
}

func jwks(t testing.TB, svc *tokens.Service) *evidence.JWKS {
	t.Helper()
	keys, err := evidence.ParseJWKS(svc.JWKS())
	must(t, err)
	return keys
}

const ksl = "https://kslaring.no"

func module(n int) string { return fmt.Sprintf("%s/mod/scorm/view.php?id=%d", ksl, 1000+n) }

// fixture is a municipality in a real SQLite store: units kommune > helse
// > sykehjem and kommune > it, three people, two modules required by the
// role "mobil", and statements stored and projected as the service does.
type fixture struct {
	db *sqlite.DB
	id func(label string) string
}

func newFixture(t *testing.T) *fixture {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, id: func(label string) string {
		return uuid.NewSHA1(uuid.NameSpaceURL, []byte("evidence/"+label)).String()
	}}
	for n, validity := range map[int]string{1: "P1Y", 2: ""} {
		m := &reporting.Module{ID: fmt.Sprintf("kins-%d", n), Title: map[string]string{"nb-NO": fmt.Sprintf("KiNS %d", n)},
			Activities: []string{module(n)}, Completion: reporting.Completed, Validity: reporting.MustPeriod(validity)}
		must(t, m.Validate())
		must(t, db.PutModule(ctx, tenant, m))
	}
	rule := &reporting.Rule{ID: "mobil", Role: "mobil", Modules: []string{"kins-1", "kins-2"}, DueWithin: reporting.MustPeriod("P30D")}
	must(t, rule.Validate())
	must(t, db.PutRule(ctx, tenant, rule))
	account := func(name string) []map[string]any {
		return []map[string]any{{"account": map[string]any{"homePage": ksl, "name": name}}}
	}
	one := func(id string) []reporting.Assignment { return []reporting.Assignment{{ID: id}} }
	_, err = db.ImportRoster(ctx, tenant, &reporting.Import{
		Effective: reporting.MustDate("2024-01-01"),
		Units: []reporting.UnitIn{
			{ID: "kommune", Name: "Eksempel kommune"},
			{ID: "helse", Name: "Helse og omsorg", Parent: "kommune"},
			{ID: "sykehjem", Name: "Solbakken sykehjem", Parent: "helse"},
			{ID: "it", Name: "IT-tjenesten", Parent: "kommune"},
		},
		People: []reporting.PersonIn{
			{ID: "e211", Name: "Kari Ødegård", Start: reporting.MustDate("2024-12-01"), Identifiers: account("kari"),
				Units: one("sykehjem"), Roles: one("mobil")},
			{ID: "e212", Name: "Åse Ærlig", Email: "ase@kommune.no", Start: reporting.MustDate("2025-01-01"),
				Units: one("helse"), Roles: one("mobil")},
			{ID: "e301", Name: "Trine Tekniker", Start: reporting.MustDate("2023-01-01"), Identifiers: account("trine"),
				Units: one("it"), Roles: one("mobil")},
		},
	}, time.Date(2024, 12, 1, 7, 0, 0, 0, time.UTC))
	must(t, err)

	kari := map[string]any{"account": map[string]any{"homePage": ksl, "name": "kari"}}
	ase := map[string]any{"mbox": "mailto:ase@kommune.no", "name": "Åse Ærlig"}
	trine := map[string]any{"account": map[string]any{"homePage": ksl, "name": "trine"}}
	f.post(t, "kari-1", kari, 1, "2024-12-15T10:00:00Z", "2024-12-15T10:00:05Z")
	// 23:30 in Oslo on 10 March.
	f.post(t, "kari-2", kari, 2, "2025-03-10T22:30:00Z", "2025-03-10T22:31:00Z")
	// 23:00 in Oslo on 30 June: within the period.
	f.post(t, "ase-2", ase, 2, "2025-06-30T21:00:00Z", "2025-06-30T21:00:01Z")
	// 00:30 in Oslo on 1 July: after it.
	f.post(t, "ase-1", ase, 1, "2025-06-30T22:30:00Z", "2025-06-30T22:30:01Z")
	f.post(t, "trine-1", trine, 1, "2025-02-01T09:00:00Z", "2025-02-01T09:00:01Z")
	return f
}

// post stores a "completed" statement of module n as the LRS does (id,
// stored, authority, version set; indexed) and projects it.
func (f *fixture) post(t *testing.T, label string, actor map[string]any, n int, timestamp, stored string) {
	t.Helper()
	st := map[string]any{
		"actor":     actor,
		"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed", "display": map[string]any{"nb": "fullført"}},
		"object":    map[string]any{"id": module(n), "definition": map[string]any{"name": map[string]any{"nb": fmt.Sprintf("KiNS modul %d", n)}}},
		"timestamp": timestamp,
	}
	raw, err := json.Marshal(st)
	must(t, err)
	tree, err := statements.ParseStatement(raw, statements.V103)
	must(t, err)
	rec := &statements.Record{Tenant: tenant, ID: f.id(label), Authority: "lms-key", Hash: statements.ContentHash(tree)}
	rec.Stored, err = time.Parse(time.RFC3339, stored)
	must(t, err)
	tree["id"] = rec.ID
	tree["stored"] = stored
	tree["authority"] = map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": "https://lrs.kommune.no", "name": "lms-key"}}
	tree["version"] = "1.0.0"
	statements.Normalize(tree)
	rec.JSON, err = json.Marshal(tree)
	must(t, err)
	statements.Index(tree, rec)
	must(t, f.db.Insert(ctx, []*statements.Record{rec}, nil))
	must(t, reporting.Ingest(ctx, f.db, tenant, []*statements.Record{rec}, []map[string]any{tree}))
}

var firstHalf2025 = evidence.Period{From: reporting.MustDate("2025-01-01"), To: reporting.MustDate("2025-06-30")}

// TestCollect builds the pack of unit helse (with sykehjem under it) for
// the first half of 2025, signs it, verifies it and checks every proof
// against the stored statements.
func TestCollect(t *testing.T) {
	f := newFixture(t)
	p, err := evidence.Collect(ctx, f.db, f.db, tenant, evidence.Request{Units: []string{"helse"}, Period: firstHalf2025, Location: oslo})
	must(t, err)

	if want := time.Date(2025, 6, 30, 21, 59, 59, 999999999, time.UTC); !p.AsOf.Equal(want) {
		t.Errorf("asOf %v, want the end of 30 June in Oslo, %v", p.AsOf, want)
	}
	var got []string
	for _, r := range p.Rows {
		var ev []string
		for _, e := range r.Evidence {
			ev = append(ev, e.Statement)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s due=%s inPeriod=%v evidence=%v", r.Person, r.Name, r.Module, r.Status, r.Due, r.InPeriod, ev))
	}
	want := []string{
		fmt.Sprintf("e211 Kari Ødegård kins-1 completed due=2024-12-31 inPeriod=false evidence=[%s]", f.id("kari-1")),
		fmt.Sprintf("e211 Kari Ødegård kins-2 completed due=2024-12-31 inPeriod=true evidence=[%s]", f.id("kari-2")),
		"e212 Åse Ærlig kins-1 overdue due=2025-01-31 inPeriod=false evidence=[]",
		fmt.Sprintf("e212 Åse Ærlig kins-2 completed due=2025-01-31 inPeriod=true evidence=[%s]", f.id("ase-2")),
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Summary == nil || p.Summary.People != 2 || p.Summary.Total.Rows != 4 || p.Summary.Total.Compliant != 3 {
		t.Errorf("summary %+v", p.Summary)
	}
	if p.Statements() != 3 || p.TimeZone != oslo.String() || !slices.Equal(p.Units, []string{"helse"}) {
		t.Errorf("statements %d, time zone %q, units %q", p.Statements(), p.TimeZone, p.Units)
	}

	// The proof of each statement is what the LRS stores.
	for _, r := range p.Rows {
		for _, e := range r.Evidence {
			rec, err := f.db.Get(ctx, tenant, e.Statement)
			must(t, err)
			sum := sha256.Sum256(rec.JSON)
			if e.SHA256 != fmt.Sprintf("%x", sum) || e.Authority != "lms-key" || !e.Stored.Equal(rec.Stored) ||
				!e.Timestamp.Equal(rec.Timestamp) {
				t.Errorf("evidence %+v does not match the stored statement (stored %v, timestamp %v, sha256 %x)",
					e, rec.Stored, rec.Timestamp, sum)
			}
		}
	}

	svc := signer(t, tokens.AlgEdDSA)
	signed, err := evidence.Sign(p, svc)
	must(t, err)
	v, err := evidence.Verify(signed, jwks(t, svc))
	must(t, err)
	if v.Issuer != "https://lrs.kommune.no" || v.Algorithm != "EdDSA" || v.KeyID == "" {
		t.Errorf("verified issuer %q, alg %q, kid %q", v.Issuer, v.Algorithm, v.KeyID)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(v)
	if !bytes.Equal(a, b) {
		t.Errorf("the verified pack differs from the signed one:\n%s\n%s", a, b)
	}

	// The whole organisation; and as known before Åse's statement of
	// kins-2 was stored.
	all, err := evidence.Collect(ctx, f.db, f.db, tenant, evidence.Request{Period: firstHalf2025, Location: oslo,
		KnownAt: time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)})
	must(t, err)
	var people []string
	for _, r := range all.Rows {
		people = append(people, r.Person+" "+r.Module+" "+string(r.Status))
	}
	if want := []string{"e211 kins-1 completed", "e211 kins-2 completed", "e212 kins-1 overdue", "e212 kins-2 overdue",
		"e301 kins-1 completed", "e301 kins-2 overdue"}; !slices.Equal(people, want) {
		t.Errorf("whole organisation as known on 30 June at noon: %q, want %q", people, want)
	}
}

// TestCollectReminders: a pack holds the reminders sent within its period
// (as known at its KnownAt) to the people of its rows, and they survive
// signing.
func TestCollectReminders(t *testing.T) {
	f := newFixture(t)
	sent := func(person, module, day string) *reminders.Sent {
		at, _ := time.ParseInLocation("2006-01-02 15:04", day, oslo)
		return &reminders.Sent{Tenant: tenant, Person: person, Module: module, Due: reporting.MustDate("2025-01-31"),
			Template: "learner/nb", Time: at.UTC(), MessageID: person + module + day + "@lrs", Outcome: reminders.OutcomeSent}
	}
	must(t, f.db.RecordReminders(ctx, []*reminders.Sent{
		sent("e212", "kins-1", "2024-12-31 23:30"), // before the period
		sent("e212", "kins-1", "2025-01-17 08:00"),
		sent("e212", "", "2025-06-30 23:30"),       // a digest, on the last evening
		sent("e301", "kins-2", "2025-02-01 08:00"), // not in helse
		sent("e211", "kins-1", "2025-07-01 00:30"), // after the period
	}))
	p, err := evidence.Collect(ctx, f.db, f.db, tenant, evidence.Request{Units: []string{"helse"}, Period: firstHalf2025, Location: oslo,
		Reminders: f.db})
	must(t, err)
	var got []string
	for _, r := range p.Reminders {
		got = append(got, r.Person+" "+r.Module+" "+r.Time.In(oslo).Format("2006-01-02 15:04")+" "+r.Template+" "+r.Outcome)
	}
	if want := []string{"e212 kins-1 2025-01-17 08:00 learner/nb sent", "e212  2025-06-30 23:30 learner/nb sent"}; !slices.Equal(got, want) {
		t.Errorf("reminders %q, want %q", got, want)
	}
	known, err := evidence.Collect(ctx, f.db, f.db, tenant, evidence.Request{Units: []string{"helse"}, Period: firstHalf2025, Location: oslo,
		Reminders: f.db, KnownAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	must(t, err)
	if len(known.Reminders) != 1 {
		t.Errorf("as known on 1 March: %d reminders", len(known.Reminders))
	}
	svc := signer(t, tokens.AlgEdDSA)
	signed, err := evidence.Sign(p, svc)
	must(t, err)
	v, err := evidence.Verify(signed, jwks(t, svc))
	must(t, err)
	if !reflect.DeepEqual(v.Reminders, p.Reminders) {
		t.Errorf("verified reminders %+v, signed %+v", v.Reminders, p.Reminders)
	}
}

func TestCollectErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		req  evidence.Request
		kind errs.Kind
	}{
		{"no end", evidence.Request{Period: evidence.Period{From: reporting.MustDate("2025-01-01")}}, errs.Invalid},
		{"backwards", evidence.Request{Period: evidence.Period{From: reporting.MustDate("2025-07-01"), To: reporting.MustDate("2025-06-30")}}, errs.Invalid},
		{"unknown unit", evidence.Request{Units: []string{"helsa"}, Period: firstHalf2025}, errs.NotFound},
		{"a person, not a unit", evidence.Request{Units: []string{"e211"}, Period: firstHalf2025}, errs.NotFound},
	} {
		if _, err := evidence.Collect(ctx, f.db, f.db, tenant, tc.req); errs.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want a %v error", tc.name, err, tc.kind)
		}
	}
}

// fixedPack is a pack from fixed rows.
func fixedPack() *evidence.Pack {
	score := 0.9
	ts := time.Date(2025, 3, 10, 22, 30, 0, 0, time.UTC)
	return &evidence.Pack{Type: evidence.Type, Version: evidence.Version, Tenant: tenant, Generated: time.Date(2025, 7, 1, 6, 0, 0, 0, time.UTC),
		Units: []string{"helse"}, Period: firstHalf2025, TimeZone: "Europe/Oslo", AsOf: time.Date(2025, 6, 30, 21, 59, 59, 0, time.UTC),
		Summary: &reporting.Summary{People: 1, Total: reporting.Counts{Rows: 2, Compliant: 1, Percent: 50,
			Status: map[reporting.Status]int{reporting.StatusCompleted: 1, reporting.StatusOverdue: 1}}},
		Rows: []evidence.Row{
			{Row: reporting.Row{Person: "e211", Name: "Kari Ødegård", Units: []string{"sykehjem"}, Roles: []string{"mobil"},
				Module: "kins-2", Rules: []string{"mobil"}, Status: reporting.StatusCompleted, Due: reporting.MustDate("2024-12-31"),
				Completed: ts, Score: &score, Evidence: []reporting.Evidence{{Statement: "4f1c1f0e-8a55-5b8e-9d2e-0b6a1f7f0c11",
					Activity: module(2), Outcome: "completed", Score: &score, Timestamp: ts, Stored: ts.Add(time.Minute),
					Authority: "lms-key", SHA256: strings.Repeat("ab", 32)}}}, InPeriod: true},
			{Row: reporting.Row{Person: "e212", Name: "Åse Ærlig", Units: []string{"helse"}, Roles: []string{"mobil"},
				Module: "kins-1", Rules: []string{"mobil"}, Status: reporting.StatusOverdue, Due: reporting.MustDate("2025-01-31")}},
		}}
}

func TestSignVerify(t *testing.T) {
	for _, alg := range []string{tokens.AlgEdDSA, tokens.AlgES256} {
		svc := signer(t, alg)
		signed, err := evidence.Sign(fixedPack(), svc)
		must(t, err)
		p, err := evidence.Verify(append(signed, '\n'), jwks(t, svc)) // a saved file may end in a line break
		must(t, err)
		if p.Algorithm != alg || p.Rows[0].Name != "Kari Ødegård" || p.Rows[0].Evidence[0].SHA256 != strings.Repeat("ab", 32) {
			t.Errorf("%s: verified %+v", alg, p)
		}
	}
}

// TestTamper: a pack altered in any byte, signed by another key, or
// passed off with an algorithm the LRS does not sign with, fails.
func TestTamper(t *testing.T) {
	svc := signer(t, tokens.AlgEdDSA)
	keys := jwks(t, svc)
	signed, err := evidence.Sign(fixedPack(), svc)
	must(t, err)
	s := string(signed)

	// Every byte changed, one at a time.
	for i := range s {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		bad := s[:i] + string(c) + s[i+1:]
		if _, err := evidence.Verify([]byte(bad), keys); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("byte %d changed from %q to %q: %v", i, s[i], c, err)
		}
	}

	parts := strings.Split(s, ".")
	enc := base64.RawURLEncoding
	payload, err := enc.DecodeString(parts[1])
	must(t, err)
	fail := func(what, pack string, keys *evidence.JWKS, msg string) {
		t.Helper()
		_, err := evidence.Verify([]byte(pack), keys)
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an invalid pack error saying %q", what, err, msg)
		}
	}
	// A well-formed edit of the JSON: the overdue row made completed.
	edited := bytes.Replace(payload, []byte(`"status":"overdue"`), []byte(`"status":"completed"`), 1)
	if bytes.Equal(edited, payload) {
		t.Fatal("the payload has no overdue row")
	}
	fail("edited payload", parts[0]+"."+enc.EncodeToString(edited)+"."+parts[2], keys, "altered")
	// A second signature's bytes pasted under this payload.
	other, err := evidence.Sign(&evidence.Pack{Type: evidence.Type, Version: evidence.Version, Rows: []evidence.Row{}}, svc)
	must(t, err)
	fail("another pack's signature", parts[0]+"."+parts[1]+"."+strings.Split(string(other), ".")[2], keys, "altered")

	// Another key: its own JWKS, and a JWKS that gives another key the
	// signing key's kid.
	otherSvc := signer(t, tokens.AlgEdDSA)
	fail("another server's keys", s, jwks(t, otherSvc), "not among")
	var set struct{ Keys []map[string]any }
	must(t, json.Unmarshal(otherSvc.JWKS(), &set))
	hdr, err := enc.DecodeString(parts[0])
	must(t, err)
	var h map[string]string
	must(t, json.Unmarshal(hdr, &h))
	set.Keys[0]["kid"] = h["kid"]
	swapped, _ := json.Marshal(set)
	swappedKeys, err := evidence.ParseJWKS(swapped)
	must(t, err)
	fail("another key under the same kid", s, swappedKeys, "altered")

	// alg none, with and without a signature.
	header := func(alg string) string {
		b, _ := json.Marshal(map[string]string{"alg": alg, "kid": h["kid"], "typ": evidence.PackType})
		return enc.EncodeToString(b)
	}
	fail("alg none", header("none")+"."+parts[1]+".", keys, `algorithm "none"`)
	fail("alg none, old signature", header("none")+"."+parts[1]+"."+parts[2], keys, `algorithm "none"`)
	// HS256 keyed with the public key (algorithm confusion).
	var pub struct{ Keys []struct{ X string } }
	must(t, json.Unmarshal(svc.JWKS(), &pub))
	x, err := enc.DecodeString(pub.Keys[0].X)
	must(t, err)
	if len(x) != ed25519.PublicKeySize {
		t.Fatalf("public key of %d bytes", len(x))
	}
	input := header("HS256") + "." + parts[1]
	mac := hmac.New(sha256.New, x)
	mac.Write([]byte(input))
	fail("HS256 with the public key", input+"."+enc.EncodeToString(mac.Sum(nil)), keys, `algorithm "HS256"`)
	// The header's alg changed to ES256: the key is an Ed25519 key.
	fail("ES256 claimed", header("ES256")+"."+parts[1]+"."+parts[2], keys, "verifies EdDSA")

	// An access token signed with the same key is not an evidence pack.
	tok, err := svc.Issue(&auth.Credential{Key: "k1", Tenant: tenant}, []string{"all"})
	must(t, err)
	fail("an access token", tok.AccessToken, keys, "not an evidence pack")
	// Nor is JSON, or a JWS of another shape.
	fail("plain JSON", `{"type":"lrs-evidence-pack"}`, keys, "compact serialization")
	fail("two parts", parts[0]+"."+parts[1], keys, "compact serialization")
}

func TestKeys(t *testing.T) {
	// A JWKS with a private key is refused; one with only other kinds of
	// keys verifies nothing.
	priv := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`
	if _, err := evidence.ParseJWKS([]byte(priv)); errs.KindOf(err) != errs.Invalid {
		t.Errorf("a private key: %v", err)
	}
	secret := `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}`
	if _, err := evidence.ParseJWKS([]byte(secret)); errs.KindOf(err) != errs.Invalid {
		t.Errorf("a symmetric key: %v", err)
	}
	for _, bad := range []string{``, `[]`, `{"keys":3}`, `{}`} {
		if _, err := evidence.ParseJWKS([]byte(bad)); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
	k, err := evidence.ParseJWKS([]byte(`{"keys":[{"kty":"RSA","kid":"r","n":"sXch","e":"AQAB"},{"kty":"weird"}]}`))
	if err != nil || k.Len() != 0 {
		t.Errorf("other kinds of keys: %v, %d keys", err, k.Len())
	}

	// A server whose newest key is an HMAC secret cannot sign packs.
	pem, err := tokens.GenerateKeyPEM(tokens.AlgHS256)
	must(t, err)
	file := filepath.Join(t.TempDir(), "keys.pem")
	must(t, os.WriteFile(file, pem, 0o600))
	svc, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: file})
	must(t, err)
	if _, err := evidence.Sign(fixedPack(), svc); errs.KindOf(err) != errs.Unavailable {
		t.Errorf("signing with an HMAC key: %v", err)
	}
}
