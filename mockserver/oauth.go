package mockserver

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// The OAuth 2.0 dialect: form-encoded requests, JSON answers, RFC 6749
// errors. The token endpoint and its grants are in grants.go.

// handleOAuthRevoke is RFC 7009: revoking a refresh token (or an access
// token that names its session) ends the session. Unknown and invalid
// tokens get 200 too, as §2.2 asks.
func (s *Server) handleOAuthRevoke(w http.ResponseWriter, r *http.Request) error {
	pol := s.Policy()
	if pol.Revocation == RevokeAbsent {
		return errNoRevocation
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	raw := form["token"]
	if raw == "" {
		return badRequest("token is required")
	}
	// RFC 7009 §2.1: a client that authenticates must do so rightly, and a
	// confidential client's token may be revoked only by that client.
	client, known, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		return err
	}
	familyID, owner, jti := "", "", ""
	var refresh auth.RefreshToken
	tk := s.tokens()
	if c, err := tk.verifyRefresh(raw); err == nil || ErrorCode(err) == codeTokenExpired {
		if t, fam, err := s.db.MatchRefreshToken(r.Context(), c.ID, hashToken(raw)); err == nil {
			familyID, owner, jti, refresh = fam.ID, fam.ClientID, c.ID, t
		}
	} else if c, err := tk.verifyAccess(raw); err == nil {
		familyID, owner = c.SessionID, c.ClientID
	}
	if owner != "" {
		err := s.checkTokenClient(r.Context(), tokenCall{form: form, client: client, known: known}, owner)
		if errors.Is(err, errOtherClient) {
			familyID = "" // another client's token: nothing happens, and §2.2 still answers 200
		} else if err != nil && !errors.Is(err, errClientGone) { // a removed client's session may still be ended
			return err
		}
	}
	switch {
	case pol.Revocation == RevokeNothing || familyID == "":
		// A preset whose revocation revokes nothing (permissive) still answers 200.
	case pol.Revocation == RevokeLiveFamily && jti != "" && !pol.liveRefresh(refresh, s.clock.Now()):
		// Hydra: a spent refresh token is inactive, and revoking it does nothing.
	case pol.Revocation == RevokeToken:
		// A preset that revokes the refresh token only (Cognito, zitadel);
		// an access token alone is not revoked there.
		if jti != "" {
			if _, err := s.db.RevokeToken(r.Context(), jti, "revoked", s.clock.Now()); err != nil && !errors.Is(err, auth.ErrNotFound) {
				return err
			}
		}
	default:
		if _, err := s.db.RevokeFamily(r.Context(), familyID, auth.EventLogout, "revoked", s.clock.Now()); err != nil && !errors.Is(err, auth.ErrNotFound) {
			return err
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// introspection is RFC 7662's answer.
type introspection struct {
	Active    bool     `json:"active"`
	TokenType string   `json:"token_type,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Nbf       int64    `json:"nbf,omitempty"`
	Jti       string   `json:"jti,omitempty"`
	Sid       string   `json:"sid,omitempty"`
}

func (s *Server) handleOAuthIntrospect(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	raw := form["token"]
	if raw == "" {
		return badRequest("token is required")
	}
	asker, err := s.introspectionClient(r, form)
	if err != nil {
		return err
	}
	answer := s.introspect(r, raw)
	if asker != nil && !sameClient(asker.ID, answer.ClientID) {
		answer = introspection{} // §2.2: a token not issued to the asker is described as inactive
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// introspectionClient is the client asking for introspection: nil (anyone)
// only with OpenIntrospection. Otherwise it must be a confidential client
// with its secret (RFC 7662 §2.1): a public client's id proves nothing,
// and without this a thief could check whether a stolen token is live.
func (s *Server) introspectionClient(r *http.Request, form map[string]string) (*auth.Client, error) {
	c, known, err := s.authenticateClient(r.Context(), r, form)
	switch {
	case err != nil:
		return nil, err
	case known && (!c.Public() || s.cfg.OpenIntrospection):
		return &c, nil
	case !known && s.cfg.OpenIntrospection:
		return nil, nil
	}
	return nil, invalidClient("introspection needs a confidential client's credentials (HTTP Basic or client_secret, RFC 7662 §2.1); " +
		"a client learns only about its own tokens. For teaching, tokenlab serve --open-introspection answers anyone")
}

func (s *Server) introspect(r *http.Request, raw string) introspection {
	if c, err := s.tokens().describeAccess(raw); err == nil {
		if pol := s.Policy(); pol.checksAccess() && c.SessionID != "" {
			if fam, err := s.db.Family(r.Context(), c.SessionID); err == nil && pol.accessRevoked(fam, issuedAt(c)) {
				return introspection{}
			}
		}
		return introspection{Active: true, TokenType: "access_token", Scope: c.Scope, ClientID: c.ClientID,
			Username: c.Username, Sub: c.Subject, Aud: c.Audience, Iss: c.Issuer, Exp: unixOf(c.ExpiresAt),
			Iat: unixOf(c.IssuedAt), Nbf: unixOf(c.NotBefore), Jti: c.ID, Sid: c.SessionID}
	}
	c, err := s.tokens().verifyRefresh(raw)
	if err != nil {
		return introspection{}
	}
	tok, fam, err := s.db.MatchRefreshToken(r.Context(), c.ID, hashToken(raw))
	if err != nil || tok.State(fam, s.clock.Now()) != auth.StateActive {
		return introspection{}
	}
	return introspection{Active: true, TokenType: "refresh_token", Scope: fam.Scope, ClientID: fam.ClientID,
		Username: fam.Username, Sub: c.Subject, Iss: c.Issuer, Exp: unixOf(c.ExpiresAt), Iat: unixOf(c.IssuedAt),
		Jti: c.ID, Sid: fam.ID}
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) error {
	keys := []jwk{}
	tk := s.tokens()
	idKey, err := s.idSigner(r.Context())
	if err != nil {
		return err
	}
	for _, sg := range []*signer{tk.access, tk.refresh, idKey} {
		if k, ok := sg.jwk(); ok {
			keys = append(keys, k)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

// unixOf is a NumericDate as seconds; a token signed with a configured
// secret by someone else may lack any claim but the required ones.
func unixOf(d *jwt.NumericDate) int64 {
	if d == nil {
		return 0
	}
	return d.Unix()
}

// quote cuts s to 40 runes and quotes it with Go's escapes, so control
// characters a client sent never reach a terminal that shows the message
// or the event log.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}
