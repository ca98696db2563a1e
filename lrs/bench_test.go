package lrs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// benchPost measures POST /xapi/statements with batches of n statements,
// through HTTP and into SQLite.
func benchPost(b *testing.B, n int) {
	s := newServer(b)
	batch := make([]any, n)
	for i := range batch {
		batch[i] = stmt(fmt.Sprintf("user%d", i), "completed", "context", map[string]any{
			"registration":      newID(),
			"contextActivities": map[string]any{"parent": []any{map[string]any{"id": "http://example.com/programs/1"}}},
		}, "result", map[string]any{"success": true, "completion": true, "score": map[string]any{"scaled": 0.9}})
	}
	var body []byte
	if n == 1 {
		body, _ = json.Marshal(batch[0])
	} else {
		body, _ = json.Marshal(batch)
	}
	client := s.Client()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		r, _ := http.NewRequest("POST", s.URL+"/xapi/statements", bytes.NewReader(body))
		r.SetBasicAuth("admin", "admin-secret")
		r.Header.Set("X-Experience-API-Version", "2.0.0")
		r.Header.Set("Content-Type", "application/json")
		res, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "statements/s")
}

func BenchmarkPostStatement(b *testing.B) { benchPost(b, 1) }
func BenchmarkPostBatch100(b *testing.B)  { benchPost(b, 100) }
