package statements

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
)

// SignatureUsageType is the usageType of the attachment holding a statement's
// JSON Web Signature (xAPI Data 2.6).
const SignatureUsageType = "http://adlnet.gov/expapi/attachments/signature"

// signatureContentType is the contentType a signature attachment must have.
const signatureContentType = "application/octet-stream"

// ReadMultipart reads a multipart/mixed request body of the Statements
// resource (xAPI Communication 1.5.2): the first part holds the statement or
// statements (Content-Type application/json) and each further part the raw
// data of one attachment, with headers
//
//	Content-Type: <the media type>          (application/octet-stream if absent)
//	Content-Transfer-Encoding: binary
//	X-Experience-API-Hash: <SHA-2 of the data, hex>
//
// Parts are read raw (no transfer decoding). ReadMultipart checks each
// part's hash against its data, using the SHA-2 variant its length names
// (SHA-224, SHA-256, SHA-384 or SHA-512), and returns the statement JSON
// and the attachments, one per distinct hash, SHA2 lowercased. contentType
// is the request's Content-Type header. A body over maxBytes (when > 0)
// fails with an errs.TooLarge error; anything malformed with an errs.Invalid
// error. Whether the parts match the statements is CheckAttachments' job.
func ReadMultipart(contentType string, body io.Reader, maxBytes int64) (statementJSON []byte, parts []Attachment, err error) {
	mt, params, perr := mime.ParseMediaType(contentType)
	if perr != nil || mt != "multipart/mixed" {
		return nil, nil, errs.Invalidf("", "content-type",
			"a body with attachments must have Content-Type multipart/mixed with a boundary, not %q", contentType)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, nil, errs.Invalidf("", "multipart-boundary", "the multipart/mixed Content-Type has no boundary parameter")
	}
	if maxBytes > 0 {
		body = &limitReader{r: body, left: maxBytes, max: maxBytes}
	}
	mr := multipart.NewReader(body, boundary)

	first, err := mr.NextRawPart()
	if err != nil {
		return nil, nil, multipartError(err, "the multipart body has no part delimited by the boundary %q", boundary)
	}
	if err := checkStatementPart(first.Header); err != nil {
		return nil, nil, err
	}
	statementJSON, err = io.ReadAll(first)
	if err != nil {
		return nil, nil, multipartError(err, "reading the statement part")
	}

	seen := map[string]bool{}
	for n := 1; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, multipartError(err, "reading part %d of the multipart body", n+1)
		}
		a, err := readAttachmentPart(p, n)
		if err != nil {
			return nil, nil, err
		}
		if !seen[a.SHA2] {
			seen[a.SHA2] = true
			parts = append(parts, a)
		}
	}
	return statementJSON, parts, nil
}

// checkStatementPart checks the headers of the first part.
func checkStatementPart(h textproto.MIMEHeader) error {
	ct := h.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return errs.Invalidf("", "multipart-statement-part",
			"the first part of a multipart/mixed body must hold the statements with Content-Type application/json, not %q", ct)
	}
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); enc {
	case "", "binary", "8bit", "7bit":
	default:
		return errs.Invalidf("", "multipart-transfer-encoding",
			"the statement part must not be transfer-encoded (Content-Transfer-Encoding %q)", enc)
	}
	return nil
}

// readAttachmentPart reads and checks attachment part n (1 for the first
// after the statements).
func readAttachmentPart(p *multipart.Part, n int) (Attachment, error) {
	where := fmt.Sprintf("attachment part %d", n)
	enc := strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))
	if !strings.EqualFold(enc, "binary") {
		if enc == "" {
			return Attachment{}, errs.Invalidf("", "multipart-transfer-encoding",
				"%s has no Content-Transfer-Encoding header; it must be \"binary\"", where)
		}
		return Attachment{}, errs.Invalidf("", "multipart-transfer-encoding",
			"%s has Content-Transfer-Encoding %q; it must be \"binary\" (raw octets)", where, enc)
	}
	sum := strings.TrimSpace(p.Header.Get("X-Experience-API-Hash"))
	if sum == "" {
		return Attachment{}, errs.Invalidf("", "multipart-hash",
			"%s has no X-Experience-API-Hash header; it must give the SHA-2 of the part's data, as in the attachment's sha2", where)
	}
	h := sha2For(sum)
	if h == nil {
		return Attachment{}, errs.Invalidf("", "multipart-hash",
			"%s has X-Experience-API-Hash %q, which is not a hexadecimal SHA-2 digest (SHA-256: 64 hex digits)", where, shorten(sum))
	}
	ct := strings.TrimSpace(p.Header.Get("Content-Type"))
	if ct == "" {
		ct = "application/octet-stream"
	} else if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
		return Attachment{}, errs.Invalidf("", "multipart-content-type",
			"%s has Content-Type %q, which is not an Internet media type", where, shorten(ct))
	}
	var buf bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(&buf, h), p); err != nil {
		return Attachment{}, multipartError(err, "reading %s", where)
	}
	sum = strings.ToLower(sum)
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return Attachment{}, errs.Invalidf("", "multipart-hash-mismatch",
			"the data of %s does not match its X-Experience-API-Hash %s (its hash is %s)", where, sum, got)
	}
	return Attachment{SHA2: sum, ContentType: ct, Data: buf.Bytes()}, nil
}

// sha2For returns a new hash of the SHA-2 variant a hex digest's length
// names, or nil if s is not a hex SHA-2 digest.
func sha2For(s string) hash.Hash {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return nil
		}
	}
	switch len(s) {
	case 56:
		return sha256.New224()
	case 64:
		return sha256.New()
	case 96:
		return sha512.New384()
	case 128:
		return sha512.New()
	}
	return nil
}

// shorten cuts s to at most 80 bytes for an error message.
func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// sha2Hex returns the hex SHA-2 digest of data of the variant the digest
// like names ("" if like is not a hex SHA-2 digest).
func sha2Hex(data []byte, like string) string {
	h := sha2For(like)
	if h == nil {
		return ""
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// multipartError turns an error from reading the multipart body into an
// *errs.Error: TooLarge from the size limit as it is, anything else Invalid.
func multipartError(err error, format string, args ...any) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	msg := fmt.Sprintf(format, args...)
	return &errs.Error{Kind: errs.Invalid, Rule: "multipart-syntax",
		Message: "malformed multipart/mixed body: " + msg + ": " + err.Error()}
}

// limitReader reads from r and fails with an errs.TooLarge error once more
// than left bytes are read.
type limitReader struct {
	r         io.Reader
	left, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, tooLarge(l.max)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, tooLarge(l.max)
	}
	return n, err
}

func tooLarge(max int64) error {
	return &errs.Error{Kind: errs.TooLarge, Rule: "body-size",
		Message: fmt.Sprintf("the request body is larger than the %d bytes the LRS accepts", max)}
}

// CheckAttachments checks that the attachment parts of a request (nil for an
// application/json request) and the attachments the statements declare
// agree (xAPI Communication 1.5.2, Data 2.4.11 and 2.6):
//
//   - every attachment without a fileUrl has a part whose hash is its sha2;
//   - every signature attachment (usageType SignatureUsageType) has
//     contentType application/octet-stream and a part, fileUrl or not;
//   - every part is the data of some attachment of some statement.
//
// Attachments of SubStatements count like those of statements. Hashes
// compare case-insensitively. Errors are errs.Invalid with the path of the
// attachment; in a batch of more than one statement the path starts with
// the statement's index, e.g. "[2].attachments[0].sha2".
func CheckAttachments(stmts []map[string]any, parts []Attachment) error {
	have := make(map[string]bool, len(parts))
	for _, p := range parts {
		have[strings.ToLower(p.SHA2)] = true
	}
	used := make(map[string]bool, len(parts))
	for i, s := range stmts {
		prefix := ""
		if len(stmts) > 1 {
			prefix = fmt.Sprintf("[%d].", i)
		}
		if err := checkStatementAttachments(s, prefix, true, have, used); err != nil {
			return err
		}
		if obj, ok := s["object"].(map[string]any); ok && objectTypeOf(obj) == "SubStatement" {
			if err := checkStatementAttachments(obj, prefix+"object.", false, have, used); err != nil {
				return err
			}
		}
	}
	for _, p := range parts {
		if sum := strings.ToLower(p.SHA2); !used[sum] {
			return errs.Invalidf("", "attachment-unreferenced",
				"the multipart body has a part with X-Experience-API-Hash %s that no attachment of the statements declares as its sha2", sum)
		}
	}
	return nil
}

// checkStatementAttachments checks the attachments of one statement (top
// set for a statement, unset for a SubStatement) and marks the parts they
// use.
func checkStatementAttachments(s map[string]any, prefix string, top bool, have, used map[string]bool) error {
	list, _ := s["attachments"].([]any)
	for j, e := range list {
		a, ok := e.(map[string]any)
		if !ok {
			continue
		}
		path := fmt.Sprintf("%sattachments[%d]", prefix, j)
		sum, _ := a["sha2"].(string)
		sum = strings.ToLower(sum)
		_, hasURL := a["fileUrl"]
		signature := top && a["usageType"] == SignatureUsageType
		if signature {
			ct, _ := a["contentType"].(string)
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != signatureContentType {
				return errs.Invalidf(path+".contentType", "signature-content-type",
					"a signature attachment (usageType %s) must have contentType %s, not %q", SignatureUsageType, signatureContentType, ct)
			}
		}
		if have[sum] {
			used[sum] = true
			continue
		}
		switch {
		case signature:
			return errs.Invalidf(path+".sha2", "signature-missing",
				"the signature (JWS) of this statement must be sent as a part of a multipart/mixed body with X-Experience-API-Hash %s", sum)
		case !hasURL:
			return errs.Invalidf(path+".sha2", "attachment-missing",
				"this attachment has no fileUrl, so its data must be sent as a part of a multipart/mixed body with X-Experience-API-Hash %s", sum)
		}
	}
	return nil
}

// WriteMultipart writes a multipart/mixed response of the Statements
// resource with attachments (xAPI Communication 1.5.2): the statements JSON
// (a Statement or a StatementResult) as the first part, then each attachment
// once with its Content-Type, Content-Transfer-Encoding binary and
// X-Experience-API-Hash. It returns the Content-Type of the response, with
// its boundary.
func WriteMultipart(w io.Writer, statementsJSON []byte, atts []Attachment) (contentType string, err error) {
	mw := multipart.NewWriter(w)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := pw.Write(statementsJSON); err != nil {
		return "", err
	}
	seen := make(map[string]bool, len(atts))
	for _, a := range atts {
		sum := strings.ToLower(a.SHA2)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", ct)
		h.Set("Content-Transfer-Encoding", "binary")
		h["X-Experience-API-Hash"] = []string{sum} // the spec's spelling, which some clients match exactly
		pw, err := mw.CreatePart(h)
		if err != nil {
			return "", err
		}
		if _, err := pw.Write(a.Data); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}), nil
}
