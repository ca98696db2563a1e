// Package nodetest runs Node.js from Go tests: it finds node (skipping the
// test without Node.js 18+ and npm) and installs a test directory's pinned
// npm packages.
package nodetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require returns the path of node, skipping the test when node or npm is
// missing or node is older than 18 (the first with fetch).
func Require(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: this test needs Node.js 18+ and npm")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not on PATH: this test needs Node.js 18+ and npm")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < 18 {
		t.Skipf("node %s is too old: this test needs Node.js 18+", v)
	}
	return node
}

// Install runs `npm ci` in dir when dir/node_modules is missing or older
// than dir/package-lock.json, so that scripts run the pinned versions.
func Install(t *testing.T, dir string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	// npm writes node_modules/.package-lock.json at the end of an install.
	if inst, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && !inst.ModTime().Before(lock.ModTime()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s failed: %v\n%s", dir, err, out)
	}
}
