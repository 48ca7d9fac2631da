package mockserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// The token endpoint (RFC 6749 §3.2) and its grants: password,
// refresh_token, authorization_code (with PKCE), the device code and
// client_credentials.

type oauthTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"` // none for client credentials
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"` // OIDC, for scope openid
}

// tokenCall is one call of the token endpoint: its form and its client
// (known is false when the request names none).
type tokenCall struct {
	form   map[string]string
	client auth.Client
	known  bool
}

func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	gt := form["grant_type"]
	if gt == "" {
		return badRequest("grant_type is required")
	}
	if !slices.Contains(allGrants, gt) {
		return &Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Message: "grant_type " + quote(gt) + " is not supported; use one of " + strings.Join(allGrants, ", ")}
	}
	c, known, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		return err
	}
	call := tokenCall{form: form, client: c, known: known}
	if known {
		if err := allowsGrant(c, gt); err != nil {
			return err
		}
	}
	var g grant
	switch gt {
	case grantPassword:
		g, err = s.passwordGrant(r.Context(), call)
	case grantRefreshToken:
		g, err = s.refreshGrant(r.Context(), call)
	case grantAuthorizationCode:
		g, err = s.codeGrant(r.Context(), call)
	case grantDeviceCode:
		g, err = s.deviceGrant(r.Context(), call)
	case grantClientCredentials:
		g, err = s.clientCredentialsGrant(r.Context(), call)
	}
	if err != nil {
		return err
	}
	idToken, err := s.idTokenFor(r.Context(), g, s.clock.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, oauthTokenResponse{AccessToken: g.Access, TokenType: "Bearer",
		ExpiresIn: g.ExpiresIn, RefreshToken: g.Refresh, Scope: g.Scope, IDToken: idToken})
	return nil
}

// passwordGrant works with no client (as in version 1) or a registered one.
func (s *Server) passwordGrant(ctx context.Context, call tokenCall) (grant, error) {
	f := call.form
	if f["username"] == "" || f["password"] == "" {
		return grant{}, badRequest("the password grant needs username and password")
	}
	if err := s.checkRequestScope(call, f["scope"], f["resource"]); err != nil {
		return grant{}, err
	}
	return s.login(ctx, f["username"], f["password"], call.client.ID, f["scope"], f["resource"])
}

// checkRequestScope checks scope (against the client, when known) and resource.
func (s *Server) checkRequestScope(call tokenCall, scope, resource string) error {
	if err := checkScope(call.client, scope); err != nil {
		return err
	}
	return s.checkServedResource(resource)
}

// refreshGrant redeems a refresh token. A token issued to a confidential
// client needs that client's authentication (RFC 6749 §6); a token of one
// client is refused to another.
func (s *Server) refreshGrant(ctx context.Context, call tokenCall) (grant, error) {
	raw := call.form["refresh_token"]
	if raw == "" {
		return grant{}, badRequest("the refresh_token grant needs refresh_token")
	}
	if c, err := s.tokens().verifyRefresh(raw); err == nil {
		if fam, err := s.db.Family(ctx, c.FamilyID); err == nil {
			if fam.ClientID != "" {
				if err := s.checkTokenClient(ctx, call, fam.ClientID); err != nil {
					return grant{}, err
				}
			}
			// Checked before redeeming, so a wrong resource leaves the
			// refresh token unused.
			if err := checkRefreshResource(call.form["resource"], fam.Resource); err != nil {
				return grant{}, err
			}
		}
	}
	return s.refresh(ctx, raw)
}

// checkTokenClient refuses a request about a token of client owner that
// is not authenticated as owner, when owner is confidential, or that names
// another client.
func (s *Server) checkTokenClient(ctx context.Context, call tokenCall, owner string) error {
	if call.known && !sameClient(call.client.ID, owner) {
		return errOtherClient
	}
	if call.known {
		return nil
	}
	oc, err := s.db.ClientByID(ctx, owner)
	switch {
	case errors.Is(err, auth.ErrNotFound):
		// Removed (DELETE /admin/clients, or gone from the configuration):
		// nobody can authenticate as it, so its tokens serve nobody.
		return errClientGone
	case err != nil:
		return err
	case !oc.Public():
		return invalidClient("this token was issued to the confidential client " + owner + "; authenticate as it (HTTP Basic or client_secret)")
	}
	return nil
}

// errOtherClient refuses a token issued to another client.
var errOtherClient = refused(codeInvalidToken, "this token was issued to another client")

// errClientGone refuses a token of a client that is no longer registered.
var errClientGone = refused(codeInvalidToken, "this token was issued to a client that is no longer registered; log in again")

// requireClient is for grants that must name their client.
func requireClient(call tokenCall, grantName string) error {
	if !call.known {
		return invalidClient("the " + grantName + " grant needs client_id (and the secret of a confidential client)")
	}
	return nil
}

// codeError is a refused authorization code: invalid_grant, logged as
// code_rejected with its reason.
type codeError struct{ msg string }

func (e *codeError) Error() string { return e.msg }

func (s *Server) codeGrant(ctx context.Context, call tokenCall) (grant, error) {
	f := call.form
	if err := requireClient(call, "authorization_code"); err != nil {
		return grant{}, err
	}
	switch {
	case f["code"] == "":
		return grant{}, badRequest("the authorization_code grant needs code")
	case f["redirect_uri"] == "":
		return grant{}, badRequest("the authorization_code grant needs the redirect_uri of the authorization request")
	}
	now := s.clock.Now()
	var m minted
	code, fam, err := s.db.RedeemCode(ctx, auth.CodeRedeem{
		Hash: hashToken(f["code"]), Now: now,
		Check: func(c auth.AuthCode) error { return checkCode(c, call.client.ID, f, s.Policy().PKCE) },
		Start: s.starter(call.client.ID, now, &m),
	})
	var ce *codeError
	switch {
	case errors.As(err, &ce):
		s.event(ctx, auth.Event{At: now, Kind: auth.EventCodeRejected, Username: code.Username, JTI: code.ID,
			Reason: "the token request did not match the code, which stays unused: " + ce.msg})
		return grant{}, refused("code_rejected", ce.msg)
	case errors.Is(err, auth.ErrNotFound):
		return grant{}, refused("invalid_code", "the authorization code is unknown to this server")
	case errors.Is(err, auth.ErrReused):
		return grant{}, refused("code_reused", "the authorization code was already used; the session it started is now revoked")
	case errors.Is(err, auth.ErrExpired):
		return grant{}, refused("code_expired", fmt.Sprintf("the authorization code has expired (codes live %s)", FormatDuration(s.cfg.CodeTTL)))
	case err != nil:
		return grant{}, err
	}
	g, err := s.sessionGrant(fam, m.raw, m.exp, now)
	g.nonce = code.Nonce
	return g, err
}

// checkCode compares a token request with the authorization request the
// code came from (RFC 6749 §4.1.3, RFC 7636 §4.6). With PKCEUnchecked
// (--pkce unsupported, like mocks that ignore PKCE) the verifier is not
// looked at.
func checkCode(c auth.AuthCode, clientID string, f map[string]string, pkce string) error {
	verifier := f["code_verifier"]
	if pkce == PKCEUnchecked {
		c.Challenge, verifier = "", ""
	}
	switch {
	case !sameClient(c.ClientID, clientID):
		return &codeError{"the code was issued to another client"}
	case c.RedirectURI != f["redirect_uri"]:
		return &codeError{"redirect_uri differs from the one of the authorization request"}
	case f["resource"] != "" && f["resource"] != c.Resource:
		return &codeError{"resource differs from the one of the authorization request"}
	case c.Challenge == "" && verifier != "":
		return &codeError{"a code_verifier was sent, but the authorization request had no code_challenge"}
	case c.Challenge == "":
		return nil
	case verifier == "":
		return &codeError{"code_verifier is missing; this code was issued with a PKCE code_challenge"}
	case !validVerifier(verifier):
		return &codeError{"code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)"}
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.Challenge)) != 1:
		return &codeError{"code_verifier does not match the code_challenge (S256)"}
	}
	return nil
}

// s256 is RFC 7636's S256 transform.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier is RFC 7636 §4.1's code-verifier (and, with 43 characters,
// the shape of an S256 challenge).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// clientCredentialsGrant gives a confidential client an access token for
// itself: sub is its ID, no refresh token, no user.
func (s *Server) clientCredentialsGrant(ctx context.Context, call tokenCall) (grant, error) {
	if err := requireClient(call, "client_credentials"); err != nil {
		return grant{}, err
	}
	c, f := call.client, call.form
	if c.Public() {
		return grant{}, &Error{Status: http.StatusBadRequest, Code: "unauthorized_client",
			Message: "client " + c.ID + " is public; client_credentials is only for confidential clients"}
	}
	if err := s.checkRequestScope(call, f["scope"], f["resource"]); err != nil {
		return grant{}, err
	}
	now, ttl := s.clock.Now(), s.accessTTL(s.Policy(), c.ID)
	at, ac, err := s.tokens().signAccess(c.ID, "", familyRef{clientID: c.ID, scope: f["scope"], resource: f["resource"]}, now, ttl)
	if err != nil {
		return grant{}, err
	}
	s.event(ctx, auth.Event{At: now, Kind: auth.EventClientCredentialsIssued, JTI: ac.ID,
		Reason: "client " + c.ID + " authenticated with its secret and got an access token for itself: no user, no refresh token; it asks again when this one expires"})
	return grant{Access: at, AccessExp: ac.ExpiresAt.Time, ExpiresIn: int64(ttl.Seconds()), Scope: f["scope"]}, nil
}
