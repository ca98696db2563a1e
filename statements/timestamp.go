package statements

import (
	"errors"
	"time"
)

// ParseTimestamp parses an xAPI Timestamp: an ISO 8601 combined date and
// time, in the extended form (2008-09-15T15:53:00.601+02:00, the RFC 3339
// profile clients should use) or the basic form (20080915T155300.601+0200):
//
//	date      YYYY-MM-DD (extended) or YYYYMMDD (basic)
//	"T"       (or "t")
//	time      hh:mm:ss or hhmmss, with an optional fraction of any length
//	          after "." or ","
//	zone      "Z" (or "z"), ±hh:mm, ±hhmm or ±hh; optional
//
// The date and time must use the same form; the extended form also accepts
// a ±hhmm offset (common in the wild), the basic form only ±hhmm or ±hh. The offsets "-00:00",
// "-0000" and "-00" are rejected: RFC 3339 gives them the meaning "local
// offset unknown", which the conformance suite requires an LRS to refuse.
// A timestamp without a zone is taken as UTC. The result is in UTC.
func ParseTimestamp(s string) (time.Time, error) {
	t, ok := parseTimestamp(s)
	if !ok {
		return time.Time{}, errBadTimestamp
	}
	return t, nil
}

var errBadTimestamp = errors.New("not an ISO 8601 timestamp")

func parseTimestamp(s string) (time.Time, bool) {
	var year, month, day, hour, min, sec int
	var ok bool
	i := 0
	if year, i, ok = fixedDigits(s, i, 4); !ok || i >= len(s) {
		return time.Time{}, false
	}
	extended := s[i] == '-'
	if extended {
		i++
	}
	if month, i, ok = fixedDigits(s, i, 2); !ok {
		return time.Time{}, false
	}
	if extended {
		if i >= len(s) || s[i] != '-' {
			return time.Time{}, false
		}
		i++
	}
	if day, i, ok = fixedDigits(s, i, 2); !ok {
		return time.Time{}, false
	}
	if i >= len(s) || (s[i] != 'T' && s[i] != 't') {
		return time.Time{}, false
	}
	i++
	if hour, i, ok = fixedDigits(s, i, 2); !ok {
		return time.Time{}, false
	}
	if extended {
		if i >= len(s) || s[i] != ':' {
			return time.Time{}, false
		}
		i++
	}
	if min, i, ok = fixedDigits(s, i, 2); !ok {
		return time.Time{}, false
	}
	if extended {
		if i >= len(s) || s[i] != ':' {
			return time.Time{}, false
		}
		i++
	}
	if sec, i, ok = fixedDigits(s, i, 2); !ok {
		return time.Time{}, false
	}
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		start := i
		scale := 100000000
		for i < len(s) && isDigit(s[i]) {
			nsec += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			neg := s[i] == '-'
			i++
			var oh, om int
			if oh, i, ok = fixedDigits(s, i, 2); !ok {
				return time.Time{}, false
			}
			if i < len(s) {
				// The extended form also accepts ±hhmm, which PHP's
				// DATE_ISO8601 and others produce.
				if extended && s[i] == ':' {
					i++
				}
				if om, i, ok = fixedDigits(s, i, 2); !ok {
					return time.Time{}, false
				}
			}
			if oh > 23 || om > 59 || (neg && oh == 0 && om == 0) {
				return time.Time{}, false
			}
			offset = oh*3600 + om*60
			if neg {
				offset = -offset
			}
		default:
			return time.Time{}, false
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59 ||
		day > daysInMonth(time.Month(month), year) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// digits reads exactly n decimal digits at s[i:].
func fixedDigits(s string, i, n int) (int, int, bool) {
	if i+n > len(s) {
		return 0, i, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, i, false
		}
		v = v*10 + int(c-'0')
	}
	return v, i + n, true
}

func daysInMonth(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
