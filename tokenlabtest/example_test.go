package tokenlabtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/tokenlabtest"
	"golang.org/x/oauth2"
)

// In a test, NewServer(t) starts the server and t.Cleanup stops it; an
// example has no t, so it uses Start and Close, which behave the same.
func Example() {
	srv, err := tokenlabtest.Start(tokenlabtest.WithStartTime(time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	app := srv.Client("my-app")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret,
		Endpoint: oauth2.Endpoint{AuthURL: srv.AuthURL(), TokenURL: srv.TokenURL()}}

	tok, err := conf.PasswordCredentialsToken(ctx, "alice", "password123")
	if err != nil {
		panic(err)
	}
	fmt.Println("access token for", tok.ExpiresIn, "seconds")
	fmt.Println("API:", status(conf.Client(ctx, tok), srv.APIURL()))

	srv.Advance(16 * time.Minute) // the server's clock; x/oauth2 still trusts its token
	fmt.Println("API 16 minutes later:", status(conf.Client(ctx, tok), srv.APIURL()))

	// Refresh with the stored refresh token: the server rotates it.
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		panic(err)
	}
	fmt.Println("rotated:", fresh.RefreshToken != tok.RefreshToken)
	fmt.Println("API after the refresh:", status(conf.Client(ctx, fresh), srv.APIURL()))
	for _, e := range srv.Events(tokenlabtest.EventFilter{Username: "alice"}) {
		fmt.Println(e.At.Format(time.Kitchen), e.Kind)
	}
	// Output:
	// access token for 900 seconds
	// API: 200
	// API 16 minutes later: 401
	// rotated: true
	// API after the refresh: 200
	// 9:00AM login
	// 9:16AM access_rejected
	// 9:16AM refresh
	// 9:16AM rotation
}

// Replaying a spent refresh token, as an app that lost its rotated token
// does after a restart, revokes the whole session.
func ExampleServer_Events() {
	srv, err := tokenlabtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	app := srv.Client("my-app")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL()}}
	tok, _ := conf.PasswordCredentialsToken(ctx, "alice", "password123")
	spent := &oauth2.Token{RefreshToken: tok.RefreshToken}

	_, err = conf.TokenSource(ctx, spent).Token() // rotates
	fmt.Println("first refresh:", err)
	_, err = conf.TokenSource(ctx, spent).Token() // the same refresh token again
	var re *oauth2.RetrieveError
	fmt.Println("second refresh:", errors.As(err, &re), re.ErrorCode)
	for _, e := range srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventReuseDetected, tokenlabtest.EventFamilyRevoked}}) {
		fmt.Println(e.Kind)
	}
	// Output:
	// first refresh: <nil>
	// second refresh: true invalid_grant
	// reuse_detected
	// family_revoked
}

// A fault makes the token endpoint fail on cue, here the next refresh.
func ExampleServer_Fault() {
	srv, err := tokenlabtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: "tokenlab", Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	tok, _ := conf.PasswordCredentialsToken(ctx, "alice", "password123")

	srv.Fault(tokenlabtest.Fault{Route: tokenlabtest.RouteToken, Status: http.StatusServiceUnavailable})
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		fmt.Println("refresh during the outage:", re.Response.StatusCode)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	fmt.Println("refresh after it:", err)
	// Output:
	// refresh during the outage: 503
	// refresh after it: <nil>
}

// SetPolicy changes lifetimes and rotation rules between a test's steps.
func ExampleServer_SetPolicy() {
	srv, err := tokenlabtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: "tokenlab", Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}

	srv.SetPolicy(func(p *tokenlabtest.Policy) { p.AccessTTL = 30 * time.Second })
	tok, _ := conf.PasswordCredentialsToken(ctx, "alice", "password123")
	fmt.Println("expires in", tok.ExpiresIn)
	// Output:
	// expires in 30
}

// Authorize plays the user's browser on the login page, for the
// authorization code grant with PKCE.
func ExampleServer_Authorize() {
	srv, err := tokenlabtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	app := srv.Client("web-app", tokenlabtest.RedirectURIs("http://127.0.0.1:8000/callback"))
	bob := srv.User("bob", "correct horse battery")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	conf := &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: "http://127.0.0.1:8000/callback",
		Endpoint: oauth2.Endpoint{AuthURL: srv.AuthURL(), TokenURL: srv.TokenURL()}}
	verifier := oauth2.GenerateVerifier()

	back := srv.Authorize(conf.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)), bob.Name, bob.Password)
	fmt.Println("back at", back.Path, "with state", back.Query().Get("state"))
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	fmt.Println("exchange:", err, "refresh token:", tok.RefreshToken != "")
	// Output:
	// back at /callback with state xyz
	// exchange: <nil> refresh token: true
}

// status is the status of a GET of url.
func status(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
