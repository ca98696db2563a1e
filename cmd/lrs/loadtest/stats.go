package loadtest

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value such that at least p % of the
// values are at or below it. It returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Result is what one phase measured.
type Result struct {
	Phase      string  `json:"phase"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`    // wall time of the phase
	Requests   int     `json:"requests"`   // HTTP requests, or store calls for raw and fill
	Statements int     `json:"statements"` // statements written or returned
	Errors     int     `json:"errors"`
	// ErrorSamples holds the first few distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`

	StatementsPerSec float64 `json:"statements_per_sec"`
	RequestsPerSec   float64 `json:"requests_per_sec"`
	// Latencies of one request (or store call), in milliseconds.
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`

	// CPUSeconds is the CPU time this process used during the phase (with
	// the server in-process: server and clients together), and
	// CPUPerStatementUS that time per statement in microseconds. On a
	// machine shared with other work the rates drop but this cost does not,
	// so it compares runs on noisy machines.
	CPUSeconds        float64 `json:"cpu_seconds"`
	CPUPerStatementUS float64 `json:"cpu_per_statement_us"`
	// LoadAverage is the machine's 1-minute load average at the end of the
	// phase: above the number of CPUs, other work competed with the run.
	LoadAverage string `json:"load_average,omitempty"`
}

// recorder collects one worker's measurements; merge combines them. A
// recorder is used by one goroutine only.
type recorder struct {
	lat        []time.Duration
	statements int
	errors     int
	samples    []string
}

const maxErrorSamples = 5

// ok records a successful request of n statements that took d.
func (r *recorder) ok(d time.Duration, n int) {
	r.lat = append(r.lat, d)
	r.statements += n
}

// fail records a failed request.
func (r *recorder) fail(d time.Duration, err error) {
	r.lat = append(r.lat, d)
	r.errors++
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, err.Error())
	}
}

// summarize merges the recorders of a phase that ran for elapsed using cpu
// of CPU time.
func summarize(phase string, clients int, elapsed, cpu time.Duration, recs []*recorder) Result {
	res := Result{Phase: phase, Clients: clients, Seconds: elapsed.Seconds(),
		CPUSeconds: cpu.Seconds(), LoadAverage: loadAverage()}
	var all []time.Duration
	var sum time.Duration
	for _, r := range recs {
		all = append(all, r.lat...)
		res.Statements += r.statements
		res.Errors += r.errors
		for _, s := range r.samples {
			if len(res.ErrorSamples) < maxErrorSamples && !slices.Contains(res.ErrorSamples, s) {
				res.ErrorSamples = append(res.ErrorSamples, s)
			}
		}
	}
	res.Requests = len(all)
	if res.Statements > 0 {
		res.CPUPerStatementUS = float64(cpu.Microseconds()) / float64(res.Statements)
	}
	if elapsed > 0 {
		res.StatementsPerSec = float64(res.Statements) / elapsed.Seconds()
		res.RequestsPerSec = float64(res.Requests) / elapsed.Seconds()
	}
	if len(all) == 0 {
		return res
	}
	slices.Sort(all)
	for _, d := range all {
		sum += d
	}
	res.MeanMS = ms(sum / time.Duration(len(all)))
	res.P50MS = ms(Percentile(all, 50))
	res.P90MS = ms(Percentile(all, 90))
	res.P99MS = ms(Percentile(all, 99))
	res.MaxMS = ms(all[len(all)-1])
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
