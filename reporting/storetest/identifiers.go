package storetest

import (
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/reporting"
)

// testRosterCSVIdentifiers imports people from CSV with several e-mail
// addresses each (on repeated lines, and in one cell), and checks that
// statements under any of them count for the person and are not
// unmatched.
func testRosterCSVIdentifiers(t *testing.T, st reporting.Store) {
	s := &scenario{t: t, rep: st, labels: map[string]string{}}
	m := module("m1", KSLModule(1))
	must(t, st.PutModule(ctx, tenant, m))
	must(t, st.PutRule(ctx, tenant, &reporting.Rule{ID: "adm", Role: "adm", Modules: []string{"m1"}, DueWithin: reporting.MustPeriod("P90D")}))
	unitsCSV := "id,name\nk,Kommunen\n"
	// Kari changed her name: HR lists her new address first and her old
	// one on a second line; Ola has two addresses in one cell.
	peopleCSV := "id,name,email,units,roles,start\n" +
		"e1,Kari Ødegård,kari.odegard@kommune.no,k,adm,2025-01-01\n" +
		"e1,Kari Ødegård,Kari.Nordmann@kommune.no,,,\n" +
		"e2,Ola Nordmann,ola.nordmann@kommune.no|ola@kommune.no,k,adm,2025-01-01\n"
	us, err := reporting.ParseUnitsCSV(strings.NewReader(unitsCSV))
	must(t, err)
	people, err := reporting.ParsePeopleCSV(strings.NewReader(peopleCSV))
	must(t, err)
	_, err = st.ImportRoster(ctx, tenant, &reporting.Import{Effective: reporting.MustDate("2025-01-01"), Units: us, People: people},
		at("2025-01-02T07:00:00Z"))
	must(t, err)

	mbox := func(addr string) map[string]any { return map[string]any{"mbox": "mailto:" + addr} }
	s.post(at("2025-02-03T12:00:00Z"),
		"kari-old-address", moodle(mbox("kari.nordmann@kommune.no"), "completed", 1, "2025-02-03T09:00:00Z", nil),
		"ola-second-address", moodle(mbox("ola@kommune.no"), "completed", 1, "2025-02-03T10:00:00Z", nil),
		"stranger", moodle(mbox("ukjent@kommune.no"), "completed", 1, "2025-02-03T11:00:00Z", nil))

	march := reporting.Options{AsOf: at("2025-03-01T12:00:00Z")}
	s.report(t, reporting.Query{Options: march}, []string{
		"e1 m1 completed due=2025-04-01 done=2025-02-03T09:00:00Z kari-old-address",
		"e2 m1 completed due=2025-04-01 done=2025-02-03T10:00:00Z ola-second-address",
	})
	s.checkUnmatched(march, []string{
		"mbox:mailto:ukjent@kommune.no  facts=1 2025-02-03T11:00:00Z..2025-02-03T11:00:00Z [m1]",
	})
}
