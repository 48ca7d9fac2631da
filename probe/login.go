package probe

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// login starts a chain with the configured flow and notes whether the
// answer carried an ID token.
func (p *prober) login(ctx context.Context, ev evidence, why string) (tokens, error) {
	p.report.Logins++
	p.progress("login %d (%s): %s", p.report.Logins, p.cfg.Flow, why)
	var (
		t   tokens
		err error
	)
	switch p.cfg.Flow {
	case FlowPassword:
		form := p.grantForm("password")
		form.Set("username", p.cfg.Username)
		form.Set("password", p.cfg.Password)
		t, err = p.loginGrant(ctx, ev, form, "password grant for "+p.cfg.Username)
	case FlowClientCredentials:
		t, err = p.loginGrant(ctx, ev, p.grantForm("client_credentials"), "client_credentials grant")
	case FlowDevice:
		t, err = p.deviceLogin(ctx, ev)
	case FlowPKCE:
		var res authorizeResult
		res, err = p.authorizeLogin(ctx, pkceS256)
		if err == nil && res.refused != "" {
			err = fmt.Errorf("the PKCE login was refused (%s)", res.refused)
		}
		t = res.tokens
		if err == nil {
			p.noteIss(res)
			ev.add("log in with authorization code + PKCE S256", res.answer, "tokens "+p.label('A', t.Access)+", "+p.label('R', t.Refresh))
		}
	}
	if err != nil {
		return tokens{}, fmt.Errorf("%s: login failed: %w", why, err)
	}
	if got := t.IDToken != ""; p.report.Traits.IDToken == nil || got != *p.report.Traits.IDToken {
		p.report.Traits.IDToken = ptr(got)
		outcome := "the answer has no id_token"
		if got {
			outcome = "the answer has an id_token"
		}
		p.evidence("id_token").add(fmt.Sprintf("login %d with scope %s", p.report.Logins, p.cfg.Scope), answer{Status: http.StatusOK}, outcome)
	}
	return t, nil
}

func (p *prober) grantForm(grant string) url.Values {
	form := url.Values{"grant_type": {grant}, "scope": {p.cfg.Scope}}
	for _, r := range p.cfg.Resources {
		form.Add("resource", r)
	}
	return form
}

func (p *prober) loginGrant(ctx context.Context, ev evidence, form url.Values, what string) (tokens, error) {
	a, t, err := p.grant(ctx, form)
	if err != nil {
		return tokens{}, err
	}
	if a.Status/100 != 2 {
		return tokens{}, fmt.Errorf("the token endpoint refused the %s (%d %s)", what, a.Status, a.Error)
	}
	ev.add("log in: "+what, a, "tokens "+p.label('A', t.Access)+", "+p.label('R', t.Refresh))
	return t, nil
}

// deviceLogin runs RFC 8628: ask for a code, show it, poll until approved.
func (p *prober) deviceLogin(ctx context.Context, ev evidence) (tokens, error) {
	if p.meta.Device == "" {
		return tokens{}, errors.New("the discovery document names no device_authorization_endpoint")
	}
	form := url.Values{"scope": {p.cfg.Scope}}
	for _, r := range p.cfg.Resources {
		form.Add("resource", r)
	}
	a, err := p.post(ctx, p.meta.Device, form)
	if err != nil {
		return tokens{}, err
	}
	var d struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
		URI        string `json:"verification_uri"`
		Complete   string `json:"verification_uri_complete"`
		Interval   int    `json:"interval"`
	}
	if a.Status != http.StatusOK || json.Unmarshal(a.body, &d) != nil || d.DeviceCode == "" {
		return tokens{}, fmt.Errorf("the device authorization endpoint answered %d %s", a.Status, a.Error)
	}
	show := d.Complete
	if show == "" {
		show = d.URI
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.LoginTimeout)
	defer cancel()
	if err := p.cfg.Device(ctx, show, d.UserCode); err != nil {
		return tokens{}, err
	}
	interval := time.Duration(max(d.Interval, 1)) * time.Second
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {d.DeviceCode}}
	for {
		if err := sleep(ctx, interval); err != nil {
			return tokens{}, fmt.Errorf("the device login was not approved in time: %w", err)
		}
		a, t, err := p.grant(ctx, poll)
		switch {
		case err != nil:
			return tokens{}, err
		case a.Status/100 == 2:
			ev.add("log in: device authorization", a, "tokens "+p.label('A', t.Access)+", "+p.label('R', t.Refresh))
			return t, nil
		case a.Error == "authorization_pending":
		case a.Error == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		default:
			return tokens{}, fmt.Errorf("the device login ended with %d %s", a.Status, a.Error)
		}
	}
}

// pkceVariant is how an authorization request treats PKCE.
type pkceVariant int

const (
	pkceS256  pkceVariant = iota // a right S256 challenge and verifier
	pkceWrong                    // an S256 challenge, then another verifier
	pkcePlain                    // method plain
	pkceNone                     // no challenge, no verifier
)

var pkceNames = map[pkceVariant]string{pkceS256: "S256", pkceWrong: "S256 with a wrong verifier", pkcePlain: "plain", pkceNone: "no challenge"}

// authorizeResult is one authorization-code login's outcome.
type authorizeResult struct {
	tokens  tokens
	answer  answer // the token endpoint's
	refused string // where and how it was refused, or ""
	iss     *bool  // whether the redirect carried iss (nil: no redirect)
}

// authorizeLogin runs one authorization request with a loopback redirect
// (RFC 8252) and trades its code. A refusal at the authorize step (an
// error answer, or a redirect with error) or at the token endpoint is a
// result, not an error.
func (p *prober) authorizeLogin(ctx context.Context, v pkceVariant) (authorizeResult, error) {
	if p.meta.Authorization == "" {
		return authorizeResult{}, errors.New("the discovery document names no authorization_endpoint")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return authorizeResult{}, fmt.Errorf("cannot listen on 127.0.0.1 for the redirect: %w", err)
	}
	redirectURI := "http://" + ln.Addr().String() + "/callback"
	verifier, state := random(32), random(16)
	callbacks := make(chan url.Values, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		// Any local program or web page can reach this port: a callback
		// with another state is not this login's, and must not end it.
		if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(state)) != 1 {
			http.Error(w, "this is not the state of tokenlab probe's login", http.StatusBadRequest)
			return
		}
		select {
		case callbacks <- r.URL.Query():
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "tokenlab probe has the answer; you can close this tab.")
		default:
			http.Error(w, "this login is already over", http.StatusGone)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	q := url.Values{"response_type": {"code"}, "client_id": {p.cfg.ClientID}, "redirect_uri": {redirectURI},
		"state": {state}, "scope": {p.cfg.Scope}}
	for _, r := range p.cfg.Resources {
		q.Add("resource", r)
	}
	switch v {
	case pkceS256, pkceWrong:
		sum := sha256.Sum256([]byte(verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	case pkcePlain:
		q.Set("code_challenge", verifier)
		q.Set("code_challenge_method", "plain")
	}
	u, err := url.Parse(p.meta.Authorization)
	if err != nil {
		return authorizeResult{}, err
	}
	u.RawQuery = q.Encode()

	// Ask once without a browser: a provider that refuses the request
	// itself answers an error or redirects with one, and no person needs
	// to be bothered.
	if refused, err := p.preflight(ctx, u.String(), redirectURI); err != nil || refused != "" {
		return authorizeResult{refused: refused}, err
	}

	wctx, cancel := context.WithTimeout(ctx, p.cfg.LoginTimeout)
	defer cancel()
	helper := make(chan error, 1)
	go func() { helper <- p.cfg.Authorize(wctx, u.String()) }()
	var cb url.Values
	for cb == nil {
		select {
		case cb = <-callbacks:
		case err := <-helper:
			if err != nil {
				return authorizeResult{}, fmt.Errorf("the login helper failed: %w", err)
			}
			helper = nil // done; the redirect may still be on its way
		case <-wctx.Done():
			return authorizeResult{}, fmt.Errorf("no redirect came back to %s within %s", redirectURI, p.cfg.LoginTimeout)
		}
	}
	res := authorizeResult{iss: ptr(cb.Has("iss"))}
	switch {
	case cb.Get("state") != state:
		return res, errors.New("the redirect came back with another state")
	case cb.Get("error") != "":
		res.refused = "at the authorize step: " + cb.Get("error")
		return res, nil
	case cb.Get("code") == "":
		return res, errors.New("the redirect came back without a code")
	}
	form := p.grantForm("authorization_code")
	form.Del("scope")
	form.Set("code", cb.Get("code"))
	form.Set("redirect_uri", redirectURI)
	switch v {
	case pkceS256, pkcePlain:
		form.Set("code_verifier", verifier)
	case pkceWrong:
		form.Set("code_verifier", random(32))
	}
	a, t, err := p.grant(ctx, form)
	if err != nil {
		return res, err
	}
	res.answer, res.tokens = a, t
	if a.Status/100 != 2 {
		res.refused = fmt.Sprintf("at the token endpoint: %d %s", a.Status, a.Error)
	}
	return res, nil
}

// preflight sends the authorization request without cookies and says
// whether the provider refused it outright.
func (p *prober) preflight(ctx context.Context, authorizeURL, redirectURI string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return "", err
	}
	a, err := p.do(req)
	if err != nil {
		return "", err
	}
	if a.Status >= 400 {
		return fmt.Sprintf("at the authorize step: %d %s", a.Status, a.Error), nil
	}
	if loc := a.header.Get("Location"); a.Status/100 == 3 && strings.HasPrefix(loc, redirectURI) {
		if u, err := url.Parse(loc); err == nil && u.Query().Get("error") != "" {
			return "at the authorize step: " + u.Query().Get("error"), nil
		}
	}
	return "", nil
}

// noteIss records iss_in_authorization_response from the S256 login.
func (p *prober) noteIss(res authorizeResult) {
	if p.report.Traits.IssInAuthorizationResponse != nil || res.iss == nil {
		return
	}
	p.report.Traits.IssInAuthorizationResponse = res.iss
	outcome := "the redirect has no iss"
	if *res.iss {
		outcome = "the redirect has iss"
	}
	p.evidence("iss_in_authorization_response").add("log in with authorization code + PKCE S256", answer{}, outcome)
}

// measurePKCE: S256, S256 with a wrong verifier, plain, no challenge.
func (p *prober) measurePKCE(ctx context.Context) error {
	ev := p.evidence("pkce")
	switch {
	case p.meta.Authorization == "":
		ev.note("not measured: the discovery document names no authorization_endpoint")
		p.evidence("iss_in_authorization_response").note("null: no authorization request")
		return nil
	case p.cfg.Authorize == nil:
		ev.note("not measured: logging in with " + p.cfg.Flow + " and no login helper, so no authorization request can be completed")
		p.evidence("iss_in_authorization_response").note("null: no authorization request")
		return nil
	}
	accepted := map[pkceVariant]bool{}
	variants := []pkceVariant{pkceS256, pkceWrong, pkcePlain, pkceNone}
	if p.cfg.Flow == FlowPKCE && p.report.Logins > 0 {
		// Every chain logged in with S256 already.
		accepted[pkceS256] = true
		ev.note("PKCE S256: accepted (every chain's login used it)")
		variants = variants[1:]
	}
	for _, v := range variants {
		p.report.Logins++
		p.progress("login %d: PKCE %s", p.report.Logins, pkceNames[v])
		res, err := p.authorizeLogin(ctx, v)
		if err != nil {
			return fmt.Errorf("PKCE %s: %w", pkceNames[v], err)
		}
		if v == pkceS256 {
			p.noteIss(res)
		}
		if res.refused != "" {
			ev.add("log in with PKCE "+pkceNames[v], res.answer, "refused "+res.refused)
		} else {
			ev.add("log in with PKCE "+pkceNames[v], res.answer, "accepted")
			accepted[v] = true
		}
	}
	var verdict string
	switch {
	case !accepted[pkceS256]:
		return errors.New("the provider refused a login with a right S256 PKCE challenge and verifier")
	case accepted[pkceWrong]:
		verdict = PKCEUnsupported
	case accepted[pkceNone]:
		verdict = PKCEOptional
	case accepted[pkcePlain]:
		verdict = PKCES256OrPlain
	default:
		verdict = PKCERequiredS256
	}
	p.report.Traits.PKCE = ptr(verdict)
	return nil
}

// random is n random bytes, base64url without padding.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
