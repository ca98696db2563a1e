package statements

// ValidDuration reports whether s is an ISO 8601:2004 duration in the format
// of section 4.4.3.2, the only one xAPI allows:
//
//	PnYnMnDTnHnMnS  (each component optional, at least one present, in this
//	                 order; "T" only when an hour, minute or second follows)
//	PnW             (weeks, alone)
//
// n is one or more digits; the last component present may carry a decimal
// fraction ("PT4H35M59.14S", "P0.5D"), written with "." or ",". The
// alternative format (P0003-01-01T...) and signs are rejected, as are "P",
// "PT" and "P1DT".
func ValidDuration(s string) bool {
	if len(s) < 3 || s[0] != 'P' {
		return false
	}
	i := 1
	// Weeks: PnW alone.
	if s[len(s)-1] == 'W' {
		j, ok := durationNumber(s, i)
		return ok && j == len(s)-1
	}
	const dateDesignators, timeDesignators = "YMD", "HMS"
	designators := dateDesignators
	next := 0 // index in designators of the next allowed one
	n := 0    // components seen
	inTime := false
	timeComponents := 0
	fraction := false // the previous component had a fraction: nothing may follow
	for i < len(s) {
		if s[i] == 'T' {
			if inTime || fraction {
				return false
			}
			inTime = true
			designators = timeDesignators
			next = 0
			i++
			if i == len(s) {
				return false
			}
			continue
		}
		if fraction {
			return false
		}
		j, ok := durationNumber(s, i)
		if !ok || j >= len(s) {
			return false
		}
		fraction = j > i && hasFraction(s[i:j])
		d := s[j]
		k := next
		for k < len(designators) && designators[k] != d {
			k++
		}
		if k == len(designators) {
			return false
		}
		next = k + 1
		n++
		if inTime {
			timeComponents++
		}
		i = j + 1
	}
	if inTime && timeComponents == 0 {
		return false
	}
	return n > 0
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

func hasFraction(num string) bool {
	for i := 0; i < len(num); i++ {
		if num[i] == '.' || num[i] == ',' {
			return true
		}
	}
	return false
}
