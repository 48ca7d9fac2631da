package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// The probe speaks OAuth 2.0 itself instead of through client.Client: it
// must send a spent token on purpose, five refreshes at once and PKCE
// requests a well-behaved client never makes, and client.Client (rightly)
// refuses to do any of these.

// metadata is the part of the provider's discovery document the probe uses.
type metadata struct {
	Issuer        string   `json:"issuer"`
	Token         string   `json:"token_endpoint"`
	Authorization string   `json:"authorization_endpoint"`
	Device        string   `json:"device_authorization_endpoint"`
	Revocation    string   `json:"revocation_endpoint"`
	Introspection string   `json:"introspection_endpoint"`
	Userinfo      string   `json:"userinfo_endpoint"`
	Grants        []string `json:"grant_types_supported"`
}

// maxBody bounds what the probe reads of any answer.
const maxBody = 1 << 20

// discover reads the provider's metadata (OpenID discovery, else RFC 8414)
// and refuses one that names another issuer or points an endpoint at
// another origin, as the client does: the probe sends passwords and
// tokens to these endpoints.
func (p *prober) discover(ctx context.Context) (metadata, error) {
	issuer := strings.TrimRight(p.cfg.Issuer, "/")
	var last error
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+path, nil)
		if err != nil {
			return metadata{}, fmt.Errorf("bad issuer URL %q: %w", issuer, err)
		}
		a, err := p.do(req)
		if err != nil {
			return metadata{}, err
		}
		var m metadata
		if a.Status != http.StatusOK || json.Unmarshal(a.body, &m) != nil || m.Token == "" {
			last = fmt.Errorf("%s answered %d without a token_endpoint", issuer+path, a.Status)
			continue
		}
		if strings.TrimRight(m.Issuer, "/") != issuer {
			return metadata{}, fmt.Errorf("the discovery document at %s names the issuer %q, not %s (RFC 8414 §3.3)", issuer+path, m.Issuer, issuer)
		}
		want, err := client.Origin(issuer)
		if err != nil {
			return metadata{}, err
		}
		for _, ep := range []string{m.Token, m.Authorization, m.Device, m.Revocation, m.Introspection, m.Userinfo} {
			if ep == "" {
				continue
			}
			if got, err := client.Origin(ep); err != nil || got != want {
				return metadata{}, fmt.Errorf("the discovery document points an endpoint at %q, another origin than the issuer %s; the probe sends tokens only to the issuer's origin", ep, want)
			}
		}
		return m, nil
	}
	return metadata{}, fmt.Errorf("OAuth discovery at %s failed: %w", issuer, last)
}

// answer is one HTTP exchange's result. body is never shown: it may hold
// tokens.
type answer struct {
	Status int
	Error  string // the OAuth error code, if the body has one
	body   []byte
	header http.Header
}

func (p *prober) do(req *http.Request) (answer, error) {
	resp, err := p.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Redacted(), err)
	}
	a := answer{Status: resp.StatusCode, body: body, header: resp.Header}
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if s, ok := e.Error.(string); ok {
			a.Error = client.Printable(s)
		}
	}
	return a, nil
}

// tokens is a token endpoint's successful answer.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	IDToken string `json:"id_token"`
}

// post sends a form to an endpoint, authenticated as the client is at the
// token endpoint (HTTP Basic with a secret, unless the profile says post;
// client_id in the form for a public client).
func (p *prober) post(ctx context.Context, endpoint string, form url.Values) (answer, error) {
	form = cloneForm(form)
	id, secret := p.cfg.ClientID, p.cfg.ClientSecret
	basic := secret != "" && p.cfg.ClientAuth != "post"
	if !basic && id != "" {
		form.Set("client_id", id)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) // RFC 6749 §2.3.1
	}
	return p.do(req)
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// grant posts a grant to the token endpoint; a 2xx answer's tokens are
// decoded.
func (p *prober) grant(ctx context.Context, form url.Values) (answer, tokens, error) {
	a, err := p.post(ctx, p.meta.Token, form)
	if err != nil || a.Status/100 != 2 {
		return a, tokens{}, err
	}
	var t tokens
	if err := json.Unmarshal(a.body, &t); err != nil || t.Access == "" {
		return a, tokens{}, fmt.Errorf("the token endpoint answered %d without an access_token", a.Status)
	}
	return a, t, nil
}

// refresh sends one refresh_token grant.
func (p *prober) refresh(ctx context.Context, refreshToken string) (answer, tokens, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return p.grant(ctx, form)
}

// revoke sends an RFC 7009 revocation of a refresh token.
func (p *prober) revoke(ctx context.Context, refreshToken string) (answer, error) {
	return p.post(ctx, p.meta.Revocation, url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}})
}

// errNoAccessCheck means no way to ask whether an access token is still good.
var errNoAccessCheck = errors.New("no way to check an access token")

// accessCheck is one way to ask whether an access token is still good.
type accessCheck struct {
	Name string // "introspection", "userinfo" or "protected URL"
	ask  func(ctx context.Context, accessToken string) (active bool, a answer, err error)
}

// accessChecks are the ways to check an access token, in the order the
// issue names them: introspection with the client's credentials, userinfo,
// the --protected URL.
func (p *prober) accessChecks() []accessCheck {
	var checks []accessCheck
	if p.meta.Introspection != "" {
		checks = append(checks, accessCheck{"introspection", func(ctx context.Context, tok string) (bool, answer, error) {
			a, err := p.post(ctx, p.meta.Introspection, url.Values{"token": {tok}, "token_type_hint": {"access_token"}})
			if err != nil {
				return false, a, err
			}
			if a.Status != http.StatusOK {
				return false, a, fmt.Errorf("introspection answered %d %s", a.Status, a.Error)
			}
			var r struct {
				Active bool `json:"active"`
			}
			if err := json.Unmarshal(a.body, &r); err != nil {
				return false, a, fmt.Errorf("introspection answered 200 without JSON: %w", err)
			}
			return r.Active, a, nil
		}})
	}
	bearer := func(name, target string) accessCheck {
		return accessCheck{name, func(ctx context.Context, tok string) (bool, answer, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return false, answer{}, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			a, err := p.do(req)
			return err == nil && a.Status/100 == 2, a, err
		}}
	}
	if p.meta.Userinfo != "" {
		checks = append(checks, bearer("userinfo", p.meta.Userinfo))
	}
	if p.cfg.Protected != "" {
		checks = append(checks, bearer("protected URL", p.cfg.Protected))
	}
	return checks
}

// sleep waits d in real time: the waits are the measurement itself (grace
// windows are real time at the provider).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
