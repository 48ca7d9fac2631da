package client

// OpenID Connect on the client side: asking for openid when the server
// offers it, the nonce of the authorization request, verifying the ID
// token that comes back (OIDC Core §3.1.3.7), and naming a session from
// the ID token or the userinfo endpoint when the access token is opaque.

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client/jwtx"
)

// scopeOpenID is the scope that makes a login an OpenID Connect one.
const scopeOpenID = "openid"

// idTokenLeeway is how far past exp an ID token is still taken, for the
// clock difference between the server and this machine (OIDC Core
// §3.1.3.7 allows a small one).
const idTokenLeeway = time.Minute

// ErrIDToken means the server sent an ID token that does not verify:
// its signature, iss, aud, azp, nonce or exp. The login is refused.
var ErrIDToken = errors.New("invalid ID token")

// EventIDToken: the ID token arrived and verified (or was not kept).
const EventIDToken = "id_token"

// offersOpenID says whether the discovery document lists openid in
// scopes_supported: only then does tokenlab ask for it.
func (d discovery) offersOpenID() bool { return slices.Contains(d.Scopes, scopeOpenID) }

// withOpenID adds openid to a user login's scope when the discovered
// server offers it and the profile names no scope of its own (a scope
// given, by --scope or the profile, is sent as written: the user chose
// it). Client credentials have no user, so no ID token.
// It reads the cached discovery: every OAuth flow discovers before it
// builds a form (CheckFlow), and a server not yet discovered is not asked.
func (c *Client) withOpenID(form url.Values, grant string) {
	if grant == grantClientCredentials || grant == grantRefreshToken || c.profile.OAuth.Scope != "" {
		return
	}
	c.discoMu.Lock()
	offered := c.disco != nil && c.disco.offersOpenID()
	c.discoMu.Unlock()
	if !offered {
		return
	}
	scopes := strings.Fields(strings.Join(form["scope"], " "))
	if slices.Contains(scopes, scopeOpenID) {
		return
	}
	form["scope"] = []string{strings.Join(append([]string{scopeOpenID}, scopes...), " ")}
}

// asksOpenID says whether a login's request asks for openid, so that a
// nonce goes with it.
func asksOpenID(form url.Values) bool {
	return slices.Contains(strings.Fields(strings.Join(form["scope"], " ")), scopeOpenID)
}

// IDClaims are the claims of a verified ID token, as the session keeps
// them when the token itself does not fit (see fitIDToken).
type IDClaims map[string]any

// IDTokenClaims returns the claims of the session's ID token: decoded from
// the kept token, or the claims kept instead of it; nil when the login
// brought no ID token. Only verified ID tokens are kept.
func (s Session) IDTokenClaims() IDClaims {
	if s.IDToken != "" {
		if d, err := Decode(s.IDToken); err == nil {
			return IDClaims(d.Claims)
		}
	}
	if len(s.IDClaims) == 0 {
		return nil
	}
	var claims IDClaims
	dec := json.NewDecoder(bytes.NewReader(s.IDClaims))
	dec.UseNumber() // as Decode reads them, so that Expiry works
	if dec.Decode(&claims) != nil {
		return nil
	}
	return claims
}

// String is a claim's value as text ("" when absent or not a string).
func (c IDClaims) String(name string) string {
	v, _ := c[name].(string)
	return v
}

// Expiry is the claims' exp; zero when absent.
func (c IDClaims) Expiry() time.Time {
	return Decoded{Claims: c}.Expiry()
}

// verifyIDToken checks the ID token of a login's answer (OIDC Core
// §3.1.3.7): the signature with a key of the server's JWKS, iss equal to
// the discovered issuer, the client id in aud (and azp when there are
// several audiences), exp not past, and the nonce when one was sent. It
// returns the token's claims; nil and no error when the answer has none.
func (c *Client) verifyIDToken(ctx context.Context, ans tokenAnswer) (IDClaims, error) {
	if ans.idToken == "" || c.profile.Dialect != DialectOAuth2 {
		// An ID token is OpenID Connect's: a JSON API that happens to
		// answer one has no discovery to verify it with, and the client
		// neither trusts nor keeps it.
		return nil, nil
	}
	d, err := c.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	if d.JWKS == "" {
		return nil, idTokenErrorf("the server sent an ID token but publishes no jwks_uri to verify it with")
	}
	jwks, err := c.fetchJWKS(ctx, d.JWKS)
	if err != nil {
		return nil, err
	}
	if err := jwtx.VerifyJWKS(ans.idToken, jwks); err != nil {
		return nil, idTokenErrorf("its signature does not verify with the server's JWKS: %v", err)
	}
	tok, err := Decode(ans.idToken)
	if err != nil {
		return nil, idTokenErrorf("%v", err)
	}
	claims := IDClaims(tok.Claims)
	clientID, _ := c.oauthClient()
	if err := checkIDClaims(claims, d.Issuer, clientID, ans.nonce, c.now()); err != nil { // the server's clock, as for every expiry
		return nil, err
	}
	detail := "the ID token verified: signature with the server's JWKS, iss, aud, exp"
	if ans.nonce != "" {
		detail += " and the nonce sent with the authorization request"
	}
	c.emit(Event{Kind: EventIDToken, URL: d.JWKS, Detail: detail})
	return claims, nil
}

// checkIDClaims is the claim part of verifyIDToken.
func checkIDClaims(claims IDClaims, issuer, clientID, nonce string, now time.Time) error {
	if iss := claims.String("iss"); iss != issuer {
		return idTokenErrorf("its iss is %q, not the issuer %s", Printable(iss), issuer)
	}
	aud := audiences(claims["aud"])
	if !slices.Contains(aud, clientID) {
		return idTokenErrorf("its aud %q does not name this client %s", Printable(strings.Join(aud, " ")), clientID)
	}
	if azp := claims.String("azp"); (len(aud) > 1 || azp != "") && azp != clientID {
		return idTokenErrorf("it has several audiences and its azp %q is not this client %s", Printable(azp), clientID)
	}
	exp := claims.Expiry()
	if exp.IsZero() {
		return idTokenErrorf("it has no exp")
	}
	if now.After(exp.Add(idTokenLeeway)) {
		return idTokenErrorf("it expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(claims.String("nonce")), []byte(nonce)) != 1 {
		return idTokenErrorf("its nonce is not the one this login sent (a token from another login, replayed)")
	}
	return nil
}

func idTokenErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: the server's ID token was refused: "+format, append([]any{ErrIDToken}, args...)...)
}

// audiences reads aud, a string or an array of strings.
func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// fetchJWKS reads the server's key set.
func (c *Client) fetchJWKS(ctx context.Context, jwksURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad jwks_uri %q: %w", jwksURL, err)
	}
	req.Header.Set("Accept", "application/json")
	a, err := c.send(req, "fetch the server's keys to verify the ID token")
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, idTokenErrorf("the jwks_uri answered %d", a.status)
	}
	return a.body, nil
}

// userName names who the claims belong to: preferred_username, username
// or sub, passing over values with control or bidi characters (the name is
// printed, and the server chose it).
func userName(claims map[string]any) string {
	for _, claim := range []string{"preferred_username", "username", "sub"} {
		if v, ok := claims[claim].(string); ok && v != "" && Printable(v) == v {
			return v
		}
	}
	return ""
}

// sessionUser names a new session whose tokens arrived without a
// username: the access token's claims when it is a JWT, else the verified
// ID token's, else what the userinfo endpoint says (OIDC Core §5.3) for
// an opaque access token. "" when none of them names anyone.
func (c *Client) sessionUser(ctx context.Context, ans tokenAnswer, id IDClaims) string {
	if u := tokenUser(ans.access); u != "" {
		return u
	}
	if u := userName(id); u != "" {
		return u
	}
	return c.userinfoUser(ctx, ans.access)
}

// userinfoUser asks the userinfo endpoint who the access token is for;
// "" when the server has none or does not answer with a name.
func (c *Client) userinfoUser(ctx context.Context, access string) string {
	if c.profile.Dialect != DialectOAuth2 {
		return ""
	}
	d, err := c.endpoints(ctx)
	if err != nil || d.Userinfo == "" {
		return ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Userinfo, nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/json")
	a, err := c.send(req, "userinfo: ask who the opaque access token is for, to name the session")
	if err != nil || a.status != http.StatusOK {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(a.body, &claims) != nil {
		return ""
	}
	return userName(claims)
}

// idTokenClaimsKept are the claims a session keeps of an ID token that
// does not fit whole.
var idTokenClaimsKept = []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "preferred_username", "name", "email"}

// fitIDToken keeps the verified ID token in the session when the whole
// session still fits a keyring entry (MaxSessionBytes); else only its main
// claims (the signature was checked at login, and nothing later needs the
// token itself); else nothing. It says which in an event.
func (c *Client) fitIDToken(s *Session, token string, claims IDClaims) {
	if token == "" {
		return
	}
	s.IDToken = token
	if data, err := json.Marshal(s); err == nil && len(data) <= MaxSessionBytes {
		return
	}
	s.IDToken = ""
	kept := map[string]any{}
	for _, name := range idTokenClaimsKept {
		if v, ok := claims[name]; ok {
			kept[name] = v
		}
	}
	if raw, err := json.Marshal(kept); err == nil {
		s.IDClaims = raw
		if data, err := json.Marshal(s); err == nil && len(data) <= MaxSessionBytes {
			c.emit(Event{Kind: EventIDToken, Detail: fmt.Sprintf("the ID token (%d bytes) does not fit the session's %d-byte keyring budget beside the other tokens: its main claims are kept instead", len(token), MaxSessionBytes)})
			return
		}
	}
	s.IDClaims = nil
	c.emit(Event{Kind: EventIDToken, Detail: fmt.Sprintf("the ID token does not fit the session's %d-byte keyring budget, not even its main claims: it was verified and not kept", MaxSessionBytes)})
}
