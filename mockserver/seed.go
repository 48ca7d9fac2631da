package mockserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// The seed dialect: JSON bodies, tokens also as cookies.

const (
	cookieAccess  = "AccessToken"
	cookieRefresh = "RefreshToken"
)

type credentialsRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type tokenRequest struct {
	Token string `json:"token"`
}

type loginResponse struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int64  `json:"expiresIn"`
}

type userResponse struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	var req credentialsRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := s.register(r.Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userResponse{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt})
	return nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req credentialsRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	g, err := s.login(r.Context(), req.Username, req.Password, "", "", "")
	if err != nil {
		return err
	}
	s.writeGrant(w, g)
	return nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	raw, err := refreshTokenOf(w, r)
	if err != nil {
		return err
	}
	if err := s.seedMayUse(r.Context(), raw); err != nil {
		return err
	}
	g, err := s.refresh(r.Context(), raw)
	if err != nil {
		return err
	}
	s.writeGrant(w, g)
	return nil
}

// writeGrant answers a login or refresh: the tokens in the body and as
// cookies.
func (s *Server) writeGrant(w http.ResponseWriter, g grant) {
	s.setCookies(w, g)
	writeJSON(w, http.StatusOK, loginResponse{AccessToken: g.Access, RefreshToken: g.Refresh, TokenType: "Bearer",
		ExpiresIn: g.ExpiresIn})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	raw, err := refreshTokenOf(w, r)
	if err != nil {
		return err
	}
	if err := s.seedMayUse(r.Context(), raw); err != nil && !errors.Is(err, errClientGone) { // a removed client's session may still be ended
		return err
	}
	if err := s.logout(r.Context(), raw); err != nil {
		return err
	}
	s.clearCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleProtected(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.requireAPIScope(c); err != nil {
		return err
	}
	raw, _ := accessToken(r)
	writeRawJSON(w, http.StatusOK, protectedBody(raw))
	return nil
}

// protectedPrefix is /protected's answer up to the user's claims.
const protectedPrefix = `{"message":"you reached a protected route with a valid access token","user":`

// protectedBody is /protected's answer for a verified token: the token's
// own payload is the user's claims, sent as it is. Built by hand, since
// encoding/json (which would only copy the payload, checking and compacting
// it again) cost more than the rest of the handler; the payload was decoded
// as JSON when the token was verified, and the server writes it compact.
func protectedBody(raw string) []byte {
	_, payload, _ := strings.Cut(raw, ".")
	payload, _, found := strings.Cut(payload, ".")
	enc := base64.RawURLEncoding
	body := make([]byte, len(protectedPrefix), len(protectedPrefix)+enc.DecodedLen(len(payload))+2)
	copy(body, protectedPrefix)
	n, err := enc.Decode(body[len(body):cap(body)-2], []byte(payload))
	if !found || err != nil {
		body = append(body, "null"...) // as payloadOf
	} else {
		body = body[:len(body)+n]
	}
	return append(body, "}\n"...)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.requireAPIScope(c); err != nil {
		return err
	}
	u, err := s.db.UserByName(r.Context(), c.Username)
	if errors.Is(err, auth.ErrNotFound) {
		return &Error{Status: http.StatusUnauthorized, Code: codeInvalidToken, Bearer: true, Message: "the token's user no longer exists"}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt})
	return nil
}

// seedMayUse refuses, on the seed routes, a refresh token of a session
// started by a confidential client: those routes cannot authenticate a
// client, and such a token is worth nothing without the client's secret
// (RFC 6749 §6, RFC 7009 §2.1). Tokens that fail verification are left to
// refresh and logout, which word the failure.
func (s *Server) seedMayUse(ctx context.Context, raw string) error {
	c, err := s.tokens().verifyRefresh(raw)
	if err != nil && ErrorCode(err) != codeTokenExpired && !errors.Is(err, errHighS) {
		return nil
	}
	fam, err := s.db.Family(ctx, c.FamilyID)
	if errors.Is(err, auth.ErrNotFound) || err == nil && fam.ClientID == "" {
		return nil
	}
	if err != nil {
		return err
	}
	owner, err := s.db.ClientByID(ctx, fam.ClientID)
	if errors.Is(err, auth.ErrNotFound) {
		return errClientGone
	}
	if err == nil && owner.Public() {
		return nil
	}
	if err != nil {
		return err
	}
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_client",
		Message: "this refresh token belongs to a session of the confidential client " + quote(owner.ID) +
			", which must prove its secret: use /oauth/token (or /oauth/revoke) with the client's credentials"}
}

// refreshTokenOf takes the refresh token from the JSON body or, failing
// that, the RefreshToken cookie of a same-origin request (csrf.go).
func refreshTokenOf(w http.ResponseWriter, r *http.Request) (string, error) {
	var req tokenRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return "", err
	}
	if req.Token != "" {
		return req.Token, nil
	}
	if ck, err := r.Cookie(cookieRefresh); err == nil && ck.Value != "" {
		if err := checkCookieOrigin(r); err != nil {
			return "", err
		}
		return ck.Value, nil
	}
	return "", badRequest("send the refresh token as {\"token\": \"...\"} or the RefreshToken cookie")
}

func (s *Server) setCookies(w http.ResponseWriter, g grant) {
	now := s.clock.Now()
	http.SetCookie(w, s.cookie(cookieAccess, g.Access, g.AccessExp.Sub(now)))
	http.SetCookie(w, s.cookie(cookieRefresh, g.Refresh, g.RefreshExp.Sub(now)))
}

func (s *Server) clearCookies(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie(cookieAccess, "", -1))
	http.SetCookie(w, s.cookie(cookieRefresh, "", -1))
}

func (s *Server) cookie(name, value string, ttl time.Duration) *http.Cookie {
	maxAge := int(ttl.Seconds())
	if ttl < 0 {
		maxAge = -1
	}
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies}
}

var _ jwt.Claims = (*AccessClaims)(nil)

// payloadOf returns a verified JWT's payload JSON.
func payloadOf(raw string) json.RawMessage {
	parts := strings.SplitN(raw, ".", 3)
	if len(parts) != 3 {
		return json.RawMessage("null")
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return json.RawMessage("null")
	}
	return data
}
