package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Login flows, as named by `tokenlab login --flow` and scenario steps.
const (
	FlowPassword          = "password"
	FlowPKCE              = "pkce"
	FlowDevice            = "device"
	FlowClientCredentials = "client-credentials"
)

// OAuth grant types (grant_types_supported values).
const (
	grantPassword          = "password"
	grantAuthorizationCode = "authorization_code"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantClientCredentials = "client_credentials"
	grantRefreshToken      = "refresh_token"
)

// grantOf is the grant type a flow needs.
var grantOf = map[string]string{
	FlowPassword:          grantPassword,
	FlowPKCE:              grantAuthorizationCode,
	FlowDevice:            grantDeviceCode,
	FlowClientCredentials: grantClientCredentials,
}

// discovery is the part of an OAuth server's metadata the client uses.
type discovery struct {
	Issuer        string   `json:"issuer"`
	Token         string   `json:"token_endpoint"`
	Revocation    string   `json:"revocation_endpoint"`
	Introspection string   `json:"introspection_endpoint"`
	JWKS          string   `json:"jwks_uri"`
	Authorization string   `json:"authorization_endpoint"`
	Device        string   `json:"device_authorization_endpoint"`
	Grants        []string `json:"grant_types_supported"`
	Userinfo      string   `json:"userinfo_endpoint"`
	Scopes        []string `json:"scopes_supported"`
	// IssParameter says the server always puts iss in its authorization
	// responses (RFC 9207 §3), so one without it is refused.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// offers reports whether the server offers a grant type. Without
// grant_types_supported, the endpoints decide, and the password grant is
// assumed (servers that predate RFC 8414 often offer it unlisted).
func (d discovery) offers(grant string) bool {
	switch grant {
	case grantAuthorizationCode:
		if d.Authorization == "" {
			return false
		}
	case grantDeviceCode:
		if d.Device == "" {
			return false
		}
	}
	if len(d.Grants) == 0 {
		return grant != grantDeviceCode || d.Device != ""
	}
	return slices.Contains(d.Grants, grant)
}

// offered words what the server offers, for error sentences.
func (d discovery) offered() string {
	if len(d.Grants) == 0 {
		return "no grant_types_supported in its discovery document"
	}
	return Printable(strings.Join(d.Grants, ", ")) // the server's words, bound for a terminal
}

// endpoints discovers the OAuth endpoints from the issuer (RFC 8414 or
// OpenID discovery), once. Endpoints on another origin than the issuer
// are refused unless the profile allows them.
func (c *Client) endpoints(ctx context.Context) (discovery, error) {
	c.discoMu.Lock()
	defer c.discoMu.Unlock()
	if c.disco != nil {
		return *c.disco, nil
	}
	issuer := strings.TrimRight(c.profile.OAuth.Issuer, "/")
	if issuer == "" {
		issuer = c.server
	}
	var lastErr error
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+path, nil)
		if err != nil {
			return discovery{}, fmt.Errorf("bad issuer %q: %w", issuer, err)
		}
		a, err := c.send(req, "discover the OAuth endpoints")
		if err != nil {
			return discovery{}, err
		}
		if a.status != http.StatusOK {
			lastErr = apiError(a)
			continue
		}
		var d discovery
		if err := json.Unmarshal(a.body, &d); err != nil || d.Token == "" {
			lastErr = fmt.Errorf("the discovery document at %s has no token_endpoint", issuer+path)
			continue
		}
		if err := checkIssuer(issuer, issuer+path, d.Issuer); err != nil {
			return discovery{}, err
		}
		if err := c.checkEndpointOrigins(issuer, d); err != nil {
			return discovery{}, err
		}
		c.disco = &d
		return d, nil
	}
	return discovery{}, fmt.Errorf("OAuth discovery at %s failed: %w", issuer, lastErr)
}

// checkIssuer refuses a discovery document whose issuer is not the one
// it was fetched for (RFC 8414 §3.3): a server that copies another's
// metadata must not pass for it. A trailing slash does not count (Hydra
// writes one; --server is given without).
func checkIssuer(want, docURL, got string) error {
	if strings.TrimRight(got, "/") == want {
		return nil
	}
	if got == "" {
		return fmt.Errorf("the discovery document at %s names no issuer, so it cannot be told from another server's", docURL)
	}
	return fmt.Errorf("the discovery document at %s names the issuer %q, not %s, so it is another server's and was refused (RFC 8414 §3.3)", docURL, got, want)
}

// checkEndpointOrigins refuses a discovery document whose endpoints are
// not http(s) URLs (the authorize URL goes to the OS browser opener), or
// that sends the client's secrets (passwords, codes, refresh tokens, the
// client secret) to another origin than the issuer's unless allowed.
func (c *Client) checkEndpointOrigins(issuer string, d discovery) error {
	want, err := Origin(issuer)
	if err != nil {
		return err
	}
	for _, ep := range []struct{ name, url string }{
		{"token_endpoint", d.Token}, {"revocation_endpoint", d.Revocation}, {"introspection_endpoint", d.Introspection},
		{"authorization_endpoint", d.Authorization}, {"device_authorization_endpoint", d.Device},
		{"userinfo_endpoint", d.Userinfo}, // it receives the access token
	} {
		if ep.url == "" {
			continue
		}
		got, err := Origin(ep.url)
		if err != nil {
			return fmt.Errorf("the discovery document's %s %w", ep.name, err)
		}
		if got != want && !c.profile.OAuth.AllowCrossOriginEndpoints {
			return sentinelf(ErrCrossOriginEndpoint, "the discovery document at %s points its %s at %s, another origin than the issuer %s; refused so that no secret goes elsewhere (allow it with the profile key oauth.allow_cross_origin_endpoints or --allow-cross-origin-endpoints if that server is really yours)", issuer, ep.name, got, want)
		}
	}
	return nil
}

// ErrCrossOriginEndpoint means discovery pointed an endpoint at another
// origin than the issuer, which the client refuses unless allowed.
var ErrCrossOriginEndpoint = errors.New("cross-origin OAuth endpoint refused")

// grantForm starts a token or authorization request's form with the
// grant type, the profile's scope and its RFC 8707 resources.
func (c *Client) grantForm(grant string) url.Values {
	form := url.Values{}
	if grant != "" {
		form.Set("grant_type", grant)
	}
	if c.profile.OAuth.Scope != "" {
		form.Set("scope", c.profile.OAuth.Scope)
	}
	for _, r := range c.profile.OAuth.Resources {
		form.Add("resource", r)
	}
	c.withOpenID(form, grant)
	return form
}

// FlowChoice is the login flow ChooseFlow picked, and why, in words.
type FlowChoice struct {
	Flow   string
	Reason string
}

// ChooseFlow picks the login flow for this server: password for the json
// dialect; for OAuth, PKCE when the server has an authorization endpoint
// and a browser can be opened, else device authorization when offered,
// else password when offered. When nothing fits, the error (matching
// ErrFlowNotOffered) names what the server offers.
func (c *Client) ChooseFlow(ctx context.Context, browser bool) (FlowChoice, error) {
	if c.profile.Dialect != DialectOAuth2 {
		return FlowChoice{FlowPassword, "profile " + c.profile.Name + " logs in with a username and password"}, nil
	}
	d, err := c.endpoints(ctx)
	if err != nil {
		return FlowChoice{}, err
	}
	var ch FlowChoice
	switch {
	case d.offers(grantAuthorizationCode) && browser:
		ch = FlowChoice{FlowPKCE, "the server has an authorization endpoint and a browser can be opened"}
	case d.offers(grantDeviceCode):
		ch = FlowChoice{FlowDevice, "the server offers device authorization"}
		if d.offers(grantAuthorizationCode) {
			ch.Reason += " and no browser can be opened here"
		}
	case d.offers(grantPassword):
		ch = FlowChoice{FlowPassword, "the server offers the password grant"}
		if d.offers(grantAuthorizationCode) {
			ch.Reason += " (and no browser can be opened here for PKCE)"
		}
	case d.offers(grantAuthorizationCode):
		return FlowChoice{}, sentinelf(ErrFlowNotOffered, "the server offers only the browser login (%s) and no browser can be opened here; run it where one can, or pass --flow pkce and open the printed URL yourself", d.offered())
	default:
		return FlowChoice{}, sentinelf(ErrFlowNotOffered, "the server offers %s, and none of pkce, device or password fits", d.offered())
	}
	c.emit(Event{Kind: EventFlowChosen, Detail: ch.Flow + ": " + ch.Reason})
	return ch, nil
}

// CheckFlow says, before anything is sent, when the server does not offer
// a flow (its error would mislead: Hydra answers a password grant with
// invalid_request about redirect_uri). Non-OAuth profiles only know
// password.
func (c *Client) CheckFlow(ctx context.Context, flow string) error {
	grant, ok := grantOf[flow]
	if !ok {
		return fmt.Errorf("unknown login flow %q: use password, pkce, device or client-credentials", flow)
	}
	if c.profile.Dialect != DialectOAuth2 {
		if flow != FlowPassword {
			return sentinelf(ErrFlowNotOffered, "profile %s speaks the %s dialect, which logs in only with a password; use an oauth2 profile for %s", c.profile.Name, c.profile.Dialect, flow)
		}
		return nil
	}
	d, err := c.endpoints(ctx)
	if err != nil {
		return err
	}
	if !d.offers(grant) {
		return sentinelf(ErrFlowNotOffered, "the server does not offer the %s grant (it offers %s)", grant, d.offered())
	}
	return nil
}
