package loadtest

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// 1..100 ms: the p-th percentile by nearest rank is p ms.
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
		{ms(hundred...), 0.1, 1 * time.Millisecond},
		// Five values: the 50th percentile is the 3rd (ceil(2.5)), the 99th the 5th.
		{ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{ms(1, 2, 3, 4, 5), 99, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5), 40, 2 * time.Millisecond},
		// One slow request in 1000 shows in p99.9 but not p99.
		{append(ms(make([]int, 999)...), time.Second), 99, 0},
		{append(ms(make([]int, 999)...), time.Second), 99.95, time.Second},
	}
	for _, c := range cases {
		if got := Percentile(c.data, c.p); got != c.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(c.data), c.p, got, c.want)
		}
	}
}

// summarize merges workers' recordings: the counts add up, the percentiles
// are those of all latencies together, and the rates divide by wall time.
func TestSummarize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	recs := []*recorder{{}, {}, {}}
	wantStatements := 0
	for i := range 3000 {
		d := time.Duration(r.IntN(1000)) * time.Microsecond
		all = append(all, d)
		w := recs[i%3]
		if i%500 == 0 {
			w.fail(d, errors.New("boom"))
			continue
		}
		w.ok(d, 100)
		wantStatements += 100
	}
	slices.Sort(all)
	res := summarize("batch", 3, 2*time.Second, 3*time.Second, recs)
	if res.Requests != 3000 || res.Errors != 6 || res.Statements != wantStatements {
		t.Fatalf("requests %d errors %d statements %d", res.Requests, res.Errors, res.Statements)
	}
	if res.StatementsPerSec != float64(wantStatements)/2 || res.RequestsPerSec != 1500 {
		t.Fatalf("rates %v %v", res.StatementsPerSec, res.RequestsPerSec)
	}
	if res.CPUSeconds != 3 || res.CPUPerStatementUS != 3e6/float64(wantStatements) {
		t.Fatalf("CPU %v s, %v µs per statement", res.CPUSeconds, res.CPUPerStatementUS)
	}
	if res.P50MS != ms(Percentile(all, 50)) || res.P99MS != ms(Percentile(all, 99)) || res.MaxMS != ms(all[len(all)-1]) {
		t.Fatalf("percentiles %v %v %v", res.P50MS, res.P99MS, res.MaxMS)
	}
	if !(res.P50MS <= res.P90MS && res.P90MS <= res.P99MS && res.P99MS <= res.MaxMS) {
		t.Fatalf("percentiles out of order: %+v", res)
	}
	if len(res.ErrorSamples) != 1 || res.ErrorSamples[0] != "boom" {
		t.Fatalf("error samples %q, want one distinct", res.ErrorSamples)
	}
}

// Ratios and target verdicts follow from the results.
func TestReportTargets(t *testing.T) {
	rep := &Report{Clients: 16, Fill: 1_000_000, Ratios: map[string]float64{}, start: time.Now()}
	rep.Results = []Result{
		{Phase: PhaseRaw, StatementsPerSec: 10000},
		{Phase: PhaseSingle, StatementsPerSec: 2500, P99MS: 60},
		{Phase: PhaseBatch, StatementsPerSec: 6000},
		{Phase: PhaseQueryAgent, P99MS: 20},
		{Phase: PhaseQueryActivity, P99MS: 120},
	}
	rep.finish()
	if rep.Ratios["batch/raw"] != 0.6 || rep.Ratios["single/raw"] != 0.25 {
		t.Fatalf("ratios %v", rep.Ratios)
	}
	want := map[string]bool{
		"batched ingest vs raw insert rate":         false, // 0.6 < 0.85
		"single-statement POSTs vs raw insert rate": false, // 0.25 < 0.45
		"batched ingest":                            true,
		"single-statement POSTs":                    true,
		"single-statement POST p99":                 false,
		"query-agent p99":                           true,
		"query-activity p99":                        false,
	}
	if len(rep.Targets) != len(want) {
		t.Fatalf("%d targets, want %d: %+v", len(rep.Targets), len(want), rep.Targets)
	}
	for _, tg := range rep.Targets {
		if tg.Pass != want[tg.Name] || tg.Note != "" {
			t.Errorf("target %q: pass %v note %q, want pass %v", tg.Name, tg.Pass, tg.Note, want[tg.Name])
		}
	}
	rep.Fill, rep.Clients = 5000, 4
	rep.finish()
	for _, tg := range rep.Targets {
		if (tg.Name == "query-agent p99" || tg.Name == "single-statement POSTs") && tg.Note == "" {
			t.Errorf("target %q measured off its conditions carries no note", tg.Name)
		}
	}
}
