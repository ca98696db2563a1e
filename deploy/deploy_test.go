// Package deploy holds the deployment files of the LRS (container image,
// compose file, Kubernetes manifests, Prometheus rules, Grafana dashboard)
// and the tests that check them where no container engine or cluster runs:
// every YAML and JSON file parses; the Dockerfile's build stage runs here
// with the same commands and yields a static binary; the dashboard and the
// alert rules read only metrics that this binary exports after real
// traffic; the compose file hangs together; the Kubernetes manifests pass
// kubeconform against the schemas of the Kubernetes API; the replicas of
// every deployment share their signing keys; .ci/run runs the README's
// test command.
package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// root is the repository root (tests run in deploy/).
const root = ".."

// TestFilesParse parses every YAML and JSON file under deploy/ (YAML
// strictly: a duplicated key is an error).
func TestFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml":
			n++
			dec := yaml.NewDecoder(bytes.NewReader(b))
			for {
				var v any
				if err := dec.Decode(&v); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Errorf("%s: %v", path, err)
					break
				}
			}
		case ".json":
			n++
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 12 {
		t.Errorf("only %d YAML and JSON files found", n)
	}
}

// readYAML decodes one YAML document into v.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// dockerfile is the parsed deploy/Dockerfile: its instructions by stage.
type dockerfile struct {
	stages []stage
}

type stage struct {
	from, name string
	instrs     [][2]string // instruction, arguments
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var df dockerfile
	var line string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			line += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		line += l
		instr, args, _ := strings.Cut(line, " ")
		line = ""
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			f := strings.Fields(args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			df.stages = append(df.stages, st)
			continue
		}
		if len(df.stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", instr)
		}
		s := &df.stages[len(df.stages)-1]
		s.instrs = append(s.instrs, [2]string{instr, strings.TrimSpace(args)})
	}
	return df
}

// TestMain removes the build output the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// builtImage runs the RUN commands of the Dockerfile's build stage, as
// written, in the repository root, with the stage's ARG and ENV values,
// except that OUT (the stage's output directory, /out in the image) is a
// temporary directory. It returns that directory.
func builtImage(t *testing.T) string {
	t.Helper()
	df := parseDockerfile(t)
	buildOnce.Do(func() {
		// go test caches a passing result until a file the test opened
		// changes; stat the sources so that a change to them reruns the
		// build.
		buildErr = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".go") || strings.HasPrefix(d.Name(), "go.")) {
				_, err = os.Stat(p)
			}
			if err == nil && d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return err
		})
		if buildErr != nil {
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "lrs-image-")
		if buildErr != nil {
			return
		}
		build := df.stages[0]
		env := os.Environ()
		for _, in := range build.instrs {
			switch in[0] {
			case "ARG", "ENV":
				for _, kv := range strings.Fields(in[1]) {
					k, v, _ := strings.Cut(kv, "=")
					switch k {
					case "OUT":
						v = buildDir
					case "VERSION":
						v = "deploytest"
					}
					env = append(env, k+"="+v)
				}
			case "RUN":
				cmd := exec.Command("sh", "-c", in[1])
				cmd.Dir = root
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					buildErr = fmt.Errorf("RUN %s: %v\n%s", in[1], err, out)
					return
				}
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// TestDockerfile checks the image's shape (an empty base, a non-root user,
// the binary as entry point) and runs its build stage: the binary it ships
// must be static and must run.
func TestDockerfile(t *testing.T) {
	df := parseDockerfile(t)
	if len(df.stages) != 2 || df.stages[0].name != "build" {
		t.Fatalf("want two stages, build and the image; got %+v", df.stages)
	}
	if !strings.HasPrefix(df.stages[0].from, "golang:") {
		t.Errorf("build stage from %s, want an official Go image", df.stages[0].from)
	}
	final := df.stages[1]
	if final.from != "scratch" && !strings.Contains(final.from, "distroless/static") {
		t.Errorf("image from %s, want scratch or distroless/static", final.from)
	}
	var user, entry string
	var copies []string
	for _, in := range final.instrs {
		switch in[0] {
		case "USER":
			user = in[1]
		case "ENTRYPOINT":
			entry = in[1]
		case "COPY":
			copies = append(copies, in[1])
		case "RUN":
			t.Errorf("the image stage runs %q: an empty base has no shell", in[1])
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: the image must run as a non-root user", user)
	}
	if entry != `["/lrs"]` {
		t.Errorf("ENTRYPOINT %s, want [\"/lrs\"]", entry)
	}

	out := builtImage(t)
	// Everything the image copies from the build stage was built.
	for _, c := range copies {
		f := strings.Fields(c)
		if !strings.HasPrefix(f[0], "--from=build") {
			continue
		}
		src := f[len(f)-2]
		if !strings.HasPrefix(src, "/out/") {
			t.Errorf("COPY %s: not from the build output /out", c)
			continue
		}
		if _, err := os.Stat(filepath.Join(out, strings.TrimPrefix(src, "/out/"))); err != nil {
			t.Errorf("COPY %s: the build stage did not make it: %v", c, err)
		}
	}
	bin := filepath.Join(out, "lrs")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked: it cannot run on an empty base image", bin)
		}
	}
	v, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(v)) != "lrs deploytest" {
		t.Errorf("lrs version: %q %v", v, err)
	}
}

// exported starts the binary the Dockerfile builds, sends it traffic of
// every kind it serves, and returns the metric names and label names of
// its /metrics (a histogram's _bucket, _sum and _count included).
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	bin := filepath.Join(builtImage(t), "lrs")
	db := filepath.Join(t.TempDir(), "lrs.db")
	secret := "deploy-test-secret-0123456789"
	if out, err := exec.Command(bin, "credentials", "create", "--db", db, "--name", "deploy-test",
		"--key", "deploytest", "--secret", secret).CombinedOutput(); err != nil {
		t.Fatalf("credentials create: %v\n%s", err, out)
	}
	base, _ := serveBinary(t, bin, nil, "--db", db)

	do := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth("deploytest", secret)
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, want)
		}
	}
	stmt := `{"actor":{"mbox":"mailto:kari@kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/1"}}`
	do("POST", "/xapi/statements", "["+stmt+","+stmt+"]", 200)
	do("POST", "/xapi/statements", `{"actor":{"mbox":"kari@kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/1"}}`, 400)
	do("GET", "/xapi/statements?verb=http://adlnet.gov/expapi/verbs/completed", "", 200)
	state := "/xapi/activities/state?activityId=https://kins.example/modul/1&agent=" +
		`%7B%22mbox%22%3A%22mailto%3Akari%40kommune.no%22%7D&stateId=progress`
	do("PUT", state, `{"page":2}`, 204)
	do("GET", state, "", 200)
	do("GET", "/readyz", "", 200)

	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	names := map[string]map[string]bool{}
	for name, f := range fams {
		labels := map[string]bool{}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				labels[l.GetName()] = true
			}
		}
		names[name] = labels
		if f.GetType().String() == "HISTOGRAM" {
			bucket := map[string]bool{"le": true}
			for l := range labels {
				bucket[l] = true
			}
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = bucket, labels, labels
		}
	}
	return names
}

// serveBinary starts bin serve with args on a free port and the extra
// environment env, and returns its base URL and a function returning its
// log so far. The process is killed when the test ends.
func serveBinary(t *testing.T, bin string, env []string, args ...string) (base string, log func() string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var mu sync.Mutex
	var logs strings.Builder
	log = func() string { mu.Lock(); defer mu.Unlock(); return logs.String() }
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.Write(append(sc.Bytes(), '\n'))
			mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				addr <- l.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a, log
	case <-time.After(30 * time.Second):
		t.Fatalf("lrs serve did not start; log:\n%s", log())
	}
	return "", nil
}

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = map[string]bool{"job": true, "instance": true, "__name__": true}

// checkExpr fails if expr reads a metric or a label the binary does not
// export. up is made by Prometheus for every target.
func checkExpr(t *testing.T, where, expr string, names map[string]map[string]bool) {
	t.Helper()
	sels, err := selectors(expr)
	if err != nil {
		t.Errorf("%s: %v in %s", where, err, expr)
		return
	}
	if len(sels) == 0 {
		t.Errorf("%s: reads no metric: %s", where, expr)
	}
	for _, s := range sels {
		if s.metric == "up" {
			continue
		}
		labels, ok := names[s.metric]
		if !ok {
			t.Errorf("%s: metric %q is not exported by lrs serve", where, s.metric)
			continue
		}
		for _, l := range s.labels {
			if !labels[l] && !targetLabels[l] {
				t.Errorf("%s: metric %s has no label %q", where, s.metric, l)
			}
		}
	}
}

var labelValues = regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`)

// TestDashboardAndAlertsReadExportedMetrics checks every query of the
// Grafana dashboard and every alert rule against a real scrape.
func TestDashboardAndAlertsReadExportedMetrics(t *testing.T) {
	names := exported(t)
	for _, want := range []string{"lrs_http_requests_total", "lrs_http_request_duration_seconds_bucket",
		"lrs_statements_accepted_total", "lrs_statements_rejected_total", "lrs_statement_batch_size_bucket",
		"lrs_storage_operation_duration_seconds_bucket", "lrs_storage_errors_total",
		"lrs_document_request_duration_seconds_bucket", "lrs_report_request_duration_seconds_bucket",
		"lrs_build_info", "lrs_ready", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := names[want]; !ok {
			t.Errorf("lrs serve does not export %s", want)
		}
	}

	// The dashboard.
	var dash struct {
		UID        string
		Templating struct {
			List []struct {
				Name       string
				Definition string
			}
		}
		Panels []panel
	}
	b, err := os.ReadFile("grafana/dashboards/lrs.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid")
	}
	var ds struct {
		Datasources []struct{ UID string }
	}
	readYAML(t, "grafana/provisioning/datasources/prometheus.yaml", &ds)
	for _, v := range dash.Templating.List {
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, v.Definition)
			continue
		}
		checkExpr(t, "variable "+v.Name, m[1]+"{"+m[2]+`=""}`, names)
	}
	queries := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			if len(ds.Datasources) == 0 || p.Datasource.UID != ds.Datasources[0].UID {
				t.Errorf("panel %q uses data source %q, not the provisioned one", p.Title, p.Datasource.UID)
			}
			for _, q := range p.Targets {
				queries++
				checkExpr(t, "panel "+p.Title, q.Expr, names)
			}
		}
	}
	walk(dash.Panels)
	if queries < 20 {
		t.Errorf("the dashboard has only %d queries", queries)
	}

	// The alert rules.
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	readYAML(t, "prometheus/alerts.yml", &rules)
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || alerts[r.Alert] {
				t.Errorf("group %s: alert name %q missing or repeated", g.Name, r.Alert)
			}
			alerts[r.Alert] = true
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
			}
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("alert %s: severity %q", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: summary and description are needed", r.Alert)
			}
			checkExpr(t, "alert "+r.Alert, r.Expr, names)
		}
	}
	// The issue asks for alerts on error rate, latency, storage errors and
	// readiness.
	for _, a := range []string{"LRSHighErrorRate", "LRSStatementWriteLatencyHigh", "LRSStorageErrors", "LRSNotReady", "LRSDown"} {
		if !alerts[a] {
			t.Errorf("no alert %s", a)
		}
	}
}

// panel is a Grafana panel (rows hold panels too).
type panel struct {
	Type       string
	Title      string
	Datasource struct{ UID string }
	Targets    []struct{ Expr string }
	Panels     []panel
}

// composeService is what the tests read of a service of compose.yaml.
type composeService struct {
	Image       string
	Build       struct{ Context, Dockerfile string }
	Command     []string
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	Environment map[string]string
	Volumes     []string
	Ports       []string
}

type composeFile struct {
	Services map[string]composeService
	Volumes  map[string]any
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	readYAML(t, "compose.yaml", &c)
	return c
}

// composeKeygen checks that the lrs service of the compose file reads its
// token keys from a file (LRS_TOKEN_KEYS) in a named volume, which a
// service it waits for makes, once, with lrs tokens keygen --if-missing:
// so that its tokens survive a restart and its evidence packs stay
// verifiable. It returns that service's command.
func composeKeygen(c composeFile) ([]string, error) {
	lrs := c.Services["lrs"]
	path := lrs.Environment["LRS_TOKEN_KEYS"]
	if path == "" {
		return nil, errors.New("compose: the lrs service has no LRS_TOKEN_KEYS: it signs with a new ephemeral key at every start")
	}
	volume := ""
	for _, v := range lrs.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if _, named := c.Volumes[src]; named && strings.HasPrefix(path, strings.TrimSuffix(dst, "/")+"/") {
			volume = src + ":" + dst
		}
	}
	if volume == "" {
		return nil, fmt.Errorf("compose: LRS_TOKEN_KEYS %s is in no named volume of the lrs service", path)
	}
	for name, dep := range lrs.DependsOn {
		s := c.Services[name]
		if dep.Condition != "service_completed_successfully" || !slices.Contains(s.Volumes, volume) {
			continue
		}
		if s.Build != lrs.Build || s.Image != lrs.Image {
			return nil, fmt.Errorf("compose: %s does not run the lrs image", name)
		}
		if want := []string{"tokens", "keygen", "--out", path, "--if-missing"}; !slices.Equal(s.Command, want) {
			return nil, fmt.Errorf("compose: %s runs %q, want %q", name, s.Command, want)
		}
		return s.Command, nil
	}
	return nil, fmt.Errorf("compose: no service the lrs service waits for makes %s in %s", path, volume)
}

// TestDeployedTokenKeys runs what the deployments do with the token keys,
// with the binary of the image: compose's key service, twice (the second
// run keeps the key), then lrs serve with that file, which does not warn
// about an ephemeral key; and lrs serve with the placeholder of the
// Kubernetes Secret, which refuses to start and says how to make a key.
func TestDeployedTokenKeys(t *testing.T) {
	bin := filepath.Join(builtImage(t), "lrs")
	command, err := composeKeygen(readCompose(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "token-keys.pem")
	args := slices.Clone(command)
	args[slices.Index(args, "--out")+1] = path
	var first []byte
	for range 2 {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("lrs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if first != nil && !bytes.Equal(b, first) {
			t.Error("the key service changed the key file on its second run")
		}
		first = b
	}
	_, log := serveBinary(t, bin, []string{"LRS_TOKEN_KEYS=" + path}, "--db", filepath.Join(dir, "lrs.db"))
	if strings.Contains(log(), "ephemeral") {
		t.Errorf("lrs serve with the key file warns of an ephemeral key:\n%s", log())
	}

	var secret struct {
		StringData map[string]string `yaml:"stringData"`
	}
	readYAML(t, "kubernetes/token-keys.yaml", &secret)
	placeholder := filepath.Join(dir, "placeholder.pem")
	if err := os.WriteFile(placeholder, []byte(secret.StringData["token-keys.pem"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "lrs.db"))
	cmd.Env = append(os.Environ(), "LRS_TOKEN_KEYS="+placeholder)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LRS_TOKEN_KEYS") || !strings.Contains(string(out), "lrs tokens keygen") {
		t.Errorf("lrs serve with the placeholder key file: %v\n%s", err, out)
	}
}

// TestCompose checks that the compose file hangs together: a three-member
// replica set written with majority concern, services that exist, mounted
// files that exist, Prometheus scraping the LRS and loading the rules.
func TestCompose(t *testing.T) {
	c := readCompose(t)
	for _, m := range []string{"mongo1", "mongo2", "mongo3"} {
		s, ok := c.Services[m]
		if !ok {
			t.Fatalf("no service %s", m)
		}
		if !strings.Contains(strings.Join(s.Command, " "), "--replSet rs0") {
			t.Errorf("%s is not a member of rs0: %v", m, s.Command)
		}
	}
	initJS, err := os.ReadFile("mongo/init-replica-set.js")
	if err != nil {
		t.Fatal(err)
	}
	lrsSvc := c.Services["lrs"]
	dbURL := lrsSvc.Environment["LRS_DB"]
	for _, h := range []string{"mongo1:27017", "mongo2:27017", "mongo3:27017"} {
		if !strings.Contains(string(initJS), `"`+h+`"`) {
			t.Errorf("the replica set config lacks %s", h)
		}
		if !strings.Contains(dbURL, h) {
			t.Errorf("LRS_DB lacks %s: %s", h, dbURL)
		}
	}
	for _, p := range []string{"replicaSet=rs0", "w=majority", "journal=true"} {
		if !strings.Contains(dbURL, p) {
			t.Errorf("LRS_DB lacks %s: %s", p, dbURL)
		}
	}
	if lrsSvc.Build.Dockerfile == "" {
		t.Error("the lrs service is not built from the Dockerfile")
	} else if _, err := os.Stat(filepath.Join(lrsSvc.Build.Context, lrsSvc.Build.Dockerfile)); err != nil {
		t.Errorf("build: %v", err)
	}
	for name, s := range c.Services {
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts undeclared volume %s", name, src)
			}
		}
	}
	for _, s := range []string{"prometheus", "grafana", "mailpit"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("no %s service", s)
		}
	}
	// The reminder e-mails go to the mail catcher, which the LRS waits for.
	if u := lrsSvc.Environment["LRS_SMTP_URL"]; u != "smtp://mailpit:1025" || lrsSvc.Environment["LRS_SMTP_FROM"] == "" {
		t.Errorf("the lrs service sends mail to %q from %q, want the mail catcher", u, lrsSvc.Environment["LRS_SMTP_FROM"])
	}
	if _, ok := lrsSvc.DependsOn["mailpit"]; !ok || !strings.HasPrefix(c.Services["mailpit"].Image, "axllent/mailpit:") {
		t.Error("the lrs service does not wait for the mailpit mail catcher")
	}
	if _, err := composeKeygen(c); err != nil {
		t.Error(err)
	}

	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string                       `yaml:"job_name"`
			MetricsPath   string                       `yaml:"metrics_path"`
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &prom)
	for _, f := range prom.RuleFiles {
		if _, err := os.Stat(filepath.Join("prometheus", strings.TrimPrefix(f, "/etc/prometheus/"))); err != nil {
			t.Errorf("rule file %s is not in deploy/prometheus: %v", f, err)
		}
	}
	_, port, _ := strings.Cut(lrsSvc.Environment["LRS_LISTEN"], ":")
	found := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			if sc.JobName == "lrs" && sc.MetricsPath == "/metrics" && slices.Contains(st.Targets, "lrs:"+port) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("Prometheus does not scrape lrs:%s/metrics as job lrs", port)
	}
}
