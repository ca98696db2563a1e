package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/reporting"
)

// The scale of issue #5, for benchmarks: 55,000 people in 50 units under
// one root, the 8 KiNS modules and the four role rules, and the facts of
// 2,000,000 statements (every one of them projected, the worst case: real
// traffic has many statements the projection skips).
const (
	ScalePeople     = 55_000
	ScaleUnits      = 50
	ScaleStatements = 2_000_000
)

// Scale is the size of a generated organisation: people in ScaleUnits
// units, and the facts of Statements statements spread over them. The
// benchmarks of other backends than SQLite, too slow to fill at
// FullScale, use smaller ones.
type Scale struct {
	People, Statements int
}

// FullScale is the scale of issue #5.
var FullScale = Scale{ScalePeople, ScaleStatements}

// ScaleUnit is the id of unit i of the organisation at scale (i modulo
// ScaleUnits); its manager is ScalePerson(i % ScaleUnits).
func ScaleUnit(i int) string { return fmt.Sprintf("etat-%02d", i%ScaleUnits) }

// ScalePerson is the employee id of person i.
func ScalePerson(i int) string { return fmt.Sprintf("e%06d", i) }

// scaleRoles are the roles of the people, by i modulo 10.
var scaleRoles = []string{"leder", "mobil", "mobil", "mobil", "adm", "adm", "adm", "adm", "sensitiv", "sensitiv"}

// scaleModules are the modules each role's rule requires (see KiNSCatalog).
var scaleModules = map[string][]int{
	"mobil": {1, 2, 3, 4, 8}, "adm": {1, 2, 3, 4, 5, 8}, "sensitiv": {1, 2, 3, 4, 5, 6, 8}, "leder": {1, 2, 3, 4, 5, 6, 7, 8},
}

// ScaleRosterTime is when FillScale imports the roster.
var ScaleRosterTime = time.Date(2025, 1, 2, 6, 0, 0, 0, time.UTC)

// roster returns the complete roster import of the organisation: person
// i is in ScaleUnit(i) (every 20th also in ScaleUnit(i+7)), with a role by
// i, an e-mail address and a KS Læring account; start dates come from r.
func (s Scale) roster(r *rand.Rand) *reporting.Import {
	imp := &reporting.Import{Effective: reporting.MustDate("2025-01-01")}
	imp.Units = append(imp.Units, reporting.UnitIn{ID: "oslo", Name: "Oslo kommune", Managers: []string{ScalePerson(0)}})
	for u := range ScaleUnits {
		imp.Units = append(imp.Units, reporting.UnitIn{ID: ScaleUnit(u), Name: fmt.Sprintf("Etat %d", u), Parent: "oslo",
			Managers: []string{ScalePerson(u)}})
	}
	for i := range s.People {
		p := reporting.PersonIn{ID: ScalePerson(i), Name: fmt.Sprintf("Ansatt %d Ødegård", i),
			Email:       fmt.Sprintf("ansatt%d@oslo.kommune.no", i),
			Identifiers: []map[string]any{{"account": map[string]any{"homePage": "https://kslaring.no", "name": fmt.Sprintf("ansatt%d", i)}}},
			Start:       reporting.MustDate("2010-01-01").AddDays(r.IntN(15 * 365)),
			Units:       []reporting.Assignment{{ID: ScaleUnit(i)}}, Roles: []reporting.Assignment{{ID: scaleRoles[i%len(scaleRoles)]}}}
		if i%20 == 0 {
			p.Units = append(p.Units, reporting.Assignment{ID: ScaleUnit(i + 7)})
		}
		imp.People = append(imp.People, p)
	}
	return imp
}

// ScaleRoster returns the roster FillScale imports.
func ScaleRoster() *reporting.Import { return FullScale.roster(rand.New(rand.NewPCG(5, 5))) }

// FillScale writes the organisation at FullScale into tenant of st. It
// takes some seconds on SQLite.
func FillScale(ctx context.Context, st reporting.Store, tenant string) error {
	return FullScale.Fill(ctx, st, tenant)
}

// Progress of a person with a module, by how far they have come.
const (
	notStarted = iota
	launched   // launched, never completed
	completing // completes, and again each year while statements last
)

// progress returns how far person i has come with module m: most people
// complete their modules (and again a year later, and so on), 7 % have
// only launched one, 8 % have not started it; 15 % of the people are thus
// behind on some module or other, about a third of everyone.
func progress(i, m int) int {
	switch h := uint32(i*8+m) * 2654435761 >> 8 % 100; {
	case h < 8:
		return notStarted
	case h < 15:
		return launched
	}
	return completing
}

// Fill writes the organisation into tenant of st: the KiNS catalog, the
// roster (imported at ScaleRosterTime) and the facts.
func (s Scale) Fill(ctx context.Context, st reporting.Store, tenant string) error {
	mods, rules, camp := KiNSCatalog()
	for _, m := range mods {
		if err := st.PutModule(ctx, tenant, m); err != nil {
			return err
		}
	}
	for _, r := range rules {
		if err := st.PutRule(ctx, tenant, r); err != nil {
			return err
		}
	}
	if err := st.PutCampaign(ctx, tenant, camp); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(5, 5))
	if _, err := st.ImportRoster(ctx, tenant, s.roster(r), ScaleRosterTime); err != nil {
		return err
	}

	// Each person gets Statements/People facts (those who fall behind
	// leave theirs to the next person): for each required module a
	// launch, a completion, a pass with a score and a termination, as
	// statements of one session (registration), a year apart per round,
	// as long as the person completes the module (progress); a launch
	// only for a module launched; nothing for one not started. Module 6
	// comes from the cmi5 LMS (the course's publisher id), which knows
	// people by e-mail address; the others from KS Læring, which knows
	// them by account.
	base := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	var batch []reporting.Fact
	total, owed := 0, 0
	for i := range s.People {
		n := owed + s.Statements/s.People
		if i < s.Statements%s.People {
			n++
		}
		mbox, account := fmt.Sprintf("mbox:mailto:ansatt%d@oslo.kommune.no", i), fmt.Sprintf("account:https://kslaring.no ansatt%d", i)
		mods := scaleModules[scaleRoles[i%len(scaleRoles)]]
		made := 0
		for k := 0; made < n && k < 4*len(mods)*(n+1); k++ {
			step := k % 4
			m := mods[(k/4)%len(mods)]
			round := k / (4 * len(mods))
			switch progress(i, m) {
			case notStarted:
				continue
			case launched:
				if step > 0 || round > 0 {
					continue
				}
			}
			ts := base.Add(-time.Duration(round)*365*24*time.Hour - time.Duration(r.IntN(200*24))*time.Hour + time.Duration(step)*10*time.Minute)
			act, agent := KSLModule(m), account
			if m == 6 {
				act, agent = utvidet, mbox
			}
			f := reporting.Fact{Statement: uuid.New(), Agent: agent, Name: fmt.Sprintf("Ansatt %d Ødegård", i),
				Activities: []string{act}, Timestamp: ts, Stored: ts.Add(2 * time.Second),
				Registration: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d/%d/%d", i, m, round))}
			switch step {
			case 1:
				f.Outcome = reporting.OutcomeCompleted
			case 2:
				f.Outcome = reporting.OutcomePassed
				f.HasScore, f.Score = true, 0.75+0.25*r.Float64() // a fifth below module 5's minimum
			}
			batch = append(batch, f)
			made++
		}
		total += made
		owed = n - made
		if len(batch) >= 20_000 || i == s.People-1 {
			if err := st.AddFacts(ctx, tenant, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if total != s.Statements {
		return fmt.Errorf("generated %d facts, want %d", total, s.Statements)
	}
	return nil
}
