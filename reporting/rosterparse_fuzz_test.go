package reporting

import (
	"bytes"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// FuzzRosterParsers feeds arbitrary bytes to the parsers of what HR
// uploads — people and units CSV, the JSON import, catalog entries — and
// to the import planner (of the JSON import and of the people CSV): none
// may panic, and every refusal must be a client error (a 4xx), never an
// internal one.
func FuzzRosterParsers(f *testing.F) {
	for _, seed := range []string{
		"id,name,email,units,roles,start\ne1,Kari Ødegård,kari@kommune.no,helse|it,leder,2025-01-01\n",
		"\ufeffansattnr;navn;epost;enhet\n1;Ola;ola@k.no;helse\n",
		"id,name,parent,managers\nkommune,Eksempel kommune,,e1\nhelse,Helse,kommune,\n",
		`{"effective":"2025-01-01","units":[{"id":"u1","name":"U"}],"people":[{"id":"p1","name":"P","units":["u1"],"roles":["leder"]}]}`,
		`{"title":{"nb-NO":"Modul"},"activities":["https://kins.example/1"],"rule":"completed","validity":"P1Y"}`,
		`{"role":"leder","modules":["m1"],"dueWithin":"P30D"}`,
		// Several addresses and accounts of one person, in a cell and on
		// repeated lines.
		"id,email,account_homepage,account_name\n1,a@b.no|c@d.no e@f.no,https://lms.example,x|y\n1,g@h.no,https://other.example,z\n",
		"id;navn;epost\n1;Kari;kari@k.no\n1;Kari;Kari@K.no|kari.n@k.no\n2;Ola;kari.n@k.no\n",
		"id,email\n1,a@b.no|\n1, | \n",
		"id\n\"unterminated\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) {
			if err != nil && errs.KindOf(err) == errs.Internal {
				t.Fatalf("%s: an internal error for client input: %v", what, err)
			}
		}
		people, err := ParsePeopleCSV(bytes.NewReader(data))
		check("ParsePeopleCSV", err)
		if err == nil {
			_, err = PlanImport(nil, &Import{Partial: true, People: people}, MustDate("2025-06-01"))
			check("PlanImport of the people CSV", err)
		}
		_, err = ParseUnitsCSV(bytes.NewReader(data))
		check("ParseUnitsCSV", err)
		imp, err := ParseImportJSON(data)
		check("ParseImportJSON", err)
		if err == nil {
			_, err = PlanImport(nil, imp, MustDate("2025-06-01"))
			check("PlanImport", err)
		}
		_, err = Decode[Module](data)
		check("Decode[Module]", err)
		_, err = Decode[Rule](data)
		check("Decode[Rule]", err)
		_, err = Decode[Campaign](data)
		check("Decode[Campaign]", err)
	})
}
