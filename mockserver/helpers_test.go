package mockserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/sqlite"
	"golang.org/x/crypto/bcrypt"
)

const testAdminToken = "test-admin-token-0123456789"

// testServer is a real server on loopback over a real SQLite file, on a
// frozen clock.
type testServer struct {
	*Server
	URL   string
	DB    *sqlite.DB
	Clock *Clock
	http  *http.Client
	// dbPath is the SQLite file, for tests that read its bytes.
	dbPath string
}

// newTestServer starts a server; mutate adjusts the configuration.
func newTestServer(tb testing.TB, mutate ...func(*Config)) *testServer {
	tb.Helper()
	return newTestServerOn(tb, nil, mutate...)
}

// newTestServerOn starts a server on the store wrap makes of the real
// database (the database itself when wrap is nil).
func newTestServerOn(tb testing.TB, wrap func(*sqlite.DB) Store, mutate ...func(*Config)) *testServer {
	tb.Helper()
	dbPath := filepath.Join(tb.TempDir(), "tokenlab.db")
	db, err := sqlite.Open(tb.Context(), dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	clock, err := NewClock(ClockFrozen, func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) })
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	cfg := DefaultConfig()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	cfg.AdminToken = testAdminToken
	cfg.BcryptCost = bcrypt.MinCost
	for _, m := range mutate {
		m(&cfg)
	}
	var store Store = db
	if wrap != nil {
		store = wrap(db)
	}
	srv, err := New(tb.Context(), store, clock, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() }) // before the database closes
	hs.Config.Handler = srv
	hs.Start()
	tb.Cleanup(hs.Close)
	return &testServer{Server: srv, URL: hs.URL, DB: db, Clock: clock, http: hs.Client(), dbPath: dbPath}
}

// reply is an answer: its status, headers and decoded JSON body (nil when
// the body is empty).
type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// str returns a string field of the body.
func (r reply) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// do sends a request. body is sent as is when it is a string or []byte,
// and as JSON otherwise; header pairs follow ("Content-Type", "...").
func (ts *testServer) do(tb testing.TB, method, path string, body any, header ...string) reply {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(data)
		header = append([]string{"Content-Type", "application/json"}, header...)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			tb.Fatalf("%s %s: answer is not a JSON object (%v): %s", method, path, err, raw)
		}
	}
	return r
}

// form sends an application/x-www-form-urlencoded POST.
func (ts *testServer) form(tb testing.TB, path string, kv ...string) reply {
	tb.Helper()
	vals := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		vals = append(vals, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return ts.do(tb, http.MethodPost, path, strings.Join(vals, "&"), "Content-Type", "application/x-www-form-urlencoded")
}

// login logs alice in through the seed dialect.
func (ts *testServer) login(tb testing.TB) (access, refresh string) {
	tb.Helper()
	r := ts.do(tb, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"})
	if r.Status != http.StatusOK {
		tb.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	return r.str("accessToken"), r.str("refreshToken")
}

func (ts *testServer) admin(tb testing.TB, method, path string, body any) reply {
	tb.Helper()
	return ts.do(tb, method, path, body, "Authorization", "Bearer "+testAdminToken)
}

// eventKinds lists the kinds in the event log, oldest first.
func (ts *testServer) eventKinds(tb testing.TB) []string {
	tb.Helper()
	events, err := ts.DB.Events(tb.Context(), 0, 10000, "")
	if err != nil {
		tb.Fatal(err)
	}
	kinds := make([]string, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	return kinds
}

func bearerHeader(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func basicAuth(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}
