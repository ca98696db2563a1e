package lrs_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/reporting"
)

// TestRemindersStreamedAndSummary: the reminders of 2,500 people come
// streamed (no Content-Length, larger than the stream's buffer), grouped by
// manager; form=summary counts the same per manager and module in a small
// answer, in JSON and in CSV.
func TestRemindersStreamedAndSummary(t *testing.T) {
	ts := newReportingServer(t)
	hr := ts.hr
	for _, m := range []string{"m1", "m2"} {
		expect(t, hr("PUT", "/api/v1/modules/"+m, "", `{"title":{"nb":"Modul"},"activities":["https://example.com/`+m+`"],"completion":"completed"}`),
			http.StatusCreated)
	}
	expect(t, hr("PUT", "/api/v1/rules/r1", "", `{"role":"alle","modules":["m1","m2"],"dueWithin":"P30D"}`), http.StatusCreated)
	units := "id,name,parent,managers\nk,Kommunen,,p00002\na,A,k,p00000\nb,B,k,p00001\n"
	expect(t, hr("POST", "/api/v1/roster/imports?kind=units&effective=2025-01-01", "text/csv",
		strings.NewReplacer("p00000", "", "p00001", "", "p00002", "").Replace(units)), http.StatusCreated)
	const n = 2500
	var people strings.Builder
	people.WriteString("id,name,email,units,roles,start\n")
	for i := range n {
		fmt.Fprintf(&people, "p%05d,Person %d,p%05d@kommune.no,%s,alle,2025-01-01\n", i, i, i, []string{"a", "b"}[i%2])
	}
	expect(t, hr("POST", "/api/v1/roster/imports?effective=2025-01-01", "text/csv", people.String()), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?kind=units&effective=2025-01-01", "text/csv", units), http.StatusCreated)
	// Every third person completes m1; everyone else is overdue on it.
	ts.completeEveryThird(n, "https://example.com/m1")

	r := ts.do(req{method: "GET", path: "/api/v1/reports/reminders?asOf=2025-02-15", key: "auditor"})
	expect(t, r, http.StatusOK)
	if r.header.Get("Content-Length") != "" || len(r.body) < 100_000 {
		t.Errorf("reminders of %d bytes with Content-Length %q, want streamed", len(r.body), r.header.Get("Content-Length"))
	}
	var list struct {
		Day      reporting.Date
		Within   string
		Managers []reporting.ReminderGroup
	}
	r.json(t, &list)
	// a's people are reminded by p00000, b's by p00001, and those two by
	// p00002 (who has no one above).
	want := map[string]string{}
	var order []string
	for _, g := range list.Managers {
		order = append(order, g.Manager)
		persons := map[string]bool{}
		counts := map[string]int{}
		for _, row := range g.Rows {
			persons[row.Person] = true
			counts[row.Module]++
			if row.Status != reporting.StatusOverdue {
				t.Fatalf("row %s, want only overdue ones", rowLine(row))
			}
		}
		want[g.Manager] = fmt.Sprintf("%s people %d overdue %d m1 %d m2 %d", g.Name, len(persons), len(g.Rows), counts["m1"], counts["m2"])
	}
	if list.Day != reporting.MustDate("2025-02-15") || list.Within != "P14D" || strings.Join(order, " ") != "p00000 p00001 p00002" {
		t.Fatalf("reminders for %s within %s by managers %q", list.Day, list.Within, order)
	}
	if want["p00000"] != "Person 0 people 1249 overdue 2082 m1 833 m2 1249" {
		t.Errorf("p00000 reminds %s", want["p00000"])
	}

	r = ts.do(req{method: "GET", path: "/api/v1/reports/reminders?asOf=2025-02-15&form=summary", key: "auditor"})
	expect(t, r, http.StatusOK)
	var sum struct {
		Day      reporting.Date
		Managers []reporting.ReminderSummary
	}
	r.json(t, &sum)
	if len(r.body) > 2000 || sum.Day != list.Day || len(sum.Managers) != len(list.Managers) {
		t.Fatalf("summary of %d bytes: %s", len(r.body), r.body)
	}
	got := map[string]string{}
	for _, m := range sum.Managers {
		got[m.Manager] = fmt.Sprintf("%s people %d overdue %d m1 %d m2 %d", m.Name, m.People, m.Total.Overdue, m.Modules["m1"].Overdue, m.Modules["m2"].Overdue)
	}
	for m, w := range want {
		if got[m] != w {
			t.Errorf("summary of manager %q: %s, the list has %s", m, got[m], w)
		}
	}

	r = ts.do(req{method: "GET", path: "/api/v1/reports/reminders?asOf=2025-02-15&form=summary&format=csv&delimiter=semicolon", key: "auditor"})
	expect(t, r, http.StatusOK)
	recs := readReportCSV(t, r, ';')
	if len(recs) != 4 || strings.Join(recs[0], ",") != "manager,manager_name,manager_email,people,overdue,due_soon,m1 overdue,m1 due_soon,m2 overdue,m2 due_soon" {
		t.Fatalf("summary CSV: %q", recs)
	}
	for _, rec := range recs[1:] {
		m := sum.Managers[slicesIndex(sum.Managers, rec[0])]
		if rec[3] != strconv.Itoa(m.People) || rec[4] != strconv.Itoa(m.Total.Overdue) || rec[8] != strconv.Itoa(m.Modules["m2"].Overdue) {
			t.Errorf("summary CSV line %q, JSON %+v", rec, m)
		}
	}
	expect(t, ts.do(req{method: "GET", path: "/api/v1/reports/reminders?form=short", key: "auditor"}), http.StatusBadRequest)
}

func slicesIndex(sums []reporting.ReminderSummary, manager string) int {
	for i, s := range sums {
		if s.Manager == manager {
			return i
		}
	}
	return -1
}
