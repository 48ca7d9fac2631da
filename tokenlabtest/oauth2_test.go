package tokenlabtest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/tokenlabtest"
	"golang.org/x/oauth2"
)

// apiClient is the code under test, written as an app using
// golang.org/x/oauth2 would be: it keeps its token where a restart finds
// it (saved), and when the API answers 401 it refreshes once and retries.
type apiClient struct {
	conf  *oauth2.Config
	ctx   context.Context
	saved *oauth2.Token
}

// get calls url with the saved token, refreshing on a 401.
func (a *apiClient) get(url string) (int, error) {
	status, err := a.call(url, oauth2.ReuseTokenSource(a.saved, a.conf.TokenSource(a.ctx, a.saved)))
	if err != nil || status != http.StatusUnauthorized {
		return status, err
	}
	// The API refused a token x/oauth2 thinks fresh (the provider's clock
	// and ours differ): force a refresh with the saved refresh token.
	return a.call(url, a.conf.TokenSource(a.ctx, &oauth2.Token{RefreshToken: a.saved.RefreshToken}))
}

func (a *apiClient) call(url string, src oauth2.TokenSource) (int, error) {
	tok, err := src.Token()
	if err != nil {
		return 0, err
	}
	a.saved = tok // persisted before use: golang/oauth2#84's lesson
	req, err := http.NewRequestWithContext(a.ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := oauth2.NewClient(a.ctx, oauth2.StaticTokenSource(tok)).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func kinds(events []tokenlabtest.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

// TestOAuth2TokenSource puts an x/oauth2 client through a login with the
// password grant, an expiry made by the server's clock, a refresh with
// rotation, and the replay of a spent refresh token by a stale copy of
// the app, as a user of tokenlabtest tests their own client.
func TestOAuth2TokenSource(t *testing.T) {
	srv := tokenlabtest.NewServer(t, tokenlabtest.WithPolicy(func(p *tokenlabtest.Policy) { p.AccessTTL = 5 * time.Minute }))
	app := srv.Client("report-app")
	bob := srv.User("bob", "correct horse battery")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret,
		Endpoint: oauth2.Endpoint{AuthURL: srv.AuthURL(), TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}}

	first, err := conf.PasswordCredentialsToken(ctx, bob.Name, bob.Password)
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	if first.RefreshToken == "" || first.ExpiresIn != 300 {
		t.Fatalf("want a refresh token and expires_in 300, got %q and %d", first.RefreshToken, first.ExpiresIn)
	}
	a := &apiClient{conf: conf, ctx: ctx, saved: first}
	if status, err := a.get(srv.APIURL()); err != nil || status != http.StatusOK {
		t.Fatalf("API with a fresh token: %d, %v", status, err)
	}
	if got := srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventRefresh}}); len(got) != 0 {
		t.Fatalf("a fresh token needs no refresh, the server saw %d", len(got))
	}

	srv.Advance(6 * time.Minute)
	if status, err := a.get(srv.APIURL()); err != nil || status != http.StatusOK {
		t.Fatalf("API after expiry: %d, %v; the app should have refreshed after the 401", status, err)
	}
	if a.saved.RefreshToken == first.RefreshToken {
		t.Fatal("the refresh did not rotate the refresh token")
	}
	family := srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventLogin}, Username: "bob"})
	if len(family) != 1 || family[0].FamilyID == "" {
		t.Fatalf("want one login of bob with its family, got %+v", family)
	}
	session := tokenlabtest.EventFilter{FamilyID: family[0].FamilyID}
	if got, want := kinds(srv.Events(session)), []string{"login", "access_rejected", "refresh", "rotation"}; !slices.Equal(got, want) {
		t.Fatalf("events of the session: got %v, want %v", got, want)
	}

	// A second copy of the app that kept the first token (it did not
	// persist the rotation) refreshes with the spent refresh token.
	stale := &apiClient{conf: conf, ctx: ctx, saved: &oauth2.Token{RefreshToken: first.RefreshToken}}
	_, err = stale.get(srv.APIURL())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("a replayed refresh token: want invalid_grant, got %v", err)
	}
	if got := srv.Events(tokenlabtest.EventFilter{FamilyID: family[0].FamilyID,
		Kinds: []string{tokenlabtest.EventReuseDetected, tokenlabtest.EventFamilyRevoked}}); len(got) != 2 {
		t.Fatalf("want reuse_detected and family_revoked, got %v", kinds(got))
	}

	// Reuse detection revoked the whole family: the good copy's token
	// is refused too, and the app must send bob to log in again.
	srv.Advance(6 * time.Minute)
	if _, err := a.get(srv.APIURL()); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh in a revoked family: want invalid_grant, got %v", err)
	}
}

// TestOAuth2AuthorizationCode logs in through the authorize page with
// PKCE, as a web app using x/oauth2 does.
func TestOAuth2AuthorizationCode(t *testing.T) {
	srv := tokenlabtest.NewServer(t)
	app := srv.Client("web-app", tokenlabtest.RedirectURIs("http://127.0.0.1:9/callback"))
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: "http://127.0.0.1:9/callback",
		Endpoint: oauth2.Endpoint{AuthURL: srv.AuthURL(), TokenURL: srv.TokenURL()}, Scopes: []string{"read"}}
	verifier := oauth2.GenerateVerifier()

	back := srv.Authorize(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), "alice", "password123")
	if back.Query().Get("state") != "state-1" || back.Query().Get("code") == "" {
		t.Fatalf("the redirect back to the app: %s", back)
	}
	if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption("not-the-verifier-"+verifier)); err == nil {
		t.Fatal("a code redeemed with the wrong PKCE verifier was accepted")
	}
	back = srv.Authorize(conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(verifier)), "alice", "password123")
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	resp, err := conf.Client(ctx, tok).Get(srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API with the code's token: %d", resp.StatusCode)
	}
	if got := kinds(srv.Events(tokenlabtest.EventFilter{Username: "alice"})); !slices.Contains(got, "code_redeemed") {
		t.Fatalf("want code_redeemed among alice's events, got %v", got)
	}
}

// TestOAuth2ConcurrentRefresh shows the bug of twenty requests each
// refreshing with the same token, and x/oauth2's shared TokenSource that
// avoids it: the event log tells them apart.
func TestOAuth2ConcurrentRefresh(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shared bool
	}{
		{"one shared TokenSource", true},
		{"a TokenSource per request", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tokenlabtest.NewServer(t, tokenlabtest.WithDB(":memory:"))
			app := srv.Client("app")
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient())
			conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL()}}
			tok, err := conf.PasswordCredentialsToken(ctx, "alice", "password123")
			if err != nil {
				t.Fatal(err)
			}
			stored := &oauth2.Token{RefreshToken: tok.RefreshToken} // as a restart finds it
			shared := conf.TokenSource(ctx, stored)
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					src := shared
					if !tc.shared {
						src = conf.TokenSource(ctx, stored)
					}
					src.Token() // the replays fail; the log says why
				})
			}
			wg.Wait()
			refreshes := srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventRefresh}})
			reuse := srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventReuseDetected}})
			switch {
			case tc.shared && (len(refreshes) != 1 || len(reuse) != 0):
				t.Errorf("a shared TokenSource: %d refreshes and %d reuses, want 1 and 0", len(refreshes), len(reuse))
			case !tc.shared && len(reuse) == 0:
				// The first refresh rotates; every later one replays the spent token.
				t.Errorf("twenty TokenSources refreshed with one token (%d refreshes) and no reuse was detected", len(refreshes))
			}
		})
	}
}
