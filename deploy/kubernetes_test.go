package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The manifest check fetches its tools through the Go module proxy, like
// any Go module: kubeconform, and the Kubernetes source module, whose
// api/openapi-spec/swagger.json is the schema of the API (from which the
// test writes the per-kind JSON schemas kubeconform reads, as
// openapi2jsonschema does in strict mode).
const (
	kubeconformPkg   = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
	kubernetesModule = "k8s.io/kubernetes@v1.34.4"
)

// goCmd runs the go command outside this module (so that go.mod stays
// untouched) and returns its standard output.
func goCmd(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// manifest is the head of a Kubernetes object.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct{ Name string }
}

// TestKubernetesManifests validates deploy/kubernetes with kubeconform in
// strict mode (unknown fields are errors), proves on a broken manifest that
// the check bites, and checks what ties the objects together.
func TestKubernetesManifests(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches kubeconform and the Kubernetes API schema")
	}
	var kust struct {
		Resources []string
		Images    []struct{ Name string }
	}
	readYAML(t, "kubernetes/kustomization.yaml", &kust)
	files, _ := filepath.Glob("kubernetes/*.yaml")
	var paths []string
	kinds := map[string]manifest{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		paths = append(paths, f)
		if !slices.Contains(kust.Resources, filepath.Base(f)) {
			t.Errorf("kustomization.yaml does not list %s", f)
		}
		var m manifest
		readYAML(t, f, &m)
		kinds[m.Kind] = m
	}
	if len(paths) != len(kust.Resources) {
		t.Errorf("kustomization.yaml lists %v; the directory has %v", kust.Resources, paths)
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no %s manifest", k)
		}
	}

	start := time.Now()
	var mod struct{ Dir string }
	if err := json.Unmarshal(goCmd(t, nil, "mod", "download", "-json", kubernetesModule), &mod); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	goCmd(t, []string{"GOBIN=" + bin}, "install", kubeconformPkg)
	t.Logf("tools fetched in %v", time.Since(start).Round(time.Millisecond))

	schemas := t.TempDir()
	var list []manifest
	for _, m := range kinds {
		list = append(list, m)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  replica: 2
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: bad
          image: bad
          resources: {limits: {cpu: 2, memory: 1Gi}}
          readinessProbe: {httpGet: {path: /readyz, port: "http"}, periodSeconds: "5"}
`), 0o644)
	writeSchemas(t, filepath.Join(mod.Dir, "api/openapi-spec/swagger.json"), schemas, list)

	run := func(files ...string) kubeconformResult {
		t.Helper()
		args := append([]string{"-strict", "-summary", "-verbose", "-output", "json",
			"-schema-location", filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}, files...)
		out, _ := exec.Command(filepath.Join(bin, "kubeconform"), args...).Output() // exits 1 when invalid
		var res kubeconformResult
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("kubeconform output: %v\n%s", err, out)
		}
		return res
	}
	res := run(paths...)
	for _, r := range res.Resources {
		if r.Status != "statusValid" {
			t.Errorf("%s %s %s: %s %s", r.Filename, r.Kind, r.Name, r.Status, r.Msg)
		}
	}
	if res.Summary.Valid != len(paths) {
		t.Errorf("kubeconform: %+v, want %d valid", res.Summary, len(paths))
	}
	// The same check on a broken Deployment: an unknown field, and a
	// string where a number belongs.
	res = run(bad)
	if res.Summary.Invalid != 1 || len(res.Resources) != 1 ||
		!strings.Contains(res.Resources[0].Msg, "replica") || !strings.Contains(res.Resources[0].Msg, "periodSeconds") {
		t.Errorf("kubeconform let a broken Deployment through: %+v", res)
	}

	checkWiring(t, paths)
}

type kubeconformResult struct {
	Resources []struct {
		Filename, Kind, Name, Version, Status, Msg string
	}
	Summary struct{ Valid, Invalid, Errors, Skipped int }
}

// writeSchemas writes, for each object kind, the standalone strict JSON
// schema kubeconform looks for ({kind}-{group}-{version}.json): the
// definition of the kind in swagger.json with every $ref inlined (a
// recursive reference becomes "any"), additionalProperties false on every
// object with properties, and the two string-or-number types of the API
// (IntOrString, Quantity) written as such.
func writeSchemas(t *testing.T, swaggerPath, dir string, kinds []manifest) {
	t.Helper()
	b, err := os.ReadFile(swaggerPath)
	if err != nil {
		t.Fatal(err)
	}
	var sw struct {
		Definitions map[string]map[string]any
	}
	if err := json.Unmarshal(b, &sw); err != nil {
		t.Fatal(err)
	}
	var expand func(v any, stack []string) any
	expand = func(v any, stack []string) any {
		switch v := v.(type) {
		case []any:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = expand(x, stack)
			}
			return out
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/definitions/")
				if slices.Contains(stack, name) {
					return map[string]any{}
				}
				def, ok := sw.Definitions[name]
				if !ok {
					t.Fatalf("swagger.json: no definition %s", name)
				}
				return expand(def, append(stack, name))
			}
			switch {
			case v["format"] == "int-or-string":
				return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
			case len(stack) > 0 && stack[len(stack)-1] == "io.k8s.apimachinery.pkg.api.resource.Quantity":
				return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
			}
			out := map[string]any{}
			for k, x := range v {
				if k == "description" || strings.HasPrefix(k, "x-kubernetes-") {
					continue
				}
				out[k] = expand(x, stack)
			}
			if _, ok := out["properties"]; ok {
				if _, set := out["additionalProperties"]; !set {
					out["additionalProperties"] = false
				}
			}
			return out
		}
		return v
	}
	for _, m := range kinds {
		group, version, ok := strings.Cut(m.APIVersion, "/")
		if !ok {
			group, version = "", m.APIVersion
		}
		var name string
		for n, def := range sw.Definitions {
			gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				g := g.(map[string]any)
				if g["group"] == group && g["version"] == version && g["kind"] == m.Kind {
					name = n
				}
			}
		}
		if name == "" {
			t.Errorf("the Kubernetes API (%s) has no kind %s %s", kubernetesModule, m.APIVersion, m.Kind)
			continue
		}
		suffix := "-" + strings.ToLower(version)
		if group != "" {
			suffix = "-" + strings.ToLower(strings.Split(group, ".")[0]) + suffix
		}
		schema, err := json.Marshal(expand(map[string]any{"$ref": "#/definitions/" + name}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.ToLower(m.Kind)+suffix+".json"), schema, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkWiring checks what kubeconform cannot: that the objects refer to
// each other correctly and that the Deployment is fit for production.
func checkWiring(t *testing.T, paths []string) {
	type container struct {
		Name           string
		Image          string
		Args           []string
		EnvFrom        []map[string]struct{ Name string } `yaml:"envFrom"`
		Ports          []struct{ Name string }
		StartupProbe   *probe `yaml:"startupProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		Resources      struct{ Requests, Limits map[string]any }
	}
	var dep struct {
		Metadata struct{ Name string }
		Spec     struct {
			Selector struct{ MatchLabels map[string]string } `yaml:"selector"`
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					SecurityContext               struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []container
				}
			}
		}
	}
	var svc struct {
		Spec struct {
			Selector map[string]string
			Ports    []struct {
				TargetPort string `yaml:"targetPort"`
			}
		}
	}
	var hpa struct {
		Spec struct {
			ScaleTargetRef struct{ Kind, Name string } `yaml:"scaleTargetRef"`
			MinReplicas    int                         `yaml:"minReplicas"`
		}
	}
	var cm struct {
		Metadata struct{ Name string }
		Data     map[string]string
	}
	var secret struct{ Metadata struct{ Name string } }
	for _, p := range paths {
		var m manifest
		readYAML(t, p, &m)
		switch m.Kind {
		case "Deployment":
			readYAML(t, p, &dep)
		case "Service":
			readYAML(t, p, &svc)
		case "HorizontalPodAutoscaler":
			readYAML(t, p, &hpa)
		case "ConfigMap":
			readYAML(t, p, &cm)
		case "Secret":
			readYAML(t, p, &secret)
		}
	}
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Containers))
	}
	c := spec.Containers[0]
	for k, v := range dep.Spec.Selector.MatchLabels {
		if dep.Spec.Template.Metadata.Labels[k] != v || svc.Spec.Selector[k] != v {
			t.Errorf("label %s=%s: the pod template and the Service selector must carry it", k, v)
		}
	}
	if !slices.Contains(c.Args, "serve") {
		t.Errorf("container args %v do not run lrs serve", c.Args)
	}
	for _, p := range []struct {
		name string
		p    *probe
		path string
	}{{"startup", c.StartupProbe, "/healthz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.p == nil || p.p.HTTPGet.Path != p.path || p.p.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("%s probe: want GET %s on port %s, got %+v", p.name, p.path, c.Ports[0].Name, p.p)
		}
	}
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name {
		t.Errorf("the Service does not target the container port %s", c.Ports[0].Name)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == nil || c.Resources.Limits[r] == nil {
			t.Errorf("the container needs a %s request and limit", r)
		}
	}
	if !spec.SecurityContext.RunAsNonRoot {
		t.Error("the pod must run as non-root")
	}
	refs := map[string]string{}
	for _, e := range c.EnvFrom {
		for k, v := range e {
			refs[k] = v.Name
		}
	}
	if refs["configMapRef"] != cm.Metadata.Name || refs["secretRef"] != secret.Metadata.Name {
		t.Errorf("envFrom %v does not name the ConfigMap %q and the Secret %q", refs, cm.Metadata.Name, secret.Metadata.Name)
	}
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != dep.Metadata.Name || hpa.Spec.MinReplicas < 2 {
		t.Errorf("the HPA must scale the Deployment %s from at least 2 replicas: %+v", dep.Metadata.Name, hpa.Spec)
	}
	drain, err1 := time.ParseDuration(cm.Data["LRS_DRAIN_DELAY"])
	timeout, err2 := time.ParseDuration(cm.Data["LRS_SHUTDOWN_TIMEOUT"])
	if err1 != nil || err2 != nil {
		t.Errorf("ConfigMap: LRS_DRAIN_DELAY %q, LRS_SHUTDOWN_TIMEOUT %q", cm.Data["LRS_DRAIN_DELAY"], cm.Data["LRS_SHUTDOWN_TIMEOUT"])
	}
	if grace := time.Duration(spec.TerminationGracePeriodSeconds) * time.Second; grace <= drain+timeout {
		t.Errorf("terminationGracePeriodSeconds %v must exceed the drain delay and shutdown timeout (%v)", grace, drain+timeout)
	}
}

// probe is an HTTP probe of a container.
type probe struct {
	HTTPGet struct {
		Path string
		Port string
	} `yaml:"httpGet"`
}
