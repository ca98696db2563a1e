package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
)

// maxJWKSBytes bounds the JWK Set read from a URL or file.
const maxJWKSBytes = 1 << 20

// errVerifyFailed is the error of a pack that failed verification (exit
// status 2, like every error).
var errVerifyFailed = errors.New("evidence verify: FAILED")

const evidenceHelp = `Checks an evidence pack against the LRS's public keys and prints what the
pack covers and OK, or FAILED and why (exit status 2).`

// evidenceCmd runs `lrs evidence verify FILE [--jwks URL|FILE]`: it checks
// an evidence pack against the LRS's public keys and prints what the pack
// covers and OK, or FAILED and why.
func evidenceCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("evidence verify")
	jwksFrom := fs.envString("jwks", "LRS_JWKS", "",
		"the LRS's public keys: the `URL` of its /api/v1/jwks.json, or a saved copy")
	files, err := fs.parse(s, args, "FILE")
	if err != nil {
		return err
	}
	if *jwksFrom == "" {
		return errors.New("evidence verify: give the LRS's public keys with --jwks URL|FILE")
	}
	pack, err := os.ReadFile(files[0])
	if err != nil {
		return fmt.Errorf("evidence verify: %w", err)
	}
	raw, err := readJWKS(ctx, *jwksFrom)
	if err != nil {
		return fmt.Errorf("evidence verify: the public keys: %w", err)
	}
	keys, err := evidence.ParseJWKS(raw)
	if err != nil {
		return fmt.Errorf("evidence verify: the public keys (%s): %w", *jwksFrom, err)
	}
	p, err := evidence.Verify(pack, keys)
	if err != nil {
		fmt.Fprintf(s.stdout, "%s\nFAILED: %v\n", files[0], err)
		return errVerifyFailed
	}
	printPack(s.stdout, files[0], p)
	fmt.Fprintf(s.stdout, "OK: signed by key %s (%s) of %s; not altered since.\n", p.KeyID, p.Algorithm, *jwksFrom)
	return nil
}

// readJWKS reads a JWK Set from an http(s) URL or a file.
func readJWKS(ctx context.Context, from string) ([]byte, error) {
	if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") {
		f, err := os.Open(from)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxJWKSBytes))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", from, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}

// printPack prints what a verified pack covers.
func printPack(w io.Writer, file string, p *evidence.Pack) {
	units := "the whole organisation"
	if len(p.Units) > 0 {
		units = strings.Join(p.Units, ", ") + " (with sub-units)"
	}
	from := p.Period.From.String()
	if from == "" {
		from = "…"
	}
	fmt.Fprintf(w, "%s\n", file)
	fmt.Fprintf(w, "  issuer:     %s\n", p.Issuer)
	fmt.Fprintf(w, "  tenant:     %s\n", p.Tenant)
	fmt.Fprintf(w, "  units:      %s\n", units)
	fmt.Fprintf(w, "  period:     %s to %s (%s); state as of %s\n", from, p.Period.To, p.TimeZone, p.AsOf.Format(time.RFC3339))
	if !p.KnownAt.IsZero() {
		fmt.Fprintf(w, "  known at:   %s\n", p.KnownAt.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  generated:  %s\n", p.Generated.Format(time.RFC3339))
	inPeriod := 0
	for i := range p.Rows {
		if p.Rows[i].InPeriod {
			inPeriod++
		}
	}
	if s := p.Summary; s != nil {
		fmt.Fprintf(w, "  people:     %d\n", s.People)
		fmt.Fprintf(w, "  reminders:  %d e-mails sent within the period\n", len(p.Reminders))
		fmt.Fprintf(w, "  rows:       %d, %d compliant (%.1f %%), %d completed within the period\n",
			len(p.Rows), s.Total.Compliant, s.Total.Percent, inPeriod)
		var counts []string
		for _, st := range reporting.Statuses {
			if n := s.Total.Status[st]; n > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", st, n))
			}
		}
		if len(counts) > 0 {
			fmt.Fprintf(w, "  statuses:   %s\n", strings.Join(counts, ", "))
		}
	} else {
		fmt.Fprintf(w, "  rows:       %d, %d completed within the period\n", len(p.Rows), inPeriod)
	}
	fmt.Fprintf(w, "  evidence:   %d statements\n", p.Statements())
}
