package mockserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// OpenID Connect on top of the OAuth dialect (OIDC Core 1.0): ID tokens
// from the code, device, password and refresh grants when scope openid
// was granted, the userinfo endpoint, and RP-initiated logout.

const (
	scopeOpenID = "openid"
	// idTokenAlg signs every ID token whatever --alg says for access
	// tokens: OIDC Discovery §3 makes RS256 the one algorithm every
	// relying party supports, and an HS256 ID token would have to be
	// checked with the client's secret, which public clients have not.
	idTokenAlg = "RS256"
	typIDToken = "JWT"
)

// idKeyHolder keeps the ID-token key, made on first use: generating an
// RSA key costs a noticeable moment, and most servers (every test, every
// scenario) never issue an ID token.
type idKeyHolder struct {
	mu sync.Mutex
	s  *signer
}

// idSigner returns the ID-token signer, loading it from the database (or
// generating and storing it) the first time.
func (s *Server) idSigner(ctx context.Context) (*signer, error) {
	s.idKeys.mu.Lock()
	defer s.idKeys.mu.Unlock()
	if s.idKeys.s == nil {
		sg, err := loadSigner(context.WithoutCancel(ctx), s.db, "id", idTokenAlg, "")
		if err != nil {
			return nil, err
		}
		s.idKeys.s = sg
	}
	return s.idKeys.s, nil
}

// hasScope reports whether the space-separated scope holds name.
func hasScope(scope, name string) bool { return slices.Contains(strings.Fields(scope), name) }

// scopeClaims are the claims each standard scope asks for (OIDC Core §5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
		"picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// protocolClaims are set by the server alone; a user's configured claims
// may not name them (config validation refuses them).
var protocolClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "at_hash",
	"c_hash", "azp", "sid", "acr", "amr", "scope", "client_id", "username", "typ"}

// scopeOfClaim is the standard scope that asks for a claim, "" for a
// claim of no standard scope (groups, roles, ...).
func scopeOfClaim(name string) string {
	for scope, names := range scopeClaims {
		if slices.Contains(names, name) {
			return scope
		}
	}
	return ""
}

// claimsFor is what the ID token and userinfo say of a user for the
// granted scope: a standard claim only when its scope was granted (the
// username as preferred_username with profile), any other configured
// claim (groups, roles) whenever openid was.
func (s *Server) claimsFor(username, scope string) map[string]any {
	out := map[string]any{}
	if hasScope(scope, "profile") {
		out["preferred_username"] = username
	}
	for name, v := range s.userClaims[lookupUsername(username)] {
		if sc := scopeOfClaim(name); sc == "" || hasScope(scope, sc) {
			out[name] = v
		}
	}
	return out
}

// ClaimsScope names the standard scope that releases a claim ("" for
// none), for documentation and the config file's checks.
func ClaimsScope(name string) string { return scopeOfClaim(name) }

// IsProtocolClaim reports whether the server alone sets the claim.
func IsProtocolClaim(name string) bool { return slices.Contains(protocolClaims, name) }

// idTokenFor signs the ID token of a grant (OIDC Core §2, §3.1.3.6,
// §12.2): none unless openid was granted to a user through a client.
// auth_time is when the session began; a refreshed ID token keeps it and
// carries no nonce (§12.2).
func (s *Server) idTokenFor(ctx context.Context, g grant, now time.Time) (string, error) {
	fam := g.family
	if fam.ID == "" || fam.ClientID == "" || !hasScope(g.Scope, scopeOpenID) {
		return "", nil
	}
	sg, err := s.idSigner(ctx)
	if err != nil {
		return "", err
	}
	claims := jwt.MapClaims{}
	for k, v := range s.claimsFor(fam.Username, g.Scope) {
		claims[k] = v
	}
	exp := earliest(now.Add(s.accessTTL(s.Policy(), fam.ClientID)), fam.ExpiresAt)
	claims["iss"] = s.cfg.Issuer
	claims["sub"] = strconv.FormatInt(fam.UserID, 10)
	claims["aud"] = fam.ClientID
	claims["azp"] = fam.ClientID
	claims["exp"] = exp.Unix()
	claims["iat"] = now.Unix()
	claims["auth_time"] = fam.CreatedAt.Unix()
	claims["sid"] = fam.ID
	claims["at_hash"] = atHash(g.Access)
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	return sign(sg, typIDToken, claims)
}

// atHash is OIDC Core §3.1.3.6's at_hash for RS256: the left half of the
// access token's SHA-256, base64url.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// handleUserinfo is OIDC Core §5.3: the user's claims for a bearer access
// token granted scope openid. Refusals carry RFC 6750 §3's challenge.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if c.Username == "" || !hasScope(c.Scope, scopeOpenID) {
		return &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Bearer: true, Scope: scopeOpenID,
			Message: "userinfo answers access tokens of a user granted scope openid; log in again asking for it"}
	}
	u, err := s.db.UserByName(r.Context(), c.Username)
	if errors.Is(err, auth.ErrNotFound) {
		return &Error{Status: http.StatusUnauthorized, Code: codeInvalidToken, Bearer: true, Message: "the token's user no longer exists"}
	}
	if err != nil {
		return err
	}
	out := s.claimsFor(u.Username, c.Scope)
	out["sub"] = c.Subject
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// endSessionPath is RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0); an HTML route, whose errors are pages.
const endSessionPath = "/oauth/end_session"

// handleEndSession ends the session an ID token names (id_token_hint's
// sid) as /logout ends one, then sends the browser to the client's
// post_logout_redirect_uri with state, or shows a page. The URI must be
// one of the client's registered redirect URIs, never an open redirect.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) error {
	p, err := endSessionParams(w, r)
	if err != nil {
		return err
	}
	var hint *idHint
	if p.Get("id_token_hint") != "" {
		if hint, err = s.parseIDHint(r.Context(), p.Get("id_token_hint")); err != nil {
			return err
		}
	}
	clientID := p.Get("client_id")
	switch {
	case hint != nil && clientID != "" && !sameClient(clientID, hint.clientID):
		return badRequest("client_id differs from the audience of id_token_hint")
	case hint != nil:
		clientID = hint.clientID
	}
	redirect := p.Get("post_logout_redirect_uri")
	if redirect != "" {
		if err := s.checkLogoutRedirect(r.Context(), clientID, redirect); err != nil {
			return err
		}
	}
	ended := false
	if hint != nil && hint.sid != "" {
		_, err := s.db.RevokeFamily(r.Context(), hint.sid, auth.EventLogout, "rp_initiated_logout", s.clock.Now())
		if err != nil && !errors.Is(err, auth.ErrNotFound) {
			return err
		}
		ended = err == nil // ended now or before: either way it is over
	}
	if redirect == "" {
		s.renderPage(w, http.StatusOK, "logged_out", struct {
			Ended    bool
			ClientID string
		}{ended, clientID})
		return nil
	}
	u, _ := url.Parse(redirect) // checked by checkLogoutRedirect
	if st := p.Get("state"); st != "" {
		q := u.Query()
		q.Set("state", st)
		u.RawQuery = q.Encode()
	}
	pageHeaders(w)
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
	return nil
}

// endSessionParams reads the query (GET) or the form (POST); each
// parameter at most once and bounded, as on the authorize page.
func endSessionParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		if _, err := readForm(w, r); err != nil {
			return nil, err
		}
		values = r.PostForm
	}
	for name, v := range values {
		switch {
		case len(v) > 1:
			return nil, badRequest("parameter %s appears more than once", quote(name))
		case len(v[0]) > 8*maxParam: // an ID token with claims is longer than other parameters
			return nil, badRequest("parameter %s is too long", quote(name))
		}
	}
	return values, nil
}

// checkLogoutRedirect allows only a registered redirect URI of a known
// client (RP-Initiated Logout §3).
func (s *Server) checkLogoutRedirect(ctx context.Context, clientID, uri string) error {
	if clientID == "" {
		return badRequest("post_logout_redirect_uri needs client_id or id_token_hint, to know whose registered URIs it must be one of")
	}
	c, err := s.db.ClientByID(ctx, clientID)
	if errors.Is(err, auth.ErrNotFound) {
		return badRequest("no application is registered as %s", quote(clientID))
	}
	if err != nil {
		return err
	}
	if !redirectAllowed(c, uri) {
		return badRequest("post_logout_redirect_uri %s is not registered for %s, so the logout does not send you there", quote(uri), clientID)
	}
	if !followsUnattended(c, uri) {
		return errUnattendedRedirect(uri)
	}
	return nil
}

// idHint is what an id_token_hint names.
type idHint struct{ clientID, sid string }

// parseIDHint verifies an ID token this server issued; an expired one is
// still a fine hint (RP-Initiated Logout §2).
func (s *Server) parseIDHint(ctx context.Context, raw string) (*idHint, error) {
	sg, err := s.idSigner(ctx)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{idTokenAlg}), jwt.WithIssuer(s.cfg.Issuer), jwt.WithoutClaimsValidation())
	bad := badRequest("id_token_hint is not an ID token of this server (its signature, issuer or audience does not check)")
	if _, err := p.ParseWithClaims(raw, claims, keyFunc(sg, typIDToken)); err != nil {
		return nil, bad
	}
	if iss, _ := claims["iss"].(string); iss != s.cfg.Issuer {
		return nil, bad
	}
	aud, _ := claims["aud"].(string)
	sid, _ := claims["sid"].(string)
	if aud == "" {
		return nil, bad
	}
	return &idHint{clientID: aud, sid: sid}, nil
}
