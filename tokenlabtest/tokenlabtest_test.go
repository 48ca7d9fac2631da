package tokenlabtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/tokenlabtest"
	"golang.org/x/oauth2"
)

// passwordLogin logs in with the password grant as client id/secret.
func passwordLogin(t *testing.T, srv *tokenlabtest.Server, id, secret, user, password string) (*oauth2.Token, error) {
	t.Helper()
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret,
		Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	return conf.PasswordCredentialsToken(ctx, user, password)
}

func TestServerStopsWhenTheTestEnds(t *testing.T) {
	var base string
	t.Run("inner", func(t *testing.T) {
		srv := tokenlabtest.NewServer(t)
		base = srv.URL
		if !strings.HasPrefix(base, "http://127.0.0.1:") || srv.Issuer() != base {
			t.Fatalf("want a loopback issuer, got %q and %q", base, srv.Issuer())
		}
		if got := status(srv.HTTPClient(), base+"/healthz"); got != http.StatusOK {
			t.Fatalf("healthz: %d", got)
		}
	})
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(base + "/healthz")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the server still answers after its test ended: %d", resp.StatusCode)
	}
}

// The database is a real SQLite file: a second server on the same file
// knows the first one's users.
func TestWithDBKeepsDataInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab.db")
	first := tokenlabtest.NewServer(t, tokenlabtest.WithDB(path))
	first.User("carol", "a long password")
	first.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	second := tokenlabtest.NewServer(t, tokenlabtest.WithDB(path))
	if _, err := passwordLogin(t, second, "tokenlab", "", "carol", "a long password"); err != nil {
		t.Fatalf("carol, created by the first server, cannot log in at the second: %v", err)
	}
}

func TestClientRegistration(t *testing.T) {
	srv := tokenlabtest.NewServer(t)
	one := srv.Client("one")
	two := srv.Client("two", tokenlabtest.ClientSecret("secret-of-two"))
	spa := srv.Client("spa", tokenlabtest.PublicClient())
	if one.Secret == "" || two.Secret != "secret-of-two" || spa.Secret != "" {
		t.Fatalf("secrets: %q %q %q", one.Secret, two.Secret, spa.Secret)
	}
	for _, c := range []tokenlabtest.Client{one, two, spa} {
		if _, err := passwordLogin(t, srv, c.ID, c.Secret, "alice", "password123"); err != nil {
			t.Errorf("client %s: %v", c.ID, err)
		}
	}
	// Registering an id again replaces it: the old secret stops working.
	again := srv.Client("one")
	if _, err := passwordLogin(t, srv, "one", one.Secret, "alice", "password123"); err == nil {
		t.Error("the replaced secret still works")
	}
	if _, err := passwordLogin(t, srv, "one", again.Secret, "alice", "password123"); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	limited := srv.Client("code-only", tokenlabtest.GrantTypes("authorization_code", "refresh_token"))
	_, err := passwordLogin(t, srv, limited.ID, limited.Secret, "alice", "password123")
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "unauthorized_client" {
		t.Errorf("a client without the password grant used it: %v", err)
	}
}

func TestClockAndPolicy(t *testing.T) {
	start := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := tokenlabtest.NewServer(t, tokenlabtest.WithStartTime(start),
		tokenlabtest.WithPolicy(func(p *tokenlabtest.Policy) { p.AccessTTL = time.Minute; p.Rotation = false }))
	if !srv.Now().Equal(start) {
		t.Fatalf("now: %s, want %s", srv.Now(), start)
	}
	srv.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !srv.Now().Equal(want) {
		t.Fatalf("after Advance: %s, want %s", srv.Now(), want)
	}
	if p := srv.Policy(); p.AccessTTL != time.Minute || p.Rotation {
		t.Fatalf("WithPolicy was not applied: %+v", p)
	}
	srv.SetPolicy(func(p *tokenlabtest.Policy) { p.AccessTTL = 2 * time.Minute })
	tok, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123")
	if err != nil || tok.ExpiresIn != 120 {
		t.Fatalf("after SetPolicy: expires_in %v, %v", tok, err)
	}
	if got := srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventClock}}); len(got) != 1 {
		t.Fatalf("want one clock_moved event, got %v", kinds(got))
	}
}

func TestOffsetClock(t *testing.T) {
	srv := tokenlabtest.NewServer(t, tokenlabtest.WithClock(tokenlabtest.ClockOffset))
	srv.Advance(time.Hour)
	if ahead := srv.Now().Sub(time.Now()); ahead < 59*time.Minute {
		t.Fatalf("an offset clock moved by an hour is %s ahead of real time", ahead)
	}
}

func TestEventsByTrace(t *testing.T) {
	srv := tokenlabtest.NewServer(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.APIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-a-token")
	req.Header.Set("Tokenlab-Trace", "test-42")
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := srv.Events(tokenlabtest.EventFilter{Trace: "test-42"})
	if len(got) != 1 || got[0].Kind != tokenlabtest.EventAccessRejected {
		t.Fatalf("events of trace test-42: %v", kinds(got))
	}
	if other := srv.Events(tokenlabtest.EventFilter{Trace: "other"}); len(other) != 0 {
		t.Fatalf("events of another trace: %v", kinds(other))
	}
}

func TestFaultOnLogin(t *testing.T) {
	srv := tokenlabtest.NewServer(t)
	srv.Fault(tokenlabtest.Fault{Route: tokenlabtest.RouteLogin, Status: http.StatusServiceUnavailable, Times: 2})
	for range 2 {
		_, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123")
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("login during the fault: %v", err)
		}
	}
	if _, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123"); err != nil {
		t.Fatalf("login after the fault was used up: %v", err)
	}
	srv.Fault(tokenlabtest.Fault{Route: tokenlabtest.RouteLogin, Status: http.StatusServiceUnavailable})
	srv.ClearFaults()
	if _, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123"); err != nil {
		t.Fatalf("login after ClearFaults: %v", err)
	}
}

// recordingTB fails as a test does (Fatalf ends the goroutine), but keeps
// the message for the test of the failure.
type recordingTB struct {
	testing.TB
	failure string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs do on its own goroutine, as Fatalf ends it, and returns
// the message it failed with.
func (r *recordingTB) failureOf(do func()) string {
	r.failure = ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		do()
	}()
	<-done
	return r.failure
}

func TestMisuseFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	srv := tokenlabtest.NewServer(rec)
	foreign := "http://127.0.0.1:1/oauth/authorize?client_id=x"
	valid := srv.AuthURL() + "?" + url.Values{"response_type": {"code"}, "client_id": {"tokenlab"},
		"redirect_uri": {"http://127.0.0.1:9/cb"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode()
	for _, tc := range []struct {
		name, want string
		do         func()
	}{
		{"built-in client id", "built-in public client", func() { srv.Client("tokenlab") }},
		{"client id with a colon", "client id", func() { srv.Client("a:b") }},
		{"empty user name", "username is required", func() { srv.User("", "pw") }},
		{"clock backwards", "negative", func() { srv.Advance(-time.Second) }},
		{"unknown fault route", "fault route", func() { srv.Fault(tokenlabtest.Fault{Route: "nowhere", Status: 503}) }},
		{"fault without effect", "needs a status", func() { srv.Fault(tokenlabtest.Fault{Route: tokenlabtest.RouteToken}) }},
		{"zero lifetime", "must be positive", func() { srv.SetPolicy(func(p *tokenlabtest.Policy) { p.AccessTTL = 0 }) }},
		{"another server's page", "not an authorization request", func() { srv.Authorize(foreign, "alice", "password123") }},
		{"wrong password", "answered 200", func() { srv.Authorize(valid, "alice", "wrong password") }},
		{"unknown client", "answered 400", func() {
			srv.Authorize(strings.Replace(valid, "client_id=tokenlab", "client_id=nobody", 1), "alice", "password123")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rec.failureOf(tc.do)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("want a failure saying %q, got %q", tc.want, got)
			}
		})
	}
	// What failed changed nothing: the server still works.
	if _, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123"); err != nil {
		t.Fatalf("login after the misuses: %v", err)
	}
}

func TestStartPanicsWithoutATest(t *testing.T) {
	srv, err := tokenlabtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "built-in public client") {
			t.Fatalf("want a panic naming the problem, got %v", v)
		}
	}()
	srv.Client("tokenlab")
}

func TestBadOptionsFailTheStart(t *testing.T) {
	for name, opt := range map[string]tokenlabtest.Option{
		"clock mode": tokenlabtest.WithClock("sundial"),
		"start time": tokenlabtest.WithStartTime(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)),
		"policy":     tokenlabtest.WithPolicy(func(p *tokenlabtest.Policy) { p.RefreshTTL = -time.Second }),
	} {
		t.Run(name, func(t *testing.T) {
			if srv, err := tokenlabtest.Start(opt); err == nil {
				srv.Close()
				t.Fatal("the server started")
			}
		})
	}
}

// Clients registered at once, while others log in, all end up registered.
func TestConcurrentRegistration(t *testing.T) {
	srv := tokenlabtest.NewServer(t, tokenlabtest.WithDB(":memory:"))
	clients := make([]tokenlabtest.Client, 8)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { clients[i] = srv.Client(fmt.Sprintf("app-%d", i)) })
		wg.Go(func() {
			if _, err := passwordLogin(t, srv, "tokenlab", "", "alice", "password123"); err != nil {
				t.Errorf("login while clients register: %v", err)
			}
		})
	}
	wg.Wait()
	for _, c := range clients {
		if _, err := passwordLogin(t, srv, c.ID, c.Secret, "alice", "password123"); err != nil {
			t.Errorf("client %s: %v", c.ID, err)
		}
	}
}
