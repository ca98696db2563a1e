package launch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/statements"
)

// The LRS as the LMS of cmi5 (the cmi5 specification, Quartz, sections 8
// to 11): it launches AUs with the launch parameters, hands out the
// session's credential through a one-time fetch URL, writes the
// LMS.LaunchData State document and the learner's preferences, records
// launched, satisfied (blocks and course), abandoned and waived, and
// holds a session's credential to its learner, registration and AU.

// cmi5 IRIs.
const (
	verbLaunched   = "http://adlnet.gov/expapi/verbs/launched"
	verbCompleted  = "http://adlnet.gov/expapi/verbs/completed"
	verbPassed     = "http://adlnet.gov/expapi/verbs/passed"
	verbTerminated = "http://adlnet.gov/expapi/verbs/terminated"
	verbAbandoned  = "https://w3id.org/xapi/adl/verbs/abandoned"
	verbWaived     = "https://w3id.org/xapi/adl/verbs/waived"
	verbSatisfied  = "https://w3id.org/xapi/adl/verbs/satisfied"

	categoryCMI5   = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
	categoryMoveOn = "https://w3id.org/xapi/cmi5/context/categories/moveon"

	extSession          = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
	extLaunchMode       = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
	extLaunchURL        = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
	extMoveOn           = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
	extLaunchParameters = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"
	extMasteryScore     = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
	extReason           = "https://w3id.org/xapi/cmi5/result/extensions/reason"

	typeCourse = "https://w3id.org/xapi/cmi5/activitytype/course"
	typeBlock  = "https://w3id.org/xapi/cmi5/activitytype/block"

	// LaunchDataID is the State document the LMS writes before a launch
	// (section 10); PreferencesID the learner's Agent Profile document
	// (section 11).
	LaunchDataID  = "LMS.LaunchData"
	PreferencesID = "cmi5LearnerPreferences"

	// SessionStateID is the reserved stateId of the LRS's record of an
	// AU's current session: a State document of the AU's activity, the
	// learner and the registration.
	SessionStateID = "https://github.com/xapi-lrs/lrs/launch/cmi5-session"
)

// The cmi5 launch modes (section 10.2.2): only in Normal mode does an AU
// record completions, passes and failures, and the LMS satisfy blocks and
// the course; in Browse and Review it sends initialized and terminated
// and nothing else that cmi5 defines.
const (
	ModeNormal = "Normal"
	ModeBrowse = "Browse"
	ModeReview = "Review"
)

// launchMode returns the launchMode a launch of p asks for ("": Normal)
// as a Token holds it ("" for Normal), refusing a mode for a package that
// is not cmi5 and a mode cmi5 does not define.
func launchMode(p *packages.Package, mode string) (string, error) {
	switch {
	case mode == "" || (mode == ModeNormal && p.Kind == packages.CMI5):
		return "", nil
	case p.Kind != packages.CMI5:
		return "", errs.Invalidf("launchMode", "launch-mode", "launchMode is for cmi5 packages; this package is %s", p.Kind)
	case mode == ModeBrowse || mode == ModeReview:
		return mode, nil
	}
	return "", errs.Invalidf("launchMode", "launch-mode", "launchMode is Normal, Browse or Review (cmi5 section 10.2.2), not %q", trunc(mode))
}

// checkCMI5Learner refuses a cmi5 learner without an account: the actor
// of cmi5 statements is an Agent with an account (section 9.2).
func checkCMI5Learner(a map[string]any) error {
	if _, ok := a["account"].(map[string]any); !ok {
		return errs.Invalidf("agent", "cmi5-actor", "a cmi5 learner is an Agent with an account (cmi5 section 9.2), such as "+
			`{"account": {"homePage": "https://portal.example", "name": "kari"}}; give the person an account identifier in the roster, or the agent an account`)
	}
	return nil
}

// TerminatedGrace is how long a cmi5 session may still write after its
// AU sent terminated (section 9.3.8: the LMS rejects statements of the
// session after a period of its choice).
const TerminatedGrace = 2 * time.Minute

// SweepLookback is how far back, before the session lifetime, the sweep
// of abandoned sessions looks for launches (SweepAbandoned): a server
// that was down for less than this still abandons the sessions that
// expired meanwhile.
const SweepLookback = 48 * time.Hour

// cmi5 activity IRIs. The cmi5 LMS gives the course, each block and each
// AU an activity IRI of its own, which must differ from the publisher's
// ids of the course structure (sections 8.1.5 and 9.4); the publisher's
// ids stand in the grouping of every statement (section 9.6.2.3), which
// is what the catalog's modules and reports count by. The LRS's IRIs are
// base (the LRS's public URL) /activities/cmi5/ the tenant, the package ID
// and, for a block or an AU, "block/" or "au/" and 16 hex digits of the
// SHA-256 of its publisher id: the same for every registration and every
// version of the package, as section 8.1.5 asks, as long as the base does
// not change (set --base-url).

// CMI5Course is the LRS's activity IRI of the course of package p.
func CMI5Course(base, tenant string, p *packages.Package) string {
	return strings.TrimRight(base, "/") + "/activities/cmi5/" + url.PathEscape(tenant) + "/" + p.ID
}

func cmi5Child(base, tenant string, p *packages.Package, kind, publisherID string) string {
	sum := sha256.Sum256([]byte(publisherID))
	return CMI5Course(base, tenant, p) + "/" + kind + "/" + hex.EncodeToString(sum[:8])
}

// CMI5AU is the LRS's activity IRI of the AU whose publisher id is au.
func CMI5AU(base, tenant string, p *packages.Package, au string) string {
	return cmi5Child(base, tenant, p, "au", au)
}

// CMI5Block is the LRS's activity IRI of the block whose publisher id is
// block.
func CMI5Block(base, tenant string, p *packages.Package, block string) string {
	return cmi5Child(base, tenant, p, "block", block)
}

// cmi5Session is the content of the SessionStateID document.
type cmi5Session struct {
	Session    string    `json:"session"`
	Launched   time.Time `json:"launched"`
	Fetched    bool      `json:"fetched,omitempty"`
	Terminated time.Time `json:"terminated,omitzero"`
	Abandoned  time.Time `json:"abandoned,omitzero"`
}

func sessionKey(tenant, au string, learner map[string]any, reg string) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.State, ActivityID: au, Agent: statements.AgentKey(learner),
		Registration: strings.ToLower(reg), ID: SessionStateID}
}

func (s *Service) readSession(ctx context.Context, key documents.Key) (*documents.Document, *cmi5Session, error) {
	doc, err := s.Documents.Document(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var cs cmi5Session
	if err := json.Unmarshal(doc.Content, &cs); err != nil {
		return nil, nil, errs.E(errs.Conflict, "the State document %q was not written by this LRS", SessionStateID)
	}
	return doc, &cs, nil
}

// putDoc writes content as the document key if cond holds.
func (s *Service) putDoc(ctx context.Context, key documents.Key, content any, cond documents.Condition) error {
	b, err := json.Marshal(content)
	if err != nil {
		return errs.Wrap(err, "encoding a launch document")
	}
	return s.Documents.PutDocument(ctx, documents.NewDocument(key, "application/json", b, s.now()), cond)
}

// CMI5Launch is what StartCMI5 needs besides the session.
type CMI5Launch struct {
	Base string // the LRS's public URL
	// Content is the AU's URL: its file under the Content token's path,
	// or its absolute URL.
	Content string
	// Fetch is the one-time fetch URL.
	Fetch string
	// Languages are the learner's languages (a browser's
	// Accept-Language, most wanted first) for cmi5LearnerPreferences when
	// the learner has none yet.
	Languages []string
	Writer    ingest.Writer // who writes the LMS's statements
}

// StartCMI5 starts the cmi5 session tok (a Session token, its AU set) of
// package p, as the LMS does before it launches an AU (sections 8 to 11),
// and returns the AU's launch URL: l.Content with endpoint, fetch, actor,
// registration and activityId. In order:
//
//   - the AU's current session in the registration, if still open, is
//     abandoned (section 9.3.6);
//   - the session is recorded (SessionStateID), and LMS.LaunchData
//     written: the context template (the AU's publisher id in the
//     grouping, the session id), the token's launchMode, launchMethod, moveOn,
//     masteryScore, launchParameters, returnURL and entitlementKey from
//     the course structure and the launch;
//   - the learner's cmi5LearnerPreferences, unless they have some;
//   - the launched statement;
//   - in Normal mode, the moveOn criteria are evaluated (AUs that need
//     nothing of the learner satisfy their blocks at once; section 9.6.1).
func (s *Service) StartCMI5(ctx context.Context, tok *Token, p *packages.Package, l CMI5Launch) (string, error) {
	au, err := launchable(p, tok.Launchable)
	if err != nil {
		return "", err
	}
	key := sessionKey(tok.Tenant, tok.AU, tok.Learner, tok.Registration)
	doc, prev, err := s.readSession(ctx, key)
	if err != nil {
		return "", err
	}
	if prev != nil && prev.Session != tok.Session {
		if err := s.abandon(ctx, tok.Tenant, tok.Learner, tok.Registration, tok.AU, au.ID, prev.Session, prev.Launched, l.Writer); err != nil {
			return "", err
		}
		if doc, _, err = s.readSession(ctx, key); err != nil {
			return "", err
		}
	}
	cond := documents.Condition{IfNoneMatch: []string{"*"}}
	if doc != nil {
		cond = documents.Condition{IfMatch: []string{doc.ETag}}
	}
	now := s.now().UTC()
	if err := s.putDoc(ctx, key, cmi5Session{Session: tok.Session, Launched: now}, cond); err != nil {
		if errs.Is(err, errs.PreconditionFailed) {
			return "", errs.E(errs.Conflict, "another launch of this AU for this learner came at the same time; open the link again")
		}
		return "", err
	}

	template := map[string]any{
		"contextActivities": map[string]any{"grouping": []any{map[string]any{"objectType": "Activity", "id": au.ID}}},
		"extensions":        map[string]any{extSession: tok.Session},
	}
	mode := tok.LaunchMode()
	data := map[string]any{"contextTemplate": template, "launchMode": mode, "launchMethod": au.LaunchMethod, "moveOn": au.MoveOn}
	if au.MasteryScore != nil {
		data["masteryScore"] = *au.MasteryScore
	}
	if au.LaunchParameters != "" {
		data["launchParameters"] = au.LaunchParameters
	}
	if tok.ReturnURL != "" {
		data["returnURL"] = tok.ReturnURL
	}
	if au.EntitlementKey != "" {
		data["entitlementKey"] = map[string]any{"courseStructure": au.EntitlementKey}
	}
	ldKey := documents.Key{Tenant: tok.Tenant, Kind: documents.State, ActivityID: tok.AU, Agent: tok.LearnerKey(),
		Registration: strings.ToLower(tok.Registration), ID: LaunchDataID}
	if err := s.putDoc(ctx, ldKey, data, documents.Condition{}); err != nil {
		return "", err
	}
	prefs := map[string]any{"languagePreference": strings.Join(l.Languages, ","), "audioPreference": "on"}
	prefKey := documents.Key{Tenant: tok.Tenant, Kind: documents.AgentProfile, Agent: tok.LearnerKey(), ID: PreferencesID}
	if err := s.putDoc(ctx, prefKey, prefs, documents.Condition{IfNoneMatch: []string{"*"}}); err != nil && !errs.Is(err, errs.PreconditionFailed) {
		return "", err
	}

	launchURL := strings.SplitN(l.Content, "?", 2)[0]
	if !strings.HasPrefix(launchURL, "http") {
		launchURL = strings.TrimRight(l.Base, "/") + launchURL
	}
	ext := map[string]any{extSession: tok.Session, extLaunchMode: mode, extLaunchURL: launchURL, extMoveOn: au.MoveOn}
	if au.MasteryScore != nil {
		ext[extMasteryScore] = *au.MasteryScore
	}
	if au.LaunchParameters != "" {
		ext[extLaunchParameters] = au.LaunchParameters
	}
	launched := cmi5Statement(tok.Learner, verbLaunched, map[string]any{"objectType": "Activity", "id": tok.AU},
		tok.Registration, []any{map[string]any{"objectType": "Activity", "id": au.ID}}, ext, false, now)
	if _, err := s.post(ctx, l.Writer, launched); err != nil {
		return "", err
	}
	if mode == ModeNormal {
		if _, err := s.Satisfy(ctx, tok.Tenant, p, l.Base, tok.Learner, tok.Registration, tok.Session, l.Writer); err != nil {
			return "", err
		}
	}
	actor, _ := json.Marshal(tok.Learner)
	q := url.Values{"endpoint": {strings.TrimRight(l.Base, "/") + "/xapi/"}, "fetch": {l.Fetch}, "actor": {string(actor)},
		"registration": {tok.Registration}, "activityId": {tok.AU}}
	return withQuery(l.Content, q.Encode()), nil
}

// cmi5Statement is a statement the LMS makes: the learner, the verb, the
// object, the registration, the cmi5 category (and the moveOn category
// when moveOn), the publisher ids in the grouping and the extensions.
func cmi5Statement(learner map[string]any, verb string, object map[string]any, reg string, grouping []any,
	ext map[string]any, moveOn bool, at time.Time) map[string]any {
	cats := []any{map[string]any{"id": categoryCMI5}}
	if moveOn {
		cats = append(cats, map[string]any{"id": categoryMoveOn})
	}
	return map[string]any{
		"actor":  learner,
		"verb":   map[string]any{"id": verb, "display": map[string]any{"en-US": verbName(verb)}},
		"object": object,
		"context": map[string]any{"registration": strings.ToLower(reg),
			"contextActivities": map[string]any{"category": cats, "grouping": grouping}, "extensions": ext},
		"timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}

// post stores statements (with their ids set or not) as xAPI 1.0.3
// statements written by w.
func (s *Service) post(ctx context.Context, w ingest.Writer, stmts ...map[string]any) ([]string, error) {
	body, err := json.Marshal(stmts)
	if err != nil {
		return nil, errs.Wrap(err, "encoding cmi5 statements")
	}
	return s.Ingest.Post(ctx, ingest.Request{Writer: w, Version: statements.V103, Body: body})
}

// Fetch answers the cmi5 fetch URL of the Content token tok (section 8.2):
// the session's auth-token the first time, the base64 of
// "<session token>:" (HTTP Basic credentials whose key is the session
// token), and then error 1 (already in use, or the session is no longer
// the AU's current one); other failures are error 3. The errors are the
// spec's {"error-code", "error-text"} bodies, in a FetchError.
func (s *Service) Fetch(ctx context.Context, tok *Token) (string, error) {
	key := sessionKey(tok.Tenant, tok.AU, tok.Learner, tok.Registration)
	doc, cs, err := s.readSession(ctx, key)
	if err != nil {
		return "", &FetchError{Code: 3, Text: "the session could not be read; try again"}
	}
	if cs == nil || cs.Session != tok.Session || !cs.Abandoned.IsZero() || !cs.Terminated.IsZero() {
		return "", &FetchError{Code: 1, Text: "this session is over: launch the AU again"}
	}
	if cs.Fetched {
		return "", &FetchError{Code: 1, Text: "the authorization token has already been returned"}
	}
	cs.Fetched = true
	if err := s.putDoc(ctx, key, cs, documents.Condition{IfMatch: []string{doc.ETag}}); err != nil {
		if errs.Is(err, errs.PreconditionFailed) {
			return "", &FetchError{Code: 1, Text: "the authorization token has already been returned"}
		}
		return "", &FetchError{Code: 3, Text: "the session could not be recorded; try again"}
	}
	st := *tok
	st.Purpose = Session
	return base64.StdEncoding.EncodeToString([]byte(st.Seal(s.Keys[0]) + ":")), nil
}

// FetchError is a cmi5 fetch URL error (section 8.2.3).
type FetchError struct {
	Code int
	Text string
}

func (e *FetchError) Error() string {
	return "cmi5 fetch error " + strconv.Itoa(e.Code) + ": " + e.Text
}

// CheckCMI5Session refuses the cmi5 session tok once it is over: another
// launch of the AU replaced it, it was abandoned, or its AU terminated it
// more than TerminatedGrace ago (sections 9.3.6 and 9.3.8).
func (s *Service) CheckCMI5Session(ctx context.Context, tok *Token) error {
	_, cs, err := s.readSession(ctx, sessionKey(tok.Tenant, tok.AU, tok.Learner, tok.Registration))
	if err != nil {
		return err
	}
	switch {
	case cs == nil || cs.Session != tok.Session:
		return errs.E(errs.Unauthorized, "this cmi5 session is over: the AU was launched again")
	case !cs.Abandoned.IsZero():
		return errs.E(errs.Unauthorized, "this cmi5 session was abandoned")
	case !cs.Terminated.IsZero() && s.now().After(cs.Terminated.Add(TerminatedGrace)):
		return errs.E(errs.Unauthorized, "this cmi5 session was terminated")
	}
	return nil
}

// CMI5Written is what the LMS does after the statements stmts of the cmi5
// session tok were stored: a terminated statement ends the session, and
// a completion, pass or waiver may satisfy blocks and the course
// (Satisfy).
func (s *Service) CMI5Written(ctx context.Context, tok *Token, base string, w ingest.Writer, stmts []map[string]any) error {
	judged := false
	for _, st := range stmts {
		switch verbOf(st) {
		case verbTerminated:
			key := sessionKey(tok.Tenant, tok.AU, tok.Learner, tok.Registration)
			doc, cs, err := s.readSession(ctx, key)
			if err != nil {
				return err
			}
			if cs != nil && cs.Session == tok.Session && cs.Terminated.IsZero() {
				cs.Terminated = s.now().UTC()
				if err := s.putDoc(ctx, key, cs, documents.Condition{IfMatch: []string{doc.ETag}}); err != nil && !errs.Is(err, errs.PreconditionFailed) {
					return err
				}
			}
		case verbCompleted, verbPassed:
			judged = true
		}
	}
	if !judged || tok.LaunchMode() != ModeNormal {
		return nil
	}
	p, err := s.Packages.Version(ctx, tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		return err
	}
	_, err = s.Satisfy(ctx, tok.Tenant, p, base, tok.Learner, tok.Registration, tok.Session, w)
	return err
}

func verbOf(st map[string]any) string {
	v, _ := st["verb"].(map[string]any)
	id, _ := v["id"].(string)
	return id
}

// contextOf returns a statement's registration, the ids of its grouping
// activities and its session id extension.
func contextOf(st map[string]any) (reg string, grouping []string, session string) {
	ctx, _ := st["context"].(map[string]any)
	reg, _ = ctx["registration"].(string)
	if ca, ok := ctx["contextActivities"].(map[string]any); ok {
		switch g := ca["grouping"].(type) {
		case []any:
			for _, a := range g {
				if m, ok := a.(map[string]any); ok {
					if id, ok := m["id"].(string); ok {
						grouping = append(grouping, id)
					}
				}
			}
		case map[string]any:
			if id, ok := g["id"].(string); ok {
				grouping = append(grouping, id)
			}
		}
	}
	ext, _ := ctx["extensions"].(map[string]any)
	session, _ = ext[extSession].(string)
	return reg, grouping, session
}

// registrationStatements calls fn with each statement of the learner in
// registration reg with the verb, decoded.
func (s *Service) registrationStatements(ctx context.Context, tenant string, learner map[string]any, reg, verb string,
	fn func(rec *statements.Record, st map[string]any)) error {
	q := statements.Query{Tenant: tenant, Agent: statements.AgentKey(learner), Registration: strings.ToLower(reg), Verb: verb, Limit: 500}
	return s.eachStatement(ctx, q, fn)
}

// eachStatement calls fn with each statement q finds, decoded.
func (s *Service) eachStatement(ctx context.Context, q statements.Query, fn func(rec *statements.Record, st map[string]any)) error {
	for {
		page, err := s.Statements.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			v, err := statements.DecodeJSON(rec.JSON)
			if err != nil {
				return errs.Wrap(err, "decoding a stored statement")
			}
			if st, ok := v.(map[string]any); ok {
				fn(rec, st)
			}
		}
		if page.Cursor == "" {
			return nil
		}
		q.Cursor = page.Cursor
	}
}

// moveOnMet reports whether an AU with the moveOn criterion has met it,
// given the verbs of its statements in the registration (a waiver meets
// any; section 9.3.9).
func moveOnMet(moveOn string, done map[string]bool) bool {
	switch {
	case moveOn == "NotApplicable" || done[verbWaived]:
		return true
	case moveOn == "Completed":
		return done[verbCompleted]
	case moveOn == "Passed":
		return done[verbPassed]
	case moveOn == "CompletedAndPassed":
		return done[verbCompleted] && done[verbPassed]
	case moveOn == "CompletedOrPassed":
		return done[verbCompleted] || done[verbPassed]
	}
	return false
}

// Satisfy evaluates the moveOn criteria of the AUs of p for the learner's
// registration reg and stores a satisfied statement (section 9.3.9) for
// each block, then the course, whose AUs have all met them and that has
// none yet in the registration, with the session id session. It returns
// the ids stored. An AU's completions, passes and waivers are the
// learner's cmi5 defined statements (the cmi5 category) of the
// registration whose grouping holds the AU's publisher id (the context
// template); a satisfied statement's id is a UUID v5 of the learner, the
// registration and its object, so each is stored once.
func (s *Service) Satisfy(ctx context.Context, tenant string, p *packages.Package, base string, learner map[string]any,
	reg, session string, w ingest.Writer) ([]string, error) {
	done := map[string]map[string]bool{} // AU publisher id -> verbs
	for _, v := range []string{verbCompleted, verbPassed, verbWaived} {
		err := s.registrationStatements(ctx, tenant, learner, reg, v, func(_ *statements.Record, st map[string]any) {
			if !hasCategory(st, categoryCMI5) {
				return // cmi5 allowed statements do not count (section 7.1.3)
			}
			_, grouping, _ := contextOf(st)
			for _, g := range grouping {
				if done[g] == nil {
					done[g] = map[string]bool{}
				}
				done[g][v] = true
			}
		})
		if err != nil {
			return nil, err
		}
	}
	met := func(parent string) bool {
		for _, l := range p.Launchables {
			if (parent == "" || slices.Contains(l.Parents, parent)) && !moveOnMet(l.MoveOn, done[l.ID]) {
				return false
			}
		}
		return true
	}
	type target struct{ publisher, id, typ string }
	var targets []target
	seen := map[string]bool{}
	// Blocks, innermost first, then the course.
	for _, l := range p.Launchables {
		for i := len(l.Parents) - 1; i >= 0; i-- {
			if b := l.Parents[i]; !seen[b] {
				seen[b] = true
				targets = append(targets, target{b, CMI5Block(base, tenant, p, b), typeBlock})
			}
		}
	}
	slices.SortStableFunc(targets, func(a, b target) int { return depth(p, b.publisher) - depth(p, a.publisher) })
	targets = append(targets, target{p.ActivityID, CMI5Course(base, tenant, p), typeCourse})
	var ids []string
	for _, t := range targets {
		parent := t.publisher
		if t.typ == typeCourse {
			parent = ""
		}
		if !met(parent) {
			continue
		}
		id := uuid.NewSHA1(cmi5Namespace, []byte(strings.Join([]string{statements.AgentKey(learner), strings.ToLower(reg), t.id, "satisfied"}, "\n"))).String()
		if _, err := s.Statements.Get(ctx, tenant, id); err == nil {
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		st := cmi5Statement(learner, verbSatisfied, map[string]any{"objectType": "Activity", "id": t.id, "definition": map[string]any{"type": t.typ}},
			reg, []any{map[string]any{"objectType": "Activity", "id": t.publisher}}, map[string]any{extSession: session}, false, s.now())
		st["id"] = id
		got, err := s.post(ctx, w, st)
		if errs.Is(err, errs.Conflict) {
			continue // stored at the same time by another request
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// depth is how deep the block is nested (1: in the course).
func depth(p *packages.Package, block string) int {
	for _, l := range p.Launchables {
		if i := slices.Index(l.Parents, block); i >= 0 {
			return i + 1
		}
	}
	return 0
}

// cmi5Namespace is the UUID namespace of the ids of the LMS's statements.
var cmi5Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/xapi-lrs/lrs/launch#cmi5"))

// abandon stores the abandoned statement of the cmi5 session (of the AU
// au, whose publisher id is publisher, launched at launched) unless it was
// terminated or abandoned already, and marks the AU's session record
// abandoned if it is still that session's (section 9.3.6). The duration
// is the time from the launch to the session's last statement.
func (s *Service) abandon(ctx context.Context, tenant string, learner map[string]any, reg, au, publisher, session string,
	launched time.Time, w ingest.Writer) error {
	key := sessionKey(tenant, au, learner, reg)
	doc, cs, err := s.readSession(ctx, key)
	if err != nil {
		return err
	}
	if cs != nil && cs.Session == session && (!cs.Terminated.IsZero() || !cs.Abandoned.IsZero()) {
		return nil
	}
	over, last := false, launched
	err = s.registrationStatements(ctx, tenant, learner, reg, "", func(rec *statements.Record, st map[string]any) {
		if _, _, sid := contextOf(st); sid == session {
			v := verbOf(st)
			over = over || v == verbTerminated || v == verbAbandoned
			if rec.Timestamp.After(last) {
				last = rec.Timestamp
			}
		}
	})
	if err != nil {
		return err
	}
	if !over {
		st := cmi5Statement(learner, verbAbandoned, map[string]any{"objectType": "Activity", "id": au}, reg,
			[]any{map[string]any{"objectType": "Activity", "id": publisher}}, map[string]any{extSession: session}, false, s.now())
		st["id"] = uuid.NewSHA1(cmi5Namespace, []byte(session+"\nabandoned")).String()
		st["result"] = map[string]any{"duration": isoDuration(last.Sub(launched))}
		if _, err := s.post(ctx, w, st); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	if cs != nil && cs.Session == session {
		cs.Abandoned = s.now().UTC()
		if err := s.putDoc(ctx, key, cs, documents.Condition{IfMatch: []string{doc.ETag}}); err != nil && !errs.Is(err, errs.PreconditionFailed) {
			return err
		}
	}
	return nil
}

// isoDuration formats d as an ISO 8601 duration of hours, minutes and
// seconds (to the hundredth).
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d / time.Hour)
	m := int(d % time.Hour / time.Minute)
	sec := float64(d%time.Minute) / float64(time.Second)
	return "PT" + strconv.Itoa(h) + "H" + strconv.Itoa(m) + "M" + strconv.FormatFloat(float64(int(sec*100))/100, 'f', -1, 64) + "S"
}

// SweepAbandoned abandons the cmi5 sessions of tenant whose token has
// expired (they were launched more than SessionTTL ago, and up to
// SweepLookback before that) without their AU sending terminated: the
// learner closed the window, or the browser or network failed. Only the
// LRS's own launches count (launched statements whose authority is a
// launch: key); each is abandoned once, by the authority that launched it.
// It returns how many it abandoned.
func (s *Service) SweepAbandoned(ctx context.Context, tenant string) (int, error) {
	now := s.now()
	q := statements.Query{Tenant: tenant, Verb: verbLaunched, Since: now.Add(-SessionTTL - SweepLookback), Until: now.Add(-SessionTTL),
		Limit: 500, Ascending: true}
	n := 0
	for {
		page, err := s.Statements.Query(ctx, q)
		if err != nil {
			return n, err
		}
		for _, rec := range page.Records {
			if !strings.HasPrefix(rec.Authority, "launch:") {
				continue
			}
			v, err := statements.DecodeJSON(rec.JSON)
			st, ok := v.(map[string]any)
			if err != nil || !ok {
				continue
			}
			reg, grouping, session := contextOf(st)
			obj, _ := st["object"].(map[string]any)
			au, _ := obj["id"].(string)
			learner, _ := st["actor"].(map[string]any)
			if session == "" || au == "" || len(grouping) == 0 || learner == nil {
				continue
			}
			w := writerOf(tenant, st)
			key := sessionKey(tenant, au, learner, reg)
			_, cs, err := s.readSession(ctx, key)
			if err != nil {
				return n, err
			}
			if cs == nil || cs.Session != session || !cs.Terminated.IsZero() || !cs.Abandoned.IsZero() {
				continue // replaced by a later launch (which abandoned it), or over
			}
			if err := s.abandon(ctx, tenant, learner, reg, au, grouping[0], session, rec.Timestamp, w); err != nil {
				return n, err
			}
			n++
		}
		if page.Cursor == "" {
			return n, nil
		}
		q.Cursor = page.Cursor
	}
}

// writerOf is the writer of the statement st: its authority's account.
func writerOf(tenant string, st map[string]any) ingest.Writer {
	auth, _ := st["authority"].(map[string]any)
	acc, _ := auth["account"].(map[string]any)
	w := ingest.Writer{Tenant: tenant}
	w.Key, _ = acc["name"].(string)
	w.Home, _ = acc["homePage"].(string)
	w.Name, _ = auth["name"].(string)
	return w
}

// WaiveRequest asks to waive an AU for a learner (section 9.3.7).
type WaiveRequest struct {
	Tenant  string
	Package string
	AU      string // the AU's publisher id (its launchable ID)
	Learner map[string]any
	Reason  string // section 9.5.5.2: Tested Out, Equivalent AU, Equivalent Outside Activity, Administrative, …
	Base    string
	Writer  ingest.Writer
}

// Waived is what a waiver stored.
type Waived struct {
	Registration string
	Statement    string   // the waived statement's id
	Satisfied    []string // the satisfied statements it led to
}

// Waive records that the AU's requirements were met by other means, in
// the learner's current attempt at the package (starting one if there is
// none): a waived statement with its own session id, success and
// completion, the reason, then the satisfied statements of the blocks and
// the course it completes. An AU waived before in the registration is an
// errs.Conflict error.
func (s *Service) Waive(ctx context.Context, req WaiveRequest) (*Waived, error) {
	if err := checkLearner(req.Learner); err != nil {
		return nil, err
	}
	if err := checkCMI5Learner(req.Learner); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > 1000 {
		return nil, errs.Invalidf("reason", "waive-reason", "give the reason of the waiver (at most 1000 characters), e.g. Tested Out, Equivalent AU, Equivalent Outside Activity or Administrative")
	}
	p, err := s.Packages.Package(ctx, req.Tenant, req.Package)
	if err != nil {
		return nil, err
	}
	if p.Kind != packages.CMI5 {
		return nil, errs.Invalidf("package", "waive-kind", "only the AUs of cmi5 packages are waived; this package is %s", p.Kind)
	}
	au, err := launchable(p, req.AU)
	if err != nil || req.AU == "" {
		return nil, errs.Invalidf("launchable", "waive-au", "name the AU to waive by its id in the course structure (launchable)")
	}
	reg, _, err := s.registration(ctx, req.Tenant, p, req.Learner, "")
	if err != nil {
		return nil, err
	}
	auIRI := CMI5AU(req.Base, req.Tenant, p, au.ID)
	waived := false
	err = s.registrationStatements(ctx, req.Tenant, req.Learner, reg, verbWaived, func(_ *statements.Record, st map[string]any) {
		_, grouping, _ := contextOf(st)
		waived = waived || slices.Contains(grouping, au.ID)
	})
	if err != nil {
		return nil, err
	}
	if waived {
		return nil, errs.E(errs.Conflict, "the AU %q is waived already in this learner's attempt", trunc(au.ID))
	}
	session := uuid.NewString()
	st := cmi5Statement(req.Learner, verbWaived, map[string]any{"objectType": "Activity", "id": auIRI}, reg,
		[]any{map[string]any{"objectType": "Activity", "id": au.ID}}, map[string]any{extSession: session}, true, s.now())
	st["result"] = map[string]any{"success": true, "completion": true, "extensions": map[string]any{extReason: req.Reason}}
	ids, err := s.post(ctx, req.Writer, st)
	if err != nil {
		return nil, err
	}
	sat, err := s.Satisfy(ctx, req.Tenant, p, req.Base, req.Learner, reg, session, req.Writer)
	if err != nil {
		return nil, err
	}
	return &Waived{Registration: reg, Statement: ids[0], Satisfied: sat}, nil
}
