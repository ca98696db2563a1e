package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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
	secrets := map[string]bool{}
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
			secrets[m.Metadata.Name] = true
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
	if refs["configMapRef"] != cm.Metadata.Name || !secrets[refs["secretRef"]] {
		t.Errorf("envFrom %v does not name the ConfigMap %q and a Secret of %v", refs, cm.Metadata.Name, secrets)
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

// k8sObject is what TestKubernetesSharedKeys reads of a Kubernetes object.
type k8sObject struct {
	Kind       string
	Metadata   struct{ Name string }
	Data       map[string]string // ConfigMap; Secret (base64)
	StringData map[string]string `yaml:"stringData"` // Secret
	Spec       struct {
		Replicas       *int
		ScaleTargetRef struct{ Kind, Name string } `yaml:"scaleTargetRef"` // HorizontalPodAutoscaler
		MaxReplicas    int                         `yaml:"maxReplicas"`
		Template       struct{ Spec k8sPodSpec }
	}
}

type k8sPodSpec struct {
	SecurityContext struct {
		RunAsUser *int64 `yaml:"runAsUser"`
		FSGroup   *int64 `yaml:"fsGroup"`
	} `yaml:"securityContext"`
	Volumes []struct {
		Name   string
		Secret *k8sSecretVolume
	}
	Containers []struct {
		Name string
		Args []string
		Env  []struct {
			Name, Value string
			ValueFrom   *struct {
				SecretKeyRef    *struct{ Name, Key string } `yaml:"secretKeyRef"`
				ConfigMapKeyRef *struct{ Name, Key string } `yaml:"configMapKeyRef"`
			} `yaml:"valueFrom"`
		}
		EnvFrom []struct {
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
		} `yaml:"envFrom"`
		VolumeMounts []struct {
			Name      string
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	}
}

type k8sSecretVolume struct {
	SecretName  string `yaml:"secretName"`
	DefaultMode *int   `yaml:"defaultMode"`
	Items       []struct{ Key, Path string }
}

// readObjects reads every object of the YAML files in dir but
// kustomization.yaml.
func readObjects(t *testing.T, dir string) []*k8sObject {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var objs []*k8sObject
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			o := &k8sObject{}
			if err := dec.Decode(o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

// sharedKeyProblems returns what keeps the replicas of a Deployment that
// runs more than one (spec.replicas, or an HPA's maxReplicas) from sharing
// their signing keys: LRS_CURSOR_KEY and LRS_CONTENT_KEY must come from a
// Secret, and
// LRS_TOKEN_KEYS must name a file of a Secret mounted as a volume (not with
// subPath, so that an updated Secret reaches running pods), readable by
// the pod's user. It also returns the number of such Deployments.
func sharedKeyProblems(objs []*k8sObject) (problems []string, deployments int) {
	find := func(kind, name string) *k8sObject {
		for _, o := range objs {
			if o.Kind == kind && o.Metadata.Name == name {
				return o
			}
		}
		return nil
	}
	for _, d := range objs {
		if d.Kind != "Deployment" {
			continue
		}
		replicas := 1
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		for _, h := range objs {
			if h.Kind == "HorizontalPodAutoscaler" && h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Metadata.Name {
				replicas = max(replicas, h.Spec.MaxReplicas)
			}
		}
		if replicas < 2 {
			continue
		}
		deployments++
		pod := d.Spec.Template.Spec
		for _, c := range pod.Containers {
			where := fmt.Sprintf("Deployment %s, container %s", d.Metadata.Name, c.Name)
			type setting struct {
				value  string
				secret bool
			}
			env := map[string]setting{}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					if cm := find("ConfigMap", ef.ConfigMapRef.Name); cm != nil {
						for k, v := range cm.Data {
							env[k] = setting{value: v}
						}
					}
				}
				if ef.SecretRef != nil {
					if s := find("Secret", ef.SecretRef.Name); s != nil {
						for k, v := range s.StringData {
							env[k] = setting{value: v, secret: true}
						}
						for k := range s.Data {
							env[k] = setting{value: "(data)", secret: true}
						}
					}
				}
			}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					env[e.Name] = setting{value: e.Value}
				case e.ValueFrom.SecretKeyRef != nil:
					if s := find("Secret", e.ValueFrom.SecretKeyRef.Name); s != nil {
						env[e.Name] = setting{value: s.StringData[e.ValueFrom.SecretKeyRef.Key] + s.Data[e.ValueFrom.SecretKeyRef.Key], secret: true}
					}
				case e.ValueFrom.ConfigMapKeyRef != nil:
					if cm := find("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name); cm != nil {
						env[e.Name] = setting{value: cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]}
					}
				}
			}
			for _, k := range []string{"LRS_CURSOR_KEY", "LRS_CONTENT_KEY"} {
				if s := env[k]; s.value == "" || !s.secret {
					problems = append(problems, where+": "+k+" does not come from a Secret")
				}
			}
			path := env["LRS_TOKEN_KEYS"].value
			if path == "" {
				problems = append(problems, where+": LRS_TOKEN_KEYS is not set: each replica would sign tokens with its own ephemeral key")
				continue
			}
			mounted := false
			for _, m := range c.VolumeMounts {
				file, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
				if !ok {
					continue
				}
				mounted = true
				if m.SubPath != "" {
					problems = append(problems, where+": the token key file is mounted with subPath: an updated Secret would never reach the pods")
				}
				var vs *k8sSecretVolume
				for _, v := range pod.Volumes {
					if v.Name == m.Name {
						vs = v.Secret
					}
				}
				if vs == nil {
					problems = append(problems, fmt.Sprintf("%s: LRS_TOKEN_KEYS %s is not in a Secret volume", where, path))
					continue
				}
				key := file
				for _, it := range vs.Items {
					if it.Path == file {
						key = it.Key
					}
				}
				s := find("Secret", vs.SecretName)
				if s == nil {
					problems = append(problems, fmt.Sprintf("%s: the Secret %s of the token key file is not among the manifests", where, vs.SecretName))
				} else if s.StringData[key] == "" && s.Data[key] == "" {
					problems = append(problems, fmt.Sprintf("%s: the Secret %s has no %s, the token key file", where, vs.SecretName, key))
				}
				mode := 0o644
				if vs.DefaultMode != nil {
					mode = *vs.DefaultMode
				}
				if mode&0o004 == 0 && (mode&0o040 == 0 || pod.SecurityContext.FSGroup == nil) {
					problems = append(problems, fmt.Sprintf("%s: the token key file (mode %#o) is not readable by the pod's non-root user", where, mode))
				}
			}
			if !mounted {
				problems = append(problems, fmt.Sprintf("%s: LRS_TOKEN_KEYS %s is in no volume mount", where, path))
			}
		}
	}
	return problems, deployments
}

// TestKubernetesSharedKeys checks that the replicas of every Deployment
// that runs several share their signing keys from Secrets: without them,
// each signs with a key of its own, refuses the others' tokens and "more"
// links, and signs evidence packs no one can verify after a restart. The
// check is proved on broken variants of the manifests too.
func TestKubernetesSharedKeys(t *testing.T) {
	problems, n := sharedKeyProblems(readObjects(t, "kubernetes"))
	if n == 0 {
		t.Fatal("no Deployment with more than one replica in deploy/kubernetes")
	}
	for _, p := range problems {
		t.Error(p)
	}
	for _, tc := range []struct {
		name  string
		spoil func([]*k8sObject)
		want  string
	}{
		{"no LRS_TOKEN_KEYS", func(objs []*k8sObject) {
			for _, o := range objs {
				delete(o.Data, "LRS_TOKEN_KEYS")
			}
		}, "LRS_TOKEN_KEYS is not set"},
		{"cursor key in the ConfigMap", func(objs []*k8sObject) {
			for _, o := range objs {
				if o.Kind == "Secret" {
					delete(o.StringData, "LRS_CURSOR_KEY")
				}
				if o.Kind == "ConfigMap" {
					o.Data["LRS_CURSOR_KEY"] = "00"
				}
			}
		}, "LRS_CURSOR_KEY does not come from a Secret"},
		{"no content key", func(objs []*k8sObject) {
			for _, o := range objs {
				if o.Kind == "Secret" {
					delete(o.StringData, "LRS_CONTENT_KEY")
				}
			}
		}, "LRS_CONTENT_KEY does not come from a Secret"},
		{"subPath", func(objs []*k8sObject) {
			for _, o := range objs {
				for _, c := range o.Spec.Template.Spec.Containers {
					for i := range c.VolumeMounts {
						c.VolumeMounts[i].SubPath = "token-keys.pem"
					}
				}
			}
		}, "subPath"},
		{"no key Secret", func(objs []*k8sObject) {
			for _, o := range objs {
				if o.Kind == "Secret" {
					o.Metadata.Name += "-renamed"
				}
			}
		}, "not among the manifests"},
		{"unreadable", func(objs []*k8sObject) {
			for _, o := range objs {
				o.Spec.Template.Spec.SecurityContext.FSGroup = nil
			}
		}, "not readable"},
	} {
		objs := readObjects(t, "kubernetes")
		tc.spoil(objs)
		problems, _ := sharedKeyProblems(objs)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("%s: the check found %q, want a problem with %q", tc.name, problems, tc.want)
		}
	}
}
