package lmsimport

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the default time zone, Europe/Oslo, on hosts without a zoneinfo database
	"unicode"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// column is what a column of the file holds.
type column int

const (
	colEmployee column = iota // a person key of the roster (employee number)
	colEmail                  // an e-mail address
	colUsername               // an LMS account name
	colPerson                 // any of the three
	colModule
	colStatus
	colScore
	colDate
	numColumns
)

// columnNames maps header names, as normalize leaves them, to columns.
var columnNames = map[string]column{}

func init() {
	for col, names := range map[column][]string{
		colEmployee: {"ansattnummer", "ansattnr", "ansattid", "employeeid", "employeenumber", "employeeno", "personid", "personkey"},
		colEmail:    {"epost", "epostadresse", "email", "emailaddress", "mail", "mailadresse"},
		colUsername: {"brukernavn", "username", "brukerid", "userid", "login", "loginname"},
		colPerson:   {"person", "personidentifier", "identifier", "identifikator", "learner", "deltaker"},
		colModule: {"kurs", "kursnavn", "kurstittel", "kursid", "modul", "modulnavn", "modultittel", "modulid",
			"course", "coursename", "coursetitle", "courseid", "module", "modulename", "moduletitle", "moduleid",
			"aktivitet", "activity", "activityid", "emne"},
		colStatus: {"status", "kursstatus", "modulstatus", "fullføringsstatus", "gjennomføringsstatus",
			"completionstatus", "coursestatus"},
		colScore: {"poeng", "poengsum", "score", "prosent", "percent", "percentage"},
		colDate: {"dato", "fullførtdato", "fullført", "datofullført", "fullføringsdato", "gjennomførtdato",
			"beståttdato", "ferdigdato", "avsluttetdato", "tidspunkt", "date", "completed", "completeddate",
			"completiondate", "completedon", "datecompleted", "timestamp"},
	} {
		for _, n := range names {
			columnNames[n] = col
		}
	}
}

// personColumns are the columns naming a person, in the order they are
// tried.
var personColumns = []column{colEmployee, colEmail, colUsername, colPerson}

// normalize lowercases a header name and keeps only its letters and
// digits: "Fullført dato" is "fullførtdato", "E-post" "epost", "Score (%)"
// "score".
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Verb is what a row records.
type Verb int

const (
	NoCompletion Verb = iota // in progress, not started: nothing to record
	Completed
	Passed
	Failed
)

// String is the verb's name, the last segment of its IRI.
func (v Verb) String() string {
	return [...]string{"none", "completed", "passed", "failed"}[v]
}

// statuses maps statuses, lowercased with single spaces, to verbs.
var statuses = map[string]Verb{}

func init() {
	for v, names := range map[Verb][]string{
		Completed: {"fullført", "fullfort", "gjennomført", "gjennomfort", "ferdig", "completed", "complete", "finished"},
		Passed:    {"bestått", "bestatt", "godkjent", "passed", "pass"},
		Failed: {"ikke bestått", "ikke bestatt", "ikkje bestått", "ikke godkjent", "strøket", "stryk",
			"failed", "fail", "not passed"},
		NoCompletion: {"påbegynt", "pabegynt", "i gang", "pågår", "startet", "ikke påbegynt", "ikke startet",
			"ikke begynt", "ikke fullført", "ikke gjennomført", "påmeldt", "tildelt",
			"in progress", "started", "not started", "not attempted", "incomplete", "not completed",
			"attempted", "enrolled", "registered", "assigned"},
	} {
		for _, n := range names {
			statuses[n] = v
		}
	}
}

// ScoreScale says how a file's scores are written.
type ScoreScale string

const (
	ScaleAuto ScoreScale = ""         // detect: Percent if any score is above 1 or written with %, else Fraction
	Percent   ScoreScale = "percent"  // 0–100
	Fraction  ScoreScale = "fraction" // 0–1
)

// Options are how Parse reads a file.
type Options struct {
	// Location is the time zone of dates without an offset; nil:
	// DefaultLocation.
	Location   *time.Location
	ScoreScale ScoreScale
	// Now is the time of the import: rows dated after it are skipped.
	Now time.Time
	// MaxRows bounds the data rows (an errs.TooLarge error above); 0: no
	// limit.
	MaxRows int
}

// DefaultLocation is the time zone of the dates of a file, unless the
// import says otherwise: Norwegian LMSs export local times.
var DefaultLocation = mustLocation("Europe/Oslo")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Ref is one identifier of a person a row gives.
type Ref struct {
	Kind   column
	Header string // the column's header in the file
	Value  string
}

// Score is a row's score.
type Score struct {
	Value   float64 // as the file gives it
	Percent bool    // Value is 0–100 (else 0–1)
	Scaled  float64 // 0–1
}

// Line is one data row of a file, read.
type Line struct {
	Row    int
	People []Ref // in the order of personColumns
	Module string
	Verb   Verb
	Score  *Score
	Time   time.Time      // when the row says it happened
	Day    reporting.Date // its day in the import's time zone
	// Cells are the row's cells of the columns read, by the file's header
	// names.
	Cells map[string]string
	// Skip, when set, says why the row cannot be recorded.
	Skip string
}

// Parsed is a file read by Parse.
type Parsed struct {
	Rows  int // data rows (below the header, not blank)
	Lines []Line
	// ScoreScale is the scale the scores were read in (none when the file
	// gives no score).
	ScoreScale ScoreScale
}

// maxHeaderRow is how far down the header row may be (exports put a title
// and the date of the export above it).
const maxHeaderRow = 20

// header is a header row: the index of each column found (-1: none) and
// its name in the file.
type header struct {
	index [numColumns]int
	names [numColumns]string
}

// findHeader returns the first row among the first maxHeaderRow that names
// a person, a module, a status and a date column.
func findHeader(t *Table) (*header, int, error) {
	for i, row := range t.Rows {
		if i == maxHeaderRow {
			break
		}
		h := &header{}
		for c := range h.index {
			h.index[c] = -1
		}
		var dup error
		for j, cell := range row.Cells {
			col, ok := columnNames[normalize(cell)]
			if !ok {
				continue
			}
			if h.index[col] >= 0 && dup == nil {
				dup = errs.Invalidf(cellPath(row.N, j, cell), "import-column",
					"the file has two %s columns, %q and %q: remove one", col.describe(), h.names[col], strings.TrimSpace(cell))
			}
			h.index[col], h.names[col] = j, strings.TrimSpace(cell)
		}
		person := false
		for _, c := range personColumns {
			person = person || h.index[c] >= 0
		}
		if person && h.index[colModule] >= 0 && h.index[colStatus] >= 0 && h.index[colDate] >= 0 {
			if dup != nil {
				return nil, 0, dup
			}
			return h, i, nil
		}
	}
	return nil, 0, errs.Invalidf("", "import-header",
		"no header row found in the first %d rows: the file needs columns naming the person (e-post, brukernavn, ansattnummer; email, username, employee id), "+
			"the module (kurs, modul; course, module), the status (status) and the date (dato, fullført dato; date, completed)", maxHeaderRow)
}

func (c column) describe() string {
	return [...]string{"employee number", "e-mail", "username", "person", "module", "status", "score", "date", ""}[c]
}

// cellPath names a cell in errors: "row 12, column D (Dato)".
func cellPath(row, index int, header string) string {
	name, _ := excelize.ColumnNumberToName(index + 1)
	return "row " + strconv.Itoa(row) + ", column " + name + " (" + strings.TrimSpace(header) + ")"
}

// Parse reads the rows of a file. A cell that cannot be read is an
// errs.Invalid error naming its row and column.
func Parse(t *Table, opts Options) (*Parsed, error) {
	if opts.Location == nil {
		opts.Location = DefaultLocation
	}
	h, at, err := findHeader(t)
	if err != nil {
		return nil, err
	}
	if n := len(t.Rows) - at - 1; opts.MaxRows > 0 && n > opts.MaxRows {
		return nil, tooManyRows(opts.MaxRows)
	}
	p := &Parsed{Lines: make([]Line, 0, len(t.Rows)-at-1)}
	for _, row := range t.Rows[at+1:] {
		l, err := h.line(row, t, opts)
		if err != nil {
			return nil, err
		}
		p.Lines = append(p.Lines, l)
	}
	p.Rows = len(p.Lines)
	if err := p.scale(h, opts.ScoreScale); err != nil {
		return nil, err
	}
	return p, nil
}

// line reads one data row.
func (h *header) line(row Row, t *Table, opts Options) (Line, error) {
	l := Line{Row: row.N, Cells: map[string]string{}}
	get := func(c column) string {
		i := h.index[c]
		if i < 0 {
			return ""
		}
		v := ""
		if i < len(row.Cells) {
			v = strings.TrimSpace(row.Cells[i])
		}
		l.Cells[h.names[c]] = v
		return v
	}
	for _, c := range personColumns {
		if v := get(c); v != "" {
			l.People = append(l.People, Ref{Kind: c, Header: h.names[c], Value: v})
		}
	}
	l.Module = get(colModule)
	status, scoreText, dateText := get(colStatus), get(colScore), get(colDate)
	path := func(c column) string { return cellPath(row.N, h.index[c], h.names[c]) }

	verb, ok := statuses[strings.Join(strings.Fields(strings.ToLower(status)), " ")]
	if !ok && status != "" {
		return l, errs.Invalidf(path(colStatus), "import-status",
			"unknown status %q: use fullført, bestått, ikke bestått (completed, passed, failed), or påbegynt, ikke startet (in progress, not started) for rows to skip", status)
	}
	l.Verb = verb
	switch {
	case verb == NoCompletion && status == "":
		l.Skip = "no status: nothing to record"
		return l, nil
	case verb == NoCompletion:
		l.Skip = "status " + strconv.Quote(status) + " is not a completion: nothing to record"
		return l, nil
	}
	if scoreText != "" && scoreText != "-" {
		sc, err := parseScore(scoreText)
		if err != nil {
			return l, errs.Invalidf(path(colScore), "import-score", "%v", err)
		}
		l.Score = sc
	}
	if dateText != "" {
		tm, hasTime, err := parseTime(dateText, t, opts.Location)
		if err != nil {
			return l, errs.Invalidf(path(colDate), "import-date", "%v", err)
		}
		if t.ExcelDates && isNumber(dateText) {
			// An Excel date: its serial number, shown as a date.
			dateText = tm.In(opts.Location).Format(time.DateOnly)
			if hasTime {
				dateText = tm.In(opts.Location).Format(time.DateTime)
			}
			l.Cells[h.names[colDate]] = dateText
		}
		l.Time, l.Day = tm, reporting.DateOf(tm, opts.Location)
		if !opts.Now.IsZero() && (l.Day > reporting.DateOf(opts.Now, opts.Location) || hasTime && tm.After(opts.Now)) {
			l.Skip = "the date " + dateText + " is in the future"
		}
	}
	switch {
	case len(l.People) == 0:
		l.Skip = "the row names no person"
	case l.Module == "":
		l.Skip = "the row names no module"
	case dateText == "":
		l.Skip = "the row has no date"
	}
	return l, nil
}

// parseScore reads a score: a number, with a decimal point or comma,
// optionally followed by %.
func parseScore(s string) (*Score, error) {
	v := strings.TrimSpace(s)
	pct := strings.HasSuffix(v, "%")
	v = strings.TrimSpace(strings.TrimSuffix(v, "%"))
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(v, "xXpP_") {
		return nil, fmt.Errorf("%q is not a score: give a number from 0 to 100 (85, 85 %%) or from 0 to 1 (0,85)", s)
	}
	if f < 0 {
		return nil, fmt.Errorf("the score %s is negative", s)
	}
	return &Score{Value: f, Percent: pct}, nil
}

// scale decides the scale of the file's scores (see ScoreScale) and
// computes the scaled scores.
func (p *Parsed) scale(h *header, want ScoreScale) error {
	scale := want
	for _, l := range p.Lines {
		if sc := l.Score; sc != nil && scale == ScaleAuto && (sc.Percent || sc.Value > 1) {
			scale = Percent
		}
	}
	if scale == ScaleAuto {
		scale = Fraction
	}
	for i := range p.Lines {
		l := &p.Lines[i]
		sc := l.Score
		if sc == nil {
			continue
		}
		p.ScoreScale = scale
		sc.Percent = sc.Percent || scale == Percent
		max := 1.0
		if sc.Percent {
			max = 100
		}
		if sc.Value > max {
			what := "a fraction from 0 to 1"
			if sc.Percent {
				what = "a percentage from 0 to 100"
			}
			return errs.Invalidf(cellPath(l.Row, h.index[colScore], h.names[colScore]), "import-score",
				"the score %s is not %s (the file's scores are read as %s)", l.Cells[h.names[colScore]], what, scale)
		}
		sc.Scaled = math.Round(sc.Value/max*1e6) / 1e6
	}
	return nil
}

// Layouts of the dates and times parseTime reads.
var (
	dateLayouts = []string{"2006-01-02", "2.1.2006"}
	timeLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05",
		"2.1.2006 15:04", "2.1.2006 15:04:05"}
)

// parseTime reads a date or a time of a row (see the package doc): the
// instant, and whether the cell gave a time of day.
func parseTime(s string, t *Table, loc *time.Location) (time.Time, bool, error) {
	v := strings.Join(strings.Fields(s), " ")
	v = strings.Replace(v, " kl. ", " ", 1)
	v = strings.Replace(v, " kl ", " ", 1)
	var tm time.Time
	hasTime := true // unless at midnight, below
	if f, err := strconv.ParseFloat(v, 64); t.ExcelDates && isNumber(v) && err == nil {
		if math.IsNaN(f) || f < 1 || f > 2958465 { // 1900-01-01 to 9999-12-31
			return tm, false, fmt.Errorf("%q is not an Excel date", s)
		}
		d, err := excelize.ExcelDateToTime(f, t.Date1904)
		if err != nil {
			return tm, false, fmt.Errorf("%q is not an Excel date", s)
		}
		d = d.Round(time.Second)
		tm = time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), 0, loc)
	} else if d, ok := parseIn(v, dateLayouts, loc); ok {
		tm = d
	} else if d, ok := parseIn(v, timeLayouts, loc); ok {
		tm = d
	} else if d, err := time.Parse(time.RFC3339Nano, v); err == nil {
		tm = d
	} else {
		return tm, false, fmt.Errorf("%q is not a date: write it 31.01.2024 or 2024-01-31, with or without a time (31.01.2024 14:30)", s)
	}
	if y := tm.Year(); y < 1900 || y > 9999 {
		return tm, false, fmt.Errorf("%q is not a date between the years 1900 and 9999", s)
	}
	// Midnight is a date without a time (as databases and Excel store
	// dates), on the day it names.
	if tm.Hour() == 0 && tm.Minute() == 0 && tm.Second() == 0 && tm.Nanosecond() == 0 {
		hasTime = false
	}
	if !hasTime {
		tm = time.Date(tm.Year(), tm.Month(), tm.Day(), 12, 0, 0, 0, loc)
	}
	return tm, hasTime, nil
}

// isNumber reports whether s is a plain decimal number, as Excel stores a
// date cell's serial number.
func isNumber(s string) bool {
	dot := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

func parseIn(v string, layouts []string, loc *time.Location) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
