package probe

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/tokenlabtest"
)

// TestAuthorizeLoginIgnoresAWrongState: the probe's loopback redirect
// listener is on a port any local program (or a web page, with an image)
// can reach. A callback with another state is refused and the login goes
// on waiting for its own; it took the one slot and failed the login
// ("came back with another state").
func TestAuthorizeLoginIgnoresAWrongState(t *testing.T) {
	srv := tokenlabtest.NewServer(t)
	cfg := Config{Issuer: srv.Issuer(), ClientID: "tokenlab", Flow: FlowPKCE, Scope: DefaultScope, LoginTimeout: 20 * time.Second,
		Authorize: func(ctx context.Context, authorizeURL string) error {
			u, _ := url.Parse(authorizeURL)
			forged := u.Query().Get("redirect_uri") + "?code=forged&state=wrong"
			if resp, err := http.Get(forged); err == nil {
				resp.Body.Close()
			}
			redirect := srv.Authorize(authorizeURL, "alice", "password123")
			resp, err := http.Get(redirect.String())
			if err == nil {
				resp.Body.Close()
			}
			return err
		}}
	p := &prober{cfg: cfg, http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		start: time.Now(), labels: map[string]string{}, counts: map[byte]int{}}
	p.report = &Report{Evidence: map[string][]Step{}}
	meta, err := p.discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p.meta = meta
	res, err := p.authorizeLogin(t.Context(), pkceS256)
	if err != nil || res.refused != "" || res.tokens.Access == "" {
		t.Fatalf("login after a forged callback: %+v, %v", res, err)
	}
}
