package mockserver

import (
	"net/http"
	"strings"
)

// RFC 9728 protected resource metadata for the built-in API (/protected,
// /me, userinfo): which authorization server issues its tokens and how
// to send them. Every 401 of the API points at the document in its
// WWW-Authenticate (resource_metadata, §5.1), so a client that knows only
// the API's URL (an MCP client) can find the rest.

const protectedResourcePath = "/.well-known/oauth-protected-resource"

// protectedResourceMetadata is §2's document.
type protectedResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
	JWKSURI                string   `json:"jwks_uri,omitempty"`
}

func (s *Server) handleProtectedResource(w http.ResponseWriter, r *http.Request) error {
	scopes := []string{scopeOpenID, "profile", "email"}
	if s.cfg.APIScope != "" {
		scopes = append(strings.Fields(s.cfg.APIScope), scopes...)
	}
	writeJSON(w, http.StatusOK, protectedResourceMetadata{
		// The resource is the server's origin: a token with that resource
		// (or none) is accepted on every route of the built-in API.
		Resource:               s.cfg.Issuer,
		AuthorizationServers:   []string{s.cfg.Issuer},
		ScopesSupported:        scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "tokenlab's built-in API (/protected, /me, /oauth/userinfo)",
	})
	return nil
}

// resourceMetadataURL is the document's URL, for WWW-Authenticate.
func (s *Server) resourceMetadataURL() string { return s.cfg.Issuer + protectedResourcePath }

// requireAPIScope refuses, with 403 insufficient_scope (RFC 6750 §3.1), a
// token of the built-in API that lacks the configured API scope.
func (s *Server) requireAPIScope(c *AccessClaims) error {
	for _, need := range strings.Fields(s.cfg.APIScope) {
		if !hasScope(c.Scope, need) {
			return &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Bearer: true, Scope: s.cfg.APIScope,
				Message: "this API needs scope " + quote(s.cfg.APIScope) + "; the token has " + quote(c.Scope)}
		}
	}
	return nil
}
