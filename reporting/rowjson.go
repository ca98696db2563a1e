package reporting

import (
	"math"
	"strconv"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// AppendJSON appends r to b as JSON: the bytes encoding/json writes for r
// with HTML escaping off (json.Encoder.SetEscapeHTML(false)), without the
// newline Encode adds, but without reflection and with no allocation: a
// report of a whole organisation streams hundreds of thousands of rows,
// and encoding/json cost more than computing them. TestRowAppendJSON holds
// the two to the same bytes, for every field of Row and Evidence.
//
// Row has no MarshalJSON method on purpose: types embedding it (such as
// the evidence pack's rows) would take it over and lose their own fields.
func (r *Row) AppendJSON(b []byte) []byte {
	b = append(b, `{"person":`...)
	b = statements.AppendJSONString(b, r.Person)
	b = append(b, `,"name":`...)
	b = statements.AppendJSONString(b, r.Name)
	if r.Email != "" {
		b = append(b, `,"email":`...)
		b = statements.AppendJSONString(b, r.Email)
	}
	b = append(b, `,"units":`...)
	b = appendJSONStrings(b, r.Units)
	b = append(b, `,"roles":`...)
	b = appendJSONStrings(b, r.Roles)
	b = append(b, `,"module":`...)
	b = statements.AppendJSONString(b, r.Module)
	if r.Campaign != "" {
		b = append(b, `,"campaign":`...)
		b = statements.AppendJSONString(b, r.Campaign)
	}
	if len(r.Rules) > 0 {
		b = append(b, `,"rules":`...)
		b = appendJSONStrings(b, r.Rules)
	}
	b = append(b, `,"status":`...)
	b = statements.AppendJSONString(b, string(r.Status))
	if !r.Due.IsZero() {
		b = append(b, `,"due":"`...)
		b = append(r.Due.appendTo(b), '"')
	}
	if !r.Completed.IsZero() {
		b = append(b, `,"completed":`...)
		b = appendJSONTime(b, r.Completed)
	}
	if !r.Expires.IsZero() {
		b = append(b, `,"expires":"`...)
		b = append(r.Expires.appendTo(b), '"')
	}
	if r.Score != nil {
		b = append(b, `,"score":`...)
		b = appendJSONFloat(b, *r.Score)
	}
	if len(r.Evidence) > 0 {
		b = append(b, `,"evidence":[`...)
		for i := range r.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Evidence[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if r.Exemption != "" {
		b = append(b, `,"exemption":`...)
		b = statements.AppendJSONString(b, r.Exemption)
	}
	return append(b, '}')
}

// appendJSON appends e as encoding/json writes it (see Row.AppendJSON).
// Evidence has no MarshalJSON either: TranscriptEntry embeds it.
func (e *Evidence) appendJSON(b []byte) []byte {
	b = append(b, `{"statement":`...)
	b = statements.AppendJSONString(b, e.Statement)
	b = append(b, `,"activity":`...)
	b = statements.AppendJSONString(b, e.Activity)
	b = append(b, `,"outcome":`...)
	b = statements.AppendJSONString(b, e.Outcome)
	if e.Score != nil {
		b = append(b, `,"score":`...)
		b = appendJSONFloat(b, *e.Score)
	}
	b = append(b, `,"timestamp":`...)
	b = appendJSONTime(b, e.Timestamp)
	b = append(b, `,"stored":`...)
	b = appendJSONTime(b, e.Stored)
	if e.Authority != "" {
		b = append(b, `,"authority":`...)
		b = statements.AppendJSONString(b, e.Authority)
	}
	if e.SHA256 != "" {
		b = append(b, `,"sha256":`...)
		b = statements.AppendJSONString(b, e.SHA256)
	}
	return append(b, '}')
}

// appendJSONStrings appends a list of strings; nil is null, as
// encoding/json has it.
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = statements.AppendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONTime appends t as time.Time.MarshalJSON does (RFC 3339 with
// the nanoseconds there are), for the years it accepts.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	if y := t.Year(); t.Location() != time.UTC || y < 0 || y > 9999 {
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	// UTC, as reports have their instants: written by hand, a few times
	// faster than AppendFormat.
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}

// appendJSONFloat appends f as encoding/json writes a float64: the
// shortest decimal that reads back as f, in exponent form below 1e-6 and
// from 1e21. Scores are finite (JSON has no NaN); a NaN or infinity, on
// which encoding/json fails, is written as null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
