package mockserver

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// RFC 8707 resource indicators: a client names the API it wants a token
// for, and the access token's aud is that API. tokenlab serves its own
// origin (the built-in API: /protected, /me, userinfo) and the resources
// of its configuration; any other is invalid_target (§2), so a token is
// never minted for an API nobody configured.

// checkServedResource validates a resource indicator and refuses one this
// server does not issue tokens for.
func (s *Server) checkServedResource(resource string) error {
	if err := checkResource(resource); err != nil || resource == "" || s.cfg.Resources == nil {
		return err
	}
	if sameOrigin(resource, s.cfg.Issuer) || slices.Contains(s.cfg.Resources, resource) {
		return nil
	}
	served := append([]string{s.cfg.Issuer + " (this server)"}, s.cfg.Resources...)
	return &Error{Status: http.StatusBadRequest, Code: "invalid_target",
		Message: "this server issues no tokens for the resource " + quote(resource) + "; it serves " + strings.Join(served, ", ") +
			" (add yours under resources: in the config file, or with --resource)"}
}

// checkRefreshResource is RFC 8707 §2.2 for a refresh: a resource named
// on the refresh request must be the one the session was granted.
func checkRefreshResource(asked, granted string) error {
	if asked == "" || asked == granted {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid_target",
		Message: "resource " + quote(asked) + " is not the one this session was granted (" + quote(granted) + "); log in again for another API"}
}

// accessTTL is the access-token lifetime for a client: its own when
// configured, else the policy's.
func (s *Server) accessTTL(pol Policy, clientID string) time.Duration {
	if c, ok := s.clientLifetimes[clientID]; ok && c.AccessTTL > 0 {
		return time.Duration(c.AccessTTL)
	}
	return pol.AccessTTL
}

// refreshTTL is accessTTL for refresh tokens.
func (s *Server) refreshTTL(pol Policy, clientID string) time.Duration {
	if c, ok := s.clientLifetimes[clientID]; ok && c.RefreshTTL > 0 {
		return time.Duration(c.RefreshTTL)
	}
	return pol.RefreshTTL
}

// accessTokenClaims are the user's claims named by AccessTokenClaims.
func (s *Server) accessTokenClaims(username string) map[string]any {
	if len(s.cfg.AccessTokenClaims) == 0 {
		return nil
	}
	out := map[string]any{}
	for name, v := range s.userClaims[lookupUsername(username)] {
		if slices.Contains(s.cfg.AccessTokenClaims, name) {
			out[name] = v
		}
	}
	return out
}
