package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the Statements resource of an LRS with Basic auth. It is safe
// for concurrent use.
type Client struct {
	base    string // ends in "/", e.g. "http://127.0.0.1:8080/xapi/"
	key     string
	secret  string
	version string // the X-Experience-API-Version header
	http    *http.Client
}

// NewClient returns a client of the xAPI endpoint base (e.g.
// "http://127.0.0.1:8080/xapi/") that keeps up to conns connections open, so
// that that many concurrent callers never wait for a connection.
func NewClient(base, key, secret, version string, conns int) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad LRS URL %q: want http(s)://host[:port]/path/", base)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	tr := &http.Transport{
		Proxy:               nil, // a benchmark must not go through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &Client{base: base, key: key, secret: secret, version: version,
		http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

// Close closes idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// httpError is a response with an unexpected status.
type httpError struct {
	method string
	status int
	body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s statements: HTTP %d: %s", e.method, e.status, e.body)
}

func (c *Client) do(ctx context.Context, method, rawQuery string, body []byte) ([]byte, error) {
	u := c.base + "statements"
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return c.doURL(ctx, method, u, body)
}

func (c *Client) doURL(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set("X-Experience-API-Version", c.version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s statements: reading the response: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := string(b)
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, &httpError{method: method, status: resp.StatusCode, body: msg}
	}
	return b, nil
}

// Post posts body (a statement or an array of want statements) and checks
// that the LRS answered 200 with want statement ids.
func (c *Client) Post(ctx context.Context, body []byte, want int) error {
	b, err := c.do(ctx, http.MethodPost, "", body)
	if err != nil {
		return err
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("POST statements: the response is not an array of ids: %v", err)
	}
	if len(ids) != want {
		return fmt.Errorf("POST statements: %d ids returned for %d statements", len(ids), want)
	}
	return nil
}

// Query gets one page of statements matching the filters q and returns the
// statements, each as raw JSON.
func (c *Client) Query(ctx context.Context, q url.Values) ([][]byte, error) {
	stmts, _, err := c.Page(ctx, q.Encode())
	return stmts, err
}

// Page gets one page of statements: of the query rawQuery, or, when it
// starts with "/", of that "more" path of an earlier page. It returns the
// statements, each as raw JSON, and the page's "more" ("" at the end).
func (c *Client) Page(ctx context.Context, rawQuery string) ([][]byte, string, error) {
	var b []byte
	var err error
	if strings.HasPrefix(rawQuery, "/") {
		u, perr := url.Parse(c.base)
		if perr != nil {
			return nil, "", perr
		}
		b, err = c.doURL(ctx, http.MethodGet, u.Scheme+"://"+u.Host+rawQuery, nil)
	} else {
		b, err = c.do(ctx, http.MethodGet, rawQuery, nil)
	}
	if err != nil {
		return nil, "", err
	}
	stmts, more, err := splitResult(b)
	if err != nil {
		return nil, "", fmt.Errorf("GET statements: the response is not a StatementResult: %v", err)
	}
	return stmts, more, nil
}

// splitResult returns the members of the "statements" array of a
// StatementResult, each a JSON object, and its "more", which it checks is
// there. It scans the bytes once, tracking only strings and nesting, and
// builds nothing: decoding a page of 100 statements with encoding/json costs
// the client more CPU than the server spends producing it, and on a small
// machine that CPU is taken from the server under test.
func splitResult(b []byte) ([][]byte, string, error) {
	var (
		more       string
		inMore     bool // the value of "more" is next
		stmts      [][]byte
		depth      int
		inStmts    bool // inside the statements array
		sawStmts   bool
		sawMore    bool
		elemStart  = -1
		keyStart   = -1
		lastString []byte
	)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			start := i + 1
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return nil, "", errors.New("unterminated string")
			}
			if depth == 1 {
				if inMore {
					more, inMore = string(b[start:i]), false
					if strings.Contains(more, `\`) {
						more = "" // an escaped path: not from this LRS
					}
					continue
				}
				keyStart = start
				lastString = b[start:i]
			}
			if inStmts && depth == 2 {
				return nil, "", errors.New("a member of statements is not an object")
			}
		case ':':
			if depth == 1 && keyStart >= 0 {
				switch string(lastString) {
				case "statements":
					sawStmts = true
					j := i + 1
					for j < len(b) && (b[j] == ' ' || b[j] == '\n' || b[j] == '\t' || b[j] == '\r') {
						j++
					}
					if j >= len(b) || b[j] != '[' {
						return nil, "", errors.New(`"statements" is not an array`)
					}
					inStmts = true
				case "more":
					sawMore, inMore = true, true
				}
				keyStart = -1
			}
		case '{', '[':
			depth++
			if inStmts && depth == 3 {
				if c != '{' {
					return nil, "", errors.New("a member of statements is not an object")
				}
				elemStart = i
			}
		case '}', ']':
			depth--
			if depth < 0 {
				return nil, "", errors.New("unbalanced brackets")
			}
			if inStmts && depth == 2 && c == '}' {
				stmts = append(stmts, b[elemStart:i+1])
			}
			if inStmts && depth == 1 {
				inStmts = false
			}
		case ' ', '\n', '\t', '\r', ',':
		default:
			if depth == 2 && inStmts {
				return nil, "", errors.New("a member of statements is not an object")
			}
		}
	}
	switch {
	case depth != 0:
		return nil, "", errors.New("unbalanced brackets")
	case !sawStmts:
		return nil, "", errors.New(`no "statements"`)
	case !sawMore:
		return nil, "", errors.New(`no "more"`)
	}
	return stmts, more, nil
}
