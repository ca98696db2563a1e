package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// TestServePackages runs `lrs serve` as the binary wires it: a credential
// made with the CLI holding content/write imports a package, whose files
// land in the content directory beside the database and are served; a
// content link signed with --content-key still works after a restart; and
// --max-package-bytes bounds an import.
func TestServePackages(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	const key, secret = "kurs", "kurs-secret-0123456789"
	if err := run(context.Background(), []string{"credentials", "create", "--db", db, "--name", "kursadmin",
		"--scopes", "content/write", "--key", key, "--secret", secret}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	contentKey := strings.Repeat("ab", 32)
	do := func(method, url, ctype string, body []byte, auth bool) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.SetBasicAuth(key, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	addr, stop := startServe(t, "--db", db, "--content-key", contentKey, "--max-package-bytes", "64KiB")
	code, b := do("POST", "http://"+addr+"/api/v1/packages", "application/zip", packagetest.CMI5(), true)
	if code != 201 {
		t.Fatalf("import: %d %s", code, b)
	}
	var p struct {
		ID, Content string
	}
	json.Unmarshal(b, &p)
	if code, b := do("GET", "http://"+addr+p.Content+"au1/index.html", "", nil, true); code != 200 || string(b) != packagetest.CMI5Files()["au1/index.html"] {
		t.Errorf("content: %d %s", code, b)
	}
	dirs, _ := os.ReadDir(filepath.Join(dir, "content", "default"))
	if len(dirs) != 1 {
		t.Errorf("the content directory beside the database holds %v, want one version's directory", dirs)
	}
	code, b = do("POST", "http://"+addr+"/api/v1/packages/"+p.ID+"/links", "", nil, true)
	var link struct{ Content string }
	json.Unmarshal(b, &link)
	if code != 201 || link.Content == "" {
		t.Fatalf("link: %d %s", code, b)
	}
	noise := make([]byte, 80<<10)
	rand.Read(noise)
	big := packagetest.Files(packagetest.With(packagetest.CMI5Files(), map[string]string{"assets/film.mp4": string(noise)}))
	if code, b := do("POST", "http://"+addr+"/api/v1/packages", "application/zip", big, true); code != 413 {
		t.Errorf("a package over --max-package-bytes 64KiB: %d %s", code, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	addr, _ = startServe(t, "--db", db, "--content-key", contentKey)
	path := link.Content[strings.Index(link.Content, "/content/"):]
	if code, b := do("GET", "http://"+addr+path+"au2/index.html", "", nil, false); code != 200 || string(b) != packagetest.CMI5Files()["au2/index.html"] {
		t.Errorf("the content link after a restart: %d %s", code, b)
	}
}
