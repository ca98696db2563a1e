package lmsimport

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Table is the cells of a file, row by row.
type Table struct {
	Format string // "csv" or "xlsx"
	Rows   []Row  // the rows holding any cell, in file order
	// ExcelDates reports that numbers in the date column are Excel dates
	// (serial day numbers), in the 1904 date system if Date1904.
	ExcelDates, Date1904 bool
}

// Row is one row of a file: its number as a spreadsheet shows it (the
// first row is 1; for CSV, the line it starts on) and its cells.
type Row struct {
	N     int
	Cells []string
}

// xlsxLimits bound what an XLSX file may unpack to: a completion export of
// a hundred thousand rows unpacks to some tens of MB.
var xlsxLimits = excelize.Options{RawCellValue: true, UnzipSizeLimit: 512 << 20, UnzipXMLSizeLimit: 16 << 20}

// ReadTable reads a CSV or XLSX file (an XLSX file is a zip: it starts
// with "PK"): its first sheet, or the sheet named sheet. maxRows bounds
// the data rows (0: no limit): it stops with an errs.TooLarge error when
// the file has more rows with cells than maxRows and the title and header
// rows that may come first (Parse counts the data rows exactly).
// Errors about the file are errs.Invalid.
func ReadTable(data []byte, sheet string, maxRows int) (*Table, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return readXLSX(data, sheet, maxRows)
	case bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return nil, errs.Invalidf("", "xlsx", "the file is an Excel 97–2003 workbook (.xls) or an encrypted one, which cannot be read: save it as .xlsx or CSV without a password")
	}
	if sheet != "" {
		return nil, errs.Invalidf("sheet", "sheet", "a CSV file has no sheets; name a sheet for an XLSX file only")
	}
	records, lines, err := reporting.ReadCSV(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	t := &Table{Format: "csv"}
	for i, rec := range records {
		if blank(rec) {
			continue
		}
		if maxRows > 0 && len(t.Rows) == maxRows+maxHeaderRow {
			return nil, tooManyRows(maxRows)
		}
		t.Rows = append(t.Rows, Row{N: lines[i], Cells: rec})
	}
	return t, nil
}

func tooManyRows(max int) error {
	return &errs.Error{Kind: errs.TooLarge, Rule: "import-rows",
		Message: "the file has more than " + strconv.Itoa(max) + " rows; split it (by year or by module) into several imports"}
}

// readXLSX reads a sheet of an XLSX file. A panic of excelize on a
// malformed file is a refusal of the file, like its errors.
func readXLSX(data []byte, sheet string, maxRows int) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, errs.Invalidf("", "xlsx", "the file is not a readable XLSX workbook (%v)", p)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), xlsxLimits)
	if err != nil {
		return nil, errs.Invalidf("", "xlsx", "the file is not a readable XLSX workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	switch {
	case len(sheets) == 0:
		return nil, errs.Invalidf("", "xlsx", "the workbook has no sheets")
	case sheet == "":
		sheet = sheets[0]
	default:
		found := false
		for _, s := range sheets {
			found = found || s == sheet
		}
		if !found {
			return nil, errs.Invalidf("sheet", "sheet", "the workbook has no sheet %q; its sheets: %s", sheet, strings.Join(sheets, ", "))
		}
	}
	t = &Table{Format: "xlsx", ExcelDates: true}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		t.Date1904 = *props.Date1904
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, errs.Invalidf("", "xlsx", "sheet %q cannot be read: %v", sheet, err)
	}
	defer rows.Close()
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, errs.Invalidf("row "+strconv.Itoa(n), "xlsx", "sheet %q cannot be read: %v", sheet, err)
		}
		if blank(cells) {
			continue
		}
		if maxRows > 0 && len(t.Rows) == maxRows+maxHeaderRow {
			return nil, tooManyRows(maxRows)
		}
		t.Rows = append(t.Rows, Row{N: n, Cells: cells})
	}
	if err := rows.Error(); err != nil {
		return nil, errs.Invalidf("", "xlsx", "sheet %q cannot be read: %v", sheet, err)
	}
	return t, nil
}

// blank reports whether a row has no cell with anything but spaces.
func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
