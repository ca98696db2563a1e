package launch

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
)

// Lifetimes of tokens.
const (
	// DefaultLinkTTL is how long a launch link works unless asked
	// otherwise; MaxLinkTTL the most it may be asked to (links mailed to
	// learners for a campaign).
	DefaultLinkTTL = 24 * time.Hour
	MaxLinkTTL     = 30 * 24 * time.Hour
	// SessionTTL is how long a session token works: a working day, so
	// that a course left open over lunch still commits.
	SessionTTL = 8 * time.Hour
)

// AttemptStateID is the reserved stateId of a learner's current attempt
// at a package: a State document of the package's activity IRI and the
// learner, without a registration, holding the attempt's registration
// (see Service.Launch). The State resource shows it like any other.
const AttemptStateID = "https://github.com/xapi-lrs/lrs/launch/attempt"

// Service is the launch use case: personal launch links, the attempt
// (registration) they belong to, the SCORM player's data and commits,
// and the SCORM rollup.
type Service struct {
	Packages   packages.Store
	Documents  documents.Store  // attempts (AttemptStateID)
	Statements statements.Store // whether an attempt is over
	SCORM      *scorm.Service
	Ingest     *ingest.Service
	// Keys are the content keys: the first seals tokens, all open them.
	Keys [][]byte
	Now  func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Request asks for a launch link.
type Request struct {
	Tenant string
	Issuer string // the key of the credential asking, or a SelfIssuer
	// Package is the package ID; the link launches its latest version.
	Package string
	// Launchable is the ID of the launchable to start with; "": the first
	// of the package.
	Launchable string
	// Learner is the learner's Agent (as statements.ParseAgent returns
	// it): an identified Agent, not a Group.
	Learner   map[string]any
	ReturnURL string        // where the player's "back" link leads; "": none
	TTL       time.Duration // 0: DefaultLinkTTL
	// LaunchMode is, for a cmi5 package, Normal (""), Browse or Review
	// (cmi5 section 10.2.2): only a Normal session records completions
	// and passes and can satisfy the course.
	LaunchMode string
}

// Launched is a launch link.
type Launched struct {
	Token        string // the link token, sealed
	Expires      time.Time
	Registration string
	// Resumed is true when the link continues an attempt started before.
	Resumed    bool
	Package    *packages.Package
	Launchable *packages.Launchable
}

// Launch makes a launch link for req: a Link token for the learner, the
// launchable and the latest version of the package, in the learner's
// current attempt at the package.
//
// An attempt is one registration per learner and package, kept across
// launches (so that SCORM and Tin Can content resumes, and the statements
// of every session of the attempt share it; for cmi5 it is the course
// registration) until it is over: until a statement by the learner in
// that registration says the package's own activity (the course) is
// completed or passed (the SCORM rollup, a Tin Can course's completion)
// or, for cmi5, satisfied (the LRS's satisfied statement of the course,
// with the course's publisher id in its grouping). The next launch then
// starts a new attempt with a new registration, except a cmi5 launch in
// Browse or Review mode, which looks at the latest attempt, over or not.
// The current registration is kept in a State document (AttemptStateID).
func (s *Service) Launch(ctx context.Context, req Request) (*Launched, error) {
	if err := checkLearner(req.Learner); err != nil {
		return nil, err
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultLinkTTL
	}
	if ttl < 0 || ttl > MaxLinkTTL {
		return nil, errs.Invalidf("expiresIn", "duration", "a launch link lasts at most %s", MaxLinkTTL)
	}
	p, err := s.Packages.Package(ctx, req.Tenant, req.Package)
	if err != nil {
		return nil, err
	}
	l, err := launchable(p, req.Launchable)
	if err != nil {
		return nil, err
	}
	mode, err := launchMode(p, req.LaunchMode)
	if err != nil {
		return nil, err
	}
	if p.Kind == packages.CMI5 {
		if err := checkCMI5Learner(req.Learner); err != nil {
			return nil, err
		}
	}
	tok := Token{Purpose: Link, Tenant: req.Tenant, Issuer: req.Issuer, Package: p.ID, Version: p.Version, Launchable: l.ID,
		Learner: req.Learner, Registration: uuid.Nil.String(), ReturnURL: req.ReturnURL, Mode: mode, Expires: s.now().Add(ttl).UTC().Truncate(time.Second)}
	if n := len(tok.Seal(s.Keys[0])); n > maxLinkLength { // a registration is as long as any other
		return nil, errs.Invalidf("agent", "launch-too-long", "the learner's Agent, the launchable and the returnUrl make a launch link of %d characters; they may make at most %d", n, maxLinkLength)
	}
	reg, resumed, err := s.registration(ctx, req.Tenant, p, req.Learner, mode)
	if err != nil {
		return nil, err
	}
	tok.Registration = reg
	return &Launched{Token: tok.Seal(s.Keys[0]), Expires: tok.Expires, Registration: reg, Resumed: resumed, Package: p, Launchable: l}, nil
}

// checkLearner refuses a learner who cannot make statements: a Group or
// an Agent without an identifier.
func checkLearner(a map[string]any) error {
	if statements.AgentKey(a) == "" || a["objectType"] == "Group" {
		return errs.Invalidf("agent", "launch-learner", "the learner must be an identified Agent (mbox, mbox_sha1sum, openid or account), not a Group")
	}
	return nil
}

// launchable returns the launchable of p with the id ("": the first).
func launchable(p *packages.Package, id string) (*packages.Launchable, error) {
	if len(p.Launchables) == 0 {
		return nil, errs.Invalidf("package", "launch-none", "package %s has nothing to launch", p.ID)
	}
	if id == "" {
		return &p.Launchables[0], nil
	}
	for i := range p.Launchables {
		if p.Launchables[i].ID == id {
			return &p.Launchables[i], nil
		}
	}
	return nil, errs.Invalidf("launchable", "launch-launchable", "package %s version %d has no launchable %q; its launchables are listed by GET /api/v1/packages/%s",
		p.ID, p.Version, trunc(id), p.ID)
}

// attempt is the content of an attempt's State document.
type attempt struct {
	Registration string    `json:"registration"`
	Started      time.Time `json:"started"`
}

// attemptKey is the key of the learner's attempt document for package p.
func attemptKey(tenant string, p *packages.Package, learner map[string]any) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.State, ActivityID: p.ActivityID,
		Agent: statements.AgentKey(learner), ID: AttemptStateID}
}

// registration returns the registration of the learner's current attempt
// at p, starting a new attempt when there is none or the last is over;
// resumed is true for an attempt started before.
func (s *Service) registration(ctx context.Context, tenant string, p *packages.Package, learner map[string]any, mode string) (reg string, resumed bool, err error) {
	key := attemptKey(tenant, p, learner)
	for range 4 {
		cond := documents.Condition{IfNoneMatch: []string{"*"}}
		doc, err := s.Documents.Document(ctx, key)
		switch {
		case err == nil:
			var a attempt
			if json.Unmarshal(doc.Content, &a) == nil && statements.ValidUUID(a.Registration) {
				if mode == ModeBrowse || mode == ModeReview {
					// Looking at an attempt, not making one: the latest,
					// over or not (cmi5 section 10.2.2).
					return a.Registration, true, nil
				}
				over, err := s.attemptOver(ctx, tenant, p, learner, a.Registration)
				if err != nil {
					return "", false, err
				}
				if !over {
					return a.Registration, true, nil
				}
			}
			cond = documents.Condition{IfMatch: []string{doc.ETag}}
		case !errs.Is(err, errs.NotFound):
			return "", false, err
		}
		reg := uuid.NewString()
		b, _ := json.Marshal(attempt{Registration: reg, Started: s.now().UTC()})
		err = s.Documents.PutDocument(ctx, documents.NewDocument(key, "application/json", b, s.now()), cond)
		if errs.Is(err, errs.PreconditionFailed) {
			continue // another launch of the learner came first: take its attempt
		}
		return reg, false, err
	}
	return "", false, errs.E(errs.Conflict, "other launches of this learner and package kept arriving at the same time; ask again")
}

// attemptOver reports whether the learner's attempt reg at p is over: a
// statement of the learner in reg says p's activity is completed or
// passed (its object), or for cmi5 satisfied (the course's publisher id in
// its context).
func (s *Service) attemptOver(ctx context.Context, tenant string, p *packages.Package, learner map[string]any, reg string) (bool, error) {
	verbs, related := []string{verbCompleted, verbPassed}, false
	if p.Kind == packages.CMI5 {
		verbs, related = []string{verbSatisfied}, true
	}
	for _, v := range verbs {
		page, err := s.Statements.Query(ctx, statements.Query{Tenant: tenant, Agent: statements.AgentKey(learner), Verb: v,
			Activity: p.ActivityID, RelatedActivities: related, Registration: strings.ToLower(reg), Limit: 1})
		if err != nil {
			return false, err
		}
		if len(page.Records) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Session opens a session of the launch tok (a Link or a Session token):
// the package version it names, and a Session token for the session
// (tok itself when it is one). Each opening of a link is a session of its
// own; a cmi5 session's token names the AU's activity IRI under base
// (CMI5AU).
func (s *Service) Session(ctx context.Context, tok *Token, base string) (session *Token, sealed string, p *packages.Package, err error) {
	p, err = s.Packages.Version(ctx, tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, "", nil, errs.E(errs.NotFound, "the package of this launch link has been deleted")
		}
		return nil, "", nil, err
	}
	if tok.Purpose == Session {
		return tok, "", p, nil
	}
	st := *tok
	st.Purpose = Session
	st.Session = uuid.NewString()
	st.Expires = s.now().Add(SessionTTL).UTC().Truncate(time.Second)
	if p.Kind == packages.CMI5 {
		st.AU = CMI5AU(base, tok.Tenant, p, tok.Launchable)
	}
	return &st, st.Seal(s.Keys[0]), p, nil
}

// Seal returns t sealed under the service's key.
func (s *Service) Seal(t Token) string { return t.Seal(s.Keys[0]) }

// Item is an entry of the SCORM player's table of contents.
type Item struct {
	Launchable *packages.Launchable
	Status     SCOStatus // of a SCO; "" for an asset
	Current    bool
}

// Player is what the SCORM player shows for one launchable of a session.
type Player struct {
	Package    *packages.Package
	Launchable *packages.Launchable // the one shown
	Items      []Item               // every launchable, in the manifest's order
	// Init initialises the runtime (scorm.Init) for the launchable, with
	// what its attempt had; the caller sets CommitURL.
	Init scorm.Init
}

// Player returns the player of session tok (a Session token) of p
// showing the launchable with id ("": the token's).
func (s *Service) Player(ctx context.Context, tok *Token, p *packages.Package, id string) (*Player, error) {
	if p.Kind != packages.SCORM12 && p.Kind != packages.SCORM2004 {
		return nil, errs.Invalidf("", "launch-kind", "the SCORM player plays SCORM packages, not %s", p.Kind)
	}
	if id == "" {
		id = tok.Launchable
	}
	cur, err := launchable(p, id)
	if err != nil {
		return nil, errs.E(errs.NotFound, "this package has no item %q", trunc(id))
	}
	pl := &Player{Package: p, Launchable: cur}
	var curState *scorm.State
	for i := range p.Launchables {
		l := &p.Launchables[i]
		it := Item{Launchable: l, Current: l == cur}
		if l.SCORMType == "sco" {
			st, err := s.SCORM.State(ctx, tok.Tenant, s.context(tok, p, l))
			if err != nil {
				return nil, err
			}
			it.Status = Status(st)
			if it.Current {
				curState = st
			}
		}
		pl.Items = append(pl.Items, it)
	}
	pl.Init = curState.Resume(initOf(p, cur, tok.Learner))
	return pl, nil
}

// context is the scorm.Context of SCO l of p in the session tok.
func (s *Service) context(tok *Token, p *packages.Package, l *packages.Launchable) scorm.Context {
	return scorm.Context{Learner: tok.Learner, Course: p.ActivityID, SCO: l.ActivityID, Registration: tok.Registration}
}

// initOf is the runtime's initial data for the launchable l of p and the
// learner: the values the manifest gives and who the learner is.
func initOf(p *packages.Package, l *packages.Launchable, learner map[string]any) scorm.Init {
	in := scorm.Init{Version: scorm.V2004, Credit: "credit", Mode: "normal", LaunchData: l.DataFromLMS,
		MaxTimeAllowed: l.MaxTimeAllowed, TimeLimitAction: l.TimeLimitAction}
	in.LearnerID, in.LearnerName = learnerID(learner)
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	if p.Kind == packages.SCORM12 {
		in.Version = scorm.V12
		in.MasteryScore = num(l.MasteryScore)
	} else {
		in.ScaledPassingScore = num(l.MinNormalizedMeasure)
		in.CompletionThreshold = num(l.CompletionThreshold)
	}
	return in
}

// learnerID returns what the SCORM data model calls the learner's id and
// name: the account name, the e-mail address, the OpenID or the hashed
// address, and the Agent's name.
func learnerID(a map[string]any) (id, name string) {
	name, _ = a["name"].(string)
	switch {
	case a["account"] != nil:
		acc, _ := a["account"].(map[string]any)
		id, _ = acc["name"].(string)
	case a["mbox"] != nil:
		id, _ = a["mbox"].(string)
		id = strings.TrimPrefix(id, "mailto:")
	case a["openid"] != nil:
		id, _ = a["openid"].(string)
	default:
		id, _ = a["mbox_sha1sum"].(string)
	}
	return id, name
}

// Commit stores the commit body of SCO sco (its launchable ID) in the
// session tok, written by w (scorm.Service.Commit), and, when it ends the
// SCO's session, the SCORM rollup (Rollup) if the course is now done:
// one statement about the course activity (scorm.RollupStatement), once
// per attempt.
func (s *Service) Commit(ctx context.Context, tok *Token, w ingest.Writer, sco string, body []byte, terminate bool) (*scorm.Result, error) {
	p, err := s.Packages.Version(ctx, tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		return nil, err
	}
	var l *packages.Launchable
	for _, x := range SCOs(p) {
		if x.ID == sco {
			l = x
		}
	}
	if l == nil {
		return nil, errs.Invalidf("sco", "launch-sco", "this package has no SCO %q", trunc(sco))
	}
	res, err := s.SCORM.Commit(ctx, scorm.Request{Writer: w, Context: s.context(tok, p, l), Body: body, Terminate: terminate})
	if err != nil {
		return nil, err
	}
	if !res.State.Open {
		ids, err := s.rollup(ctx, tok, p, w)
		if err != nil {
			return nil, err
		}
		res.Statements = append(res.Statements, ids...)
	}
	return res, nil
}

// rollup stores the rollup statement of the attempt of tok at p when the
// course is done and has none yet; it returns the ids stored.
func (s *Service) rollup(ctx context.Context, tok *Token, p *packages.Package, w ingest.Writer) ([]string, error) {
	states := map[string]*scorm.State{}
	for _, l := range SCOs(p) {
		st, err := s.SCORM.State(ctx, tok.Tenant, s.context(tok, p, l))
		if err != nil {
			return nil, err
		}
		states[l.ActivityID] = st
	}
	verb, result, ok := Rollup(p, states)
	if !ok {
		return nil, nil
	}
	over, err := s.attemptOver(ctx, tok.Tenant, p, tok.Learner, tok.Registration)
	if err != nil || over {
		return nil, err
	}
	x := scorm.Context{Learner: tok.Learner, Course: p.ActivityID, Registration: tok.Registration, Time: s.now()}
	body, err := json.Marshal(scorm.RollupStatement(x, verb, result))
	if err != nil {
		return nil, errs.Wrap(err, "encoding a SCORM rollup statement")
	}
	ids, err := s.Ingest.Post(ctx, ingest.Request{Writer: w, Version: statements.V103, Body: body})
	if errs.Is(err, errs.Conflict) {
		return nil, nil // stored by a commit running at the same time
	}
	return ids, err
}

// trunc shortens a value quoted in a message.
func trunc(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}

// SelfIssuer is the Issuer of a launch a signed-in learner made for
// themselves (the Start button of the pages for people, a reminder
// e-mail's link): "person:" and their employee id. Such a launch needs no
// credential: its links and sessions work while the tenant is enabled.
func SelfIssuer(person string) string { return selfPrefix + person }

const selfPrefix = "person:"

// SelfIssued reports whether issuer is a SelfIssuer.
func SelfIssued(issuer string) bool { return strings.HasPrefix(issuer, selfPrefix) }

// Hosted returns, of the modules, those a package here delivers (a
// package whose course activity is one of the module's activities, as
// packages.LinkModule makes it), with that package's ID; of several
// packages, the one imported last.
func (s *Service) Hosted(ctx context.Context, tenant string, modules []*reporting.Module) (map[string]string, error) {
	ps, err := s.Packages.Packages(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	latest := map[string]time.Time{}
	for _, m := range modules {
		for _, p := range ps {
			if slices.Contains(m.Activities, p.ActivityID) && (out[m.ID] == "" || p.Imported.After(latest[m.ID])) {
				out[m.ID], latest[m.ID] = p.ID, p.Imported
			}
		}
	}
	return out, nil
}
