package main

import (
	"context"
	"errors"
	"flag"
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

// evidenceCmd runs `lrs evidence verify FILE [--jwks URL|FILE]`: it checks
// an evidence pack against the LRS's public keys and prints what the pack
// covers and OK, or FAILED and why.
func evidenceCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("evidence: want verify FILE [--jwks URL|FILE]")
	}
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: lrs evidence verify FILE [--jwks URL|FILE]\n\n"+
			"Checks that an evidence pack is the one the LRS signed, unaltered.")
		fs.PrintDefaults()
	}
	jwksFrom := fs.String("jwks", env("LRS_JWKS", ""),
		"the LRS's public keys: the URL of its /api/v1/jwks.json, or a saved copy (env LRS_JWKS)")
	files, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New("evidence verify: give one pack file: lrs evidence verify FILE [--jwks URL|FILE]")
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
		fmt.Fprintf(stdout, "%s\nFAILED: %v\n", files[0], err)
		return errVerifyFailed
	}
	printPack(stdout, files[0], p)
	fmt.Fprintf(stdout, "OK: signed by key %s (%s) of %s; not altered since.\n", p.KeyID, p.Algorithm, *jwksFrom)
	return nil
}

// parseInterspersed parses flags given before, between and after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
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
