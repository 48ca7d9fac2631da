package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"golang.org/x/crypto/bcrypt"
)

// RFC 7591 dynamic client registration: a client (an MCP client, a test
// suite) registers itself and gets a client_id, and a secret shown once
// when it asks for a confidential client. Registration is bounded: a cap
// on registered clients and a per-address rate. Registered clients live
// in the database, survive restarts, and are listed at /admin/clients.

// registerPath is the registration endpoint.
const registerPath = "/oauth/register"

// Defaults of the registration bounds.
const (
	DefaultRegistrationMax       = 100
	DefaultRegistrationPerMinute = 10
)

// registrationOn reports whether dynamic registration is enabled.
func (s *Server) registrationOn() bool { return s.cfg.Registration }

// registrationRequest is the client metadata tokenlab reads (RFC 7591
// §2); any other member is ignored, as §2 asks.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
}

// registrationResponse is §3.2.1's answer.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

func registrationError(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func (s *Server) handleRegisterClient(w http.ResponseWriter, r *http.Request) error {
	if !s.registrationOn() {
		return &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "dynamic client registration is off on this server (tokenlab serve --registration off)"}
	}
	if err := s.registrationRate.allow(r.Context()); err != nil {
		var e *Error
		if errors.As(err, &e) {
			limited := *e
			limited.Message = fmt.Sprintf("more than %d client registrations a minute from your address; retry later", s.cfg.RegistrationPerMinute)
			return &limited
		}
		return err
	}
	if ct := r.Header.Get("Content-Type"); !isMediaType(ct, "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "invalid_client_metadata",
			Message: "send the client metadata as application/json (RFC 7591 §3.1)"}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return registrationError("invalid_client_metadata", "the body must be one JSON object of client metadata (RFC 7591 §2) with members of the right types")
	}
	c, err := checkRegistration(&req)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	c.ID, c.RegisteredAt, c.CreatedAt = "dyn-"+newID()[:24], now, now
	secret := ""
	if req.TokenEndpointAuthMethod != "none" {
		secret = newID() + newID()
		// Stored as for configured clients: bcrypt of the SHA-256, in the
		// bounded hashing queue (bcrypt is what a flood would buy).
		if c.SecretHash, err = s.hashSecret(r, secret); err != nil {
			return err
		}
	}
	switch err := s.db.RegisterClient(r.Context(), c, s.cfg.RegistrationMax); {
	case errors.Is(err, auth.ErrTooMany):
		return &Error{Status: http.StatusForbidden, Code: "access_denied",
			Message: "this server holds its maximum of registered clients; an administrator can raise --registration-max"}
	case err != nil:
		return err
	}
	s.event(r.Context(), auth.Event{At: now, Kind: auth.EventClientRegistered,
		Reason: "client " + c.ID + " registered itself (RFC 7591) as " + quote(c.Name) + ", " + req.TokenEndpointAuthMethod})
	answer := registrationResponse{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: now.Unix(),
		RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: req.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes,
		ResponseTypes: req.ResponseTypes, ClientName: c.Name, Scope: req.Scope}
	if secret != "" {
		never := int64(0)
		answer.ClientSecretExpiresAt = &never
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, answer)
	return nil
}

// hashSecret hashes a generated secret in the bounded hashing queue.
func (s *Server) hashSecret(r *http.Request, secret string) ([]byte, error) {
	var hash []byte
	var herr error
	if err := s.hashing.run(r.Context(), func() {
		hash, herr = bcrypt.GenerateFromPassword(secretDigest(secret), s.cfg.BcryptCost)
	}); err != nil {
		return nil, err
	}
	return hash, herr
}

// checkRegistration applies RFC 7591 §2's defaults and the rules of
// configured clients; it fills req's defaults in place.
func checkRegistration(req *registrationRequest) (auth.Client, error) {
	if req.TokenEndpointAuthMethod == "" {
		req.TokenEndpointAuthMethod = "client_secret_basic" // §2's default
	}
	if !slices.Contains(secretMethods, req.TokenEndpointAuthMethod) {
		return auth.Client{}, registrationError("invalid_client_metadata",
			"token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	if len(req.GrantTypes) == 0 {
		req.GrantTypes = []string{grantAuthorizationCode}
	}
	if len(req.ResponseTypes) == 0 {
		req.ResponseTypes = []string{"code"}
	}
	public := req.TokenEndpointAuthMethod == "none"
	for _, g := range req.GrantTypes {
		switch {
		case !slices.Contains(allGrants, g):
			return auth.Client{}, registrationError("invalid_client_metadata", "unknown grant type "+quote(g)+"; known: "+strings.Join(allGrants, ", "))
		case g == grantClientCredentials && public:
			return auth.Client{}, registrationError("invalid_client_metadata", "client_credentials needs a confidential client (token_endpoint_auth_method other than none)")
		}
	}
	if slices.ContainsFunc(req.ResponseTypes, func(t string) bool { return t != "code" }) {
		return auth.Client{}, registrationError("invalid_client_metadata", "only response_types [code] is supported")
	}
	if slices.Contains(req.GrantTypes, grantAuthorizationCode) && len(req.RedirectURIs) == 0 {
		return auth.Client{}, registrationError("invalid_redirect_uri", "the authorization_code grant needs redirect_uris")
	}
	if len(req.RedirectURIs) > 10 || len(req.ClientName) > 200 || len(req.Scope) > 1024 {
		return auth.Client{}, registrationError("invalid_client_metadata", "at most 10 redirect_uris, a client_name of 200 bytes and a scope of 1024")
	}
	for _, u := range req.RedirectURIs {
		if !registrableRedirect(u) {
			return auth.Client{}, registrationError("invalid_redirect_uri",
				"redirect URI "+quote(u)+" must be https, or http on 127.0.0.1 or [::1] with a port (RFC 8252 §7.3), without a fragment")
		}
	}
	scopes := strings.Fields(req.Scope)
	for _, sc := range scopes {
		if !validScopeToken(sc) {
			return auth.Client{}, registrationError("invalid_client_metadata", "scope "+quote(sc)+" has characters RFC 6749 §3.3 does not allow")
		}
	}
	// A registered scope is what the client says it will use, not a limit
	// tokenlab enforces: the client may ask for any scope, like tokenlab.
	return auth.Client{GrantTypes: req.GrantTypes, RedirectURIs: req.RedirectURIs, Name: req.ClientName}, nil
}

// registrableRedirect accepts https URIs and loopback http ones (which
// then match on any port, RFC 8252 §7.3).
func registrableRedirect(uri string) bool {
	if isLoopbackRedirect(uri) {
		return true
	}
	u, err := url.Parse(uri)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Fragment == "" && u.User == nil && len(uri) <= maxParam
}

// followsUnattended reports whether the server may send a browser to uri
// of client c without the user having logged in (an authorization error,
// RP-initiated logout). A client that registered itself is anyone's: its
// https redirect URI may be an attacker's page, and following it
// unattended would make tokenlab an open redirector (RFC 9700 §4.11.2).
// Its loopback URIs reach only this machine, and a configured client's
// URIs were chosen by the administrator.
func followsUnattended(c auth.Client, uri string) bool {
	return c.RegisteredAt.IsZero() || isLoopbackRedirect(uri)
}

// errUnattendedRedirect is the refusal when followsUnattended says no.
func errUnattendedRedirect(uri string) *Error {
	return badRequest("this client registered itself (RFC 7591), so tokenlab sends a browser to its redirect URI %s only after a login, "+
		"not for an error or a logout (a loopback redirect URI is followed)", quote(uri))
}
