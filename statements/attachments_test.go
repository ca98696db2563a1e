package statements

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

const (
	attText = "here is a simple attachment"
	attHash = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
	// the boundary of the spec's example, with all its character classes
	specBoundary = "abcABC0123'()+_,-./:=?"
	suiteBound   = "-------314159265358979323846"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// mpPart is one part of a hand-built multipart body.
type mpPart struct {
	headers []string // "Name: value" lines
	data    string
}

// buildMultipart writes a multipart body the way the conformance suite
// does: "--boundary" CRLF headers CRLF CRLF data CRLF ... "--boundary--".
func buildMultipart(boundary string, parts ...mpPart) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		for _, h := range p.headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n" + p.data + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func statementPart(js string) mpPart {
	return mpPart{[]string{"Content-Type: application/json"}, js}
}

func attPart(ct, hash, data string) mpPart {
	return mpPart{[]string{"Content-Type: " + ct, "Content-Transfer-Encoding: binary", "X-Experience-API-Hash: " + hash}, data}
}

// checkErr checks that err is an *errs.Error of kind k with the rule (when
// given).
func checkErr(t *testing.T, err error, k errs.Kind, rule string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *errs.Error %v %q", err, err, k, rule)
	}
	if e.Kind != k || (rule != "" && e.Rule != rule) {
		t.Fatalf("error %v: kind %v rule %q, want %v %q", err, e.Kind, e.Rule, k, rule)
	}
	if e.Message == "" {
		t.Error("error without message")
	}
}

func TestAttachReadMultipart(t *testing.T) {
	const stmt = `{"actor":{"mbox":"mailto:a@example.com"}}`
	binary := "\x00\xff\r\n--" + suiteBound + "x\r\n--not the boundary\r\n\r\n"
	sha512Of := func(s string) string { h := sha512.Sum512([]byte(s)); return hex.EncodeToString(h[:]) }

	type want struct {
		json  string
		parts []Attachment
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		max         int64
		want        want
		kind        errs.Kind
		rule        string
	}{
		{
			name:        "the spec's example",
			contentType: `multipart/mixed; boundary="` + specBoundary + `"`,
			body: "\r\n--" + specBoundary + "\r\nContent-Type:application/json\r\n\r\n" + stmt + "\r\n--" + specBoundary +
				"\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:" + attHash +
				"\r\n\r\n" + attText + "\r\n--" + specBoundary + "--",
			want: want{stmt, []Attachment{{SHA2: attHash, ContentType: "text/plain", Data: []byte(attText)}}},
		},
		{
			name:        "statements only",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt)),
			want:        want{stmt, nil},
		},
		{
			name:        "json with a charset, hash in capitals, binary data kept exactly",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, mpPart{[]string{"Content-Type: application/json; charset=utf-8"}, stmt},
				attPart("application/octet-stream", strings.ToUpper(sha256Hex([]byte(binary))), binary)),
			want: want{stmt, []Attachment{{SHA2: sha256Hex([]byte(binary)), ContentType: "application/octet-stream", Data: []byte(binary)}}},
		},
		{
			name:        "two parts, one duplicate",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt), attPart("text/plain", attHash, attText),
				attPart("image/jpeg", sha256Hex([]byte("jpeg")), "jpeg"), attPart("text/plain", attHash, attText)),
			want: want{stmt, []Attachment{{SHA2: attHash, ContentType: "text/plain", Data: []byte(attText)},
				{SHA2: sha256Hex([]byte("jpeg")), ContentType: "image/jpeg", Data: []byte("jpeg")}}},
		},
		{
			name:        "SHA-512",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt), attPart("text/plain", sha512Of(attText), attText)),
			want:        want{stmt, []Attachment{{SHA2: sha512Of(attText), ContentType: "text/plain", Data: []byte(attText)}}},
		},
		{
			name:        "no Content-Type on an attachment part",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				mpPart{[]string{"Content-Transfer-Encoding: binary", "X-Experience-API-Hash: " + attHash}, attText}),
			want: want{stmt, []Attachment{{SHA2: attHash, ContentType: "application/octet-stream", Data: []byte(attText)}}},
		},
		{
			name:        "empty attachment",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt), attPart("text/plain", sha256Hex(nil), "")),
			want:        want{stmt, []Attachment{{SHA2: sha256Hex(nil), ContentType: "text/plain", Data: []byte{}}}},
		},

		// XAPI-00132: missing or mismatched hash.
		{
			name:        "no X-Experience-API-Hash",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				mpPart{[]string{"Content-Type: text/plain", "Content-Transfer-Encoding: binary"}, attText}),
			kind: errs.Invalid, rule: "multipart-hash",
		},
		{
			name:        "hash does not match the data",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				attPart("text/plain", "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89", attText)),
			kind: errs.Invalid, rule: "multipart-hash-mismatch",
		},
		{
			name:        "hash not a SHA-2 digest",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt), attPart("text/plain", "abc", attText)),
			kind:        errs.Invalid, rule: "multipart-hash",
		},
		// XAPI-00135: Content-Transfer-Encoding must be binary.
		{
			name:        "base64 transfer encoding",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				mpPart{[]string{"Content-Type: text/plain", "Content-Transfer-Encoding: base64", "X-Experience-API-Hash: " + attHash}, attText}),
			kind: errs.Invalid, rule: "multipart-transfer-encoding",
		},
		{
			name:        "quoted-printable is not decoded but refused",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				mpPart{[]string{"Content-Type: text/plain", "Content-Transfer-Encoding: quoted-printable", "X-Experience-API-Hash: " + sha256Hex([]byte("A"))}, "=41"}),
			kind: errs.Invalid, rule: "multipart-transfer-encoding",
		},
		{
			name:        "no transfer encoding",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, statementPart(stmt),
				mpPart{[]string{"Content-Type: text/plain", "X-Experience-API-Hash: " + attHash}, attText}),
			kind: errs.Invalid, rule: "multipart-transfer-encoding",
		},
		// XAPI-00134: first part must be application/json.
		{
			name:        "first part text/plain",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: buildMultipart(suiteBound, mpPart{[]string{"Content-Type: text/plain"}, stmt},
				attPart("text/plain", attHash, attText)),
			kind: errs.Invalid, rule: "multipart-statement-part",
		},
		{
			name:        "first part without Content-Type",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, mpPart{nil, stmt}),
			kind:        errs.Invalid, rule: "multipart-statement-part",
		},
		// XAPI-00131: statements before the first boundary (a preamble).
		{
			name:        "no boundary before the statements",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body: "Content-Type: application/json\r\n\r\n" + stmt + "\r\n" +
				buildMultipart(suiteBound, attPart("text/plain", attHash, attText)),
			kind: errs.Invalid, rule: "multipart-statement-part",
		},
		// XAPI-00130/00131 and request headers.
		{
			name:        "no boundary parameter",
			contentType: "multipart/mixed;",
			body:        buildMultipart(suiteBound, statementPart(stmt)),
			kind:        errs.Invalid, rule: "multipart-boundary",
		},
		{
			name:        "multipart/form-data",
			contentType: "multipart/form-data; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt)),
			kind:        errs.Invalid, rule: "content-type",
		},
		{
			name:        "no boundary in the body",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        stmt,
			kind:        errs.Invalid, rule: "multipart-syntax",
		},
		{
			name:        "no closing boundary",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        "--" + suiteBound + "\r\nContent-Type: application/json\r\n\r\n" + stmt,
			kind:        errs.Invalid, rule: "multipart-syntax",
		},
		{
			name:        "too large",
			contentType: "multipart/mixed; boundary=" + suiteBound,
			body:        buildMultipart(suiteBound, statementPart(stmt), attPart("text/plain", attHash, attText)),
			max:         100,
			kind:        errs.TooLarge, rule: "body-size",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 1 << 20
			}
			js, parts, err := ReadMultipart(tt.contentType, strings.NewReader(tt.body), max)
			if tt.rule != "" {
				checkErr(t, err, tt.kind, tt.rule)
				return
			}
			if err != nil {
				t.Fatalf("ReadMultipart: %v", err)
			}
			if string(js) != tt.want.json {
				t.Errorf("statement JSON = %q, want %q", js, tt.want.json)
			}
			if len(parts) != len(tt.want.parts) {
				t.Fatalf("%d parts, want %d", len(parts), len(tt.want.parts))
			}
			for i, p := range parts {
				w := tt.want.parts[i]
				if p.SHA2 != w.SHA2 || p.ContentType != w.ContentType || !bytes.Equal(p.Data, w.Data) {
					t.Errorf("part %d = %s %q %q, want %s %q %q", i, p.SHA2, p.ContentType, p.Data, w.SHA2, w.ContentType, w.Data)
				}
			}
		})
	}

	// A body exactly at the limit is accepted.
	body := buildMultipart(suiteBound, statementPart(stmt))
	if _, _, err := ReadMultipart("multipart/mixed; boundary="+suiteBound, strings.NewReader(body), int64(len(body))); err != nil {
		t.Errorf("body of exactly maxBytes: %v", err)
	}
}

func TestAttachCheck(t *testing.T) {
	jpeg := sha256Hex([]byte("jpeg"))
	att := func(extra string) string {
		return `{"usageType":"http://example.com/u","display":{"en-US":"A"},"contentType":"text/plain","length":27` + extra + `}`
	}
	sig := func(ct, extra string) string {
		return `{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"S"},"contentType":"` + ct +
			`","length":10,"sha2":"` + jpeg + `"` + extra + `}`
	}
	stmtWith := func(atts ...string) string {
		return `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"},
			"attachments":[` + strings.Join(atts, ",") + `]}`
	}
	part := Attachment{SHA2: attHash, ContentType: "text/plain", Data: []byte(attText)}
	jpegPart := Attachment{SHA2: jpeg, ContentType: "image/jpeg", Data: []byte("jpeg")}

	tests := []struct {
		name  string
		stmts []string
		parts []Attachment
		path  string // "" for no error
		rule  string
	}{
		{"no attachments, no parts", []string{`{"actor":{"mbox":"mailto:a@example.com"}}`}, nil, "", ""},
		{"raw data sent", []string{stmtWith(att(`,"sha2":"` + attHash + `"`))}, []Attachment{part}, "", ""},
		{"sha2 in capitals", []string{stmtWith(att(`,"sha2":"` + strings.ToUpper(attHash) + `"`))}, []Attachment{part}, "", ""},
		{"fileUrl only, application/json", []string{stmtWith(att(`,"sha2":"` + attHash + `","fileUrl":"http://example.com/f"`))}, nil, "", ""},
		{"fileUrl and raw data", []string{stmtWith(att(`,"sha2":"` + attHash + `","fileUrl":"http://example.com/f"`))}, []Attachment{part}, "", ""},
		{"XAPI-00129: raw data missing", []string{stmtWith(att(`,"sha2":"`+attHash+`"`), att(`,"sha2":"`+jpeg+`"`))},
			[]Attachment{part}, "attachments[1].sha2", "attachment-missing"},
		{"no fileUrl in an application/json request", []string{stmtWith(att(`,"sha2":"` + attHash + `"`))}, nil,
			"attachments[0].sha2", "attachment-missing"},
		{"XAPI-00128: excess part", []string{stmtWith(att(`,"sha2":"` + attHash + `"`))}, []Attachment{part, jpegPart},
			"", "attachment-unreferenced"},
		{"batch: path starts with the index", []string{stmtWith(att(`,"sha2":"` + attHash + `"`)), stmtWith(att(`,"sha2":"` + jpeg + `"`))},
			[]Attachment{part}, "[1].attachments[0].sha2", "attachment-missing"},
		{"batch sharing one part", []string{stmtWith(att(`,"sha2":"` + attHash + `"`)), stmtWith(att(`,"sha2":"` + attHash + `"`))},
			[]Attachment{part}, "", ""},
		{"signature", []string{stmtWith(sig("application/octet-stream", ""))}, []Attachment{jpegPart}, "", ""},
		{"XAPI-00115: signature with another content type", []string{stmtWith(sig("text/plain; charset=ascii", ""))}, []Attachment{jpegPart},
			"attachments[0].contentType", "signature-content-type"},
		{"signature by fileUrl only", []string{stmtWith(sig("application/octet-stream", `,"fileUrl":"http://example.com/sig"`))}, nil,
			"attachments[0].sha2", "signature-missing"},
		{"substatement attachment sent", []string{`{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
			"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
				"object":{"id":"http://example.com/o"},"attachments":[` + att(`,"sha2":"`+attHash+`"`) + `]}}`}, []Attachment{part}, "", ""},
		{"substatement attachment missing", []string{`{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
			"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
				"object":{"id":"http://example.com/o"},"attachments":[` + att(`,"sha2":"`+attHash+`"`) + `]}}`}, nil,
			"object.attachments[0].sha2", "attachment-missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stmts []map[string]any
			for _, s := range tt.stmts {
				stmts = append(stmts, decodeStmt(t, s))
			}
			err := CheckAttachments(stmts, tt.parts)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("CheckAttachments: %v", err)
				}
				return
			}
			checkErr(t, err, errs.Invalid, tt.rule)
			if p := err.(*errs.Error).Path; p != tt.path {
				t.Errorf("path %q, want %q", p, tt.path)
			}
		})
	}
}

// TestAttachSpecExample reads the spec's multipart example and checks it
// against its statement (testdata/spec/multipart-attachment.json).
func TestAttachSpecExample(t *testing.T) {
	s := specStatement(t, "multipart-attachment.json")
	js := formatJSON(t, s)
	body := "--" + specBoundary + "\r\nContent-Type:application/json\r\n\r\n" + js + "\r\n--" + specBoundary +
		"\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:" + attHash +
		"\r\n\r\n" + attText + "\r\n--" + specBoundary + "--"
	got, parts, err := ReadMultipart(`multipart/mixed; boundary="`+specBoundary+`"`, strings.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != js {
		t.Errorf("statement part = %s", got)
	}
	if err := CheckAttachments([]map[string]any{decodeStmt(t, string(got))}, parts); err != nil {
		t.Errorf("CheckAttachments: %v", err)
	}
}

func TestAttachWriteMultipart(t *testing.T) {
	js := []byte(`{"statements":[],"more":""}`)
	atts := []Attachment{
		{SHA2: attHash, ContentType: "text/plain; charset=ascii", Data: []byte(attText)},
		{SHA2: sha256Hex([]byte("\r\n--x\x00")), ContentType: "", Data: []byte("\r\n--x\x00")},
		{SHA2: strings.ToUpper(attHash), ContentType: "text/plain", Data: []byte(attText)}, // the same again
	}
	var buf bytes.Buffer
	ct, err := WriteMultipart(&buf, js, atts)
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q", ct)
	}

	// Each part as a client reads it, raw.
	mr := multipart.NewReader(bytes.NewReader(buf.Bytes()), params["boundary"])
	type got struct {
		ct, cte, hash, data string
	}
	var parts []got
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		parts = append(parts, got{p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
			p.Header.Get("X-Experience-API-Hash"), string(data)})
	}
	want := []got{
		{"application/json", "", "", string(js)},
		{"text/plain; charset=ascii", "binary", attHash, attText},
		{"application/octet-stream", "binary", sha256Hex([]byte("\r\n--x\x00")), "\r\n--x\x00"},
	}
	if len(parts) != len(want) {
		t.Fatalf("%d parts, want %d: %q", len(parts), len(want), parts)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d = %q, want %q", i, parts[i], want[i])
		}
	}

	// And ReadMultipart reads back what WriteMultipart wrote.
	back, backAtts, err := ReadMultipart(ct, bytes.NewReader(buf.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, js) || len(backAtts) != 2 || !bytes.Equal(backAtts[1].Data, atts[1].Data) {
		t.Errorf("round trip: %q %v", back, backAtts)
	}
}
