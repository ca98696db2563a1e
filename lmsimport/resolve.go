package lmsimport

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/reporting"
)

// Directory resolves what the rows of a file name: people through the
// roster, modules through the catalog, of one tenant.
type Directory struct {
	today    reporting.Date
	people   map[string]*person
	holders  map[string][]holder // identifier match key -> its holders over time
	accounts map[string][]string // lowercased account name -> match keys of accounts with it

	byID, byIDFold, byIRI map[string]*reporting.Module
	byTitle               map[string][]*reporting.Module
}

type person struct {
	key, name, email string
	from             reporting.Date // of the person row name and email come from
	idents           []string       // match keys of the identifiers held, ever
}

type holder struct {
	person string
	reporting.Interval
}

// NewDirectory returns the Directory of the current roster rows and the
// catalog; today is the day of the import.
func NewDirectory(rows []reporting.RosterRow, cat *reporting.Catalog, today reporting.Date) *Directory {
	d := &Directory{today: today, people: map[string]*person{}, holders: map[string][]holder{}, accounts: map[string][]string{},
		byID: map[string]*reporting.Module{}, byIDFold: map[string]*reporting.Module{}, byIRI: map[string]*reporting.Module{},
		byTitle: map[string][]*reporting.Module{}}
	get := func(key string) *person {
		p := d.people[key]
		if p == nil {
			p = &person{key: key}
			d.people[key] = p
		}
		return p
	}
	for i := range rows {
		r := &rows[i]
		if r.Superseded != 0 {
			continue
		}
		switch r.Kind {
		case reporting.RowPerson:
			// The latest employment's name and e-mail address.
			if p := get(r.Key); r.From >= p.from {
				p.name, p.email, p.from = r.Name, r.Email, r.From
			}
		case reporting.RowIdent:
			p := get(r.Key)
			if !slices.Contains(p.idents, r.Value) {
				p.idents = append(p.idents, r.Value)
			}
			d.holders[r.Value] = append(d.holders[r.Value], holder{r.Key, r.Interval})
			if home, name, ok := accountOf(r.Value); ok && home != "" {
				fold := strings.ToLower(name)
				if !slices.Contains(d.accounts[fold], r.Value) {
					d.accounts[fold] = append(d.accounts[fold], r.Value)
				}
			}
		}
	}
	for _, p := range d.people {
		slices.SortFunc(p.idents, func(a, b string) int { return cmp.Or(cmp.Compare(identRank(a), identRank(b)), cmp.Compare(a, b)) })
	}
	if cat != nil {
		for _, m := range cat.Modules {
			d.byID[m.ID] = m
			d.byIDFold[strings.ToLower(m.ID)] = m
			for _, iri := range m.Activities {
				d.byIRI[iri] = m
			}
			for _, title := range m.Title {
				k := fold(title)
				if !slices.Contains(d.byTitle[k], m) {
					d.byTitle[k] = append(d.byTitle[k], m)
				}
			}
		}
	}
	return d
}

// fold is a title for comparison: lowercased, with single spaces.
func fold(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// identRank orders a person's identifiers for an agent: e-mail addresses
// first, then accounts, OpenIDs and hashed addresses.
func identRank(key string) int {
	for i, p := range []string{"mbox:", "account:", "openid:", "mbox_sha1sum:"} {
		if strings.HasPrefix(key, p) {
			return i
		}
	}
	return 4
}

// accountUnescape undoes statements.AgentKey's escaping of an account's
// homePage.
var accountUnescape = strings.NewReplacer("%25", "%", "%20", " ")

// accountOf splits the match key of an account into homePage and name.
func accountOf(key string) (home, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, "account:")
	if !ok {
		return "", "", false
	}
	home, name, ok = strings.Cut(rest, " ")
	return accountUnescape.Replace(home), name, ok
}

// agentOf returns the xAPI identifier of a match key, as in an Agent.
func agentOf(key string) map[string]any {
	if home, name, ok := accountOf(key); ok {
		return map[string]any{"account": map[string]any{"homePage": home, "name": name}}
	}
	kind, v, _ := strings.Cut(key, ":")
	return map[string]any{kind: v}
}

// emailKey is the match key of an e-mail address (reporting.MatchKey of
// its mbox).
func emailKey(addr string) string {
	addr = strings.TrimSpace(addr)
	if len(addr) >= 7 && strings.EqualFold(addr[:7], "mailto:") {
		addr = addr[7:]
	}
	return reporting.MatchKey("mbox:mailto:" + addr)
}

// holderOn returns who held identifier key on day, or "".
func (d *Directory) holderOn(key string, day reporting.Date) string {
	for _, h := range d.holders[key] {
		if h.Contains(day) {
			return h.person
		}
	}
	return ""
}

// holderNow returns who holds identifier key today, or else who held it
// last (identifiers are kept when a person leaves), or "".
func (d *Directory) holderNow(key string) string {
	if p := d.holderOn(key, d.today); p != "" {
		return p
	}
	var last *holder
	for i, h := range d.holders[key] {
		if last == nil || h.From > last.From {
			last = &d.holders[key][i]
		}
	}
	if last == nil {
		return ""
	}
	return last.person
}

// candidates returns the people identifier r names: an export gives
// people as the LMS knows them now, so identifiers are resolved to their
// holders of today.
func (d *Directory) candidates(r Ref) []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	kind := r.Kind
	if kind == colPerson {
		switch {
		case d.people[r.Value] != nil:
			kind = colEmployee
		case strings.Contains(r.Value, "@"):
			kind = colEmail
		default:
			kind = colUsername
		}
	}
	switch kind {
	case colEmployee:
		if d.people[r.Value] != nil {
			add(r.Value)
		}
	case colEmail:
		add(d.holderNow(emailKey(r.Value)))
	case colUsername:
		for _, k := range d.accounts[strings.ToLower(r.Value)] {
			add(d.holderNow(k))
		}
	}
	slices.Sort(out)
	return out
}

// Person returns the person key of the person refs name, or why there is
// none: no one in the roster has them, one names several people, or two
// name different people.
func (d *Directory) Person(refs []Ref) (string, string) {
	found, foundBy := "", Ref{}
	var unknown []string
	for _, r := range refs {
		c := d.candidates(r)
		switch {
		case len(c) == 0:
			unknown = append(unknown, fmt.Sprintf("%s %q", r.Header, r.Value))
			continue
		case len(c) > 1:
			return "", fmt.Sprintf("%s %q is ambiguous: the roster has it for %s", r.Header, r.Value, strings.Join(c, ", "))
		case found != "" && found != c[0]:
			return "", fmt.Sprintf("%s %q is person %s, but %s %q is person %s", foundBy.Header, foundBy.Value, found, r.Header, r.Value, c[0])
		}
		found, foundBy = c[0], r
	}
	if found == "" {
		return "", "unknown person: no one in the roster has " + strings.Join(unknown, " or ")
	}
	return found, ""
}

// Agent returns the Agent of person key for a statement of day: the
// e-mail address the roster shows for them, if they held it that day (as
// the reports attribute statements to whoever held an identifier when),
// else another identifier they held that day (e-mail addresses, then
// accounts); or why there is none.
func (d *Directory) Agent(key string, day reporting.Date) (map[string]any, string) {
	p := d.people[key]
	if p == nil {
		return nil, "unknown person " + key
	}
	var agent map[string]any
	if p.email != "" && d.holderOn(emailKey(p.email), day) == key {
		agent = map[string]any{"mbox": "mailto:" + p.email}
	} else {
		for _, k := range p.idents {
			if d.holderOn(k, day) == key {
				agent = agentOf(k)
				break
			}
		}
	}
	if agent == nil {
		return nil, fmt.Sprintf("person %s held none of their identifiers in the roster on %s, so the completion could not count for them", key, day)
	}
	agent["objectType"] = "Agent"
	if p.name != "" {
		agent["name"] = p.name
	}
	return agent, ""
}

// Module returns the module s names (its id, its title in any language,
// or one of its activity IRIs), or why there is none.
func (d *Directory) Module(s string) (*reporting.Module, string) {
	if m := cmp.Or(d.byID[s], d.byIRI[s], d.byIDFold[strings.ToLower(s)]); m != nil {
		return m, ""
	}
	switch ms := d.byTitle[fold(s)]; len(ms) {
	case 0:
		return nil, fmt.Sprintf("unknown module %q: no module in the catalog has this id, title or activity IRI", s)
	case 1:
		return ms[0], ""
	default:
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		slices.Sort(ids)
		return nil, fmt.Sprintf("module %q is ambiguous: the modules %s have this title", s, strings.Join(ids, " and "))
	}
}
