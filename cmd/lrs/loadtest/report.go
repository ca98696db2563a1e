package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is every figure of a run, with what is needed to compare runs:
// the machine, the Go version and the settings.
type Report struct {
	Date    string `json:"date"` // RFC 3339, when the run started
	Backend string `json:"backend"`
	Target  string `json:"target"` // the LRS driven: a URL, "in-process ..." when Run started it
	// InProcess is true when Run started the server itself: the CPU figures
	// then include the server's.
	InProcess  bool   `json:"in_process"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	CPU        string `json:"cpu,omitempty"` // the CPU model, when known

	Clients        int                `json:"clients"`
	PhaseSeconds   float64            `json:"phase_seconds"`
	Fill           int                `json:"fill"`
	FillReused     bool               `json:"fill_reused,omitempty"` // the store was filled by an earlier run
	Batch          int                `json:"batch"`
	Limit          int                `json:"limit"`
	Seed           uint64             `json:"seed"`
	Learners       int                `json:"learners"`
	Activities     int                `json:"activities"`
	XAPIVersion    string             `json:"xapi_version"`
	StatementBytes int                `json:"statement_bytes"`      // mean size of a posted statement
	RawMethod      string             `json:"raw_method,omitempty"` // the store method of the raw phase: Commit, Insert or RawInsert
	TotalSeconds   float64            `json:"total_seconds"`
	LoadAverage    string             `json:"load_average,omitempty"` // the machine's 1-minute load average before the run
	Results        []Result           `json:"results"`
	Ratios         map[string]float64 `json:"ratios"`
	Targets        []Target           `json:"targets"`
	start          time.Time
}

// Target is one goal of the issue that asked for the benchmark, checked
// against this run's figures.
type Target struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Unit string  `json:"unit"`
	Pass bool    `json:"pass"`
	// Note says when the run's conditions differ from the target's (fewer
	// statements filled, another number of clients): the verdict is then
	// only indicative.
	Note string `json:"note,omitempty"`
}

func newReport(cfg Config) *Report {
	now := time.Now()
	return &Report{
		Date:         now.UTC().Format(time.RFC3339),
		Backend:      cfg.Backend,
		GoVersion:    runtime.Version(),
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		NumCPU:       runtime.NumCPU(),
		CPU:          cpuModel(),
		Clients:      cfg.Clients,
		PhaseSeconds: cfg.Duration.Seconds(),
		Fill:         cfg.Fill,
		FillReused:   cfg.Reuse,
		Batch:        cfg.Batch,
		Limit:        cfg.Limit,
		Seed:         cfg.Seed,
		Learners:     cfg.Learners,
		Activities:   cfg.Activities,
		XAPIVersion:  string(cfg.Version),
		Ratios:       map[string]float64{},
		LoadAverage:  loadAverage(),
		start:        now,
	}
}

// Result returns the result of the phase, or nil.
func (r *Report) Result(phase string) *Result {
	for i := range r.Results {
		if r.Results[i].Phase == phase {
			return &r.Results[i]
		}
	}
	return nil
}

func (r *Report) errors() int {
	n := 0
	for _, res := range r.Results {
		n += res.Errors
	}
	return n
}

// finish computes the ratios and checks the targets.
func (r *Report) finish() {
	r.TotalSeconds = time.Since(r.start).Seconds()
	raw := r.Result(PhaseRaw)
	if raw != nil && raw.StatementsPerSec > 0 {
		for _, p := range []string{PhaseBatch, PhaseSingle, PhaseFill} {
			if res := r.Result(p); res != nil {
				r.Ratios[p+"/raw"] = res.StatementsPerSec / raw.StatementsPerSec
			}
		}
	}
	// The same ratios by CPU cost per statement, which other work on the
	// machine does not change: the raw cost over the phase's cost.
	if r.InProcess && raw != nil && raw.CPUPerStatementUS > 0 {
		for _, p := range []string{PhaseBatch, PhaseSingle} {
			if res := r.Result(p); res != nil && res.CPUPerStatementUS > 0 {
				r.Ratios[p+"/raw by cpu"] = raw.CPUPerStatementUS / res.CPUPerStatementUS
			}
		}
	}
	if s, b := r.Result(PhaseSingle), r.Result(PhaseBatch); s != nil && b != nil && b.StatementsPerSec > 0 {
		r.Ratios["single/batch"] = s.StatementsPerSec / b.StatementsPerSec
	}

	clientsNote := ""
	if r.Clients != 16 {
		clientsNote = fmt.Sprintf("measured at %d clients; the target is at 16", r.Clients)
	}
	fillNote := ""
	if r.Fill < 1_000_000 {
		fillNote = fmt.Sprintf("measured over %d statements; the target is at 1,000,000", r.Fill)
	}
	r.Targets = nil
	if ratio, ok := r.Ratios["batch/raw"]; ok {
		r.Targets = append(r.Targets, Target{Name: "batched ingest vs raw insert rate", Want: ">= 0.85",
			Got: ratio, Unit: "ratio", Pass: ratio >= 0.85})
	}
	if ratio, ok := r.Ratios["single/raw"]; ok {
		r.Targets = append(r.Targets, Target{Name: "single-statement POSTs vs raw insert rate", Want: ">= 0.45",
			Got: ratio, Unit: "ratio", Pass: ratio >= 0.45, Note: clientsNote})
	}
	if b := r.Result(PhaseBatch); b != nil {
		r.Targets = append(r.Targets, Target{Name: "batched ingest", Want: ">= 5000",
			Got: b.StatementsPerSec, Unit: "statements/s", Pass: b.StatementsPerSec >= 5000})
	}
	if s := r.Result(PhaseSingle); s != nil {
		r.Targets = append(r.Targets,
			Target{Name: "single-statement POSTs", Want: ">= 2000", Got: s.StatementsPerSec,
				Unit: "statements/s", Pass: s.StatementsPerSec >= 2000, Note: clientsNote},
			Target{Name: "single-statement POST p99", Want: "< 25", Got: s.P99MS,
				Unit: "ms", Pass: s.P99MS < 25, Note: clientsNote})
	}
	for _, p := range QueryPhases {
		if q := r.Result(p); q != nil {
			r.Targets = append(r.Targets, Target{Name: p + " p99", Want: "< 50", Got: q.P99MS,
				Unit: "ms", Pass: q.P99MS < 50, Note: fillNote})
		}
	}
}

// WriteText writes the report as tables for people.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "lrs bench, %s: backend %s, %s\n", r.Date, r.Backend, r.Target)
	cpu := ""
	if r.CPU != "" {
		cpu = ", " + r.CPU
	}
	fmt.Fprintf(bw, "%s %s/%s, GOMAXPROCS %d, %d CPUs%s\n", r.GoVersion, r.OS, r.Arch, r.GOMAXPROCS, r.NumCPU, cpu)
	filled := "filled"
	if r.FillReused {
		filled = "filled by an earlier run"
	}
	fmt.Fprintf(bw, "%d clients, %gs per phase, batches of %d, %d-byte statements, %d %s, %d learners, %d activities, query limit %d, xAPI %s\n",
		r.Clients, r.PhaseSeconds, r.Batch, r.StatementBytes, r.Fill, filled, r.Learners, r.Activities, r.Limit, r.XAPIVersion)

	fmt.Fprintf(bw, "load average before the run: %s\n", r.LoadAverage)
	if r.InProcess {
		fmt.Fprintln(bw, "cpu µs/stmt: CPU time of this process per statement, the in-process server's included (fill's includes generating the statements)")
	} else {
		fmt.Fprintln(bw, "cpu µs/stmt: CPU time of the clients only (the server runs elsewhere) per statement")
	}
	if r.RawMethod != "" {
		what := "the same rows the server writes (statements and completion facts)"
		if r.RawMethod != MethodCommit {
			what = "the same statements, without their completion facts,"
		}
		fmt.Fprintf(bw, "raw: %s written by the store's %s, without HTTP, validation and derivation\n", what, r.RawMethod)
	}
	fmt.Fprintln(bw)
	tw := tabwriter.NewWriter(bw, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tclients\trequests\tstatements\tstatements/s\trequests/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tcpu µs/stmt\tload\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.0f\t%s\t\n", res.Phase, res.Clients,
			res.Requests, res.Statements, res.StatementsPerSec, res.RequestsPerSec,
			res.P50MS, res.P90MS, res.P99MS, res.MaxMS, res.Errors, res.CPUPerStatementUS, res.LoadAverage)
	}
	tw.Flush()
	if len(r.Ratios) > 0 {
		fmt.Fprintln(bw)
		for _, k := range []string{"batch/raw", "single/raw", "fill/raw", "single/batch", "batch/raw by cpu", "single/raw by cpu"} {
			if v, ok := r.Ratios[k]; ok {
				fmt.Fprintf(bw, "%-18s %.2f\n", k, v)
			}
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(bw)
		tw = tabwriter.NewWriter(bw, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "target (issue)\twant\tgot\t\t")
		for _, t := range r.Targets {
			verdict := "MISSED"
			if t.Pass {
				verdict = "met"
			}
			if t.Note != "" {
				verdict += " (" + t.Note + ")"
			}
			fmt.Fprintf(tw, "%s\t%s %s\t%.2f\t%s\n", t.Name, t.Want, t.Unit, t.Got, verdict)
		}
		tw.Flush()
	}
	for _, res := range r.Results {
		for _, s := range res.ErrorSamples {
			fmt.Fprintf(bw, "%s error: %s\n", res.Phase, s)
		}
	}
	return bw.Flush()
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// cpuModel returns the CPU model name on Linux, or "".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
