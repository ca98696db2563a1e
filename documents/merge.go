package documents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// NewDocument returns the document k with content of Content-Type ct,
// its ETag computed and updated (UTC, to the millisecond) as its time.
func NewDocument(k Key, ct string, content []byte, updated time.Time) *Document {
	return &Document{
		Key:         k,
		ContentType: ct,
		Content:     content,
		ETag:        ComputeETag(content),
		Updated:     updated.UTC().Truncate(time.Millisecond),
	}
}

// IsJSON reports whether a Content-Type is application/json (any parameters).
func IsJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// MaxMergeAttempts bounds the read-merge-write rounds of one Merge.
const MaxMergeAttempts = 100

// Merge merges patch, a JSON object, into the stored JSON object document
// k (its top-level properties replace those of the same name), or stores
// patch as the document when there is none, if cond holds (else an
// errs.PreconditionFailed error); now is the clock of the document's
// Updated time. A stored document that is not a JSON object cannot be
// merged (errs.Invalid).
//
// It reads, merges and writes if the document is unchanged, and tries
// again when another write came between the read and the write. Each round
// one of the competing writers wins, so n concurrent merges need at most n
// attempts; past MaxMergeAttempts it gives up with errs.Unavailable.
func Merge(ctx context.Context, s Store, k Key, patch []byte, cond Condition, now func() time.Time) error {
	add, err := jsonObject(patch)
	if err != nil {
		return errs.Invalidf("", "document-merge-object", "POST merges JSON objects, and the body is not one: %v", err)
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.Document(ctx, k)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err != nil {
			cur = nil
		}
		if !cond.Holds(cur) {
			return errs.E(errs.PreconditionFailed, "")
		}
		content, wcond := patch, Condition{IfNoneMatch: []string{"*"}}
		if cur != nil {
			if !IsJSON(cur.ContentType) {
				return errs.Invalidf("", "document-merge-type",
					"the stored document has Content-Type %s, not application/json, so it cannot be merged; replace it with PUT", cur.ContentType)
			}
			old, err := jsonObject(cur.Content)
			if err != nil {
				return errs.Invalidf("", "document-merge-object",
					"the stored document is not a JSON object, so it cannot be merged; replace it with PUT")
			}
			for name, v := range add {
				old[name] = v
			}
			if content, err = encodeObject(old); err != nil {
				return errs.Wrap(err, "encoding a merged document")
			}
			wcond = Condition{IfMatch: []string{cur.ETag}}
		}
		err = s.PutDocument(ctx, NewDocument(k, "application/json", content, now()), wcond)
		if errs.Is(err, errs.PreconditionFailed) {
			// The precondition that failed is the merge's own, not the
			// caller's (checked above): never a PreconditionFailed.
			if attempt < MaxMergeAttempts && ctx.Err() == nil {
				continue
			}
			return errs.E(errs.Unavailable, "the document changed %d times while this merge was under way; retry the request", attempt+1)
		}
		return err
	}
}

// jsonObject parses a JSON object, keeping each value's bytes as they came.
func jsonObject(b []byte) (map[string]json.RawMessage, error) {
	t := bytes.TrimLeft(b, " \t\r\n") // JSON's whitespace, not Unicode's
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// encodeObject encodes a merged object, without escaping HTML characters.
func encodeObject(m map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
