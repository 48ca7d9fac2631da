package mockserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types in the JWT header: RFC 9068 for access tokens, and a private
// one for refresh tokens so neither can stand in for the other.
const (
	typAccess  = "at+jwt"
	typRefresh = "rt+jwt"
)

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Username  string `json:"username,omitempty"` // empty for client credentials
	SessionID string `json:"sid,omitempty"`      // the refresh-token family, for the logout denylist
	ClientID  string `json:"client_id,omitempty"`
	Scope     string `json:"scope,omitempty"`
	// Extra are the user's configured claims that access tokens carry
	// (Config.AccessTokenClaims); never read back from a token.
	Extra map[string]any `json:"-"`
}

// MarshalJSON adds Extra to the registered claims; a claim of the token's
// own is never replaced.
func (c AccessClaims) MarshalJSON() ([]byte, error) {
	type plain AccessClaims // without this method
	base, err := json.Marshal(plain(c))
	if err != nil || len(c.Extra) == 0 {
		return base, err
	}
	all := map[string]any{}
	if err := json.Unmarshal(base, &all); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, taken := all[k]; !taken {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// RefreshClaims are the claims of a refresh token.
type RefreshClaims struct {
	jwt.RegisteredClaims
	FamilyID string `json:"fid"`
}

// tokens issues and verifies both kinds of token.
type tokens struct {
	issuer   string
	audience string
	access   *signer
	refresh  *signer

	accessParser  *jwt.Parser
	anyAudParser  *jwt.Parser // introspection: tokens for other resources too
	refreshParser *jwt.Parser
	now           func() time.Time
	verified      *verifiedCache
}

func newTokens(issuer, audience string, access, refresh *signer, now func() time.Time) *tokens {
	parser := func(s *signer, extra ...jwt.ParserOption) *jwt.Parser {
		return jwt.NewParser(append([]jwt.ParserOption{
			jwt.WithValidMethods([]string{s.alg}),
			jwt.WithStrictDecoding(), // no padding, no non-zero trailing bits
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		}, extra...)...)
	}
	return &tokens{
		issuer: issuer, audience: audience, access: access, refresh: refresh, now: now,
		verified:      newVerifiedCache(verifiedCacheSize),
		accessParser:  parser(access, jwt.WithAudience(audience)),
		anyAudParser:  parser(access),
		refreshParser: parser(refresh),
	}
}

// signAccess signs an access token for sub (a user's numeric ID, or a
// client ID for client credentials) that lives ttl, but never past its
// session's deadline: a token must not outlive --session-max.
func (t *tokens) signAccess(sub, user string, fam familyRef, now time.Time, ttl time.Duration) (string, AccessClaims, error) {
	exp := now.Add(ttl)
	if !fam.deadline.IsZero() {
		exp = earliest(exp, fam.deadline)
	}
	c := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   sub,
			Audience:  t.audienceFor(fam.resource),
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        newID(),
		},
		Username:  user,
		SessionID: fam.id,
		ClientID:  fam.clientID,
		Scope:     fam.scope,
		Extra:     fam.claims,
	}
	s, err := sign(t.access, typAccess, c)
	return s, c, err
}

func (t *tokens) signRefresh(userID int64, familyID string, now, exp time.Time) (string, RefreshClaims, error) {
	return t.signRefreshAs(newID(), userID, familyID, now, exp)
}

// signRefreshAs signs a refresh token with a given identity: a replay
// inside the grace window gets its successor again, not a new one.
func (t *tokens) signRefreshAs(jti string, userID int64, familyID string, now, exp time.Time) (string, RefreshClaims, error) {
	c := RefreshClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(userID, 10),
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		FamilyID: familyID,
	}
	s, err := sign(t.refresh, typRefresh, c)
	return s, c, err
}

// familyRef is what an access token says of its session, and the
// session's deadline, which caps the token's exp.
type familyRef struct {
	id, clientID, scope, resource string
	deadline                      time.Time
	claims                        map[string]any // the user's claims that access tokens carry
}

// audienceFor is the aud of an access token. Without an RFC 8707 resource
// it is the configured audience. A resource on this server's own origin is
// added to it (this server's routes still accept the token); any other
// resource replaces it, so this server's routes refuse the token as meant
// for another audience, while introspection still describes it.
func (t *tokens) audienceFor(resource string) jwt.ClaimStrings {
	switch {
	case resource == "":
		return jwt.ClaimStrings{t.audience}
	case sameOrigin(resource, t.issuer):
		return jwt.ClaimStrings{t.audience, resource}
	}
	return jwt.ClaimStrings{resource}
}

func sign(s *signer, typ string, claims jwt.Claims) (string, error) {
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["typ"] = typ
	tok.Header["kid"] = s.kid
	out, err := tok.SignedString(s.sign)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return out, nil
}

// verifyAccess checks an access token: pinned algorithm, key ID, typ,
// issuer, audience, exp and nbf.
//
// A token that passed once is remembered by its exact text, and only its
// time claims are checked again: clients send the same token for its
// whole life, and the signature and JSON need checking only once. The
// returned claims are shared: callers must not change them.
func (t *tokens) verifyAccess(raw string) (*AccessClaims, error) {
	if c, ok := t.verified.get(raw); ok {
		now := t.now()
		switch {
		case !now.Before(c.ExpiresAt.Time):
			return c, refused(codeTokenExpired, "the token has expired")
		case now.Before(c.NotBefore.Time):
			return c, refused(codeInvalidToken, "the token is not valid yet (nbf is in the future)")
		}
		return c, nil
	}
	c, err := t.checkAccess(raw)
	if err == nil {
		t.verified.put(raw, c)
	}
	return c, err
}

// checkAccess verifies an access token in full, remembering nothing.
func (t *tokens) checkAccess(raw string) (*AccessClaims, error) {
	return t.parseAccess(t.accessParser, raw)
}

// describeAccess verifies an access token whatever its audience, for
// introspection: a resource server elsewhere may ask about its tokens.
func (t *tokens) describeAccess(raw string) (*AccessClaims, error) {
	return t.parseAccess(t.anyAudParser, raw)
}

func (t *tokens) parseAccess(p *jwt.Parser, raw string) (*AccessClaims, error) {
	c := &AccessClaims{}
	if !canonical(raw) {
		return c, errNotCanonical
	}
	if te := checkShape(raw); te != nil {
		return c, te
	}
	_, err := p.ParseWithClaims(raw, c, keyFunc(t.access, typAccess))
	if err != nil {
		return c, tokenFailure(err, raw, t.access.alg)
	}
	if c.IssuedAt != nil {
		if te := checkIssuedAt(c.IssuedAt.Time, t.now()); te != nil {
			return &AccessClaims{}, te
		}
	}
	if t.access.alg == "ES256" && highS(raw) { // verified as ES256: its second spelling
		return c, errHighS
	}
	if c.ID == "" || c.Subject == "" || c.NotBefore == nil {
		return c, refused(codeInvalidToken, "the token lacks a jti, sub or nbf claim")
	}
	return c, nil
}

// verifyRefresh checks a refresh token's signature and claims. An expired
// token still returns its claims with an error of code token_expired, so
// the caller can tell an expired token from an expired session.
func (t *tokens) verifyRefresh(raw string) (*RefreshClaims, error) {
	c := &RefreshClaims{}
	if !canonical(raw) {
		return c, errNotCanonical
	}
	if te := checkShape(raw); te != nil {
		return c, te
	}
	_, err := t.refreshParser.ParseWithClaims(raw, c, keyFunc(t.refresh, typRefresh))
	if err != nil {
		return c, tokenFailure(err, raw, t.refresh.alg)
	}
	if c.IssuedAt != nil {
		if te := checkIssuedAt(c.IssuedAt.Time, t.now()); te != nil {
			return &RefreshClaims{}, te
		}
	}
	if c.ID == "" || c.FamilyID == "" || c.Subject == "" {
		return c, refused(codeInvalidToken, "the refresh token lacks a jti, fid or sub claim")
	}
	if t.refresh.alg == "ES256" && highS(raw) {
		// The signature is genuine, so c names a real token: the caller
		// may still treat a replay of it as a reuse.
		return c, errHighS
	}
	return c, nil
}

// errHighS refuses the second (high-s) spelling of an ES256 signature.
var errHighS = refused(codeInvalidToken, "the token's ECDSA signature is not in canonical (low-s) form")

var errNotCanonical = refused(codeInvalidToken, "the token is malformed: only base64url characters and two dots are allowed")

// canonical reports whether raw is three base64url segments and nothing
// else. With strict decoding this gives every token one spelling, so a
// re-encoded copy of a spent refresh token cannot pass as an unknown one.
func canonical(raw string) bool {
	dots := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '.':
			dots++
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2
}

// keyFunc pins the key: the header must name our key ID and the expected
// typ, so a refresh token is never accepted as an access token or back.
func keyFunc(s *signer, typ string) jwt.Keyfunc {
	return func(tok *jwt.Token) (any, error) {
		if got, _ := tok.Header["typ"].(string); got != typ {
			return nil, refused(codeInvalidToken, fmt.Sprintf("the token is of type %q where %q was expected (an access token cannot stand in for a refresh token, nor back)", got, typ))
		}
		if kid, _ := tok.Header["kid"].(string); kid != s.kid {
			return nil, refused(codeInvalidToken, "the token was signed with a key this server does not use (an old key after a rotation, or another server's)")
		}
		return s.verify, nil
	}
}

// Codes in error answers, shared by both dialects' JSON.
const (
	codeInvalidToken   = "invalid_token"
	codeTokenExpired   = "token_expired"
	codeTokenRevoked   = "token_revoked"
	codeTokenReused    = "token_reused"
	codeSessionExpired = "session_expired"
)

// tokenFailure turns a jwt error into a refusal naming the problem in
// the server's own words (never the library's). raw is the token, alg the
// one algorithm accepted.
func tokenFailure(err error, raw, alg string) *Error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refused(codeInvalidToken, "the token is malformed")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// The key function's own words: a wrong typ or key ID.
		if te := (*Error)(nil); errors.As(err, &te) {
			return te
		}
		return refused(codeInvalidToken, "the token cannot be checked: its header names no key this server has")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if got := headerAlg(raw); got != alg {
			return refused(codeInvalidToken, fmt.Sprintf("the token is signed with %q, but this server accepts only %s", got, alg))
		}
		return refused(codeInvalidToken, "the token's signature does not match its contents: it was altered, or signed with another key")
	case errors.Is(err, jwt.ErrTokenExpired):
		return refused(codeTokenExpired, "the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return refused(codeInvalidToken, "the token is not valid yet (nbf is in the future)")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return refused(codeInvalidToken, "the token was issued by another issuer")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refused(codeInvalidToken, "the token is meant for another audience")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refused(codeInvalidToken, "the token lacks the exp claim")
	}
	return refused(codeInvalidToken, "the token is invalid")
}

// hashToken is what the database keeps of a refresh token.
func hashToken(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// newID returns a random 128-bit identifier as 32 hex digits.
func newID() string { return fmt.Sprintf("%x", randomBytes(16)) }

// headerAlg reads the alg a token's header names, "" when it cannot.
func headerAlg(raw string) string {
	head, _, _ := strings.Cut(raw, ".")
	data, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(data, &h) != nil {
		return ""
	}
	return h.Alg
}

// sameOrigin reports whether two absolute URLs share scheme and host:port.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme != "" && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}
