package lrs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
)

// A "more" link is /xapi/statements?more=<token>. The token carries the
// whole query (filters, limit, order, format, attachments) and the store's
// cursor, as base64url JSON followed by a truncated HMAC-SHA256 that stops
// clients from forging cursors. The tenant and the read/mine restriction are
// not in it: they come from the credential of each request.

const macLen = 16

func (s *Server) encodeMore(q stmtQuery) string {
	payload, _ := json.Marshal(q) // a struct of strings, bools, ints and times
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.mac(payload))
}

func (s *Server) decodeMore(token string) (stmtQuery, error) {
	var q stmtQuery
	bad := errs.Invalidf("more", "more-token",
		"the more token is not one this LRS issued; follow the more link of a StatementResult as it is")
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return q, bad
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(payload)) {
		return q, bad
	}
	if err := json.Unmarshal(payload, &q); err != nil {
		return q, bad
	}
	return q, nil
}

func (s *Server) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, s.cfg.CursorKey)
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}
