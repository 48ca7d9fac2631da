package interoptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// Names fixed by testdata/oidc-provider/server.js.
const (
	PublicClientID  = "tokenlab"         // no secret; PKCE, device, refresh
	MachineClientID = "tokenlab-machine" // confidential; client_credentials
	APIResource     = "urn:tokenlab:api" // RFC 8707 resource: JWT access tokens
	APIScope        = "api:read"
	Username        = "alice"
	Password        = "password123"
)

// Upper bounds, not delays: a healthy run takes a fraction of each.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// OIDCProviderOptions change the server's settings for one test.
type OIDCProviderOptions struct {
	// AccessTTL is the access tokens' lifetime, whole seconds (0: 10 minutes).
	AccessTTL time.Duration
}

// OIDCProvider is a running oidc-provider.
type OIDCProvider struct {
	Issuer    string
	Discovery Discovery
	// MachineSecretFile holds the confidential client's secret (0600).
	MachineSecretFile string
	machineSecret     string
}

// Discovery is the part of the server's discovery document the tests use.
type Discovery struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	IntrospectionEndpoint       string   `json:"introspection_endpoint"`
	JWKSURI                     string   `json:"jwks_uri"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
}

// MachineSecret is the confidential client's secret.
func (p *OIDCProvider) MachineSecret() string { return p.machineSecret }

// StartOIDCProvider starts oidc-provider, as testdata/oidc-provider's
// lockfile installed it (see RequireNodeModules), on a free port of
// 127.0.0.1. It is stopped when the test ends.
func StartOIDCProvider(tb testing.TB, opts OIDCProviderOptions) *OIDCProvider {
	tb.Helper()
	dir := filepath.Join(RepoRoot(tb), "testdata", "oidc-provider")
	node := RequireNodeModules(tb, dir)
	requireNodeVersion(tb, node, "node-oidc-provider")

	secret := randomString(tb)
	secretFile := filepath.Join(tb.TempDir(), "machine-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	env := []string{"OIDC_MACHINE_SECRET_FILE=" + secretFile}
	if opts.AccessTTL > 0 {
		env = append(env, "OIDC_ACCESS_TTL="+strconv.Itoa(int(opts.AccessTTL/time.Second)))
	}

	cmd := exec.Command(node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p := &OIDCProvider{MachineSecretFile: secretFile, machineSecret: secret}
	p.Issuer = startIssuer(tb, "oidc-provider", cmd)
	p.Discovery = waitForDiscovery(tb, p.Issuer)
	return p
}

// minNode is the oldest Node.js oidc-provider 9 runs on (it needs
// URL.parse); oauth2-mock-server 9.3 runs on it too (its package.json asks
// for 22, but the probe test passes on 20.20). Debian 12's own nodejs
// package (18.x) is older: the machine's Node.js 20 comes with the machine
// image.
var minNode = [2]int{20, 19}

// requireNodeVersion skips (fails under CI=true) when node is too old for
// the named server.
func requireNodeVersion(tb testing.TB, node, server string) {
	tb.Helper()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		tb.Fatalf("%s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	var major, minor int
	if _, err := fmt.Sscanf(version, "v%d.%d", &major, &minor); err != nil {
		tb.Fatalf("%s --version printed %q", node, version)
	}
	if major > minNode[0] || (major == minNode[0] && minor >= minNode[1]) {
		return
	}
	testskip.Real(tb, server, fmt.Sprintf("node %s is older than %d.%d, which it needs", version, minNode[0], minNode[1]))
}

// waitForDiscovery polls the discovery document until it is served.
func waitForDiscovery(tb testing.TB, issuer string) Discovery {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for {
		d, err := fetchDiscovery(ctx, client, issuer)
		if err == nil {
			return d
		}
		lastErr = err
		select {
		case <-ctx.Done():
			tb.Fatalf("the server's discovery document: %v", lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func fetchDiscovery(ctx context.Context, client *http.Client, issuer string) (Discovery, error) {
	var d Discovery
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return d, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return d, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return d, err
	}
	if d.Issuer != issuer {
		return d, fmt.Errorf("issuer %q, want %q", d.Issuer, issuer)
	}
	return d, nil
}

// notInstalled names the first package of dir's package-lock.json that
// node_modules lacks or holds at another version, or returns "".
func notInstalled(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return "", fmt.Errorf("%s/package-lock.json: %w", dir, err)
	}
	for path, want := range lock.Packages {
		if path == "" {
			continue // the project itself
		}
		var got struct {
			Version string `json:"version"`
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path), "package.json"))
		if err != nil || json.Unmarshal(data, &got) != nil || got.Version != want.Version {
			return path + "@" + want.Version, nil
		}
	}
	return "", nil
}

func randomString(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignIn follows an authorization URL through oidc-provider's sign-in and
// consent pages as a browser without JavaScript would: it signs in with
// username and password, then allows (or, when allow is false, denies) the
// request, and follows the redirect to the client's redirect URI. It
// returns the last page: the one the redirect URI served, or the page it
// stopped on.
func (p *OIDCProvider) SignIn(ctx context.Context, b *FormBrowser, authorizeURL, username, password string, allow bool) (Page, error) {
	page, err := b.Get(ctx, authorizeURL)
	if err != nil {
		return page, err
	}
	return p.interact(ctx, b, page, interaction{username: username, password: password, allow: allow})
}

// ApproveDevice opens the device flow's verification URI (with the user code
// in it, verification_uri_complete), confirms the code, signs in and allows
// (or denies) the request. It returns the last page ("Sign-in Success" when
// it worked).
func (p *OIDCProvider) ApproveDevice(ctx context.Context, b *FormBrowser, verificationURIComplete, username, password string, allow bool) (Page, error) {
	page, err := b.Get(ctx, verificationURIComplete)
	if err != nil {
		return page, err
	}
	return p.interact(ctx, b, page, interaction{username: username, password: password, allow: allow})
}

// ApproveDeviceCode is ApproveDevice for a person who reads the user code
// off the device: it opens verification_uri and types the code there.
func (p *OIDCProvider) ApproveDeviceCode(ctx context.Context, b *FormBrowser, verificationURI, userCode, username, password string, allow bool) (Page, error) {
	page, err := b.Get(ctx, verificationURI)
	if err != nil {
		return page, err
	}
	return p.interact(ctx, b, page, interaction{userCode: userCode, username: username, password: password, allow: allow})
}

// interaction is what the person answers on the server's pages.
type interaction struct {
	userCode, username, password string
	allow                        bool
	signedIn                     bool // the sign-in form was sent once
}

// interact answers the server's pages until it sends the browser elsewhere
// (the redirect URI) or shows a page that asks for nothing.
func (p *OIDCProvider) interact(ctx context.Context, b *FormBrowser, page Page, answers interaction) (Page, error) {
	for range 8 {
		if page.URL.Host != hostOf(p.Issuer) {
			return page, nil
		}
		form, set, err := answers.nextForm(page)
		if err != nil || form == nil {
			return page, err
		}
		if page, err = b.Submit(ctx, page, *form, set); err != nil {
			return page, err
		}
	}
	return page, errors.New("still on the server's pages after eight forms")
}

// nextForm is what a person would submit on the page, or nil when the page
// asks for nothing.
func (a *interaction) nextForm(page Page) (*Form, url.Values, error) {
	pick := func(match func(Form) bool) *Form {
		if f, ok := page.Form(match); ok {
			return &f
		}
		return nil
	}
	switch {
	case strings.HasPrefix(page.URL.Path, "/interaction/"):
		if login := pick(func(f Form) bool { return f.Has("password") }); login != nil {
			if a.signedIn {
				return nil, nil, errors.New("the sign-in page came back: username or password refused")
			}
			a.signedIn = true
			return login, url.Values{"login": {a.username}, "password": {a.password}}, nil
		}
		action := "/confirm"
		if !a.allow {
			action = "/abort"
		}
		if f := pick(func(f Form) bool { return strings.HasSuffix(f.Action, action) }); f != nil {
			return f, nil, nil
		}
		return nil, nil, fmt.Errorf("interaction page %s has no %s form", page.URL, action)
	case strings.Contains(page.Body, "document.forms[0].submit()"):
		// A form_post page: JavaScript submits it, or the person clicks
		// the <noscript> Continue button.
		return pick(func(Form) bool { return true }), nil, nil
	default:
		// The device flow's pages (oidc-provider's own): the code, then
		// its confirmation.
		if f := pick(func(f Form) bool { return f.ID == "op.deviceInputForm" }); f != nil {
			if a.userCode == "" {
				// Nothing (more) to type: after a deny, or when the code
				// was refused, the page asks again. The caller reads it.
				return nil, nil, nil
			}
			code := a.userCode
			a.userCode = "" // typed once
			return f, url.Values{"user_code": {code}}, nil
		}
		if f := pick(func(f Form) bool { return f.ID == "op.deviceConfirmForm" }); f != nil {
			if !a.allow {
				return f, url.Values{"abort": {"yes"}}, nil
			}
			return f, nil, nil
		}
		return nil, nil, nil
	}
}

// Introspect asks the server (RFC 7662, as the public client) whether a
// token is active.
func (p *OIDCProvider) Introspect(tb testing.TB, ctx context.Context, token string) bool {
	tb.Helper()
	form := url.Values{"token": {token}, "client_id": {PublicClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Discovery.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("introspection: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("introspection: %s", resp.Status)
	}
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatalf("introspection: %v", err)
	}
	return out.Active
}

// VerifyAccessToken checks a JWT access token as the API it is for would
// (RFC 9068): its ES256 signature with a key of the server's JWKS, typ
// at+jwt, iss, aud = APIResource, exp. oidc-provider does not introspect
// JWT access tokens (it answers 400: "structured tokens" must be verified
// by the resource server).
func (p *OIDCProvider) VerifyAccessToken(ctx context.Context, token string) (jwt.MapClaims, error) {
	keys, err := p.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if key, ok := keys[kid]; ok {
			return key, nil
		}
		return nil, fmt.Errorf("no key %q in the JWKS", kid)
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(p.Issuer), jwt.WithAudience(APIResource), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("the access token does not verify: %w", err)
	}
	if typ := parsed.Header["typ"]; typ != "at+jwt" {
		return nil, fmt.Errorf("the access token's typ is %v, want at+jwt (RFC 9068)", typ)
	}
	return claims, nil
}

// signingKeys reads the server's JWKS: its P-256 keys by kid.
func (p *OIDCProvider) signingKeys(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Discovery.JWKSURI, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Crv, Kid, X, Y string } `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil {
			return nil, fmt.Errorf("JWK %s: coordinates are not base64url", k.Kid)
		}
		key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("JWK %s: %w", k.Kid, err)
		}
		keys[k.Kid] = key
	}
	return keys, nil
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
