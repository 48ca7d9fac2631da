package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadClients is how many clients BenchmarkLoad runs at once.
const loadClients = 32

// loadResult is what one load run measured.
type loadResult struct {
	rps      float64
	p50, p99 time.Duration
}

// BenchmarkLoad runs 32 concurrent clients, each on its own keep-alive
// connection, against three servers on loopback in the same run:
//
//   - bare: a net/http handler that only writes {"ok":true}, the floor this
//     machine's HTTP stack allows;
//   - protected: GET /protected on the real server (access-token check);
//   - refresh: POST /token on the real server with rotation, one SQLite write
//     transaction per request; each client keeps rotating its own chain.
//
// The clients share b.N requests. Each sub-benchmark reports req/s and the
// p50 and p99 latency in microseconds; protected and refresh also log their
// ratios to bare when bare ran first in the same BenchmarkLoad call.
// Clients and servers share the process, so allocs/op and B/op count both
// sides of each request.
func BenchmarkLoad(b *testing.B) {
	var bare *loadResult

	b.Run("bare", func(b *testing.B) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}` + "\n"))
		}))
		b.Cleanup(hs.Close)
		res := runLoad(b, func(int, *http.Client) (loadRequest, error) {
			return func(ctx context.Context, c *http.Client) error {
				_, err := loadDo(ctx, c, http.MethodGet, hs.URL+"/", nil, nil)
				return err
			}, nil
		})
		bare = &res
	})

	b.Run("protected", func(b *testing.B) {
		ts := newTestServer(b)
		access, _ := ts.login(b)
		header := http.Header{"Authorization": {"Bearer " + access}}
		res := runLoad(b, func(int, *http.Client) (loadRequest, error) {
			return func(ctx context.Context, c *http.Client) error {
				_, err := loadDo(ctx, c, http.MethodGet, ts.URL+"/protected", header, nil)
				return err
			}, nil
		})
		logRatios(b, res, bare)
	})

	b.Run("refresh", func(b *testing.B) {
		ts := newTestServer(b)
		header := http.Header{"Content-Type": {"application/json"}}
		batches0, writes0 := ts.DB.WriteStats()
		res := runLoad(b, func(_ int, c *http.Client) (loadRequest, error) {
			// Each client logs in (on its own connection, before the
			// timer starts) and then keeps rotating its own chain.
			body, err := loadDo(b.Context(), c, http.MethodPost, ts.URL+"/login", header,
				[]byte(`{"username":"alice","password":"password123"}`))
			if err != nil {
				return nil, err
			}
			refresh, err := refreshTokenIn(body)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, c *http.Client) error {
				body, err := loadDo(ctx, c, http.MethodPost, ts.URL+"/token", header,
					[]byte(`{"token":"`+refresh+`"}`))
				if err != nil {
					return err
				}
				next, err := refreshTokenIn(body)
				if err != nil {
					return err
				}
				if next == refresh {
					return fmt.Errorf("refresh did not rotate")
				}
				refresh = next
				return nil
			}, nil
		})
		// Group commit: how many refreshes one transaction held on average.
		if batches, writes := ts.DB.WriteStats(); batches > batches0 {
			b.ReportMetric(float64(writes-writes0)/float64(batches-batches0), "writes/commit")
		}
		logRatios(b, res, bare)
	})
}

// loadRequest sends one request on c and checks the answer.
type loadRequest func(ctx context.Context, c *http.Client) error

// runLoad runs loadClients goroutines that share b.N requests. setup makes
// client i's request function; it runs before the timer starts, and may
// use the client (its connection is then already open). Every request's
// latency is recorded; req/s, p50-µs and p99-µs are reported.
func runLoad(b *testing.B, setup func(i int, c *http.Client) (loadRequest, error)) loadResult {
	b.Helper()
	ctx := b.Context()
	clients := make([]*http.Client, loadClients)
	requests := make([]loadRequest, loadClients)
	for i := range clients {
		// One transport per client: each client keeps its own keep-alive
		// connection, as separate users would.
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		b.Cleanup(tr.CloseIdleConnections)
		clients[i] = &http.Client{Transport: tr, Timeout: time.Minute}
		req, err := setup(i, clients[i])
		if err != nil {
			b.Fatalf("client %d setup: %v", i, err)
		}
		requests[i] = req
	}
	// A warm-up request per client opens its connection (unless setup did)
	// and checks the route answers 200 before anything is measured.
	for i, req := range requests {
		if err := req(ctx, clients[i]); err != nil {
			b.Fatalf("client %d warm-up: %v", i, err)
		}
	}

	var (
		next      atomic.Int64 // requests claimed so far
		failed    atomic.Bool
		errOnce   sync.Once
		firstErr  error
		wg        sync.WaitGroup
		latencies = make([][]time.Duration, loadClients)
	)
	total := int64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range clients {
		lat := make([]time.Duration, 0, b.N/loadClients+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { latencies[i] = lat }()
			for !failed.Load() && next.Add(1) <= total {
				t0 := time.Now()
				err := requests[i](ctx, clients[i])
				lat = append(lat, time.Since(t0))
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("client %d: %w", i, err) })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}

	all := slices.Concat(latencies...)
	if len(all) != b.N {
		b.Fatalf("%d requests measured, want %d", len(all), b.N)
	}
	slices.Sort(all)
	res := loadResult{
		rps: float64(b.N) / elapsed.Seconds(),
		p50: percentile(all, 50),
		p99: percentile(all, 99),
	}
	b.ReportMetric(res.rps, "req/s")
	b.ReportMetric(float64(res.p50.Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(res.p99.Nanoseconds())/1e3, "p99-µs")
	return res
}

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100 // ceil(n·p/100)
	return sorted[max(rank, 1)-1]
}

// logRatios logs a result against the bare handler's (when it ran in the
// same BenchmarkLoad call). The framework runs a sub-benchmark several
// times with growing b.N; the last line logged is the measured run.
// Benchmarks never fail on timings.
func logRatios(b *testing.B, res loadResult, bare *loadResult) {
	b.Helper()
	if bare == nil || bare.rps == 0 || bare.p99 == 0 || b.N == 1 {
		return // b.N == 1 is the framework's probe run
	}
	b.Logf("b.N=%d: %.0f req/s = %.0f%% of bare (%.0f req/s); p99 %v = %.2f× bare's %v",
		b.N, res.rps, 100*res.rps/bare.rps, bare.rps, res.p99, float64(res.p99)/float64(bare.p99), bare.p99)
}

// loadDo sends one request, reads the whole body, closes it, and returns
// the body when the status is 200.
func loadDo(ctx context.Context, c *http.Client, method, url string, header http.Header, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return data, nil
}

// refreshTokenIn returns the refreshToken of a login or /token answer.
func refreshTokenIn(body []byte) (string, error) {
	var ans struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return "", fmt.Errorf("answer is not JSON: %w", err)
	}
	if ans.RefreshToken == "" {
		return "", fmt.Errorf("answer has no refreshToken: %s", body)
	}
	return ans.RefreshToken, nil
}
