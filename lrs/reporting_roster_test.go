package lrs_test

import (
	"net/http"
	"testing"
)

// TestRosterEndDateInclusive: the end date HR gives is the last day
// employed, in a CSV (sluttdato) and in JSON: the person still owes their
// modules on that day, and no longer the day after.
func TestRosterEndDateInclusive(t *testing.T) {
	ts := newReportingServer(t)
	hr := ts.hr
	ts.clock.Set(at("2025-06-01T08:00:00Z"))
	expect(t, hr("PUT", "/api/v1/modules/m1", "", `{"title":{"nb":"Modul 1"},"activities":["https://example.com/m1"],"completion":"completed"}`),
		http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/rules/r1", "", `{"role":"alle","modules":["m1"],"dueWithin":"P30D"}`), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?effective=2025-06-01", "text/csv",
		"Ansattnummer;Navn;Rolle;Startdato;Sluttdato\r\ne1;Sommervikar;alle;01.06.2025;30.06.2025\r\n"), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports", "application/json",
		`{"partial":true,"effective":"2025-06-01","people":[{"id":"e2","name":"Fra JSON","roles":["alle"],"start":"2025-06-01","end":"2025-06-30"}]}`),
		http.StatusCreated)
	people := func(day string) []string {
		t.Helper()
		var out []string
		for _, r := range ts.status("asOf=" + day).Rows {
			out = append(out, r.Person+" "+r.Module+" "+string(r.Status))
		}
		return out
	}
	sameLines(t, "on the last day", people("2025-06-30"), []string{"e1 m1 due", "e2 m1 due"})
	sameLines(t, "the day after", people("2025-07-01"), nil)

	// The import record shows the interval as stored: to the day after.
	var rec struct {
		Changes []struct {
			Kind, Key string
			After     []struct{ From, To string }
		}
	}
	hr("GET", "/api/v1/roster/imports/1", "", "").json(t, &rec)
	found := false
	for _, c := range rec.Changes {
		if c.Kind == "person" && c.Key == "e1" {
			found = len(c.After) == 1 && c.After[0].From == "2025-06-01" && c.After[0].To == "2025-07-01"
		}
	}
	if !found {
		t.Errorf("import 1 does not record e1 employed [2025-06-01, 2025-07-01): %+v", rec.Changes)
	}
}
