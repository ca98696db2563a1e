package accounts

import (
	"context"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Access is what a signed-in person may see: decided on each request from
// the account's grants and the roster of that day.
type Access struct {
	Tenant  string
	Account string // "" for an OpenID Connect sign-in without an account
	Person  string // employee id, or "" for nobody in the roster
	Label   string // the person's name, else the account name or claim
	Grants  []Role
	// Manages are the units the person is a manager of on the day (the
	// roster's manager rows), sorted; the units under them are theirs too.
	Manages []string
	// Units is the roster's units of the day (names, parents, managers).
	Units *reporting.View
}

// Tenantwide reports whether the holder sees the whole tenant (hr or
// auditor).
func (a *Access) Tenantwide() bool { return a.Has(RoleHR) || a.Has(RoleAuditor) }

// Has reports whether the holder was granted role r.
func (a *Access) Has(r Role) bool { return slices.Contains(a.Grants, r) }

// Manager reports whether the holder manages any unit.
func (a *Access) Manager() bool { return len(a.Manages) > 0 }

// Learner reports whether the holder is a person of the roster (who has a
// training page of their own).
func (a *Access) Learner() bool { return a.Person != "" }

// VisibleUnits returns the units whose pages the holder may open: every
// unit of the day for hr and auditors, the subtrees of the units they
// manage for managers, none for others; sorted.
func (a *Access) VisibleUnits() []string {
	var set map[string]bool
	if a.Tenantwide() {
		set = map[string]bool{}
		for id := range a.Units.Units {
			set[id] = true
		}
	} else {
		set = a.Units.Subtree(a.Manages)
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// SeesUnit reports whether the holder may open the page of unit: a unit
// of the day that is tenant-wide visible to them or in a subtree they
// manage.
func (a *Access) SeesUnit(unit string) bool {
	if a.Units.Units[unit] == nil {
		return false
	}
	return a.Tenantwide() || a.Units.Subtree(a.Manages)[unit]
}

// SeesPerson reports whether the holder may open the page of a person who
// is a member of units on the day: themselves, anyone for hr and auditors,
// and the members of the units a manager manages (with the units under
// them).
func (a *Access) SeesPerson(person string, units []string) bool {
	if a.Tenantwide() || person != "" && person == a.Person {
		return true
	}
	sub := a.Units.Subtree(a.Manages)
	return slices.ContainsFunc(units, func(u string) bool { return sub[u] })
}

// Resolve works out the access of a session as of instant now (its day
// in loc): the grants of its account (nil for none), the units its person
// manages in the roster of that day, and a label for the pages.
func Resolve(ctx context.Context, roster reporting.RosterStore, sess *Session, a *Account, now time.Time, loc *time.Location) (*Access, error) {
	acc := &Access{Tenant: sess.Tenant, Account: sess.Account, Person: sess.Person, Label: sess.Label}
	if a != nil {
		acc.Grants = a.Grants
		if a.Person != "" {
			acc.Person = a.Person
		}
	}
	day := reporting.DateOf(now, loc)
	rows, err := roster.RosterRows(ctx, sess.Tenant, reporting.RosterFilter{UnitsOnly: true})
	if err != nil {
		return nil, err
	}
	acc.Units = reporting.NewView(rows, day)
	if acc.Person == "" {
		return acc, nil
	}
	for id, u := range acc.Units.Units {
		if slices.Contains(u.Managers, acc.Person) {
			acc.Manages = append(acc.Manages, id)
		}
	}
	slices.Sort(acc.Manages)
	if name := personName(ctx, roster, sess.Tenant, acc.Person, day); name != "" {
		acc.Label = name
	}
	return acc, nil
}

// personName returns the latest name the roster gives person (as of day,
// or later ones if none started by then), or "".
func personName(ctx context.Context, roster reporting.RosterStore, tenant, person string, day reporting.Date) string {
	rows, err := roster.RosterRows(ctx, tenant, reporting.RosterFilter{People: []string{person}})
	if err != nil {
		return ""
	}
	v := reporting.NewView(rows, day)
	if p := v.People[person]; p != nil {
		return p.Name
	}
	return v.Name(person)
}

// FindPerson returns the employee id of the person of the tenant's roster
// who holds one of the identifiers keys (match keys: see
// reporting.MatchKey) on day: the person an OpenID Connect sign-in names by
// its e-mail address or LMS account. It is an errs.NotFound error when
// nobody does, and an errs.Conflict error when the keys name different
// people.
func FindPerson(ctx context.Context, roster reporting.RosterStore, tenant string, keys []string, day reporting.Date) (string, error) {
	rows, err := roster.RosterRows(ctx, tenant, reporting.RosterFilter{Holding: keys})
	if err != nil {
		return "", err
	}
	v := reporting.NewView(rows, day)
	var found string
	for _, k := range keys {
		switch p := v.Holder(k, day); {
		case p == "":
		case found == "":
			found = p
		case p != found:
			return "", errs.E(errs.Conflict, "the identifiers name two people, %s and %s", found, p)
		}
	}
	if found == "" {
		return "", errs.E(errs.NotFound, "nobody in the roster holds the identifier")
	}
	return found, nil
}

// PersonExists reports whether employee id person is in the tenant's
// roster (employed on any day).
func PersonExists(ctx context.Context, roster reporting.RosterStore, tenant, person string) (bool, error) {
	rows, err := roster.RosterRows(ctx, tenant, reporting.RosterFilter{People: []string{person}})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(rows, func(r reporting.RosterRow) bool { return r.Kind == reporting.RowPerson }), nil
}
