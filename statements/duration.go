package statements

import "strconv"

// Duration is an ISO 8601 duration as ParseDuration reads it: the value of
// each component (0 when absent).
type Duration struct {
	Years, Months, Weeks, Days, Hours, Minutes, Seconds float64
	// Time is set when the duration has a time part ("T").
	Time bool
	// Fraction is set when its last component has a decimal fraction.
	Fraction bool
}

// ParseDuration parses an ISO 8601:2004 duration in the format of section
// 4.4.3.2, the only one xAPI allows (Data 4.6, "ISO 8601 Durations"):
//
//	PnYnMnDTnHnMnS  (each component optional, at least one present, in this
//	                 order; "T" only when an hour, minute or second follows)
//	PnW             (weeks, alone)
//
// n is one or more digits; the last component present may carry a decimal
// fraction ("PT4H35M59.14S", "P0.5D"), written with "." or ",". The
// alternative format (P0003-01-01T...) and signs are rejected, as are "P",
// "PT" and "P1DT".
//
// Weeks combined with other components ("P1Y2W", "P4W1D") are rejected:
// ISO 8601:2004, which xAPI cites, allows the week form only alone, and
// the ADL conformance suite expects an LRS to refuse "P4W1D". (ISO
// 8601-1:2019 allows the combination; xAPI has not adopted it.) This is the
// one duration grammar of the LRS: result.duration (ValidDuration) and the
// periods of compliance reporting (reporting.ParsePeriod) both use it.
func ParseDuration(s string) (Duration, bool) {
	var d Duration
	if len(s) < 3 || s[0] != 'P' {
		return d, false
	}
	i := 1
	// Weeks: PnW alone.
	if s[len(s)-1] == 'W' {
		j, ok := durationNumber(s, i)
		if !ok || j != len(s)-1 {
			return d, false
		}
		d.Weeks, d.Fraction = durationValue(s[i:j])
		return d, true
	}
	dateUnits := [...]*float64{&d.Years, &d.Months, &d.Days}
	timeUnits := [...]*float64{&d.Hours, &d.Minutes, &d.Seconds}
	const dateDesignators, timeDesignators = "YMD", "HMS"
	designators, units := dateDesignators, dateUnits[:]
	next := 0 // index in designators of the next allowed one
	n := 0    // components seen
	timeComponents := 0
	for i < len(s) {
		if s[i] == 'T' {
			if d.Time || d.Fraction {
				return d, false
			}
			d.Time = true
			designators, units = timeDesignators, timeUnits[:]
			next = 0
			i++
			if i == len(s) {
				return d, false
			}
			continue
		}
		if d.Fraction { // only the last component may have a fraction
			return d, false
		}
		j, ok := durationNumber(s, i)
		if !ok || j >= len(s) {
			return d, false
		}
		k := next
		for k < len(designators) && designators[k] != s[j] {
			k++
		}
		if k == len(designators) {
			return d, false
		}
		*units[k], d.Fraction = durationValue(s[i:j])
		next = k + 1
		n++
		if d.Time {
			timeComponents++
		}
		i = j + 1
	}
	if d.Time && timeComponents == 0 {
		return d, false
	}
	return d, n > 0
}

// ValidDuration reports whether s is a duration as xAPI writes them (see
// ParseDuration).
func ValidDuration(s string) bool {
	_, ok := ParseDuration(s)
	return ok
}

// durationNumber scans digits with an optional "." or "," fraction starting
// at i and returns the index after it.
func durationNumber(s string, i int) (int, bool) {
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return i, false
	}
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		f := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == f {
			return i, false
		}
	}
	return i, true
}

// durationValue returns the value of a number durationNumber scanned (+Inf
// beyond float64) and whether it has a fraction.
func durationValue(num string) (float64, bool) {
	fraction := false
	for i := 0; i < len(num); i++ {
		if num[i] == ',' {
			num = num[:i] + "." + num[i+1:]
		}
		if num[i] == '.' {
			fraction = true
		}
	}
	v, _ := strconv.ParseFloat(num, 64) // digits and one "." only: at worst out of range, +Inf
	return v, fraction
}
