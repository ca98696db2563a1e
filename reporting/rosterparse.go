package reporting

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// strictUnmarshal decodes JSON into v, refusing unknown fields and
// anything after the value.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// ParseImportJSON parses a roster import in JSON (see Import), strictly:
// unknown fields are refused. Errors are errs.Invalid.
func ParseImportJSON(data []byte) (*Import, error) {
	var imp Import
	if err := strictUnmarshal(data, &imp); err != nil {
		return nil, invalidJSON(err)
	}
	return &imp, nil
}

// Decode decodes one catalog entry (Module, Rule, Campaign, Exemption)
// from JSON strictly (unknown fields are refused) and validates it, e.g.
// Decode[Module](body). Errors are errs.Invalid.
func Decode[T any, P interface {
	*T
	Validate() error
}](data []byte) (*T, error) {
	v := new(T)
	if err := strictUnmarshal(data, v); err != nil {
		return nil, invalidJSON(err)
	}
	if err := P(v).Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

func invalidJSON(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	return errs.Invalidf("", "json", "malformed JSON: %v", err)
}

// The CSV formats are what HR systems and spreadsheets export: one header
// line naming the columns (in English or Norwegian, any case, in any
// order), separated by commas, semicolons or tabs (whichever the header
// uses), in UTF-8 (with or without a byte-order mark) or, failing that,
// Windows-1252 (what a Norwegian Excel saves as "CSV"). Cells holding
// several values separate them with "|". Dates are YYYY-MM-DD or
// DD.MM.YYYY.

// peopleColumns maps accepted header names to the column they mean.
var peopleColumns = map[string]string{
	"id": "id", "employee_id": "id", "employeeid": "id", "employee": "id", "ansattnr": "id", "ansattnummer": "id", "ansatt_id": "id",
	"name": "name", "navn": "name", "fullt_navn": "name",
	"email": "email", "e-mail": "email", "epost": "email", "e-post": "email", "mail": "email",
	"units": "units", "unit": "units", "enhet": "units", "enheter": "units", "arbeidssted": "units",
	"roles": "roles", "role": "roles", "rolle": "roles", "roller": "roles",
	"start": "start", "start_date": "start", "startdato": "start", "ansatt_fra": "start",
	"end": "end", "end_date": "end", "sluttdato": "end", "ansatt_til": "end",
	"account_homepage": "account_homepage", "homepage": "account_homepage",
	"account_name": "account_name", "username": "account_name", "brukernavn": "account_name",
}

// unitColumns maps accepted header names of the units CSV.
var unitColumns = map[string]string{
	"id": "id", "unit_id": "id", "unit": "id", "enhet": "id", "enhet_id": "id", "enhetsnr": "id",
	"name": "name", "navn": "name", "enhetsnavn": "name",
	"parent": "parent", "parent_id": "parent", "overordnet": "parent", "overordnet_enhet": "parent",
	"managers": "managers", "manager": "managers", "leder": "managers", "ledere": "managers",
	"from": "from", "start": "from", "fra": "from",
	"to": "to", "end": "to", "til": "to",
}

// ParsePeopleCSV parses a people CSV. Columns: id (employee id, required),
// name, email (one or more addresses, separated by "|" or spaces: the
// first is the one reports show, and statements under any of them count,
// e.g. the address from before a change of name), units and roles
// ("|"-separated), start and end (dates: the first and the last day
// employed, as in PersonIn; sluttdato is the last working day),
// account_homepage and account_name (LMS accounts: one or more
// "|"-separated names on that site). A person may span several lines (one
// per position, as HR systems often export, or one per identifier): their
// units, roles, addresses and accounts are merged, the earliest start and
// the latest end kept. For example (from
// reporting/testdata/roster-people.csv), Kari has three addresses and
// three accounts on two sites:
//
//	id,name,email,units,roles,start,end,account_homepage,account_name
//	1001,Kari Ødegård,kari.odegard@kommune.no|kari.nordmann@kommune.no,helse,adm,2019-03-01,,https://kslaring.no,kari|kari.nordmann
//	1001,Kari Ødegård,kari@kommune.no,it,sensitiv,2019-03-01,,https://lms.kommune.no,kodegard
func ParsePeopleCSV(r io.Reader) ([]PersonIn, error) {
	records, _, err := ReadCSV(r)
	if err != nil {
		return nil, err
	}
	return ParsePeopleTable(records, nil)
}

// ParsePeopleTable parses a people file already split into cells, its
// first record the header (a CSV file, or a sheet of a workbook), as
// ParsePeopleCSV does. date parses the cells of the date columns (nil:
// ParseDate); a workbook's dates may be serial day numbers.
func ParsePeopleTable(records [][]string, date func(string) (Date, error)) ([]PersonIn, error) {
	header, rows, err := table(records, peopleColumns, "id")
	if err != nil {
		return nil, err
	}
	if date == nil {
		date = ParseDate
	}
	var out []PersonIn
	index := map[string]int{}
	for n, row := range rows {
		line := n + 2
		get := func(col string) string { return cell(header, row, col) }
		id := get("id")
		if id == "" {
			return nil, errs.Invalidf(fmt.Sprintf("line %d", line), "required", "the employee id is empty")
		}
		start, err := date(get("start"))
		if err != nil {
			return nil, atLine(line, "start", err)
		}
		end, err := date(get("end"))
		if err != nil {
			return nil, atLine(line, "end", err)
		}
		p := PersonIn{ID: id, Name: get("name"), Start: start, End: end}
		for _, addr := range strings.FieldsFunc(get("email"), func(c rune) bool { return c == '|' || unicode.IsSpace(c) }) {
			if _, err := emailKey(addr); err != nil {
				return nil, errs.Invalidf(fmt.Sprintf("line %d, email", line), "email", "%q is not an e-mail address", addr)
			}
			p.addEmail(addr)
		}
		for _, u := range splitMulti(get("units")) {
			p.Units = append(p.Units, Assignment{ID: u})
		}
		for _, role := range splitMulti(get("roles")) {
			p.Roles = append(p.Roles, Assignment{ID: role})
		}
		home, names := get("account_homepage"), splitMulti(get("account_name"))
		if (home == "") != (len(names) == 0) {
			return nil, errs.Invalidf(fmt.Sprintf("line %d", line), "account", "an account needs both account_homepage and account_name")
		}
		for _, name := range names {
			p.Identifiers = appendIdentifier(p.Identifiers, map[string]any{"account": map[string]any{"homePage": home, "name": name}})
		}
		i, seen := index[id]
		if !seen {
			index[id] = len(out)
			out = append(out, p)
			continue
		}
		q := &out[i]
		q.Units = mergeAssignments(q.Units, p.Units)
		q.Roles = mergeAssignments(q.Roles, p.Roles)
		if p.Start != 0 && (q.Start == 0 || p.Start < q.Start) {
			q.Start = p.Start
		}
		if p.End == 0 || q.End == 0 {
			q.End = 0
		} else if p.End > q.End {
			q.End = p.End
		}
		if q.Name == "" {
			q.Name = p.Name
		}
		if p.Email != "" {
			q.addEmail(p.Email)
		}
		for _, ident := range p.Identifiers {
			q.Identifiers = appendIdentifier(q.Identifiers, ident)
		}
	}
	return out, nil
}

// addEmail gives p the e-mail address: as its Email if it has none, else
// as one more identifier.
func (p *PersonIn) addEmail(addr string) {
	switch {
	case p.Email == "":
		p.Email = addr
	case !strings.EqualFold(p.Email, addr):
		p.Identifiers = appendIdentifier(p.Identifiers, map[string]any{"mbox": "mailto:" + addr})
	}
}

// appendIdentifier appends an xAPI identifier to list unless list has it
// already (by MatchKey).
func appendIdentifier(list []map[string]any, ident map[string]any) []map[string]any {
	k := MatchKey(statements.AgentKey(ident))
	for _, x := range list {
		if MatchKey(statements.AgentKey(x)) == k {
			return list
		}
	}
	return append(list, ident)
}

func mergeAssignments(a, b []Assignment) []Assignment {
	for _, x := range b {
		found := false
		for _, y := range a {
			if y.ID == x.ID {
				found = true
				break
			}
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

// ParseUnitsCSV parses a units CSV. Columns: id (required), name, parent,
// managers (employee ids, "|"-separated), from and to (dates: the unit's
// first and last day, both inclusive, as in UnitIn).
func ParseUnitsCSV(r io.Reader) ([]UnitIn, error) {
	records, _, err := ReadCSV(r)
	if err != nil {
		return nil, err
	}
	return ParseUnitsTable(records, nil)
}

// ParseUnitsTable parses a units file already split into cells, as
// ParseUnitsCSV does; date parses the from and to cells (nil: ParseDate).
func ParseUnitsTable(records [][]string, date func(string) (Date, error)) ([]UnitIn, error) {
	header, rows, err := table(records, unitColumns, "id")
	if err != nil {
		return nil, err
	}
	if date == nil {
		date = ParseDate
	}
	out := make([]UnitIn, 0, len(rows))
	for n, row := range rows {
		line := n + 2
		get := func(col string) string { return cell(header, row, col) }
		u := UnitIn{ID: get("id"), Name: get("name"), Parent: get("parent"), Managers: splitMulti(get("managers"))}
		if u.ID == "" {
			return nil, errs.Invalidf(fmt.Sprintf("line %d", line), "required", "the unit id is empty")
		}
		if u.From, err = date(get("from")); err != nil {
			return nil, atLine(line, "from", err)
		}
		if u.To, err = date(get("to")); err != nil {
			return nil, atLine(line, "to", err)
		}
		out = append(out, u)
	}
	return out, nil
}

func atLine(line int, col string, err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		c := *e
		c.Path = fmt.Sprintf("line %d, %s", line, col)
		return &c
	}
	return err
}

func splitMulti(s string) []string {
	var out []string
	for _, part := range strings.Split(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func cell(header map[string]int, row []string, col string) string {
	i, ok := header[col]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// table reads the records of a whole file: the header mapped through
// columns to column indexes, and the data rows (blank lines skipped).
func table(records [][]string, columns map[string]string, required string) (map[string]int, [][]string, error) {
	if len(records) == 0 {
		return nil, nil, errs.Invalidf("", "csv", "the file is empty; its first line must name the columns")
	}
	header := map[string]int{}
	for i, name := range records[0] {
		key := strings.ToLower(strings.TrimSpace(name))
		key = strings.ReplaceAll(key, " ", "_")
		col, ok := columns[key]
		if !ok {
			return nil, nil, errs.Invalidf(fmt.Sprintf("line 1, column %d", i+1), "csv-column", "unknown column %q", name)
		}
		if _, dup := header[col]; dup {
			return nil, nil, errs.Invalidf(fmt.Sprintf("line 1, column %d", i+1), "csv-column", "column %q is given twice", name)
		}
		header[col] = i
	}
	if _, ok := header[required]; !ok {
		return nil, nil, errs.Invalidf("line 1", "csv-column", "the %s column is missing", required)
	}
	rows := records[1:]
	out := rows[:0]
	for _, row := range rows {
		blank := true
		for _, c := range row {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if !blank {
			out = append(out, row)
		}
	}
	return header, out, nil
}

// ReadCSV reads a whole CSV file as HR systems, LMSs and spreadsheets
// export it: in UTF-8 (with or without a byte-order mark) or, failing that,
// Windows-1252 (what a Norwegian Excel saves as "CSV"), its fields
// separated by commas, semicolons or tabs, whichever the first line holding
// any of them has most of (title lines above the header, as some exports
// have, hold none). Records may have different numbers of fields; blank
// lines are left out, and lines[i] is the line record i starts on (from
// 1). Errors are errs.Invalid.
func ReadCSV(r io.Reader) (records [][]string, lines []int, err error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		data = decodeWindows1252(data)
	}
	var line []byte
	for rest := data; len(rest) > 0 && !bytes.ContainsAny(line, ",;\t"); {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
	}
	comma := ','
	best := bytes.Count(line, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(line, []byte(string(c))); n > best {
			comma, best = c, n
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return records, lines, nil
		}
		if err != nil {
			return nil, nil, errs.Invalidf("", "csv", "malformed CSV: %v", err)
		}
		line, _ := cr.FieldPos(0)
		records, lines = append(records, rec), append(lines, line)
	}
}

// windows1252 holds the characters of bytes 0x80-0x9F in Windows-1252
// (0 where undefined); the other bytes are the same as in Latin-1.
var windows1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// decodeWindows1252 converts Windows-1252 text to UTF-8.
func decodeWindows1252(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0 && windows1252[c-0x80] != 0:
			out = utf8.AppendRune(out, windows1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}
