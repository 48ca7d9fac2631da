package mockserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// Grant types the server knows.
const (
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantAuthorizationCode = "authorization_code"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantClientCredentials = "client_credentials"
)

// allGrants is every grant, in the order discovery lists them.
var allGrants = []string{grantAuthorizationCode, grantDeviceCode, grantClientCredentials, grantRefreshToken, grantPassword}

// DefaultClientID is the built-in public client.
const DefaultClientID = "tokenlab"

// redirectLoopback in a client's redirect URIs allows any
// http://127.0.0.1:PORT/... or http://[::1]:PORT/... (RFC 8252 §7.3).
const redirectLoopback = "loopback"

// ClientConfig is a client to register at start-up. An empty Secret makes
// a public client. Empty lists take defaults: every grant the client type
// may use, loopback redirect URIs, any scope.
type ClientConfig struct {
	ID           string   `yaml:"id" json:"id"`
	Secret       string   `yaml:"secret" json:"secret"`
	SecretFile   string   `yaml:"secret_file" json:"secret_file"`
	RedirectURIs []string `yaml:"redirect_uris" json:"redirect_uris"`
	GrantTypes   []string `yaml:"grant_types" json:"grant_types"`
	Scopes       []string `yaml:"scopes" json:"scopes"`
	// AccessTTL and RefreshTTL, when set, replace the policy's lifetimes
	// for this client's tokens (never longer than the session's maximum).
	AccessTTL  Duration `yaml:"access_ttl" json:"access_ttl"`
	RefreshTTL Duration `yaml:"refresh_ttl" json:"refresh_ttl"`
}

// defaultClient is the public client every server has.
var defaultClient = ClientConfig{ID: DefaultClientID, RedirectURIs: []string{redirectLoopback},
	GrantTypes: []string{grantAuthorizationCode, grantDeviceCode, grantRefreshToken, grantPassword}}

// maxClients bounds the registry.
const maxClients = 1000

// ParseClientFile reads a client file: a YAML (or JSON) list of clients.
// A secret_file is read with readFile (relative names are the caller's
// business). Unknown fields are refused.
func ParseClientFile(data []byte, readFile func(string) ([]byte, error)) ([]ClientConfig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var clients []ClientConfig
	if err := dec.Decode(&clients); err != nil {
		return nil, fmt.Errorf("the client file must be a YAML or JSON list of clients (id, secret or secret_file, redirect_uris, grant_types, scopes): %w", err)
	}
	for i := range clients {
		c := &clients[i]
		if c.SecretFile != "" {
			if c.Secret != "" {
				return nil, fmt.Errorf("client %q: give secret or secret_file, not both", c.ID)
			}
			b, err := readFile(c.SecretFile)
			if err != nil {
				return nil, fmt.Errorf("client %q: read secret_file: %w", c.ID, err)
			}
			c.Secret, c.SecretFile = strings.TrimRight(string(b), "\r\n"), ""
		}
		if err := c.validate(); err != nil {
			return nil, err
		}
	}
	return clients, nil
}

// ParseClientFlag reads --client ID:SECRET.
func ParseClientFlag(v string) (ClientConfig, error) {
	id, secret, ok := strings.Cut(v, ":")
	c := ClientConfig{ID: id, Secret: secret}
	if !ok || id == "" || secret == "" {
		return c, fmt.Errorf("--client %q: write it as ID:SECRET", v)
	}
	return c, c.validate()
}

func (c ClientConfig) validate() error {
	switch {
	case c.ID == "":
		return errors.New("a client needs an id")
	case len(c.ID) > 128 || strings.ContainsFunc(c.ID, func(r rune) bool { return r <= ' ' || r == ':' || r > '~' }):
		return fmt.Errorf("client id %q: use at most 128 printable ASCII characters without spaces or colons", c.ID)
	case len(c.Secret) > 512:
		return fmt.Errorf("client %q: the secret is longer than 512 bytes", c.ID)
	case c.AccessTTL < 0 || c.RefreshTTL < 0 || time.Duration(c.AccessTTL) > maxLifetime || time.Duration(c.RefreshTTL) > maxLifetime:
		return fmt.Errorf("client %q: access_ttl and refresh_ttl must be positive and at most %s", c.ID, FormatDuration(maxLifetime))
	case c.Secret == "" && slices.Contains(c.GrantTypes, grantClientCredentials):
		return fmt.Errorf("client %q: client_credentials needs a secret (a public client cannot keep one)", c.ID)
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(allGrants, g) {
			return fmt.Errorf("client %q: unknown grant type %q (known: %s)", c.ID, g, strings.Join(allGrants, ", "))
		}
	}
	for _, u := range c.RedirectURIs {
		if u == redirectLoopback {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() || p.Fragment != "" || p.Host == "" {
			return fmt.Errorf("client %q: redirect URI %q must be an absolute URI without a fragment (or the word loopback)", c.ID, u)
		}
	}
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			return fmt.Errorf("client %q: scope %q has characters RFC 6749 §3.3 does not allow", c.ID, s)
		}
	}
	return nil
}

// registerClients makes the store's registry the configured clients plus
// the default public one. Known secrets keep their hash (bcrypt is slow).
func (s *Server) registerClients(ctx context.Context) error {
	configured := append([]ClientConfig{defaultClient}, s.cfg.Clients...)
	if len(configured) > maxClients {
		return fmt.Errorf("%w: at most %d clients", ErrBadConfig, maxClients)
	}
	seen := map[string]bool{}
	var clients []auth.Client
	for _, c := range configured {
		if seen[c.ID] {
			return fmt.Errorf("%w: client %q is configured twice (%s is the built-in public client)", ErrBadConfig, c.ID, DefaultClientID)
		}
		seen[c.ID] = true
		sc, err := s.clientRecord(ctx, c)
		if err != nil {
			return err
		}
		clients = append(clients, sc)
	}
	return s.db.SyncClients(ctx, clients, s.clock.Now())
}

func (s *Server) secretHash(ctx context.Context, id, secret string) ([]byte, error) {
	pre := secretDigest(secret)
	if old, err := s.db.ClientByID(ctx, id); err == nil && !old.Public() && bcrypt.CompareHashAndPassword(old.SecretHash, pre) == nil {
		return old.SecretHash, nil
	}
	return bcrypt.GenerateFromPassword(pre, s.cfg.BcryptCost)
}

// secretDigest is what bcrypt sees of a secret: its SHA-256 in hex, so
// secrets longer than bcrypt's 72 bytes count in full.
func secretDigest(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return []byte(hex.EncodeToString(sum[:]))
}

// clientCredentials are what a request says about its client.
type clientCredentials struct {
	id, secret string
	how        string // none, client_secret_basic or client_secret_post
}

// clientOf reads the client of a token-endpoint request (RFC 6749 §2.3):
// HTTP Basic, or client_id and client_secret in the form, never both.
func clientOf(r *http.Request, form map[string]string) (clientCredentials, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		cc := clientCredentials{id: form["client_id"], secret: form["client_secret"], how: "none"}
		if cc.secret != "" {
			cc.how = "client_secret_post"
			if cc.id == "" {
				return cc, badRequest("client_secret without client_id")
			}
		}
		return cc, nil
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id) // RFC 6749 §2.3.1 form-encodes both
		secret, err2 = url.QueryUnescape(secret)
		ok = err1 == nil && err2 == nil && id != ""
	}
	if !ok {
		return clientCredentials{}, invalidClient("the Authorization header is not HTTP Basic with client_id:client_secret")
	}
	switch {
	case form["client_secret"] != "":
		return clientCredentials{}, badRequest("send the client secret one way: HTTP Basic or client_secret, not both")
	case form["client_id"] != "" && form["client_id"] != id:
		return clientCredentials{}, badRequest("client_id in the form differs from the one in HTTP Basic")
	}
	return clientCredentials{id: id, secret: secret, how: "client_secret_basic"}, nil
}

func invalidClient(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Message: msg, Basic: true}
}

// authenticateClient checks the request's client. ok is false when the
// request names no client (the password and refresh grants allow that).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form map[string]string) (auth.Client, bool, error) {
	cc, err := clientOf(r, form)
	if err != nil || cc.id == "" {
		return auth.Client{}, false, err
	}
	c, err := s.db.ClientByID(ctx, cc.id)
	known := err == nil
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.Client{}, false, err
	}
	failed := func(why string) (auth.Client, bool, error) {
		// An unknown client_id may be a secret sent in the wrong field: it
		// is not logged, only that it was unknown.
		who := "an unknown client"
		if known {
			who = "client " + quote(cc.id)
		}
		s.event(ctx, auth.Event{At: s.clock.Now(), Kind: auth.EventClientAuthFailed,
			Reason: who + " was refused at the token endpoint: " + why})
		return auth.Client{}, false, invalidClient(why)
	}
	if cc.secret != "" {
		// Every secret is checked in the bounded hasher (and --login-rate),
		// an unknown client's against a dummy hash, so the answer takes as
		// long whether or not the client exists.
		hash := s.dummyHash
		if known && !c.Public() {
			hash = c.SecretHash
		}
		matched, err := s.compareHash(ctx, hash, string(secretDigest(cc.secret)))
		switch {
		case err != nil:
			return auth.Client{}, false, err
		case !known:
			return failed("no client is registered with this client_id")
		case c.Public():
			return failed("this is a public client; send client_id alone, without a secret")
		case !matched:
			return failed("wrong client secret")
		}
		return c, true, nil
	}
	switch {
	case !known:
		return failed("no client is registered with this client_id")
	case !c.Public():
		return failed("this is a confidential client; authenticate with HTTP Basic or client_secret")
	}
	return c, true, nil
}

// allowsGrant refuses a grant the client is not registered for.
func allowsGrant(c auth.Client, grant string) error {
	if slices.Contains(c.GrantTypes, grant) {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "unauthorized_client",
		Message: fmt.Sprintf("client %s may not use the %s grant (it may use: %s)", c.ID, grant, strings.Join(c.GrantTypes, ", "))}
}

// redirectAllowed reports whether uri is one of the client's redirect
// URIs: equal to a registered one, or a loopback IP URI when the client
// has "loopback". localhost is not loopback here (RFC 8252 §8.3: the name
// may resolve elsewhere).
func redirectAllowed(c auth.Client, uri string) bool {
	for _, allowed := range c.RedirectURIs {
		if allowed == uri || allowed == redirectLoopback && isLoopbackRedirect(uri) || sameLoopbackButPort(allowed, uri) {
			return true
		}
	}
	return false
}

// sameLoopbackButPort is RFC 8252 §7.3: a registered loopback redirect URI
// matches on any port, as a native app gets a free port at run time; the
// host, the path and the query must be the same.
func sameLoopbackButPort(registered, uri string) bool {
	if !isLoopbackRedirect(registered) || !isLoopbackRedirect(uri) {
		return false
	}
	a, _ := url.Parse(registered)
	b, _ := url.Parse(uri)
	return a.Hostname() == b.Hostname() && a.EscapedPath() == b.EscapedPath() && a.RawQuery == b.RawQuery
}

func isLoopbackRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	host := u.Hostname()
	return (host == "127.0.0.1" || host == "::1") && net.ParseIP(host) != nil && validPort(u.Port())
}

// validPort accepts a decimal TCP port, 1 to 65535, in digits only.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || strings.TrimLeft(p, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// checkScope refuses scopes the client may not ask for; empty allowed
// means any.
func checkScope(c auth.Client, scope string) error {
	if len(scope) > 1024 {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_scope", Message: "scope is longer than 1024 bytes"}
	}
	for _, sc := range strings.Split(scope, " ") {
		switch {
		case sc == "" && scope != "":
			return &Error{Status: http.StatusBadRequest, Code: "invalid_scope", Message: "scope tokens are separated by single spaces"}
		case sc == "":
		case !validScopeToken(sc):
			return &Error{Status: http.StatusBadRequest, Code: "invalid_scope", Message: "scope " + quote(sc) + " has characters RFC 6749 §3.3 does not allow"}
		case len(c.Scopes) > 0 && !slices.Contains(c.Scopes, sc):
			return &Error{Status: http.StatusBadRequest, Code: "invalid_scope",
				Message: fmt.Sprintf("client %s may not ask for scope %s (allowed: %s)", c.ID, quote(sc), strings.Join(c.Scopes, " "))}
		}
	}
	return nil
}

// validScopeToken is RFC 6749 §3.3's scope-token: %x21 / %x23-5B / %x5D-7E.
func validScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
			return false
		}
	}
	return s != ""
}

// checkResource validates an RFC 8707 resource indicator.
func checkResource(resource string) error {
	if resource == "" {
		return nil
	}
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Fragment != "" || len(resource) > 2048 || strings.ContainsAny(resource, " \t\r\n") {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_target",
			Message: "resource must be an absolute URI without a fragment (RFC 8707)"}
	}
	return nil
}

// sameClient compares client IDs in constant time.
func sameClient(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
