package reporting

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Date is a calendar day without a time zone: the effective dates HR gives
// (start, end, role assignment), due dates and expiry dates. It counts days
// from 0001-01-01 (which is 1); the zero Date means "no date", which an
// interval reads as unbounded. Dates compare with < and ==.
type Date int32

// epochOffset is the Date of 1970-01-01.
const epochOffset = 719163

// NewDate returns the Date of year, month and day (normalised like
// time.Date).
func NewDate(year int, month time.Month, day int) Date {
	return Date(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix()/86400 + epochOffset)
}

// DateOf returns the calendar day of t in loc (UTC when loc is nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// ParseDate parses a date as HR systems export it: ISO 8601 "2025-03-01",
// or the Norwegian "01.03.2025". An empty string is the zero Date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	layouts := []string{"2006-01-02", "02.01.2006", "2.1.2006"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1 {
				break
			}
			return NewDate(t.Date()), nil
		}
	}
	return 0, errs.Invalidf("", "date", "%q is not a date: use YYYY-MM-DD (or DD.MM.YYYY)", s)
}

// MustDate is ParseDate for constants; it panics on a bad date.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is "no date".
func (d Date) IsZero() bool { return d == 0 }

// civil returns the year, month and day of d.
func (d Date) civil() (int, time.Month, int) {
	return time.Unix(int64(d-epochOffset)*86400, 0).UTC().Date()
}

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	var buf [10]byte
	return string(d.appendTo(buf[:0]))
}

// appendTo appends d as "YYYY-MM-DD" (nothing for the zero Date): what
// String returns, without allocating, for reports that write hundreds of
// thousands of dates.
func (d Date) appendTo(b []byte) []byte {
	if d == 0 {
		return b
	}
	y, m, day := d.civil()
	if y < 0 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, int(m), day)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+day/10), byte('0'+day%10))
}

// Start returns the first instant of d in loc (UTC when loc is nil).
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, day := d.civil()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// AddDays returns d moved by n days (the zero Date stays zero).
func (d Date) AddDays(n int) Date {
	if d == 0 {
		return 0
	}
	return d + Date(n)
}

// Add returns d moved by p; years and months keep the day of the month,
// clamped to the month's last day (2024-01-31 + P1M = 2024-02-29). The zero
// Date stays zero.
func (d Date) Add(p Period) Date {
	if d == 0 {
		return 0
	}
	y, m, day := d.civil()
	if p.Years != 0 || p.Months != 0 {
		months := 12*(y+p.Years) + int(m) - 1 + p.Months // > 0 for the years of HR data
		y, m = months/12, time.Month(months%12+1)
		if last := daysIn(y, m); day > last {
			day = last
		}
	}
	return NewDate(y, m, day) + Date(p.Days+7*p.Weeks)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// AppendText appends d as "YYYY-MM-DD" to b (nothing for the zero Date):
// MarshalText without allocating (encoding.TextAppender).
func (d Date) AppendText(b []byte) ([]byte, error) { return d.appendTo(b), nil }

// MarshalText encodes d as "YYYY-MM-DD" ("" for the zero Date).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts what ParseDate accepts.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Interval is a half-open span of days [From, To): From is the first day
// in it, To the first day after it. A zero From is unbounded in the past, a
// zero To unbounded in the future.
type Interval struct {
	From Date `json:"from,omitzero"`
	To   Date `json:"to,omitzero"`
}

// Contains reports whether day d is in the interval.
func (iv Interval) Contains(d Date) bool {
	return (iv.From == 0 || iv.From <= d) && (iv.To == 0 || d < iv.To)
}

// Empty reports whether the interval holds no day.
func (iv Interval) Empty() bool { return iv.From != 0 && iv.To != 0 && iv.To <= iv.From }

// Open reports whether the interval is unbounded in the future.
func (iv Interval) Open() bool { return iv.To == 0 }

func (iv Interval) String() string {
	from, to := iv.From.String(), iv.To.String()
	if from == "" {
		from = "…"
	}
	if to == "" {
		to = "…"
	}
	return "[" + from + ", " + to + ")"
}

// Period is an ISO 8601 duration in calendar units, as the catalog and the
// rules use them: P1Y (validity), P30D (due within), P6M, P2W. The zero
// Period means "none".
type Period struct {
	Years, Months, Weeks, Days int
}

// maxPeriodPart is the largest number of a Period's component.
const maxPeriodPart = 999999

// ParsePeriod parses an ISO 8601 duration in whole years, months, weeks or
// days ("P1Y", "P6M", "P30D", "P1Y6M", "P2W"), with the grammar of
// statements.ParseDuration, which xAPI durations follow too; what it adds:
// no time part, no fractions, no number above 999999. Weeks stand alone as
// ISO 8601:2004 has it: "P1Y2W" is refused (write P1Y14D). An empty string
// is the zero Period.
func ParsePeriod(s string) (Period, error) {
	if s == "" {
		return Period{}, nil
	}
	d, ok := statements.ParseDuration(s)
	if !ok || d.Time || d.Fraction || max(d.Years, d.Months, d.Weeks, d.Days) > maxPeriodPart {
		return Period{}, errs.Invalidf("", "period", "%q is not a period: use an ISO 8601 duration in whole days, weeks, "+
			"months or years such as P30D, P2W, P6M, P1Y or P1Y6M (weeks alone: P1Y14D, not P1Y2W)", s)
	}
	return Period{Years: int(d.Years), Months: int(d.Months), Weeks: int(d.Weeks), Days: int(d.Days)}, nil
}

// MustPeriod is ParsePeriod for constants; it panics on a bad period.
func MustPeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsZero reports whether p is "none".
func (p Period) IsZero() bool { return p == Period{} }

// String returns the ISO 8601 form ("" for the zero Period), which
// ParsePeriod reads back: weeks with other components are written as days
// (Period{Years: 1, Weeks: 2} is "P1Y14D"), as the week form stands alone.
func (p Period) String() string {
	if p.IsZero() {
		return ""
	}
	if p.Weeks != 0 && (p.Years != 0 || p.Months != 0 || p.Days != 0) {
		p.Days, p.Weeks = p.Days+7*p.Weeks, 0
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, part := range []struct {
		n    int
		unit byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Weeks, 'W'}, {p.Days, 'D'}} {
		if part.n != 0 {
			b.WriteString(strconv.Itoa(part.n))
			b.WriteByte(part.unit)
		}
	}
	return b.String()
}

// MarshalText encodes p in ISO 8601 form.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts what ParsePeriod accepts.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
