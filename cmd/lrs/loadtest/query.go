package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// Phase names of the query phase's parts.
const (
	PhaseFill          = "fill"
	PhaseQueryAgent    = "query-agent"    // agent=
	PhaseQueryActivity = "query-activity" // activity=
	PhaseQueryRelated  = "query-related"  // activity= a module, related_activities=true
	PhaseQueryVerb     = "query-verb"     // verb= and since= a filled statement's stored
	PhaseQueryMore     = "query-more"     // activity=, then "more" links MoreDepth pages deep
)

// QueryPhases are the query phase's parts that query, in order.
var QueryPhases = []string{PhaseQueryAgent, PhaseQueryActivity, PhaseQueryRelated, PhaseQueryVerb, PhaseQueryMore}

// fillChunk is how many statements one store call of the fill writes.
const fillChunk = 1000

// query fills the store with generated statements FillFrom..Fill-1, then
// queries it as the QueryPhases say, about random filled statements: each
// answer must be a 200 with at least one statement, every one of which
// names what was asked for. query-more times each page it follows.
func (b *bench) query(ctx context.Context, _ [][]byte, _ []*statements.Record) error {
	var err error
	switch {
	case b.cfg.FillFrom >= b.cfg.Fill:
		fmt.Fprintf(b.cfg.Log, "fill: skipped, reusing the %d statements of an earlier run\n", b.cfg.Fill)
	case b.cfg.URL == "":
		err = b.fillStore(ctx)
	default:
		err = b.fillHTTP(ctx)
	}
	if err != nil {
		return err
	}
	limit := strconv.Itoa(b.cfg.Limit)
	span, err := b.storedSpan(ctx)
	if err != nil {
		return err
	}
	for _, phase := range QueryPhases {
		elapsed, cpu, recs := runFor(ctx, b.cfg.Clients, b.cfg.Duration, func(ctx context.Context, i int, r *recorder) bool {
			k := mix64(b.cfg.Seed^uint64(i)^0x7175657279) % uint64(b.cfg.Fill)
			var q url.Values
			var what, needle string
			switch phase {
			case PhaseQueryAgent:
				what = b.gen.AgentFilter(k)
				q = url.Values{"agent": {what}, "limit": {limit}}
				needle = b.gen.agentNeedle(k)
			case PhaseQueryActivity, PhaseQueryMore:
				what = b.gen.ActivityID(k)
				q = url.Values{"activity": {what}, "limit": {limit}}
				needle = strconv.Quote(what)
			case PhaseQueryRelated:
				what = b.gen.ModuleID(k)
				q = url.Values{"activity": {what}, "related_activities": {"true"}, "limit": {limit}}
				needle = strconv.Quote(what)
			case PhaseQueryVerb:
				what = b.gen.VerbID(k)
				q = url.Values{"verb": {what}, "since": {span.at(k)}, "limit": {limit}}
				needle = strconv.Quote(what)
			}
			pages := 1
			if phase == PhaseQueryMore {
				pages = b.cfg.MoreDepth
			}
			next := q.Encode()
			for page := 0; page < pages && next != "" && ctx.Err() == nil; page++ {
				t0 := time.Now()
				stmts, more, err := b.client.Page(ctx, next)
				d := time.Since(t0)
				// Later pages, and since near the end, may be empty.
				if err == nil && ((page == 0 && phase != PhaseQueryVerb) || len(stmts) > 0) {
					err = checkPage(stmts, needle)
				}
				if err != nil {
					if ctx.Err() == nil {
						r.fail(d, fmt.Errorf("%s %s page %d: %w", phase, what, page+1, err))
					}
					return true
				}
				r.ok(d, len(stmts))
				next = more
			}
			return true
		})
		b.add(summarize(phase, b.cfg.Clients, elapsed, cpu, recs))
	}
	return nil
}

// storedSpan is the span of "stored" of the statements in the store.
type storedSpan struct{ first, last time.Time }

// storedSpan reads the stored of the oldest and of the newest statement.
func (b *bench) storedSpan(ctx context.Context) (storedSpan, error) {
	var sp storedSpan
	for _, x := range []struct {
		asc string
		dst *time.Time
	}{{"true", &sp.first}, {"false", &sp.last}} {
		stmts, err := b.client.Query(ctx, url.Values{"limit": {"1"}, "ascending": {x.asc}})
		if err == nil && len(stmts) != 1 {
			err = errors.New("no statements")
		}
		var st struct {
			Stored time.Time `json:"stored"`
		}
		if err == nil {
			err = json.Unmarshal(stmts[0], &st)
		}
		if err != nil {
			return sp, fmt.Errorf("reading the span of the stored statements: %w", err)
		}
		*x.dst = st.Stored
	}
	return sp, nil
}

// at returns a time in the span, in RFC 3339, chosen by k.
func (sp storedSpan) at(k uint64) string {
	d := sp.last.Sub(sp.first)
	t := sp.first
	if d > 0 {
		t = t.Add(time.Duration(mix64(k) % uint64(d)))
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// checkPage checks that a page of a query for a stored statement's agent or
// activity is not empty and that each statement contains needle.
func checkPage(stmts [][]byte, needle string) error {
	if len(stmts) == 0 {
		return errors.New("no statements, though a matching one was stored")
	}
	for i, s := range stmts {
		if !bytes.Contains(s, []byte(needle)) {
			return fmt.Errorf("statement %d of the page does not contain %s", i, needle)
		}
	}
	return nil
}

// agentNeedle returns the JSON string of the identifier of the actor of
// statement n (account name or mbox), which every statement matching
// AgentFilter(n) contains.
func (g *Generator) agentNeedle(n uint64) string {
	a := g.Agent(n)
	if acc, ok := a["account"].(map[string]any); ok {
		return strconv.Quote(acc["name"].(string))
	}
	return strconv.Quote(a["mbox"].(string))
}

// fillStore writes statements FillFrom..Fill-1 straight into the server's store in
// calls of fillChunk records: generated and completed on every CPU, inserted
// from two goroutines.
func (b *bench) fillStore(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	chunks := (b.cfg.Fill - b.cfg.FillFrom + fillChunk - 1) / fillChunk
	work := make(chan []*statements.Record, 4)
	var next atomic.Int64
	var produced sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		produced.Go(func() {
			for c := int(next.Add(1) - 1); c < chunks && ctx.Err() == nil; c = int(next.Add(1) - 1) {
				lo, hi := b.cfg.FillFrom+c*fillChunk, min(b.cfg.FillFrom+(c+1)*fillChunk, b.cfg.Fill)
				recs := make([]*statements.Record, 0, hi-lo)
				now := time.Now()
				for n := lo; n < hi; n++ {
					recs = append(recs, b.writer.record(b.gen.Statement(uint64(n)), now))
				}
				select {
				case work <- recs:
				case <-ctx.Done():
				}
			}
		})
	}
	go func() { produced.Wait(); close(work) }()

	const inserters = 2
	recorders := make([]*recorder, inserters)
	var done atomic.Int64
	var inserted sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for w := range inserters {
		r := &recorder{}
		recorders[w] = r
		inserted.Go(func() {
			for recs := range work {
				t0 := time.Now()
				if err := b.cfg.Store.Insert(ctx, recs, nil); err != nil {
					r.fail(time.Since(t0), err)
					cancel(err)
					continue
				}
				r.ok(time.Since(t0), len(recs))
				b.progress("fill", done.Add(int64(len(recs))), len(recs), start)
			}
		})
	}
	inserted.Wait()
	res := summarize(PhaseFill, inserters, time.Since(start), cpuTime()-cpu0, recorders)
	b.add(res)
	if err := context.Cause(ctx); err != nil && res.Errors > 0 {
		return fmt.Errorf("filling the store: %w", err)
	}
	return ctx.Err()
}

// fillHTTP posts statements FillFrom..Fill-1 to the server in batches of
// Batch from Clients goroutines.
func (b *bench) fillHTTP(ctx context.Context) error {
	chunks := (b.cfg.Fill - b.cfg.FillFrom + b.cfg.Batch - 1) / b.cfg.Batch
	var next atomic.Int64
	var done atomic.Int64
	start := time.Now()
	elapsed, cpu, recs := runFor(ctx, b.cfg.Clients, 24*time.Hour, func(ctx context.Context, _ int, r *recorder) bool {
		c := int(next.Add(1) - 1)
		if c >= chunks {
			return false
		}
		lo, hi := b.cfg.FillFrom+c*b.cfg.Batch, min(b.cfg.FillFrom+(c+1)*b.cfg.Batch, b.cfg.Fill)
		var buf bytes.Buffer
		buf.WriteByte('[')
		for n := lo; n < hi; n++ {
			if n > lo {
				buf.WriteByte(',')
			}
			buf.Write(b.gen.JSON(uint64(n)))
		}
		buf.WriteByte(']')
		t0 := time.Now()
		if err := b.client.Post(ctx, buf.Bytes(), hi-lo); err != nil {
			r.fail(time.Since(t0), err)
			return true
		}
		r.ok(time.Since(t0), hi-lo)
		b.progress("fill", done.Add(int64(hi-lo)), hi-lo, start)
		return true
	})
	res := summarize(PhaseFill, b.cfg.Clients, elapsed, cpu, recs)
	b.add(res)
	if res.Errors > 0 {
		return fmt.Errorf("%d fill requests failed, e.g. %s", res.Errors, res.ErrorSamples[0])
	}
	return ctx.Err()
}

// progress logs a fill's progress each time n, just increased by delta,
// passes a tenth of it.
func (b *bench) progress(what string, n int64, delta int, start time.Time) {
	total := int64(b.cfg.Fill - b.cfg.FillFrom)
	step := max(total/10, 1)
	prev := n - int64(delta)
	if n/step != prev/step || n == total {
		fmt.Fprintf(b.cfg.Log, "%s: %d of %d statements (to %d in all), %.0f/s\n", what, n, total, b.cfg.Fill,
			float64(n)/time.Since(start).Seconds())
	}
}
