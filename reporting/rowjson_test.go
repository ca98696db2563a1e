package reporting

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// encodingJSON returns what encoding/json writes for v with HTML escaping
// off, without the newline.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestRowAppendJSON holds Row.AppendJSON to the bytes encoding/json writes
// for the same row: every field set and unset, text needing every kind of
// escape, scores in both number forms, times with and without fractions
// and offsets.
func TestRowAppendJSON(t *testing.T) {
	// AppendJSON writes each field by hand: a field added to Row or
	// Evidence must be added there too (and to the rows below).
	for typ, n := range map[reflect.Type]int{reflect.TypeFor[Row](): 15, reflect.TypeFor[Evidence](): 8} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, AppendJSON knows %d: update AppendJSON and this test", typ, typ.NumField(), n)
		}
	}
	f := func(v float64) *float64 { return &v }
	oslo := time.FixedZone("CEST", 2*3600)
	full := Row{Person: "e1", Name: "Kari Ødegård", Email: "kari@kommune.no", Units: []string{"helse", "sykehjem"},
		Roles: []string{"adm", "leder"}, Module: "kins-5", Campaign: "okt-2025", Rules: []string{"adm", "leder"},
		Status: StatusExpiringSoon, Due: MustDate("2025-10-31"), Completed: time.Date(2025, 2, 1, 23, 30, 0, 123456789, time.UTC),
		Expires: MustDate("2026-02-02"), Score: f(0.85), Exemption: "permisjon",
		Evidence: []Evidence{
			{Statement: "6f0b3b4e-4c1e-4a8e-9a43-2f2b3f1d0c11", Activity: "https://kslaring.no/mod/scorm/view.php?id=1005",
				Outcome: "completed", Timestamp: time.Date(2025, 2, 1, 23, 29, 0, 0, time.UTC), Stored: time.Date(2025, 2, 1, 23, 29, 2, 500000000, time.UTC)},
			{Statement: "s2", Activity: "a", Outcome: "passed", Score: f(1), Timestamp: time.Date(2025, 2, 2, 1, 30, 0, 0, oslo),
				Stored: time.Date(2025, 2, 2, 0, 0, 0, 1, time.UTC), Authority: "lms-key", SHA256: "ab12"},
		}}
	rows := []Row{
		{},
		{Units: none, Roles: none},
		full,
		{Person: "e2", Name: "\"quoted\" \\ back/slash <html> & 'apostrophe'", Units: []string{""}, Roles: []string{},
			Module: "m", Status: StatusOverdue, Exemption: "tab\there\nline\rreturn\bbell\ffeed\x00nul\x01\x1f\x7f end"},
		{Person: "e3", Name: "bad \xff\xfe utf-8 \xe2\x82 cut", Email: "line\u2028sep\u2029para 😀 ✓", Units: none, Roles: none,
			Module: "m", Status: StatusCompleted, Score: f(1e-7), Completed: time.Date(9999, 12, 31, 23, 59, 59, 999999999, oslo)},
		{Person: "e4", Units: none, Roles: none, Module: "m", Status: StatusCompleted, Score: f(-0.5)},
		{Person: "e5", Units: none, Roles: none, Module: "m", Status: StatusCompleted, Score: f(1e21)},
		{Person: "e6", Units: none, Roles: none, Module: "m", Status: StatusCompleted, Score: f(123456789.125)},
		{Person: "e7", Units: none, Roles: none, Module: "m", Status: StatusCompleted, Score: f(0), Rules: []string{}},
		{Person: "e8", Units: none, Roles: none, Module: "m", Status: StatusCompleted, Score: f(-1.5e-300), Evidence: []Evidence{}},
		{Person: "e9", Units: none, Roles: none, Module: "m", Status: StatusDue, Due: MustDate("0001-01-01"), Expires: MustDate("9999-12-31")},
	}
	for i := range rows {
		want := encodingJSON(t, &rows[i])
		if got := rows[i].AppendJSON([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("row %d:\nAppendJSON    %s\nencoding/json %s", i, got[len("prefix"):], want)
		}
	}
	if got := appendJSONFloat(nil, math.NaN()); string(got) != "null" {
		t.Errorf("NaN: %s", got)
	}
	if n := testing.AllocsPerRun(100, func() { full.AppendJSON(make([]byte, 0, 2048)) }); n > 1 {
		t.Errorf("AppendJSON of a row allocates %v times, want at most the buffer's", n)
	}
}

// FuzzAppendJSONString holds statements.AppendJSONString (which rows use) to encoding/json for any
// text.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "Ødegård", "a\"b\\c", "\x00\x1f\x7f", "\u2028\u2029", "\xff", "\xe2\x82", "<&>", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := statements.AppendJSONString(nil, s), encodingJSON(t, s); !bytes.Equal(got, want) {
			t.Errorf("%q:\nAppendJSONString %s\nencoding/json    %s", s, got, want)
		}
	})
}

// FuzzAppendJSONFloat holds appendJSONFloat to encoding/json for any
// finite number.
func FuzzAppendJSONFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.85, 1e-6, 9.99e-7, 1e20, 1e21, 5e-324, math.MaxFloat64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := appendJSONFloat(nil, v), encodingJSON(t, v); !bytes.Equal(got, want) {
			t.Errorf("%v: appendJSONFloat %s, encoding/json %s", v, got, want)
		}
	})
}

// FuzzAppendJSONTime holds appendJSONTime to time.Time.MarshalJSON for
// any instant, in UTC and in other zones.
func FuzzAppendJSONTime(f *testing.F) {
	f.Add(int64(0), int64(0), false)
	f.Add(time.Date(2025, 2, 1, 23, 30, 0, 123456789, time.UTC).Unix(), int64(120000000), true)
	f.Add(int64(-62135596800), int64(1), false)         // year 1
	f.Add(int64(253402300799), int64(999999999), false) // 9999-12-31T23:59:59
	f.Fuzz(func(t *testing.T, sec, nsec int64, zoned bool) {
		tm := time.Unix(sec, nsec%1e9).UTC()
		if zoned {
			tm = tm.In(time.FixedZone("CEST", 2*3600))
		}
		want, err := tm.MarshalJSON()
		if err != nil {
			return // a year encoding/json refuses
		}
		if got := appendJSONTime(nil, tm); !bytes.Equal(got, want) {
			t.Errorf("%v: appendJSONTime %s, MarshalJSON %s", tm, got, want)
		}
	})
}
