package httpadapter_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store/file"
)

// BenchmarkPostUsers10000File posts one batch of 10,000 users to the
// adapter over loopback, on the file store (bbolt, synced commits), and
// reports items per second. Each round creates the users the first time
// and updates them after.
func BenchmarkPostUsers10000File(b *testing.B) {
	st, err := file.Open(filepath.Join(b.TempDir(), "lintel.db"), nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	e := newEnv(b, envConfig{store: st, noCheck: true})
	admin := e.login("admin", adminPassword)
	var body strings.Builder
	body.WriteString(`{"list_items":[`)
	for i := range 10_000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"link_id":"00000000-0000-4000-8000-%012d","name":"Resident %d","auth_factors":["card"],"lock_number":0}`, i, i)
	}
	body.WriteString(`]}`)
	payload := body.String()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/access/users/link/update", strings.NewReader(payload))
		req.Header.Set("Authorization", admin["Authorization"])
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			b.Fatal(err, res.StatusCode)
		}
		res.Body.Close()
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkDecideRouteConcurrent sends decisions on 1,000 cards from 16
// clients at once over loopback, and reports requests per second and the
// 99th percentile latency. BenchmarkDecideFloorConcurrent is the same load
// on a bare net/http handler doing the same JSON decode, map lookup and
// JSON encode: the route's throughput over the floor's, in one run, is the
// adapter's cost (the target is at least 0.9).
func BenchmarkDecideRouteConcurrent(b *testing.B) {
	e := newEnv(b, envConfig{noCheck: true})
	admin := e.login("admin", adminPassword)
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf(`{"link_id":"00000000-0000-4000-8000-%012d","identifier_type":"card","identifier_number":"%d","valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}`, i, i+1)
	}
	r := e.do("POST", "/api/v1/access/identifiers/link/update", `{"list_items":[`+strings.Join(items, ",")+`]}`, admin)
	require.Equal(b, 200, r.status)
	benchDecisions(b, e.srv.URL+"/api/v1/access/decide", admin["Authorization"])
}

// BenchmarkRemoteAccessConcurrent is the same load on the remote access
// server: a panel's question, authenticated by its secret, decided, and
// journaled (access_*_by_remote_server_api_call). Its target is at least
// 0.8 of BenchmarkDecideFloorConcurrent in the same run, p99 under 1 ms.
func BenchmarkRemoteAccessConcurrent(b *testing.B) {
	benchDecisions(b, remoteBenchURL(b), "")
}

// BenchmarkRemoteAccessOneClient is one panel asking, one question after
// another: its p99 is the server's own latency, not a queue of 16 clients
// on the machine's cores.
func BenchmarkRemoteAccessOneClient(b *testing.B) {
	benchDecisionsFrom(b, 1, remoteBenchURL(b), "")
}

// remoteBenchURL is the remote access URL of a panel of a new env whose
// cards 1 to 1000 open the first lock.
func remoteBenchURL(b *testing.B) string {
	e := newEnv(b, envConfig{noCheck: true})
	admin := e.login("admin", adminPassword)
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf(`{"link_id":"00000000-0000-4000-8000-%012d","identifier_type":"card","identifier_number":"%d","lock":"first","valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}`, i, i+1)
	}
	r := e.do("POST", "/api/v1/access/identifiers/link/update", `{"list_items":[`+strings.Join(items, ",")+`]}`, admin)
	require.Equal(b, 200, r.status)
	_, secret := remotePanel(b, e, "AV04SD-0001")
	return e.srv.URL + "/api/v1/remote/access?key=" + secret
}

func BenchmarkDecideFloorConcurrent(b *testing.B) {
	cards := make(map[string]string, 1000)
	for i := range 1000 {
		cards[fmt.Sprint(i+1)] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Type   *string `json:"identifier_type"`
			Number *string `json:"identifier_number"`
			Lock   *int    `json:"lock"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Number == nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		link, ok := cards[*req.Number]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"allow": ok, "reason": "granted", "link_id": link, "passes_left": -1, "dry_run": false})
	}))
	b.Cleanup(srv.Close)
	benchDecisions(b, srv.URL, "Bearer x")
}

// benchDecisions posts b.N decisions from 16 concurrent clients.
func benchDecisions(b *testing.B, url, authorization string) {
	benchDecisionsFrom(b, 16, url, authorization)
}

// benchDecisionsFrom posts b.N decisions from that many concurrent clients.
func benchDecisionsFrom(b *testing.B, clients int, url, authorization string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	var mu sync.Mutex
	var latencies []time.Duration
	next := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := range next {
				req, _ := http.NewRequest("POST", url,
					strings.NewReader(fmt.Sprintf(`{"identifier_type":"card","identifier_number":"%d","lock":1}`, i%1000+1)))
				if authorization != "" {
					req.Header.Set("Authorization", authorization)
				}
				start := time.Now()
				res, err := client.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Error(err)
					continue // keep taking work, so the sender never blocks
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	for i := 0; i < b.N; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "req/s")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkDirectoryQueryDigest reads the 2N directory with Digest
// authentication, one nonce count after another, as a syncing client
// does.
func BenchmarkDirectoryQueryDigest(b *testing.B) {
	e := newEnv(b, envConfig{noCheck: true})
	r := e.do("PUT", "/api/dir/create", `{"users":[{"name":"a"},{"name":"b"}]}`, basic("admin", adminPassword))
	require.Contains(b, r.body, `"success":true`)
	r = e.do("POST", "/api/dir/query", "", nil)
	c := newDigestClient(b, r.header.Get("WWW-Authenticate"), "manager", managerPassword, "SHA-256")
	body := `{"series":"` + series + `","iterator":{"timestamp":1}}`
	for b.Loop() {
		if c.nc%1000 == 999 { // a nonce serves at most 1,024 requests
			r = e.do("POST", "/api/dir/query", "", nil)
			c = newDigestClient(b, r.header.Get("WWW-Authenticate"), "manager", managerPassword, "SHA-256")
		}
		if r := e.do("POST", "/api/dir/query", body, c.auth("POST", "/api/dir/query")); r.status != 200 {
			b.Fatal(r.status, r.body)
		}
	}
}
