package export

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/reporting"
)

// bom is the UTF-8 byte order mark: spreadsheets read a CSV file as UTF-8
// only when it starts with one (else æøå come out garbled).
const bom = "\uFEFF"

// CSVRecords writes a CSV file record by record: every CSV file of the
// reports (the HTTP service's status reports, reminders and reminder
// summaries) is written by one. The file is UTF-8 with a byte order mark,
// fields are quoted as RFC 4180 says (and as encoding/csv quotes them:
// those with the delimiter, a quote, a line break or a leading space;
// a line break in a quoted field is written CRLF), lines end in CRLF, and
// records go out through a buffer as it fills, so that a long report
// streams; Flush ends the file. Callers pass free text through Defuse
// (WriteStatus does).
//
// Records are assembled in a buffer of their own, without encoding/csv:
// a report of a whole organisation writes hundreds of thousands, and
// WriteStatus writes a row without making a string of each field.
type CSVRecords struct {
	out   *bufio.Writer
	comma rune
	line  []byte // the record being written
	n     int    // its fields so far
	field []byte // a field being assembled
}

// NewCSVRecords starts a CSV file on out with the byte order mark; comma
// is the field separator (0: ','), one that encoding/csv accepts (not a
// quote, a line break or U+FFFD).
func NewCSVRecords(out io.Writer, comma rune) *CSVRecords {
	buf := bufio.NewWriterSize(out, 64<<10)
	buf.WriteString(bom) // an error stays in buf: Write and Flush return it
	if comma == 0 {
		comma = ','
	}
	return &CSVRecords{out: buf, comma: comma}
}

// Write writes one record; it returns the first error of the file.
func (c *CSVRecords) Write(rec []string) error {
	c.line, c.n = c.line[:0], 0
	for _, f := range rec {
		c.text(f)
	}
	return c.end()
}

// StatusHeader names the columns of a row in the CSV of the HTTP service's
// status and reminder reports (WriteStatus); the service's reminders put
// the manager's columns before them.
var StatusHeader = []string{"person", "name", "email", "units", "roles", "module", "campaign", "rules", "status",
	"due", "completed", "expires", "score", "exemption", "evidence"}

// WriteStatus writes the fields of prefix (as they are), then those of r
// under StatusHeader: ids as they are, lists joined by "|" (as the roster
// CSV has them), the completion as an instant in loc, evidence as
// statement ids, free text defused.
func (c *CSVRecords) WriteStatus(prefix []string, r *reporting.Row, loc *time.Location) error {
	c.line, c.n = c.line[:0], 0
	for _, f := range prefix {
		c.text(f)
	}
	c.text(r.Person)
	c.text(Defuse(r.Name))
	c.text(Defuse(r.Email))
	c.list(r.Units)
	c.list(r.Roles)
	c.text(r.Module)
	c.text(r.Campaign)
	c.list(r.Rules)
	c.text(string(r.Status))
	c.field, _ = r.Due.AppendText(c.field[:0])
	c.assembled()
	c.field = c.field[:0]
	if !r.Completed.IsZero() {
		c.field = r.Completed.In(loc).AppendFormat(c.field, time.RFC3339)
	}
	c.assembled()
	c.field, _ = r.Expires.AppendText(c.field[:0])
	c.assembled()
	c.field = c.field[:0]
	if r.Score != nil {
		c.field = strconv.AppendFloat(c.field, *r.Score, 'f', -1, 64)
	}
	c.assembled()
	c.text(Defuse(r.Exemption))
	c.field = c.field[:0]
	for i, e := range r.Evidence {
		if i > 0 {
			c.field = append(c.field, listSep...)
		}
		c.field = append(c.field, e.Statement...)
	}
	c.assembled()
	return c.end()
}

// text adds a field to the record.
func (c *CSVRecords) text(f string) { c.line = appendField(c.sep(), f, c.comma) }

// assembled adds c.field to the record.
func (c *CSVRecords) assembled() { c.line = appendField(c.sep(), c.field, c.comma) }

// list adds a list of ids joined by listSep to the record.
func (c *CSVRecords) list(ids []string) {
	if len(ids) == 1 {
		c.text(ids[0])
		return
	}
	c.field = c.field[:0]
	for i, id := range ids {
		if i > 0 {
			c.field = append(c.field, listSep...)
		}
		c.field = append(c.field, id...)
	}
	c.assembled()
}

// sep returns the record with the separator before its next field.
func (c *CSVRecords) sep() []byte {
	if c.n++; c.n == 1 {
		return c.line
	}
	return utf8.AppendRune(c.line, c.comma)
}

// end ends the record and writes it.
func (c *CSVRecords) end() error {
	c.line = append(c.line, '\r', '\n')
	c.out.Write(c.line)
	return c.Err()
}

// Err returns the first error writing the file.
func (c *CSVRecords) Err() error {
	_, err := c.out.Write(nil) // bufio.Writer keeps its first error
	return err
}

// Flush writes what is buffered: at the end of the file, or when the
// records so far should go out at once.
func (c *CSVRecords) Flush() error { return c.out.Flush() }

// appendField appends field f to a record as encoding/csv writes it with
// CRLF line ends: quoted when it holds the delimiter, a quote or a line
// break, starts with a space (or is `\.`), its quotes doubled and each
// line feed written CRLF (a carriage return alone is dropped).
func appendField[S string | []byte](b []byte, f S, comma rune) []byte {
	if !needsQuotes(f, comma) {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '"':
			b = append(b, '"', '"')
		case '\r':
		case '\n':
			b = append(b, '\r', '\n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func needsQuotes[S string | []byte](f S, comma rune) bool {
	if len(f) == 0 {
		return false
	}
	if string(f) == `\.` {
		return true
	}
	if comma < utf8.RuneSelf {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c == '\n' || c == '\r' || c == '"' || c == byte(comma) {
				return true
			}
		}
	} else if strings.ContainsRune(string(f), comma) || strings.ContainsAny(string(f), "\"\r\n") {
		return true
	}
	if f[0] < utf8.RuneSelf {
		return unicode.IsSpace(rune(f[0]))
	}
	var first [utf8.UTFMax]byte
	r, _ := utf8.DecodeRune(first[:copy(first[:], f)])
	return unicode.IsSpace(r)
}

// Defuse prefixes text a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) with an apostrophe, so that
// a name or unit from HR data can never run as one (CSV injection).
func Defuse(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
